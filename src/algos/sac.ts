// Soft Actor-Critic with a tanh-Gaussian actor (Haarnoja et al. 2018, arXiv 1812.05905), CleanRL-style:
// hyper-parameters, networks, then one update in the order it runs: critic → actor → temperature → targets.
// Replay, critics, optimiser and temperature are the shared modules SMFP uses too (same budgets).
import * as tf from '@tensorflow/tfjs-core';
import { createPolicy, gaussianHeads, normalizeObservation, policyConfig, policySample, policyWeights, setObservationNormalization, trainableVariables, type PolicyNetwork } from '../nn/policy.ts';
import type { Activation } from '../nn/layers.ts';
import type { Adam } from '../nn/optim.ts';
import { type ActorCriticParts, type Agent, type AgentState, Temperature, actorCriticState, adamGroup, batchTensors, disposeActorCritic, gaussianNoise, restoreActorCriticState, squashedGaussianLogProb, tanhGaussianLogProbOf, tanhPreimage } from './agent.ts';
import { DEFAULT_CRITIC, TwinCritic, type CriticConfig } from './critic.ts';
import type { Batch } from './replay.ts';
import type { Rng } from '../core/rng.ts';

/** SAC's hyper-parameters (defaults: SAC_DEFAULTS). */
export interface SacConfig {
  gamma: number;
  tau: number;
  actorLearningRate: number;
  criticLearningRate: number;
  alphaLearningRate: number;
  initialAlpha: number;
  /** null = −action dimension. */
  targetEntropy: number | null;
  /** Actor and temperature update once every `policyDelay` critic updates (CleanRL uses 2; flow-rl 1). */
  policyDelay: number;
  /**
   * The actor and the temperature stay as they are for this many first updates while the critics learn: a policy
   * started from an offline checkpoint (--init) is not pulled about by fresh critics' arbitrary action gradients.
   * α is held too: the entropy it tracks does not change while the actor is held, so it would only wind up.
   */
  actorFreezeUpdates: number;
  /**
   * Weight of a behaviour-cloning term −log π(a|s) on the batch's actions in the actor loss (TD3+BC-style pull
   * toward the data, for fine-tuning an offline policy; 0 = plain SAC). Actions are pulled inside ±(1 − 1e−5).
   */
  bcWeight: number;
  actorHidden: number[];
  /** The actor's activation and LayerNorm (CleanRL's: ReLU, none); --init takes a Gaussian BC checkpoint's. */
  actorActivation: Activation;
  actorLayerNorm: boolean;
  critic: CriticConfig;
  logStdMin: number;
  logStdMax: number;
}

/** SAC's default hyper-parameters (CleanRL-like). */
export const SAC_DEFAULTS: SacConfig = {
  gamma: 0.99,
  tau: 0.005,
  actorLearningRate: 3e-4,
  criticLearningRate: 3e-4,
  alphaLearningRate: 3e-4,
  initialAlpha: 1,
  targetEntropy: null,
  policyDelay: 1,
  actorFreezeUpdates: 0,
  bcWeight: 0,
  actorHidden: [256, 256],
  actorActivation: 'relu',
  actorLayerNorm: false,
  critic: DEFAULT_CRITIC,
  logStdMin: -5,
  logStdMax: 2,
};

/** A SAC hyper-parameter out of range; the message names it. */
export class SacConfigError extends Error {
  override name = 'SacConfigError';
}

/** Rejects out-of-range hyper-parameters with a typed error naming the field. */
export function validateSacConfig(c: SacConfig): SacConfig {
  for (const field of ['tau', 'gamma'] as const) if (!(c[field] >= 0 && c[field] <= 1)) throw new SacConfigError(`SAC ${field} must be in [0, 1] (got ${c[field]})`);
  for (const field of ['actorLearningRate', 'criticLearningRate', 'alphaLearningRate', 'initialAlpha'] as const) {
    if (!(c[field] > 0)) throw new SacConfigError(`SAC ${field} must be > 0 (got ${c[field]})`);
  }
  if (!Number.isInteger(c.policyDelay) || c.policyDelay < 1) throw new SacConfigError(`SAC policyDelay must be an integer >= 1 (got ${c.policyDelay})`);
  // Configs saved before the field existed lack it (= 0).
  if (c.actorFreezeUpdates !== undefined && !(Number.isInteger(c.actorFreezeUpdates) && c.actorFreezeUpdates >= 0)) {
    throw new SacConfigError(`SAC actorFreezeUpdates must be an integer >= 0 (got ${c.actorFreezeUpdates})`);
  }
  if (c.bcWeight !== undefined && !(c.bcWeight >= 0)) throw new SacConfigError(`SAC bcWeight must be >= 0 (got ${c.bcWeight})`);
  if (!(c.logStdMin < c.logStdMax)) throw new SacConfigError(`SAC logStdMin must be < logStdMax (got ${c.logStdMin}, ${c.logStdMax})`);
  return c;
}

/**
 * Soft actor-critic with a tanh-Gaussian actor, twin critics and a learned temperature: the baseline in the same
 * harness.
 */
export class Sac implements Agent {
  readonly algorithm = 'sac' as const;
  readonly policy: PolicyNetwork;
  readonly critic: TwinCritic;
  readonly temperature: Temperature;
  private readonly actorOptimizer: Adam;
  private readonly criticOptimizer: Adam;
  private updates = 0;
  private readonly noise: Float32Array;

  constructor(
    readonly observationSize: number,
    readonly actionSize: number,
    readonly config: SacConfig,
    seed: number,
  ) {
    validateSacConfig(config);
    this.policy = createPolicy(
      policyConfig({ kind: 'gaussian', observationSize, actionSize, hiddenSizes: config.actorHidden, activation: config.actorActivation ?? 'relu', layerNorm: config.actorLayerNorm ?? false, logStdHead: { min: config.logStdMin, max: config.logStdMax, bound: 'tanh' }, squash: 'tanh' }),
      seed,
    );
    this.critic = new TwinCritic(observationSize, actionSize, config.critic, seed + 10_000);
    this.actorOptimizer = adamGroup(trainableVariables(this.policy), config.actorLearningRate);
    this.criticOptimizer = adamGroup(this.critic.variables(), config.criticLearningRate);
    this.temperature = new Temperature(config.initialAlpha, config.targetEntropy ?? -actionSize, config.alphaLearningRate);
    this.noise = new Float32Array(actionSize);
  }

  act(observation: Float32Array, explore: boolean, rng: Rng): Float32Array {
    // Evaluation acts with the mean (ξ = 0), as CleanRL and SB3 do.
    if (explore) rng.fillNormal(this.noise);
    else this.noise.fill(0);
    return tf.tidy(() => policySample(this.policy, tf.tensor2d(observation, [1, this.observationSize]), tf.tensor2d(this.noise, [1, this.actionSize])).action.dataSync() as Float32Array);
  }

  /** Sample a ~ π(·|s) and its log-density, [B, d] and [B, 1]. */
  private sampleWithLogProb(observation: tf.Tensor, xi: tf.Tensor): { action: tf.Tensor; logProb: tf.Tensor } {
    const { mean, logStd } = gaussianHeads(this.policy, observation);
    const action = tf.tanh(tf.add(mean, tf.mul(tf.exp(logStd), xi)));
    return { action, logProb: squashedGaussianLogProb(xi, logStd, action, true) };
  }

  update(batch: Batch, rng: Rng): Record<string, number> {
    const { gamma, tau, policyDelay } = this.config;
    const B = batch.size;
    const out: Record<string, number> = {};
    const alpha = this.temperature.alpha;
    const [obs, act, rew, nextObs, mask] = batchTensors(batch, this.observationSize, this.actionSize);
    const xiNext = gaussianNoise(B, this.actionSize, rng);
    const xiNow = gaussianNoise(B, this.actionSize, rng);

    // 1. Critic: y = r + γ·mask·(min Q̄(s', a') − α log π(a'|s')), a' ~ π(·|s').
    const target = tf.tidy(() => {
      const next = this.sampleWithLogProb(nextObs, xiNext);
      const softValue = tf.sub(this.critic.targetMinValue(normalizeObservation(this.policy, nextObs), next.action), tf.mul(alpha, next.logProb));
      return tf.add(rew, tf.mul(gamma, tf.mul(mask, softValue)));
    });
    const obsNorm = normalizeObservation(this.policy, obs);
    const critic = this.criticOptimizer.minimize(() =>
      tf.tidy(() => {
        const [q1, q2] = this.critic.values(obsNorm, act);
        return tf.add(tf.mean(tf.squaredDifference(q1, target)), tf.mean(tf.squaredDifference(q2, target))) as tf.Scalar;
      }),
    );
    out.critic_loss = critic;

    // 2. Actor: minimise E[α log π(a|s) − min Q(s, a)], a reparameterised (critic weights are not in the group).
    if (this.updates % policyDelay === 0 && this.updates >= (this.config.actorFreezeUpdates ?? 0)) {
      let meanLogProb = 0;
      const bcWeight = this.config.bcWeight ?? 0;
      const data = bcWeight > 0 ? tanhPreimage(act, 1e-5) : null;
      const actor = this.actorOptimizer.minimize(() =>
        tf.tidy(() => {
          const { action, logProb } = this.sampleWithLogProb(obs, xiNow);
          meanLogProb = tf.mean(logProb).dataSync()[0];
          const sacLoss = tf.mean(tf.sub(tf.mul(alpha, logProb), this.critic.minValue(obsNorm, action)));
          if (!data) return sacLoss as tf.Scalar;
          const { mean, logStd } = gaussianHeads(this.policy, obs);
          return tf.sub(sacLoss, tf.mul(bcWeight, tf.mean(tanhGaussianLogProbOf(mean, logStd, data.u, data.action)))) as tf.Scalar;
        }),
      );
      if (data) tf.dispose([data.action, data.u]);
      out.actor_loss = actor;
      out.entropy = -meanLogProb;
      // 3. Temperature toward the target entropy.
      out.alpha_loss = this.temperature.update(meanLogProb);
    }
    out.alpha = alpha;

    // 4. Targets.
    this.critic.polyakUpdate(tau);
    this.updates++;
    tf.dispose([obs, act, rew, nextObs, mask, xiNext, xiNow, target, obsNorm]);
    return out;
  }

  setObservationNormalization(mean: Float32Array, std: Float32Array): void {
    setObservationNormalization(this.policy, mean, std);
  }

  /** Everything but the policy's own weights (the checkpoint stores those as its policy). */
  getState(): AgentState {
    return actorCriticState(this.learnerParts(), this.updates);
  }

  setState(state: AgentState): void {
    this.updates = restoreActorCriticState(this.learnerParts(), state);
  }

  private learnerParts(): ActorCriticParts {
    return { critic: this.critic, temperature: this.temperature, actorOptimizer: this.actorOptimizer, criticOptimizer: this.criticOptimizer };
  }

  dispose(): void {
    disposeActorCritic(this.learnerParts());
    for (const v of policyWeights(this.policy).values()) v.dispose();
  }
}
