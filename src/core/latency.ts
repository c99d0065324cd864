// Latency statistics shared by `onestep bench`, the serve node's per-stage windows and the sim bridge: fixed-capacity
// rings of samples (recording allocates nothing), percentiles, a log-spaced histogram and a text table. All times
// are in microseconds.

/** Latency statistics in microseconds: percentiles by nearest rank. */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/**
 * `count` windows of the last `capacity` samples each, in one window-major array, so a long-running process
 * reports a recent window per stage. The hot path writes a sample as a plain typed-array store,
 * `samples[slot(w)] = µs`: `slot` takes and returns small integers, so no double is passed through a call
 * (V8 boxes doubles passed to calls it does not inline).
 */
export class LatencyWindows {
  readonly samples: Float64Array;
  private readonly next: Int32Array;
  private readonly filled: Int32Array;
  private readonly total: Float64Array;

  constructor(readonly count: number, readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`latency window capacity must be a positive integer (got ${capacity})`);
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`latency window count must be a positive integer (got ${count})`);
    this.samples = new Float64Array(count * capacity);
    this.next = new Int32Array(count);
    this.filled = new Int32Array(count);
    this.total = new Float64Array(count);
  }

  /** Reserves the next sample of window `w` and returns its index into `samples`. Allocates nothing. */
  slot(w: number): number {
    const i = this.next[w];
    this.next[w] = i + 1 === this.capacity ? 0 : i + 1;
    if (this.filled[w] < this.capacity) this.filled[w]++;
    this.total[w]++;
    return w * this.capacity + i;
  }

  /** Records one sample (µs) in window `w`. */
  record(w: number, microseconds: number): void {
    this.samples[this.slot(w)] = microseconds;
  }

  /** Samples currently in window `w` (at most `capacity`). */
  size(w: number): number {
    return this.filled[w];
  }

  /** Samples recorded in window `w` since the start or the last reset (may exceed the window). */
  recorded(w: number): number {
    return this.total[w];
  }

  /** Window `w`'s samples (a view, unsorted; valid until the next record). */
  window(w: number): Float64Array {
    return this.samples.subarray(w * this.capacity, w * this.capacity + this.filled[w]);
  }

  /** Statistics over window `w` (sorts a copy; call off the hot path). */
  summary(w: number): LatencySummary {
    return summarize(this.window(w));
  }

  /** Empties every window and count. */
  reset(): void {
    this.next.fill(0);
    this.filled.fill(0);
    this.total.fill(0);
  }
}

/** One latency window: the last `capacity` samples (µs). */
export class LatencyRecorder {
  private readonly windows: LatencyWindows;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`latency recorder capacity must be a positive integer (got ${capacity})`);
    this.windows = new LatencyWindows(1, capacity);
  }

  /** Records one sample in µs. Allocates nothing. */
  record(microseconds: number): void {
    this.windows.samples[this.windows.slot(0)] = microseconds;
  }

  /** Samples recorded since the start or the last reset (may exceed the window). */
  get recorded(): number {
    return this.windows.recorded(0);
  }

  /** Samples currently in the window (at most `capacity`). */
  get size(): number {
    return this.windows.size(0);
  }

  /** Empties the window and the count. */
  reset(): void {
    this.windows.reset();
  }

  /** A copy of the samples in the window (unsorted). */
  values(): Float64Array {
    return this.windows.window(0).slice();
  }

  /** Statistics over the window (sorts a copy; call off the hot path). */
  summary(): LatencySummary {
    return this.windows.summary(0);
  }

  /** Counts of the window's samples between log-spaced edges (µs). */
  histogram(edges?: readonly number[]): Histogram {
    return histogram(this.windows.window(0), edges);
  }
}

/** A summary in µs restated in milliseconds (count unchanged). */
export function toMilliseconds(s: LatencySummary): LatencySummary {
  const ms = (x: number) => x / 1000;
  return { count: s.count, mean: ms(s.mean), min: ms(s.min), p50: ms(s.p50), p90: ms(s.p90), p99: ms(s.p99), p999: ms(s.p999), max: ms(s.max) };
}

/** Nearest-rank percentile of sorted values, q in [0, 1]. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/**
 * The median: the middle value, or the mean of the two middle ones for an even count (a benchmark's median over an
 * even number of rounds then favours neither side); sorts a copy. NaN when empty.
 */
export function median(values: ArrayLike<number>): number {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Count, mean, min, percentiles (nearest rank) and max of samples in µs; sorts a copy. */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i];
  return {
    count: sorted.length,
    mean: sorted.length ? sum / sorted.length : NaN,
    min: sorted.length ? sorted[0] : NaN,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

export interface Histogram {
  /** Upper bin edges in µs; the last bin (edges.length) counts everything above the last edge. */
  readonly edges: readonly number[];
  readonly counts: readonly number[];
}

/** 1-2-5 steps from 1 µs to 100 ms: readable and wide enough for a GC pause. */
export const DEFAULT_HISTOGRAM_EDGES: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

export function histogram(samples: ArrayLike<number>, edges: readonly number[] = DEFAULT_HISTOGRAM_EDGES): Histogram {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    let b = 0;
    while (b < edges.length && v > edges[b]) b++;
    counts[b]++;
  }
  return { edges, counts };
}

/** Text bars, one line per non-empty bin: `   10–20 µs  ████████  81.2%`. */
export function formatHistogram(h: Histogram, width = 40): string {
  const total = h.counts.reduce((a, b) => a + b, 0);
  const peak = Math.max(...h.counts, 1);
  const lines: string[] = [];
  h.counts.forEach((c, i) => {
    if (c === 0) return;
    const lo = i === 0 ? 0 : h.edges[i - 1];
    const label = i === h.edges.length ? `> ${fmtUs(lo)}` : `${fmtUs(lo)}–${fmtUs(h.edges[i])}`;
    lines.push(`${label.padStart(16)} µs ${'█'.repeat(Math.max(1, Math.round((c / peak) * width))).padEnd(width)} ${((100 * c) / total).toFixed(1).padStart(5)}%`);
  });
  return lines.join('\n');
}

function fmtUs(v: number): string {
  return v >= 1000 ? `${v / 1000}k` : `${v}`;
}

/** A fixed-width table of summaries: one row per name. */
export function formatLatencyTable(rows: readonly { name: string; summary: LatencySummary }[]): string {
  const cols = ['p50', 'p90', 'p99', 'p99.9', 'max', 'mean'] as const;
  const key = { p50: 'p50', p90: 'p90', p99: 'p99', 'p99.9': 'p999', max: 'max', mean: 'mean' } as const;
  const nameWidth = Math.max(4, ...rows.map((r) => r.name.length));
  const header = `${'µs'.padEnd(nameWidth)}  ${cols.map((c) => c.padStart(9)).join('')}`;
  const body = rows.map((r) => `${r.name.padEnd(nameWidth)}  ${cols.map((c) => formatMicros(r.summary[key[c]]).padStart(9)).join('')}`);
  return [header, ...body].join('\n');
}

export function formatMicros(v: number): string {
  if (!Number.isFinite(v)) return '-';
  return v >= 1000 ? v.toFixed(0) : v >= 100 ? v.toFixed(1) : v.toFixed(2);
}
