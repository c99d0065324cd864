// The policy metadata spec: everything a consumer (runtime, serve node, eval) needs to use an exported policy
// without the training code. Stored as JSON in the ONNX `metadata_props` under SPEC_METADATA_KEY and in checkpoints.
// This file must stay free of TF.js / ONNX Runtime imports: the runtime imports it.

/** The ONNX `metadata_props` key under which an exported policy carries its spec (JSON). */
export const SPEC_METADATA_KEY = 'onestep.spec';
/** Version of the spec's JSON layout; a reader refuses other versions. */
export const POLICY_SPEC_FORMAT_VERSION = 1;

/** bc: the MeanFlow map trained by the MFI loss alone; gaussian-bc: a tanh-Gaussian trained by likelihood (baselines). */
export const POLICY_ALGORITHMS = ['smfp', 'meanflowql', 'sac', 'bc', 'gaussian-bc'] as const;
/** The algorithm that trained the policy. */
export type PolicyAlgorithm = (typeof POLICY_ALGORITHMS)[number];

/** How the network turns noise into an action: residual MeanFlow map (MeanFlowQL, SMFP) or tanh-Gaussian (SAC). */
export const POLICY_KINDS = ['meanflow', 'gaussian'] as const;
/** The policy's form: a one-step MeanFlow map (noise in, action out) or a tanh-Gaussian. */
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** How the robot applies the action: an absolute target, relative to a default pose, or a delta on the current one. */
export const ACTION_MODES = ['absolute', 'relative', 'delta'] as const;
/**
 * What an action means: an absolute target, a target relative to a home pose (offset), or a change from the measured
 * position.
 */
export type ActionMode = (typeof ACTION_MODES)[number];

/** How the normalised action is brought into [-1, 1] before scaling. */
export const ACTION_SQUASHES = ['clip', 'tanh'] as const;
/** How the network bounds its output to [-1, 1] before scaling: clipped or tanh. */
export type ActionSquash = (typeof ACTION_SQUASHES)[number];

/** One named slice of the `noise` input, in order. Every part is drawn i.i.d. N(0, 1). */
export interface NoisePart {
  /** `e`: the MeanFlow start point a_1 ~ N(0, I); `xi`: the Gaussian perturbation u = μ + σ⊙ξ (SMFP, SAC). */
  readonly name: 'e' | 'xi';
  readonly size: number;
}

/**
 * Everything needed to run an exported policy on a robot, carried inside the ONNX file: observation names and
 * normalisation, action names, scale, offset, limits and mode, the noise input, and provenance.
 */
export interface PolicySpec {
  readonly formatVersion: typeof POLICY_SPEC_FORMAT_VERSION;
  readonly algorithm: PolicyAlgorithm;
  readonly kind: PolicyKind;
  /** Task the policy was trained on, e.g. `arm_reach`. */
  readonly task: string;
  /** Gradient steps the policy was trained for; 0 means UNTRAINED. */
  readonly trainingSteps: number;
  /** Identifies the checkpoint the policy was exported from (stable across re-exports of the same checkpoint). */
  readonly checkpointId: string;
  /** Free text for humans (e.g. "UNTRAINED: …"). */
  readonly description: string;
  readonly observation: {
    readonly names: readonly string[];
    readonly size: number;
    /** Normalisation applied inside the model: (obs - mean) / std. std is already floored. */
    readonly mean: readonly number[];
    readonly std: readonly number[];
  };
  readonly action: {
    /** Joint names for arms, in action order. */
    readonly names: readonly string[];
    readonly size: number;
    /** Physical action = offset + scale ⊙ a, a ∈ [-1, 1], then limited to [low, high]. */
    readonly scale: readonly number[];
    readonly offset: readonly number[];
    readonly low: readonly number[];
    readonly high: readonly number[];
    readonly mode: ActionMode;
    readonly squash: ActionSquash;
  };
  /** The network's shape, for humans and for the bench's same-width reference models. Optional. */
  readonly network?: {
    readonly hiddenSizes: readonly number[];
    readonly activation: string;
    readonly layerNorm: boolean;
  };
  readonly noise: {
    /** Width of the `noise` input: meanflow act_dim (e); SMFP 2·act_dim (e then ξ); gaussian act_dim (ξ). */
    readonly size: number;
    readonly parts: readonly NoisePart[];
  };
}

/** The spec is missing, not JSON, or has a field of the wrong type or value. `field` is a dotted path. */
export class PolicySpecError extends Error {
  override name = 'PolicySpecError';
  /** What is wrong, without the source: `<field> <problem>`. */
  readonly detail: string;
  constructor(
    readonly source: string,
    readonly field: string,
    problem: string,
  ) {
    super(`${source}: invalid policy spec: ${field} ${problem}`);
    this.detail = `${field} ${problem}`;
  }
}

type Json = Record<string, unknown>;

/**
 * Validate a policy spec (a JSON string or an already-parsed value). `source` names where it came from (a file
 * path) and is repeated in every error message so the user knows which file is wrong.
 */
export function parsePolicySpec(json: unknown, source: string): PolicySpec {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (err) {
      throw new PolicySpecError(source, SPEC_METADATA_KEY, `is not valid JSON (${(err as Error).message})`);
    }
  }
  const fail = (field: string, detail: string): never => {
    throw new PolicySpecError(source, field, detail);
  };
  const obj = (v: unknown, field: string): Json =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : fail(field, 'must be an object');
  const at = (field: string, key: string) => (field ? `${field}.${key}` : key);
  const str = (o: Json, key: string, field: string): string =>
    typeof o[key] === 'string' && (o[key] as string).length > 0 ? (o[key] as string) : fail(at(field, key), 'must be a non-empty string');
  const oneOf = <T extends string>(o: Json, key: string, field: string, allowed: readonly T[]): T => {
    const v = o[key];
    return typeof v === 'string' && (allowed as readonly string[]).includes(v)
      ? (v as T)
      : fail(at(field, key), `must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
  };
  const count = (o: Json, key: string, field: string, min: number): number => {
    const v = o[key];
    return typeof v === 'number' && Number.isInteger(v) && v >= min
      ? v
      : fail(at(field, key), `must be an integer >= ${min} (got ${JSON.stringify(v)})`);
  };
  const numbers = (o: Json, key: string, field: string, size: number, ok: (x: number) => boolean, what: string): number[] => {
    const v = o[key];
    const name = at(field, key);
    if (!Array.isArray(v)) return fail(name, `must be an array of ${size} numbers`);
    if (v.length !== size) return fail(name, `must have ${size} entries (got ${v.length})`);
    v.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) fail(`${name}[${i}]`, `must be ${what} (got ${JSON.stringify(x)})`);
    });
    return [...(v as number[])];
  };
  const names = (o: Json, key: string, field: string, size: number): string[] => {
    const v = o[key];
    const name = at(field, key);
    if (!Array.isArray(v) || v.length !== size) return fail(name, `must be an array of ${size} names`);
    v.forEach((x, i) => {
      if (typeof x !== 'string' || x.length === 0) fail(`${name}[${i}]`, 'must be a non-empty string');
    });
    if (new Set(v).size !== v.length) fail(name, 'must not repeat a name');
    return [...(v as string[])];
  };

  const root = obj(value, 'spec');
  if (root.formatVersion !== POLICY_SPEC_FORMAT_VERSION) {
    fail('formatVersion', `must be ${POLICY_SPEC_FORMAT_VERSION} (got ${JSON.stringify(root.formatVersion)}); re-export the model with this onestep version`);
  }
  const algorithm = oneOf(root, 'algorithm', '', POLICY_ALGORITHMS);
  const kind = oneOf(root, 'kind', '', POLICY_KINDS);
  const task = str(root, 'task', '');
  const trainingSteps = count(root, 'trainingSteps', '', 0);
  const checkpointId = str(root, 'checkpointId', '');
  const description = typeof root.description === 'string' ? root.description : fail('description', 'must be a string');

  const o = obj(root.observation, 'observation');
  const obsSize = count(o, 'size', 'observation', 1);
  const observation = {
    names: names(o, 'names', 'observation', obsSize),
    size: obsSize,
    mean: numbers(o, 'mean', 'observation', obsSize, () => true, 'a finite number'),
    std: numbers(o, 'std', 'observation', obsSize, (x) => x > 0, 'a finite number > 0'),
  };

  const a = obj(root.action, 'action');
  const actSize = count(a, 'size', 'action', 1);
  const action = {
    names: names(a, 'names', 'action', actSize),
    size: actSize,
    scale: numbers(a, 'scale', 'action', actSize, (x) => x > 0, 'a finite number > 0'),
    offset: numbers(a, 'offset', 'action', actSize, () => true, 'a finite number'),
    low: numbers(a, 'low', 'action', actSize, () => true, 'a finite number'),
    high: numbers(a, 'high', 'action', actSize, () => true, 'a finite number'),
    mode: oneOf(a, 'mode', 'action', ACTION_MODES),
    squash: oneOf(a, 'squash', 'action', ACTION_SQUASHES),
  };
  action.low.forEach((lo, i) => {
    if (!(lo <= action.high[i])) fail(`action.low[${i}]`, `must be <= action.high[${i}] (${lo} > ${action.high[i]})`);
  });

  const n = obj(root.noise, 'noise');
  const noiseSize = count(n, 'size', 'noise', 1);
  if (!Array.isArray(n.parts) || n.parts.length === 0) fail('noise.parts', 'must be a non-empty array of {name, size}');
  const parts = (n.parts as unknown[]).map((p, i): NoisePart => {
    const part = obj(p, `noise.parts[${i}]`);
    return { name: oneOf(part, 'name', `noise.parts[${i}]`, ['e', 'xi'] as const), size: count(part, 'size', `noise.parts[${i}]`, 1) };
  });
  const total = parts.reduce((s, p) => s + p.size, 0);
  if (total !== noiseSize) fail('noise.parts', `sizes must add up to noise.size ${noiseSize} (got ${total})`);
  // Only SMFP's MeanFlow map carries a σ head (noise [e, ξ]); MeanFlowQL and BC take [e], the Gaussians [ξ].
  const expected = expectedNoiseParts(kind, algorithm === 'smfp', actSize);
  const gaussianAlgorithm = algorithm === 'sac' || algorithm === 'gaussian-bc';
  if (kind === 'gaussian' && !gaussianAlgorithm) fail('kind', `must be meanflow for algorithm ${algorithm} (gaussian is the SAC and Gaussian-BC actor)`);
  if (kind === 'meanflow' && gaussianAlgorithm) fail('kind', `must be gaussian for algorithm ${algorithm} (got meanflow)`);
  if (JSON.stringify(parts) !== JSON.stringify(expected)) {
    fail('noise.parts', `must be ${JSON.stringify(expected)} for ${algorithm} (got ${JSON.stringify(parts)})`);
  }

  let network: PolicySpec['network'];
  if (root.network !== undefined) {
    const nw = obj(root.network, 'network');
    if (!Array.isArray(nw.hiddenSizes) || !nw.hiddenSizes.every((h) => Number.isInteger(h) && h > 0)) fail('network.hiddenSizes', 'must be an array of positive integers');
    network = {
      hiddenSizes: [...(nw.hiddenSizes as number[])],
      activation: str(nw, 'activation', 'network'),
      layerNorm: typeof nw.layerNorm === 'boolean' ? nw.layerNorm : fail('network.layerNorm', 'must be true or false'),
    };
  }

  return {
    formatVersion: POLICY_SPEC_FORMAT_VERSION,
    algorithm,
    kind,
    task,
    trainingSteps,
    checkpointId,
    description,
    observation,
    action,
    ...(network ? { network } : {}),
    noise: { size: noiseSize, parts },
  };
}

/**
 * Noise layout each policy consumes: meanflow without a σ head (MeanFlowQL): [e]; meanflow with a σ head (SMFP):
 * [e, ξ]; gaussian (SAC): [ξ].
 */
export function expectedNoiseParts(kind: PolicyKind, hasLogStdHead: boolean, actionSize: number): NoisePart[] {
  if (kind === 'gaussian') return [{ name: 'xi', size: actionSize }];
  if (!hasLogStdHead) return [{ name: 'e', size: actionSize }];
  return [{ name: 'e', size: actionSize }, { name: 'xi', size: actionSize }];
}

/** The spec as the JSON string stored under SPEC_METADATA_KEY (stable key order). */
export function serializePolicySpec(spec: PolicySpec): string {
  return JSON.stringify(spec);
}
