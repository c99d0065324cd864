// Observation assembly: the policy's observation vector is built from configured sources (topic + type + field
// mapping), each writing its own slice. The layout is checked against the model's metadata once, at start;
// after that, each message is validated into a per-source staging buffer and committed only when every value is
// present and finite, so a bad message never reaches the policy. Some entries are derived in the node instead of
// read from a topic: the difference of two sources (target − tip), its Euclidean norm, and the node's own last
// command (robot-learning observations carry the last action). Nothing here allocates per message.

export const OBSERVATION_TYPES = [
  'sensor_msgs/msg/JointState',
  'std_msgs/msg/Float32MultiArray',
  'std_msgs/msg/Float64MultiArray',
  'geometry_msgs/msg/PoseStamped',
  'geometry_msgs/msg/PointStamped',
  'onestep_msgs/msg/Observation',
] as const;
export type ObservationType = (typeof OBSERVATION_TYPES)[number];

/**
 * Where a source's values come from: `topic` (a subscription), or derived in the node just before each policy
 * step: `difference` (of: [a, b] → a − b, element-wise), `distance` (of: [a, b] → |a − b|, or of: [a] → |a|)
 * and `last_command` (the joint-position command the node last computed from the policy, see PolicyNode).
 */
export const SOURCE_KINDS = ['topic', 'difference', 'distance', 'last_command'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const JOINT_FIELDS = ['position', 'velocity', 'effort'] as const;
export type JointField = (typeof JOINT_FIELDS)[number];
export const POSE_FIELDS = ['position', 'orientation'] as const;

export interface SourceConfig {
  /** The source's name in the parameters (`observation.<name>.*`). */
  name: string;
  topic: string;
  type: ObservationType;
  /** JointState: position/velocity/effort (field-major: all positions, then all velocities…); PoseStamped: position/orientation. */
  fields: string[];
  /** JointState: joints in observation order, matched by name in each message. */
  jointNames: string[];
  /** Arrays: the number of values (0: whatever the model leaves for this source). */
  size: number;
  /** Arrays: optional names of the values, compared with the model's observation names. */
  names: string[];
  /** Default `topic`; the other kinds are computed in the node (no subscription). */
  kind?: SourceKind;
  /** difference / distance: the sources they are computed from (topic sources, by name). */
  of?: string[];
}

const kindOf = (c: SourceConfig): SourceKind => c.kind ?? 'topic';
export const isDerived = (c: SourceConfig): boolean => kindOf(c) !== 'topic';

/** The sources do not add up to what the model expects; names both sides. */
export class ObservationLayoutError extends Error {
  override name = 'ObservationLayoutError';
}

/** Why the last message of a source was dropped (codes so the hot path builds no strings). */
export enum DropReason {
  None = 0,
  MissingJoint,
  ShortArray,
  WrongSize,
  NonFinite,
  Malformed,
}

export function describeDrop(reason: DropReason, detail: string | number): string {
  switch (reason) {
    case DropReason.MissingJoint: return `joint "${detail}" missing from the message`;
    case DropReason.ShortArray: return `field "${detail}" has fewer values than names`;
    case DropReason.WrongSize: return `wrong size (${detail})`;
    case DropReason.NonFinite: return `non-finite value at ${detail}`;
    case DropReason.Malformed: return `malformed message (${detail})`;
    default: return 'ok';
  }
}

type Vec = ArrayLike<number>;

const FLOAT32_MAX = 3.4028234663852886e38;
/** Finite, and still finite once stored as float32 (the policy's input type): 1e40 is rejected like Infinity. */
function finite32(v: number): boolean {
  return v >= -FLOAT32_MAX && v <= FLOAT32_MAX;
}
interface Stamp { sec: number; nanosec: number }
interface JointStateMsg { header?: { stamp?: Stamp }; name: string[]; position: Vec; velocity: Vec; effort: Vec }
interface ArrayMsg { data: Vec; names?: string[]; header?: { stamp?: Stamp } }
interface PoseMsg { header?: { stamp?: Stamp }; pose: { position: { x: number; y: number; z: number }; orientation: { x: number; y: number; z: number; w: number } } }
interface PointMsg { header?: { stamp?: Stamp }; point: { x: number; y: number; z: number } }

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

interface SourceLayout {
  config: SourceConfig;
  offset: number;
  width: number;
  names: (string | undefined)[];
  /** difference / distance: the indices of the sources in `of`. */
  operands: number[];
}

/** Per-source state that the node reads (stamps, counters). */
export class SourceState {
  received = 0;
  dropped = 0;
  lastDrop: DropReason = DropReason.None;
  lastDropDetail: string | number = '';
  /** header.stamp of the last accepted message (0/0 when the type has none). */
  stampSec = 0;
  stampNanosec = 0;
  /** Local receive time of the last accepted message, performance.now() ms. */
  receivedAtMs = -Infinity;
  readonly staging: Float64Array;
  /** The values of the last accepted message in full precision (derived entries are computed from these). */
  readonly value: Float64Array;
  readonly joints: JointStateReader | null;
  readonly derived: boolean;

  constructor(readonly layout: SourceLayout) {
    this.staging = new Float64Array(layout.width);
    this.value = new Float64Array(layout.width);
    this.derived = isDerived(layout.config);
    this.joints = !this.derived && layout.config.type === 'sensor_msgs/msg/JointState' ? new JointStateReader(layout.config.jointNames) : null;
  }

  get name(): string {
    return this.layout.config.name;
  }
}

/**
 * The names a source contributes, in order (undefined where it has no meaningful name). The convention is the
 * one the sim tasks use: `<joint>_position`, `<source>_x`, quaternions `<source>_qx … _qw`.
 */
export function sourceNames(c: SourceConfig, width: number): (string | undefined)[] {
  switch (kindOf(c)) {
    case 'difference':
      return width === 3 ? ['x', 'y', 'z'].map((a) => `${c.name}_${a}`) : Array.from({ length: width }, (_, k) => `${c.name}_${k}`);
    case 'distance':
      return [c.name];
    case 'last_command':
      return c.jointNames.map((j) => `${j}_command`);
    default:
  }
  switch (c.type) {
    case 'sensor_msgs/msg/JointState':
      return c.fields.flatMap((f) => c.jointNames.map((j) => `${j}_${f}`));
    case 'geometry_msgs/msg/PoseStamped':
      return c.fields.flatMap((f) =>
        f === 'position' ? ['x', 'y', 'z'].map((a) => `${c.name}_${a}`) : ['qx', 'qy', 'qz', 'qw'].map((a) => `${c.name}_${a}`),
      );
    case 'geometry_msgs/msg/PointStamped':
      return ['x', 'y', 'z'].map((a) => `${c.name}_${a}`);
    default:
      return c.names.length > 0 ? [...c.names] : new Array<string | undefined>(width).fill(undefined);
  }
}

function fixedWidth(c: SourceConfig): number | undefined {
  switch (kindOf(c)) {
    case 'difference': return undefined; // the operands' width, filled in by layoutSources
    case 'distance': return 1;
    case 'last_command': return c.jointNames.length;
    default:
  }
  switch (c.type) {
    case 'sensor_msgs/msg/JointState': return c.fields.length * c.jointNames.length;
    case 'geometry_msgs/msg/PoseStamped': return c.fields.reduce((s, f) => s + (f === 'position' ? 3 : 4), 0);
    case 'geometry_msgs/msg/PointStamped': return 3;
    default: return c.size > 0 ? c.size : c.names.length > 0 ? c.names.length : undefined;
  }
}

/** Checks each source's own configuration (fields, joint names) and returns a message naming the parameter. */
export function validateSource(c: SourceConfig): void {
  const p = `observation.${c.name}`;
  const kind = kindOf(c);
  const of = c.of ?? [];
  if (kind === 'difference' || kind === 'distance') {
    const want = kind === 'difference' ? 'two sources [a, b] (a − b)' : 'one or two sources ([a]: |a|, [a, b]: |a − b|)';
    if (of.length < (kind === 'difference' ? 2 : 1) || of.length > 2) throw new ObservationLayoutError(`${p}.of has ${of.length} entries: a ${kind} source takes ${want}`);
    return;
  }
  if (of.length > 0) throw new ObservationLayoutError(`${p}.of is set, but only difference and distance sources take operands (kind is ${kind})`);
  if (kind === 'last_command') {
    if (c.jointNames.length === 0) throw new ObservationLayoutError(`${p}.joint_names is empty: name the commanded joints`);
    if (new Set(c.jointNames).size !== c.jointNames.length) throw new ObservationLayoutError(`${p}.joint_names repeats a joint`);
    return;
  }
  if (c.type === 'sensor_msgs/msg/JointState') {
    if (c.jointNames.length === 0) throw new ObservationLayoutError(`${p}.joint_names is empty: name the joints to read from ${c.topic}`);
    if (new Set(c.jointNames).size !== c.jointNames.length) throw new ObservationLayoutError(`${p}.joint_names repeats a joint`);
    if (c.fields.length === 0) throw new ObservationLayoutError(`${p}.fields is empty (expected some of ${JOINT_FIELDS.join(', ')})`);
    for (const f of c.fields) {
      if (!(JOINT_FIELDS as readonly string[]).includes(f)) throw new ObservationLayoutError(`${p}.fields has "${f}", expected some of ${JOINT_FIELDS.join(', ')}`);
    }
  } else if (c.type === 'geometry_msgs/msg/PoseStamped') {
    if (c.fields.length === 0) throw new ObservationLayoutError(`${p}.fields is empty (expected some of ${POSE_FIELDS.join(', ')})`);
    for (const f of c.fields) {
      if (!(POSE_FIELDS as readonly string[]).includes(f)) throw new ObservationLayoutError(`${p}.fields has "${f}", expected some of ${POSE_FIELDS.join(', ')}`);
    }
  } else if (c.names.length > 0 && c.size > 0 && c.names.length !== c.size) {
    throw new ObservationLayoutError(`${p}.names has ${c.names.length} entries but ${p}.size is ${c.size}`);
  }
}

/** Where a source's values come from, for messages: "sensor_msgs/msg/JointState on /joint_states", "target − ee". */
export function describeOrigin(c: SourceConfig): string {
  const of = c.of ?? [];
  switch (kindOf(c)) {
    case 'difference': return `${of[0]} − ${of[1]} (derived)`;
    case 'distance': return of.length === 1 ? `|${of[0]}| (derived)` : `|${of[0]} − ${of[1]}| (derived)`;
    case 'last_command': return 'the node\'s last command (derived)';
    default: return `${c.type} on ${c.topic}`;
  }
}

/**
 * Lays the sources out against the model's observation (size and, where both sides name a value, names).
 * At most one array source may leave its size open; it takes what the model has left.
 */
export function layoutSources(
  sources: readonly SourceConfig[],
  model: { names: readonly string[]; size: number; source: string },
  checkNames = true,
): SourceLayout[] {
  if (sources.length === 0) throw new ObservationLayoutError('observation.sources is empty: configure at least one observation source');
  sources.forEach(validateSource);
  if (sources.every(isDerived)) throw new ObservationLayoutError('every observation source is derived: at least one must read a topic');
  const widths = sources.map(fixedWidth);
  // Operands: topic sources of a fixed width, the same width for both sides of a difference.
  const operands = sources.map((c) => (c.of ?? []).map((name) => {
    const p = `observation.${c.name}.of`;
    const k = sources.findIndex((s) => s.name === name);
    if (k < 0) throw new ObservationLayoutError(`${p} names "${name}", which is not in observation.sources (${sources.map((s) => s.name).join(', ')})`);
    if (isDerived(sources[k])) throw new ObservationLayoutError(`${p} names "${name}", a derived source: operands must be topic sources`);
    if (widths[k] === undefined) throw new ObservationLayoutError(`${p} names "${name}", whose size is open: set observation.${name}.size`);
    return k;
  }));
  sources.forEach((c, i) => {
    const ops = operands[i];
    if (ops.length === 2 && widths[ops[0]] !== widths[ops[1]]) {
      throw new ObservationLayoutError(`observation.${c.name}.of: "${sources[ops[0]].name}" has ${widths[ops[0]]} values, "${sources[ops[1]].name}" ${widths[ops[1]]}: they must match`);
    }
    if (kindOf(c) === 'difference') widths[i] = widths[ops[0]];
  });
  const open = widths.filter((w) => w === undefined).length;
  if (open > 1) {
    const names = sources.filter((_, i) => widths[i] === undefined).map((s) => `observation.${s.name}.size`);
    throw new ObservationLayoutError(`only one array source may leave its size open; set ${names.join(', ')}`);
  }
  const known = widths.reduce<number>((s, w) => s + (w ?? 0), 0);
  const describe = () =>
    sources.map((s, i) => `${s.name} (${describeOrigin(s)}: ${widths[i] ?? 'open'})`).join(' + ');
  if (open === 1) {
    const rest = model.size - known;
    if (rest <= 0) {
      throw new ObservationLayoutError(
        `observation size mismatch: the model ${model.source} expects ${model.size} values, the sources already give ${known} without the open-sized one: ${describe()}`,
      );
    }
    widths[widths.indexOf(undefined)] = rest;
  } else if (known !== model.size) {
    throw new ObservationLayoutError(
      `observation size mismatch: the model ${model.source} expects ${model.size} values [${model.names.join(', ')}], the configured sources give ${known}: ${describe()}`,
    );
  }
  const layouts: SourceLayout[] = [];
  let offset = 0;
  sources.forEach((config, i) => {
    const width = widths[i] as number;
    layouts.push({ config, offset, width, names: sourceNames(config, width), operands: operands[i] });
    offset += width;
  });
  if (checkNames && model.names.length === model.size) {
    const diffs: string[] = [];
    for (const l of layouts) {
      for (let k = 0; k < l.width; k++) {
        const mine = l.names[k];
        const theirs = model.names[l.offset + k];
        if (mine !== undefined && mine !== theirs) diffs.push(`[${l.offset + k}] model "${theirs}" vs source ${l.config.name} "${mine}"`);
      }
    }
    if (diffs.length > 0) {
      throw new ObservationLayoutError(
        `observation names do not match the model ${model.source}: ${diffs.slice(0, 6).join('; ')}${diffs.length > 6 ? `; … ${diffs.length - 6} more` : ''}` +
          ' (fix the sources, or set observation.check_names: false to match by position only)',
      );
    }
  }
  return layouts;
}

/**
 * The observation vector and its sources. `accept(i, msg)` validates one decoded message into source i's
 * staging buffer and, when it is whole and finite, commits it into `vector`.
 */
export class ObservationAssembler {
  readonly vector: Float32Array;
  readonly sources: SourceState[];
  /** Whether a last_command source is configured (the node then keeps its last command for it). */
  readonly usesCommand: boolean;
  /** Per last_command source: for each of its joints, the index into the command vector `derive()` is given. */
  private readonly commandIndex: Int32Array[];

  /**
   * `commandNames` are the joints of the command vector passed to `derive()` (the node's output order); every
   * last_command joint must be one of them.
   */
  constructor(layouts: readonly SourceLayout[], size: number, commandNames: readonly string[] = []) {
    this.vector = new Float32Array(size);
    this.sources = layouts.map((l) => new SourceState(l));
    this.commandIndex = layouts.map((l) => {
      if (kindOf(l.config) !== 'last_command') return new Int32Array(0);
      return Int32Array.from(l.config.jointNames, (j) => {
        const k = commandNames.indexOf(j);
        if (k < 0) {
          throw new ObservationLayoutError(
            `observation.${l.config.name}.joint_names has "${j}", which the node does not command (commanded joints: ${commandNames.join(', ') || 'none'})`,
          );
        }
        return k;
      });
    });
    this.usesCommand = layouts.some((l) => kindOf(l.config) === 'last_command');
  }

  /** Every topic source has delivered at least one valid message. */
  get ready(): boolean {
    for (const s of this.sources) if (!s.derived && s.received === 0) return false;
    return true;
  }

  /**
   * Computes the derived entries into `vector` from the last accepted values (full precision, so target − tip is
   * the double difference rounded once) and from `command` (the node's last command, output order; may be null
   * when no last_command source is configured). Allocates nothing.
   */
  derive(command: Float64Array | null): void {
    const v = this.vector;
    for (let i = 0; i < this.sources.length; i++) {
      const s = this.sources[i];
      if (!s.derived) continue;
      const { offset, width, operands } = s.layout;
      const kind = s.layout.config.kind;
      if (kind === 'last_command') {
        const index = this.commandIndex[i];
        for (let k = 0; k < width; k++) v[offset + k] = (command as Float64Array)[index[k]];
        continue;
      }
      const a = this.sources[operands[0]].value;
      const b = operands.length > 1 ? this.sources[operands[1]].value : null;
      if (kind === 'difference') {
        for (let k = 0; k < width; k++) v[offset + k] = a[k] - (b as Float64Array)[k];
      } else if (b === null) {
        v[offset] = a.length === 3 ? Math.hypot(a[0], a[1], a[2]) : norm(a, null);
      } else {
        v[offset] = a.length === 3 ? Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) : norm(a, b);
      }
    }
  }

  /**
   * Validates and commits; on failure counts the drop on the source and returns false. The caller sets the
   * source's `receivedAtMs` (kept out of the arguments: a double argument to a call that is not inlined is boxed).
   */
  accept(index: number, message: unknown): boolean {
    const s = this.sources[index];
    const ok = this.stage(s, message);
    if (!ok) {
      s.dropped++;
      return false;
    }
    const { offset, width } = s.layout;
    for (let k = 0; k < width; k++) this.vector[offset + k] = s.staging[k];
    s.value.set(s.staging);
    const stamp = (message as { header?: { stamp?: Stamp } }).header?.stamp;
    if (stamp !== undefined) {
      s.stampSec = stamp.sec;
      s.stampNanosec = stamp.nanosec;
    }
    s.received++;
    return true;
  }

  private drop(s: SourceState, reason: DropReason, detail: string | number): false {
    s.lastDrop = reason;
    s.lastDropDetail = detail;
    return false;
  }

  private stage(s: SourceState, message: unknown): boolean {
    const c = s.layout.config;
    const out = s.staging;
    if (message === null || typeof message !== 'object') return this.drop(s, DropReason.Malformed, 'not an object');
    switch (c.type) {
      case 'sensor_msgs/msg/JointState': {
        const m = message as JointStateMsg;
        const joints = s.joints as JointStateReader;
        if (!Array.isArray(m.name)) return this.drop(s, DropReason.Malformed, 'no name list');
        if (!joints.map(m.name)) return this.drop(s, DropReason.MissingJoint, joints.missing);
        const n = c.jointNames.length;
        for (let f = 0; f < c.fields.length; f++) {
          const field = c.fields[f] as JointField;
          const values = m[field];
          if (values === undefined || values.length < m.name.length) return this.drop(s, DropReason.ShortArray, field);
          if (!joints.read(values, out, f * n)) return this.drop(s, DropReason.NonFinite, field);
        }
        return true;
      }
      case 'geometry_msgs/msg/PoseStamped': {
        const p = (message as PoseMsg).pose;
        if (!p?.position || !p.orientation) return this.drop(s, DropReason.Malformed, 'no pose');
        let k = 0;
        for (const f of c.fields) {
          if (f === 'position') {
            out[k++] = p.position.x; out[k++] = p.position.y; out[k++] = p.position.z;
          } else {
            out[k++] = p.orientation.x; out[k++] = p.orientation.y; out[k++] = p.orientation.z; out[k++] = p.orientation.w;
          }
        }
        return this.checkFinite(s, k);
      }
      case 'geometry_msgs/msg/PointStamped': {
        const p = (message as PointMsg).point;
        if (!p) return this.drop(s, DropReason.Malformed, 'no point');
        out[0] = p.x; out[1] = p.y; out[2] = p.z;
        return this.checkFinite(s, 3);
      }
      default: {
        const m = message as ArrayMsg;
        const data = m.data;
        if (data === undefined || typeof data.length !== 'number') return this.drop(s, DropReason.Malformed, 'no data');
        const width = s.layout.width;
        if (data.length !== width) return this.drop(s, DropReason.WrongSize, data.length);
        // onestep_msgs/Observation may carry names; when present they must be the expected ones, in order.
        if (m.names !== undefined && m.names.length > 0) {
          if (m.names.length !== width) return this.drop(s, DropReason.WrongSize, `${m.names.length} names`);
          for (let k = 0; k < width; k++) {
            const want = s.layout.names[k];
            if (want !== undefined && m.names[k] !== want) return this.drop(s, DropReason.Malformed, `name ${k}`);
          }
        }
        for (let k = 0; k < width; k++) out[k] = data[k];
        return this.checkFinite(s, width);
      }
    }
  }

  private checkFinite(s: SourceState, n: number): boolean {
    const out = s.staging;
    for (let k = 0; k < n; k++) if (!finite32(out[k])) return this.drop(s, DropReason.NonFinite, k);
    return true;
  }
}

/** |a − b| (or |a|), for widths other than 3. */
function norm(a: Float64Array, b: Float64Array | null): number {
  let sum = 0;
  for (let k = 0; k < a.length; k++) {
    const d = b === null ? a[k] : a[k] - b[k];
    sum += d * d;
  }
  return Math.sqrt(sum);
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
