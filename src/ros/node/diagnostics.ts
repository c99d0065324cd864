// What the node tells its operators: structured leveled logs (text or JSON lines, throttled warnings), latency
// windows per stage, and the periodic health report as diagnostic_msgs/DiagnosticArray on /diagnostics and
// onestep_msgs/PolicyStatus on ~/status. Recording a latency sample allocates nothing.
import { LatencyWindows } from '../../core/latency.ts';
import type { LogLevel } from './ros-args.ts';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

export type LogFields = Record<string, string | number | boolean | undefined>;

/** Leveled, structured log lines on stderr (or a given sink), in the rcutils console format or as JSON lines. */
export class Logger {
  /** Also receives every line that passes the level (the node's /rosout): the message and its fields as text. */
  forward: ((level: LogLevel, message: string, fields: string) => void) | null = null;

  constructor(
    readonly name: string,
    public level: LogLevel = 'info',
    public format: 'text' | 'json' = 'text',
    private readonly sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  /** True when lines of `level` are written (at or above the logger's level). */
  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] >= LEVEL_RANK[this.level];
  }

  /** Writes one line (text or JSON, with the structured fields) when `level` is enabled. */
  log(level: LogLevel, message: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const t = Date.now() / 1000;
    const extra = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => ` ${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : v}`)
          .join('')
      : '';
    this.forward?.(level, message, extra);
    if (this.format === 'json') {
      this.sink(JSON.stringify({ time: t, level, logger: this.name, message, ...fields }));
      return;
    }
    this.sink(`[${level.toUpperCase()}] [${t.toFixed(6)}] [${this.name}]: ${message}${extra}`);
  }

  /** A debug line. */
  debug(m: string, f?: LogFields): void { this.log('debug', m, f); }
  /** An info line. */
  info(m: string, f?: LogFields): void { this.log('info', m, f); }
  /** A warning line. */
  warn(m: string, f?: LogFields): void { this.log('warn', m, f); }
  /** An error line. */
  error(m: string, f?: LogFields): void { this.log('error', m, f); }
}

/** At most one line per `periodMs` for one kind of event; the count of suppressed events goes with the next line. */
export class Throttle {
  private lastMs = -Infinity;
  private suppressed = 0;

  constructor(private readonly periodMs: number) {}

  /** Call per event; returns the number of events this line stands for, or 0 when the line is suppressed. */
  tick(nowMs: number): number {
    if (nowMs - this.lastMs >= this.periodMs) {
      this.lastMs = nowMs;
      const n = this.suppressed + 1;
      this.suppressed = 0;
      return n;
    }
    this.suppressed++;
    return 0;
  }
}

/**
 * Per-stage timings of one observation → action pass: decode (transport receive stamp → callback), assemble, infer,
 * encode (serializing the command), send, the whole pass (e2e), and postprocess (action mapping and safety filter,
 * between infer and encode; listed last so the older stages keep their indices).
 */
export const STAGES = ['decode', 'assemble', 'infer', 'encode', 'send', 'e2e', 'postprocess'] as const;
export type Stage = (typeof STAGES)[number];
/** Stage indices for StageLatencies.slot(). */
export const DECODE = 0, ASSEMBLE = 1, INFER = 2, ENCODE = 3, SEND = 4, E2E = 5, POSTPROCESS = 6;

/**
 * The last `capacity` samples (µs) of every stage, one latency window per stage. The hot path writes a sample as a
 * plain typed-array store, `samples[slot(stage)] = µs` (see LatencyWindows: nothing boxed, nothing allocated).
 */
export class StageLatencies {
  private readonly windows: LatencyWindows;
  /** Every stage's samples, stage-major (`slot` indexes into it). */
  readonly samples: Float64Array;

  constructor(readonly capacity = 4096) {
    this.windows = new LatencyWindows(STAGES.length, capacity);
    this.samples = this.windows.samples;
  }

  /** Reserves the next sample of stage index `stage` (see STAGES) and returns its index into `samples`. */
  slot(stage: number): number {
    return this.windows.slot(stage);
  }

  /** One sample in µs (off the hot path; the node writes through `slot`). */
  record(stage: Stage, microseconds: number): void {
    this.windows.record(STAGES.indexOf(stage), microseconds);
  }

  /** Samples in the window of a stage. */
  size(stage: Stage): number {
    return this.windows.size(STAGES.indexOf(stage));
  }

  /** Samples recorded since the last reset. */
  recorded(stage: Stage): number {
    return this.windows.recorded(STAGES.indexOf(stage));
  }

  /** Percentiles in milliseconds over each stage's window (sorts copies: call off the hot path). */
  summary(): Record<Stage, { p50: number; p99: number; max: number; n: number }> {
    const out = {} as Record<Stage, { p50: number; p99: number; max: number; n: number }>;
    STAGES.forEach((stage, k) => {
      const w = this.windows.summary(k);
      out[stage] = { p50: w.p50 / 1000, p99: w.p99 / 1000, max: w.max / 1000, n: w.count };
    });
    return out;
  }

  /** Empties every stage's window and count. */
  reset(): void {
    this.windows.reset();
  }
}

/** Counters since start, as the status report shows them. */
export interface NodeCounters {
  observationsReceived: number;
  observationsDropped: number;
  actionsPublished: number;
  actionsRefused: number;
  safeActionsPublished: number;
  deadlineMisses: number;
  staleEvents: number;
  reloads: number;
  reloadsRefused: number;
}

/**
 * The policy node's state: waiting for observations, acting, holding the safe action (stale observations), or unable
 * to act.
 */
export type NodeState = 'waiting' | 'running' | 'stale' | 'error';
const STATE_CODE: Record<NodeState, number> = { waiting: 0, running: 1, stale: 2, error: 3 };
// diagnostic_msgs/DiagnosticStatus levels
const OK = 0, WARN = 1, ERROR = 2;

export interface StatusInput {
  nodeFqn: string;
  state: NodeState;
  message: string;
  model: { path: string; algorithm: string; task: string; checkpoint: string; trainingSteps: number };
  counters: NodeCounters;
  /** Counters at the previous report, for rates and "new since last report". */
  previous: NodeCounters;
  periodS: number;
  latency: ReturnType<StageLatencies['summary']>;
  mode: string;
  transport: string;
  /** The control mode machine: passive → (enable) → blend_in → active → (disable) → hold. */
  controlMode?: string;
  /** ROS time source and its state (a paused or missing /clock is a warning). */
  clock?: { source: string; state: string; timeSec: number; sinceAdvanceSec: number; jumpsBack: number };
}

const f = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : 'nan');

/** diagnostic_msgs/DiagnosticArray for /diagnostics (one status named after the node). */
export function diagnosticArray(s: StatusInput, stamp: { sec: number; nanosec: number }): Record<string, unknown> {
  const newMisses = s.counters.deadlineMisses - s.previous.deadlineMisses;
  const newDrops = s.counters.observationsDropped - s.previous.observationsDropped;
  const clockTrouble = s.clock !== undefined && s.clock.state !== 'running';
  const level = s.state === 'error' ? ERROR : s.state === 'stale' || s.state === 'waiting' || newMisses > 0 || newDrops > 0 || clockTrouble ? WARN : OK;
  const kv = (key: string, value: string | number) => ({ key, value: String(value) });
  const l = s.latency;
  const clockNote = !clockTrouble ? '' : s.clock!.state === 'waiting' ? '; sim time: waiting for /clock' : `; sim time paused for ${f(s.clock!.sinceAdvanceSec, 1)} s`;
  const extra = [
    ...(s.controlMode !== undefined ? [kv('control_mode', s.controlMode)] : []),
    ...(s.clock !== undefined
      ? [kv('clock', s.clock.source), kv('clock_state', s.clock.state), kv('ros_time', f(s.clock.timeSec, 6)), kv('clock_jumps_back', s.clock.jumpsBack)]
      : []),
  ];
  return {
    header: { stamp, frame_id: '' },
    status: [
      {
        level,
        name: `${s.nodeFqn.slice(1)}: policy`,
        message: `${s.message}${clockNote}`,
        hardware_id: s.model.checkpoint,
        values: [
          kv('state', s.state), kv('mode', s.mode), kv('transport', s.transport),
          kv('model', s.model.path), kv('model_id', s.model.checkpoint), kv('algorithm', s.model.algorithm), kv('task', s.model.task),
          kv('training_steps', s.model.trainingSteps),
          kv('action_rate_hz', f((s.counters.actionsPublished - s.previous.actionsPublished) / s.periodS, 1)),
          kv('inference_p50_ms', f(l.infer.p50)), kv('inference_p99_ms', f(l.infer.p99)), kv('inference_max_ms', f(l.infer.max)),
          kv('e2e_p50_ms', f(l.e2e.p50)), kv('e2e_p99_ms', f(l.e2e.p99)), kv('e2e_max_ms', f(l.e2e.max)),
          kv('observations_received', s.counters.observationsReceived), kv('observations_dropped', s.counters.observationsDropped),
          kv('actions_published', s.counters.actionsPublished), kv('actions_refused', s.counters.actionsRefused),
          kv('safe_actions_published', s.counters.safeActionsPublished), kv('deadline_misses', s.counters.deadlineMisses),
          kv('stale_events', s.counters.staleEvents), kv('reloads', s.counters.reloads), kv('reloads_refused', s.counters.reloadsRefused),
          ...extra,
        ],
      },
    ],
  };
}

/** onestep_msgs/PolicyStatus for ~/status. */
export function policyStatus(s: StatusInput, stamp: { sec: number; nanosec: number }): Record<string, unknown> {
  const l = s.latency;
  const n = (x: number) => (Number.isFinite(x) ? x : 0);
  return {
    header: { stamp, frame_id: '' },
    state: STATE_CODE[s.state],
    message: s.message,
    algorithm: s.model.algorithm,
    task: s.model.task,
    checkpoint: s.model.checkpoint,
    observations_received: BigInt(s.counters.observationsReceived),
    observations_rejected: BigInt(s.counters.observationsDropped),
    actions_published: BigInt(s.counters.actionsPublished),
    deadline_misses: BigInt(s.counters.deadlineMisses),
    action_rate_hz: (s.counters.actionsPublished - s.previous.actionsPublished) / s.periodS,
    inference_time_p50_ms: n(l.infer.p50),
    inference_time_p99_ms: n(l.infer.p99),
    latency_p50_ms: n(l.e2e.p50),
    latency_p99_ms: n(l.e2e.p99),
  };
}
