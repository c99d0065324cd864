// Typed errors of the simulation side. Each names what was wrong and what was expected, so the CLI can print
// it as one line and a training loop can catch it by class.

/** An MJCF file that cannot be read or that MuJoCo rejects; `detail` is MuJoCo's own message where it gives one. */
export class MjcfError extends Error {
  override name = 'MjcfError';
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`cannot load MJCF ${file}: ${detail}`);
  }
}

/** A task name that is not registered. */
export class UnknownTaskError extends Error {
  override name = 'UnknownTaskError';
  constructor(
    readonly task: string,
    readonly known: readonly string[],
  ) {
    super(`unknown task '${task}'; known tasks: ${known.join(', ')}`);
  }
}

/** An action of the wrong length or with a non-finite entry. Raised before the simulation state is touched. */
export class ActionError extends Error {
  override name = 'ActionError';
  constructor(message: string) {
    super(message);
  }
}

/** Using an environment the wrong way: stepping before reset or after close, bad options. */
export class EnvUsageError extends Error {
  override name = 'EnvUsageError';
  constructor(message: string) {
    super(message);
  }
}

/**
 * MuJoCo (the mujoco-js WebAssembly build) cannot be loaded here: the package is missing or its wasm fails to
 * compile or start. The message names it and the reason, in one line.
 */
export class MujocoUnavailableError extends Error {
  override name = 'MujocoUnavailableError';
  constructor(readonly reason: string) {
    super(`MuJoCo (mujoco-js WebAssembly) could not be loaded: ${reason}; the simulator needs the mujoco-js package onestep depends on (reinstall onestep's dependencies) and WebAssembly`);
  }
}
