// Observation assembly, per message: the policy's observation vector is built from the configured sources (see
// observation-layout.ts for their configuration and layout, checked against the model's metadata once, at start),
// each writing its own slice. Each message is validated into a per-source staging buffer and committed only when
// every value is present and finite, so a bad message never reaches the policy. Derived entries (target − tip, its
// norm, the node's own last command) are computed just before each policy step. Nothing here allocates per message.
// The layout and joint-state names are re-exported: the node, the CLI and the ROS training env import the
// observation side from here.
import { type JointField, type SourceLayout, ObservationLayoutError, isDerived, kindOf } from './observation-layout.ts';
import { type JointStateMsg, JointStateReader, type Vec, finite32 } from './joint-state.ts';

export {
  OBSERVATION_TYPES,
  ObservationLayoutError,
  SOURCE_KINDS,
  describeOrigin,
  isDerived,
  layoutSources,
  type ObservationType,
  type SourceConfig,
  type SourceKind,
} from './observation-layout.ts';
export { JointStateTracker } from './joint-state.ts';

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

interface Stamp { sec: number; nanosec: number }
interface ArrayMsg { data: Vec; names?: string[]; header?: { stamp?: Stamp } }
interface PoseMsg { header?: { stamp?: Stamp }; pose: { position: { x: number; y: number; z: number }; orientation: { x: number; y: number; z: number; w: number } } }
interface PointMsg { header?: { stamp?: Stamp }; point: { x: number; y: number; z: number } }

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
