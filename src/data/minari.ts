// Minari datasets (Farama's offline-RL format) read into an OfflineDataset through h5wasm, the HDF5 C library
// compiled to WebAssembly: it reads every layout and filter h5py writes (Minari opens its file with
// track_order=True and chunked, resizable datasets; jsfive, the pure-JS alternative, fails on chunked datasets of
// files written with libver='latest'). h5wasm runs in a worker thread without the TypeScript loader (see
// hdf5-worker.mjs), which hands the episode groups over as plain arrays; what they mean is decided here.
//
// Layout (Minari 0.4+): DATASET/data/metadata.json and DATASET/data/main_data.hdf5; the file holds one group
// `episode_<i>` per episode with observations (T + 1 rows: the reset observation and one per step), actions (T),
// rewards (T), terminations (T), truncations (T) and infos. Dict observations (a group of arrays) are flattened
// in sorted key order (gymnasium's order for Dict spaces). A per-step `success` info, as a dataset in an `infos`
// group or a key of Minari 0.5's JSON info strings, becomes OfflineDataset.success.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { OfflineDataset } from './dataset.ts';
import { DatasetError, checkActionRange, checkFinite, checkRows } from './validate.ts';

/** An HDF5 object as the worker posts it. */
type Hdf5Node =
  | { kind: 'group'; children: Record<string, Hdf5Node> }
  | { kind: 'dataset'; shape: number[]; dtype: string; value: unknown }
  | { kind: 'other' };
type Hdf5Dataset = Extract<Hdf5Node, { kind: 'dataset' }>;
type Hdf5Group = Extract<Hdf5Node, { kind: 'group' }>;

type WorkerReply = { id: number; ok: true; keys: string[]; groups: Record<string, Hdf5Node> } | { id: number; ok: false; message: string };

/** The HDF5 reader thread, started on first use and kept for the next read; it holds the process open only while a read is pending. */
let reader: { worker: Worker; pending: Map<number, (reply: WorkerReply | Error) => void>; nextId: number } | null = null;

function hdf5Reader(): NonNullable<typeof reader> {
  if (reader) return reader;
  const worker = new Worker(new URL('./hdf5-worker.mjs', import.meta.url), { execArgv: [], workerData: { h5wasmUrl: import.meta.resolve('h5wasm/node') } });
  const state = { worker, pending: new Map<number, (reply: WorkerReply | Error) => void>(), nextId: 0 };
  const failAll = (err: Error) => {
    if (reader === state) reader = null;
    for (const settle of state.pending.values()) settle(err);
    state.pending.clear();
  };
  worker.on('message', (reply: WorkerReply) => {
    state.pending.get(reply.id)?.(reply);
    state.pending.delete(reply.id);
    if (state.pending.size === 0) worker.unref();
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the HDF5 reader stopped with code ${code}`)));
  // unref after the listeners are attached (attaching one refs the worker again)
  worker.unref();
  reader = state;
  return state;
}

/** The file's top-level names and its episode_<i> groups, read by h5wasm in the reader thread. */
function readEpisodeGroups(file: string): Promise<{ keys: string[]; groups: Record<string, Hdf5Node> }> {
  const r = hdf5Reader();
  const id = r.nextId++;
  return new Promise((resolvePromise, reject) => {
    r.pending.set(id, (reply) => {
      if (reply instanceof Error) reject(new DatasetError('bad-archive', file, `cannot be read as HDF5 (${reply.message})`));
      else if (reply.ok) resolvePromise(reply);
      else reject(new DatasetError('bad-archive', file, `cannot be read as HDF5 (${firstHdf5Line(reply.message)})`));
    });
    r.worker.ref();
    r.worker.postMessage({ id, file });
  });
}

const MAIN_FILE = 'main_data.hdf5';
const METADATA_FILE = 'metadata.json';
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Where a Minari dataset's files are: `path` is the dataset folder, its data/ folder, or main_data.hdf5 itself. */
export function minariFiles(path: string): { hdf5: string; metadata: string } | null {
  if (!existsSync(path)) return null;
  if (statSync(path).isFile()) return { hdf5: resolve(path), metadata: join(dirname(path), METADATA_FILE) };
  for (const dir of [join(path, 'data'), path]) {
    const hdf5 = join(dir, MAIN_FILE);
    if (existsSync(hdf5)) return { hdf5: resolve(hdf5), metadata: join(dir, METADATA_FILE) };
  }
  return null;
}

/** One episode's arrays, checked, before they are joined. */
interface Episode {
  observations: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  terminations: Float32Array;
  truncations: Float32Array;
  success?: Float32Array;
  steps: number;
}

/** Read a Minari dataset; throws DatasetError naming the file, the episode's key and the row of the first problem. */
export async function readMinari(path: string): Promise<OfflineDataset> {
  const files = minariFiles(path);
  if (!files) {
    throw new DatasetError(
      existsSync(path) ? 'unknown-format' : 'not-found',
      path,
      existsSync(path) ? `is not a Minari dataset: no ${MAIN_FILE} in it or in its data/ folder` : 'does not exist',
    );
  }
  const file = files.hdf5;
  const metadata = readMetadataJson(files.metadata);
  if (metadata && metadata.data_format !== undefined && metadata.data_format !== 'hdf5') {
    throw new DatasetError('unknown-format', files.metadata, `says data_format '${String(metadata.data_format)}'; onestep reads Minari's hdf5 format`, { key: 'data_format' });
  }
  const head = Buffer.alloc(8);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 8, 0);
  } finally {
    closeSync(fd);
  }
  if (HDF5_SIGNATURE.some((b, i) => head[i] !== b)) throw new DatasetError('bad-archive', file, 'is not an HDF5 file (no HDF5 signature)');

  const { keys, groups } = await readEpisodeGroups(file);
  const names = Object.keys(groups).sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
  if (names.length === 0) throw new DatasetError('empty', file, `holds no episode_<i> groups (top-level keys: ${keys.slice(0, 10).join(', ') || 'none'})`);
  if (metadata && typeof metadata.total_episodes === 'number' && metadata.total_episodes !== names.length) {
    throw new DatasetError('bad-metadata', files.metadata, `says total_episodes ${metadata.total_episodes}, ${basename(file)} holds ${names.length} episode groups`, { key: 'total_episodes' });
  }
  const actionHint = describeActionSpace(metadata?.action_space);
  let observationSize = -1;
  let actionSize = -1;
  let observationNames: string[] | undefined;
  const episodes: Episode[] = [];
  for (const name of names) {
    const group = groups[name];
    if (group.kind !== 'group') throw new DatasetError('bad-shape', file, 'is not a group', { key: name });
    const read = readEpisode(file, name, group, actionHint);
    if (observationSize < 0) {
      observationSize = read.observationSize;
      actionSize = read.actionSize;
      observationNames = read.observationNames;
    } else if (read.observationSize !== observationSize || read.actionSize !== actionSize) {
      throw new DatasetError(
        'bad-shape',
        file,
        `has observation/action sizes ${read.observationSize}/${read.actionSize}, ${names[0]} has ${observationSize}/${actionSize}`,
        { key: name },
      );
    }
    episodes.push(read.episode);
  }
  const size = episodes.reduce((a, e) => a + e.steps, 0);
  if (metadata && typeof metadata.total_steps === 'number' && metadata.total_steps !== size) {
    throw new DatasetError('bad-metadata', files.metadata, `says total_steps ${metadata.total_steps}, the episodes hold ${size} steps`, { key: 'total_steps' });
  }
  if (size === 0) throw new DatasetError('empty', file, 'holds only episodes without steps');
  return joinEpisodes(file, episodes, observationSize, actionSize, observationNames, metadata);
}

/** The most useful line of an HDF5 error stack (its last 'minor:' or error message), else the first line. */
function firstHdf5Line(text: string): string {
  const message = /error message = '([^']+)'/.exec(text)?.[1];
  const minors = [...text.matchAll(/minor: (.+)/g)].map((m) => m[1].trim());
  return message ?? minors.at(-1) ?? text.split('\n')[0];
}

function readMetadataJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined; // Minari before 0.4 kept its metadata in HDF5 attributes
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new DatasetError('bad-metadata', path, `is not readable JSON (${(err as Error).message})`);
  }
}

/** ", the dataset's action space is Box(low, high)" when metadata.json declares a Box other than [-1, 1]. */
function describeActionSpace(serialized: unknown): string {
  if (typeof serialized !== 'string') return '';
  try {
    const space = JSON.parse(serialized) as { type?: string; low?: unknown; high?: unknown };
    if (space.type !== 'Box') return '';
    const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flat(Infinity as 1).map(Number) : [Number(v)]);
    const low = flat(space.low);
    const high = flat(space.high);
    if (low.every((x) => x === -1) && high.every((x) => x === 1)) return '';
    return `; the dataset's action space is Box(low [${low.join(', ')}], high [${high.join(', ')}])`;
  } catch {
    return '';
  }
}

interface ReadEpisode {
  episode: Episode;
  observationSize: number;
  actionSize: number;
  observationNames?: string[];
}

function readEpisode(file: string, name: string, group: Hdf5Group, actionHint: string): ReadEpisode {
  const key = (k: string) => `${name}/${k}`;
  const entity = (k: string): Hdf5Node => {
    const e = group.children[k];
    if (!e) throw new DatasetError('missing-key', file, `is missing (${name} has ${Object.keys(group.children).join(', ')})`, { key: key(k) });
    return e;
  };
  const numeric = (k: string, d: Hdf5Dataset): { values: Float32Array; rows: number; columns: number } => {
    const { shape, value } = d;
    if (!ArrayBuffer.isView(value) || value instanceof DataView) {
      throw new DatasetError('unsupported-dtype', file, `holds ${typeof value === 'string' || Array.isArray(value) ? 'strings or objects' : 'non-numeric data'} (dtype ${d.dtype}), not numbers`, { key: key(k) });
    }
    if (shape.length === 0 || shape.length > 2) throw new DatasetError('bad-shape', file, `has shape (${shape.join(', ')}), expected (rows) or (rows, columns)`, { key: key(k) });
    const src = value as unknown as ArrayLike<number | bigint>;
    const values = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) values[i] = Number(src[i]);
    return { values, rows: shape[0], columns: shape.length === 2 ? shape[1] : 1 };
  };
  const dataset = (k: string) => {
    const e = entity(k);
    if (e.kind !== 'dataset') throw new DatasetError('bad-shape', file, `is a ${e.kind === 'group' ? 'group (a Dict or Tuple space)' : 'link'}, expected an array`, { key: key(k) });
    return numeric(k, e);
  };

  // Observations: an array, or a group of arrays (Dict space) joined column-wise in sorted key order.
  const obsEntity = entity('observations');
  let obs: { values: Float32Array; rows: number; columns: number };
  let observationNames: string[] | undefined;
  if (obsEntity.kind === 'group') {
    const parts = Object.keys(obsEntity.children).sort().map((k) => {
      const e = obsEntity.children[k];
      if (e.kind !== 'dataset') throw new DatasetError('bad-shape', file, 'is a nested group; only one level of Dict observations is read', { key: key(`observations/${k}`) });
      return { k, ...numeric(`observations/${k}`, e) };
    });
    if (parts.length === 0) throw new DatasetError('bad-shape', file, 'is an empty group', { key: key('observations') });
    const rows = parts[0].rows;
    for (const p of parts) checkRows(file, key(`observations/${p.k}`), p.rows, rows, key(`observations/${parts[0].k}`));
    const columns = parts.reduce((a, p) => a + p.columns, 0);
    const values = new Float32Array(rows * columns);
    let offset = 0;
    for (const p of parts) {
      for (let r = 0; r < rows; r++) values.set(p.values.subarray(r * p.columns, (r + 1) * p.columns), r * columns + offset);
      offset += p.columns;
    }
    obs = { values, rows, columns };
    observationNames = parts.flatMap((p) => (p.columns === 1 ? [p.k] : Array.from({ length: p.columns }, (_, j) => `${p.k}[${j}]`)));
  } else if (obsEntity.kind === 'dataset') {
    obs = numeric('observations', obsEntity);
  } else throw new DatasetError('bad-shape', file, 'is neither an array nor a group', { key: key('observations') });

  const actions = dataset('actions');
  const steps = actions.rows;
  if (obs.rows !== steps + 1) {
    throw new DatasetError('length-mismatch', file, `has ${obs.rows} rows, Minari stores one more observation than actions ('${key('actions')}' has ${steps})`, { key: key('observations') });
  }
  const perStep = (k: string) => {
    const t = dataset(k);
    if (t.columns !== 1) throw new DatasetError('bad-shape', file, `must have one value per step, has ${t.columns}`, { key: key(k) });
    checkRows(file, key(k), t.rows, steps, key('actions'));
    checkFinite(file, key(k), t.values, 1);
    return t.values;
  };
  const rewards = perStep('rewards');
  const terminations = perStep('terminations');
  const truncations = perStep('truncations');
  checkFinite(file, key('observations'), obs.values, obs.columns);
  checkFinite(file, key('actions'), actions.values, actions.columns);
  checkActionRange(file, key('actions'), actions.values, actions.columns, undefined, actionHint);
  return {
    episode: { observations: obs.values, actions: actions.values, rewards, terminations, truncations, success: readSuccess(group.children.infos, steps), steps },
    observationSize: obs.columns,
    actionSize: actions.columns,
    observationNames,
  };
}

/** Per-step success from the episode's infos, when they carry it: T + 1 rows (reset info first) or T. */
function readSuccess(infos: Hdf5Node | undefined, steps: number): Float32Array | undefined {
  let values: ArrayLike<unknown> | undefined;
  if (infos?.kind === 'group') {
    const s = infos.children.success;
    if (s?.kind === 'dataset' && ArrayBuffer.isView(s.value)) values = s.value as unknown as ArrayLike<unknown>;
  } else if (infos?.kind === 'dataset' && Array.isArray(infos.value) && typeof infos.value[0] === 'string') {
    // Minari 0.5: one JSON object per step, as variable-length strings.
    const parsed = (infos.value as string[]).map((s) => {
      try {
        return (JSON.parse(s) as Record<string, unknown>).success;
      } catch {
        return undefined;
      }
    });
    if (parsed.every((v) => v !== undefined)) values = parsed;
  }
  if (!values || (values.length !== steps && values.length !== steps + 1)) return undefined;
  const skip = values.length - steps;
  const out = new Float32Array(steps);
  for (let i = 0; i < steps; i++) {
    const v = values[i + skip];
    out[i] = v === true || (typeof v === 'number' && v !== 0) || (typeof v === 'bigint' && v !== 0n) ? 1 : 0;
  }
  return out;
}

/** Episodes → transitions: s = observations[t], s' = observations[t + 1]; the last step of each episode ends it. */
function joinEpisodes(
  file: string,
  episodes: Episode[],
  d: number,
  a: number,
  observationNames: string[] | undefined,
  metadata: Record<string, unknown> | undefined,
): OfflineDataset {
  const size = episodes.reduce((s, e) => s + e.steps, 0);
  const observations = new Float32Array(size * d);
  const nextObservations = new Float32Array(size * d);
  const actions = new Float32Array(size * a);
  const rewards = new Float32Array(size);
  const terminals = new Float32Array(size);
  const episodeEnds = new Float32Array(size);
  const withSuccess = episodes.every((e) => e.success !== undefined);
  const success = withSuccess ? new Float32Array(size) : undefined;
  let row = 0;
  for (const e of episodes) {
    const t = e.steps;
    observations.set(e.observations.subarray(0, t * d), row * d);
    nextObservations.set(e.observations.subarray(d, (t + 1) * d), row * d);
    actions.set(e.actions, row * a);
    rewards.set(e.rewards, row);
    for (let i = 0; i < t; i++) {
      terminals[row + i] = e.terminations[i] !== 0 ? 1 : 0;
      episodeEnds[row + i] = i === t - 1 || e.terminations[i] !== 0 || e.truncations[i] !== 0 ? 1 : 0;
    }
    if (success) success.set(e.success!, row);
    row += t;
  }
  return {
    source: file,
    size,
    observationSize: d,
    actionSize: a,
    observations,
    actions,
    rewards,
    nextObservations,
    terminals,
    masks: terminals.map((x) => 1 - x),
    episodeEnds,
    observationNames,
    success,
    metadata: metadata && { minari: metadata },
  };
}
