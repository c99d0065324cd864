// What SAC and SMFP share besides replay and critics: the agent interface the training loop drives, Adam
// parameter groups (src/nn/optim.ts) with checkpointable moments, the SAC temperature, and the tanh-Gaussian
// log-density.
import * as tf from '@tensorflow/tfjs-core';
import type { CheckpointTensor } from '../nn/checkpoint.ts';
import { Adam, type AdamOptions } from '../nn/optim.ts';
import { type PolicyNetwork, policyWeights, setObservationNormalization } from '../nn/policy.ts';
import type { TwinCritic } from './critic.ts';
import type { Batch } from './replay.ts';
import type { Rng } from '../core/rng.ts';

/** The algorithms the trainer drives. */
export type AlgorithmName = 'smfp' | 'sac' | 'meanflowql' | 'bc' | 'gaussian-bc';

/**
 * Everything an agent needs to continue bit-for-bit after a restart, besides its policy's weights (which the
 * checkpoint stores as the policy): other networks, optimiser moments, and plain JSON.
 */
export interface AgentState {
  tensors: Map<string, CheckpointTensor>;
  optimizer: Map<string, CheckpointTensor>;
  json: Record<string, unknown>;
}

/**
 * What the training loop drives: acting, one gradient update, observation normalisation, and its full state for
 * checkpoints.
 */
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
  /** Everything besides the policy weights needed to continue exactly after a restart. */
  getState(): AgentState;
  /** Restores what `getState` returned. */
  setState(state: AgentState): void;
  /** Frees the agent's tensors. */
  dispose(): void;
}

/** Adam settings of one parameter group (epsilon explicit: TF.js's float32 backends default to 1e-7, PyTorch and Optax use 1e-8). */
export function adamGroup(variables: tf.Variable[], learningRate: AdamOptions['learningRate'], clipGlobalNorm?: number): Adam {
  return new Adam(variables, { learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, clipGlobalNorm });
}

/** An optimiser's moments as named checkpoint tensors `<group>/m/<i>`, `<group>/v/<i>`; the step goes in JSON. */
export function optimizerTensors(name: string, adam: Adam, out: Map<string, CheckpointTensor>): number {
  const s = adam.getState();
  s.m.forEach((m, i) => out.set(`${name}/m/${i}`, { shape: [m.length], data: m }));
  s.v.forEach((v, i) => out.set(`${name}/v/${i}`, { shape: [v.length], data: v }));
  return s.step;
}

export function restoreOptimizer(name: string, adam: Adam, stored: ReadonlyMap<string, CheckpointTensor>, step: number): void {
  const take = (key: string) => {
    const t = stored.get(key);
    if (!t) throw new Error(`checkpoint: optimiser state ${key} is missing`);
    return t.data;
  };
  adam.setState({ step, m: adam.params.map((_, i) => take(`${name}/m/${i}`)), v: adam.params.map((_, i) => take(`${name}/v/${i}`)) });
}

/** `rows` draws of ξ ~ N(0, I) [rows, size] from the training RNG (so a resumed run draws the same noise). */
export function gaussianNoise(rows: number, size: number, rng: Rng): tf.Tensor2D {
  return tf.tensor2d(rng.fillNormal(new Float32Array(rows * size)), [rows, size]);
}

/** A replay batch as tensors: observation [B, o], action [B, d], reward [B, 1], next observation [B, o], mask [B, 1]. */
export function batchTensors(batch: Batch, observationSize: number, actionSize: number): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  const B = batch.size;
  return [
    tf.tensor2d(batch.observation, [B, observationSize]),
    tf.tensor2d(batch.action, [B, actionSize]),
    tf.tensor2d(batch.reward, [B, 1]),
    tf.tensor2d(batch.nextObservation, [B, observationSize]),
    tf.tensor2d(batch.mask, [B, 1]),
  ];
}

/**
 * Each of the B states [B, o] repeated n times in a row, state-major: row b·n + j is state b (the layout
 * best-of-N selection and particle sampling use for their candidates).
 */
export function repeatStates(states: tf.Tensor, n: number): tf.Tensor2D {
  const [B, o] = states.shape;
  if (n === 1) return states as tf.Tensor2D;
  return tf.tidy(() => tf.reshape(tf.tile(tf.reshape(states, [B, 1, o]), [1, n, 1]), [B * n, o]));
}

/**
 * The row of the best of each state's n candidates, given their scores [B·n] or [B·n, 1] in `repeatStates`'
 * layout: int32 [B] indices into the candidate rows (ties and NaN: the first, like a strict `>` scan).
 */
export function bestCandidates(scores: tf.Tensor, n: number): tf.Tensor1D {
  const B = scores.size / n;
  return tf.tidy(() => tf.add(tf.range(0, B * n, n, 'int32'), tf.cast(tf.argMax(tf.reshape(scores, [B, n]), 1), 'int32')));
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

/**
 * Data actions pulled inside ±(1 − margin) and their tanh pre-image u = atanh(a): what the likelihood below needs
 * for actions that may sit exactly on the bounds (atanh(±1) is infinite). Caller disposes both.
 */
export function tanhPreimage(actions: tf.Tensor, margin: number): { action: tf.Tensor; u: tf.Tensor } {
  const [action, u] = tf.tidy(() => {
    const pulled = tf.clipByValue(actions, -(1 - margin), 1 - margin);
    return [pulled, tf.atanh(pulled)];
  });
  return { action, u };
}

/**
 * log π(a | s) of given actions a = tanh(u) (u = atanh a from tanhPreimage) under a
 * tanh-Gaussian with heads μ, log σ: the likelihood Gaussian BC maximises and SAC's optional BC term uses.
 */
export function tanhGaussianLogProbOf(mean: tf.Tensor, logStd: tf.Tensor, u: tf.Tensor, action: tf.Tensor): tf.Tensor {
  return tf.tidy(() => squashedGaussianLogProb(tf.div(tf.sub(u, mean), tf.exp(logStd)), logStd, action, true));
}

/** SAC's auto-tuned temperature: loss = −log α · (log π + target entropy), minimised over log α. */
export class Temperature {
  readonly logAlpha: tf.Variable;
  readonly optimizer: Adam;

  constructor(
    initialAlpha: number,
    readonly targetEntropy: number,
    learningRate: number,
  ) {
    this.logAlpha = tf.variable(tf.scalar(Math.log(initialAlpha)), true);
    this.optimizer = adamGroup([this.logAlpha], learningRate);
  }

  get alpha(): number {
    return Math.exp(this.logAlpha.dataSync()[0]);
  }

  /** One step given the batch mean of log π (= −entropy estimate); returns the loss. */
  update(meanLogProb: number): number {
    return this.optimizer.minimize(() => tf.mul(tf.neg(this.logAlpha), meanLogProb + this.targetEntropy) as tf.Scalar);
  }
}

/** Fills variables from stored checkpoint tensors, with a clear error when one is absent or misshapen. */
export function restoreVariables(stored: ReadonlyMap<string, CheckpointTensor>, variables: Map<string, tf.Variable>, prefix: string): void {
  for (const [name, v] of variables) {
    const t = stored.get(`${prefix}${name}`);
    if (!t || t.data.length !== v.size) throw new Error(`checkpoint: ${prefix}${name} is missing or has the wrong shape (expected [${v.shape.join(', ')}])`);
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
  }
}

export function collectVariables(out: Map<string, CheckpointTensor>, variables: Map<string, tf.Variable>, prefix: string): void {
  for (const [name, v] of variables) out.set(`${prefix}${name}`, { shape: v.shape, data: (v.dataSync() as Float32Array).slice() });
}

/** The learner parts SAC and SMFP both checkpoint besides the policy: twin critics, temperature and their Adams. */
export interface ActorCriticParts {
  readonly critic: TwinCritic;
  readonly temperature: Temperature;
  readonly actorOptimizer: Adam;
  readonly criticOptimizer: Adam;
}

/** Checkpoint state of the shared parts, the update count, and `extra` variables (names already prefixed). */
export function actorCriticState(parts: ActorCriticParts, updates: number, extra = new Map<string, tf.Variable>()): AgentState {
  const tensors = new Map<string, CheckpointTensor>();
  const optimizer = new Map<string, CheckpointTensor>();
  collectVariables(tensors, extra, '');
  collectVariables(tensors, parts.critic.weights(), 'critic/');
  collectVariables(tensors, new Map([['log_alpha', parts.temperature.logAlpha]]), '');
  const json = {
    updates,
    actorAdamStep: optimizerTensors('actor_adam', parts.actorOptimizer, optimizer),
    criticAdamStep: optimizerTensors('critic_adam', parts.criticOptimizer, optimizer),
    alphaAdamStep: optimizerTensors('alpha_adam', parts.temperature.optimizer, optimizer),
  };
  return { tensors, optimizer, json };
}

/** Restores what actorCriticState saved into the same parts; returns the update count. */
export function restoreActorCriticState(parts: ActorCriticParts, state: AgentState, extra = new Map<string, tf.Variable>()): number {
  restoreVariables(state.tensors, extra, '');
  restoreVariables(state.tensors, parts.critic.weights(), 'critic/');
  restoreVariables(state.tensors, new Map([['log_alpha', parts.temperature.logAlpha]]), '');
  const j = state.json as { updates: number; actorAdamStep: number; criticAdamStep: number; alphaAdamStep: number };
  restoreOptimizer('actor_adam', parts.actorOptimizer, state.optimizer, j.actorAdamStep);
  restoreOptimizer('critic_adam', parts.criticOptimizer, state.optimizer, j.criticAdamStep);
  restoreOptimizer('alpha_adam', parts.temperature.optimizer, state.optimizer, j.alphaAdamStep);
  return j.updates;
}

/** Frees the shared learner parts (the caller frees its policies). */
export function disposeActorCritic(parts: ActorCriticParts): void {
  parts.critic.dispose();
  parts.actorOptimizer.dispose();
  parts.criticOptimizer.dispose();
  parts.temperature.optimizer.dispose();
  parts.temperature.logAlpha.dispose();
}

/**
 * An agent whose one learner part is its actor with that actor's Adam (the behaviour-cloning baselines): their
 * checkpoint state, normalisation and disposal; the subclass acts and updates.
 */
export abstract class ActorOnlyAgent implements Agent {
  abstract readonly algorithm: AlgorithmName;
  protected updates = 0;

  constructor(
    readonly observationSize: number,
    readonly actionSize: number,
    readonly policy: PolicyNetwork,
    protected readonly optimizer: Adam,
  ) {}

  abstract act(observation: Float32Array, explore: boolean, rng: Rng): Float32Array;
  abstract update(batch: Batch, rng: Rng): Record<string, number>;

  setObservationNormalization(mean: Float32Array, std: Float32Array): void {
    setObservationNormalization(this.policy, mean, std);
  }

  getState(): AgentState {
    const optimizer = new Map<string, CheckpointTensor>();
    return { tensors: new Map(), optimizer, json: { updates: this.updates, actorAdamStep: optimizerTensors('actor_adam', this.optimizer, optimizer) } };
  }

  setState(state: AgentState): void {
    const j = state.json as { updates: number; actorAdamStep: number };
    restoreOptimizer('actor_adam', this.optimizer, state.optimizer, j.actorAdamStep);
    this.updates = j.updates;
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const v of policyWeights(this.policy).values()) v.dispose();
  }
}
