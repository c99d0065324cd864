// What the training loop keeps of the running episode: its transitions (for hindsight relabelling at the episode's
// end), and the per-feature observation statistics that normalise a policy's input.

/** The transitions of the running episode (for HER), in growable flat arrays. */
export class EpisodeRecord {
  length = 0;
  observations: Float32Array;
  nextObservations: Float32Array;
  actions: Float32Array;
  terminals: Uint8Array;

  constructor(
    private readonly o: number,
    private readonly d: number,
    private capacity = 256,
  ) {
    this.observations = new Float32Array(capacity * o);
    this.nextObservations = new Float32Array(capacity * o);
    this.actions = new Float32Array(capacity * d);
    this.terminals = new Uint8Array(capacity);
  }

  add(observation: Float32Array, action: Float32Array, next: Float32Array, terminal: boolean): void {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    this.observations.set(observation, i * this.o);
    this.nextObservations.set(next, i * this.o);
    this.actions.set(action, i * this.d);
    this.terminals[i] = terminal ? 1 : 0;
  }

  clear(): void {
    this.length = 0;
  }

  private grow(): void {
    this.capacity *= 2;
    const grown = <T extends Float32Array | Uint8Array>(a: T, width: number): T => {
      const b = new (a.constructor as new (n: number) => T)(this.capacity * width);
      b.set(a);
      return b;
    };
    this.observations = grown(this.observations, this.o);
    this.nextObservations = grown(this.nextObservations, this.o);
    this.actions = grown(this.actions, this.d);
    this.terminals = grown(this.terminals, 1);
  }
}

/** Per-feature mean and standard deviation of `count` rows (float64 sums); the policy floors tiny stds to 1. */
export function observationStatistics(rows: Float32Array, count: number, size: number): { mean: Float32Array; std: Float32Array } {
  const sum = new Float64Array(size);
  const sq = new Float64Array(size);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < size; k++) {
      const x = rows[i * size + k];
      sum[k] += x;
      sq[k] += x * x;
    }
  }
  const mean = new Float32Array(size);
  const std = new Float32Array(size);
  for (let k = 0; k < size; k++) {
    const m = sum[k] / count;
    mean[k] = m;
    std[k] = Math.sqrt(Math.max(sq[k] / count - m * m, 0));
  }
  return { mean, std };
}
