// Dataset validation: every problem is a DatasetError that names the file, the key (array) and, where it applies,
// the row and column, so a user can find it with numpy in one line. The readers check the raw arrays before they
// derive anything (rows are the file's rows) and build the dataset only when every check has passed, so a caller
// gets a complete, valid OfflineDataset or an error — never half a dataset.
import type { OfflineDataset } from './dataset.ts';

/** What went wrong, as a stable name tests and callers can branch on. */
export type DatasetErrorCode =
  /** The path does not exist or cannot be read. */
  | 'not-found'
  /** The path is not a format we read (.npz, a Minari directory or its main_data.hdf5). */
  | 'unknown-format'
  /** The .npz is not a ZIP archive, or the HDF5 file cannot be opened. */
  | 'bad-archive'
  /** A member is not a valid .npy array. */
  | 'bad-npy'
  /** A member ends before its shape says it should. */
  | 'truncated'
  /** A .npy member in Fortran (column-major) order. */
  | 'fortran-order'
  /** A big-endian .npy member. */
  | 'big-endian'
  /** A .npy member of Python objects (pickle). */
  | 'pickled-object'
  /** A dtype datasets do not use (strings, structured, complex…). */
  | 'unsupported-dtype'
  /** A required array is missing. */
  | 'missing-key'
  /** An array's shape does not fit (rank, or columns differing from its partner array). */
  | 'bad-shape'
  /** Arrays that must have one row per transition have different row counts. */
  | 'length-mismatch'
  /** NaN or ±Infinity (after conversion to float32). */
  | 'non-finite'
  /** An action outside [-1, 1] beyond the tolerance. */
  | 'action-out-of-range'
  /** Observation size differs from the task's. */
  | 'observation-size'
  /** Action size differs from the environment's. */
  | 'action-size'
  /** The file says it was made for another task, or with other observation names. */
  | 'task-mismatch'
  /** The file's metadata (the .npz `metadata` member, Minari's metadata.json) is unreadable or contradicts the data. */
  | 'bad-metadata'
  /** No transitions left. */
  | 'empty';

/** A dataset that cannot be used, with the file, key and row it concerns. The message says all three. */
export class DatasetError extends Error {
  override name = 'DatasetError';
  readonly key?: string;
  readonly row?: number;
  readonly column?: number;

  constructor(
    readonly code: DatasetErrorCode,
    readonly file: string,
    detail: string,
    at: { key?: string; row?: number; column?: number } = {},
  ) {
    const where = [at.key !== undefined ? `key '${at.key}'` : null, at.row !== undefined ? `row ${at.row}` : null, at.column !== undefined ? `column ${at.column}` : null]
      .filter((s) => s !== null)
      .join(' ');
    super(`${file}: ${where ? `${where}: ` : ''}${detail}`);
    this.key = at.key;
    this.row = at.row;
    this.column = at.column;
  }
}

/** Actions may exceed [-1, 1] by this much (float rounding in the writer); such values are clipped to the range. */
export const ACTION_TOLERANCE = 1e-3;

/** Maps a row of the array being checked to the row of the file it came from (rows a reader dropped are skipped). */
export type RowMap = (row: number) => number;
const sameRow: RowMap = (row) => row;

/** Fail unless `values` (rows × columns, row-major) are all finite. */
export function checkFinite(file: string, key: string, values: Float32Array, columns: number, rowOf: RowMap = sameRow): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      const row = rowOf(Math.floor(i / columns));
      throw new DatasetError('non-finite', file, `value ${values[i]} is not finite (NaN, ±Infinity, or beyond float32's range)`, {
        key,
        row,
        column: columns > 1 ? i % columns : undefined,
      });
    }
  }
}

/** Fail on an action outside [-1, 1] by more than ACTION_TOLERANCE; clip the ones within it (in place). */
export function checkActionRange(file: string, key: string, values: Float32Array, columns: number, rowOf: RowMap = sameRow, hint = ''): void {
  for (let i = 0; i < values.length; i++) {
    const a = values[i];
    if (a >= -1 && a <= 1) continue;
    if (Math.abs(a) <= 1 + ACTION_TOLERANCE) {
      values[i] = a > 0 ? 1 : -1;
      continue;
    }
    throw new DatasetError(
      'action-out-of-range',
      file,
      `action ${a} is outside the normalised action range [-1, 1] (tolerance ${ACTION_TOLERANCE})${hint}; rescale actions to [-1, 1] as the policy outputs them`,
      { key, row: rowOf(Math.floor(i / columns)), column: columns > 1 ? i % columns : undefined },
    );
  }
}

/** Fail unless an array has `rows` rows, naming the array it was compared with. */
export function checkRows(file: string, key: string, rows: number, expected: number, reference: string): void {
  if (rows !== expected) {
    throw new DatasetError('length-mismatch', file, `has ${rows} rows, '${reference}' has ${expected}: every per-transition array needs one row per transition`, { key });
  }
}

/** What a dataset is checked against when it is loaded for a task. A TaskSpec fits `task` as it is. */
export interface DatasetExpectation {
  /** The task: its observation size (the number of names) must match; its name and observation names too, when the file records them. */
  task?: { readonly name: string; readonly observationNames: readonly string[] };
  /** The environment's action size (MujocoEnv.actionSize). */
  actionSize?: number;
}

/** Fail if a loaded dataset does not fit the task it is meant for. */
export function checkAgainstTask(ds: OfflineDataset, expect: DatasetExpectation): void {
  const { task, actionSize } = expect;
  if (task) {
    const want = task.observationNames.length;
    if (ds.observationSize !== want) {
      throw new DatasetError(
        'observation-size',
        ds.source,
        `observations have ${ds.observationSize} columns, task ${task.name} observes ${want} (${task.observationNames.join(', ')})`,
        { key: 'observations' },
      );
    }
    if (ds.task !== undefined && ds.task !== task.name) {
      throw new DatasetError('task-mismatch', ds.source, `the file was collected on task ${ds.task}, not ${task.name}`, { key: 'metadata' });
    }
    if (ds.observationNames) {
      const differing = ds.observationNames.findIndex((n, i) => n !== task.observationNames[i]);
      if (differing >= 0) {
        throw new DatasetError(
          'task-mismatch',
          ds.source,
          `observation column ${differing} is '${ds.observationNames[differing]}' in the file but '${task.observationNames[differing]}' in task ${task.name} (the task's observation changed since the data was collected?)`,
          { key: 'metadata' },
        );
      }
    }
  }
  if (actionSize !== undefined && ds.actionSize !== actionSize) {
    throw new DatasetError('action-size', ds.source, `actions have ${ds.actionSize} columns, the environment takes ${actionSize}`, { key: 'actions' });
  }
}
