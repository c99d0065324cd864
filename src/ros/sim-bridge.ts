// A simulated robot on ROS 2 (`onestep sim-bridge`): what ros2_control's joint_state_broadcaster,
// forward_command_controller and a simulator's clock give a controller, over any Transport.
//
// Out: sensor_msgs/JointState on /joint_states (stamp = sim time, the model's joint names), rosgraph_msgs/Clock on
// /clock once per control step (ClockQoS), one geometry_msgs/PointStamped per reported point (/tool_tip, /target,
// frame "world"), onestep_msgs/EpisodeStatus on ~/status (reward, return, success, mode, episode, counters).
// In: std_msgs/Float64MultiArray on /forward_position_controller/commands (one value per actuator, in the
// bridge's command order) and sensor_msgs/JointState on /joint_command (by joint name, any subset), plus
// ~/reset (std_msgs/Empty), ~/pause (std_msgs/Bool) and ~/step (std_msgs/UInt64, only while paused) until the
// simulation_interfaces services exist over these transports.
//
// Two clocks. Real time: a control step every control period ÷ real-time factor on an absolute wall-clock
// schedule (a late tick is not caught up with a burst), each step with the newest accepted command, a command
// watchdog (no command for N ms → hold or zero, counted), and the achieved real-time factor measured. Lockstep:
// state k is published, then step k+1 runs only when the command answering it arrives. A JointState command
// answers the state whose header stamp it carries; a Float64MultiArray has no header, so the first one that
// arrives after state k was published answers k (a late answer to an earlier state would be taken for the next
// one: keep the timeout well above the controller's latency). No answer within the wall-clock timeout: the
// missed-command policy (hold the command in force, zero it, or abort the run), counted.
//
// One state per control step: when an episode ends, the state published is the next episode's first (sim time
// restarts at 0, so /clock and the stamps jump back, as after a simulator reset); the terminal step's reward,
// success and flags are in ~/status. Bad commands (wrong length, non-finite, unknown or repeated joints) are
// refused whole, counted and logged once per throttle period; they never reach the simulation.
import { setTimeout as sleep } from 'node:timers/promises';
import { LatencyRecorder, toMilliseconds, type LatencySummary } from '../core/latency.ts';
import { getMessageCodec } from './msgs/registry.ts';
import { Logger, Throttle } from './node/diagnostics.ts';
import { WireTemplate } from './node/wire-template.ts';
import type { MessageInfo, Publisher, QosProfile, Subscription, Transport } from './transport.ts';

/** What the bridge needs from a simulated robot (src/sim/robot.ts's SimRobot provides it). */
export interface BridgedRobot {
  readonly taskName: string;
  readonly jointNames: readonly string[];
  /** One per actuator, in command order: the joint it drives, or its own name. */
  readonly commandNames: readonly string[];
  /** The range each command is limited to (actuator units); `step` applies the limit. */
  readonly commandLow: Float64Array;
  readonly commandHigh: Float64Array;
  readonly points: readonly { readonly name: string }[];
  /** Simulated seconds per control step. */
  readonly controlPeriod: number;
  readonly maxSteps: number;
  readonly successMeaning: string | undefined;
  readonly modes: readonly string[] | undefined;
  /** Simulated time of the current state (s). */
  readonly time: number;
  readonly stepIndex: number;
  /** The task's observation of the current state (what an in-process policy sees). */
  readonly observation: Float32Array;
  reset(seed: number): void;
  step(command: Float64Array): { reward: number; terminated: boolean; truncated: boolean; info: { success: boolean; mode: string | null | undefined } };
  readJoints(position: Float64Array, velocity: Float64Array, effort: Float64Array): void;
  readPoint(k: number, out: Float64Array, at?: number): void;
  readCommand(out: Float64Array): void;
}

export type BridgeClock = 'realtime' | 'lockstep';
export const BRIDGE_CLOCKS: readonly BridgeClock[] = ['realtime', 'lockstep'];
export type SafeCommand = 'hold' | 'zero';
export type MissedCommand = 'hold' | 'zero' | 'abort';

export interface BridgeTopics {
  jointStates: string;
  clock: string;
  commands: string;
  jointCommand: string;
  status: string;
  reset: string;
  pause: string;
  step: string;
  /** Prefix of the point topics: "/" gives /tool_tip, /target. */
  pointPrefix: string;
}

export const DEFAULT_BRIDGE_TOPICS: Readonly<BridgeTopics> = {
  jointStates: '/joint_states',
  clock: '/clock',
  commands: '/forward_position_controller/commands',
  jointCommand: '/joint_command',
  status: '~/status',
  reset: '~/reset',
  pause: '~/pause',
  step: '~/step',
  pointPrefix: '/',
};

export interface SimBridgeOptions {
  transport: Transport;
  robot: BridgedRobot;
  clock: BridgeClock;
  /** Episode k is reset with seed + k (as `onestep eval` does). */
  seed: number;
  /** Stop stepping after this many finished episodes (`done` resolves); 0 = run until closed. */
  episodes?: number;
  /** Real time: simulated seconds per wall second (default 1). */
  realTimeFactor?: number;
  /** Real time: no accepted command for this long → the watchdog's safe command (0 disables; default 500). */
  commandTimeoutMs?: number;
  watchdogAction?: SafeCommand;
  /** Lockstep: how long to wait for the answer to a state (wall clock, default 1000). */
  lockstepTimeoutMs?: number;
  missedCommand?: MissedCommand;
  /** Lockstep: wait for a /joint_states subscriber and a command publisher before the first step (default true). */
  waitForPeers?: boolean;
  topics?: Partial<BridgeTopics>;
  logger?: Logger;
  logThrottleMs?: number;
  /** Called after each published state (tests and recorders); `observation` is the task's own, reused. */
  onState?: (state: PublishedState) => void;
  /** Called when an episode ends. */
  onEpisode?: (episode: BridgeEpisode) => void;
}

export interface PublishedState {
  episode: number;
  step: number;
  stampSec: number;
  stampNanosec: number;
  observation: Float32Array;
}

export interface BridgeEpisode {
  episode: number;
  seed: number;
  return: number;
  length: number;
  /** The task's success at the last step (null for tasks without one). */
  success: boolean | null;
  mode: string | null;
  terminated: boolean;
}

export interface BridgeCounters {
  commandsAccepted: number;
  commandsRefused: number;
  /** Accepted commands with a value outside the command range (the robot applies them limited). */
  commandsClamped: number;
  /** Lockstep: JointState commands whose stamp answers no pending state (ignored). */
  commandsStale: number;
  /** Lockstep: states no command answered within the timeout. */
  commandsMissed: number;
  watchdogTimeouts: number;
  steps: number;
  resets: number;
}

export interface BridgeSummary {
  task: string;
  clock: BridgeClock;
  episodes: BridgeEpisode[];
  steps: number;
  wallSeconds: number;
  stepsPerSecond: number;
  /** Simulated seconds per wall second over the whole run. */
  realTimeFactor: number;
  counters: BridgeCounters;
  /** ms: physics (one control step), publish (a state's messages), round trip (state published → the first command after it), apply (command arrived → applied). */
  latency: Record<'physics' | 'publish' | 'roundTrip' | 'apply', LatencySummary>;
}

/** The bridge cannot run as configured (bad option, lockstep abort). */
export class SimBridgeError extends Error {
  override name = 'SimBridgeError';
}

// EpisodeStatus.state (simulation_interfaces/SimulationState)
const STOPPED = 0, PLAYING = 1, PAUSED = 2, QUITTING = 3;
/** rclcpp's ClockQoS: the newest time only, best effort. */
const CLOCK_QOS: QosProfile = { reliability: 'best_effort', durability: 'volatile', history: 'keep_last', depth: 1 };
const LATENCY_CAPACITY = 1 << 16;
/** A command this far outside its range counts as clamped (float32 rounding of a bound is 1e-7). */
const CLAMP_MARGIN = 1e-6;

enum Refusal {
  WrongLength,
  NonFinite,
  UnknownJoint,
  RepeatedJoint,
  Malformed,
}

interface JointStateMsg { header?: { stamp?: { sec: number; nanosec: number } }; name?: string[]; position?: ArrayLike<number>; velocity?: ArrayLike<number>; effort?: ArrayLike<number> }

export class SimBridge {
  readonly counters: BridgeCounters = {
    commandsAccepted: 0, commandsRefused: 0, commandsClamped: 0, commandsStale: 0, commandsMissed: 0, watchdogTimeouts: 0, steps: 0, resets: 0,
  };
  readonly episodes: BridgeEpisode[] = [];
  /** Resolves when the configured episodes are done (or the bridge is closed); rejects on a lockstep abort. */
  readonly done: Promise<BridgeSummary>;

  private readonly robot: BridgedRobot;
  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly topics: BridgeTopics;
  private readonly nu: number;
  private readonly nj: number;
  /** The command applied at the next step (actuator order). */
  private readonly command: Float64Array;
  private readonly incoming: Float64Array;
  private readonly joints: { position: Float64Array; velocity: Float64Array; effort: Float64Array };
  private readonly point = new Float64Array(3);
  private readonly commandIndex = new Map<string, number>();
  private readonly seen: Uint8Array;

  private readonly jointTemplate: WireTemplate;
  private readonly clockTemplate: WireTemplate;
  private readonly pointTemplates: WireTemplate[];
  private readonly statusCodec = getMessageCodec('onestep_msgs/msg/EpisodeStatus');
  private readonly statusMessage: Record<string, unknown>;
  private statusBuffer = new Uint8Array(1024);

  private readonly publishers: Publisher[] = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly jointPublisher: Publisher;
  private readonly clockPublisher: Publisher;
  private readonly pointPublishers: Publisher[];
  private readonly statusPublisher: Publisher;
  private readonly commandSubscription: Subscription;
  private readonly jointCommandSubscription: Subscription;

  private state: typeof PLAYING | typeof PAUSED | typeof STOPPED | typeof QUITTING = STOPPED;
  private episode = 0;
  private episodeSeed = 0;
  private episodeReturn = 0;
  private lastReward = 0;
  private lastSuccess = false;
  private lastMode: string | null = null;
  private lastTerminated = false;
  private lastTruncated = false;
  /** Lockstep: waiting for the answer to the last published state. */
  private awaiting = false;
  /** Lockstep: an answer arrived while paused; step with it on resume. */
  private answered = false;
  private pendingSec = 0;
  private pendingNanosec = 0;
  private publishedAtMs = 0;
  /** No command has arrived since the last state was published (the next one's delay is the round trip). */
  private firstAnswerPending = false;
  private receivedAtMs = 0;
  /** Real time: an accepted command not yet applied. */
  private hasNext = false;
  private lastCommandAtMs = -Infinity;
  private everCommanded = false;
  private timedOut = false;
  private tickTimer: NodeJS.Timeout | null = null;
  private missTimer: NodeJS.Timeout | null = null;
  private peerTimer: NodeJS.Timeout | null = null;
  private tick = 0;
  private scheduleStartMs = 0;
  private readonly periodMs: number;
  private rtfWindowStartMs = 0;
  private rtfWindowSteps = 0;
  private realTimeFactorNow = 0;
  private startedAtMs = 0;
  private closed = false;
  private resolveDone!: (s: BridgeSummary) => void;
  private rejectDone!: (e: Error) => void;
  /** Per stage, the last samples in µs (recording allocates nothing); reported in ms. */
  private readonly latency = {
    physics: new LatencyRecorder(LATENCY_CAPACITY), publish: new LatencyRecorder(LATENCY_CAPACITY),
    roundTrip: new LatencyRecorder(LATENCY_CAPACITY), apply: new LatencyRecorder(LATENCY_CAPACITY),
  };
  private readonly refuseThrottle: Throttle;
  private readonly missThrottle: Throttle;
  private readonly clampThrottle: Throttle;

  private constructor(private readonly opts: SimBridgeOptions) {
    const { robot, transport } = opts;
    this.robot = robot;
    this.transport = transport;
    this.log = opts.logger ?? new Logger('sim_bridge');
    this.topics = { ...DEFAULT_BRIDGE_TOPICS, ...opts.topics };
    this.nu = robot.commandNames.length;
    this.nj = robot.jointNames.length;
    this.command = new Float64Array(this.nu);
    this.incoming = new Float64Array(this.nu);
    this.seen = new Uint8Array(this.nu);
    robot.commandNames.forEach((n, i) => this.commandIndex.set(n, i));
    this.joints = { position: new Float64Array(this.nj), velocity: new Float64Array(this.nj), effort: new Float64Array(this.nj) };
    const throttleMs = opts.logThrottleMs ?? 1000;
    this.refuseThrottle = new Throttle(throttleMs);
    this.missThrottle = new Throttle(throttleMs);
    this.clampThrottle = new Throttle(throttleMs);
    const rtf = opts.realTimeFactor ?? 1;
    if (!(rtf > 0) || !Number.isFinite(rtf)) throw new SimBridgeError(`real-time factor must be a positive number (got ${rtf})`);
    this.periodMs = (robot.controlPeriod * 1000) / rtf;
    for (const [what, v] of [['command timeout', opts.commandTimeoutMs ?? 500], ['lockstep timeout', opts.lockstepTimeoutMs ?? 1000]] as const) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new SimBridgeError(`${what} must be a number of milliseconds ≥ 0 (got ${v})`);
    }
    if (opts.clock === 'lockstep' && !((opts.lockstepTimeoutMs ?? 1000) > 0)) throw new SimBridgeError('lockstep needs a timeout > 0 ms');
    if (!BRIDGE_CLOCKS.includes(opts.clock)) throw new SimBridgeError(`clock must be one of ${BRIDGE_CLOCKS.join(', ')} (got ${opts.clock})`);

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
    this.statusMessage = this.statusCodec.create() as Record<string, unknown>;
    this.statusMessage.task = robot.taskName;

    const t = this.topics;
    const track = <P extends Publisher>(p: P) => (this.publishers.push(p), p);
    this.pointPublishers = robot.points.map((p) => track(transport.advertise(`${t.pointPrefix.replace(/\/?$/, '/')}${p.name}`, 'geometry_msgs/msg/PointStamped', 'default')));
    this.statusPublisher = track(transport.advertise(t.status, 'onestep_msgs/msg/EpisodeStatus', 'default'));
    this.clockPublisher = track(transport.advertise(t.clock, 'rosgraph_msgs/msg/Clock', CLOCK_QOS));
    this.jointPublisher = track(transport.advertise(t.jointStates, 'sensor_msgs/msg/JointState', 'default'));
    const sub = <T>(topic: string, type: string, handler: (m: T, info: MessageInfo) => void) => {
      const s = transport.subscribe<T>(topic, type, 'default', handler);
      this.subscriptions.push(s);
      return s;
    };
    this.commandSubscription = sub<{ data?: ArrayLike<number> }>(t.commands, 'std_msgs/msg/Float64MultiArray', (m) => this.onArrayCommand(m));
    this.jointCommandSubscription = sub<JointStateMsg>(t.jointCommand, 'sensor_msgs/msg/JointState', (m) => this.onJointCommand(m));
    sub<Record<string, never>>(t.reset, 'std_msgs/msg/Empty', () => this.requestReset());
    sub<{ data: boolean }>(t.pause, 'std_msgs/msg/Bool', (m) => this.setPaused(m.data === true));
    sub<{ data: bigint | number }>(t.step, 'std_msgs/msg/UInt64', (m) => this.stepPaused(Number(m.data)));

    this.done = new Promise<BridgeSummary>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {}); // the caller may only look at `done` later
  }

  /** Opens every endpoint, resets the first episode and starts the clock (lockstep: once the peers are there). */
  static start(opts: SimBridgeOptions): SimBridge {
    const bridge = new SimBridge(opts);
    bridge.begin();
    return bridge;
  }

  /** The topics the bridge uses, resolved (for the start-up report). */
  get endpoints(): { publishes: string[]; subscribes: string[] } {
    return { publishes: this.publishers.map((p) => `${p.topic} (${p.type})`), subscribes: this.subscriptions.map((s) => `${s.topic} (${s.type})`) };
  }

  private begin(): void {
    this.episodeSeed = this.opts.seed;
    this.robot.reset(this.episodeSeed);
    this.robot.readCommand(this.command);
    this.counters.resets++;
    const { clock } = this.opts;
    this.log.info('sim bridge started', {
      task: this.robot.taskName, clock, joints: this.robot.jointNames.join(','), commands: this.commandSubscription.topic,
      control_period_ms: +(this.robot.controlPeriod * 1000).toFixed(3), seed: this.opts.seed, episodes: this.opts.episodes ?? 0,
    });
    if (clock === 'lockstep' && (this.opts.waitForPeers ?? true)) this.waitForPeers();
    else this.play();
  }

  /** Lockstep waits for the controller: a /joint_states subscriber and a command publisher, then the points' subscribers (≤ 1 s). */
  private waitForPeers(): void {
    const since = performance.now();
    const throttle = new Throttle(5000);
    let readyAt = -1;
    const check = () => {
      this.peerTimer = null;
      if (this.closed) return;
      const now = performance.now();
      const controller = this.jointPublisher.matchedSubscriptions() > 0 && (this.commandSubscription.matchedPublishers() > 0 || this.jointCommandSubscription.matchedPublishers() > 0);
      if (!controller) {
        if (throttle.tick(now) > 0 && now - since > 1000) {
          this.log.info('lockstep: waiting for a controller', { needs: `a subscriber on ${this.jointPublisher.topic} and a publisher on ${this.commandSubscription.topic} or ${this.jointCommandSubscription.topic}` });
        }
      } else {
        if (readyAt < 0) readyAt = now;
        const pointsMatched = this.pointPublishers.every((p) => p.matchedSubscriptions() > 0);
        // both sides of a match learn of it at about the same time; a short settle covers the remote side
        if ((pointsMatched || now - readyAt > 1000) && now - readyAt > 200) {
          this.play();
          return;
        }
      }
      this.peerTimer = setTimeout(check, 20);
    };
    check();
  }

  private play(): void {
    this.state = PLAYING;
    this.startedAtMs = performance.now();
    this.rtfWindowStartMs = this.startedAtMs;
    if (this.opts.clock === 'lockstep') {
      this.missTimer = setTimeout(() => this.onMissed(), this.opts.lockstepTimeoutMs ?? 1000);
      this.publishState();
    } else {
      this.publishState();
      this.resync();
    }
  }

  // -----------------------------------------------------------------------------------------------------------
  // stepping

  /** One control step with the command in force; publishes the next state (or the next episode's first). */
  private advance(): void {
    const t0 = performance.now();
    const r = this.robot.step(this.command);
    const t1 = performance.now();
    this.latency.physics.record((t1 - t0) * 1000);
    this.counters.steps++;
    this.rtfWindowSteps++;
    this.episodeReturn += r.reward;
    this.lastReward = r.reward;
    this.lastSuccess = r.info.success;
    this.lastMode = r.info.mode ?? null;
    this.lastTerminated = r.terminated;
    this.lastTruncated = r.truncated;
    if (r.terminated || r.truncated) {
      this.publishStatus(); // the terminal step's reward, success and flags
      const result: BridgeEpisode = {
        episode: this.episode, seed: this.episodeSeed, return: this.episodeReturn, length: this.robot.stepIndex,
        success: this.robot.successMeaning === undefined ? null : r.info.success, mode: r.info.mode ?? null, terminated: r.terminated,
      };
      this.episodes.push(result);
      this.opts.onEpisode?.(result);
      const target = this.opts.episodes ?? 0;
      if (target > 0 && this.episodes.length >= target) {
        this.finish();
        return;
      }
      this.nextEpisode();
    }
    this.updateRtf();
    this.publishState();
  }

  private nextEpisode(): void {
    this.episode++;
    this.episodeSeed = this.opts.seed + this.episode;
    this.robot.reset(this.episodeSeed);
    this.robot.readCommand(this.command);
    this.counters.resets++;
    this.episodeReturn = 0;
    this.lastReward = 0;
    this.lastSuccess = false;
    this.lastMode = null;
    this.lastTerminated = false;
    this.lastTruncated = false;
    this.hasNext = false;
  }

  /** ~/reset: abandon the episode and start the next one (its seed is seed + its index). */
  private requestReset(): void {
    if (this.state === STOPPED || this.state === QUITTING) return;
    this.log.info('reset requested', { episode: this.episode, step: this.robot.stepIndex });
    this.nextEpisode();
    this.answered = false;
    this.publishState();
  }

  private setPaused(paused: boolean): void {
    if (this.state === STOPPED || this.state === QUITTING) return;
    if (paused === (this.state === PAUSED)) return;
    this.state = paused ? PAUSED : PLAYING;
    this.log.info(paused ? 'paused' : 'resumed', { episode: this.episode, step: this.robot.stepIndex });
    this.publishStatus();
    if (paused) {
      if (this.tickTimer) clearTimeout(this.tickTimer);
      this.tickTimer = null;
      return;
    }
    this.rtfWindowStartMs = performance.now();
    this.rtfWindowSteps = 0;
    if (this.opts.clock === 'realtime') this.resync();
    else if (this.answered) {
      this.answered = false;
      this.awaiting = false;
      this.advance();
    } else {
      this.missTimer?.refresh();
    }
  }

  /** ~/step N while paused: N control steps with the command in force, each state published. */
  private stepPaused(n: number): void {
    if (this.state !== PAUSED) {
      this.log.warn('step refused: the simulation is not paused (publish true on the pause topic first)', { requested: n });
      return;
    }
    if (!Number.isInteger(n) || n < 1) return;
    for (let k = 0; k < n && this.state === PAUSED; k++) {
      this.awaiting = false;
      this.answered = false;
      this.advance();
    }
  }

  private publishState(): void {
    const t0 = performance.now();
    const ns = Math.round(this.robot.time * 1e9);
    const sec = Math.floor(ns / 1e9);
    const nanosec = ns - sec * 1e9;
    for (let k = 0; k < this.pointTemplates.length; k++) {
      const tpl = this.pointTemplates[k];
      this.robot.readPoint(k, this.point, 0);
      tpl.setI32(0, sec);
      tpl.setU32(1, nanosec);
      tpl.setF64(2, this.point[0]);
      tpl.setF64(3, this.point[1]);
      tpl.setF64(4, this.point[2]);
      this.pointPublishers[k].publishRaw(tpl.bytes);
    }
    this.publishStatus();
    if (this.clockPublisher.matchedSubscriptions() > 0) {
      const c = this.clockTemplate;
      c.setI32(0, sec);
      c.setU32(1, nanosec);
      this.clockPublisher.publishRaw(c.bytes);
    }
    const { position, velocity, effort } = this.joints;
    this.robot.readJoints(position, velocity, effort);
    const j = this.jointTemplate;
    const n = this.nj;
    j.setI32(0, sec);
    j.setU32(1, nanosec);
    for (let i = 0; i < n; i++) {
      j.setF64(2 + i, position[i]);
      j.setF64(2 + n + i, velocity[i]);
      j.setF64(2 + 2 * n + i, effort[i]);
    }
    this.pendingSec = sec;
    this.pendingNanosec = nanosec;
    this.awaiting = this.opts.clock === 'lockstep';
    this.answered = false;
    this.jointPublisher.publishRaw(j.bytes);
    const t1 = performance.now();
    this.publishedAtMs = t1;
    this.firstAnswerPending = true;
    this.latency.publish.record((t1 - t0) * 1000);
    if (this.awaiting && this.state === PLAYING) this.missTimer?.refresh();
    this.opts.onState?.({ episode: this.episode, step: this.robot.stepIndex, stampSec: sec, stampNanosec: nanosec, observation: this.robot.observation });
  }

  private publishStatus(): void {
    // encoding the status is the costliest part of a state: skipped while nobody listens (it is volatile anyway)
    if (this.statusPublisher.matchedSubscriptions() === 0) return;
    const m = this.statusMessage;
    const ns = Math.round(this.robot.time * 1e9);
    const sec = Math.floor(ns / 1e9);
    (m.header as { stamp: { sec: number; nanosec: number } }).stamp = { sec, nanosec: ns - sec * 1e9 };
    m.state = this.state;
    m.episode = this.episode;
    m.seed = BigInt(this.episodeSeed);
    m.step = this.robot.stepIndex;
    m.reward = this.lastReward;
    m.episode_return = this.episodeReturn;
    m.success = this.lastSuccess;
    m.mode = this.lastMode ?? '';
    m.terminated = this.lastTerminated;
    m.truncated = this.lastTruncated;
    m.commands_accepted = BigInt(this.counters.commandsAccepted);
    m.commands_refused = BigInt(this.counters.commandsRefused);
    m.commands_missed = BigInt(this.counters.commandsMissed);
    m.watchdog_timeouts = BigInt(this.counters.watchdogTimeouts);
    m.real_time_factor = this.realTimeFactorNow;
    const size = this.statusCodec.encodedSize(m);
    if (size > this.statusBuffer.length) this.statusBuffer = new Uint8Array(2 * size);
    this.statusPublisher.publishRaw(this.statusCodec.encodeInto(m, this.statusBuffer));
  }

  private updateRtf(): void {
    const now = performance.now();
    const span = now - this.rtfWindowStartMs;
    if (span < 1000) return;
    this.realTimeFactorNow = (this.rtfWindowSteps * this.robot.controlPeriod * 1000) / span;
    this.rtfWindowStartMs = now;
    this.rtfWindowSteps = 0;
  }

  // -----------------------------------------------------------------------------------------------------------
  // real time

  /** Restarts the absolute tick schedule from now (start, resume): no burst of catch-up steps. */
  private resync(): void {
    this.tick = 0;
    this.scheduleStartMs = performance.now();
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.state !== PLAYING) return;
    this.tick++;
    let due = this.scheduleStartMs + this.tick * this.periodMs;
    const now = performance.now();
    if (now - due > this.periodMs) {
      // more than a period late (a stall): skip ahead instead of catching up
      this.scheduleStartMs = now;
      this.tick = 0;
      due = now;
    }
    this.tickTimer = setTimeout(() => this.onTick(), Math.max(0, due - now));
  }

  private onTick(): void {
    this.tickTimer = null;
    if (this.closed || this.state !== PLAYING) return;
    const now = performance.now();
    const timeout = this.opts.commandTimeoutMs ?? 500;
    if (this.hasNext) {
      this.command.set(this.incoming);
      this.hasNext = false;
      this.latency.apply.record((now - this.receivedAtMs) * 1000);
    } else if (timeout > 0 && this.everCommanded && !this.timedOut && now - this.lastCommandAtMs > timeout) {
      this.timedOut = true;
      this.counters.watchdogTimeouts++;
      const action = this.opts.watchdogAction ?? 'hold';
      if (action === 'zero') this.zeroCommand();
      this.log.warn('no command within the timeout: safe command', { timeout_ms: timeout, safe_command: action, timeouts: this.counters.watchdogTimeouts });
    }
    this.advance();
    this.schedule();
  }

  private zeroCommand(): void {
    for (let i = 0; i < this.nu; i++) this.command[i] = clamp(0, this.robot.commandLow[i], this.robot.commandHigh[i]);
  }

  // -----------------------------------------------------------------------------------------------------------
  // commands

  private onArrayCommand(m: { data?: ArrayLike<number> }): void {
    const data = m?.data;
    if (data === undefined || typeof data.length !== 'number') return this.refuse(Refusal.Malformed, this.commandSubscription.topic, 'no data');
    if (data.length !== this.nu) return this.refuse(Refusal.WrongLength, this.commandSubscription.topic, data.length);
    const v = this.incoming;
    for (let i = 0; i < this.nu; i++) {
      const x = data[i];
      if (!Number.isFinite(x)) return this.refuse(Refusal.NonFinite, this.commandSubscription.topic, i);
    }
    for (let i = 0; i < this.nu; i++) v[i] = data[i];
    this.accept();
  }

  private onJointCommand(m: JointStateMsg): void {
    const topic = this.jointCommandSubscription.topic;
    const names = m?.name;
    if (!Array.isArray(names) || names.length === 0) return this.refuse(Refusal.Malformed, topic, 'no joint names');
    const values = (m.position?.length ?? 0) > 0 ? m.position! : (m.velocity?.length ?? 0) > 0 ? m.velocity! : m.effort;
    if (values === undefined || values.length !== names.length) return this.refuse(Refusal.WrongLength, topic, `${values?.length ?? 0} values for ${names.length} names`);
    this.seen.fill(0);
    for (let k = 0; k < names.length; k++) {
      const i = this.commandIndex.get(names[k]);
      if (i === undefined) return this.refuse(Refusal.UnknownJoint, topic, names[k]);
      if (this.seen[i]) return this.refuse(Refusal.RepeatedJoint, topic, names[k]);
      this.seen[i] = 1;
      if (!Number.isFinite(values[k])) return this.refuse(Refusal.NonFinite, topic, names[k]);
    }
    // joints the message leaves out keep the command in force (or the one waiting to be applied)
    const v = this.incoming;
    if (!this.hasNext) v.set(this.command);
    for (let k = 0; k < names.length; k++) v[this.commandIndex.get(names[k]) as number] = values[k];
    const stamp = m.header?.stamp;
    const stamped = stamp !== undefined && (stamp.sec !== 0 || stamp.nanosec !== 0);
    if (stamped && this.opts.clock === 'lockstep' && (stamp.sec !== this.pendingSec || stamp.nanosec !== this.pendingNanosec)) {
      // answers an earlier state (a late reply): not the answer lockstep waits for
      this.counters.commandsStale++;
      return;
    }
    this.accept();
  }

  /** `incoming` holds a valid command: clamp it, then apply (lockstep) or keep it for the next tick (real time). */
  private accept(): void {
    const now = performance.now();
    this.counters.commandsAccepted++;
    this.everCommanded = true;
    this.lastCommandAtMs = now;
    this.receivedAtMs = now;
    if (this.timedOut) {
      this.timedOut = false;
      this.log.info('commands again: watchdog cleared');
    }
    // The robot's action interface limits the command (so a bridged step is the in-process one, bit for bit);
    // here it is only counted, with a margin for a float32 policy output rounded just past its bound.
    let clamped = false;
    const { commandLow: lo, commandHigh: hi } = this.robot;
    for (let i = 0; i < this.nu; i++) {
      const x = this.incoming[i];
      if (x < lo[i] - CLAMP_MARGIN || x > hi[i] + CLAMP_MARGIN) clamped = true;
    }
    if (this.firstAnswerPending) {
      this.firstAnswerPending = false;
      this.latency.roundTrip.record((now - this.publishedAtMs) * 1000);
    }
    if (clamped) {
      this.counters.commandsClamped++;
      const n = this.clampThrottle.tick(now);
      if (n > 0) this.log.warn('command outside the command range: clamped', { clamped: this.counters.commandsClamped });
    }
    if (this.opts.clock === 'realtime') {
      this.hasNext = true;
      return;
    }
    if (!this.awaiting) {
      // lockstep, nothing waiting for an answer (stopped, or a state answered already): the newest command holds
      this.command.set(this.incoming);
      return;
    }
    this.command.set(this.incoming);
    this.awaiting = false;
    if (this.state === PAUSED) {
      this.answered = true;
      return;
    }
    if (this.state !== PLAYING) return;
    this.latency.apply.record((performance.now() - now) * 1000);
    this.advance();
  }

  private refuse(reason: Refusal, topic: string, detail: string | number): void {
    this.counters.commandsRefused++;
    const n = this.refuseThrottle.tick(performance.now());
    if (n === 0) return;
    const why = reason === Refusal.WrongLength
      ? `wrong length ${detail} (expected ${this.nu}: ${this.robot.commandNames.join(', ')})`
      : reason === Refusal.NonFinite
        ? `non-finite value at ${detail}`
        : reason === Refusal.UnknownJoint
          ? `unknown joint "${detail}" (commanded joints: ${this.robot.commandNames.join(', ')})`
          : reason === Refusal.RepeatedJoint
            ? `joint "${detail}" named twice`
            : `malformed (${detail})`;
    this.log.warn('refused command', { topic, reason: why, refused_since_last_log: n, refused_total: this.counters.commandsRefused });
  }

  /** Lockstep: no answer within the timeout. */
  private onMissed(): void {
    if (this.closed || !this.awaiting || this.state !== PLAYING) return;
    const policy = this.opts.missedCommand ?? 'hold';
    this.counters.commandsMissed++;
    const timeout = this.opts.lockstepTimeoutMs ?? 1000;
    if (policy === 'abort') {
      const err = new SimBridgeError(`lockstep: no command answered the state at sim time ${this.pendingSec}.${String(this.pendingNanosec).padStart(9, '0')} s (episode ${this.episode}, step ${this.robot.stepIndex}) within ${timeout} ms`);
      this.log.error('missed command: aborting', { timeout_ms: timeout });
      this.stop();
      this.rejectDone(err);
      return;
    }
    const n = this.missThrottle.tick(performance.now());
    if (n > 0) this.log.warn('missed command: stepping on', { timeout_ms: timeout, policy, missed_total: this.counters.commandsMissed });
    if (policy === 'zero') this.zeroCommand();
    this.awaiting = false;
    this.advance();
  }

  // -----------------------------------------------------------------------------------------------------------
  // end

  private finish(): void {
    this.stop();
    this.publishStatus();
    this.resolveDone(this.summary());
  }

  private stop(): void {
    this.state = STOPPED;
    this.awaiting = false;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.missTimer) clearTimeout(this.missTimer);
    if (this.peerTimer) clearTimeout(this.peerTimer);
    this.tickTimer = this.missTimer = this.peerTimer = null;
  }

  summary(): BridgeSummary {
    const wallSeconds = this.startedAtMs > 0 ? (performance.now() - this.startedAtMs) / 1000 : 0;
    const steps = this.counters.steps;
    return {
      task: this.robot.taskName,
      clock: this.opts.clock,
      episodes: [...this.episodes],
      steps,
      wallSeconds,
      stepsPerSecond: wallSeconds > 0 ? steps / wallSeconds : 0,
      realTimeFactor: wallSeconds > 0 ? (steps * this.robot.controlPeriod) / wallSeconds : 0,
      counters: { ...this.counters },
      latency: {
        physics: toMilliseconds(this.latency.physics.summary()), publish: toMilliseconds(this.latency.publish.summary()),
        roundTrip: toMilliseconds(this.latency.roundTrip.summary()), apply: toMilliseconds(this.latency.apply.summary()),
      },
    };
  }

  /** Stops the clock, says QUITTING on ~/status, closes every endpoint and the transport. Idempotent. */
  async close(): Promise<BridgeSummary> {
    const summary = this.summary();
    if (this.closed) return summary;
    this.stop();
    this.state = QUITTING;
    try {
      this.publishStatus();
    } catch {
      // the transport may already be gone
    }
    this.closed = true;
    for (const s of this.subscriptions) s.close();
    // reliable writers need a moment to deliver the last status before their endpoints disappear
    await sleep(20);
    for (const p of this.publishers) p.close();
    await this.transport.close();
    this.resolveDone(summary);
    return summary;
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
