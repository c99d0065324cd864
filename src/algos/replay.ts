// Replay buffer: a typed-array ring of (observation, action, reward, next observation, mask) transitions.
// Sampling is seeded and writes into a preallocated batch (no allocation per update); the buffer saves to and
// loads from one binary file so that `--resume` continues with exactly the same data.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import type { Rng } from '../core/rng.ts';

export class ReplayError extends Error {
  override name = 'ReplayError';
}

/** A sampled minibatch; the arrays are owned by the buffer's sampler and overwritten by the next sample. */
export interface Batch {
  size: number;
  observation: Float32Array; // [size, observationSize]
  action: Float32Array; // [size, actionSize]
  reward: Float32Array; // [size]
  nextObservation: Float32Array; // [size, observationSize]
  mask: Float32Array; // [size]: 1 − terminated (a time-limit truncation keeps the bootstrap)
}

/** A zero-filled batch of `size` transitions (samplers fill it in place). */
export function emptyBatch(size: number, observationSize: number, actionSize: number): Batch {
  return {
    size,
    observation: new Float32Array(size * observationSize),
    action: new Float32Array(size * actionSize),
    reward: new Float32Array(size),
    nextObservation: new Float32Array(size * observationSize),
    mask: new Float32Array(size),
  };
}

const MAGIC = 'onestep-replay';
const VERSION = 1;

export class ReplayBuffer {
  readonly observation: Float32Array;
  readonly action: Float32Array;
  readonly reward: Float32Array;
  readonly nextObservation: Float32Array;
  readonly mask: Float32Array;
  /** Index of the next write. */
  private head = 0;
  /** Number of stored transitions (≤ capacity). */
  size = 0;
  private batch: Batch | null = null;

  constructor(
    readonly capacity: number,
    readonly observationSize: number,
    readonly actionSize: number,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new ReplayError(`replay capacity must be a positive integer, got ${capacity}`);
    this.observation = new Float32Array(capacity * observationSize);
    this.action = new Float32Array(capacity * actionSize);
    this.reward = new Float32Array(capacity);
    this.nextObservation = new Float32Array(capacity * observationSize);
    this.mask = new Float32Array(capacity);
  }

  add(observation: ArrayLike<number>, action: ArrayLike<number>, reward: number, nextObservation: ArrayLike<number>, terminated: boolean): void {
    const o = this.observationSize;
    const a = this.actionSize;
    if (observation.length !== o || nextObservation.length !== o) {
      throw new ReplayError(`replay: observation has ${observation.length === o ? nextObservation.length : observation.length} values, expected ${o}`);
    }
    if (action.length !== a) throw new ReplayError(`replay: action has ${action.length} values, expected ${a}`);
    if (!Number.isFinite(reward)) throw new ReplayError(`replay: reward is ${reward}, expected a finite number`);
    const i = this.head;
    for (let k = 0; k < o; k++) {
      this.observation[i * o + k] = observation[k];
      this.nextObservation[i * o + k] = nextObservation[k];
    }
    for (let k = 0; k < a; k++) this.action[i * a + k] = action[k];
    this.reward[i] = reward;
    this.mask[i] = terminated ? 0 : 1;
    this.head = (i + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Uniformly samples `size` transitions (with replacement) into a reused batch. */
  sample(size: number, rng: Rng): Batch {
    if (this.size === 0) throw new ReplayError('replay: cannot sample from an empty buffer');
    const o = this.observationSize;
    const a = this.actionSize;
    let b = this.batch;
    if (b === null || b.size !== size) b = this.batch = emptyBatch(size, o, a);
    this.sampleInto(b, 0, size, rng);
    return b;
  }

  /** Uniformly samples `count` transitions into rows [offset, offset + count) of `batch` (e.g. half of a balanced batch). */
  sampleInto(batch: Batch, offset: number, count: number, rng: Rng): void {
    if (this.size === 0) throw new ReplayError('replay: cannot sample from an empty buffer');
    if (offset + count > batch.size) throw new ReplayError(`replay: rows ${offset}..${offset + count} do not fit a batch of ${batch.size}`);
    const o = this.observationSize;
    const a = this.actionSize;
    for (let j = offset; j < offset + count; j++) {
      const i = rng.int(this.size);
      batch.observation.set(this.observation.subarray(i * o, i * o + o), j * o);
      batch.nextObservation.set(this.nextObservation.subarray(i * o, i * o + o), j * o);
      batch.action.set(this.action.subarray(i * a, i * a + a), j * a);
      batch.reward[j] = this.reward[i];
      batch.mask[j] = this.mask[i];
    }
  }

  /**
   * Appends `count` transitions given as flat row-major arrays (an offline dataset), as `add` would one by one;
   * `masks` is the bootstrap mask (1 − terminal).
   */
  addMany(observations: Float32Array, actions: Float32Array, rewards: Float32Array, nextObservations: Float32Array, masks: Float32Array, count: number): void {
    const o = this.observationSize;
    const a = this.actionSize;
    if (observations.length < count * o || nextObservations.length < count * o || actions.length < count * a || rewards.length < count || masks.length < count) {
      throw new ReplayError(`replay: addMany needs ${count} rows of ${o} observation and ${a} action values`);
    }
    for (let k = 0; k < count; k++) {
      const i = this.head;
      this.observation.set(observations.subarray(k * o, k * o + o), i * o);
      this.nextObservation.set(nextObservations.subarray(k * o, k * o + o), i * o);
      this.action.set(actions.subarray(k * a, k * a + a), i * a);
      this.reward[i] = rewards[k];
      this.mask[i] = masks[k];
      this.head = (i + 1) % this.capacity;
      if (this.size < this.capacity) this.size++;
    }
  }

  /**
   * A copy with room for `capacity` transitions (a resumed run that was extended). Transitions keep their slots
   * when the ring never wrapped, so sampling continues exactly as in a run that had the larger buffer from the start.
   */
  grow(capacity: number): ReplayBuffer {
    if (capacity < this.capacity) throw new ReplayError(`replay: cannot shrink from ${this.capacity} to ${capacity} transitions`);
    const out = new ReplayBuffer(capacity, this.observationSize, this.actionSize);
    // Oldest first, so a wrapped ring becomes contiguous.
    const start = this.size < this.capacity ? 0 : this.head;
    const o = this.observationSize;
    const a = this.actionSize;
    for (let k = 0; k < this.size; k++) {
      const i = (start + k) % this.capacity;
      out.observation.set(this.observation.subarray(i * o, i * o + o), k * o);
      out.nextObservation.set(this.nextObservation.subarray(i * o, i * o + o), k * o);
      out.action.set(this.action.subarray(i * a, i * a + a), k * a);
      out.reward[k] = this.reward[i];
      out.mask[k] = this.mask[i];
    }
    out.size = this.size;
    out.head = this.size % capacity;
    return out;
  }

  /** Writes the buffer to `path` atomically (a JSON header line, then the raw float32 arrays). */
  save(path: string): void {
    const n = this.size;
    const o = this.observationSize;
    const a = this.actionSize;
    const header = JSON.stringify({ magic: MAGIC, version: VERSION, capacity: this.capacity, observationSize: o, actionSize: a, size: n, head: this.head });
    const parts = [
      this.observation.subarray(0, n * o),
      this.action.subarray(0, n * a),
      this.reward.subarray(0, n),
      this.nextObservation.subarray(0, n * o),
      this.mask.subarray(0, n),
    ];
    const headerBytes = Buffer.from(header + '\n', 'utf8');
    // Pad the header so the float arrays start 4-byte aligned.
    const pad = (4 - (headerBytes.length % 4)) % 4;
    const bodyBytes = parts.reduce((s, p) => s + p.byteLength, 0);
    const out = Buffer.alloc(headerBytes.length + pad + bodyBytes, 0x20);
    headerBytes.copy(out, 0);
    let off = headerBytes.length + pad;
    for (const p of parts) {
      Buffer.from(p.buffer, p.byteOffset, p.byteLength).copy(out, off);
      off += p.byteLength;
    }
    writeFileSync(path + '.tmp', out);
    renameSync(path + '.tmp', path);
  }

  static load(path: string): ReplayBuffer {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new ReplayError(`replay: cannot read ${path}: ${(err as Error).message}`);
    }
    const nl = bytes.indexOf(0x0a);
    let h: { magic: string; version: number; capacity: number; observationSize: number; actionSize: number; size: number; head: number };
    try {
      h = JSON.parse(bytes.subarray(0, nl).toString('utf8'));
    } catch {
      throw new ReplayError(`replay: ${path} is not an onestep replay file (bad header)`);
    }
    if (h.magic !== MAGIC || h.version !== VERSION) throw new ReplayError(`replay: ${path} is not an onestep replay file of version ${VERSION}`);
    const buf = new ReplayBuffer(h.capacity, h.observationSize, h.actionSize);
    const n = h.size;
    const o = h.observationSize;
    const a = h.actionSize;
    let off = nl + 1;
    off += (4 - (off % 4)) % 4;
    const expected = off + 4 * n * (2 * o + a + 2);
    if (bytes.length !== expected) throw new ReplayError(`replay: ${path} has ${bytes.length} bytes, expected ${expected} (truncated or corrupt)`);
    const take = (dst: Float32Array, count: number) => {
      dst.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset + off, bytes.byteOffset + off + 4 * count)));
      off += 4 * count;
    };
    take(buf.observation, n * o);
    take(buf.action, n * a);
    take(buf.reward, n);
    take(buf.nextObservation, n * o);
    take(buf.mask, n);
    buf.size = n;
    buf.head = h.head;
    return buf;
  }
}
