// The policy node: observations in, one forward pass, a safe command out. Event-driven (act on every message of
// the trigger source) or timer-driven (fixed control rate, newest observation, decimation). Everything the hot
// path touches is built at start; per observation it validates into preallocated buffers, runs the policy,
// maps and filters the action, patches a pre-serialized message and publishes the bytes.
// What ROS tools reach: parameter services (live changes to the parameters in RUNTIME_PARAMETERS), the node
// services ~/reload, ~/enable, ~/disable with the control mode machine, /rosout, and use_sim_time.
// Why one ~710-line class: the hot path and the state machines it drives (control mode, blend-in, watchdog,
// deadline) read and write the same preallocated fields on every pass, and keeping them on one object keeps the
// path free of indirection. What stands apart is in its own file: the model's plan (policy-plan.ts), reloading
// (model-reload.ts), observation assembly, action mapping and encoding, safety, diagnostics, parameters.
import { setTimeout as sleep } from 'node:timers/promises';
import type { PolicySpec } from '../../format/spec.ts';
import type { MessageInfo, Publisher, ServiceServer, Subscription, Transport } from '../transport.ts';
import { getMessageCodec } from '../msgs/registry.ts';
import { nodeFqn } from '../names.ts';
import { ActionEncoder, ActionInfo, PolicyIoEncoder } from './action.ts';
import { NodeClock } from './clock.ts';
import {
  ASSEMBLE, DECODE, E2E, ENCODE, INFER, Logger, POSTPROCESS, SEND, StageLatencies, Throttle, diagnosticArray, policyStatus,
  type NodeCounters, type NodeState,
} from './diagnostics.ts';
import { JointStateTracker, describeDrop, isDerived } from './observation.ts';
import { ModelReloader } from './model-reload.ts';
import { ParameterServer, type ParameterChange, type ParameterDeclaration } from './parameter-server.ts';
import { RUNTIME_PARAMETERS, buildConfig, declaredParameters, type NodeConfig } from './params.ts';
import type { ParameterValue } from './ros-args.ts';
import { Rosout } from './rosout.ts';
import { SAFETY_EVENT, SafetyFilter, Watchdog } from './safety.ts';
import { PassTimingsPublisher, fnv1a32, monotonicMinusPerformanceMs } from './timings.ts';
import { PolicyNodeError, planFor, type Plan, type Policy, type PolicyLoader } from './policy-plan.ts';

export { PolicyNodeError, planFor, type Policy, type PolicyLoader } from './policy-plan.ts';

/**
 * passive: not commanding (autostart off, or never enabled); active: acting, blending in first from the measured
 * position when safety.blend_in_steps > 0 (reported as blend_in); hold: disabled after acting, the last command held.
 */
export type ControlMode = 'passive' | 'active' | 'hold';

/**
 * What {@link PolicyNode.start} needs: a transport to act on, the node's configuration (`buildConfig`), and how to
 * load a model.
 */
export interface PolicyNodeOptions {
  transport: Transport;
  config: NodeConfig;
  loadPolicy: PolicyLoader;
  logger?: Logger;
  /** Samples kept per latency stage (a report resets them unless diagnostics are off). */
  latencyCapacity?: number;
  /** Time given to reliable writers to deliver the final safe action before endpoints close (ms). */
  shutdownGraceMs?: number;
}

// indices into PolicyNode.stamps (the trigger's previous header stamp sits beside the pass's clock reads)
const RECEIVED = 0, ENTRY = 1, ASSEMBLED = 2, INFERRED = 3, ENCODED = 4, SENT = 5, PREVIOUS_SEC = 6, PREVIOUS_NANOSEC = 7, FILTERED = 8;

function zeroCounters(): NodeCounters {
  return {
    observationsReceived: 0, observationsDropped: 0, actionsPublished: 0, actionsRefused: 0, safeActionsPublished: 0,
    deadlineMisses: 0, staleEvents: 0, reloads: 0, reloadsRefused: 0,
  };
}


/**
 * The ROS 2 policy node `onestep serve` runs: subscribes to the configured observation sources, assembles and
 * validates the observation, runs the policy once per trigger message or timer tick, and publishes a clamped, rate-
 * limited, blended command; a watchdog publishes the safe action when observations stop. Offers diagnostics,
 * parameters and model reload. Start with {@link PolicyNode.start}; stop with `shutdown`.
 */
export class PolicyNode {
  readonly counters: NodeCounters = zeroCounters();
  readonly latency: StageLatencies;
  state: NodeState = 'waiting';
  /** The last command published (output joint order). */
  readonly command: Float64Array;
  modelPath: string;
  /** Each stale event: when it fired (CLOCK_MONOTONIC ms, as process.hrtime) and ms since the last valid trigger observation. */
  readonly staleEvents: { atMs: number; delayMs: number }[] = [];

  private policy: Policy;
  private plan: Plan;
  private readonly safety: SafetyFilter;
  private readonly watchdog: Watchdog;
  private readonly tracker: JointStateTracker;
  private readonly target: Float64Array;
  private readonly previousTarget: Float64Array;
  private readonly nextTarget: Float64Array;
  /** The last policy command after the joint-limit clamp (output order): the last_command observation source. */
  private readonly lastCommand: Float64Array;
  /** lastCommand must restart from the measured position (start, watchdog recovery, the trigger's time jumped back). */
  private commandRestart = true;
  private readonly dampingGain: Float64Array;
  private controlMode: ControlMode;
  private readonly encoder: ActionEncoder;
  private readonly publisher: Publisher;
  /** ~/safety_events: what the watchdog did and the safe actions it published (a recording carries them for replay). */
  private readonly safetyEvents: Publisher;
  /** Fingerprint (FNV-1a) of the last safe action published. */
  private lastSafeHash = 0;
  private readonly subscriptions: Subscription[] = [];
  /** Per observation source, its resolved topic ("(derived)" for derived sources), for log lines. */
  private sourceTopics: string[] = [];
  private statusPublisher: Publisher | null = null;
  private diagnosticsPublisher: Publisher | null = null;
  private ioPublisher: Publisher | null = null;
  private ioEncoder: PolicyIoEncoder | null = null;
  private readonly actionInfo = new ActionInfo();
  private readonly log: Logger;
  private dropThrottle: Throttle;
  private deadlineThrottle: Throttle;
  private refuseThrottle: Throttle;
  private readonly waitingThrottle = new Throttle(5000);
  private jumpThrottle: Throttle;
  private deadlineMs: number;
  private readonly perfOffsetMs: number;
  /** ROS time: the system clock, or /clock with use_sim_time. */
  readonly clock: NodeClock;
  /** The node's parameters as ROS tools reach them (set_parameters applies RUNTIME_PARAMETERS live). */
  parameters: ParameterServer | null = null;
  private rosout: Rosout | null = null;
  private readonly nodeServices: ServiceServer[] = [];
  private cancelControlTimer: (() => void) | null = null;
  private reportTimer: NodeJS.Timeout | null = null;
  /** performance.now() ms of the current pass: RECEIVED, ENTRY, ASSEMBLED, INFERRED, ENCODED, SENT; then the trigger's previous stamp. */
  private readonly stamps = new Float64Array(9);
  /** Per-pass clock reads for profilers (~/timings), when diagnostics.timings is on. */
  private timings: PassTimingsPublisher | null = null;
  private timers: NodeJS.Timeout[] = [];
  private readonly reloader: ModelReloader;
  private previousCounters: NodeCounters = zeroCounters();
  private lastReportMs = performance.now();
  private tick = 0;
  private hasTarget = false;
  private blendPending = true;
  private closed = false;
  private message = 'waiting for observations';

  private constructor(
    private readonly opts: PolicyNodeOptions,
    policy: Policy,
    plan: Plan,
  ) {
    const { transport, config } = opts;
    this.log = opts.logger ?? new Logger(nodeFqn(transport.node), 'info', config.logFormat);
    this.clock = new NodeClock(transport, { log: (level, message, fields) => this.log.log(level, message, fields) });
    this.controlMode = config.autostart ? 'active' : 'passive';
    this.modelPath = config.model;
    this.policy = policy;
    this.plan = plan;
    this.latency = new StageLatencies(opts.latencyCapacity ?? 4096);
    const n = plan.mapper.size;
    this.command = new Float64Array(n);
    this.target = new Float64Array(n);
    this.previousTarget = new Float64Array(n);
    this.nextTarget = new Float64Array(n);
    this.lastCommand = new Float64Array(n);
    this.safety = new SafetyFilter(plan.limits);
    this.tracker = new JointStateTracker(plan.stateJoints);
    const gain = config.safety.dampingGain;
    if (gain.length !== 1 && gain.length !== n) {
      throw new PolicyNodeError(`safety.damping_gain has ${gain.length} values, expected 1 or ${n} (one per joint: ${plan.mapper.names.join(', ')})`);
    }
    this.dampingGain = new Float64Array(n).fill(gain[0]);
    if (gain.length === n) this.dampingGain.set(gain);
    this.dropThrottle = new Throttle(config.logThrottleMs);
    this.deadlineThrottle = new Throttle(config.logThrottleMs);
    this.refuseThrottle = new Throttle(config.logThrottleMs);
    this.jumpThrottle = new Throttle(config.logThrottleMs);
    this.deadlineMs = deadlineOf(config);
    this.perfOffsetMs = monotonicMinusPerformanceMs();

    const actionCodec = getMessageCodec(config.action.type);
    const tfsMs = config.action.timeFromStartMs > 0 ? config.action.timeFromStartMs : config.mode === 'timer' ? 2000 / config.controlRateHz : 20;
    this.encoder = ActionEncoder.create(config.action.type, plan.mapper.names, plan.mapper.mode, (m) => actionCodec.encode(m as Record<string, unknown>), tfsMs * 1e6, this.clock);
    this.publisher = transport.advertise(config.action.topic, config.action.type, config.action.qos);
    this.safetyEvents = transport.advertise('~/safety_events', 'onestep_msgs/msg/SafetyEvent', { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 100 });
    this.setPolicyIo(config.diagnostics.policyIo);
    if (config.diagnostics.rateHz > 0) this.openDiagnostics();

    this.watchdog = new Watchdog(
      config.safety.watchdogMs,
      config.safety.recoveryObservations,
      (first, idleMs, restarted) => this.onStale(first, idleMs, restarted),
      () => this.onRecover(),
    );    this.reloader = new ModelReloader(opts.loadPolicy, {
      running: () => ({ policy: this.policy, plan: this.plan, path: this.modelPath }),
      closed: () => this.closed,
      switchTo: (next, nextPlan, path) => this.switchModel(next, nextPlan, path),
    }, this.log, this.counters, () => this.opts.config);
  }

  /** Loads the model, checks it against the parameters, opens every endpoint and starts acting. */
  static async start(opts: PolicyNodeOptions): Promise<PolicyNode> {
    // the node's own copy: parameter changes update it in place while it runs
    opts = { ...opts, config: structuredClone(opts.config) };
    const { config } = opts;
    if (config.model === '') throw new PolicyNodeError('no model: pass --model m.onnx or set the "model" parameter');
    const policy = await opts.loadPolicy(config.model);
    let node: PolicyNode;
    try {
      node = new PolicyNode(opts, policy, planFor(policy.spec, config, config.model));
    } catch (err) {
      policy.close();
      throw err;
    }
    node.open();
    return node;
  }

  /** The spec of the model the node is running (changes on reload). */
  get modelSpec(): PolicySpec {
    return this.policy.spec;
  }

  /** The joint names of the published command, in its order. */
  get actionNames(): readonly string[] {
    return this.plan.mapper.names;
  }

  private open(): void {
    const { transport, config } = this.opts;
    this.sourceTopics = config.sources.map((source, index) => {
      if (isDerived(source)) return '(derived)';
      const handler = (message: unknown, info: MessageInfo) => this.onObservation(index, message, info);
      const subscription = transport.subscribe(source.topic, source.type, source.qos, handler);
      this.subscriptions.push(subscription);
      return subscription.topic;
    });
    // the request topic of earlier versions stays: a String with a path reloads that model (empty: the current one)
    this.subscriptions.push(
      transport.subscribe<{ data: string }>('~/reload', 'std_msgs/msg/String', 'default', (m) => {
        void this.reload(m.data === '' ? undefined : m.data);
      }),
    );
    this.openNodeInterfaces();
    if (config.mode === 'timer') this.cancelControlTimer = this.clock.createTimer(1000 / config.controlRateHz, () => this.onTick());
    this.setReportRate(config.diagnostics.rateHz);
    if (config.watchModel) this.reloader.watchModelFile();
    if (config.diagnostics.timings) {
      const slots = { received: RECEIVED, entered: ENTRY, assembled: ASSEMBLED, inferred: INFERRED, filtered: FILTERED, encoded: ENCODED, sent: SENT };
      this.timings = new PassTimingsPublisher(transport, slots, this.perfOffsetMs);
    }
    const spec = this.policy.spec;
    this.log.info('policy node started', {
      model: this.modelPath, model_id: spec.checkpointId, algorithm: spec.algorithm, task: spec.task, mode: config.mode, control_mode: this.controlMode,
      transport: transport.kind, commands: this.publisher.topic, command_type: config.action.type,
      observation: config.sources.map((s) => `${s.name}@${s.topic}`).join(','),
    });
    if (spec.trainingSteps === 0) this.log.warn('the model is UNTRAINED (trainingSteps = 0)', { model: this.modelPath });
  }

  // ---------------------------------------------------------------------------------------------------------
  // hot path

  private onObservation(index: number, message: unknown, info: MessageInfo): void {
    if (this.closed) return;
    // Timestamps live in a typed array, not in locals passed down: a double argument to a call V8 does not
    // inline is boxed (an allocation). What remains per observation are the clock reads themselves.
    const t = this.stamps;
    t[ENTRY] = performance.now();
    t[RECEIVED] = Number(info.receivedAt) / 1e6 - this.perfOffsetMs;
    this.counters.observationsReceived++;
    const plan = this.plan;
    const source = plan.assembler.sources[index];
    t[PREVIOUS_SEC] = source.stampSec;
    t[PREVIOUS_NANOSEC] = source.stampNanosec;
    if (!plan.assembler.accept(index, message)) {
      this.onDrop(index);
      return;
    }
    source.receivedAtMs = t[RECEIVED];
    if (index === plan.stateIndex) this.tracker.update(message);
    if (index !== plan.triggerIndex) return;
    if (source.stampSec < t[PREVIOUS_SEC] || (source.stampSec === t[PREVIOUS_SEC] && source.stampNanosec < t[PREVIOUS_NANOSEC])) this.onTimeJump();
    if (!this.watchdog.feed(t[ENTRY])) return;
    if (this.state !== 'running') {
      if (!plan.assembler.ready) {
        if (this.waitingThrottle.tick(t[ENTRY]) > 0) {
          const missing = plan.assembler.sources.filter((s) => !s.derived && s.received === 0).map((s) => `${s.name} (${this.sourceTopics[plan.assembler.sources.indexOf(s)]})`);
          this.log.info('waiting for observation sources before acting', { missing: missing.join(', ') });
        }
        return;
      }
      this.state = 'running';
      this.message = this.controlMode === 'active' ? 'acting' : `${this.controlMode}: observations complete, not commanding`;
      this.log.info(this.controlMode === 'active' ? 'observations complete: acting' : 'observations complete (not commanding until ~/enable)', {
        sources: plan.assembler.sources.length, control_mode: this.controlMode,
      });
    }
    if (this.opts.config.mode === 'timer' || this.controlMode !== 'active') return;
    t[ASSEMBLED] = performance.now();
    this.act(true);
  }

  /** One policy step on the current observation (stamps[RECEIVED..ASSEMBLED] set); publishes the filtered command. */
  private act(fromObservation: boolean): void {
    const plan = this.plan;
    const t = this.stamps;
    if (plan.assembler.usesCommand && this.commandRestart) {
      if (!this.tracker.hasPosition) {
        this.refuse('no measured joint position yet to start the last_command observation from');
        return;
      }
      this.clampIntoLastCommand(this.tracker.position, false);
      this.commandRestart = false;
    }
    plan.assembler.derive(this.lastCommand);
    let action: Float32Array;
    try {
      action = this.policy.act(plan.assembler.vector);
    } catch (err) {
      this.refuse(`policy step failed: ${(err as Error).message}`);
      return;
    }
    t[INFERRED] = performance.now();
    if (!plan.mapper.map(action, this.tracker.hasPosition ? this.tracker.position : null, this.target)) {
      this.refuse('no measured joint position yet for a delta action');
      return;
    }
    this.clampIntoLastCommand(this.target, true);
    if (this.opts.config.mode === 'timer') {
      // decimation: the command for the coming ticks interpolates (or holds) towards this target
      this.previousTarget.set(this.hasTarget ? this.nextTarget : this.target);
      this.nextTarget.set(this.target);
      this.hasTarget = true;
      const { interpolate, decimation } = this.opts.config;
      if (interpolate && decimation > 1) {
        for (let j = 0; j < this.target.length; j++) {
          this.target[j] = this.previousTarget[j] + (this.nextTarget[j] - this.previousTarget[j]) / decimation;
        }
      }
    }
    this.sendCommand(this.target, fromObservation, action);
  }

  /**
   * lastCommand = `command` clamped to the joint limits, before rate limit, interpolation and blend-in. A policy
   * command is first kept within what the model can command (offset ± scale, the range a simulator's action
   * interface clips to: a float32 output can round a hair past it); a measured position is taken as it is.
   */
  private clampIntoLastCommand(command: Float64Array, fromPolicy: boolean): void {
    const { lower, upper } = this.safety.limits;
    const range = this.plan.commandRange;
    const out = this.lastCommand;
    for (let j = 0; j < out.length; j++) {
      let x = command[j];
      if (fromPolicy) x = x < range.lower[j] ? range.lower[j] : x > range.upper[j] ? range.upper[j] : x;
      out[j] = x < lower[j] ? lower[j] : x > upper[j] ? upper[j] : x;
    }
  }

  /**
   * The trigger's header stamp went backwards: a simulator reset (sim time restarts) or a clock stepped back.
   * What the node carries over from earlier observations restarts as after a watchdog recovery: the blend-in and
   * rate limit from the measured position, the last_command observation from the measured position.
   */
  private onTimeJump(): void {
    this.commandRestart = true;
    this.blendPending = true;
    this.hasTarget = false;
    this.tick = 0;
    const n = this.jumpThrottle.tick(this.stamps[ENTRY]);
    if (n > 0) this.log.info('observation stamps jumped back (simulator reset?): restarting from the measured joint positions', { events: n });
  }

  private sendCommand(target: Float64Array, fromObservation: boolean, action: Float32Array | null): void {
    const t = this.stamps;
    if (this.blendPending) {
      this.safety.startBlendIn(this.tracker.hasPosition ? this.tracker.position : null);
      this.blendPending = false;
    }
    if (!this.safety.filter(target, this.command)) {
      this.refuse('the command is not finite after filtering');
      return;
    }
    let clipped = false;
    for (let j = 0; j < this.command.length; j++) if (this.command[j] !== target[j]) clipped = true;
    const info = this.actionInfo;
    const trigger = this.plan.assembler.sources[this.plan.triggerIndex];
    const v = info.values;
    v[ActionInfo.OBSERVATION_SEC] = trigger.stampSec;
    v[ActionInfo.OBSERVATION_NANOSEC] = trigger.stampNanosec;
    v[ActionInfo.INFERENCE_MS] = t[INFERRED] - t[ASSEMBLED];
    // up to the forward pass and filter; the message cannot carry its own send time
    v[ActionInfo.LATENCY_MS] = t[INFERRED] - t[RECEIVED];
    info.clipped = clipped;
    t[FILTERED] = performance.now();
    const bytes = this.encoder.write(this.command, info);
    t[ENCODED] = performance.now();
    this.publisher.publishRaw(bytes);
    t[SENT] = performance.now();
    this.counters.actionsPublished++;
    this.recordStages(fromObservation, action !== null);
    if (this.timings !== null) this.timings.record(t, trigger.stampSec, trigger.stampNanosec, action !== null, bytes);
    if (t[SENT] - t[RECEIVED] > this.deadlineMs) this.onDeadlineMiss();
    if (this.ioPublisher !== null && action !== null) {
      this.ioPublisher.publishRaw((this.ioEncoder as PolicyIoEncoder).write(this.plan.assembler.vector, this.command));
    }
  }

  /** Stage latencies of this pass (µs), from `stamps`, as typed-array stores (nothing boxed, nothing allocated). */
  private recordStages(fromObservation: boolean, inferred: boolean): void {
    const t = this.stamps;
    const l = this.latency;
    const s = l.samples;
    if (inferred) {
      if (fromObservation) {
        s[l.slot(DECODE)] = (t[ENTRY] - t[RECEIVED]) * 1000;
        s[l.slot(ASSEMBLE)] = (t[ASSEMBLED] - t[ENTRY]) * 1000;
      }
      s[l.slot(INFER)] = (t[INFERRED] - t[ASSEMBLED]) * 1000;
    }
    s[l.slot(POSTPROCESS)] = (t[FILTERED] - t[INFERRED]) * 1000;
    s[l.slot(ENCODE)] = (t[ENCODED] - t[FILTERED]) * 1000;
    s[l.slot(SEND)] = (t[SENT] - t[ENCODED]) * 1000;
    s[l.slot(E2E)] = (t[SENT] - t[RECEIVED]) * 1000;
  }

  private onDeadlineMiss(): void {
    const t = this.stamps;
    this.counters.deadlineMisses++;
    const n = this.deadlineThrottle.tick(t[SENT]);
    if (n > 0) this.log.warn('deadline missed', { latency_ms: +(t[SENT] - t[RECEIVED]).toFixed(3), deadline_ms: this.deadlineMs, events: n });
  }

  private onTick(): void {
    if (this.closed) return;
    const t = this.stamps;
    // timer mode: the stages run from the tick (the observation may be older; its age is the watchdog's concern)
    t[RECEIVED] = t[ENTRY] = t[ASSEMBLED] = t[INFERRED] = performance.now();
    const config = this.opts.config;
    if (this.controlMode !== 'active') return;
    if (this.watchdog.state === 'stale') {
      if (this.publishSafe()) {
        this.publishSafetyEvent(SAFETY_EVENT.STALE_TICK, t[ENTRY] - this.plan.assembler.sources[this.plan.triggerIndex].receivedAtMs, false, config.safety.staleAction);
      }
      return;
    }
    if (this.state !== 'running') return;
    const phase = this.tick % config.decimation;
    this.tick++;
    if (phase === 0) {
      this.act(false);
      return;
    }
    if (!this.hasTarget) return;
    if (config.interpolate) {
      const alpha = (phase + 1) / config.decimation;
      for (let j = 0; j < this.target.length; j++) this.target[j] = this.previousTarget[j] + alpha * (this.nextTarget[j] - this.previousTarget[j]);
    } else {
      this.target.set(this.nextTarget);
    }
    this.sendCommand(this.target, false, null);
  }

  private onDrop(index: number): void {
    this.counters.observationsDropped++;
    const n = this.dropThrottle.tick(this.stamps[ENTRY]);
    if (n > 0) {
      const s = this.plan.assembler.sources[index];
      this.log.warn('dropped observation', {
        source: s.name, topic: this.sourceTopics[index], reason: describeDrop(s.lastDrop, s.lastDropDetail), dropped_since_last_log: n,
        dropped_total: this.counters.observationsDropped,
      });
    }
  }

  private refuse(reason: string): void {
    this.counters.actionsRefused++;
    const n = this.refuseThrottle.tick(performance.now());
    if (n > 0) this.log.error('no action published', { reason, refused_since_last_log: n });
  }

  // ---------------------------------------------------------------------------------------------------------
  // watchdog and safe actions

  private onStale(first: boolean, idleMs: number, recoveryRestarted: boolean): void {
    if (this.closed) return;
    if (first) {
      const now = performance.now();
      this.staleEvents.push({ atMs: now + this.perfOffsetMs, delayMs: now - this.plan.assembler.sources[this.plan.triggerIndex].receivedAtMs });
      this.counters.staleEvents++;
      this.state = 'stale';
      this.message = `no valid observation on ${this.sourceTopics[this.plan.triggerIndex]} for ${this.opts.config.safety.watchdogMs} ms: ${this.opts.config.safety.staleAction}`;
      this.log.warn('observations stale: publishing the safe action', { timeout_ms: this.opts.config.safety.watchdogMs, safe_action: this.opts.config.safety.staleAction });
    }
    // timer mode keeps publishing the safe action from its own tick; a node not acting sends nothing
    const published = (first || this.opts.config.mode === 'event') && this.controlMode === 'active' && this.publishSafe();
    this.publishSafetyEvent(first ? SAFETY_EVENT.STALE : SAFETY_EVENT.STALE_AGAIN, idleMs, recoveryRestarted, published ? this.opts.config.safety.staleAction : '');
  }

  private onRecover(): void {
    this.state = 'running';
    this.message = this.controlMode === 'active' ? 'acting (recovered)' : `${this.controlMode}: observations fresh again`;
    this.blendPending = true;
    this.commandRestart = true;
    this.hasTarget = false;
    this.tick = 0;
    this.log.info(this.controlMode === 'active' ? 'observations fresh again: acting' : 'observations fresh again', {
      blend_in_steps: this.opts.config.safety.blendInSteps, control_mode: this.controlMode,
    });
    this.publishSafetyEvent(SAFETY_EVENT.RECOVERED, 0, false, '');
  }

  /** One onestep_msgs/SafetyEvent on ~/safety_events, after the safe action it reports (if any) went out. */
  private publishSafetyEvent(kind: number, idleMs: number, recoveryRestarted: boolean, safeAction: string): void {
    const now = Date.now();
    this.safetyEvents.publish({
      header: { stamp: { sec: Math.floor(now / 1000), nanosec: (now % 1000) * 1e6 }, frame_id: '' },
      kind,
      observations_received: this.counters.observationsReceived,
      time_ns: Math.round((performance.now() + this.perfOffsetMs) * 1e6),
      idle_ms: Number.isFinite(idleMs) ? idleMs : 0,
      recovery_restarted: recoveryRestarted,
      safe_action: safeAction,
      command_hash: safeAction === '' ? 0 : this.lastSafeHash,
    });
  }

  /**
   * Re-enacts a recorded watchdog expiry (onestep replay, which runs with the watchdog's timer off): the same state
   * change, safe action and event as when the timer fired after `idleMs` without a fresh observation.
   */
  replayWatchdogExpiry(idleMs: number, recoveryRestarted: boolean): void {
    this.watchdog.replayExpiry(idleMs, recoveryRestarted);
  }

  /**
   * Publishes the configured safe action; false when there is nothing safe to send. A node that never commanded
   * the robot sends nothing: a zero command to a position controller it never drove would move the arm.
   */
  publishSafe(kind = this.opts.config.safety.staleAction): boolean {
    if (!this.safety.hasCommand || this.counters.actionsPublished === 0) return false;
    if (!this.safety.safeAction(kind, this.command, this.tracker.hasVelocity ? this.tracker.velocity : null, this.dampingGain)) return false;
    this.safety.noteSent(this.command);
    const bytes = this.encoder.write(this.command, null);
    this.lastSafeHash = fnv1a32(bytes);
    this.publisher.publishRaw(bytes);
    this.counters.safeActionsPublished++;
    return true;
  }

  // ---------------------------------------------------------------------------------------------------------
  // diagnostics

  /** Publishes /diagnostics and ~/status once (the timer calls this at diagnostics.rate_hz). */
  report(): void {
    if (this.closed) return;
    const now = performance.now();
    const periodS = Math.max(1e-3, (now - this.lastReportMs) / 1000);
    const spec = this.policy.spec;
    this.counters.staleEvents = this.watchdog.staleEvents;
    const input = {
      nodeFqn: nodeFqn(this.opts.transport.node),
      state: this.state,
      message: this.message,
      model: { path: this.modelPath, algorithm: spec.algorithm, task: spec.task, checkpoint: spec.checkpointId, trainingSteps: spec.trainingSteps },
      counters: this.counters,
      previous: this.previousCounters,
      periodS,
      latency: this.latency.summary(),
      mode: this.opts.config.mode,
      transport: this.opts.transport.kind,
      controlMode: this.effectiveControlMode,
      clock: this.clock.status(),
    };
    this.clock.now();
    const stamp = { sec: this.clock.sec, nanosec: this.clock.nanosec };
    try {
      this.diagnosticsPublisher?.publish(diagnosticArray(input, stamp));
      this.statusPublisher?.publish(policyStatus(input, stamp));
    } catch (err) {
      this.log.error('cannot publish diagnostics', { reason: (err as Error).message });
    }
    this.log.debug('status', {
      state: this.state, actions: this.counters.actionsPublished, dropped: this.counters.observationsDropped,
      e2e_p50_ms: input.latency.e2e.p50, e2e_p99_ms: input.latency.e2e.p99,
    });
    this.previousCounters = { ...this.counters };
    this.lastReportMs = now;
    this.latency.reset();
  }

  // ---------------------------------------------------------------------------------------------------------
  // model lifecycle

  /**
   * Loads a model (the current path by default), checks it against the node's observation and action layout
   * and a test step, then switches to it. A bad model is refused with a logged reason; the old one keeps running.
   */
  reload(path?: string, config: NodeConfig = this.opts.config): Promise<boolean> {
    return this.reloader.reload(path, config);
  }

  /** A checked model takes over: the running assembler (same layout), its own mapping and limits. */
  private switchModel(next: Policy, plan: Plan, path: string): void {
    this.policy = next;
    this.plan = { ...plan, assembler: this.plan.assembler };
    this.safety.limits.lower.set(plan.limits.lower);
    this.safety.limits.upper.set(plan.limits.upper);
    this.modelPath = path;
    this.opts.config.model = path;
    this.parameters?.noteChanged('model', path);
  }

  // ---------------------------------------------------------------------------------------------------------
  // what ROS tools reach: parameters, node services, /rosout, the clock

  /** The control mode as reported: active while blending in from the measured position is `blend_in`. */
  get effectiveControlMode(): 'passive' | 'blend_in' | 'active' | 'hold' {
    return this.controlMode === 'active' && (this.blendPending || this.safety.isBlending) && this.opts.config.safety.blendInSteps > 0 ? 'blend_in' : this.controlMode;
  }

  private openNodeInterfaces(): void {
    const { transport, config } = this.opts;
    this.rosout = new Rosout(transport, this.clock, this.log.name);
    const rosout = this.rosout;
    this.log.forward = (level, message, fields) => rosout.publish(level, message, fields);
    this.clock.setUseSimTime(config.useSimTime);
    const values = config.parameters ?? new Map<string, ParameterValue>([['model', config.model]]);
    const declarations = new Map<string, ParameterDeclaration>(
      [...declaredParameters(values)].map(([name, d]) => [name, { ...d, readOnly: !RUNTIME_PARAMETERS.has(name) }]),
    );
    for (const name of ['safety.lower', 'safety.upper']) {
      declarations.set(name, { ...declarations.get(name)!, constraints: 'lower ≤ upper for every joint; empty, one value, or one per joint' });
    }
    this.parameters = new ParameterServer(transport, declarations, buildConfig(values).parameters!, {
      validate: (changes, next) => this.applyParameters(changes, next),
      now: () => {
        this.clock.now();
        return { sec: this.clock.sec, nanosec: this.clock.nanosec };
      },
      log: (level, message, fields) => this.log.log(level, message, fields),
    });
    type Trigger = { success: boolean; message: string };
    this.nodeServices.push(
      transport.createService<object, Trigger>('~/reload', 'std_srvs/srv/Trigger', async () => {
        const ok = await this.reload();
        return ok
          ? { success: true, message: `loaded ${this.modelPath} (${this.policy.spec.checkpointId})` }
          : { success: false, message: `refused ${this.modelPath}: ${this.reloader.lastError || 'the node is shutting down'}; the running model continues` };
      }),
      transport.createService<{ data: boolean }, Trigger>('~/enable', 'std_srvs/srv/SetBool', (req) => (req.data ? this.enable() : this.disable())),
      transport.createService<{ data: boolean }, Trigger>('~/disable', 'std_srvs/srv/SetBool', (req) => (req.data ? this.disable() : this.enable())),
    );
  }

  /** passive or hold → active (blending in from the measured position when safety.blend_in_steps > 0). */
  enable(): { success: boolean; message: string } {
    if (this.closed) return { success: false, message: 'the node is shutting down' };
    if (this.controlMode === 'active') return { success: true, message: `already ${this.effectiveControlMode}` };
    const from = this.controlMode;
    this.controlMode = 'active';
    this.blendPending = true;
    this.commandRestart = true;
    this.hasTarget = false;
    this.tick = 0;
    if (this.state === 'running') this.message = 'acting';
    this.log.info('enabled: acting', { from, blend_in_steps: this.opts.config.safety.blendInSteps });
    return { success: true, message: `${from} → ${this.effectiveControlMode}` };
  }

  /** active → hold: stop acting and hold the last command (published once); passive stays passive. */
  disable(): { success: boolean; message: string } {
    if (this.closed) return { success: false, message: 'the node is shutting down' };
    if (this.controlMode !== 'active') return { success: true, message: `already ${this.controlMode}` };
    this.controlMode = 'hold';
    const held = this.publishSafe('hold');
    this.message = 'hold: disabled, holding the last command';
    this.log.info('disabled: holding the last command', { held: held ? 'published' : 'nothing commanded yet' });
    return { success: true, message: held ? 'active → hold (holding the last command)' : 'active → hold (nothing commanded yet)' };
  }

  /**
   * Validates parameter changes against the running model and commits them to the node: throws (the reason tools
   * show) when they do not fit, and changes nothing then. `model` loads the named model first.
   */
  private async applyParameters(changes: readonly ParameterChange[], next: ReadonlyMap<string, ParameterValue>): Promise<void> {
    if (this.closed) throw new PolicyNodeError('the node is shutting down');
    const nextConfig = buildConfig(next, 'set');
    const changed = new Set(changes.map((c) => c.name));
    const n = this.plan.mapper.size;
    const gain = nextConfig.safety.dampingGain;
    if (gain.length !== 1 && gain.length !== n) {
      throw new PolicyNodeError(`safety.damping_gain has ${gain.length} values, expected 1 or ${n} (one per joint: ${this.plan.mapper.names.join(', ')})`);
    }
    // limits and the rest against the running model (a new model is checked by its reload)
    let plan = planFor(this.policy.spec, nextConfig, this.modelPath);
    if (changed.has('model') && nextConfig.model !== this.modelPath) {
      if (!(await this.reload(nextConfig.model, nextConfig))) throw new PolicyNodeError(`model ${nextConfig.model} refused: ${this.reloader.lastError}; the running model continues`);
      plan = planFor(this.policy.spec, nextConfig, this.modelPath);
    }
    const c = this.opts.config;
    const limits = this.safety.limits;
    limits.lower.set(plan.limits.lower);
    limits.upper.set(plan.limits.upper);
    limits.maxStep.set(plan.limits.maxStep);
    limits.blendInSteps = plan.limits.blendInSteps;
    c.safety = nextConfig.safety;
    this.dampingGain.fill(gain[0]);
    if (gain.length === n) this.dampingGain.set(gain);
    if (changed.has('safety.watchdog_ms')) {
      this.watchdog.setTimeoutMs(nextConfig.safety.watchdogMs);
      if (nextConfig.safety.watchdogMs === 0) this.log.warn('stale-observation watchdog disabled by a parameter change', {});
    }
    this.watchdog.setRecoverAfter(nextConfig.safety.recoveryObservations);
    c.deadlineMs = nextConfig.deadlineMs;
    this.deadlineMs = deadlineOf(c);
    if (changed.has('log_throttle_ms')) {
      c.logThrottleMs = nextConfig.logThrottleMs;
      this.dropThrottle = new Throttle(c.logThrottleMs);
      this.deadlineThrottle = new Throttle(c.logThrottleMs);
      this.refuseThrottle = new Throttle(c.logThrottleMs);
      this.jumpThrottle = new Throttle(c.logThrottleMs);
    }
    if (c.diagnostics.policyIo !== nextConfig.diagnostics.policyIo) this.setPolicyIo(nextConfig.diagnostics.policyIo);
    if (c.diagnostics.rateHz !== nextConfig.diagnostics.rateHz) {
      if (nextConfig.diagnostics.rateHz > 0) this.openDiagnostics();
      this.setReportRate(nextConfig.diagnostics.rateHz);
    }
    c.diagnostics = nextConfig.diagnostics;
    if (c.useSimTime !== nextConfig.useSimTime) this.clock.setUseSimTime(nextConfig.useSimTime);
    c.useSimTime = nextConfig.useSimTime;
    c.parameters = next;
  }

  private setPolicyIo(on: boolean): void {
    if (on && !this.ioPublisher) {
      const io = getMessageCodec('std_msgs/msg/Float64MultiArray');
      this.ioEncoder = new PolicyIoEncoder(this.policy.observationSize, this.plan.mapper.size, (m) => io.encode(m as Record<string, unknown>));
      this.ioPublisher = this.opts.transport.advertise('~/policy_io', 'std_msgs/msg/Float64MultiArray', 'sensor_data');
    } else if (!on && this.ioPublisher) {
      this.ioPublisher.close();
      this.ioPublisher = null;
      this.ioEncoder = null;
    }
  }

  private openDiagnostics(): void {
    this.statusPublisher ??= this.opts.transport.advertise('~/status', 'onestep_msgs/msg/PolicyStatus', 'default');
    this.diagnosticsPublisher ??= this.opts.transport.advertise('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', 'default');
  }

  /** Diagnostics stay on the wall clock: a paused simulator is itself something to report. */
  private setReportRate(hz: number): void {
    if (this.reportTimer) clearInterval(this.reportTimer);
    this.reportTimer = hz > 0 ? setInterval(() => this.report(), 1000 / hz) : null;
  }

  // ---------------------------------------------------------------------------------------------------------
  // shutdown

  /** Stops acting, publishes the final safe action, closes every endpoint and the transport, frees the model. */
  async shutdown(reason = 'shutdown'): Promise<void> {
    if (this.closed) return;
    for (const s of this.subscriptions) s.close();
    const published = this.publishSafe();
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.cancelControlTimer?.();
    if (this.reportTimer) clearInterval(this.reportTimer);
    this.watchdog.stop();
    await this.reloader.close();
    this.log.info('shutting down', { reason, final_safe_action: published ? this.opts.config.safety.staleAction : 'none', actions: this.counters.actionsPublished });
    // reliable writers need a moment to (re)deliver the final command before their endpoints disappear
    await sleep(this.opts.shutdownGraceMs ?? 100);
    this.publisher.close();
    this.safetyEvents.close();
    this.statusPublisher?.close();
    this.diagnosticsPublisher?.close();
    this.ioPublisher?.close();
    this.timings?.close();
    for (const s of this.nodeServices) s.close();
    this.parameters?.close();
    this.log.forward = null;
    this.rosout?.close();
    this.clock.close();
    await this.opts.transport.close();
    this.policy.close();
  }
}

/** The observation → action budget: deadline_ms, else one control period in timer mode, else none. */
function deadlineOf(config: NodeConfig): number {
  return config.deadlineMs > 0 ? config.deadlineMs : config.mode === 'timer' ? 1000 / config.controlRateHz : Infinity;
}

