// `onestep collect`: record an offline dataset from a MuJoCo task — the scripted controller, uniform random actions
// or an exported policy — as an .npz with the D4RL/FQL keys (docs/datasets.md). Two ways to shape the data:
//
//   --noise σ   DART-style (Laskey et al., 2017): Gaussian noise N(0, σ²) is added to the action that is executed,
//               so the episodes visit states off the clean controller's path, while the stored action stays the
//               clean one — the correction the controller would make there (--label clean, the default).
//               --label executed stores the noisy action instead: what an offline RL critic wants, since then
//               (s, a, r, s') is exactly what happened.
//   --label scripted
//               DAgger relabelling (Ross et al., 2011): a learner (an exported model, or random actions) drives the
//               episodes and the task's scripted controller labels every state the learner reached with the action
//               it would take there. The scripted controllers are functions of the simulator state, so the label is
//               the expert's answer at that state; aggregate rounds with `onestep dataset merge` and retrain.
//   --mix       a deliberately multimodal dataset: each episode's scripted controller is forced into one of the
//               task's modes (two_way: left or right) with the given shares, drawn independently of the start
//               state, so p(action | state) itself has two modes.
//
// Episode k is reset with seed + k (as in `onestep sim`); the file's metadata records the task, the observation and
// action names, how the data was made and each episode's mode.
import { statSync } from 'node:fs';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { OfflineDataset } from '../data/dataset.ts';
import type { MujocoEnv } from '../sim/env.ts';
import type { Policy } from '../sim/task.ts';
import { UserError } from './errors.ts';
import { ProgressDisplay, formatDuration, progressOption } from './progress.ts';
import { type OnnxPolicy, finiteInteger, loadOnnxPolicy, positiveInteger } from './sim.ts';

interface CollectArgs {
  task: string;
  policy: string;
  episodes: number;
  noise: number;
  label: 'clean' | 'executed' | 'scripted';
  mix?: string;
  seed: number;
  deterministic: boolean;
  out: string;
  compress: boolean;
  progress: string;
  json: boolean;
}

/** `left,right` (equal shares) or `left=0.7,right=0.3` → shares that sum to 1, checked against the task's modes. */
export function parseMix(text: string, task: string, modes: readonly string[] | undefined): Map<string, number> {
  if (!modes) throw new UserError(`--mix needs a task with modes (two_way); ${task} has none`);
  const shares = new Map<string, number>();
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const [mode, share, extra] = part.split('=');
    const value = share === undefined ? 1 : Number(share);
    if (extra !== undefined || !modes.includes(mode) || !Number.isFinite(value) || value <= 0) {
      throw new UserError(`--mix: '${part}' is not MODE or MODE=SHARE with a mode of ${task} (${modes.join(', ')}) and a share > 0`);
    }
    if (shares.has(mode)) throw new UserError(`--mix names ${mode} twice`);
    shares.set(mode, value);
  }
  if (shares.size === 0) throw new UserError(`--mix is empty; e.g. --mix ${modes.join(',')}`);
  const total = [...shares.values()].reduce((a, b) => a + b, 0);
  for (const [mode, value] of shares) shares.set(mode, value / total);
  return shares;
}

/**
 * Each episode's forced mode: counts proportional to the shares (largest remainder, so they sum to `episodes`),
 * in a seeded random order that does not depend on the episodes' start states.
 */
export function assignModes(shares: Map<string, number>, episodes: number, rng: { uniform(lo: number, hi: number): number }): string[] {
  const entries = [...shares];
  const counts = entries.map(([, s]) => Math.floor(s * episodes));
  const byRemainder = entries.map(([, s], i) => ({ i, r: s * episodes - counts[i] })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; k < episodes - counts.reduce((a, b) => a + b, 0); k++) counts[byRemainder[k].i]++;
  const order = entries.flatMap(([mode], i) => Array<string>(counts[i]).fill(mode));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform(0, i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

const command: CommandModule<object, CollectArgs> = {
  command: 'collect',
  describe: 'Record an offline dataset (.npz) from a MuJoCo task: scripted, noisy-scripted (DART), multimodal mixes, random or an ONNX policy',
  builder: (yargs: Argv) =>
    yargs
      .option('task', { type: 'string', demandOption: true, describe: 'task: pendulum, reacher, arm_reach, arm_push, cheetah, two_way' })
      .option('policy', { type: 'string', default: 'scripted', describe: 'scripted | random | path to an exported model.onnx' })
      .option('episodes', { type: 'number', demandOption: true, describe: 'episodes to record (episode k is reset with seed + k)' })
      .option('noise', { type: 'number', default: 0, describe: 'std of Gaussian noise added to the executed action (DART-style), in action units' })
      .option('label', { choices: ['clean', 'executed', 'scripted'] as const, default: 'clean' as const, describe: 'stored action: the policy\'s clean one (DART with --noise), the noisy one executed, or the scripted controller\'s at each visited state (DAgger relabelling of a model\'s or random episodes)' })
      .option('mix', { type: 'string', describe: 'scripted only: force the task\'s modes per episode, e.g. left,right (equal shares) or left=0.7,right=0.3' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the first episode, the noise, the mode order and the random/ONNX policy' })
      .option('deterministic', { type: 'boolean', default: false, describe: 'ONNX policies: feed zero noise (the mode action)' })
      .option('out', { type: 'string', demandOption: true, describe: 'the .npz file to write (replaced atomically)' })
      .option('compress', { type: 'boolean', default: true, describe: 'deflate the arrays (np.savez_compressed); --no-compress stores them (np.savez)' })
      .option('progress', progressOption)
      .option('json', { type: 'boolean', default: false, describe: 'print the summary as one JSON object' }) as unknown as Argv<CollectArgs>,
  handler: async (argv: ArgumentsCamelCase<CollectArgs>) => {
    const episodes = positiveInteger('episodes', argv.episodes);
    const seed = finiteInteger('seed', argv.seed);
    if (!Number.isFinite(argv.noise) || argv.noise < 0) throw new UserError(`--noise must be a number >= 0 (got ${argv.noise})`);
    if (!argv.out.endsWith('.npz')) throw new UserError(`--out must name an .npz file (got '${argv.out}')`);
    const name = argv.policy;
    if (!['random', 'scripted'].includes(name) && !name.endsWith('.onnx')) throw new UserError(`--policy must be scripted, random or a path ending in .onnx (got '${name}')`);
    if (argv.mix !== undefined && name !== 'scripted') throw new UserError('--mix forces the scripted controller into modes: use it with --policy scripted');
    if (argv.label === 'scripted' && name === 'scripted') throw new UserError('--label scripted relabels the episodes of another policy (a model.onnx or random) with the scripted controller; with --policy scripted use --label clean');

    const { MujocoEnv } = await import('../sim/env.ts');
    const { randomPolicy, scriptedPolicy } = await import('../sim/evaluate.ts');
    const { Rng } = await import('../core/rng.ts');
    const { TASK_NAMES, getTask } = await import('../sim/tasks/index.ts');
    if (!TASK_NAMES.includes(argv.task)) throw new UserError(`unknown task '${argv.task}' (expected one of ${TASK_NAMES.join(', ')})`);
    const spec = getTask(argv.task);
    const mix = argv.mix !== undefined ? parseMix(argv.mix, spec.name, spec.modes) : undefined;
    const env: MujocoEnv = await MujocoEnv.make(spec);
    let onnx: OnnxPolicy | undefined;
    try {
      const task = env.task;
      // Separate streams, so the noise does not shift with the mode order and neither with the policy's own draws.
      const modeOrder = mix ? assignModes(mix, episodes, new Rng(seed ^ 0x6d697800)) : undefined;
      const noiseRng = new Rng(seed ^ 0x6e6f6900);
      let basePolicy: Policy | undefined;
      const byMode = new Map<string, Policy>();
      if (name === 'scripted') {
        if (!task.scripted) throw new UserError(`${task.name} has no scripted controller; use --policy random or a model.onnx`);
        if (!mix) basePolicy = scriptedPolicy(env);
        else for (const mode of mix.keys()) byMode.set(mode, scriptedPolicy(env, { mode }));
      } else if (name === 'random') basePolicy = randomPolicy(env.actionSize, seed);
      else {
        onnx = await loadOnnxPolicy(name, env, { seed, deterministic: argv.deterministic });
        basePolicy = onnx.policy;
      }

      let expert: Policy | undefined;
      if (argv.label === 'scripted') {
        if (!task.scripted) throw new UserError(`--label scripted: ${task.name} has no scripted controller to label with`);
        expert = scriptedPolicy(env);
      }

      const d = env.observationSize;
      const a = env.actionSize;
      const capacity = episodes * task.maxSteps;
      const observations = new Float32Array(capacity * d);
      const nextObservations = new Float32Array(capacity * d);
      const actions = new Float32Array(capacity * a);
      const rewards = new Float32Array(capacity);
      const terminals = new Float32Array(capacity);
      const episodeEnds = new Float32Array(capacity);
      const hasSuccess = task.successMeaning !== undefined;
      const success = new Float32Array(capacity);
      const episodeModes: (string | null)[] = [];
      const executed = new Float32Array(a);
      const progress = new ProgressDisplay(argv.progress);
      const started = performance.now();
      let row = 0;
      for (let k = 0; k < episodes; k++) {
        const policy = modeOrder ? byMode.get(modeOrder[k])! : basePolicy!;
        let obs = env.reset(seed + k);
        for (;;) {
          const clean = policy(obs);
          observations.set(obs, row * d);
          for (let i = 0; i < a; i++) {
            const x = argv.noise > 0 ? clean[i] + argv.noise * noiseRng.normal() : clean[i];
            executed[i] = x > 1 ? 1 : x < -1 ? -1 : x;
          }
          // the expert is asked at the same state, before the step (its action buffer is reused: copied at once)
          actions.set(expert ? expert(obs) : argv.label === 'executed' ? executed : clean, row * a);
          const r = env.step(executed);
          nextObservations.set(r.obs, row * d);
          rewards[row] = r.reward;
          terminals[row] = r.terminated ? 1 : 0;
          success[row] = r.info.success ? 1 : 0;
          obs = r.obs;
          row++;
          if (r.terminated || r.truncated) {
            episodeEnds[row - 1] = 1;
            if (task.modes) episodeModes.push(r.info.mode ?? null);
            break;
          }
        }
        const seconds = (performance.now() - started) / 1000;
        progress.update(
          (k + 1) / episodes,
          `${k + 1}/${episodes} episodes | ${row} steps | ${Math.round(row / seconds)} steps/s | ETA ${formatDuration((seconds / (k + 1)) * (episodes - k - 1))}`,
        );
      }
      progress.finish();

      const { writeDatasetNpz, summarizeDataset, checkAgainstTask } = await import('../data/index.ts');
      const size = row;
      const dataset: OfflineDataset = {
        source: argv.out,
        size,
        observationSize: d,
        actionSize: a,
        observations: observations.slice(0, size * d),
        actions: actions.slice(0, size * a),
        rewards: rewards.slice(0, size),
        nextObservations: nextObservations.slice(0, size * d),
        terminals: terminals.slice(0, size),
        masks: terminals.slice(0, size).map((t) => 1 - t),
        episodeEnds: episodeEnds.slice(0, size),
        task: task.name,
        observationNames: [...env.observationSpec.names],
        success: hasSuccess ? success.slice(0, size) : undefined,
      };
      checkAgainstTask(dataset, { task, actionSize: a });
      const collect = {
        policy: name,
        episodes,
        seed,
        noise: argv.noise,
        label: argv.label,
        ...(mix && { mix: Object.fromEntries(mix) }),
        ...(onnx && { deterministic: argv.deterministic, modelTask: onnx.task, modelTrainingSteps: onnx.trainingSteps }),
      };
      const metadata: Record<string, unknown> = {
        format: 'onestep.dataset',
        version: 1,
        actionNames: [...env.actionSpec.names],
        actionMode: env.actionSpec.mode,
        ...(hasSuccess && { successMeaning: task.successMeaning }),
        collect,
        ...(task.modes && { modes: task.modes, episodeModes }),
      };
      writeDatasetNpz(argv.out, dataset, { compress: argv.compress, metadata });

      const s = summarizeDataset(dataset);
      // 'none' (an episode that never committed to a mode) is listed only when it happened
      const modeCounts = task.modes
        ? Object.fromEntries([...task.modes, 'none'].map((m) => [m, episodeModes.filter((e) => (e ?? 'none') === m).length]).filter(([m, n]) => m !== 'none' || (n as number) > 0))
        : null;
      const bytes = statSync(argv.out).size;
      if (argv.json) {
        process.stdout.write(
          `${JSON.stringify({ out: argv.out, task: task.name, policy: name, episodes, transitions: size, bytes, returnMean: s.returnMean, returnStd: s.returnStd, successRate: s.successRate, modeCounts })}\n`,
        );
      } else {
        const lines = [
          `wrote ${argv.out}: ${episodes} episodes, ${size} transitions of ${task.name} (observation ${d}, action ${a}), ${formatBytes(bytes)}`,
          `policy ${name}${argv.noise > 0 ? `, noise σ ${argv.noise}` : ''}${argv.noise > 0 || argv.label === 'scripted' ? ` (stored action: ${argv.label})` : ''}${mix ? `, modes forced ${[...mix].map(([m, f]) => `${m} ${(100 * f).toFixed(0)}%`).join(' / ')}` : ''}`,
          `return ${s.returnMean.toFixed(2)} ± ${s.returnStd.toFixed(2)} (mean ± std over episodes)`,
        ];
        if (s.successRate !== null) lines.push(`success ${(100 * s.successRate).toFixed(1)}% (${task.successMeaning})`);
        if (modeCounts) lines.push(`modes ${Object.entries(modeCounts).map(([m, n]) => `${m} ${n}`).join(', ')}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
    } finally {
      onnx?.close();
      env.close();
    }
  },
};
export default command;

/** "12.3 MB", "456 kB", "789 B" (powers of 1000, as ls -h --si). */
export function formatBytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : bytes >= 1e3 ? `${(bytes / 1e3).toFixed(0)} kB` : `${bytes} B`;
}
