// sensor_msgs/JointState read by joint name, whatever order the publisher uses, without allocating per message:
// the reader behind JointState observation sources, and the tracker of the measured joint state the node's
// safety and blend-in use. Values must be finite as float32 (the policy's input type).

const FLOAT32_MAX = 3.4028234663852886e38;
/** Finite, and still finite once stored as float32 (the policy's input type): 1e40 is rejected like Infinity. */
export function finite32(v: number): boolean {
  return v >= -FLOAT32_MAX && v <= FLOAT32_MAX;
}

/** A sequence of numbers as a decoded message holds it (a typed array or an array). */
export type Vec = ArrayLike<number>;
export interface JointStateMsg { header?: { stamp?: { sec: number; nanosec: number } }; name: string[]; position: Vec; velocity: Vec; effort: Vec }

/**
 * Reads named joints out of sensor_msgs/JointState, whatever order the publisher uses (joint_state_broadcaster
 * does not guarantee one). The name → index permutation is cached and re-checked per message without allocating.
 */
export class JointStateReader {
  private readonly perm: Int32Array;
  private valid = false;
  missing = '';

  constructor(readonly jointNames: readonly string[]) {
    this.perm = new Int32Array(jointNames.length);
  }

  /** Resolves the permutation for this message's name list; false when a joint is absent (see `missing`). */
  map(names: readonly string[]): boolean {
    const n = this.jointNames.length;
    if (this.valid) {
      let same = true;
      for (let j = 0; j < n; j++) {
        const k = this.perm[j];
        if (k >= names.length || names[k] !== this.jointNames[j]) { same = false; break; }
      }
      if (same) return true;
    }
    this.valid = false;
    for (let j = 0; j < n; j++) {
      const k = names.indexOf(this.jointNames[j]);
      if (k < 0) { this.missing = this.jointNames[j]; return false; }
      this.perm[j] = k;
    }
    this.valid = true;
    return true;
  }

  /** Copies one field for the mapped joints into out[at..]; false if the field is too short or non-finite. */
  read(values: Vec, out: Float64Array, at: number): boolean {
    const n = this.jointNames.length;
    for (let j = 0; j < n; j++) {
      const k = this.perm[j];
      if (k >= values.length) return false;
      const v = values[k];
      if (!finite32(v)) return false;
      out[at + j] = v;
    }
    return true;
  }
}

/**
 * The robot's measured joint state in the action's joint order, from one JointState source: needed for
 * blend-in, delta actions and damping. Updated only from messages the assembler accepted.
 */
export class JointStateTracker {
  readonly position: Float64Array;
  readonly velocity: Float64Array;
  hasPosition = false;
  hasVelocity = false;
  private readonly reader: JointStateReader;

  constructor(readonly jointNames: readonly string[]) {
    this.position = new Float64Array(jointNames.length);
    this.velocity = new Float64Array(jointNames.length);
    this.reader = new JointStateReader(jointNames);
  }

  update(message: unknown): void {
    const m = message as JointStateMsg;
    if (!Array.isArray(m?.name) || !this.reader.map(m.name)) return;
    if (m.position && m.position.length >= m.name.length && this.reader.read(m.position, this.position, 0)) this.hasPosition = true;
    if (m.velocity && m.velocity.length >= m.name.length && this.reader.read(m.velocity, this.velocity, 0)) this.hasVelocity = true;
  }
}
