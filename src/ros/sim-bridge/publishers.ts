// What the bridge publishes per state: sensor_msgs/JointState, rosgraph_msgs/Clock, one geometry_msgs/PointStamped
// per reported point and onestep_msgs/EpisodeStatus. The fixed-layout messages are encoded once as wire templates
// and only their numbers are rewritten per state (no allocation); clock and status are encoded only while something
// subscribes (status is the costliest message and both are volatile anyway).
import { getMessageCodec } from '../msgs/registry.ts';
import { WireTemplate } from '../node/wire-template.ts';
import type { Publisher, QosProfile, Transport } from '../transport.ts';
import type { Stamp } from './clock.ts';
import type { BridgedRobot, BridgeTopics } from './types.ts';

/** rclcpp's ClockQoS: the newest time only, best effort. */
const CLOCK_QOS: QosProfile = { reliability: 'best_effort', durability: 'volatile', history: 'keep_last', depth: 1 };

/** onestep_msgs/EpisodeStatus as the bridge fills it. */
export interface EpisodeStatusMessage {
  header: { stamp: Stamp; frame_id: string };
  task: string;
  state: number;
  episode: number;
  seed: bigint;
  step: number;
  reward: number;
  episode_return: number;
  success: boolean;
  mode: string;
  terminated: boolean;
  truncated: boolean;
  commands_accepted: bigint;
  commands_refused: bigint;
  commands_missed: bigint;
  watchdog_timeouts: bigint;
  real_time_factor: number;
}

export class StatePublishers {
  readonly joints: Publisher;
  readonly clock: Publisher;
  readonly points: Publisher[];
  readonly status: Publisher;
  /** The status message, reused: fill it, then `sendStatus()`. */
  readonly statusMessage: EpisodeStatusMessage;
  readonly all: Publisher[];

  private readonly jointTemplate: WireTemplate;
  private readonly clockTemplate: WireTemplate;
  private readonly pointTemplates: WireTemplate[];
  private readonly statusCodec = getMessageCodec<EpisodeStatusMessage>('onestep_msgs/msg/EpisodeStatus');
  private statusBuffer = new Uint8Array(1024);
  private readonly point = new Float64Array(3);
  private readonly nj: number;

  constructor(transport: Transport, robot: BridgedRobot, topics: BridgeTopics, private readonly always = false) {
    this.nj = robot.jointNames.length;
    const jointCodec = getMessageCodec('sensor_msgs/msg/JointState');
    const names = [...robot.jointNames];
    this.jointTemplate = WireTemplate.build((m) => jointCodec.encode(m as Record<string, unknown>), (s) => {
      const sec = s.i32();
      const nanosec = s.u32();
      const column = () => Float64Array.from({ length: names.length }, () => s.f64());
      return { header: { stamp: { sec, nanosec }, frame_id: '' }, name: names, position: column(), velocity: column(), effort: column() };
    });
    const clockCodec = getMessageCodec('rosgraph_msgs/msg/Clock');
    this.clockTemplate = WireTemplate.build((m) => clockCodec.encode(m as Record<string, unknown>), (s) => {
      const sec = s.i32();
      return { clock: { sec, nanosec: s.u32() } };
    });
    const pointCodec = getMessageCodec('geometry_msgs/msg/PointStamped');
    this.pointTemplates = robot.points.map(() => WireTemplate.build((m) => pointCodec.encode(m as Record<string, unknown>), (s) => {
      const sec = s.i32();
      const nanosec = s.u32();
      return { header: { stamp: { sec, nanosec }, frame_id: 'world' }, point: { x: s.f64(), y: s.f64(), z: s.f64() } };
    }));
    this.statusMessage = this.statusCodec.create();
    this.statusMessage.task = robot.taskName;

    this.points = robot.points.map((p) => transport.advertise(`${topics.pointPrefix.replace(/\/?$/, '/')}${p.name}`, 'geometry_msgs/msg/PointStamped', 'default'));
    this.status = transport.advertise(topics.status, 'onestep_msgs/msg/EpisodeStatus', 'default');
    this.clock = transport.advertise(topics.clock, 'rosgraph_msgs/msg/Clock', CLOCK_QOS);
    this.joints = transport.advertise(topics.jointStates, 'sensor_msgs/msg/JointState', 'default');
    this.all = [...this.points, this.status, this.clock, this.joints];
  }

  /** Each point (robot.readPoint) stamped `stamp`, frame "world". */
  publishPoints(robot: BridgedRobot, stamp: Stamp): void {
    for (let k = 0; k < this.pointTemplates.length; k++) {
      const tpl = this.pointTemplates[k];
      robot.readPoint(k, this.point, 0);
      tpl.setI32(0, stamp.sec);
      tpl.setU32(1, stamp.nanosec);
      tpl.setF64(2, this.point[0]);
      tpl.setF64(3, this.point[1]);
      tpl.setF64(4, this.point[2]);
      this.points[k].publishRaw(tpl.bytes);
    }
  }

  /** /clock, when something subscribes (or always). */
  publishClock(stamp: Stamp): void {
    if (!this.always && this.clock.matchedSubscriptions() === 0) return;
    const c = this.clockTemplate;
    c.setI32(0, stamp.sec);
    c.setU32(1, stamp.nanosec);
    this.clock.publishRaw(c.bytes);
  }

  /** Writes the joint state into its template (send it with `sendJoints`: the bridge arms lockstep in between). */
  prepareJoints(stamp: Stamp, position: Float64Array, velocity: Float64Array, effort: Float64Array): void {
    const j = this.jointTemplate;
    const n = this.nj;
    j.setI32(0, stamp.sec);
    j.setU32(1, stamp.nanosec);
    for (let i = 0; i < n; i++) {
      j.setF64(2 + i, position[i]);
      j.setF64(2 + n + i, velocity[i]);
      j.setF64(2 + 2 * n + i, effort[i]);
    }
  }

  sendJoints(): void {
    this.joints.publishRaw(this.jointTemplate.bytes);
  }

  /** Whether a status is worth filling and encoding (something subscribes). */
  statusWanted(): boolean {
    return this.always || this.status.matchedSubscriptions() > 0;
  }

  /** Encodes and publishes `statusMessage`. */
  sendStatus(): void {
    const m = this.statusMessage;
    const size = this.statusCodec.encodedSize(m);
    if (size > this.statusBuffer.length) this.statusBuffer = new Uint8Array(2 * size);
    this.status.publishRaw(this.statusCodec.encodeInto(m, this.statusBuffer));
  }
}
