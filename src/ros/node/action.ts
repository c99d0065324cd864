// Action output: the policy's action (policy joint order, physical units) becomes a joint command in the output's
// joint order (user scale/offset, absolute/relative/delta modes), and is written into a pre-serialized message of
// the configured type: std_msgs/Float64MultiArray (ros2_control forward command controllers),
// trajectory_msgs/JointTrajectory (one-point streaming to joint_trajectory_controller) or onestep_msgs/Action.
import type { ActionMode } from '../../format/spec.ts';
import { type SentinelFactory, WireTemplate, WireTemplateError } from './wire-template.ts';

export const ACTION_TYPES = [
  'std_msgs/msg/Float64MultiArray',
  'trajectory_msgs/msg/JointTrajectory',
  'onestep_msgs/msg/Action',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export class ActionLayoutError extends Error {
  override name = 'ActionLayoutError';
}

export interface ActionMapping {
  /** The model's action names (metadata), in policy order. */
  policyNames: readonly string[];
  /** Joint names in the order the controller expects (empty: the policy's order). */
  outputNames: readonly string[];
  mode: ActionMode;
  /** Applied after the model's own scaling: command = offset + scale ⊙ action (empty: 0 and 1; one value: every joint). */
  scale: readonly number[];
  offset: readonly number[];
  /** Where the model came from, for messages. */
  source: string;
}

/**
 * Policy order → output order, then user scale/offset, then the mode:
 * absolute: the command is the action; relative: the action is already relative to the default pose the model's
 * offset encodes, so it is a target too; delta: the command is the measured joint position plus the action.
 */
export class ActionMapper {
  readonly size: number;
  readonly names: readonly string[];
  readonly mode: ActionMode;
  private readonly perm: Int32Array;
  private readonly scale: Float64Array;
  private readonly offset: Float64Array;

  constructor(m: ActionMapping) {
    const n = m.policyNames.length;
    this.size = n;
    this.mode = m.mode;
    this.names = m.outputNames.length > 0 ? [...m.outputNames] : [...m.policyNames];
    if (this.names.length !== n) {
      throw new ActionLayoutError(
        `action.joint_names has ${this.names.length} joints [${this.names.join(', ')}], the model ${m.source} has ${n} actions [${m.policyNames.join(', ')}]`,
      );
    }
    this.perm = new Int32Array(n);
    this.names.forEach((name, j) => {
      const k = m.policyNames.indexOf(name);
      if (k < 0) {
        throw new ActionLayoutError(
          `action.joint_names has "${name}", which the model ${m.source} does not act on (model actions: ${m.policyNames.join(', ')})`,
        );
      }
      this.perm[j] = k;
    });
    if (new Set(this.names).size !== n) throw new ActionLayoutError(`action.joint_names repeats a joint: ${this.names.join(', ')}`);
    const expand = (what: string, v: readonly number[], fill: number): Float64Array => {
      const out = new Float64Array(n).fill(fill);
      if (v.length === 0) return out;
      if (v.length === 1) return out.fill(v[0]);
      if (v.length !== n) throw new ActionLayoutError(`${what} has ${v.length} values, expected 1 or ${n} (one per joint: ${this.names.join(', ')})`);
      out.set(v);
      return out;
    };
    this.scale = expand('action.scale', m.scale, 1);
    this.offset = expand('action.offset', m.offset, 0);
  }

  /**
   * The range of commands the model can give (output order), from its physical action bounds (policy order):
   * each bound through the user scale/offset; unbounded in delta mode (the action adds to the measured position).
   */
  range(policyLow: readonly number[], policyHigh: readonly number[]): { lower: Float64Array; upper: Float64Array } {
    const lower = new Float64Array(this.size).fill(-Infinity);
    const upper = new Float64Array(this.size).fill(Infinity);
    if (this.mode === 'delta') return { lower, upper };
    for (let j = 0; j < this.size; j++) {
      const a = this.offset[j] + this.scale[j] * policyLow[this.perm[j]];
      const b = this.offset[j] + this.scale[j] * policyHigh[this.perm[j]];
      lower[j] = Math.min(a, b);
      upper[j] = Math.max(a, b);
    }
    return { lower, upper };
  }

  /** Writes the command (output order) into `out`; false when a delta action has no measured position yet. */
  map(action: ArrayLike<number>, measured: Float64Array | null, out: Float64Array): boolean {
    const n = this.size;
    const delta = this.mode === 'delta';
    if (delta && measured === null) return false;
    for (let j = 0; j < n; j++) {
      let x = this.offset[j] + this.scale[j] * action[this.perm[j]];
      if (delta) x += (measured as Float64Array)[j];
      out[j] = x;
    }
    return true;
  }
}

/**
 * What an action message carries besides the command, in a typed array (numbers written in place, never boxed):
 * the header stamp of the observation it answers, the forward-pass time and the latency so far.
 */
export class ActionInfo {
  static readonly OBSERVATION_SEC = 0;
  static readonly OBSERVATION_NANOSEC = 1;
  static readonly INFERENCE_MS = 2;
  static readonly LATENCY_MS = 3;
  readonly values = new Float64Array(4);
  clipped = false;

  static of(v: { observationSec: number; observationNanosec: number; inferenceMs: number; latencyMs: number; clipped: boolean }): ActionInfo {
    const info = new ActionInfo();
    info.values[0] = v.observationSec;
    info.values[1] = v.observationNanosec;
    info.values[2] = v.inferenceMs;
    info.values[3] = v.latencyMs;
    info.clipped = v.clipped;
    return info;
  }
}

type Encode = (message: unknown) => Uint8Array;

const MODE_CODE: Record<ActionMode, number> = { absolute: 0, relative: 1, delta: 2 };

/** Wall-clock time (ROS time) split into builtin_interfaces/Time, without allocating. */
export class RosClock {
  sec = 0;
  nanosec = 0;
  now(): this {
    const ms = performance.timeOrigin + performance.now();
    const sec = Math.floor(ms / 1000);
    let nanosec = Math.round((ms - sec * 1000) * 1e6);
    if (nanosec > 999_999_999) nanosec = 999_999_999;
    this.sec = sec;
    this.nanosec = nanosec;
    return this;
  }
}

/**
 * One pre-serialized action message; `write()` patches the numbers and returns the same bytes every time
 * (publish them before the next write).
 */
export class ActionEncoder {
  private readonly template: WireTemplate;
  private readonly dataSlot: number;
  private readonly stampSlot: number;
  private readonly obsStampSlot: number;
  private readonly timingSlot: number;
  private readonly clippedOffset: number;
  private readonly noInfo = new Float64Array(4);

  private constructor(
    readonly type: ActionType,
    readonly size: number,
    template: WireTemplate,
    slots: { data: number; stamp: number; obsStamp: number; timing: number; clippedOffset: number },
    /** Header stamps: the node's ROS time (sim time with use_sim_time). */
    private readonly clock: RosClock,
  ) {
    this.template = template;
    this.dataSlot = slots.data;
    this.stampSlot = slots.stamp;
    this.obsStampSlot = slots.obsStamp;
    this.timingSlot = slots.timing;
    this.clippedOffset = slots.clippedOffset;
  }

  /**
   * `encode` is the shared codec for `type`. `timeFromStartNs` sets JointTrajectory's single point time (the
   * controller interpolates to it). JointTrajectory goes out with a zero header stamp: "start on receipt".
   * `clock` stamps headers (default: the system clock).
   */
  static create(type: ActionType, jointNames: readonly string[], mode: ActionMode, encode: Encode, timeFromStartNs = 0, clock = new RosClock()): ActionEncoder {
    const n = jointNames.length;
    const names = [...jointNames];
    let data = -1, stamp = -1, obsStamp = -1, timing = -1, clippedOffset = -1;
    let template: WireTemplate;
    const header = (s: { i32(): number; u32(): number }) => {
      const sec = s.i32();
      return { stamp: { sec, nanosec: s.u32() }, frame_id: '' };
    };
    try {
      switch (type) {
        case 'std_msgs/msg/Float64MultiArray':
          template = WireTemplate.build(encode, (s) => {
            data = s.kinds.length;
            return { layout: { dim: [], data_offset: 0 }, data: Float64Array.from({ length: n }, () => s.f64()) };
          });
          break;
        case 'trajectory_msgs/msg/JointTrajectory': {
          const tfsSec = Math.floor(timeFromStartNs / 1e9);
          const tfs = { sec: tfsSec, nanosec: Math.round(timeFromStartNs - tfsSec * 1e9) };
          template = WireTemplate.build(encode, (s) => {
            data = s.kinds.length;
            const positions = Float64Array.from({ length: n }, () => s.f64());
            return {
              header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' },
              joint_names: names,
              points: [{ positions, velocities: new Float64Array(0), accelerations: new Float64Array(0), effort: new Float64Array(0), time_from_start: tfs }],
            };
          });
          break;
        }
        case 'onestep_msgs/msg/Action': {
          const build = (clipped: boolean) => (s: SentinelFactory) => {
            stamp = s.kinds.length;
            const h = header(s);
            obsStamp = s.kinds.length;
            const obsSec = s.i32();
            const observation_stamp = { sec: obsSec, nanosec: s.u32() };
            data = s.kinds.length;
            const values = Float64Array.from({ length: n }, () => s.f64());
            timing = s.kinds.length;
            const inference_time_ms = s.f32();
            const latency_ms = s.f32();
            return { header: h, observation_stamp, joint_names: names, data: values, mode: MODE_CODE[mode], clipped, inference_time_ms, latency_ms };
          };
          template = WireTemplate.build(encode, build(false));
          const flagged = WireTemplate.build(encode, build(true));
          clippedOffset = singleDifference(template.bytes, flagged.bytes);
          break;
        }
        default:
          throw new ActionLayoutError(`action.type "${type as string}" is not supported (expected one of ${ACTION_TYPES.join(', ')})`);
      }
    } catch (err) {
      if (err instanceof WireTemplateError) throw new ActionLayoutError(`cannot lay out ${type}: ${err.message}`);
      throw err;
    }
    return new ActionEncoder(type, n, template, { data, stamp, obsStamp, timing, clippedOffset }, clock);
  }

  /**
   * The serialized message (encapsulation header + CDR), patched with this command. Allocation-free: DataView
   * stores are called directly (a double passed to a helper V8 does not inline would be boxed).
   */
  write(command: Float64Array, info: ActionInfo | null): Uint8Array {
    const t = this.template;
    const view = t.view;
    const le = t.littleEndian;
    const offsets = t.offsets;
    const f64 = t.f64;
    if (f64 !== null) {
      const index = t.f64Index;
      for (let j = 0; j < this.size; j++) f64[index[this.dataSlot + j]] = command[j];
    } else {
      for (let j = 0; j < this.size; j++) view.setFloat64(offsets[this.dataSlot + j], command[j], le);
    }
    if (this.type === 'onestep_msgs/msg/Action') {
      this.clock.now();
      view.setInt32(offsets[this.stampSlot], this.clock.sec, le);
      view.setUint32(offsets[this.stampSlot + 1], this.clock.nanosec, le);
      const v = info === null ? this.noInfo : info.values;
      view.setInt32(offsets[this.obsStampSlot], v[ActionInfo.OBSERVATION_SEC], le);
      view.setUint32(offsets[this.obsStampSlot + 1], v[ActionInfo.OBSERVATION_NANOSEC], le);
      view.setFloat32(offsets[this.timingSlot], v[ActionInfo.INFERENCE_MS], le);
      view.setFloat32(offsets[this.timingSlot + 1], v[ActionInfo.LATENCY_MS], le);
      t.bytes[this.clippedOffset] = info !== null && info.clipped ? 1 : 0;
    }
    return t.bytes;
  }
}

function singleDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new WireTemplateError('templates differ in length');
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      if (at >= 0) throw new WireTemplateError('templates differ in more than one byte');
      at = i;
    }
  }
  if (at < 0) throw new WireTemplateError('flag not found in the template');
  return at;
}

/** Observation followed by action, as a Float64MultiArray (the ~/policy_io echo), pre-serialized. */
export class PolicyIoEncoder {
  private readonly template: WireTemplate;

  constructor(readonly observationSize: number, readonly actionSize: number, encode: Encode) {
    this.template = WireTemplate.build(encode, (s) => ({
      layout: {
        dim: [
          { label: 'observation', size: observationSize, stride: observationSize },
          { label: 'action', size: actionSize, stride: actionSize },
        ],
        data_offset: 0,
      },
      data: Float64Array.from({ length: observationSize + actionSize }, () => s.f64()),
    }));
  }

  write(observation: Float32Array, action: Float64Array): Uint8Array {
    const { view, offsets, littleEndian: le, f64, f64Index } = this.template;
    const n = this.observationSize;
    if (f64 !== null) {
      for (let i = 0; i < n; i++) f64[f64Index[i]] = observation[i];
      for (let j = 0; j < this.actionSize; j++) f64[f64Index[n + j]] = action[j];
    } else {
      for (let i = 0; i < n; i++) view.setFloat64(offsets[i], observation[i], le);
      for (let j = 0; j < this.actionSize; j++) view.setFloat64(offsets[n + j], action[j], le);
    }
    return this.template.bytes;
  }
}
