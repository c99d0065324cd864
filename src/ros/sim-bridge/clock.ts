// The bridge's time keeping: sim time as a ROS stamp, the real-time clock's absolute tick schedule, and the
// measured real-time factor.

/** A ROS time (builtin_interfaces/Time), written in place. */
export interface Stamp {
  sec: number;
  nanosec: number;
}

/** Sim time in seconds → `out` as sec + nanosec (rounded to the nanosecond). */
export function writeStamp(time: number, out: Stamp): Stamp {
  const ns = Math.round(time * 1e9);
  const sec = Math.floor(ns / 1e9);
  out.sec = sec;
  out.nanosec = ns - sec * 1e9;
  return out;
}

/**
 * Real time: calls `onTick` every `periodMs` on an absolute wall-clock schedule. A tick more than a period late (a
 * stall) restarts the schedule from now instead of catching up with a burst; so does `restart` (start, resume).
 */
export class TickSchedule {
  private timer: NodeJS.Timeout | null = null;
  private tick = 0;
  private startMs = 0;

  constructor(
    private readonly periodMs: number,
    private readonly onTick: () => void,
  ) {}

  /** Restarts the schedule from now and arms the next tick. */
  restart(): void {
    this.tick = 0;
    this.startMs = performance.now();
    this.next();
  }

  /** Arms the next tick of the schedule. */
  next(): void {
    this.tick++;
    let due = this.startMs + this.tick * this.periodMs;
    const now = performance.now();
    if (now - due > this.periodMs) {
      // more than a period late (a stall): skip ahead instead of catching up
      this.startMs = now;
      this.tick = 0;
      due = now;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onTick();
    }, Math.max(0, due - now));
  }

  /** Disarms the pending tick, if any. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** The real-time factor achieved: simulated seconds per wall second over windows of at least one second. */
export class RealTimeFactorMeter {
  /** The last complete window's factor (0 before the first). */
  value = 0;
  private windowStartMs = 0;
  private windowSteps = 0;

  constructor(private readonly controlPeriod: number) {}

  /** Starts a new window now (start, resume: a pause is not counted). */
  restart(now = performance.now()): void {
    this.windowStartMs = now;
    this.windowSteps = 0;
  }

  /** One control step done; closes the window once it spans a second. */
  step(): void {
    this.windowSteps++;
  }

  update(): void {
    const now = performance.now();
    const span = now - this.windowStartMs;
    if (span < 1000) return;
    this.value = (this.windowSteps * this.controlPeriod * 1000) / span;
    this.restart(now);
  }
}
