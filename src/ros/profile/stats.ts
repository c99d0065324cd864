// Latency distributions as HdrHistogram keeps them (hdr-histogram-js: 3 significant digits from 1 ns up, so a
// 5 ms spike and a 20 µs median are both exact to 0.1 %), summarised the way latency tools report them: count,
// p50/p90/p99/p99.9, max, and the percentile curve over 1/(1−p) for plotting. Values are recorded in nanoseconds
// (HdrHistogram counts integers) and reported in microseconds.
import * as hdr from 'hdr-histogram-js';

export interface Distribution {
  count: number;
  /** µs */
  min: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** [percentile (0–100), µs] from the median to the maximum, log-spaced in 1/(1−p): the percentile plot. */
  curve: [number, number][];
  /** The whole histogram, HdrHistogram's compressed base64 encoding (for merging and re-analysis). */
  hdr: string;
}

export class LatencyHistogram {
  private readonly h = hdr.build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, autoResize: true });

  /**
   * Records one value in microseconds. A slightly negative one (two reads of one clock through different APIs, e.g.
   * hrtime and performance.now(), agree to about a microsecond) counts as 0; below −50 µs it is refused: the clocks
   * are not the same.
   */
  recordUs(us: number): void {
    if (!(us >= -50) || !Number.isFinite(us)) return;
    this.h.recordValue(Math.max(1, Math.round(us * 1000)));
  }

  get count(): number {
    return this.h.totalCount;
  }

  summary(): Distribution {
    const h = this.h;
    const n = h.totalCount;
    const us = (ns: number) => ns / 1000;
    if (n === 0) return { count: 0, min: NaN, mean: NaN, stddev: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, curve: [], hdr: '' };
    const at = (p: number) => us(h.getValueAtPercentile(p));
    const curve: [number, number][] = [];
    // 1/(1−p) from 2 (p50) to the count (the max), 8 points per decade
    const top = Math.log10(Math.max(2, n));
    for (let x = Math.log10(2); x < top; x += 0.125) {
      const p = 100 * (1 - 10 ** -x);
      curve.push([+p.toFixed(6), at(p)]);
    }
    curve.push([100, us(h.maxValue)]);
    return {
      count: n,
      min: us(h.minNonZeroValue),
      mean: us(h.mean),
      stddev: us(h.stdDeviation),
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: us(h.maxValue),
      curve,
      hdr: hdr.encodeIntoCompressedBase64(h),
    };
  }

  destroy(): void {
    this.h.destroy();
  }
}

/** The distribution of a list of µs values. */
export function distributionOf(values: ArrayLike<number>): Distribution {
  const h = new LatencyHistogram();
  for (let i = 0; i < values.length; i++) h.recordUs(values[i]);
  const s = h.summary();
  h.destroy();
  return s;
}
