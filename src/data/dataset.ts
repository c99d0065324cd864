// An offline RL dataset in memory: flat row-major float32 arrays of transitions, the layout the readers (.npz,
// Minari) produce, `onestep collect` writes and the offline algorithms sample from. Keys follow D4RL / OGBench / FQL.

/**
 * An offline RL dataset in memory: flat row-major float32 arrays of transitions (the D4RL / OGBench / FQL layout), as
 * the readers produce and the offline trainers sample.
 */
export interface OfflineDataset {
  /** Where it came from (a file path), repeated in error messages. */
  readonly source: string;
  /** Transitions. */
  readonly size: number;
  readonly observationSize: number;
  readonly actionSize: number;
  /** size × observationSize */
  readonly observations: Float32Array;
  /** size × actionSize, in the policy's normalised action space [-1, 1]. */
  readonly actions: Float32Array;
  readonly rewards: Float32Array;
  /** size × observationSize */
  readonly nextObservations: Float32Array;
  /** 1 where the transition ends in a terminal state (no bootstrap), else 0. */
  readonly terminals: Float32Array;
  /** 1 − terminal: the bootstrap mask of the backup (FQL's `masks`). */
  readonly masks: Float32Array;
  /** 1 where an episode ends here for any reason (terminal or time limit); delimits trajectories. */
  readonly episodeEnds: Float32Array;
  /** Optional metadata carried by the file (task name, observation names), checked against the task when present. */
  readonly task?: string;
  readonly observationNames?: readonly string[];
  /** 1 where the task's success condition holds after the transition, when the file records it (an episode's success is its last row's). */
  readonly success?: Float32Array;
  /** Everything else the file's metadata says (how it was collected, per-episode modes, Minari's metadata.json), for reports. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}
