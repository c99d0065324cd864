// .npz datasets (a ZIP of .npy arrays, as np.savez stores and np.savez_compressed deflates them) with the keys
// D4RL, OGBench and FQL use, read into an OfflineDataset; and the writer `onestep collect` uses.
//
// Keys: observations (N×D), actions (N×A), rewards (N), terminals (N), optional next_observations (N×D), masks (N),
// timeouts (N), success (N) and metadata (a 0-d string holding JSON: task, observationNames, how it was made).
// Three layouts, told apart by the keys present:
//   transitions (next_observations present; D4RL's qlearning_dataset, FQL): row i is (s, a, r, s').
//     With `masks` (FQL) the bootstrap mask is `masks` and `terminals` may mark any episode end; without, `terminals`
//     means a true terminal state (D4RL). Episode ends are terminals, timeouts, masks = 0, or a row whose
//     next_observations differ from the following row's observations.
//   D4RL raw (no next_observations, timeouts present): row i is a transition whose s' is row i + 1's observation;
//     a timeout row has no stored s' and is dropped (as d4rl.qlearning_dataset does); a terminal row is kept with
//     mask 0 (its s' is never bootstrapped from, so it is stored as s itself).
//   OGBench trajectories (no next_observations, no timeouts): each trajectory's last row holds only its final
//     observation and is marked by terminals = 1; s' comes from the next row and the marked rows are dropped.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import type { OfflineDataset } from './dataset.ts';
import { type NpyArray, type NpyValue, encodeNpy, parseNpy, toFloat32 } from './npy.ts';
import { DatasetError, type RowMap, checkActionRange, checkFinite, checkRows } from './validate.ts';

/** The members the reader looks at; others (OGBench's qpos/qvel, infos…) are left compressed and ignored. */
const KEYS = ['observations', 'actions', 'rewards', 'terminals', 'next_observations', 'masks', 'timeouts', 'success', 'metadata'] as const;
type Key = (typeof KEYS)[number];

/** A numeric array as float32 rows × columns. */
interface Table {
  values: Float32Array;
  rows: number;
  columns: number;
}

/** Read a .npz dataset; throws DatasetError naming the file, key and row of the first problem. */
export function readNpz(path: string): OfflineDataset {
  const file = path;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new DatasetError('not-found', file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes, { filter: (f) => (KEYS as readonly string[]).includes(memberKey(f.name)) });
  } catch (err) {
    throw new DatasetError('bad-archive', file, `is not a readable .npz (ZIP) archive: ${(err as Error).message}`);
  }
  const arrays = new Map<Key, NpyArray>();
  for (const [name, data] of Object.entries(members)) {
    const key = memberKey(name) as Key;
    if (arrays.has(key)) throw new DatasetError('bad-archive', file, `holds two members for key '${key}'`, { key });
    arrays.set(key, parseNpy(data, { file, key }));
  }
  const present = (key: Key) => arrays.has(key);

  const metadata = readMetadata(file, arrays.get('metadata'));
  const observations = table(file, arrays, 'observations', 2, true)!;
  const n = observations.rows;
  const d = observations.columns;
  const actions = table(file, arrays, 'actions', 2, true)!;
  checkRows(file, 'actions', actions.rows, n, 'observations');
  const perRow = (key: Key, required: boolean): Float32Array | undefined => {
    const t = table(file, arrays, key, 1, required);
    if (!t) return undefined;
    if (t.columns !== 1) throw new DatasetError('bad-shape', file, `must have one value per row, has ${t.columns}`, { key });
    checkRows(file, key, t.rows, n, 'observations');
    return t.values;
  };
  const next = table(file, arrays, 'next_observations', 2, false);
  if (next) {
    checkRows(file, 'next_observations', next.rows, n, 'observations');
    if (next.columns !== d) throw new DatasetError('bad-shape', file, `has ${next.columns} columns, 'observations' has ${d}`, { key: 'next_observations' });
  }
  const masks = perRow('masks', false);
  const timeouts = perRow('timeouts', false);
  const success = perRow('success', false);
  // terminals may be left out only where masks carry the bootstrap information (FQL-style transitions).
  const terminals = perRow('terminals', !(next && masks));
  if (!present('rewards')) {
    throw new DatasetError(
      'missing-key',
      file,
      next || timeouts
        ? 'is missing'
        : "is missing (OGBench's raw trajectory files carry none: their single-task rewards are relabelled by the environment; add a 'rewards' array, e.g. success − 1)",
      { key: 'rewards' },
    );
  }
  const rewards = perRow('rewards', true)!;
  for (const [key, flags] of [['terminals', terminals], ['masks', masks], ['timeouts', timeouts], ['success', success]] as const) {
    if (flags) checkFinite(file, key, flags, 1);
  }

  // Which file rows become transitions, where each s' comes from, and the bootstrap / episode-end flags.
  const layout = next ? transitionsLayout(n, d, observations.values, next.values, terminals, masks, timeouts) : trajectoryLayout(n, terminals!, masks, timeouts !== undefined ? timeouts : undefined);
  const { rows, nextRow } = layout;
  const size = rows.length;
  if (size === 0) throw new DatasetError('empty', file, `holds no transitions (${n} rows, none with a next observation)`, { key: 'observations' });
  const rowOf: RowMap = (i) => rows[i];
  const keep = (t: Table) => (size === n ? t.values : gather(t.values, t.columns, rows));
  const obs = keep(observations);
  const act = keep(actions);
  const rew = keep({ values: rewards, rows: n, columns: 1 });
  let nextObs: Float32Array;
  if (next) nextObs = keep(next);
  else {
    nextObs = new Float32Array(size * d);
    for (let i = 0; i < size; i++) nextObs.set(observations.values.subarray(nextRow[i] * d, (nextRow[i] + 1) * d), i * d);
  }
  checkFinite(file, 'observations', obs, d, rowOf);
  if (next) checkFinite(file, 'next_observations', nextObs, d, rowOf);
  else checkFinite(file, 'observations', nextObs, d, (i) => nextRow[i]);
  checkFinite(file, 'rewards', rew, 1, rowOf);
  checkFinite(file, 'actions', act, actions.columns, rowOf);
  // The range check clips values within the tolerance in place: work on our own copy, never the caller's view.
  const actionsOwned = act === actions.values ? act.slice() : act;
  checkActionRange(file, 'actions', actionsOwned, actions.columns, rowOf);

  if (metadata.observationNames && metadata.observationNames.length !== d) {
    throw new DatasetError('bad-metadata', file, `names ${metadata.observationNames.length} observation columns, 'observations' has ${d}`, { key: 'metadata' });
  }
  return {
    source: file,
    size,
    observationSize: d,
    actionSize: actions.columns,
    observations: obs,
    actions: actionsOwned,
    rewards: rew,
    nextObservations: nextObs,
    terminals: layout.terminals,
    masks: layout.terminals.map((t) => 1 - t),
    episodeEnds: layout.episodeEnds,
    task: metadata.task,
    observationNames: metadata.observationNames,
    success: success && (size === n ? success : gather(success, 1, rows)),
    metadata: metadata.rest,
  };
}

/** A member's key: its name without the .npy suffix (np.savez names them key.npy). */
const memberKey = (name: string) => name.replace(/\.npy$/, '');

/** Rows (file row indices), the row each s' comes from, the no-bootstrap flags and the episode ends. */
interface Layout {
  rows: Int32Array;
  nextRow: Int32Array;
  terminals: Float32Array;
  episodeEnds: Float32Array;
}

function transitionsLayout(
  n: number,
  d: number,
  obs: Float32Array,
  next: Float32Array,
  terminals: Float32Array | undefined,
  masks: Float32Array | undefined,
  timeouts: Float32Array | undefined,
): Layout {
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const terminal = new Float32Array(n);
  const ends = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    terminal[i] = masks ? (masks[i] === 0 ? 1 : 0) : terminals![i] !== 0 ? 1 : 0;
    let end = terminal[i] === 1 || (terminals !== undefined && terminals[i] !== 0) || (timeouts !== undefined && timeouts[i] !== 0) || i === n - 1;
    if (!end) {
      // A jump between this row's s' and the next row's s starts a new episode (FQL's rule for D4RL).
      for (let j = 0; j < d; j++) {
        const a = next[i * d + j];
        const b = obs[(i + 1) * d + j];
        if (Math.abs(a - b) > 1e-6 * (1 + Math.abs(a))) {
          end = true;
          break;
        }
      }
    }
    ends[i] = end ? 1 : 0;
  }
  return { rows, nextRow: rows, terminals: terminal, episodeEnds: ends };
}

function trajectoryLayout(n: number, terminals: Float32Array, masks: Float32Array | undefined, timeouts: Float32Array | undefined): Layout {
  const rows: number[] = [];
  const nextRow: number[] = [];
  const terminal: number[] = [];
  for (let i = 0; i < n; i++) {
    if (timeouts) {
      // D4RL raw: a terminal row is a transition into a terminal state; a timeout row has no s'.
      if (terminals[i] !== 0) {
        rows.push(i);
        nextRow.push(i);
        terminal.push(1);
      } else if (timeouts[i] === 0 && i < n - 1) {
        rows.push(i);
        nextRow.push(i + 1);
        terminal.push(masks && masks[i] === 0 ? 1 : 0);
      }
    } else if (terminals[i] === 0 && i < n - 1) {
      // OGBench: a marked row only carries the trajectory's final observation.
      rows.push(i);
      nextRow.push(i + 1);
      terminal.push(masks && masks[i] === 0 ? 1 : 0);
    }
  }
  const size = rows.length;
  const ends = new Float32Array(size);
  // An episode ends at a terminal, where the next kept row is not the following file row, and at the last row.
  for (let k = 0; k < size; k++) ends[k] = terminal[k] === 1 || k === size - 1 || rows[k + 1] !== rows[k] + 1 ? 1 : 0;
  return { rows: Int32Array.from(rows), nextRow: Int32Array.from(nextRow), terminals: Float32Array.from(terminal), episodeEnds: ends };
}

/** The rows `rows` of a row-major table. */
function gather(values: Float32Array, columns: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * columns);
  for (let k = 0; k < rows.length; k++) out.set(values.subarray(rows[k] * columns, (rows[k] + 1) * columns), k * columns);
  return out;
}

/** A numeric member as float32 rows × columns: 1-D arrays are one column, 2-D (N, C) C columns, (N, 1) allowed for per-row keys. */
function table(file: string, arrays: Map<Key, NpyArray>, key: Key, rank: 1 | 2, required: boolean): Table | undefined {
  const a = arrays.get(key);
  if (!a) {
    if (required) throw new DatasetError('missing-key', file, `is missing (the file has ${[...arrays.keys()].join(', ') || 'no known keys'})`, { key });
    return undefined;
  }
  if (a.values === null) throw new DatasetError('unsupported-dtype', file, `holds strings (dtype ${a.descr}), not numbers`, { key });
  const shape = a.shape;
  const ok = shape.length === 1 || (shape.length === 2 && (rank === 2 || shape[1] === 1));
  if (!ok) {
    const what = rank === 2 ? 'a (rows, columns) array' : 'one value per row';
    throw new DatasetError('bad-shape', file, `has shape (${shape.join(', ')}), expected ${what}${shape.length > 2 ? ' (flatten image or nested observations first)' : ''}`, { key });
  }
  const columns = shape.length === 2 ? shape[1] : 1;
  if (columns === 0) throw new DatasetError('bad-shape', file, `has shape (${shape.join(', ')}): zero columns`, { key });
  return { values: toFloat32(a), rows: shape[0], columns };
}

interface Metadata {
  task?: string;
  observationNames?: string[];
  rest?: Record<string, unknown>;
}

function readMetadata(file: string, array: NpyArray | undefined): Metadata {
  if (!array) return {};
  if (array.text === undefined) throw new DatasetError('bad-metadata', file, `must be a single string of JSON (dtype ${array.descr}, shape (${array.shape.join(', ')}))`, { key: 'metadata' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(array.text);
  } catch (err) {
    throw new DatasetError('bad-metadata', file, `is not JSON (${(err as Error).message})`, { key: 'metadata' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new DatasetError('bad-metadata', file, 'must be a JSON object', { key: 'metadata' });
  const { task, observationNames, ...rest } = parsed as Record<string, unknown>;
  if (task !== undefined && typeof task !== 'string') throw new DatasetError('bad-metadata', file, '"task" must be a string', { key: 'metadata' });
  if (observationNames !== undefined && !(Array.isArray(observationNames) && observationNames.every((s) => typeof s === 'string'))) {
    throw new DatasetError('bad-metadata', file, '"observationNames" must be a list of strings', { key: 'metadata' });
  }
  return { task, observationNames: observationNames as string[] | undefined, rest };
}

/** Write arrays as an .npz numpy loads (np.load(path)[key]); atomically, so a reader never sees half a file. */
export function writeNpz(path: string, arrays: Readonly<Record<string, NpyValue>>, options: { compress?: boolean } = {}): void {
  const entries: Zippable = {};
  for (const [key, value] of Object.entries(arrays)) entries[`${key}.npy`] = encodeNpy(value);
  const zipped = zipSync(entries, { level: options.compress ? 6 : 0, mtime: new Date('1980-01-01T00:00:00') });
  const partial = `${path}.partial-${process.pid}`;
  mkdirSync(dirname(path), { recursive: true }); // `--out runs/data/x.npz` in a fresh clone
  try {
    writeFileSync(partial, zipped);
    renameSync(partial, path);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

/**
 * Write a dataset with the D4RL/FQL keys (terminals = true terminal states, timeouts = other episode ends,
 * masks = 1 − terminals, next_observations), `success` when present, and a `metadata` JSON string holding the
 * task, observation names and `metadata` (how it was made).
 */
export function writeDatasetNpz(path: string, ds: OfflineDataset, options: { compress?: boolean; metadata?: Record<string, unknown> } = {}): void {
  const timeouts = new Uint8Array(ds.size);
  for (let i = 0; i < ds.size; i++) timeouts[i] = ds.episodeEnds[i] !== 0 && ds.terminals[i] === 0 ? 1 : 0;
  const bools = (values: Float32Array) => ({ data: Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0)), shape: [ds.size], dtype: 'bool' as const });
  const arrays: Record<string, NpyValue> = {
    observations: { data: ds.observations, shape: [ds.size, ds.observationSize] },
    actions: { data: ds.actions, shape: [ds.size, ds.actionSize] },
    rewards: { data: ds.rewards, shape: [ds.size] },
    next_observations: { data: ds.nextObservations, shape: [ds.size, ds.observationSize] },
    terminals: bools(ds.terminals),
    timeouts: { data: timeouts, shape: [ds.size], dtype: 'bool' },
    masks: { data: ds.masks, shape: [ds.size] },
  };
  if (ds.success) arrays.success = bools(ds.success);
  const metadata = { ...ds.metadata, ...options.metadata, ...(ds.task !== undefined && { task: ds.task }), ...(ds.observationNames && { observationNames: ds.observationNames }) };
  if (Object.keys(metadata).length > 0) arrays.metadata = JSON.stringify(metadata);
  writeNpz(path, arrays, { compress: options.compress });
}
