/**
 * `onestep/sim`: MuJoCo (the official WebAssembly build, mujoco-js) environments with seeded resets, onestep's
 * tasks (`pendulum`, `reacher`, `arm_reach`, `arm_push`, `cheetah`, `two_way`) or your own MJCF, and closed-loop
 * evaluation. Plain typed arrays in and out; loads neither TensorFlow.js nor ONNX Runtime.
 *
 * @example
 * ```ts
 * import { MujocoEnv, evaluate, scriptedPolicy } from 'onestep/sim';
 * const env = await MujocoEnv.make('arm_reach');          // or MujocoEnv.fromMjcf('robot.xml')
 * const obs = env.reset(0);                                // names in env.observationSpec.names
 * const step = env.step(new Float32Array(env.actionSize)); // actions in [-1, 1]
 * console.log(evaluate(env, scriptedPolicy(env), { episodes: 5, seed: 0 }).returnMean);
 * env.close();
 * ```
 * @packageDocumentation
 */
export * from '../sim/index.ts';
