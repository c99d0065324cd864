// The node's ROS time: the system clock, or — with use_sim_time — the time a simulator publishes on /clock
// (rosgraph_msgs/msg/Clock), as rclcpp's TimeSource does. Sim time never stalls or jumps silently: a clock that
// stops advancing is reported as paused (and as running again when it resumes), a clock that goes backwards (a
// simulator reset) is logged and counted, and timers on sim time restart from the new time. Watchdogs stay on the
// wall clock: a paused simulator must not keep a stale-observation watchdog from firing.
import type { Subscription, Transport } from '../transport.ts';
import { RosClock } from './action.ts';

export type ClockSource = 'system' | 'sim';
export type ClockState = 'running' | 'waiting' | 'paused';

/** Where the node's ROS time comes from and whether it advances. */
export interface ClockStatus {
  source: ClockSource;
  /** system: always running; sim: waiting (no /clock yet), running, or paused (no new time for pausedAfterMs). */
  state: ClockState;
  /** The current ROS time, seconds. */
  timeSec: number;
  /** Wall seconds since the last /clock message that moved time forward (sim only; −1 before the first). */
  sinceAdvanceSec: number;
  /** Times /clock went backwards. */
  jumpsBack: number;
}

/** Options of a {@link NodeClock}. */
export interface ClockOptions {
  /** A sim clock with no new time for this long is reported as paused (default 1000 ms). */
  pausedAfterMs?: number;
  log?: (level: 'info' | 'warn', message: string, fields: Record<string, string | number>) => void;
}

interface SimTimer {
  periodNs: number;
  nextNs: number;
  callback: () => void;
}

/** Ticks a sim-time timer fires at most for one /clock update; beyond that it skips ahead (and says so). */
const MAX_CATCH_UP = 10;

/** A RosClock whose now() follows /clock while use_sim_time is on. */
export class NodeClock extends RosClock {
  private simulated = false;
  private subscription: Subscription | null = null;
  /** Sim time, ns (a double: exact to 2^53 ns ≈ 104 days of sim time, then to 1 µs-ish). */
  private simNs = -1;
  private lastAdvanceWallMs = -1;
  private reportedPaused = false;
  private jumps = 0;
  private readonly simTimers = new Set<SimTimer>();
  /** Per timer: moves it to the clock use_sim_time now names. */
  private readonly timerSwitches = new Set<() => void>();
  private readonly pausedAfterMs: number;

  constructor(
    private readonly transport: Transport,
    private readonly opts: ClockOptions = {},
  ) {
    super();
    this.pausedAfterMs = opts.pausedAfterMs ?? 1000;
  }

  /** system, or sim while use_sim_time is on. */
  get source(): ClockSource {
    return this.simulated ? 'sim' : 'system';
  }

  /** Switches between the system clock and /clock (use_sim_time); takes effect at once. */
  setUseSimTime(on: boolean): void {
    if (on === this.simulated) return;
    this.simulated = on;
    if (on) {
      this.simNs = -1;
      this.lastAdvanceWallMs = -1;
      this.reportedPaused = false;
      this.subscription = this.transport.subscribe<{ clock: { sec: number; nanosec: number } }>('/clock', 'rosgraph_msgs/msg/Clock', 'clock', (m) =>
        this.onClock(m.clock.sec * 1e9 + m.clock.nanosec),
      );
      this.opts.log?.('info', 'use_sim_time: following /clock', { topic: this.subscription.topic });
    } else {
      this.subscription?.close();
      this.subscription = null;
      this.opts.log?.('info', 'use_sim_time off: system clock', {});
    }
    for (const sync of this.timerSwitches) sync();
  }

  /** Reads the current ROS time into `sec` / `nanosec` and returns this clock. */
  override now(): this {
    if (!this.simulated) return super.now();
    const ns = Math.max(0, this.simNs); // ROS time is zero until the first /clock message
    const sec = Math.floor(ns / 1e9);
    this.sec = sec;
    this.nanosec = Math.min(999_999_999, Math.round(ns - sec * 1e9));
    return this;
  }

  /** Feeds one /clock time (public for tests and bridges in the same process). */
  onClock(ns: number): void {
    if (!this.simulated || !Number.isFinite(ns)) return;
    const previous = this.simNs;
    const wall = performance.now();
    if (previous >= 0 && ns < previous) {
      this.jumps++;
      this.opts.log?.('warn', 'sim time jumped back (simulator reset?): timers restart from the new time', {
        from_s: +(previous / 1e9).toFixed(6), to_s: +(ns / 1e9).toFixed(6), jumps: this.jumps,
      });
      for (const t of this.simTimers) t.nextNs = ns + t.periodNs;
    }
    if (ns !== previous) {
      if (this.reportedPaused) {
        this.opts.log?.('info', 'sim time running again', { paused_s: +((wall - this.lastAdvanceWallMs) / 1000).toFixed(3), time_s: +(ns / 1e9).toFixed(6) });
        this.reportedPaused = false;
      }
      if (previous < 0) this.opts.log?.('info', 'first /clock message', { time_s: +(ns / 1e9).toFixed(6) });
      this.lastAdvanceWallMs = wall;
    }
    this.simNs = ns;
    for (const t of this.simTimers) this.fire(t);
  }

  private fire(t: SimTimer): void {
    if (t.nextNs < 0) t.nextNs = this.simNs + t.periodNs;
    let n = 0;
    while (this.simNs >= t.nextNs) {
      if (++n > MAX_CATCH_UP) {
        this.opts.log?.('warn', 'sim time advanced faster than the timer can follow: skipping ticks', { period_ms: t.periodNs / 1e6 });
        t.nextNs = this.simNs + t.periodNs;
        break;
      }
      t.nextNs += t.periodNs;
      t.callback();
    }
  }

  /** The clock's source, state and current time. */
  status(): ClockStatus {
    const timeSec = this.simulated ? Math.max(0, this.simNs) / 1e9 : Date.now() / 1000;
    if (!this.simulated) return { source: 'system', state: 'running', timeSec, sinceAdvanceSec: 0, jumpsBack: this.jumps };
    if (this.simNs < 0) return { source: 'sim', state: 'waiting', timeSec: 0, sinceAdvanceSec: -1, jumpsBack: this.jumps };
    const since = (performance.now() - this.lastAdvanceWallMs) / 1000;
    const paused = since * 1000 >= this.pausedAfterMs;
    if (paused && !this.reportedPaused) {
      this.reportedPaused = true;
      this.opts.log?.('warn', 'sim time paused: /clock has not advanced', { since_s: +since.toFixed(3), time_s: +timeSec.toFixed(6) });
    }
    return { source: 'sim', state: paused ? 'paused' : 'running', timeSec, sinceAdvanceSec: since, jumpsBack: this.jumps };
  }

  /**
   * A periodic timer on ROS time: wall-clock setInterval on the system clock; on sim time it fires as /clock
   * passes each period (a paused simulator pauses it). Follows use_sim_time switches. Returns the cancel.
   */
  createTimer(periodMs: number, callback: () => void): () => void {
    const sim: SimTimer = { periodNs: periodMs * 1e6, nextNs: -1, callback };
    let interval: NodeJS.Timeout | null = null;
    let simulated: boolean | null = null;
    let cancelled = false;
    const sync = () => {
      if (cancelled || simulated === this.simulated) return;
      simulated = this.simulated;
      if (simulated) {
        if (interval) clearInterval(interval);
        interval = null;
        sim.nextNs = -1;
        this.simTimers.add(sim);
      } else {
        this.simTimers.delete(sim);
        interval = setInterval(callback, periodMs);
      }
    };
    sync();
    this.timerSwitches.add(sync);
    return () => {
      cancelled = true;
      this.timerSwitches.delete(sync);
      if (interval) clearInterval(interval);
      this.simTimers.delete(sim);
    };
  }

  /** Stops following /clock and cancels the sim-time timers. */
  close(): void {
    this.subscription?.close();
    this.subscription = null;
    this.simTimers.clear();
    this.timerSwitches.clear();
  }
}
