// Training checkpoints: a directory with `checkpoint.json` (versioned; network config, spec fields, counters,
// tensor index, trainer state) and one binary file of little-endian float32 tensors. Format: docs/checkpoint-format.md.
// A save never leaves a half-written checkpoint behind: weights go to a fresh file, then checkpoint.json is
// replaced atomically by rename, then stale weight files are removed.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createPolicy, disposePolicy, policyConfig, policyWeights, type PolicyConfig, type PolicyNetwork } from './policy.ts';

export const CHECKPOINT_FORMAT = 'onestep-checkpoint';
export const CHECKPOINT_FORMAT_VERSION = 1;
export const CHECKPOINT_FILE = 'checkpoint.json';

/** A tensor as stored: row-major float32 values and a shape. */
export interface CheckpointTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * What the exported spec needs besides the network (src/export/onnx.ts PolicyExportInfo extends it): the algorithm,
 * task, names and action scaling. Arrays are per action dimension.
 */
export interface CheckpointPolicyInfo {
  readonly algorithm: 'smfp' | 'meanflowql' | 'sac' | 'bc' | 'gaussian-bc';
  readonly task: string;
  readonly description?: string;
  /** Default: obs0, obs1, … */
  readonly observationNames?: readonly string[];
  /** Default: joint1, joint2, … */
  readonly actionNames?: readonly string[];
  /** Physical action = clamp(offset + scale ⊙ a, low, high). Defaults: scale 1, offset 0, limits ±scale around offset. */
  readonly actionScale?: readonly number[];
  readonly actionOffset?: readonly number[];
  readonly actionLow?: readonly number[];
  readonly actionHigh?: readonly number[];
  readonly actionMode?: 'absolute' | 'relative' | 'delta';
}

export interface CheckpointCounters {
  /** Gradient steps taken (the spec's trainingSteps). */
  readonly trainingSteps: number;
  readonly [name: string]: number;
}

export interface SaveCheckpointInput {
  readonly policy: PolicyNetwork;
  readonly info: CheckpointPolicyInfo;
  readonly counters: CheckpointCounters;
  /** Optimizer moments etc., by name (e.g. `actor/adam/m/hidden0/kernel`). */
  readonly optimizer?: ReadonlyMap<string, tf.Tensor | CheckpointTensor> | Readonly<Record<string, tf.Tensor | CheckpointTensor>>;
  /** Any other named tensors the trainer needs to resume exactly (critics, target critics, log α, …). */
  readonly tensors?: ReadonlyMap<string, tf.Tensor | CheckpointTensor> | Readonly<Record<string, tf.Tensor | CheckpointTensor>>;
  /** JSON-serialisable trainer state (hyper-parameters, schedules, RNG seeds, …). */
  readonly state?: Readonly<Record<string, unknown>>;
}

/** A loaded checkpoint: the policy network, its export info, counters and the agent's state. */
export interface Checkpoint {
  readonly formatVersion: number;
  /** Content hash of config + weights: the same checkpoint always exports with the same id. */
  readonly checkpointId: string;
  readonly createdAt: string;
  readonly policy: PolicyNetwork;
  readonly info: CheckpointPolicyInfo;
  readonly counters: CheckpointCounters;
  readonly optimizer: ReadonlyMap<string, CheckpointTensor>;
  readonly tensors: ReadonlyMap<string, CheckpointTensor>;
  readonly state: Readonly<Record<string, unknown>>;
}

/** A checkpoint folder that cannot be read; the message names the folder and the problem. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly dir: string,
    detail: string,
  ) {
    super(`checkpoint ${dir}: ${detail}`);
  }
}

type Group = 'policy' | 'optimizer' | 'tensors';
interface TensorEntry {
  group: Group;
  name: string;
  shape: number[];
  offset: number; // in float32 elements
}

interface CheckpointJson {
  format: typeof CHECKPOINT_FORMAT;
  formatVersion: number;
  checkpointId: string;
  createdAt: string;
  policyConfig: PolicyConfig;
  info: CheckpointPolicyInfo;
  counters: CheckpointCounters;
  state: Record<string, unknown>;
  weightsFile: string;
  tensors: TensorEntry[];
}

const entriesOf = (m: SaveCheckpointInput['tensors']): [string, tf.Tensor | CheckpointTensor][] =>
  m === undefined ? [] : m instanceof Map ? [...m.entries()] : Object.entries(m);

function toStored(t: tf.Tensor | CheckpointTensor): CheckpointTensor {
  return t instanceof tf.Tensor ? { shape: t.shape, data: t.dataSync() as Float32Array } : t;
}

export async function saveCheckpoint(dir: string, input: SaveCheckpointInput): Promise<{ checkpointId: string; path: string }> {
  if (!Number.isInteger(input.counters.trainingSteps) || input.counters.trainingSteps < 0) {
    throw new CheckpointError(dir, `counters.trainingSteps must be an integer >= 0 (got ${input.counters.trainingSteps})`);
  }
  const items: { group: Group; name: string; tensor: CheckpointTensor }[] = [];
  for (const [name, v] of policyWeights(input.policy)) items.push({ group: 'policy', name, tensor: toStored(v) });
  for (const [name, t] of entriesOf(input.optimizer)) items.push({ group: 'optimizer', name, tensor: toStored(t) });
  for (const [name, t] of entriesOf(input.tensors)) items.push({ group: 'tensors', name, tensor: toStored(t) });

  const total = items.reduce((s, it) => s + it.tensor.data.length, 0);
  const weights = new Float32Array(total);
  const index: TensorEntry[] = [];
  let offset = 0;
  for (const it of items) {
    const count = it.tensor.shape.reduce((a, b) => a * b, 1);
    if (count !== it.tensor.data.length) throw new CheckpointError(dir, `${it.group} tensor ${it.name} has ${it.tensor.data.length} values for shape [${it.tensor.shape.join(', ')}]`);
    weights.set(it.tensor.data, offset);
    index.push({ group: it.group, name: it.name, shape: [...it.tensor.shape], offset });
    offset += count;
  }
  const bytes = new Uint8Array(weights.buffer);
  const hash = createHash('sha256').update(JSON.stringify(input.policy.config));
  for (const it of items.filter((i) => i.group === 'policy')) hash.update(it.name).update(new Uint8Array(it.tensor.data.buffer, it.tensor.data.byteOffset, it.tensor.data.byteLength));
  const checkpointId = `${input.info.task}-${input.info.algorithm}-${input.counters.trainingSteps}-${hash.digest('hex').slice(0, 12)}`;
  const weightsFile = `weights-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.bin`;

  const json: CheckpointJson = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    checkpointId,
    createdAt: new Date().toISOString(),
    policyConfig: input.policy.config,
    info: input.info,
    counters: input.counters,
    state: { ...(input.state ?? {}) },
    weightsFile,
    tensors: index,
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, weightsFile), bytes);
  const tmp = join(dir, `${CHECKPOINT_FILE}.tmp-${process.pid}`);
  await writeFile(tmp, `${JSON.stringify(json, null, 2)}\n`);
  await rename(tmp, join(dir, CHECKPOINT_FILE));
  for (const f of await readdir(dir)) if (/^weights-[0-9a-f]+\.bin$/.test(f) && f !== weightsFile) await rm(join(dir, f), { force: true });
  return { checkpointId, path: dir };
}

/** Loads a checkpoint; the policy is rebuilt from its config and filled with the stored weights. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const file = join(dir, CHECKPOINT_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && (await readdir(dir).catch(() => [] as string[])).includes('state.json')) {
      throw new CheckpointError(dir, `no ${CHECKPOINT_FILE}: this looks like trainer resume state (state.json), not a policy checkpoint; write one with saveCheckpoint (src/nn/checkpoint.ts)`);
    }
    throw new CheckpointError(dir, code === 'ENOENT' || code === 'ENOTDIR' ? `no ${CHECKPOINT_FILE} (expected a checkpoint directory written by onestep train)` : (err as Error).message);
  }
  let json: CheckpointJson;
  try {
    json = JSON.parse(text) as CheckpointJson;
  } catch (err) {
    throw new CheckpointError(dir, `${CHECKPOINT_FILE} is not valid JSON (${(err as Error).message})`);
  }
  if (json?.format !== CHECKPOINT_FORMAT) throw new CheckpointError(dir, `${CHECKPOINT_FILE} format must be "${CHECKPOINT_FORMAT}" (got ${JSON.stringify(json?.format)})`);
  if (json.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointError(dir, `formatVersion ${json.formatVersion} is not supported (this onestep reads version ${CHECKPOINT_FORMAT_VERSION})`);
  }
  for (const key of ['checkpointId', 'weightsFile'] as const) if (typeof json[key] !== 'string') throw new CheckpointError(dir, `${key} must be a string`);
  if (!Array.isArray(json.tensors)) throw new CheckpointError(dir, 'tensors must be an array');
  if (typeof json.counters?.trainingSteps !== 'number') throw new CheckpointError(dir, 'counters.trainingSteps must be a number');
  if (typeof json.info?.algorithm !== 'string' || typeof json.info?.task !== 'string') throw new CheckpointError(dir, 'info.algorithm and info.task must be strings');
  if (!/^weights-[0-9a-f]+\.bin$/.test(json.weightsFile)) throw new CheckpointError(dir, `weightsFile ${JSON.stringify(json.weightsFile)} is not a weights-<hash>.bin name`);

  let config: PolicyConfig;
  try {
    config = policyConfig(json.policyConfig);
  } catch (err) {
    throw new CheckpointError(dir, (err as Error).message);
  }
  let raw: Buffer;
  try {
    raw = await readFile(join(dir, json.weightsFile));
  } catch {
    throw new CheckpointError(dir, `weights file ${json.weightsFile} is missing`);
  }
  if (raw.byteLength % 4 !== 0) throw new CheckpointError(dir, `${json.weightsFile} has ${raw.byteLength} bytes, not a whole number of float32 values`);
  // Copy into an aligned buffer: a Buffer's byteOffset need not be a multiple of 4.
  const values = new Float32Array(new Uint8Array(raw).buffer);

  const groups: Record<Group, Map<string, CheckpointTensor>> = { policy: new Map(), optimizer: new Map(), tensors: new Map() };
  for (const [i, e] of json.tensors.entries()) {
    const count = Array.isArray(e?.shape) && e.shape.every((d) => Number.isInteger(d) && d >= 0) ? e.shape.reduce((a, b) => a * b, 1) : -1;
    if (count < 0 || !Number.isInteger(e.offset) || e.offset < 0 || e.offset + count > values.length || !(e.group in groups)) {
      throw new CheckpointError(dir, `tensors[${i}] (${e?.name}) has a bad shape, group or offset, or lies outside ${json.weightsFile}`);
    }
    groups[e.group].set(e.name, { shape: e.shape, data: values.slice(e.offset, e.offset + count) });
  }

  const policy = createPolicy(config);
  try {
    const weights = policyWeights(policy);
    for (const [name, v] of weights) {
      const stored = groups.policy.get(name);
      if (!stored) throw new CheckpointError(dir, `policy weight ${name} is missing`);
      if (stored.shape.join() !== v.shape.join()) throw new CheckpointError(dir, `policy weight ${name} has shape [${stored.shape.join(', ')}], the config needs [${v.shape.join(', ')}]`);
      tf.tidy(() => v.assign(tf.tensor(stored.data, v.shape)));
    }
    for (const name of groups.policy.keys()) if (!weights.has(name)) throw new CheckpointError(dir, `policy weight ${name} does not belong to the configured network`);
  } catch (err) {
    disposePolicy(policy);
    throw err;
  }

  return {
    formatVersion: json.formatVersion,
    checkpointId: json.checkpointId,
    createdAt: json.createdAt,
    policy,
    info: json.info,
    counters: json.counters,
    optimizer: groups.optimizer,
    tensors: groups.tensors,
    state: json.state ?? {},
  };
}
