// Summaries of a dataset: per-column statistics (the observation normalisation of offline algorithms uses the mean
// and std) and per-episode returns, lengths and success (what `onestep dataset info` prints).
import type { OfflineDataset } from './dataset.ts';

/** Per-column statistics of a row-major array. */
export interface ColumnStatistics {
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly mean: Float64Array;
  /** Population standard deviation (divided by the row count). */
  readonly std: Float64Array;
}

/** Min, max, mean and std of each column of a row-major rows × columns array (two passes, in float64). */
export function columnStatistics(values: Float32Array, columns: number): ColumnStatistics {
  const rows = values.length / columns;
  const min = new Float64Array(columns).fill(Infinity);
  const max = new Float64Array(columns).fill(-Infinity);
  const mean = new Float64Array(columns);
  const std = new Float64Array(columns);
  for (let i = 0; i < values.length; i++) {
    const j = i % columns;
    const v = values[i];
    if (v < min[j]) min[j] = v;
    if (v > max[j]) max[j] = v;
    mean[j] += v;
  }
  for (let j = 0; j < columns; j++) mean[j] /= rows;
  for (let i = 0; i < values.length; i++) std[i % columns] += (values[i] - mean[i % columns]) ** 2;
  for (let j = 0; j < columns; j++) std[j] = Math.sqrt(std[j] / rows);
  return { min, max, mean, std };
}

/** [start, end) row ranges of the dataset's episodes (an episode ends at a row with episodeEnds = 1, or at the data's end). */
export function episodeRanges(ds: OfflineDataset): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < ds.size; i++) {
    if (ds.episodeEnds[i] !== 0 || i === ds.size - 1) {
      out.push([start, i + 1]);
      start = i + 1;
    }
  }
  return out;
}

/** A dataset's shape, episodes and per-column statistics, for reports. */
export interface DatasetSummary {
  transitions: number;
  episodes: number;
  /** Episode returns (undiscounted sums of rewards) and lengths, one entry per episode. */
  returns: Float64Array;
  lengths: Int32Array;
  returnMean: number;
  returnStd: number;
  /** Fraction of episodes whose last transition is a success; null when the file records no success. */
  successRate: number | null;
  /** Transitions into a terminal state (no bootstrap). */
  terminals: number;
  observations: ColumnStatistics;
  actions: ColumnStatistics;
  rewards: ColumnStatistics;
}

/** Sizes, episode count and lengths, returns and per-column statistics of a dataset. */
export function summarizeDataset(ds: OfflineDataset): DatasetSummary {
  const ranges = episodeRanges(ds);
  const returns = new Float64Array(ranges.length);
  const lengths = new Int32Array(ranges.length);
  let successes = 0;
  ranges.forEach(([start, end], k) => {
    let total = 0;
    for (let i = start; i < end; i++) total += ds.rewards[i];
    returns[k] = total;
    lengths[k] = end - start;
    if (ds.success && ds.success[end - 1] !== 0) successes++;
  });
  const returnMean = returns.reduce((a, b) => a + b, 0) / Math.max(1, returns.length);
  const returnStd = Math.sqrt(returns.reduce((a, b) => a + (b - returnMean) ** 2, 0) / Math.max(1, returns.length));
  return {
    transitions: ds.size,
    episodes: ranges.length,
    returns,
    lengths,
    returnMean,
    returnStd,
    successRate: ds.success ? successes / Math.max(1, ranges.length) : null,
    terminals: ds.terminals.reduce((a, b) => a + b, 0),
    observations: columnStatistics(ds.observations, ds.observationSize),
    actions: columnStatistics(ds.actions, ds.actionSize),
    rewards: columnStatistics(ds.rewards, 1),
  };
}
