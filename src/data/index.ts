// Offline datasets in one import: loadDataset reads an .npz (D4RL / OGBench / FQL keys) or a Minari dataset,
// validates it and checks it against the task it is meant for; the result is a complete OfflineDataset or a
// DatasetError naming the file, key and row. writeDatasetNpz writes one (what `onestep collect` produces).
//
//   const ds = await loadDataset('data.npz', { task: env.task, actionSize: env.actionSize });
//   ds.observations  // Float32Array, ds.size × ds.observationSize; actions in [-1, 1]
import { existsSync, statSync } from 'node:fs';
import type { OfflineDataset } from './dataset.ts';
import { readMinari } from './minari.ts';
import { readNpz } from './npz.ts';
import { DatasetError, type DatasetExpectation, checkAgainstTask } from './validate.ts';

export type { OfflineDataset } from './dataset.ts';
export { readNpz, writeDatasetNpz, writeNpz } from './npz.ts';
export { readMinari } from './minari.ts';
export { mergeDatasets } from './merge.ts';
export { ACTION_TOLERANCE, DatasetError, type DatasetErrorCode, type DatasetExpectation, checkAgainstTask } from './validate.ts';
export { type ColumnStatistics, type DatasetSummary, columnStatistics, episodeRanges, summarizeDataset } from './stats.ts';

/**
 * Load a dataset: `path` ending in .npz is read as numpy arrays; a folder, .hdf5 or .h5 file as Minari. With
 * `task` (a TaskSpec fits) the observation size — and the task and observation names the file records — must
 * match; with `actionSize` the action size too.
 */
export async function loadDataset(path: string, expect: DatasetExpectation = {}): Promise<OfflineDataset> {
  if (!existsSync(path)) throw new DatasetError('not-found', path, 'does not exist');
  let ds: OfflineDataset;
  if (/\.npz$/i.test(path) && statSync(path).isFile()) ds = readNpz(path);
  else if (statSync(path).isDirectory() || /\.(hdf5|h5)$/i.test(path)) ds = await readMinari(path);
  else throw new DatasetError('unknown-format', path, 'is not a dataset onestep reads: give an .npz file, a Minari dataset folder or its main_data.hdf5');
  checkAgainstTask(ds, expect);
  return ds;
}
