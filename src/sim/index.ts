// The simulation side in one import: seeded MuJoCo environments (mujoco-js), the task registry and closed-loop
// evaluation. Plain typed arrays in and out; nothing here imports TF.js or ONNX Runtime.
//
//   const env = await MujocoEnv.make('arm_reach');       // or MujocoEnv.fromMjcf('robot.xml')
//   let obs = env.reset(seed);                            // Float32Array, names in env.observationSpec.names
//   const r = env.step(action);                           // action ∈ [-1, 1]^d → each actuator's ctrlrange
//   // r.obs, r.reward, r.terminated, r.truncated, r.info.success, r.info.mode — reused buffers: copy to keep
//   evaluate(env, (obs) => action, { episodes: 10, seed: 0 });  // returns, success rate, modes, steps/s
//   env.close();                                          // frees the MjData (and the MjModel with the last user)
export { MujocoEnv, SharedModel, type ActionSpec, type ObservationSpec, type StepInfo, type StepResult } from './env.ts';
export { evaluate, formatEvaluation, randomPolicy, scriptedPolicy, zeroPolicy, type EpisodeResult, type EvaluationOptions, type EvaluationResult } from './evaluate.ts';
export { ActionError, EnvUsageError, MjcfError, MujocoUnavailableError, UnknownTaskError } from './errors.ts';
export { TASKS, TASK_NAMES, getTask } from './tasks/index.ts';
export type { Policy, Sim, TaskLogic, TaskSpec } from './task.ts';
