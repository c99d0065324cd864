// `onestep train`: train a policy online in a MuJoCo task (SMFP, SAC), or offline on a dataset and then online
// (MeanFlowQL; BC baselines offline), or fine-tune SMFP from an offline checkpoint (--init). Writes, under --out:
// config.json, metrics.jsonl/.csv (one row per training episode; offline, one per 1000 updates), eval.jsonl/.csv,
// learning-curve.svg, checkpoints/last (everything needed to --resume exactly) and checkpoints/best, and the
// exported policy.onnx (final) and policy-best.onnx. Ctrl-C checkpoints before it exits. With --env ros the
// episodes run on a robot over ROS 2 (onestep sim-bridge, or an arm speaking its topics; ./train-ros.ts).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UserError } from './errors.ts';
import { ProgressDisplay, formatDuration, progressOption } from './progress.ts';

interface TrainArgs {
  algo: string;
  task?: string;
  steps?: number;
  dataset?: string;
  offlineSteps?: number;
  onlineSteps?: number;
  sampling: string;
  init?: string;
  seed: number;
  out?: string;
  resume: boolean;
  config?: string;
  set: string[];
  warmup?: number;
  batch?: number;
  utd?: number;
  her?: number;
  evalEvery?: number;
  evalEpisodes?: number;
  checkpointEvery: number;
  hidden?: string;
  backend: string;
  progress: string;
  env: string;
  paramsFile?: string;
  transport: string;
  domainId?: number;
  bridge: string;
  rosTimeoutMs: number;
}

/** What config.json holds: enough to re-run or resume the same training. */
export interface TrainConfig {
  algo: Algo;
  task: string;
  seed: number;
  loop: import('../algos/trainer.ts').LoopConfig;
  hyper: Record<string, unknown>;
  command: string;
  /** The offline dataset (offline phase and/or kept in the online replay). */
  dataset?: string;
  /** SMFP only: the offline checkpoint whose MeanFlow map (and critics, when their shapes fit) it started from. */
  init?: string;
}

const ALGOS = ['smfp', 'sac', 'meanflowql', 'bc', 'gaussian-bc'] as const;
type Algo = (typeof ALGOS)[number];
/** Algorithms with an offline phase (trained on --dataset first); bc and gaussian-bc are offline only by default. */
const OFFLINE_ALGOS: readonly Algo[] = ['meanflowql', 'bc', 'gaussian-bc'];
const DEFAULT_OFFLINE_STEPS = 100_000;

function integerAtLeast(flag: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new UserError(`--${flag} must be an integer >= ${min} (got ${value})`);
  return value;
}

/** `key=value` overrides of the algorithm's hyper-parameters; values are JSON (numbers, booleans, arrays) or bare strings. */
function parseOverrides(pairs: string[], defaults: Record<string, unknown>, source: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UserError(`${source} '${pair}' must look like name=value`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    out[key] = value;
  }
  return checkHyper(out, defaults, source);
}

function checkHyper(values: Record<string, unknown>, defaults: Record<string, unknown>, source: string): Record<string, unknown> {
  for (const [key, value] of Object.entries(values)) {
    if (!(key in defaults)) throw new UserError(`${source}: unknown hyper-parameter '${key}' (known: ${Object.keys(defaults).join(', ')})`);
    const want = defaults[key];
    const kind = Array.isArray(want) ? 'array' : want === null ? 'number or null' : typeof want;
    const ok = Array.isArray(want) ? Array.isArray(value) : want === null ? value === null || typeof value === 'number' : typeof value === typeof want;
    if (!ok) throw new UserError(`${source}: hyper-parameter '${key}' must be a ${kind} (got ${JSON.stringify(value)})`);
    if (typeof value === 'number' && !Number.isFinite(value)) throw new UserError(`${source}: hyper-parameter '${key}' must be finite`);
  }
  return values;
}


const command: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train a policy online in a MuJoCo task (SMFP, SAC), offline on a dataset then online (MeanFlowQL, BC baselines), or fine-tune SMFP from an offline checkpoint',
  builder: (yargs: Argv) =>
    yargs
      .option('algo', {
        type: 'string',
        choices: ALGOS,
        default: 'smfp',
        describe: 'algorithm: smfp (stochastic MeanFlow, one step), sac (tanh-Gaussian), meanflowql (offline RL, then online; needs --dataset), bc (MeanFlow map, MFI loss only) or gaussian-bc (tanh-Gaussian likelihood) — the BC baselines need --dataset',
      })
      .option('task', { type: 'string', describe: 'MuJoCo task (see onestep sim --help)', defaultDescription: 'the task the dataset records' })
      .option('steps', { type: 'number', describe: 'environment steps to train for (online)', defaultDescription: 'task preset (docs/training.md); 0 after an offline phase' })
      .option('dataset', { type: 'string', describe: 'offline dataset (.npz or Minari folder, e.g. from onestep collect): trained on first, then kept in the online replay' })
      .option('offline-steps', { type: 'number', describe: 'gradient updates on the dataset before any environment step (meanflowql, bc, gaussian-bc)', defaultDescription: String(DEFAULT_OFFLINE_STEPS) })
      .option('online-steps', { type: 'number', describe: 'environment steps of online fine-tuning after the offline phase (same as --steps)', defaultDescription: '0' })
      .option('sampling', { type: 'string', choices: ['mixed', 'balanced'], default: 'mixed', describe: 'online batches with a dataset: mixed (dataset and online data in one buffer, MeanFlowQL/FQL) or balanced (half each, RLPD)' })
      .option('init', { type: 'string', describe: 'smfp: start from an offline checkpoint folder (meanflowql or bc): its MeanFlow map carries over, the σ head starts small; needs --dataset' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of networks, exploration, replay sampling and episodes' })
      .option('out', { type: 'string', describe: 'run folder', defaultDescription: 'runs/<task>-<algo>-s<seed>' })
      .option('resume', { type: 'boolean', default: false, describe: 'continue from <out>/checkpoints/last with the saved config (same result as an uninterrupted run)' })
      .option('config', { type: 'string', describe: 'YAML or JSON file of hyper-parameter overrides (name: value)' })
      .option('set', { type: 'string', array: true, default: [], describe: 'hyper-parameter override name=value (repeatable), e.g. --set mdParticles=32; with --resume it applies from the checkpoint on (recorded in config.json)' })
      .option('warmup', { type: 'number', describe: 'uniform random actions before learning starts (their statistics normalise observations)', defaultDescription: 'task preset' })
      .option('batch', { type: 'number', describe: 'minibatch size', defaultDescription: 'task preset (256)' })
      .option('utd', { type: 'number', describe: 'gradient updates per environment step (update-to-data ratio)', defaultDescription: 'task preset (1)' })
      .option('her', { type: 'number', describe: 'HER: relabelled copies of each transition with goals achieved later in its episode (goal-conditioned tasks; 0 = off)', defaultDescription: 'task preset (arm_reach 4)' })
      .option('eval-every', { type: 'number', describe: 'environment steps between evaluations', defaultDescription: 'task preset' })
      .option('eval-episodes', { type: 'number', describe: 'episodes per evaluation (fixed seeds)', defaultDescription: 'task preset' })
      .option('checkpoint-every', { type: 'number', default: 5000, describe: 'environment steps between checkpoints (taken at the next episode end)' })
      .option('hidden', { type: 'string', describe: 'hidden layer widths of actor and critics', defaultDescription: 'task preset (256,256)' })
      .option('backend', { type: 'string', default: 'auto', describe: 'TF.js backend: auto, cpu-blas, wasm, cpu, tfjs-node, tfjs-node-gpu' })
      .option('progress', progressOption)
      .option('env', { type: 'string', choices: ['sim', 'ros'], default: 'sim', describe: 'where episodes run: sim (MuJoCo in this process) or ros (a robot on ROS 2 — onestep sim-bridge --clock lockstep --episode-end hold, or a real arm speaking its topics; docs/sim-in-the-loop.md)' })
      .option('params-file', { type: 'string', describe: '--env ros: the onestep serve parameters wiring the observation sources and the command topic (e.g. launch/arm_policy.yaml)' })
      .option('transport', { type: 'string', choices: ['auto', 'rtps', 'rclnodejs', 'inproc'], default: 'auto', describe: '--env ros: ROS 2 transport (auto = rclnodejs on a sourced ROS 2, else the embedded rtps)' })
      .option('domain-id', { type: 'number', describe: '--env ros: ROS domain id', defaultDescription: '$ROS_DOMAIN_ID or 0' })
      .option('bridge', { type: 'string', default: '/sim_bridge', describe: '--env ros: the robot node whose ~/status (EpisodeStatus) and ~/reset_episode (ResetEpisode) it uses' })
      .option('ros-timeout-ms', { type: 'number', default: 10_000, describe: '--env ros: how long to wait for the robot to answer a reset or a step' })
      .example('$0 train --algo smfp --task arm_reach --steps 20000 --env ros --params-file launch/arm_policy.yaml', 'train against `onestep sim-bridge --task arm_reach --clock lockstep --episode-end hold --lockstep-timeout-ms 600000` on the ROS 2 graph') as unknown as Argv<TrainArgs>,
  handler: async (argv: ArgumentsCamelCase<TrainArgs>) => {
    const algo = argv.algo as Algo;
    checkFlagCombinations(argv, algo);
    const run = await resolveRun(argv, algo);
    const config = argv.resume ? await resumedConfig(argv, run) : await newRunConfig(argv, run);
    const session = await openSession(argv, run, config);
    extendResumedRun(argv, run, config);
    const { Trainer } = await import('../algos/trainer.ts');
    const trainer = new Trainer(session.agent, session.env, session.evalEnv, config.loop, run.out, session.policyInfo, argv.resume, run.dataset);
    await trainer.init();
    // After init: the checkpoint's observation statistics, not the new dataset's, go with its MeanFlow map.
    if (config.init && !argv.resume) await startFromOfflineCheckpoint(session.agent, config.init);
    const title = `${config.algo} on ${config.task}, seed ${config.seed}`;
    process.stderr.write(`onestep train: ${title}; backend ${session.backend.backend}${session.backend.blas ? ` (${session.backend.blas.path})` : ''}; run folder ${run.out}\n`);
    const finished = await trainUntilDoneOrInterrupted(trainer, argv.progress, title, run.out);
    await reportEnd(trainer, finished, config, title, run.out);
    session.agent.dispose();
    await session.close();
  },
};
export default command;

type AlgoDefaults = Record<string, unknown>;

/** What a run is made of before its config is settled: the dataset (if any), the task, the run folder, the defaults. */
interface RunInputs {
  algo: Algo;
  offlineAlgo: boolean;
  dataset: import('../data/index.ts').OfflineDataset | null;
  taskName: string;
  out: string;
  configPath: string;
  defaults: AlgoDefaults;
  preset: ReturnType<typeof import('../algos/presets.ts').taskPreset>;
}

/** Flags that cannot go together, refused before anything loads. */
function checkFlagCombinations(argv: TrainArgs, algo: Algo): void {
  const offlineAlgo = OFFLINE_ALGOS.includes(algo);
  if (offlineAlgo && !argv.dataset && !argv.resume) throw new UserError(`--algo ${algo} trains on a dataset first: pass --dataset FILE (e.g. from onestep collect)`);
  if (!offlineAlgo && argv.offlineSteps !== undefined) throw new UserError(`--offline-steps needs an offline algorithm (${OFFLINE_ALGOS.join(', ')}), not ${algo}`);
  if (argv.init !== undefined && algo !== 'smfp') throw new UserError('--init fine-tunes SMFP from an offline checkpoint: use it with --algo smfp');
  if (argv.init !== undefined && !argv.dataset && !argv.resume) throw new UserError('--init needs --dataset: the offline data goes into the online replay beside the fine-tuning data');
  if (argv.steps !== undefined && argv.onlineSteps !== undefined && argv.steps !== argv.onlineSteps) throw new UserError('--steps and --online-steps name the same budget; give one');
  if (argv.env !== 'ros' && argv.paramsFile !== undefined) throw new UserError('--params-file wires a robot on ROS 2: use it with --env ros');
  if (argv.env === 'ros' && argv.paramsFile === undefined) throw new UserError('--env ros needs --params-file: the onestep serve parameters that wire the observation and the command topic (e.g. launch/arm_policy.yaml)');
}

/** A dataset error is the user's: one line. */
async function datasetOrUserError<T>(load: Promise<T>): Promise<T> {
  const { DatasetError } = await import('../data/index.ts');
  return load.catch((err: unknown) => {
    throw err instanceof DatasetError ? new UserError(err.message) : err;
  });
}

/** The dataset (it may name the task), the task, the run folder and the algorithm's defaults and task preset. */
async function resolveRun(argv: TrainArgs, algo: Algo): Promise<RunInputs> {
  // Heavy modules load only here, so `onestep --help` stays fast. The dataset loads first: it may name the task.
  const { loadDataset } = await import('../data/index.ts');
  const dataset = argv.dataset && !argv.resume ? await datasetOrUserError(loadDataset(argv.dataset)) : null;
  const taskName = argv.task ?? dataset?.task;
  if (!taskName) throw new UserError(argv.dataset ? `--task is required: ${argv.dataset} does not record its task` : '--task is required');
  const out = argv.out ?? join('runs', `${taskName}-${algo}-s${argv.seed}`);
  const { TASK_NAMES } = await import('../sim/tasks/index.ts');
  if (!TASK_NAMES.includes(taskName)) throw new UserError(`unknown task '${taskName}' (expected one of ${TASK_NAMES.join(', ')})`);
  const { SMFP_DEFAULTS } = await import('../algos/smfp.ts');
  const { SAC_DEFAULTS } = await import('../algos/sac.ts');
  const { MEANFLOWQL_DEFAULTS } = await import('../algos/meanflowql.ts');
  const { MEANFLOW_BC_DEFAULTS, GAUSSIAN_BC_DEFAULTS } = await import('../algos/bc.ts');
  const { taskPreset } = await import('../algos/presets.ts');
  const ALGO_DEFAULTS = { smfp: SMFP_DEFAULTS, sac: SAC_DEFAULTS, meanflowql: MEANFLOWQL_DEFAULTS, bc: MEANFLOW_BC_DEFAULTS, 'gaussian-bc': GAUSSIAN_BC_DEFAULTS };
  return {
    algo,
    offlineAlgo: OFFLINE_ALGOS.includes(algo),
    dataset,
    taskName,
    out,
    configPath: join(out, 'config.json'),
    defaults: ALGO_DEFAULTS[algo] as unknown as AlgoDefaults,
    preset: taskPreset(taskName),
  };
}

/** --resume: the saved config.json, with --set applied from here on (recorded in its command). Loads its dataset. */
async function resumedConfig(argv: TrainArgs, run: RunInputs): Promise<TrainConfig> {
  const { algo, taskName, out, configPath } = run;
  if (!existsSync(configPath)) throw new UserError(`--resume: ${configPath} not found (train without --resume first)`);
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as TrainConfig;
  if (config.algo !== algo || config.task !== taskName) throw new UserError(`--resume: ${out} holds a ${config.algo} run on ${config.task}, not ${algo} on ${taskName}`);
  if (config.dataset) {
    const { loadDataset } = await import('../data/index.ts');
    run.dataset = await datasetOrUserError(loadDataset(config.dataset));
  }
  // --set on --resume changes hyper-parameters from here on (e.g. a lower target entropy to fine-tune); the
  // change is recorded in config.json's command, so the run stays reproducible.
  if (argv.set.length > 0) {
    Object.assign(config.hyper, parseOverrides(argv.set, run.defaults, '--set'));
    config.command += ` && onestep train --algo ${config.algo} --task ${config.task} --out OUT --resume${argv.set.map((s) => ` --set ${s}`).join('')}`;
    writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');
  }
  return config;
}

/** A new run: hyper-parameters by precedence, the loop from flags and the task preset; writes config.json. */
async function newRunConfig(argv: TrainArgs, run: RunInputs): Promise<TrainConfig> {
  const { algo, offlineAlgo, dataset, taskName, out, configPath, defaults, preset } = run;
  const datasetPath = argv.dataset;
  const onlineGiven = argv.steps ?? argv.onlineSteps;
  // After an offline phase the online budget defaults to none (offline RL); otherwise the task preset's.
  const steps = integerAtLeast('steps', onlineGiven ?? (offlineAlgo ? 0 : preset.steps), offlineAlgo ? 0 : 1);
  const offlineSteps = offlineAlgo ? integerAtLeast('offline-steps', argv.offlineSteps ?? DEFAULT_OFFLINE_STEPS, 0) : 0;
  if (steps + offlineSteps === 0) throw new UserError('nothing to train: --offline-steps and --online-steps are both 0');
  const hiddenText = argv.hidden ?? preset.hidden.join(',');
  const hidden = hiddenText.split(',').map((h) => Number(h.trim()));
  if (!hidden.every((h) => Number.isInteger(h) && h > 0)) throw new UserError(`--hidden must be comma-separated positive integers (got '${hiddenText}')`);
  const fileOverrides = argv.config ? await readConfigOverrides(argv.config, defaults) : {};
  // Precedence: algorithm defaults < task preset < --hidden < --config file < --set. MeanFlowQL and the BC
  // baselines take the task's γ and widths but keep their own critic (GELU + LayerNorm, as the reference).
  const { MEANFLOWQL_DEFAULTS } = await import('../algos/meanflowql.ts');
  const presetHyper: Record<string, unknown> =
    algo === 'meanflowql'
      ? { gamma: preset.hyper.gamma, actorHidden: hidden, critic: { ...MEANFLOWQL_DEFAULTS.critic, hiddenSizes: hidden } }
      : algo === 'bc'
        ? { actorHidden: hidden }
        : algo === 'gaussian-bc'
          ? { hidden }
          : { ...preset.hyper, critic: { ...preset.hyper.critic, hiddenSizes: hidden }, actorHidden: hidden };
  // SMFP from an offline checkpoint: its network shape, clip squash and (when stored) critic shape carry over.
  const initHyper = argv.init ? await smfpInitHyper(argv.init) : {};
  const hyper = { ...defaults, ...presetHyper, ...initHyper, ...fileOverrides, ...parseOverrides(argv.set, defaults, '--set') };
  const her = integerAtLeast('her', argv.her ?? preset.her, 0);
  const sampling = argv.sampling as 'mixed' | 'balanced';
  const onlineCapacity = Math.min(1_000_000, steps * (1 + her));
  const config: TrainConfig = {
    algo,
    task: taskName,
    seed: integerAtLeast('seed', argv.seed, 0),
    ...(datasetPath ? { dataset: datasetPath } : {}),
    ...(argv.init ? { init: argv.init } : {}),
    loop: {
      totalSteps: steps,
      // With a dataset there is no random warm-up: the data fills the replay and sets the normalisation.
      warmupSteps: Math.min(integerAtLeast('warmup', argv.warmup ?? (dataset ? 0 : preset.warmup), dataset ? 0 : 1), steps),
      batchSize: integerAtLeast('batch', argv.batch ?? preset.batch, 1),
      replayCapacity: dataset && sampling === 'mixed' ? dataset.size + onlineCapacity : Math.max(1, onlineCapacity),
      ...(dataset ? { offlineSteps, offlineSampling: sampling } : {}),
      updatesPerStep: integerAtLeast('utd', argv.utd ?? preset.utd, 1),
      herRelabels: her,
      evalEvery: integerAtLeast('eval-every', argv.evalEvery ?? preset.evalEvery, 1),
      evalEpisodes: integerAtLeast('eval-episodes', argv.evalEpisodes ?? preset.evalEpisodes, 1),
      checkpointEvery: integerAtLeast('checkpoint-every', argv.checkpointEvery, 1),
      seed: argv.seed,
    },
    hyper,
    command: `onestep train --algo ${algo} --task ${taskName} --steps ${steps} --seed ${argv.seed}` +
      (datasetPath ? ` --dataset ${datasetPath}` : '') +
      (offlineAlgo ? ` --offline-steps ${offlineSteps}` : '') +
      (dataset && sampling !== 'mixed' ? ` --sampling ${sampling}` : '') +
      (argv.init ? ` --init ${argv.init}` : '') +
      (argv.hidden !== undefined ? ` --hidden ${argv.hidden}` : '') +
      (argv.warmup !== undefined ? ` --warmup ${argv.warmup}` : '') +
      (argv.batch !== undefined ? ` --batch ${argv.batch}` : '') +
      (argv.utd !== undefined ? ` --utd ${argv.utd}` : '') +
      (argv.her !== undefined ? ` --her ${argv.her}` : '') +
      (argv.env === 'ros' ? ` --env ros --params-file ${argv.paramsFile}` : '') +
      argv.set.map((s) => ` --set ${s}`).join(''),
  };
  if (existsSync(join(out, 'checkpoints', 'last'))) throw new UserError(`${out} already holds a run; pass --resume to continue it, or choose another --out`);
  mkdirSync(out, { recursive: true });
  writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');
  return config;
}

/** --config FILE: a YAML or JSON mapping of hyper-parameter names to values, checked against the defaults. */
async function readConfigOverrides(path: string, defaults: AlgoDefaults): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`--config: cannot read ${path}: ${(err as Error).message}`);
  }
  const YAML = await import('yaml');
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch (err) {
    throw new UserError(`--config: ${path} is not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UserError(`--config: ${path} must hold a mapping of hyper-parameter names to values`);
  return checkHyper(parsed as Record<string, unknown>, defaults, path);
}

/** The TF.js backend, the training and evaluation environments, the agent, and what the exported policy records. */
async function openSession(argv: TrainArgs, run: RunInputs, config: TrainConfig) {
  const { initBackend } = await import('../nn/backend.ts');
  const backend = await initBackend(argv.backend === 'auto' ? {} : { prefer: argv.backend as 'cpu-blas' });
  const { MujocoEnv } = await import('../sim/env.ts');
  const { createAgent } = await import('../algos/agents.ts');
  const simEnv = await MujocoEnv.make(config.task);
  // --env ros: one robot for training and evaluation (the trainer evaluates it between episodes); the task's own
  // environment still says what its observation, action interface and goal are
  const ros = argv.env === 'ros' ? await (await import('./train-ros.ts')).openRosEnv(argv, simEnv) : null;
  const env: import('../algos/trainer.ts').TrainEnv = ros ? ros.env : simEnv;
  const evalEnv: import('../algos/trainer.ts').TrainEnv = ros ? ros.env : await MujocoEnv.make(config.task);
  const close = async () => {
    simEnv.close();
    if (ros) await ros.close();
    else (evalEnv as InstanceType<typeof MujocoEnv>).close();
  };
  const o = env.observationSize;
  const d = env.actionSize;
  if (run.dataset) {
    const { checkAgainstTask, DatasetError } = await import('../data/index.ts');
    try {
      checkAgainstTask(run.dataset, { task: simEnv.task, actionSize: d });
    } catch (err) {
      throw err instanceof DatasetError ? new UserError(err.message) : err;
    }
  }
  const schedule = { offlineSteps: config.loop.offlineSteps ?? 0 };
  const agent = createAgent(config.algo, o, d, config.hyper, config.seed, schedule);
  const { low, high, scale, offset, mode: actionMode } = simEnv.actionSpec;
  const policyInfo = {
    algorithm: config.algo,
    task: config.task,
    description: `${config.algo.toUpperCase()} on ${config.task}, seed ${config.seed}${config.dataset ? `, dataset ${config.dataset}` : ''}`,
    observationNames: [...simEnv.observationSpec.names],
    actionNames: [...simEnv.actionSpec.names],
    actionScale: Array.from(scale),
    actionOffset: Array.from(offset),
    actionLow: Array.from(low),
    actionHigh: Array.from(high),
    actionMode,
  };
  return { backend, env, evalEnv, agent, policyInfo, close };
}

/**
 * On --resume, an explicit --steps extends (or shortens) the run; everything else comes from config.json, which
 * records the new length and the command that set it.
 */
function extendResumedRun(argv: TrainArgs, run: RunInputs, config: TrainConfig): void {
  const newSteps = argv.steps ?? argv.onlineSteps;
  if (!argv.resume || newSteps === undefined || integerAtLeast('steps', newSteps, 1) === config.loop.totalSteps) return;
  config.loop.totalSteps = newSteps;
  config.loop.herRelabels ??= 0;
  const mixedDataset = run.dataset && config.loop.offlineSampling !== 'balanced' ? run.dataset.size : 0;
  config.loop.replayCapacity = Math.max(config.loop.replayCapacity, mixedDataset + Math.min(1_000_000, newSteps * (1 + config.loop.herRelabels)));
  config.command += ` && onestep train --algo ${config.algo} --task ${config.task} --out OUT --resume --steps ${newSteps}`;
  writeFileSync(run.configPath, JSON.stringify(config, null, 2) + '\n');
}

/** --init: SMFP takes over the MeanFlow map (and critics, when their shapes fit) of an offline checkpoint. */
async function startFromOfflineCheckpoint(agent: import('../algos/agent.ts').Agent, dir: string): Promise<void> {
  const { Smfp } = await import('../algos/smfp.ts');
  if (!(agent instanceof Smfp)) return;
  const { initSmfpFromOffline } = await import('../algos/smfp-init.ts');
  const { loadCheckpoint } = await import('../nn/checkpoint.ts');
  const { disposePolicy } = await import('../nn/policy.ts');
  const ckpt = await loadCheckpoint(dir);
  try {
    const carried = initSmfpFromOffline(agent, ckpt);
    process.stderr.write(`onestep train: SMFP starts from ${dir} (${ckpt.info.algorithm}, ${ckpt.counters.trainingSteps} updates): ${carried.join(', ')}\n`);
  } catch (err) {
    throw new UserError(`--init ${dir}: ${(err as Error).message}`);
  } finally {
    disposePolicy(ckpt.policy);
  }
}

/** Exports the policy of a checkpoint directory to ONNX (spec with names, scaling and the checkpoint id). */
async function exportRun(checkpointDir: string, onnxPath: string) {
  const { loadCheckpoint } = await import('../nn/checkpoint.ts');
  const { disposePolicy } = await import('../nn/policy.ts');
  const { exportCheckpointOnnx } = await import('../export/onnx.ts');
  const ckpt = await loadCheckpoint(checkpointDir);
  try {
    const { bytes, spec } = exportCheckpointOnnx(ckpt);
    writeFileSync(onnxPath, bytes);
    return spec;
  } finally {
    disposePolicy(ckpt.policy);
  }
}

/**
 * Runs the trainer with the progress display, the learning curve and the best policy kept up to date; the first
 * Ctrl-C (or SIGTERM) checkpoints and stops, a second exits at once. True when training finished.
 */
async function trainUntilDoneOrInterrupted(trainer: import('../algos/trainer.ts').Trainer, progressMode: string, title: string, out: string): Promise<boolean> {
  const { writeLearningCurve } = await import('../algos/run-files.ts');
  const progress = new ProgressDisplay(progressMode);
  trainer.onProgress = (p) => {
    const ev = p.lastEval ? `eval ${p.lastEval.returnMean.toFixed(1)} ± ${p.lastEval.returnStd.toFixed(1)}` : 'eval --';
    const offline = p.phase === 'offline';
    const text = offline
      ? `offline ${p.offlineUpdates}/${p.offlineSteps} updates | ${p.updatesPerSecond.toFixed(1)} updates/s | ETA ${formatDuration(p.etaSeconds)} | ${ev}`
      : `${p.envSteps}/${p.totalSteps} steps | ${p.envStepsPerSecond.toFixed(1)} env steps/s | ${p.updatesPerSecond.toFixed(1)} updates/s | ETA ${formatDuration(p.etaSeconds)} | ${ev}`;
    const fraction = offline ? p.offlineUpdates / Math.max(p.offlineSteps, 1) : p.envSteps / Math.max(p.totalSteps, 1);
    progress.update(fraction, text);
  };
  trainer.onEval = () => writeLearningCurve(out, title);
  trainer.onBest = async () => {
    await exportRun(join(out, 'checkpoints', 'best'), join(out, 'policy-best.onnx'));
  };

  let interrupts = 0;
  const onSigint = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write(`\nonestep train: second ${signal}, exiting without saving\n`);
      process.exit(130);
    }
    process.stderr.write(`\nonestep train: ${signal === 'SIGINT' ? 'Ctrl-C' : signal}, saving a checkpoint (interrupt again to exit without saving)\n`);
    trainer.requestStop();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const finished = await trainer.run();
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigint);
  progress.finish();
  writeLearningCurve(out, title);
  return finished;
}

/** The final export and the summary line, or where a stopped run's checkpoint is and how to continue it. */
async function reportEnd(trainer: import('../algos/trainer.ts').Trainer, finished: boolean, config: TrainConfig, title: string, out: string): Promise<void> {
  const last = join(out, 'checkpoints', 'last');
  if (finished) {
    const spec = await exportRun(last, join(out, 'policy.onnx'));
    const best = trainer.bestReturn;
    process.stdout.write(
      `trained ${title}: ${trainer.envSteps} environment steps, ${spec.trainingSteps} updates; ` +
        `last eval ${trainer.lastEval ? `${trainer.lastEval.returnMean.toFixed(2)} ± ${trainer.lastEval.returnStd.toFixed(2)}` : '--'}, best ${best === null ? '--' : best.toFixed(2)}\n` +
        `wrote ${join(out, 'policy.onnx')} and ${join(out, 'policy-best.onnx')}\n`,
    );
  } else {
    const where = trainer.envSteps === 0 && (config.loop.offlineSteps ?? 0) > 0 ? `in the offline phase at ${trainer.updates} updates` : `at ${trainer.envSteps} environment steps`;
    process.stdout.write(`stopped ${where}; checkpoint in ${last}; continue with: onestep train --algo ${config.algo} --task ${config.task} --out ${out} --resume\n`);
  }
}

/**
 * SMFP hyper-parameters that must follow an offline checkpoint for its weights to carry over: the MeanFlow map's
 * shape, clip squashing (the map was trained for a = clip(g)), and the critic's shape when the checkpoint stores one.
 */
async function smfpInitHyper(dir: string): Promise<Record<string, unknown>> {
  const { loadCheckpoint, CheckpointError } = await import('../nn/checkpoint.ts');
  const { disposePolicy } = await import('../nn/policy.ts');
  let ckpt;
  try {
    ckpt = await loadCheckpoint(dir);
  } catch (err) {
    throw err instanceof CheckpointError ? new UserError(`--init: ${err.message}`) : err;
  }
  try {
    const c = ckpt.policy.config;
    if (c.kind !== 'meanflow' || c.logStdHead) throw new UserError(`--init ${dir}: a ${ckpt.info.algorithm} checkpoint has no plain MeanFlow map to start SMFP from (use a meanflowql or bc checkpoint)`);
    const critic = (ckpt.state as { agent?: { critic?: unknown } }).agent?.critic;
    return {
      actorHidden: [...c.hiddenSizes],
      actorActivation: c.activation,
      actorLayerNorm: c.layerNorm,
      timeFeatures: c.timeFeatures,
      squash: 'clip',
      ...(critic ? { critic } : {}),
    };
  } finally {
    disposePolicy(ckpt.policy);
  }
}
