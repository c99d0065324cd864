/**
 * `onestep`: run an exported onestep policy in your own Node program. {@link PolicyRuntime} loads an ONNX file
 * written by `onestep export` / `onestep train` and answers one observation with one action, synchronously, on
 * ONNX Runtime; {@link readModelSpec} reads what the model expects (names, sizes, normalisation, action mode,
 * scale and limits) without starting ONNX Runtime.
 *
 * This entry loads neither TensorFlow.js nor MuJoCo, and not even ONNX Runtime until a model is loaded.
 * The ROS 2 side is `onestep/ros`, simulation `onestep/sim`, datasets `onestep/data`, training `onestep/train`.
 *
 * @example
 * ```ts
 * import { PolicyRuntime } from 'onestep';
 * const policy = await PolicyRuntime.load('policy.onnx', { deterministic: true });
 * const action = policy.act(observation); // Float32Array, names in policy.spec.action.names
 * policy.close();
 * ```
 * @packageDocumentation
 */
export { PolicyRuntime, readModelSpec, type PolicyRuntimeOptions } from '../runtime/policy-runtime.ts';
export {
  ModelLoadError,
  NonFiniteActionError,
  NonFiniteObservationError,
  ObservationSizeError,
  OnnxRuntimeUnavailableError,
} from '../runtime/errors.ts';
export { LatencyRecorder, summarize, type LatencySummary } from '../core/latency.ts';
export {
  ACTION_MODES,
  ACTION_SQUASHES,
  POLICY_ALGORITHMS,
  POLICY_KINDS,
  POLICY_SPEC_FORMAT_VERSION,
  PolicySpecError,
  SPEC_METADATA_KEY,
  parsePolicySpec,
  type ActionMode,
  type ActionSquash,
  type NoisePart,
  type PolicyAlgorithm,
  type PolicyKind,
  type PolicySpec,
} from '../format/spec.ts';
