// The offline grid: aggregates runs named <task>-<dataset>-<algo>-s<seed> (algo meanflowql, bc or gaussian-bc)
// under a folder into a Markdown table of the exported policies' success over fresh episodes (sampled noise as
// served, and zero noise), the modes each seed takes on tasks that have them, and success curves over offline
// updates (the training-time evaluations) as SVG. Each policy is evaluated once through `onestep eval` (ONNX
// Runtime); the result is cached beside it as eval-sampled.json / eval-zero.json.
//
// With --o2o FOLDER it tables offline→online runs instead: runs named <task>-<variant>-s<seed> (variant
// meanflowql: MeanFlowQL's own loop continued online; smfp-init-bc / sac-init-gaussian-bc: SMFP or SAC --init from
// an offline checkpoint; a suffix such as -alpha01 or -bcw10: the same with the --set its command records), each
// beside the offline policy it started from (the grid's run: --init's folder, or for MeanFlowQL the grid run of
// the same dataset and seed), its exported policy after the online steps (sampled, as served, with its modes; and
// zero noise), its training-time evaluation at the last step, and SMFP / SAC from scratch at the same env step
// (runs/<task>-{smfp,sac}-s<seed>/eval.jsonl under --scratch), with a curve of the online evaluations.
//
//   node --import tsx scripts/offline-grid.ts [runs/off] [--curves docs/curves] [--episodes 50] [--seed 10000]
//   node --import tsx scripts/offline-grid.ts runs/off --o2o runs/o2o [--task two_way] [--scratch runs] [--curves docs/curves]
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderCurves, type CurveSeries } from '../src/algos/plot.ts';
import { evaluateRun as evaluate, type EvalResult } from './eval-cache.ts';
import { mean, std } from './stats.ts';

const ALGOS = ['meanflowql', 'bc', 'gaussian-bc'] as const;
const LABEL: Record<string, string> = { meanflowql: 'MeanFlowQL', bc: 'MeanFlow BC', 'gaussian-bc': 'Gaussian BC' };
const COLOR: Record<string, string> = { meanflowql: '#d62728', bc: '#2ca02c', 'gaussian-bc': '#1f77b4' };

interface EvalRow {
  updates: number;
  env_steps: number;
  success_rate: number;
  return_mean: number;
  phase?: string;
  /** JSON of the mode counts, on tasks that have modes. */
  modes?: string;
}

const readEvals = (dir: string) => readFileSync(join(dir, 'eval.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalRow);

interface Run {
  task: string;
  dataset: string;
  algo: string;
  seed: number;
  dir: string;
  curve: EvalRow[];
  sampled: EvalResult;
  zero: EvalResult;
}

const pct = (x: number) => `${(100 * x).toFixed(0)} %`;

function loadRuns(root: string, episodes: number, seed: number): Run[] {
  const runs: Run[] = [];
  for (const name of readdirSync(root).sort()) {
    const m = /^([a-z_]+?)-([a-z0-9]+)-(meanflowql|bc|gaussian-bc)-s(\d+)$/.exec(name);
    const dir = join(root, name);
    if (!m || !existsSync(join(dir, 'policy.onnx'))) continue; // finished runs only
    const curve = readEvals(dir).filter((r) => r.phase !== 'online');
    process.stderr.write(`evaluating ${name}\n`);
    runs.push({ task: m[1], dataset: m[2], algo: m[3], seed: Number(m[4]), dir, curve, sampled: evaluate(dir, episodes, seed, false), zero: evaluate(dir, episodes, seed, true) });
  }
  return runs;
}

function modes(r: EvalResult): string {
  if (!r.modeCounts) return '';
  return Object.entries(r.modeCounts).map(([k, v]) => `${k} ${v}`).join(' / ');
}

const VARIANTS: Record<string, { label: string; color: string }> = {
  meanflowql: { label: 'MeanFlowQL → MeanFlowQL online (its own loop)', color: COLOR.meanflowql },
  'smfp-init-bc': { label: 'MeanFlow BC → SMFP --init', color: COLOR.bc },
  'sac-init-gaussian-bc': { label: 'Gaussian BC → SAC --init', color: COLOR['gaussian-bc'] },
};
const SUFFIX_COLORS = ['#17becf', '#bcbd22', '#8c564b', '#e377c2'];
const SCRATCH: Record<string, { label: string; color: string }> = {
  smfp: { label: 'SMFP from scratch', color: '#9467bd' },
  sac: { label: 'SAC from scratch', color: '#7f7f7f' },
};

/** left / right / none (or whatever modes the task reports) from counts. */
const modeList = (counts: Record<string, number> | null | undefined) => (counts ? Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(' / ') : '');

/** A training-time evaluation: success and the modes it took. */
const evalCell = (e: EvalRow | undefined) => {
  const modes = e?.modes ? modeList(JSON.parse(e.modes)) : '';
  return e ? `${pct(e.success_rate)}${modes ? ` (${modes})` : ''}` : '–';
};

/** A run's online evaluations, preceded at 0 online steps by the offline policy's last (its own offline phase's or the grid run's). */
function o2oCurve(evals: EvalRow[], source: Run | undefined): EvalRow[] {
  const start = evals.filter((e) => e.phase === 'offline').at(-1) ?? source?.curve.at(-1);
  return [...(start ? [{ ...start, env_steps: 0 }] : []), ...evals.filter((e) => e.phase === 'online')];
}

function o2oTable(offline: Run[], o2oRoot: string, scratchRoot: string, task: string | undefined, episodes: number, seed: number, curves: string): void {
  // curve: the online training-time evaluations, after the offline policy's last one (at 0 online steps).
  const runs: { task: string; variant: string; label: string; color: string; seed: number; dir: string; steps: number; offline?: Run; online: EvalResult; zero: EvalResult; curve: EvalRow[] }[] = [];
  for (const name of readdirSync(o2oRoot).sort()) {
    const m = /^([a-z_]+?)-(meanflowql|smfp-init-bc|sac-init-gaussian-bc)(-[a-z]+\d+)?-s(\d+)$/.exec(name);
    const dir = join(o2oRoot, name);
    if (!m || (task && m[1] !== task) || !existsSync(join(dir, 'policy.onnx'))) continue;
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { init?: string; dataset?: string; seed: number; command: string; loop: { totalSteps: number } };
    // MeanFlowQL continued online from a copy of its grid run (--resume --steps) started from that run's policy; one
    // that trained its own offline stage in the same run has no grid policy to show.
    const source = config.init
      ? offline.find((r) => resolve(r.dir) === resolve(dirname(dirname(config.init!))))
      : config.command.includes(' --resume --steps ')
        ? offline.find((r) => r.algo === 'meanflowql' && r.seed === config.seed && JSON.parse(readFileSync(join(r.dir, 'config.json'), 'utf8')).dataset === config.dataset)
        : undefined;
    process.stderr.write(`evaluating ${name}\n`);
    const base = VARIANTS[m[2]];
    const sets = [...config.command.matchAll(/ --set (\S+)/g)].map((x) => x[1]);
    const label = m[3] ? `${base.label}, ${sets.join(' ')}` : base.label;
    runs.push({ task: m[1], variant: m[2] + (m[3] ?? ''), label, color: base.color, seed: Number(m[4]), dir, steps: config.loop.totalSteps, offline: source, online: evaluate(dir, episodes, seed, false), zero: evaluate(dir, episodes, seed, true), curve: o2oCurve(readEvals(dir), source) });
  }
  const lines = [
    '| task | variant | seeds | offline, sampled (per seed) | after the online steps, sampled (per seed) | mean offline → online | after, zero noise (per seed) | modes after, sampled (per seed) | return after, sampled | training-time evaluation at the last step, 20 episodes (per seed) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const summary: Record<string, unknown> = {};
  for (const t of [...new Set(runs.map((r) => r.task))]) {
    const steps = Math.max(...runs.filter((r) => r.task === t).map((r) => r.steps));
    const series: CurveSeries[] = [];
    const order = (v: string) => Object.keys(VARIANTS).indexOf(v.replace(/-[a-z]+\d+$/, ''));
    const variants = [...new Set(runs.filter((r) => r.task === t).map((r) => r.variant))].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
    let suffixed = 0;
    for (const variant of variants) {
      const same = runs.filter((r) => r.task === t && r.variant === variant);
      const { label } = same[0];
      const color = variant in VARIANTS ? same[0].color : SUFFIX_COLORS[suffixed++ % SUFFIX_COLORS.length];
      const before = same.map((r) => r.offline?.sampled.successRate ?? NaN);
      const offlineMean = before.some(Number.isNaN) ? '–' : pct(mean(before));
      const after = same.map((r) => r.online.successRate);
      const last = same.map((r) => r.curve.at(-1));
      const returns = same.map((r) => r.online.meanReturn);
      lines.push(
        `| ${t} | ${label} | ${same.map((r) => r.seed).join(', ')} | ${before.map((b) => (Number.isNaN(b) ? '–' : pct(b))).join(', ')} | ${after.map(pct).join(', ')} | ${offlineMean} → **${pct(mean(after))}** ± ${(100 * std(after)).toFixed(0)} | ${same.map((r) => pct(r.zero.successRate)).join(', ')} | ` +
          `${same.map((r) => modeList(r.online.modeCounts)).filter(Boolean).join('; ')} | ${mean(returns).toFixed(1)} ± ${std(returns).toFixed(1)} | ${last.map(evalCell).join('; ')} |`,
      );
      summary[`${t}/${variant}`] = same.map((r) => ({ seed: r.seed, offline: r.offline?.sampled.successRate, offlineModes: r.offline?.sampled.modeCounts, online: r.online.successRate, onlineModes: r.online.modeCounts, onlineReturn: r.online.meanReturn, onlineZeroNoise: r.zero.successRate, steps: r.steps, trainingEval: r.curve.at(-1)?.success_rate }));
      const n = Math.min(...same.map((r) => r.curve.length));
      const x = same[0].curve.slice(0, n).map((e) => e.env_steps);
      const ys = x.map((_, i) => same.map((r) => 100 * r.curve[i].success_rate));
      series.push({ label: `${label} (${same.length} seeds)`, x, y: ys.map(mean), band: ys.map(std), color });
    }
    for (const [algo, { label, color }] of Object.entries(SCRATCH)) {
      const dirs = readdirSync(scratchRoot).filter((d) => new RegExp(`^${t}-${algo}-s\\d+$`).test(d) && existsSync(join(scratchRoot, d, 'eval.jsonl'))).sort();
      if (!dirs.length) continue;
      const curvesOf = dirs.map((d) => readEvals(join(scratchRoot, d)).filter((e) => e.env_steps <= steps));
      const at = curvesOf.map((c) => c.find((e) => e.env_steps === steps));
      lines.push(`| ${t} | ${label} (reference) | ${dirs.map((d) => d.split('-s').at(-1)).join(', ')} | – | – | – | – | – | – | ${at.map(evalCell).join('; ')} |`);
      summary[`${t}/${algo}-scratch`] = at.map((e, i) => ({ run: dirs[i], steps, trainingEval: e?.success_rate }));
      const n = Math.min(...curvesOf.map((c) => c.length));
      const x = curvesOf[0].slice(0, n).map((e) => e.env_steps);
      const ys = x.map((_, i) => curvesOf.map((c) => 100 * c[i].success_rate));
      series.push({ label: `${label} (${dirs.length} seeds)`, x, y: ys.map(mean), band: ys.map(std), color });
    }
    writeFileSync(join(curves, `o2o-${t}.svg`), renderCurves({ title: `${t}: online fine-tuning (evaluation success %, mean ± std over seeds)`, xLabel: 'online environment steps', yLabel: 'success %', series }));
  }
  writeFileSync(join(curves, `o2o-${task ?? 'all'}.json`), JSON.stringify(summary, null, 2) + '\n');
  process.stdout.write(lines.join('\n') + '\n');
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      curves: { type: 'string', default: 'docs/curves' },
      episodes: { type: 'string', default: '50' },
      seed: { type: 'string', default: '10000' },
      o2o: { type: 'string' },
      task: { type: 'string' },
      scratch: { type: 'string', default: 'runs' },
    },
  });
  const root = positionals[0] ?? 'runs/off';
  const runs = loadRuns(root, Number(values.episodes), Number(values.seed));
  mkdirSync(values.curves!, { recursive: true });
  if (values.o2o) return o2oTable(runs, values.o2o, values.scratch!, values.task, Number(values.episodes), Number(values.seed), values.curves!);
  const lines = [
    '| task / dataset | algorithm | seeds | success, sampled (per seed) | mean ± std | success, zero noise (per seed) | modes per seed, sampled | return, sampled |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const summary: Record<string, unknown> = {};
  const groups = [...new Set(runs.map((r) => `${r.task}-${r.dataset}`))];
  for (const group of groups) {
    const series: CurveSeries[] = [];
    for (const algo of ALGOS) {
      const same = runs.filter((r) => `${r.task}-${r.dataset}` === group && r.algo === algo);
      if (!same.length) continue;
      const sampled = same.map((r) => r.sampled.successRate);
      const returns = same.map((r) => r.sampled.meanReturn);
      lines.push(
        `| ${group} | ${LABEL[algo]} | ${same.map((r) => r.seed).join(', ')} | ${sampled.map(pct).join(', ')} | ${pct(mean(sampled))} ± ${(100 * std(sampled)).toFixed(0)} | ` +
          `${same.map((r) => pct(r.zero.successRate)).join(', ')} | ${same.map((r) => modes(r.sampled)).filter(Boolean).join('; ')} | ${mean(returns).toFixed(1)} ± ${std(returns).toFixed(1)} |`,
      );
      summary[`${group}/${algo}`] = same.map((r) => ({ seed: r.seed, sampled: r.sampled.successRate, zero: r.zero.successRate, modes: r.sampled.modeCounts, return: r.sampled.meanReturn }));
      // Training-time evaluations share one schedule across seeds; cut to the shortest.
      const n = Math.min(...same.map((r) => r.curve.length));
      const x = same[0].curve.slice(0, n).map((e) => e.updates);
      const ys = x.map((_, i) => same.map((r) => 100 * r.curve[i].success_rate));
      series.push({ label: `${LABEL[algo]} (${same.length} seed${same.length > 1 ? 's' : ''})`, x, y: ys.map(mean), band: ys.map(std), color: COLOR[algo] });
    }
    writeFileSync(
      join(values.curves!, `offline-${group}.svg`),
      renderCurves({ title: `${group}: offline training (evaluation success %, mean ± std over seeds)`, xLabel: 'offline updates', yLabel: 'success %', series }),
    );
  }
  writeFileSync(join(values.curves!, 'offline-grid.json'), JSON.stringify(summary, null, 2) + '\n');
  process.stdout.write(lines.join('\n') + '\n');
}

main();
