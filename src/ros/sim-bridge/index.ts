// A simulated robot on ROS 2 (`onestep sim-bridge`): what ros2_control's joint_state_broadcaster,
// forward_command_controller and a simulator's clock give a controller, over any Transport.
//
// Out: sensor_msgs/JointState on /joint_states (stamp = sim time, the model's joint names), rosgraph_msgs/Clock on
// /clock once per control step (ClockQoS), one geometry_msgs/PointStamped per reported point (/tool_tip, /target,
// frame "world"), onestep_msgs/EpisodeStatus on ~/status (reward, return, success, mode, episode, counters).
// In: std_msgs/Float64MultiArray on /forward_position_controller/commands (one value per actuator, in the
// bridge's command order) and sensor_msgs/JointState on /joint_command (by joint name, any subset), plus
// ~/reset (std_msgs/Empty), ~/pause (std_msgs/Bool) and ~/step (std_msgs/UInt64, only while paused). Services:
// the standard simulation_interfaces ones (services.ts): ~/reset_simulation, ~/step_simulation,
// ~/get_simulation_state, ~/set_simulation_state, ~/get_simulator_features; and onestep's ~/reset_episode
// (onestep_msgs/ResetEpisode: a new episode with a given seed, what a training loop's reset(seed) asks for).
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
// success and flags are in ~/status. With episodeEnd 'hold' (training: the learner needs the terminal observation)
// the terminal state itself is published, its status flagged, and nothing steps until a reset. Bad commands (wrong length, non-finite, unknown or repeated joints) are
// refused whole, counted and logged once per throttle period; they never reach the simulation.
//
// The folder: types.ts (options, topics, counters, reports), publishers.ts (what goes out per state),
// commands.ts (checking what comes in), clock.ts (stamps, the real-time schedule, the measured factor),
// services.ts (simulation_interfaces, ResetEpisode); this file runs the simulation: lifecycle, stepping, lockstep,
// reset/pause/step, the summary.
// Why one ~610-line class: what is left is one state machine. Stepping, the lockstep wait, the real-time tick,
// pause/step/reset (from topics and from services) and the episode end all read and write the same few fields
// (simulation state, the awaited stamp, the command in force, hold, the episode's return) in an order that matters;
// spread over objects they would share that mutable state through accessors and the order would be harder to see.
import { setTimeout as sleep } from 'node:timers/promises';
import { LatencyRecorder, toMilliseconds } from '../../core/latency.ts';
import { Logger, Throttle } from '../node/diagnostics.ts';
import type { MessageInfo, Publisher, ServiceServer, Subscription, Transport } from '../transport.ts';
import { RealTimeFactorMeter, type Stamp, TickSchedule, writeStamp } from './clock.ts';
import { type ArrayCommandMsg, CommandChecker, type JointStateCommandMsg } from './commands.ts';
import { StatePublishers } from './publishers.ts';
import {
  type EpisodeReset, Result, SetStateResult, type SimulationControl, type SimulationResult, fail, offerEpisodeService, offerSimulationServices, ok, stateName,
} from './services.ts';
import {
  type BridgeCounters, type BridgedRobot, type BridgeEpisode, type BridgeSummary, type BridgeTopics, BRIDGE_CLOCKS, DEFAULT_BRIDGE_TOPICS, EPISODE_ENDS,
  type SimBridgeOptions, SimBridgeError, SimulationStateValue,
} from './types.ts';

export * from './types.ts';

const { STOPPED, PLAYING, PAUSED, QUITTING } = SimulationStateValue;
const LATENCY_CAPACITY = 1 << 16;

export class SimBridge implements SimulationControl {
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
  /** The command applied at the next step (actuator order). */
  private readonly command: Float64Array;
  private readonly checker: CommandChecker;
  private readonly joints: { position: Float64Array; velocity: Float64Array; effort: Float64Array };
  private readonly stamp: Stamp = { sec: 0, nanosec: 0 };

  private readonly out: StatePublishers;
  private readonly publishers: Publisher[] = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly commandSubscription: Subscription;
  private readonly jointCommandSubscription: Subscription;

  private state: SimulationStateValue = STOPPED;
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
  private readonly ticks: TickSchedule;
  private missTimer: NodeJS.Timeout | null = null;
  private peerTimer: NodeJS.Timeout | null = null;
  private readonly rtf: RealTimeFactorMeter;
  private startedAtMs = 0;
  private closed = false;
  /** The clock has started (play); stopped after this means stopped by a request, or finished. */
  private started = false;
  /** The configured episodes are done (or a quit was asked for). */
  private finished = false;
  /** episodeEnd 'hold': the terminal state is published, nothing steps until a reset. */
  private holding = false;
  private readonly services: ServiceServer[];
  private resolveDone!: (s: BridgeSummary) => void;
  private rejectDone!: (e: Error) => void;
  /** Per stage, the last samples in µs (recording allocates nothing); reported in ms. */
  private readonly latency = {
    physics: new LatencyRecorder(LATENCY_CAPACITY), publish: new LatencyRecorder(LATENCY_CAPACITY),
    roundTrip: new LatencyRecorder(LATENCY_CAPACITY), apply: new LatencyRecorder(LATENCY_CAPACITY),
  };
  private readonly missThrottle: Throttle;

  private constructor(private readonly opts: SimBridgeOptions) {
    const { robot, transport } = opts;
    this.robot = robot;
    this.transport = transport;
    this.log = opts.logger ?? new Logger('sim_bridge');
    this.topics = { ...DEFAULT_BRIDGE_TOPICS, ...opts.topics };
    this.nu = robot.commandNames.length;
    this.command = new Float64Array(this.nu);
    const nj = robot.jointNames.length;
    this.joints = { position: new Float64Array(nj), velocity: new Float64Array(nj), effort: new Float64Array(nj) };
    const throttleMs = opts.logThrottleMs ?? 1000;
    this.checker = new CommandChecker(robot.commandNames, this.counters, this.log, throttleMs);
    this.missThrottle = new Throttle(throttleMs);
    const rtf = opts.realTimeFactor ?? 1;
    if (!(rtf > 0) || !Number.isFinite(rtf)) throw new SimBridgeError(`real-time factor must be a positive number (got ${rtf})`);
    this.ticks = new TickSchedule((robot.controlPeriod * 1000) / rtf, () => this.onTick());
    this.rtf = new RealTimeFactorMeter(robot.controlPeriod);
    for (const [what, v] of [['command timeout', opts.commandTimeoutMs ?? 500], ['lockstep timeout', opts.lockstepTimeoutMs ?? 1000]] as const) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new SimBridgeError(`${what} must be a number of milliseconds ≥ 0 (got ${v})`);
    }
    if (opts.clock === 'lockstep' && !((opts.lockstepTimeoutMs ?? 1000) > 0)) throw new SimBridgeError('lockstep needs a timeout > 0 ms');
    if (opts.episodeEnd !== undefined && !EPISODE_ENDS.includes(opts.episodeEnd)) throw new SimBridgeError(`episode end must be one of ${EPISODE_ENDS.join(', ')} (got ${opts.episodeEnd})`);
    if (!BRIDGE_CLOCKS.includes(opts.clock)) throw new SimBridgeError(`clock must be one of ${BRIDGE_CLOCKS.join(', ')} (got ${opts.clock})`);

    const t = this.topics;
    this.out = new StatePublishers(transport, robot, t, opts.publishAlways ?? false);
    this.publishers.push(...this.out.all);
    const sub = <T>(topic: string, type: string, handler: (m: T, info: MessageInfo) => void) => {
      const s = transport.subscribe<T>(topic, type, 'default', handler);
      this.subscriptions.push(s);
      return s;
    };
    this.commandSubscription = sub<ArrayCommandMsg>(t.commands, 'std_msgs/msg/Float64MultiArray', (m) => this.onArrayCommand(m));
    this.jointCommandSubscription = sub<JointStateCommandMsg>(t.jointCommand, 'sensor_msgs/msg/JointState', (m) => this.onJointCommand(m));
    sub<Record<string, never>>(t.reset, 'std_msgs/msg/Empty', () => this.requestReset());
    sub<{ data: boolean }>(t.pause, 'std_msgs/msg/Bool', (m) => this.setPaused(m.data === true));
    sub<{ data: bigint | number }>(t.step, 'std_msgs/msg/UInt64', (m) => this.stepPaused(Number(m.data)));
    this.services = opts.simulationServices === false ? [] : [...offerSimulationServices(transport, t.services, this), offerEpisodeService(transport, t.services, this)];

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
      const controller = this.out.joints.matchedSubscriptions() > 0 && (this.commandSubscription.matchedPublishers() > 0 || this.jointCommandSubscription.matchedPublishers() > 0);
      if (!controller) {
        if (throttle.tick(now) > 0 && now - since > 1000) {
          this.log.info('lockstep: waiting for a controller', { needs: `a subscriber on ${this.out.joints.topic} and a publisher on ${this.commandSubscription.topic} or ${this.jointCommandSubscription.topic}` });
        }
      } else {
        if (readyAt < 0) readyAt = now;
        const pointsMatched = this.out.points.every((p) => p.matchedSubscriptions() > 0);
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
    this.started = true;
    this.state = PLAYING;
    this.startedAtMs = performance.now();
    this.rtf.restart(this.startedAtMs);
    if (this.opts.clock === 'lockstep') {
      this.missTimer = setTimeout(() => this.onMissed(), this.opts.lockstepTimeoutMs ?? 1000);
      this.publishState();
    } else {
      this.publishState();
      this.ticks.restart();
    }
  }
  // -----------------------------------------------------------------------------------------------------------
  // stepping

  /** One control step with the command in force; publishes the next state (or the next episode's first). */
  private advance(): void {
    if (this.holding) return; // the episode is over: nothing to step until a reset
    const t0 = performance.now();
    const r = this.robot.step(this.command);
    const t1 = performance.now();
    this.latency.physics.record((t1 - t0) * 1000);
    this.counters.steps++;
    this.rtf.step();
    this.episodeReturn += r.reward;
    this.lastReward = r.reward;
    this.lastSuccess = r.info.success;
    this.lastMode = r.info.mode ?? null;
    this.lastTerminated = r.terminated;
    this.lastTruncated = r.truncated;
    if (r.terminated || r.truncated) {
      const hold = this.opts.episodeEnd === 'hold';
      if (!hold) this.publishStatus(); // the terminal step's reward, success and flags (with hold, its state says them)
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
      if (hold) {
        this.holding = true;
        this.publishState();
        return;
      }
      this.nextEpisode();
    }
    this.rtf.update();
    this.publishState();
  }

  /** The next episode, reset with `seed` (default: the bridge's own sequence, seed + its index). */
  private nextEpisode(seed?: number): void {
    this.episode++;
    this.episodeSeed = seed ?? this.opts.seed + this.episode;
    this.holding = false;
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
      this.ticks.cancel();
      return;
    }
    this.resume();
  }

  /** PLAYING again after a pause or a stop: the clock restarts from now; lockstep steps with an answer that came meanwhile. */
  private resume(): void {
    this.rtf.restart();
    if (this.opts.clock === 'realtime') this.ticks.restart();
    else if (this.answered) {
      this.answered = false;
      this.awaiting = false;
      this.advance();
    } else {
      this.missTimer?.refresh();
    }
  }

  /** ~/step N while paused: N control steps with the command in force, each state published; the steps done. */
  private stepPaused(n: number): number {
    if (this.state !== PAUSED) {
      this.log.warn('step refused: the simulation is not paused (publish true on the pause topic first)', { requested: n });
      return 0;
    }
    if (!Number.isInteger(n) || n < 1) return 0;
    let k = 0;
    for (; k < n && this.state === PAUSED && !this.holding; k++) {
      this.awaiting = false;
      this.answered = false;
      this.advance();
    }
    return k;
  }

  // -----------------------------------------------------------------------------------------------------------
  // simulation_interfaces (services.ts answers the calls with these)

  /** The SimulationState value now. */
  get simulationState(): number {
    return this.state;
  }

  get description(): string {
    return `onestep sim-bridge: ${this.robot.taskName}, ${this.opts.clock} clock, control period ${+(this.robot.controlPeriod * 1000).toFixed(3)} ms; `
      + `a reset starts the next episode (episode k is seeded ${this.opts.seed} + k)`;
  }

  /** ResetSimulation: time and state to the start of the next episode (stopped: already there). */
  resetSimulation(): SimulationResult {
    if (this.finished || this.state === QUITTING) return fail(Result.INCORRECT_STATE, 'the bridge has finished its episodes');
    if (this.state === STOPPED) return ok(); // not started yet, or stopped (a stop resets): at the start already
    this.requestReset();
    return ok();
  }

  /** SetSimulationState: play, pause, stop (= pause at the start of the next episode) or quit (end the run). */
  setSimulationState(target: number): SimulationResult {
    if (this.finished || this.state === QUITTING) return fail(SetStateResult.STATE_TRANSITION_ERROR, 'the bridge has finished its episodes');
    if (target !== STOPPED && target !== PLAYING && target !== PAUSED && target !== QUITTING) {
      return fail(Result.FEATURE_UNSUPPORTED, `${stateName(target)}: the bridge has one world, always loaded`);
    }
    if (target === this.state) return fail(SetStateResult.ALREADY_IN_TARGET_STATE, `already ${stateName(target)}`);
    this.log.info('simulation state requested', { from: stateName(this.state), to: stateName(target) });
    if (target === QUITTING) {
      // the reply goes out first; then the run ends as when its episodes are done
      setTimeout(() => {
        if (!this.closed && !this.finished) this.finish();
      }, 50).unref();
      return ok();
    }
    if (target === STOPPED) {
      this.ticks.cancel();
      this.requestReset();
      this.state = STOPPED;
      this.publishStatus();
      return ok();
    }
    if (!this.started) {
      // stopped before the first step (lockstep waiting for a controller): start now, paused if asked
      if (this.peerTimer) clearTimeout(this.peerTimer);
      this.peerTimer = null;
      this.play();
      if (target === PAUSED) this.setPaused(true);
      return ok();
    }
    if (this.state === STOPPED) {
      this.state = target;
      this.publishStatus();
      if (target === PLAYING) this.resume();
      return ok();
    }
    this.setPaused(target === PAUSED);
    return ok();
  }

  /** StepSimulation: N steps while paused, answered when done. */
  stepSimulation(steps: number): SimulationResult {
    if (this.state !== PAUSED) return fail(Result.OPERATION_FAILED, `the simulation is ${stateName(this.state)}, not paused: pause it first (SetSimulationState STATE_PAUSED)`);
    const done = this.stepPaused(steps);
    if (done < steps) {
      const why = this.holding ? 'the episode ended (episode end: hold): reset to go on' : 'the run\'s episodes are done';
      return fail(Result.OPERATION_FAILED, `stopped after ${done} of ${steps} steps: ${why}`);
    }
    return ok();
  }

  /** ResetEpisode: a new episode now, reset with `seed`; its first state is published before this returns. */
  resetEpisode(seed: number): EpisodeReset {
    const refuse = (message: string): EpisodeReset => ({ success: false, message, episode: this.episode, stamp: { sec: 0, nanosec: 0 } });
    if (this.finished || this.state === QUITTING) return refuse('the bridge has finished its episodes');
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) return refuse(`seed must be an integer in [0, 4294967295] (got ${seed})`);
    this.log.info('episode reset requested', { episode: this.episode, step: this.robot.stepIndex, seed });
    if (!this.started) {
      // a controller that asks for an episode is there: start with it instead of waiting out the peer settle
      if (this.peerTimer) clearTimeout(this.peerTimer);
      this.peerTimer = null;
      this.episodeSeed = seed;
      this.robot.reset(seed);
      this.robot.readCommand(this.command);
      this.play();
    } else {
      this.nextEpisode(seed);
      this.answered = false;
      this.publishState();
    }
    return { success: true, message: '', episode: this.episode, stamp: { sec: this.stamp.sec, nanosec: this.stamp.nanosec } };
  }

  private publishState(): void {
    const t0 = performance.now();
    // one state is several topics for the same subscribers: over rtps they leave as one datagram, so the controller
    // is woken (and the bridge calls sendmsg) once per step instead of once per topic
    if (this.transport.coalesce !== undefined) this.transport.coalesce(this.sendState);
    else this.sendState();
    const t1 = performance.now();
    this.publishedAtMs = t1;
    this.firstAnswerPending = true;
    this.latency.publish.record((t1 - t0) * 1000);
    if (this.awaiting && this.state === PLAYING) this.missTimer?.refresh();
    this.opts.onState?.({ episode: this.episode, step: this.robot.stepIndex, stampSec: this.stamp.sec, stampNanosec: this.stamp.nanosec, observation: this.robot.observation });
  }

  private readonly sendState = (): void => {
    const stamp = writeStamp(this.robot.time, this.stamp);
    this.out.publishPoints(this.robot, stamp);
    this.publishStatus();
    this.out.publishClock(stamp);
    const { position, velocity, effort } = this.joints;
    this.robot.readJoints(position, velocity, effort);
    this.out.prepareJoints(stamp, position, velocity, effort);
    // armed before the joint state goes out: an in-process controller may answer inside the publish
    this.pendingSec = stamp.sec;
    this.pendingNanosec = stamp.nanosec;
    this.awaiting = this.opts.clock === 'lockstep' && !this.holding;
    this.answered = false;
    this.out.sendJoints();
  };

  private publishStatus(): void {
    // encoding the status is the costliest part of a state: skipped while nobody listens (it is volatile anyway)
    if (!this.out.statusWanted()) return;
    const m = this.out.statusMessage;
    writeStamp(this.robot.time, m.header.stamp);
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
    m.real_time_factor = this.rtf.value;
    this.out.sendStatus();
  }

  // -----------------------------------------------------------------------------------------------------------
  // real time

  private onTick(): void {
    if (this.closed || this.state !== PLAYING) return;
    const now = performance.now();
    const timeout = this.opts.commandTimeoutMs ?? 500;
    if (this.hasNext) {
      this.command.set(this.checker.incoming);
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
    if (!this.closed && this.state === PLAYING) this.ticks.next();
  }

  private zeroCommand(): void {
    for (let i = 0; i < this.nu; i++) this.command[i] = clamp(0, this.robot.commandLow[i], this.robot.commandHigh[i]);
  }

  // -----------------------------------------------------------------------------------------------------------
  // commands

  private onArrayCommand(m: ArrayCommandMsg): void {
    if (this.checker.checkArray(m, this.commandSubscription.topic)) this.accept();
  }

  private onJointCommand(m: JointStateCommandMsg): void {
    // joints the message leaves out keep the command in force (or the one waiting to be applied)
    if (!this.checker.checkJointState(m, this.jointCommandSubscription.topic, this.hasNext ? null : this.command)) return;
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
    if (this.firstAnswerPending) {
      this.firstAnswerPending = false;
      this.latency.roundTrip.record((now - this.publishedAtMs) * 1000);
    }
    // The robot's action interface limits the command (so a bridged step is the in-process one, bit for bit);
    // here it is only counted, with a margin for a float32 policy output rounded just past its bound.
    this.checker.countClamped(this.robot.commandLow, this.robot.commandHigh, now);
    if (this.opts.clock === 'realtime') {
      this.hasNext = true;
      return;
    }
    if (!this.awaiting) {
      // lockstep, nothing waiting for an answer (stopped, or a state answered already): the newest command holds
      this.command.set(this.checker.incoming);
      return;
    }
    this.command.set(this.checker.incoming);
    this.awaiting = false;
    if (this.state === PAUSED || this.state === STOPPED) {
      // paused, or stopped by SetSimulationState (only then is a state awaiting an answer): step with it on resume
      this.answered = true;
      return;
    }
    if (this.state !== PLAYING) return;
    this.latency.apply.record((performance.now() - now) * 1000);
    this.advance();
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
    this.finished = true;
    this.stop();
    this.publishStatus();
    this.resolveDone(this.summary());
  }

  private stop(): void {
    this.state = STOPPED;
    this.awaiting = false;
    this.ticks.cancel();
    if (this.missTimer) clearTimeout(this.missTimer);
    if (this.peerTimer) clearTimeout(this.peerTimer);
    this.missTimer = this.peerTimer = null;
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
    for (const s of this.services) s.close();
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
