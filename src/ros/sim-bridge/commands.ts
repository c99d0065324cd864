// The bridge's command inputs: a std_msgs/Float64MultiArray (one value per actuator, in command order) or a
// sensor_msgs/JointState (by joint name, any subset). A command is checked whole before any of it is taken: a wrong
// length, a non-finite value, an unknown or repeated joint refuses it, counted and logged once per throttle period,
// so a bad command never reaches the simulation. Out-of-range values are only counted here: the robot's action
// interface limits them, as it does an in-process policy's action.
import { Logger, Throttle } from '../node/diagnostics.ts';
import type { BridgeCounters } from './types.ts';

enum Refusal {
  WrongLength,
  NonFinite,
  UnknownJoint,
  RepeatedJoint,
  Malformed,
}

export interface ArrayCommandMsg {
  data?: ArrayLike<number>;
}

export interface JointStateCommandMsg {
  header?: { stamp?: { sec: number; nanosec: number } };
  name?: string[];
  position?: ArrayLike<number>;
  velocity?: ArrayLike<number>;
  effort?: ArrayLike<number>;
}

/** A command this far outside its range counts as clamped (float32 rounding of a bound is 1e-7). */
const CLAMP_MARGIN = 1e-6;

/** Checks incoming commands against the robot's actuators; a valid one is left in `incoming` (actuator order). */
export class CommandChecker {
  /** The last command that passed the checks. */
  readonly incoming: Float64Array;
  private readonly nu: number;
  private readonly index = new Map<string, number>();
  private readonly seen: Uint8Array;
  private readonly refuseThrottle: Throttle;
  private readonly clampThrottle: Throttle;

  constructor(
    private readonly commandNames: readonly string[],
    private readonly counters: BridgeCounters,
    private readonly log: Logger,
    throttleMs: number,
  ) {
    this.nu = commandNames.length;
    this.incoming = new Float64Array(this.nu);
    this.seen = new Uint8Array(this.nu);
    commandNames.forEach((n, i) => this.index.set(n, i));
    this.refuseThrottle = new Throttle(throttleMs);
    this.clampThrottle = new Throttle(throttleMs);
  }

  /** A Float64MultiArray: true when it is a valid command (now in `incoming`); false when refused. */
  checkArray(m: ArrayCommandMsg, topic: string): boolean {
    const data = m?.data;
    if (data === undefined || typeof data.length !== 'number') return this.refuse(Refusal.Malformed, topic, 'no data');
    if (data.length !== this.nu) return this.refuse(Refusal.WrongLength, topic, data.length);
    for (let i = 0; i < this.nu; i++) {
      if (!Number.isFinite(data[i])) return this.refuse(Refusal.NonFinite, topic, i);
    }
    const v = this.incoming;
    for (let i = 0; i < this.nu; i++) v[i] = data[i];
    return true;
  }

  /**
   * A JointState command: true when valid (now in `incoming`); false when refused. Joints it leaves out keep their
   * value from `base`, or, when `base` is null, from `incoming` (a command waiting to be applied).
   */
  checkJointState(m: JointStateCommandMsg, topic: string, base: Float64Array | null): boolean {
    const names = m?.name;
    if (!Array.isArray(names) || names.length === 0) return this.refuse(Refusal.Malformed, topic, 'no joint names');
    const values = (m.position?.length ?? 0) > 0 ? m.position! : (m.velocity?.length ?? 0) > 0 ? m.velocity! : m.effort;
    if (values === undefined || values.length !== names.length) return this.refuse(Refusal.WrongLength, topic, `${values?.length ?? 0} values for ${names.length} names`);
    this.seen.fill(0);
    for (let k = 0; k < names.length; k++) {
      const i = this.index.get(names[k]);
      if (i === undefined) return this.refuse(Refusal.UnknownJoint, topic, names[k]);
      if (this.seen[i]) return this.refuse(Refusal.RepeatedJoint, topic, names[k]);
      this.seen[i] = 1;
      if (!Number.isFinite(values[k])) return this.refuse(Refusal.NonFinite, topic, names[k]);
    }
    const v = this.incoming;
    if (base !== null) v.set(base);
    for (let k = 0; k < names.length; k++) v[this.index.get(names[k]) as number] = values[k];
    return true;
  }

  /** Counts (and logs, throttled) an `incoming` command with a value outside [low, high]. */
  countClamped(low: Float64Array, high: Float64Array, now: number): void {
    let clamped = false;
    for (let i = 0; i < this.nu; i++) {
      const x = this.incoming[i];
      if (x < low[i] - CLAMP_MARGIN || x > high[i] + CLAMP_MARGIN) clamped = true;
    }
    if (!clamped) return;
    this.counters.commandsClamped++;
    if (this.clampThrottle.tick(now) > 0) this.log.warn('command outside the command range: clamped', { clamped: this.counters.commandsClamped });
  }

  private refuse(reason: Refusal, topic: string, detail: string | number): false {
    this.counters.commandsRefused++;
    const n = this.refuseThrottle.tick(performance.now());
    if (n === 0) return false;
    const expected = this.commandNames.join(', ');
    const why = reason === Refusal.WrongLength
      ? `wrong length ${detail} (expected ${this.nu}: ${expected})`
      : reason === Refusal.NonFinite
        ? `non-finite value at ${detail}`
        : reason === Refusal.UnknownJoint
          ? `unknown joint "${detail}" (commanded joints: ${expected})`
          : reason === Refusal.RepeatedJoint
            ? `joint "${detail}" named twice`
            : `malformed (${detail})`;
    this.log.warn('refused command', { topic, reason: why, refused_since_last_log: n, refused_total: this.counters.commandsRefused });
    return false;
  }
}
