// The policy network as data: observation normalisation, a trunk (ordered layer list) and one or two heads,
// all over tf.Variable weights. One definition serves training (TF.js forward here), the MeanFlow JVP
// (src/nn/jvp.ts walks `trunk` and the heads) and ONNX export (src/export/onnx.ts walks the same records).
//
// Kinds (docs/algorithms/meanflowql.md, docs/algorithms/smfp.md; gaussian is SAC's actor):
//  - meanflow: the residual MeanFlow map g(s, a_t, t) (b fixed at 0) on the input [normalised obs, a_t, φ(t)],
//    zero-initialised output so g ≡ 0 at start. One-step action: a = squash(g(s, e, t=1)).
//    With a log-σ head (SMFP): μ = g(s, e, 1), σ = exp(bound(ℓ(s, e, 1))), u = μ + σ⊙ξ, a = squash(u).
//  - gaussian: the SAC actor on [normalised obs]: u = μ(s) + σ(s)⊙ξ, a = tanh(u).
// Actions leave the network in [-1, 1]; `physicalAction` maps them to robot units with the spec's scale/offset.
import * as tf from '@tensorflow/tfjs-core';
import { ACTIVATIONS, type Activation, type DenseLayer, type Layer, denseLayer, layerNormLayer, layerWeights, runLayers, variableFrom } from './layers.ts';

export type PolicyKind = 'meanflow' | 'gaussian';
export type ActionSquash = 'clip' | 'tanh';

/** φ(t): `scalar` = [t]; `sinusoidal` = [cos(t·f_k)…, sin(t·f_k)…] with f_k = maxPeriod^(-k/count), k < count. */
export type TimeFeaturesConfig = { readonly kind: 'scalar' } | { readonly kind: 'sinusoidal'; readonly count: number; readonly maxPeriod: number };

/** log σ = clip(ℓ, min, max) (SMFP), or min + ½(max−min)(tanh ℓ + 1) (CleanRL's SAC), per action dimension. */
export interface LogStdHeadConfig {
  readonly min: number;
  readonly max: number;
  readonly bound: 'clip' | 'tanh';
}

export interface PolicyConfig {
  readonly kind: PolicyKind;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly hiddenSizes: readonly number[];
  readonly activation: Activation;
  /** LayerNorm after every hidden Dense, before the activation. */
  readonly layerNorm: boolean;
  /** meanflow only (ignored for gaussian). */
  readonly timeFeatures: TimeFeaturesConfig;
  /** Required for gaussian; optional for meanflow (present = SMFP's stochastic head). */
  readonly logStdHead: LogStdHeadConfig | null;
  readonly squash: ActionSquash;
  /** Observation std below this is replaced by 1 (a constant feature must not be blown up; MeanFlowQL's rule). */
  readonly observationStdFloor: number;
}

export class PolicyConfigError extends Error {
  override name = 'PolicyConfigError';
  constructor(field: string, detail: string) {
    super(`policy config: ${field} ${detail}`);
  }
}

/** Fills defaults and validates: meanflow = MeanFlowQL-like MLP with LayerNorm; gaussian = CleanRL SAC actor. */
export function policyConfig(c: Partial<PolicyConfig> & Pick<PolicyConfig, 'kind' | 'observationSize' | 'actionSize'>): PolicyConfig {
  const gaussian = c.kind === 'gaussian';
  const config: PolicyConfig = {
    kind: c.kind,
    observationSize: c.observationSize,
    actionSize: c.actionSize,
    hiddenSizes: c.hiddenSizes ?? [256, 256],
    activation: c.activation ?? 'relu',
    layerNorm: c.layerNorm ?? !gaussian,
    timeFeatures: c.timeFeatures ?? { kind: 'sinusoidal', count: 8, maxPeriod: 100 },
    logStdHead: c.logStdHead !== undefined ? c.logStdHead : gaussian ? { min: -5, max: 2, bound: 'tanh' } : null,
    squash: c.squash ?? (gaussian ? 'tanh' : 'clip'),
    observationStdFloor: c.observationStdFloor ?? 1e-6,
  };
  const positive = (v: number, field: string) => {
    if (!Number.isInteger(v) || v < 1) throw new PolicyConfigError(field, `must be a positive integer (got ${v})`);
  };
  if (config.kind !== 'meanflow' && config.kind !== 'gaussian') throw new PolicyConfigError('kind', `must be meanflow or gaussian (got ${config.kind})`);
  positive(config.observationSize, 'observationSize');
  positive(config.actionSize, 'actionSize');
  config.hiddenSizes.forEach((h, i) => positive(h, `hiddenSizes[${i}]`));
  if (!ACTIVATIONS.includes(config.activation)) throw new PolicyConfigError('activation', `must be one of ${ACTIVATIONS.join(', ')}`);
  if (config.timeFeatures.kind === 'sinusoidal') positive(config.timeFeatures.count, 'timeFeatures.count');
  if (gaussian && (config.logStdHead === null || config.squash !== 'tanh')) {
    throw new PolicyConfigError('logStdHead', 'is required and squash must be tanh for the gaussian (SAC) actor');
  }
  if (config.logStdHead && !(config.logStdHead.min < config.logStdHead.max)) throw new PolicyConfigError('logStdHead', 'min must be < max');
  if (!(config.observationStdFloor >= 0)) throw new PolicyConfigError('observationStdFloor', 'must be >= 0');
  return config;
}

export interface PolicyNetwork {
  readonly config: PolicyConfig;
  /** Non-trainable: normalised obs = (obs − mean) / std. */
  readonly observationMean: tf.Variable;
  readonly observationStd: tf.Variable;
  /** Hidden layers on the input [normalised obs, a_t, φ(t)] (meanflow) or [normalised obs] (gaussian). */
  readonly trunk: readonly Layer[];
  /** meanflow: g (zero-initialised); gaussian: μ. */
  readonly meanHead: DenseLayer;
  readonly logStdHead: DenseLayer | null;
}

export function timeFeatureSize(config: PolicyConfig): number {
  if (config.kind !== 'meanflow') return 0;
  return config.timeFeatures.kind === 'scalar' ? 1 : 2 * config.timeFeatures.count;
}

export function timeFrequencies(config: PolicyConfig): number[] {
  const tfc = config.timeFeatures;
  if (tfc.kind !== 'sinusoidal') return [];
  return Array.from({ length: tfc.count }, (_, k) => Math.exp((-Math.log(tfc.maxPeriod) * k) / tfc.count));
}

/** Width of the trunk's input: obs + action + φ(t) for meanflow, obs for gaussian. */
export function policyInputSize(config: PolicyConfig): number {
  return config.kind === 'meanflow' ? config.observationSize + config.actionSize + timeFeatureSize(config) : config.observationSize;
}

/** Noise width the policy consumes: [e] (meanflow), [e, ξ] (meanflow + log-σ head, SMFP), [ξ] (gaussian). */
export function policyNoiseSize(config: PolicyConfig): number {
  return config.kind === 'meanflow' && config.logStdHead ? 2 * config.actionSize : config.actionSize;
}

export function createPolicy(config: PolicyConfig, seed = 0): PolicyNetwork {
  {
    const trunk: Layer[] = [];
    let width = policyInputSize(config);
    config.hiddenSizes.forEach((h, i) => {
      trunk.push(denseLayer(`hidden${i}`, width, h, 'uniform', seed + 2 * i));
      if (config.layerNorm) trunk.push(layerNormLayer(`norm${i}`, h));
      trunk.push({ kind: 'activation', name: `act${i}`, fn: config.activation });
      width = h;
    });
    const headSeed = seed + 2 * config.hiddenSizes.length;
    // Zero-initialised MeanFlow output keeps g ≡ 0, an in-range action, at the start (docs/algorithms/smfp.md, The policy).
    const meanHead = denseLayer('mean', width, config.actionSize, config.kind === 'meanflow' ? 'zero' : 'uniform', headSeed);
    const logStdHead = config.logStdHead ? denseLayer('log_std', width, config.actionSize, 'uniform', headSeed + 2) : null;
    return {
      config,
      observationMean: variableFrom(tf.zeros([config.observationSize]), false),
      observationStd: variableFrom(tf.ones([config.observationSize]), false),
      trunk,
      meanHead,
      logStdHead,
    };
  }
}

/** Sets the normalisation statistics; std below the floor (or non-finite) becomes 1. Returns the std actually used. */
export function setObservationNormalization(policy: PolicyNetwork, mean: ArrayLike<number>, std: ArrayLike<number>): Float32Array {
  const n = policy.config.observationSize;
  if (mean.length !== n || std.length !== n) throw new PolicyConfigError('observation normalisation', `needs ${n} means and stds (got ${mean.length}, ${std.length})`);
  const m = Float32Array.from(mean);
  const s = Float32Array.from(std, (x) => (Number.isFinite(x) && x >= policy.config.observationStdFloor && x > 0 ? x : 1));
  if (!m.every(Number.isFinite)) throw new PolicyConfigError('observation mean', 'must be finite');
  policy.observationMean.assign(tf.tensor1d(m));
  policy.observationStd.assign(tf.tensor1d(s));
  return s;
}

export function normalizeObservation(policy: PolicyNetwork, observation: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(tf.sub(observation, policy.observationMean), policy.observationStd));
}

/** φ(t) for t of shape [B, 1]. */
export function timeFeatures(config: PolicyConfig, t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (config.timeFeatures.kind === 'scalar') return t;
    const angles = tf.mul(t, tf.tensor2d(timeFrequencies(config), [1, config.timeFeatures.count]));
    return tf.concat([tf.cos(angles), tf.sin(angles)], 1);
  });
}

/** dφ/dt for t of shape [B, 1] (the time tangent of the MeanFlow JVP). */
export function timeFeaturesDerivative(config: PolicyConfig, t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (config.timeFeatures.kind === 'scalar') return tf.onesLike(t);
    const f = tf.tensor2d(timeFrequencies(config), [1, config.timeFeatures.count]);
    const angles = tf.mul(t, f);
    return tf.concat([tf.mul(tf.neg(f), tf.sin(angles)), tf.mul(f, tf.cos(angles))], 1);
  });
}

const column = (t: tf.Tensor | number, batch: number): tf.Tensor =>
  typeof t === 'number' ? tf.fill([batch, 1], t) : t.rank === 1 ? tf.reshape(t, [-1, 1]) : t;

/**
 * φ(t) for one number t, as a [batch, features] tensor built in JS: the values the tensor path gives (float32 angle,
 * then cos/sin rounded to float32) without its five kernels (acting and best-of-N evaluate g at t = 1).
 */
function constantTimeFeatures(config: PolicyConfig, t: number, batch: number): tf.Tensor {
  if (config.timeFeatures.kind === 'scalar') return tf.fill([batch, 1], t);
  const freqs = timeFrequencies(config), k = freqs.length;
  const row = new Float32Array(2 * k);
  for (let i = 0; i < k; i++) {
    const angle = Math.fround(Math.fround(t) * Math.fround(freqs[i]));
    row[i] = Math.cos(angle);
    row[k + i] = Math.sin(angle);
  }
  const values = new Float32Array(batch * 2 * k);
  for (let b = 0; b < batch; b++) values.set(row, b * 2 * k);
  return tf.tensor2d(values, [batch, 2 * k]);
}

/** The trunk input [normalised obs, a_t, φ(t)] of a meanflow policy; t is a number or [B] / [B, 1]. */
export function meanflowInput(policy: PolicyNetwork, observation: tf.Tensor, actionT: tf.Tensor, t: tf.Tensor | number): tf.Tensor {
  return tf.tidy(() => {
    const B = observation.shape[0];
    const phi = typeof t === 'number' ? constantTimeFeatures(policy.config, t, B) : timeFeatures(policy.config, column(t, B));
    return tf.concat([normalizeObservation(policy, observation), actionT, phi], 1);
  });
}

export function boundLogStd(head: LogStdHeadConfig, raw: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    head.bound === 'clip' ? tf.clipByValue(raw, head.min, head.max) : tf.add(head.min, tf.mul(0.5 * (head.max - head.min), tf.add(tf.tanh(raw), 1))),
  );
}

/** g(s, a_t, t) and, for SMFP, the bounded log σ at the same point. */
export function meanflowHeads(policy: PolicyNetwork, observation: tf.Tensor, actionT: tf.Tensor, t: tf.Tensor | number): { g: tf.Tensor; logStd: tf.Tensor | null } {
  if (policy.config.kind !== 'meanflow') throw new PolicyConfigError('kind', 'meanflowHeads needs a meanflow policy');
  const [g, logStd] = tf.tidy(() => {
    const hidden = runLayers(policy.trunk, meanflowInput(policy, observation, actionT, t));
    const g = runLayers([policy.meanHead], hidden);
    const head = policy.config.logStdHead;
    return head && policy.logStdHead ? [g, boundLogStd(head, runLayers([policy.logStdHead], hidden))] : [g];
  });
  return { g, logStd: logStd ?? null };
}

/** The residual MeanFlow map g_θ(s, a_t, t) (b = 0): the function the MFI loss regresses and the JVP differentiates. */
export function meanflowMap(policy: PolicyNetwork, observation: tf.Tensor, actionT: tf.Tensor, t: tf.Tensor | number): tf.Tensor {
  return tf.tidy(() => meanflowHeads(policy, observation, actionT, t).g);
}

export function gaussianHeads(policy: PolicyNetwork, observation: tf.Tensor): { mean: tf.Tensor; logStd: tf.Tensor } {
  if (policy.config.kind !== 'gaussian' || !policy.logStdHead || !policy.config.logStdHead) throw new PolicyConfigError('kind', 'gaussianHeads needs a gaussian policy');
  const head = policy.config.logStdHead;
  const logStdLayer = policy.logStdHead;
  const [mean, logStd] = tf.tidy(() => {
    const hidden = runLayers(policy.trunk, normalizeObservation(policy, observation));
    return [runLayers([policy.meanHead], hidden), boundLogStd(head, runLayers([logStdLayer], hidden))];
  });
  return { mean, logStd };
}

export interface PolicySample {
  /** Squashed action in [-1, 1]. */
  readonly action: tf.Tensor;
  /** Before the squash: g (MeanFlowQL) or u = μ + σ⊙ξ (SMFP, SAC). Needed by the bound loss and tanh log-probs. */
  readonly preSquash: tf.Tensor;
  /** μ: g(s, e, 1) for meanflow, μ(s) for gaussian. */
  readonly mean: tf.Tensor;
  /** Bounded log σ, or null for a meanflow policy without a σ head. */
  readonly logStd: tf.Tensor | null;
}

/**
 * One-step policy on a batch: `noise` is [B, policyNoiseSize] laid out as in the spec ([e], [e, ξ] or [ξ]).
 * Deterministic acting = zero noise.
 */
export function policySample(policy: PolicyNetwork, observation: tf.Tensor, noise: tf.Tensor): PolicySample {
  const { actionSize: d, kind, squash } = policy.config;
  if (noise.shape[1] !== policyNoiseSize(policy.config)) {
    throw new PolicyConfigError('noise', `must be [batch, ${policyNoiseSize(policy.config)}] (got [${noise.shape.join(', ')}])`);
  }
  const [action, preSquash, mean, logStd] = tf.tidy(() => {
    let mean: tf.Tensor;
    let logStd: tf.Tensor | null;
    let xi: tf.Tensor | null = null;
    if (kind === 'meanflow') {
      const e = policy.logStdHead ? tf.slice(noise, [0, 0], [-1, d]) : noise;
      ({ g: mean, logStd } = meanflowHeads(policy, observation, e, 1));
      if (policy.logStdHead) xi = tf.slice(noise, [0, d], [-1, d]);
    } else {
      ({ mean, logStd } = gaussianHeads(policy, observation));
      xi = noise;
    }
    const preSquash = logStd && xi ? tf.add(mean, tf.mul(tf.exp(logStd), xi)) : mean;
    const action = squash === 'tanh' ? tf.tanh(preSquash) : tf.clipByValue(preSquash, -1, 1);
    return logStd ? [action, preSquash, mean, logStd] : [action, preSquash, mean];
  });
  return { action, preSquash, mean, logStd: logStd ?? null };
}

/** The squashed action in [-1, 1] for a batch of observations and noises. */
export function policyAction(policy: PolicyNetwork, observation: tf.Tensor, noise: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const { action } = policySample(policy, observation, noise);
    return action;
  });
}

export interface ActionScaling {
  readonly scale: readonly number[];
  readonly offset: readonly number[];
  readonly low: readonly number[];
  readonly high: readonly number[];
}

/** Robot units: clamp(offset + scale ⊙ a, low, high), the same arithmetic as the exported graph. */
export function physicalAction(action: tf.Tensor, scaling: ActionScaling): tf.Tensor {
  return tf.tidy(() =>
    tf.minimum(tf.maximum(tf.add(tf.mul(action, tf.tensor1d([...scaling.scale])), tf.tensor1d([...scaling.offset])), tf.tensor1d([...scaling.low])), tf.tensor1d([...scaling.high])),
  );
}

/** Every weight keyed by a stable name (`observation/mean`, `hidden0/kernel`, `mean/bias`, …). */
export function policyWeights(policy: PolicyNetwork): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>([
    ['observation/mean', policy.observationMean],
    ['observation/std', policy.observationStd],
  ]);
  const layers: Layer[] = [...policy.trunk, policy.meanHead];
  if (policy.logStdHead) layers.push(policy.logStdHead);
  for (const [k, v] of layerWeights(layers)) out.set(k, v);
  return out;
}

/** The trainable variables (everything but the observation statistics), for optimisers. */
export function trainableVariables(policy: PolicyNetwork): tf.Variable[] {
  return [...policyWeights(policy).values()].filter((v) => v.trainable);
}

/** Copies every weight of `from` into `to` (same config): old-policy snapshots, target networks. */
export function copyPolicyWeights(from: PolicyNetwork, to: PolicyNetwork): void {
  const target = policyWeights(to);
  for (const [name, v] of policyWeights(from)) {
    const dst = target.get(name);
    if (!dst || dst.shape.join() !== v.shape.join()) throw new PolicyConfigError(name, 'has no matching weight in the target policy');
    dst.assign(v);
  }
}

export function disposePolicy(policy: PolicyNetwork): void {
  for (const v of policyWeights(policy).values()) v.dispose();
}
