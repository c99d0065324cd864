// What stands between the policy and the robot: blend-in from the measured position, a per-period rate limit,
// a per-joint clamp, a final finiteness check, and the stale-observation watchdog with its safe actions.
// Every buffer is allocated once; `filter()` and `safeAction()` allocate nothing.

export type StaleAction = 'hold' | 'zero' | 'damping';

export interface SafetyLimits {
  /** Per-joint lower/upper command limits (−/+Infinity where unbounded). */
  lower: Float64Array;
  upper: Float64Array;
  /** Largest change of a command between two consecutive published actions (Infinity or 0 disables, per joint). */
  maxStep: Float64Array;
  /** Actions over which the command moves from the start position to the policy's command (0 disables). */
  blendInSteps: number;
}

export class SafetyConfigError extends Error {
  override name = 'SafetyConfigError';
}

/** Builds limits of size n from parameter lists: empty = unbounded, one value = every joint, n values = per joint. */
export function makeLimits(
  n: number,
  p: { lower?: readonly number[]; upper?: readonly number[]; maxStep?: readonly number[]; blendInSteps?: number },
  names: readonly string[] = [],
): SafetyLimits {
  const expand = (what: string, v: readonly number[] | undefined, fill: number): Float64Array => {
    const out = new Float64Array(n).fill(fill);
    if (!v || v.length === 0) return out;
    if (v.length === 1) return out.fill(v[0]);
    if (v.length !== n) {
      throw new SafetyConfigError(`${what} has ${v.length} values, expected 1 or ${n} (one per joint${names.length ? `: ${names.join(', ')}` : ''})`);
    }
    out.set(v);
    return out;
  };
  const lower = expand('safety.lower', p.lower, -Infinity);
  const upper = expand('safety.upper', p.upper, Infinity);
  for (let i = 0; i < n; i++) {
    if (!(lower[i] <= upper[i])) {
      throw new SafetyConfigError(`safety limits for ${names[i] ?? `joint ${i}`}: lower ${lower[i]} > upper ${upper[i]}`);
    }
  }
  const maxStep = expand('safety.max_step', p.maxStep, Infinity);
  for (let i = 0; i < n; i++) {
    if (maxStep[i] < 0) throw new SafetyConfigError(`safety.max_step for ${names[i] ?? `joint ${i}`} is ${maxStep[i]}, expected ≥ 0 (0 disables)`);
    if (maxStep[i] === 0) maxStep[i] = Infinity;
  }
  const blendInSteps = p.blendInSteps ?? 0;
  if (!Number.isInteger(blendInSteps) || blendInSteps < 0) {
    throw new SafetyConfigError(`safety.blend_in_steps is ${blendInSteps}, expected an integer ≥ 0`);
  }
  return { lower, upper, maxStep, blendInSteps };
}

/**
 * The command filter. Order: blend-in (interpolate from the start position towards the policy's command),
 * rate limit against the last published command, clamp to limits, then refuse anything non-finite.
 */
export class SafetyFilter {
  readonly size: number;
  /** The last command that passed the filter (what the robot was last told). */
  readonly last: Float64Array;
  private hasLast = false;
  private readonly blendStart: Float64Array;
  private blendStep = 0;
  private blending = false;
  /** How many filtered commands were refused for being non-finite. */
  rejected = 0;

  constructor(readonly limits: SafetyLimits) {
    this.size = limits.lower.length;
    this.last = new Float64Array(this.size);
    this.blendStart = new Float64Array(this.size);
  }

  get hasCommand(): boolean {
    return this.hasLast;
  }

  get isBlending(): boolean {
    return this.blending;
  }

  /**
   * Starts a blend-in from `from` (the measured joint position), or from the last command when none is known.
   * The same position seeds the rate limiter, so the first command cannot jump away from where the robot is.
   */
  startBlendIn(from: ArrayLike<number> | null): void {
    if (from !== null && isFinitePrefix(from, this.size)) {
      for (let i = 0; i < this.size; i++) this.blendStart[i] = from[i];
      this.seed(from);
    } else if (this.hasLast) {
      this.blendStart.set(this.last);
    } else {
      this.blending = false;
      return;
    }
    this.blendStep = 0;
    this.blending = this.limits.blendInSteps > 0;
  }

  /** Sets the reference for the rate limit (the robot's current command) without publishing anything. */
  seed(from: ArrayLike<number>): void {
    if (!isFinitePrefix(from, this.size)) return;
    for (let i = 0; i < this.size; i++) this.last[i] = clamp(from[i], this.limits.lower[i], this.limits.upper[i]);
    this.hasLast = true;
  }

  /** Filters `target` into `out`; returns false (and leaves `last` untouched) when the result is not finite. */
  filter(target: ArrayLike<number>, out: Float64Array): boolean {
    const { lower, upper, maxStep, blendInSteps } = this.limits;
    const n = this.size;
    let alpha = 1;
    if (this.blending) alpha = (this.blendStep + 1) / blendInSteps;
    for (let i = 0; i < n; i++) {
      let x = target[i];
      if (alpha < 1) x = this.blendStart[i] + alpha * (x - this.blendStart[i]);
      if (this.hasLast) {
        const d = x - this.last[i];
        const m = maxStep[i];
        if (d > m) x = this.last[i] + m;
        else if (d < -m) x = this.last[i] - m;
      }
      x = clamp(x, lower[i], upper[i]);
      if (!Number.isFinite(x)) {
        this.rejected++;
        return false;
      }
      out[i] = x;
    }
    if (this.blending && ++this.blendStep >= blendInSteps) this.blending = false;
    this.last.set(out);
    this.hasLast = true;
    return true;
  }

  /**
   * The command sent while observations are stale or at shutdown, clamped to limits:
   * hold = the last command; zero = zeros; damping = −gain·velocity (for velocity/effort command interfaces).
   * Returns false when there is nothing safe to send (hold before any command, or non-finite inputs).
   */
  safeAction(kind: StaleAction, out: Float64Array, velocity: ArrayLike<number> | null, dampingGain: Float64Array): boolean {
    const { lower, upper } = this.limits;
    for (let i = 0; i < this.size; i++) {
      let x: number;
      if (kind === 'hold') {
        if (!this.hasLast) return false;
        x = this.last[i];
      } else if (kind === 'zero') {
        x = 0;
      } else {
        const v = velocity !== null && i < velocity.length ? velocity[i] : 0;
        x = -dampingGain[i] * v;
      }
      x = clamp(x, lower[i], upper[i]);
      if (!Number.isFinite(x)) return false;
      out[i] = x;
    }
    return true;
  }

  /** Records a command published outside `filter` (a safe action), so the rate limit continues from it. */
  noteSent(command: Float64Array): void {
    this.last.set(command);
    this.hasLast = true;
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function isFinitePrefix(a: ArrayLike<number>, n: number): boolean {
  if (a.length < n) return false;
  for (let i = 0; i < n; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

export type WatchdogState = 'waiting' | 'running' | 'stale';

/** onestep_msgs/SafetyEvent kinds (the constants of the .msg). */
export const SAFETY_EVENT = { STALE: 1, STALE_AGAIN: 2, STALE_TICK: 3, RECOVERED: 4 } as const;

/**
 * Stale-observation watchdog. `feed(nowMs)` only records the time (no timer call per observation: re-arming a
 * Node timer allocates); one timer runs to the deadline and, if an observation came meanwhile, re-arms itself
 * for the time left, so it fires `timeoutMs` after the last observation. While stale, `onStale` runs again every
 * timeout, so the safe action keeps being published. `recoverAfter` fresh observations end the stale state.
 */
export class Watchdog {
  state: WatchdogState = 'waiting';
  /** Times the watchdog fired (running → stale). */
  staleEvents = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastFeedMs = -Infinity;
  private freshSinceStale = 0;
  private readonly expireBound = () => this.expire();

  constructor(
    public timeoutMs: number,
    private recoverAfter: number,
    /** first: running → stale; idleMs: since the last feed; recoveryRestarted: the count towards recovery restarted. */
    private readonly onStale: (first: boolean, idleMs: number, recoveryRestarted: boolean) => void,
    private readonly onRecover: () => void,
  ) {
    if (!(timeoutMs >= 0)) throw new SafetyConfigError(`safety.watchdog_ms is ${timeoutMs}, expected ≥ 0 (0 disables)`);
  }

  /** A new timeout (a parameter change) counts from the last observation; 0 disables. */
  setTimeoutMs(ms: number): void {
    if (!(ms >= 0)) throw new SafetyConfigError(`safety.watchdog_ms is ${ms}, expected ≥ 0 (0 disables)`);
    this.timeoutMs = ms;
    this.stop();
    if (ms > 0 && this.state !== 'waiting') this.arm(Math.max(0, ms - (performance.now() - this.lastFeedMs)));
  }

  setRecoverAfter(observations: number): void {
    this.recoverAfter = observations;
  }

  get enabled(): boolean {
    return this.timeoutMs > 0;
  }

  /** A fresh, valid observation arrived at `nowMs` (performance.now()). Returns true when the node may act on it. */
  feed(nowMs: number): boolean {
    this.lastFeedMs = nowMs;
    if (this.state === 'stale') {
      if (++this.freshSinceStale < this.recoverAfter) return false;
      this.state = 'running';
      this.onRecover();
    } else {
      this.state = 'running';
    }
    if (this.timeoutMs > 0 && this.timer === null) this.arm(this.timeoutMs);
    return true;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.expireBound, ms);
    this.timer.unref();
  }

  private expire(): void {
    this.timer = null;
    const idle = performance.now() - this.lastFeedMs;
    if (this.state !== 'stale' && idle < this.timeoutMs) {
      this.arm(this.timeoutMs - idle);
      return;
    }
    // A stale watchdog recovers through `recoverAfter` consecutive fresh observations: the count restarts only
    // when a timeout passes without one, not at every re-arm (else observations slower than timeout ÷
    // recoverAfter, e.g. 20 Hz against 100 ms and 5, would never recover).
    this.arm(this.timeoutMs);
    this.fire(idle, idle >= this.timeoutMs);
  }

  private fire(idleMs: number, quietTimeout: boolean): void {
    const first = this.state !== 'stale';
    if (first) {
      this.state = 'stale';
      this.staleEvents++;
    }
    const restarted = first || quietTimeout;
    if (restarted) this.freshSinceStale = 0;
    this.onStale(first, idleMs, restarted);
  }

  /**
   * One expiry as a recording logged it (onestep replay, which runs without wall-clock time and with the timer
   * off): the same state change and onStale call as the timer's, with the recorded idle time and restart.
   */
  replayExpiry(idleMs: number, recoveryRestarted: boolean): void {
    this.fire(idleMs, recoveryRestarted);
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
