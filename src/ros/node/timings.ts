// The node's per-pass clock reads, published for profilers: each pass's stamps are copied into preallocated
// columns (a few typed-array stores on the hot path), and a batch goes out as onestep_msgs/PassTimings on
// ~/timings when it is full or every `flushMs`, from a timer, off the path from observation to command.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Publisher, Transport } from '../transport.ts';

/** Where each clock read sits in the node's stamp array (performance.now() ms). */
export interface StampSlots {
  received: number;
  entered: number;
  assembled: number;
  inferred: number;
  filtered: number;
  encoded: number;
  sent: number;
}

const COLUMNS = ['received', 'entered', 'assembled', 'inferred', 'filtered', 'encoded', 'sent'] as const;

/** "CLOCK_MONOTONIC <boot id>": two processes' monotonic times compare only on the same host and boot. */
export function monotonicClockId(): string {
  let boot = 'unknown-boot';
  try {
    boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // not Linux: the id still names the clock
  }
  return `CLOCK_MONOTONIC ${boot}`;
}

/**
 * CLOCK_MONOTONIC ms − performance.now() ms in this process. Both read the same clock; one pair of reads can be
 * split by a preemption (tens of µs on a loaded machine), so the pair with the least time between two
 * performance.now() reads around the hrtime read wins: the offset is then exact to well under a microsecond.
 */
export function monotonicMinusPerformanceMs(): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 32; i++) {
    const before = performance.now();
    const mono = Number(process.hrtime.bigint()) / 1e6;
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offset = mono - (before + after) / 2;
    }
  }
  return offset;
}

/** FNV-1a, 32 bit, of bytes[0, length): the command fingerprint PassTimings carries. */
export function fnv1a32(bytes: Uint8Array, length = bytes.length): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class PassTimingsPublisher {
  private readonly publisher: Publisher;
  private readonly slots: Int32Array;
  /** column-major: COLUMNS.length columns of `capacity` ms values */
  private readonly times: Float64Array;
  private readonly stampSec: Int32Array;
  private readonly stampNanosec: Uint32Array;
  private readonly inferred: Uint8Array;
  private readonly commandHash: Uint32Array;
  private count = 0;
  private readonly timer: NodeJS.Timeout;
  /** 10 ms resolution: a 100 Hz timer, light beside a control loop's own wake-ups. */
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private readonly clockId = monotonicClockId();
  /** Passes published so far. */
  published = 0;

  constructor(
    transport: Transport,
    slots: StampSlots,
    /** CLOCK_MONOTONIC ms − performance.now() ms in this process. */
    private readonly perfOffsetMs: number,
    readonly capacity = 128,
    flushMs = 100,
  ) {
    this.publisher = transport.advertise('~/timings', 'onestep_msgs/msg/PassTimings', { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 100 });
    this.slots = Int32Array.from(COLUMNS.map((c) => slots[c]));
    this.times = new Float64Array(COLUMNS.length * capacity);
    this.stampSec = new Int32Array(capacity);
    this.stampNanosec = new Uint32Array(capacity);
    this.inferred = new Uint8Array(capacity);
    this.commandHash = new Uint32Array(capacity);
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref();
    this.loop.enable();
  }

  /**
   * Copies one pass's stamps and fingerprints its serialized command. Allocates nothing; a full batch is published
   * at once, the others at the next timer tick.
   */
  record(stamps: Float64Array, observationSec: number, observationNanosec: number, inferred: boolean, command: Uint8Array): void {
    const k = this.count;
    const cap = this.capacity;
    const slots = this.slots;
    for (let c = 0; c < slots.length; c++) this.times[c * cap + k] = stamps[slots[c]];
    this.stampSec[k] = observationSec;
    this.stampNanosec[k] = observationNanosec;
    this.inferred[k] = inferred ? 1 : 0;
    this.commandHash[k] = fnv1a32(command);
    this.count = k + 1;
    if (this.count === cap) this.flush();
  }

  /** Publishes the passes recorded since the last batch (nothing when there are none). */
  flush(): void {
    const n = this.count;
    if (n === 0) return;
    this.count = 0;
    const cap = this.capacity;
    const ns = (c: number) => {
      const out = new Array<number>(n);
      for (let k = 0; k < n; k++) out[k] = Math.round((this.times[c * cap + k] + this.perfOffsetMs) * 1e6);
      return out;
    };
    const now = Date.now();
    const message: Record<string, unknown> = {
      header: { stamp: { sec: Math.floor(now / 1000), nanosec: (now % 1000) * 1e6 }, frame_id: '' },
      clock_id: this.clockId,
      observation_stamp: Array.from({ length: n }, (_, k) => ({ sec: this.stampSec[k], nanosec: this.stampNanosec[k] })),
      inferred: this.inferred.slice(0, n),
      command_hash: this.commandHash.slice(0, n),
      event_loop_delay_p50_ms: this.loop.count > 0 ? this.loop.percentile(50) / 1e6 : 0,
      event_loop_delay_p99_ms: this.loop.count > 0 ? this.loop.percentile(99) / 1e6 : 0,
      event_loop_delay_max_ms: this.loop.count > 0 ? this.loop.max / 1e6 : 0,
    };
    this.loop.reset();
    COLUMNS.forEach((c, i) => (message[`${c}_ns`] = ns(i)));
    this.publisher.publish(message);
    this.published += n;
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
    this.loop.disable();
    this.publisher.close();
  }
}
