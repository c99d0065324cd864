// The run configuration of `onestep train` (./train.ts): its flags, the checks on their combinations, and
// config.json — for a new run settled from algorithm defaults < task preset < --hidden < --config < --set; for a
// resumed run read back, with --set and a new --steps recorded in its command — and the SMFP or SAC hyper-parameters
// an --init checkpoint fixes. All of it is decided before the backend, the environments or the agent exist.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from './errors.ts';

export interface TrainArgs {
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
  /** SMFP or SAC: the offline checkpoint it started from (SMFP: MeanFlow map, critics when they fit; SAC: the actor). */
  init?: string;
}

export const ALGOS = ['smfp', 'sac', 'meanflowql', 'bc', 'gaussian-bc'] as const;
export type Algo = (typeof ALGOS)[number];
/** Algorithms with an offline phase (trained on --dataset first); bc and gaussian-bc are offline only by default. */
const OFFLINE_ALGOS: readonly Algo[] = ['meanflowql', 'bc', 'gaussian-bc'];
export const DEFAULT_OFFLINE_STEPS = 100_000;

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

type AlgoDefaults = Record<string, unknown>;

/** What a run is made of before its config is settled: the dataset (if any), the task, the run folder, the defaults. */
export interface RunInputs {
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
export function checkFlagCombinations(argv: TrainArgs, algo: Algo): void {
  const offlineAlgo = OFFLINE_ALGOS.includes(algo);
  if (offlineAlgo && !argv.dataset && !argv.resume) throw new UserError(`--algo ${algo} trains on a dataset first: pass --dataset FILE (e.g. from onestep collect)`);
  if (!offlineAlgo && argv.offlineSteps !== undefined) throw new UserError(`--offline-steps needs an offline algorithm (${OFFLINE_ALGOS.join(', ')}), not ${algo}`);
  if (argv.init !== undefined && algo !== 'smfp' && algo !== 'sac') throw new UserError('--init fine-tunes SMFP (from a meanflowql or bc checkpoint) or SAC (from a gaussian-bc checkpoint): use it with --algo smfp or --algo sac');
  if (argv.init !== undefined && !argv.dataset && !argv.resume) throw new UserError('--init needs --dataset: the offline data goes into the online replay beside the fine-tuning data');
  if (argv.steps !== undefined && argv.onlineSteps !== undefined && argv.steps !== argv.onlineSteps) throw new UserError('--steps and --online-steps name the same budget; give one');
  if (argv.env !== 'ros' && argv.paramsFile !== undefined) throw new UserError('--params-file wires a robot on ROS 2: use it with --env ros');
  if (argv.env === 'ros' && argv.paramsFile === undefined) throw new UserError('--env ros needs --params-file: the onestep serve parameters that wire the observation and the command topic (e.g. launch/arm_policy.yaml)');
}

/** The dataset (it may name the task), the task, the run folder and the algorithm's defaults and task preset. */
export async function resolveRun(argv: TrainArgs, algo: Algo): Promise<RunInputs> {
  // Heavy modules load only here, so `onestep --help` stays fast. The dataset loads first: it may name the task.
  const { loadDataset } = await import('../data/index.ts');
  const dataset = argv.dataset && !argv.resume ? await loadDataset(argv.dataset) : null;
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
export async function resumedConfig(argv: TrainArgs, run: RunInputs): Promise<TrainConfig> {
  const { algo, taskName, out, configPath } = run;
  if (!existsSync(configPath)) throw new UserError(`--resume: ${configPath} not found (train without --resume first)`);
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as TrainConfig;
  if (config.algo !== algo || config.task !== taskName) throw new UserError(`--resume: ${out} holds a ${config.algo} run on ${config.task}, not ${algo} on ${taskName}`);
  if (config.dataset) {
    const { loadDataset } = await import('../data/index.ts');
    run.dataset = await loadDataset(config.dataset);
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
export async function newRunConfig(argv: TrainArgs, run: RunInputs): Promise<TrainConfig> {
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
  // From an offline checkpoint: its actor's shape (SMFP: also clip squash and a stored critic shape) carries over.
  const fromCheckpoint = argv.init ? await initHyper(algo as 'smfp' | 'sac', argv.init) : {};
  const hyper = { ...defaults, ...presetHyper, ...fromCheckpoint, ...fileOverrides, ...parseOverrides(argv.set, defaults, '--set') };
  // --config/--set may not reshape the actor the checkpoint fills (a critic of another shape just starts fresh).
  for (const [key, value] of Object.entries(fromCheckpoint)) {
    if (key !== 'critic' && JSON.stringify(hyper[key]) !== JSON.stringify(value)) {
      throw new UserError(`--init ${argv.init}: the checkpoint's actor has ${key} ${JSON.stringify(value)}, --config/--set asks for ${JSON.stringify(hyper[key])} (the actor must match the checkpoint)`);
    }
  }
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

/**
 * On --resume, an explicit --steps extends (or shortens) the run; everything else comes from config.json, which
 * records the new length and the command that set it.
 */
export function extendResumedRun(argv: TrainArgs, run: RunInputs, config: TrainConfig): void {
  const newSteps = argv.steps ?? argv.onlineSteps;
  if (!argv.resume || newSteps === undefined || integerAtLeast('steps', newSteps, 1) === config.loop.totalSteps) return;
  config.loop.totalSteps = newSteps;
  config.loop.herRelabels ??= 0;
  const mixedDataset = run.dataset && config.loop.offlineSampling !== 'balanced' ? run.dataset.size : 0;
  config.loop.replayCapacity = Math.max(config.loop.replayCapacity, mixedDataset + Math.min(1_000_000, newSteps * (1 + config.loop.herRelabels)));
  config.command += ` && onestep train --algo ${config.algo} --task ${config.task} --out OUT --resume --steps ${newSteps}`;
  writeFileSync(run.configPath, JSON.stringify(config, null, 2) + '\n');
}

/** The hyper-parameters of SMFP or SAC that must follow an offline checkpoint for its weights to carry over. */
async function initHyper(algo: 'smfp' | 'sac', dir: string): Promise<Record<string, unknown>> {
  const { loadCheckpoint, CheckpointError } = await import('../nn/checkpoint.ts');
  const { disposePolicy } = await import('../nn/policy.ts');
  const { initHyperFrom } = await import('../algos/offline-init.ts');
  // The checkpoint loads before the backend is chosen, on the stock cpu backend: started here so that loading
  // the gradients silences its "install tfjs-node" banner (initBackend picks the real backend later).
  await (await import('@tensorflow/tfjs-core')).ready();
  await (await import('../nn/backend.ts')).loadGradients();
  let ckpt;
  try {
    ckpt = await loadCheckpoint(dir);
  } catch (err) {
    throw err instanceof CheckpointError ? new UserError(`--init: ${err.message}`) : err;
  }
  try {
    return initHyperFrom(algo, ckpt);
  } catch (err) {
    throw new UserError(`--init ${dir}: ${(err as Error).message}`);
  } finally {
    disposePolicy(ckpt.policy);
  }
}
