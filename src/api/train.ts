/**
 * `onestep/train`: train one-step generative policies in your own program, as `onestep train` does. Pick a
 * TensorFlow.js backend ({@link initBackend}), make an agent ({@link Smfp}, {@link MeanFlowQl}, {@link Sac}, the
 * behaviour-cloning baselines), drive it with the {@link Trainer} loop in a `onestep/sim` environment (or any
 * {@link TrainEnv}), and export a checkpoint to the ONNX file `PolicyRuntime` serves ({@link exportCheckpointOnnx}).
 *
 * Loads TensorFlow.js (and, through the environments, MuJoCo): keep it out of a serving process.
 *
 * @example
 * ```ts
 * import { MujocoEnv } from 'onestep/sim';
 * import { LOOP_DEFAULTS, SAC_DEFAULTS, Sac, Trainer, exportCheckpointOnnx, initBackend, loadCheckpoint, runPaths } from 'onestep/train';
 * await initBackend();
 * const [env, evalEnv] = [await MujocoEnv.make('pendulum'), await MujocoEnv.make('pendulum')];
 * const agent = new Sac(env.observationSize, env.actionSize, SAC_DEFAULTS, 0);
 * const loop = { ...LOOP_DEFAULTS, totalSteps: 15_000, seed: 0 };
 * const trainer = new Trainer(agent, env, evalEnv, loop, 'runs/pendulum', { algorithm: 'sac', task: 'pendulum' }, false);
 * await trainer.init();
 * await trainer.run();
 * const { bytes } = exportCheckpointOnnx(await loadCheckpoint(runPaths('runs/pendulum').last));
 * ```
 * @packageDocumentation
 */
export {
  LOOP_DEFAULTS,
  Trainer,
  type EvalResult,
  type GoalRelabeling,
  type LoopConfig,
  type Progress,
  type TrainEnv,
} from '../algos/trainer.ts';
export { EVAL_COLUMNS, TRAIN_COLUMNS, runPaths } from '../algos/run-files.ts';
export type { Agent, AgentState, AlgorithmName } from '../algos/agent.ts';
export { SMFP_DEFAULTS, Smfp, SmfpConfigError, type SmfpConfig } from '../algos/smfp.ts';
export { SAC_DEFAULTS, Sac, SacConfigError, type SacConfig } from '../algos/sac.ts';
export { MEANFLOWQL_DEFAULTS, MeanFlowQl, MeanFlowQlConfigError, type ActionSelection, type MeanFlowQlConfig, type OfflineSchedule } from '../algos/meanflowql.ts';
export { INIT_SOURCES, initHyperFrom, initSacFromOffline, initSmfpFromOffline } from '../algos/offline-init.ts';
export { GAUSSIAN_BC_DEFAULTS, GaussianBc, MEANFLOW_BC_DEFAULTS, MeanFlowBc, type GaussianBcConfig, type MeanFlowBcConfig } from '../algos/bc.ts';
export { DEFAULT_CRITIC, type CriticConfig } from '../algos/critic.ts';
export { TASK_PRESETS, taskPreset, type TaskPreset } from '../algos/presets.ts';
export { writeLearningCurve } from '../algos/run-files.ts';
export {
  BACKEND_CHOICES,
  BackendUnavailableError,
  describeBackend,
  initBackend,
  type BackendChoice,
  type BackendInfo,
  type BackendPreference,
  type InitBackendOptions,
} from '../nn/backend.ts';
export { CheckpointError, loadCheckpoint, type Checkpoint, type CheckpointPolicyInfo } from '../nn/checkpoint.ts';
export { PolicyExportError, buildPolicySpec, exportCheckpointOnnx, exportPolicyOnnx, type PolicyExportInfo } from '../export/onnx.ts';
