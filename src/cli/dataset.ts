// `onestep dataset info FILE`: what an offline dataset holds — size, episodes, return and success statistics,
// modes, and the range of every observation and action column — read and validated by the same loader training
// uses, so a file that prints here trains.
import { statSync } from 'node:fs';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { ColumnStatistics } from '../data/stats.ts';
import { formatBytes } from './collect.ts';
import { UserError } from './errors.ts';

interface InfoArgs {
  file: string;
  task?: string;
  json: boolean;
}

/** A table of per-column statistics, one row per column, named where the file names them. */
function columnTable(title: string, stats: ColumnStatistics, names: readonly string[] | undefined): string[] {
  const label = (j: number) => names?.[j] ?? `${title}[${j}]`;
  const width = Math.max(6, ...Array.from(stats.min, (_, j) => label(j).length));
  const num = (x: number) => (Math.abs(x) >= 1e5 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toFixed(4)).padStart(11);
  const lines = [`${title} (${stats.min.length} columns):`, `  ${'column'.padEnd(width)} ${'min'.padStart(11)} ${'max'.padStart(11)} ${'mean'.padStart(11)} ${'std'.padStart(11)}`];
  for (let j = 0; j < stats.min.length; j++) {
    lines.push(`  ${label(j).padEnd(width)} ${num(stats.min[j])} ${num(stats.max[j])} ${num(stats.mean[j])} ${num(stats.std[j])}`);
  }
  return lines;
}

const info: CommandModule<object, InfoArgs> = {
  command: 'info <file>',
  describe: 'Size, episodes, return and success statistics, modes and column ranges of a dataset (.npz or Minari)',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', describe: 'an .npz file, a Minari dataset folder or its main_data.hdf5' })
      .option('task', { type: 'string', describe: 'also check the dataset against this task (observation size and names)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' }) as unknown as Argv<InfoArgs>,
  handler: async (argv: ArgumentsCamelCase<InfoArgs>) => {
    const { loadDataset, summarizeDataset } = await import('../data/index.ts');
    let expect = {};
    if (argv.task !== undefined) {
      const { TASK_NAMES, getTask } = await import('../sim/tasks/index.ts');
      if (!TASK_NAMES.includes(argv.task)) throw new UserError(`unknown task '${argv.task}' (expected one of ${TASK_NAMES.join(', ')})`);
      expect = { task: getTask(argv.task) };
    }
    const ds = await loadDataset(argv.file, expect);
    const s = summarizeDataset(ds);
    const meta = ds.metadata ?? {};
    const episodeModes = Array.isArray(meta.episodeModes) ? (meta.episodeModes as (string | null)[]) : null;
    // counted in the task's mode order (recorded beside them), then 'none' for episodes that never committed
    const order = Array.isArray(meta.modes) ? (meta.modes as string[]) : [];
    const modeCounts = episodeModes ? Object.fromEntries([...order, ...new Set(episodeModes.map((m) => m ?? 'none'))].map((m) => [m, episodeModes.filter((e) => (e ?? 'none') === m).length])) : null;
    const bytes = statSync(ds.source).size;
    if (argv.json) {
      const columns = (c: ColumnStatistics) => ({ min: Array.from(c.min), max: Array.from(c.max), mean: Array.from(c.mean), std: Array.from(c.std) });
      process.stdout.write(
        `${JSON.stringify({
          file: ds.source,
          bytes,
          task: ds.task ?? null,
          observationSize: ds.observationSize,
          actionSize: ds.actionSize,
          transitions: s.transitions,
          episodes: s.episodes,
          terminals: s.terminals,
          returnMean: s.returnMean,
          returnStd: s.returnStd,
          successRate: s.successRate,
          modeCounts,
          observationNames: ds.observationNames ?? null,
          observations: columns(s.observations),
          actions: columns(s.actions),
          rewards: columns(s.rewards),
          metadata: meta,
        })}\n`,
      );
      return;
    }
    const range = (xs: ArrayLike<number>) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < xs.length; i++) [lo, hi] = [Math.min(lo, xs[i]), Math.max(hi, xs[i])];
      return [lo, hi];
    };
    const [shortest, longest] = range(s.lengths);
    const [worst, best] = range(s.returns);
    const collect = meta.collect as { policy?: string; noise?: number; label?: string; mix?: Record<string, number> } | undefined;
    const lines = [
      `${ds.source}: ${formatBytes(bytes)}`,
      ds.task ? `task ${ds.task}: observation ${ds.observationSize}, action ${ds.actionSize}` : `task not recorded: observation ${ds.observationSize}, action ${ds.actionSize}`,
    ];
    if (collect?.policy) {
      const mix = collect.mix ? `, modes forced ${Object.entries(collect.mix).map(([m, f]) => `${m} ${(100 * f).toFixed(0)}%`).join(' / ')}` : '';
      lines.push(`collected with policy ${collect.policy}${collect.noise ? `, noise σ ${collect.noise} (stored action: ${collect.label})` : ''}${mix}`);
    }
    lines.push(
      `transitions ${s.transitions} in ${s.episodes} episodes (length mean ${(s.transitions / s.episodes).toFixed(1)}, min ${shortest}, max ${longest}); ${s.terminals} end in a terminal state`,
      `return ${s.returnMean.toFixed(2)} ± ${s.returnStd.toFixed(2)} (mean ± std over episodes; min ${worst.toFixed(2)}, max ${best.toFixed(2)})`,
      s.successRate !== null
        ? `success ${(100 * s.successRate).toFixed(1)}%${typeof meta.successMeaning === 'string' ? ` (${meta.successMeaning})` : ''}`
        : 'success not recorded',
    );
    if (modeCounts) lines.push(`modes ${Object.entries(modeCounts).map(([m, n]) => `${m} ${n}`).join(', ')}`);
    const actionNames = Array.isArray(meta.actionNames) ? (meta.actionNames as string[]) : undefined;
    lines.push(...columnTable('observations', s.observations, ds.observationNames), ...columnTable('actions', s.actions, actionNames));
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};

interface MergeArgs {
  files: string[];
  out: string;
  compress: boolean;
}

const merge: CommandModule<object, MergeArgs> = {
  command: 'merge <files..>',
  describe: 'Join datasets of one task end to end into one .npz (DAgger aggregation, adding demonstrations)',
  builder: (y: Argv) =>
    y
      .positional('files', { type: 'string', array: true, describe: '.npz files or Minari datasets, in order' })
      .option('out', { type: 'string', demandOption: true, describe: 'the .npz file to write (replaced atomically; may be one of the inputs)' })
      .option('compress', { type: 'boolean', default: true, describe: 'deflate the arrays; --no-compress stores them' }) as unknown as Argv<MergeArgs>,
  handler: async (argv: ArgumentsCamelCase<MergeArgs>) => {
    if (!argv.out.endsWith('.npz')) throw new UserError(`--out must name an .npz file (got '${argv.out}')`);
    const { loadDataset, mergeDatasets, writeDatasetNpz, summarizeDataset } = await import('../data/index.ts');
    // A DatasetError names the file, key and row; the CLI prints any error's message as its one line.
    const parts = [];
    for (const file of argv.files) parts.push(await loadDataset(file));
    const merged = mergeDatasets(parts, argv.out);
    writeDatasetNpz(argv.out, merged, { compress: argv.compress });
    const s = summarizeDataset(merged);
    process.stdout.write(
      `wrote ${argv.out}: ${s.transitions} transitions in ${s.episodes} episodes from ${parts.length} datasets (${parts.map((p) => p.size).join(' + ')})` +
        `${s.successRate !== null ? `, success ${(100 * s.successRate).toFixed(1)}%` : ''}, ${formatBytes(statSync(argv.out).size)}\n`,
    );
  },
};

const command: CommandModule = {
  command: 'dataset <command>',
  describe: 'Inspect and combine offline datasets: info, merge',
  builder: (y: Argv) => y.command(info as unknown as CommandModule).command(merge as unknown as CommandModule).demandCommand(1, 'name a dataset command: info or merge'),
  handler: () => {},
};
export default command;
