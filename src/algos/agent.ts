// What SAC and SMFP share besides replay and critics: the agent interface the training loop drives, an Adam
// parameter group with global-norm clipping and checkpointable moments, the SAC temperature, and the
// tanh-Gaussian log-density.
import * as tf from '@tensorflow/tfjs-core';
import type { PolicyNetwork } from '../nn/policy.ts';
import type { Batch } from './replay.ts';
import type { Rng } from './rng.ts';

export type AlgorithmName = 'smfp' | 'sac';

/** Named tensors plus plain JSON: everything an agent needs to continue bit-for-bit after a restart. */
export interface AgentState {
  tensors: Map<string, tf.Tensor>;
  json: Record<string, unknown>;
}

export interface Agent {
  readonly algorithm: AlgorithmName;
  /** The network that gets exported (actor). */
  readonly policy: PolicyNetwork;
  /** Action in [-1, 1]^d for one raw observation; `explore` samples the full policy, otherwise the evaluation policy. */
  act(observation: Float32Array, explore: boolean, rng: Rng): Float32Array;
  /** One gradient update; returns scalar diagnostics for the log. */
  update(batch: Batch, rng: Rng): Record<string, number>;
  /** Freezes the observation normalisation (computed from the warm-up data) in the policy and the critics' input. */
  setObservationNormalization(mean: Float32Array, std: Float32Array): void;
  getState(): AgentState;
  setState(state: AgentState): void;
  dispose(): void;
}

export interface AdamConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  /** Set explicitly: TF.js's backend default differs from PyTorch/Optax (algorithms.md §5.12). */
  epsilon: number;
  /** Global-norm gradient clip per group; 0 disables. */
  clipNorm: number;
}

export const DEFAULT_ADAM: AdamConfig = { learningRate: 3e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, clipNorm: 0 };

/** Adam over one parameter group, with its own global-norm clip and step counter (PyTorch's bias correction). */
export class AdamGroup {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  step = 0;

  constructor(
    readonly name: string,
    readonly variables: tf.Variable[],
    readonly config: AdamConfig,
  ) {
    this.m = variables.map((x) => tf.variable(tf.zerosLike(x), false));
    this.v = variables.map((x) => tf.variable(tf.zerosLike(x), false));
  }

  /** Applies one update from gradients in the same order as `variables`; returns the pre-clip global norm (NaN when not clipping). */
  apply(grads: tf.Tensor[]): number {
    const { learningRate, beta1, beta2, epsilon, clipNorm } = this.config;
    this.step++;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    return tf.tidy(() => {
      // One device→host read for the norm, and only when clipping is on.
      const norm = clipNorm > 0 ? Math.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]) : NaN;
      const scale = norm > clipNorm ? clipNorm / norm : 1;
      grads.forEach((g0, i) => {
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        this.m[i].assign(tf.add(tf.mul(beta1, this.m[i]), tf.mul(1 - beta1, g)));
        this.v[i].assign(tf.add(tf.mul(beta2, this.v[i]), tf.mul(1 - beta2, tf.square(g))));
        const update = tf.div(tf.div(this.m[i], c1), tf.add(tf.sqrt(tf.div(this.v[i], c2)), epsilon));
        this.variables[i].assign(tf.sub(this.variables[i], tf.mul(learningRate, update)));
      });
      return norm;
    });
  }

  /** Moments keyed `<group>/m/<i>`, `<group>/v/<i>` for checkpoints; the step goes in JSON. */
  stateTensors(out: Map<string, tf.Tensor>): void {
    this.m.forEach((t, i) => out.set(`${this.name}/m/${i}`, t));
    this.v.forEach((t, i) => out.set(`${this.name}/v/${i}`, t));
  }

  loadState(tensors: Map<string, tf.Tensor>, step: number): void {
    const take = (key: string, dst: tf.Variable) => {
      const t = tensors.get(key);
      if (!t || t.shape.join() !== dst.shape.join()) throw new Error(`checkpoint: optimiser state ${key} is missing or has the wrong shape`);
      dst.assign(t);
    };
    this.m.forEach((t, i) => take(`${this.name}/m/${i}`, t));
    this.v.forEach((t, i) => take(`${this.name}/v/${i}`, t));
    this.step = step;
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}

/** Runs `loss` under the tape for `variables` and applies the group's Adam step; returns the loss value. */
export function minimize(group: AdamGroup, loss: () => tf.Scalar): { loss: number; gradNorm: number } {
  const { value, grads } = tf.variableGrads(loss, group.variables);
  const ordered = group.variables.map((v) => grads[v.name]);
  const gradNorm = group.apply(ordered);
  const lossValue = value.dataSync()[0];
  value.dispose();
  tf.dispose(ordered);
  return { loss: lossValue, gradNorm };
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log density of a = squash(μ + σ⊙ξ) given the Gaussian's ξ and log σ, summed over dimensions, [B, 1].
 * With tanh, subtracts the change-of-variables term Σ log(1 − a² + 1e−6) (SAC appendix C).
 */
export function squashedGaussianLogProb(xi: tf.Tensor, logStd: tf.Tensor, action: tf.Tensor, tanhSquash: boolean): tf.Tensor {
  return tf.tidy(() => {
    let logProb = tf.neg(tf.add(tf.add(tf.mul(0.5, tf.square(xi)), logStd), HALF_LOG_2PI));
    if (tanhSquash) logProb = tf.sub(logProb, tf.log(tf.add(tf.sub(1, tf.square(action)), 1e-6)));
    return tf.sum(logProb, 1, true);
  });
}

/** SAC's auto-tuned temperature: loss = −log α · (log π + target entropy), minimised over log α. */
export class Temperature {
  readonly logAlpha: tf.Variable;
  readonly optimizer: AdamGroup;

  constructor(
    name: string,
    initialAlpha: number,
    readonly targetEntropy: number,
    learningRate: number,
  ) {
    this.logAlpha = tf.variable(tf.scalar(Math.log(initialAlpha)), true);
    this.optimizer = new AdamGroup(name, [this.logAlpha], { ...DEFAULT_ADAM, learningRate });
  }

  get alpha(): number {
    return Math.exp(this.logAlpha.dataSync()[0]);
  }

  /** One step given the batch mean of log π (= −entropy estimate); returns the loss. */
  update(meanLogProb: number): number {
    return minimize(this.optimizer, () => tf.mul(tf.neg(this.logAlpha), meanLogProb + this.targetEntropy) as tf.Scalar).loss;
  }
}

/** Reads a named tensor from a checkpoint into a variable, with a clear error when it is absent or misshapen. */
export function restoreVariables(tensors: Map<string, tf.Tensor>, variables: Map<string, tf.Variable>, prefix: string): void {
  for (const [name, v] of variables) {
    const t = tensors.get(`${prefix}${name}`);
    if (!t || t.shape.join() !== v.shape.join()) throw new Error(`checkpoint: ${prefix}${name} is missing or has the wrong shape (expected [${v.shape.join(', ')}])`);
    v.assign(t);
  }
}

export function collectVariables(out: Map<string, tf.Tensor>, variables: Map<string, tf.Variable>, prefix: string): void {
  for (const [name, v] of variables) out.set(`${prefix}${name}`, v);
}
