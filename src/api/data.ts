/**
 * `onestep/data`: offline robot datasets. {@link loadDataset} reads an .npz (D4RL / OGBench / FQL keys) or a
 * Minari dataset, validates every array and checks it against the task it is meant for; the result is a complete
 * {@link OfflineDataset} of flat Float32Arrays, or a {@link DatasetError} naming the file, key and row.
 *
 * @example
 * ```ts
 * import { loadDataset, summarizeDataset } from 'onestep/data';
 * const ds = await loadDataset('arm_reach.npz', { actionSize: 7 });
 * console.log(ds.size, ds.observationSize, summarizeDataset(ds));
 * ```
 * @packageDocumentation
 */
export * from '../data/index.ts';
