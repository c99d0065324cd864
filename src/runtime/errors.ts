// Typed errors of the policy runtime. Each message names what was wrong and what was expected, in one line,
// so the CLI and the serve node can show it as is.

/**
 * A policy file that cannot be used: missing, not an ONNX model, no or invalid `onestep.spec`, a graph that disagrees
 * with its spec or that ONNX Runtime rejects. The message names the file and the reason.
 */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`cannot load policy model ${path}: ${detail}`);
  }
}

/** An observation of the wrong length was passed to `act`; nothing was run. */
export class ObservationSizeError extends Error {
  override name = 'ObservationSizeError';
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`observation has ${actual} values, expected ${expected}`);
  }
}

/** An observation entry is NaN or infinite (after conversion to float32); nothing was run. Names the entry. */
export class NonFiniteObservationError extends Error {
  override name = 'NonFiniteObservationError';
  constructor(
    readonly index: number,
    readonly value: number,
    readonly fieldName?: string,
  ) {
    super(`observation[${index}]${fieldName ? ` (${fieldName})` : ''} is ${value}, expected a finite number`);
  }
}

/**
 * The policy produced a NaN or infinite action entry; `act` refuses to return it (its buffer keeps the last good
 * action).
 */
export class NonFiniteActionError extends Error {
  override name = 'NonFiniteActionError';
  constructor(
    readonly index: number,
    readonly value: number,
    readonly fieldName?: string,
  ) {
    super(`policy produced action[${index}]${fieldName ? ` (${fieldName})` : ''} = ${value}; refusing to return a non-finite action`);
  }
}

/**
 * A native part of ONNX Runtime this machine lacks: the onnxruntime-node package or its addon, or the synchronous
 * binding `PolicyRuntime.act` runs on. The message names the part and what to do, in one line.
 */
export class OnnxRuntimeUnavailableError extends Error {
  override name = 'OnnxRuntimeUnavailableError';
  constructor(
    readonly part: 'onnxruntime-node' | 'synchronous binding',
    message: string,
  ) {
    super(message);
  }
}
