// SMFP — Stochastic MeanFlow Policies trained by entropic mirror descent (arXiv 2605.21282), as reconstructed in
// docs/algorithms/smfp.md (the paper's code and full text are not public). Every choice that is ours, not the
// paper's, is a switch in SmfpConfig so it can be ablated.
//
// Policy: e ~ N(0, I), ξ ~ N(0, I);  μ = g_θ(s, e, t=1) (residual MeanFlow map, b = 0);  σ = exp(ℓ_θ(s, e, 1));
//         u = μ + σ⊙ξ;  a = tanh(u) (or clip).  Given e, u is Gaussian, so the entropy surrogate is
//         H̃ = E_e[Σ_i log σ_i] + d/2·log(2πe)  (a lower bound on the policy's entropy), plus the tanh term.
// One update, in the order it runs:
//   1. critic   y = r + γ·mask·(min Q̄(s', a') − α·log π(a'|s', e'))           (soft backup with the surrogate)
//   2. actor    L = E[α·log π(a|s, e)] − β·E[min Q(s, a)]                       (SAC-style soft improvement)
//                 + η·Σ_j w_j·ℓ_MFI(θ; s, e_j → u_j),  u_j ~ π_k(·|s, e_j)        (mirror-descent step toward π_k)
//                   w_j = (Q_j − V)₊ / mean_j (Q_j − V)₊,  V = mean_j Q_j           (rectified advantage weights)
//                 [+ κ·KL(N(μ_θ, σ_θ) ‖ N(μ_k, σ_k)) at the same (s, e)]        (optional reverse-KL proxy)
//   3. temperature  α toward the target entropy with log π := −H̃ (per sample)
//   4. targets  Polyak τ;  every K updates π_k ← π_θ (hard copy)
import * as tf from '@tensorflow/tfjs-core';
import {
  type PolicyNetwork,
  type TimeFeaturesConfig,
  copyPolicyWeights,
  createPolicy,
  meanflowHeads,
  normalizeObservation,
  policyConfig,
  policyWeights,
  setObservationNormalization,
  trainableVariables,
} from '../nn/policy.ts';
import type { Activation } from '../nn/layers.ts';
import type { Adam } from '../nn/optim.ts';
import { type ActorCriticParts, type Agent, type AgentState, Temperature, actorCriticState, adamGroup, batchTensors, bestCandidates, disposeActorCritic, gaussianNoise, repeatStates, restoreActorCriticState, squashedGaussianLogProb } from './agent.ts';
import { DEFAULT_CRITIC, TwinCritic, type CriticConfig } from './critic.ts';
import { type MfiProblem, boundLoss, disposeMfiProblem, mfiLoss, mfiProblem } from './meanflow.ts';
import type { Batch } from './replay.ts';
import type { Rng } from '../core/rng.ts';

/** SMFP's hyper-parameters (defaults: SMFP_DEFAULTS; docs/algorithms/smfp.md explains each). */
export interface SmfpConfig {
  gamma: number;
  tau: number;
  actorLearningRate: number;
  criticLearningRate: number;
  alphaLearningRate: number;
  initialAlpha: number;
  /** null = −action dimension (SAC's heuristic). */
  targetEntropy: number | null;
  actorHidden: number[];
  actorActivation: Activation;
  actorLayerNorm: boolean;
  timeFeatures: TimeFeaturesConfig;
  critic: CriticConfig;
  logStdMin: number;
  logStdMax: number;
  /** How log σ is kept in [min, max]: `clip` (the reconstruction) or SAC's smooth `tanh` rescaling (ours). */
  logStdBound: 'clip' | 'tanh';
  /** `tanh` squashing with the log-det term, or MeanFlowQL's `clip` plus a bound loss. */
  squash: 'tanh' | 'clip';
  /** Weight β of the reparameterised −Q term (0 = pure mirror-descent fit; the entropy term stays). */
  qWeight: number;
  /** Subtract α·log π from the backup (the entropic critic; DPMD has none). */
  entropyInBackup: boolean;
  /** Mirror-descent fit of the MeanFlow map to π_k's particles: (Q − V)₊ (paper), exp(A/λ) (FPMD/DPMD), or off. */
  mdWeighting: 'relu' | 'exp' | 'none';
  /** Weight η of the weighted MFI loss. */
  mdWeight: number;
  /** λ for `exp` weights. */
  mdTemperature: number;
  /** States of the batch used for the particle fit, and particles per state (DPMD uses 64 on a GPU). */
  mdStates: number;
  mdParticles: number;
  /** Pair each particle with the noise e that produced it (`policy`, ours) or with fresh noise (`independent`). */
  mdCoupling: 'policy' | 'independent';
  /** Extra Gaussian exploration noise on the particles in u-space (DPMD: 0.2). */
  mdParticleNoise: number;
  /**
   * What the mirror-descent fit regresses g(s, e_j, ·) onto: the particle `sample` u_j = μ_k + σ_k⊙ξ_j (the
   * reconstruction as first written; acting adds σ_θ⊙ξ again, so the e-spread can grow by σ² per π_k refresh), or
   * π_k's conditional `mean` μ_k(s, e_j) (σ is then trained by the entropy and Q terms alone).
   */
  mdFitTarget: 'sample' | 'mean';
  /**
   * Below this mean rectified advantage (Q units) a state's particle weights fall back to uniform: (Q − V)₊/mean is
   * O(1) however small the true differences, so without a floor a noisy critic picks a random half. 0 = off.
   */
  mdAdvantageFloor: number;
  /** Divide the −β·Q term by sg(mean |Q|) (FQL), so its weight against the MFI and entropy terms ignores Q's scale. */
  qNormalize: boolean;
  /** `auto`: α tuned toward the target entropy (SAC's rule; a reconstruction, not the paper's); `fixed`: α = initialAlpha. */
  alphaMode: 'auto' | 'fixed';
  /** Candidates for `evalNoise: best-of-n`: sample N actions, act with the one of highest min Q (MeanFlowQL's selection). */
  evalCandidates: number;
  /** MeanFlowQL's adaptive loss weight 1/(δ² + c)^(1 − γ_a); false = plain squared error. */
  adaptiveLoss: boolean;
  adaptiveGamma: number;
  adaptiveC: number;
  /** Clip of the stop-gradient MeanFlow target (MeanFlowQL: 5). */
  targetClip: number;
  /** Weight κ of the Gaussian-conditional KL(π_θ ‖ π_k) at the same e (0 = off). */
  klWeight: number;
  /** Hard refresh of the old policy π_k every this many updates (DPMD: 1000). */
  oldPolicyInterval: number;
  /** Bound loss weight (only with `clip` squashing, as MeanFlowQL). */
  boundLossWeight: number;
  /** Evaluation action: e sampled and ξ = 0 (`e`), all noise zero (`zero`), the full stochastic policy, or the best of N full samples under min Q. */
  evalNoise: 'e' | 'zero' | 'full' | 'best-of-n';
}

/** SMFP's default hyper-parameters. */
export const SMFP_DEFAULTS: SmfpConfig = {
  gamma: 0.99,
  tau: 0.005,
  actorLearningRate: 3e-4,
  criticLearningRate: 3e-4,
  alphaLearningRate: 3e-4,
  initialAlpha: 1,
  targetEntropy: null,
  actorHidden: [256, 256],
  actorActivation: 'relu',
  actorLayerNorm: false,
  timeFeatures: { kind: 'sinusoidal', count: 8, maxPeriod: 100 },
  critic: DEFAULT_CRITIC,
  logStdMin: -5,
  logStdMax: 2,
  logStdBound: 'tanh',
  squash: 'tanh',
  qWeight: 1,
  entropyInBackup: true,
  mdWeighting: 'relu',
  mdWeight: 1,
  mdTemperature: 1,
  mdStates: 32,
  mdParticles: 8,
  mdCoupling: 'policy',
  mdParticleNoise: 0,
  mdFitTarget: 'sample',
  mdAdvantageFloor: 0.01,
  qNormalize: false,
  alphaMode: 'auto',
  evalCandidates: 16,
  adaptiveLoss: true,
  adaptiveGamma: 0.8,
  adaptiveC: 1e-4,
  targetClip: 5,
  klWeight: 0,
  oldPolicyInterval: 1000,
  boundLossWeight: 1,
  evalNoise: 'e',
};

const HALF_LOG_2PI_E = 0.5 * Math.log(2 * Math.PI * Math.E);

/** An SMFP hyper-parameter out of range; the message names it. */
export class SmfpConfigError extends Error {
  override name = 'SmfpConfigError';
}

/** Rejects a hyper-parameter record with a wrong choice or an out-of-range number, naming the field. */
export function validateSmfpConfig(c: SmfpConfig): SmfpConfig {
  const oneOf = (field: keyof SmfpConfig, allowed: readonly string[]) => {
    if (!allowed.includes(c[field] as string)) throw new SmfpConfigError(`SMFP ${field} must be one of ${allowed.join(', ')} (got ${JSON.stringify(c[field])})`);
  };
  oneOf('logStdBound', ['clip', 'tanh']);
  oneOf('squash', ['tanh', 'clip']);
  oneOf('mdWeighting', ['relu', 'exp', 'none']);
  oneOf('mdCoupling', ['policy', 'independent']);
  oneOf('evalNoise', ['e', 'zero', 'full', 'best-of-n']);
  oneOf('mdFitTarget', ['sample', 'mean']);
  oneOf('alphaMode', ['auto', 'fixed']);
  for (const field of ['mdStates', 'mdParticles', 'oldPolicyInterval', 'evalCandidates'] as const) {
    if (!Number.isInteger(c[field]) || c[field] < 1) throw new SmfpConfigError(`SMFP ${field} must be an integer >= 1 (got ${c[field]})`);
  }
  for (const field of ['tau', 'gamma'] as const) if (!(c[field] >= 0 && c[field] <= 1)) throw new SmfpConfigError(`SMFP ${field} must be in [0, 1] (got ${c[field]})`);
  for (const field of ['actorLearningRate', 'criticLearningRate', 'alphaLearningRate', 'initialAlpha', 'mdTemperature', 'targetClip'] as const) {
    if (!(c[field] > 0)) throw new SmfpConfigError(`SMFP ${field} must be > 0 (got ${c[field]})`);
  }
  for (const field of ['qWeight', 'mdWeight', 'klWeight', 'mdParticleNoise', 'boundLossWeight', 'mdAdvantageFloor'] as const) {
    if (!(c[field] >= 0)) throw new SmfpConfigError(`SMFP ${field} must be >= 0 (got ${c[field]})`);
  }
  return c;
}

/**
 * The entropy surrogate per state, [B, 1]: H̃ = Σ_i log σ_i(s, e, 0, 1) + d/2·log(2πe) for the given e. It is the
 * exact entropy of u given e; averaged over e it lower-bounds H(u | s).
 */
export function entropySurrogate(logStd: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.sum(logStd, 1, true), logStd.shape[1]! * HALF_LOG_2PI_E));
}

/**
 * Mirror-descent weights of K particles per state from their values q [M, K]; each row averages to 1.
 * `relu`: (Q − V)₊ / mean (Q − V)₊ with V the row mean (the paper's rectified weights; invariant to the scale and
 * offset of Q, so no temperature). `exp`: K·softmax(Q/λ) (FPMD/DPMD). A row whose particles all tie gets weight 0;
 * with `floor` > 0 a row whose mean rectified advantage is below it (differences the critic cannot resolve) gets
 * uniform weights 1 instead.
 */
export function advantageWeights(q: tf.Tensor, kind: 'relu' | 'exp', temperature: number, floor = 0): tf.Tensor {
  return tf.tidy(() => {
    if (kind === 'exp') return tf.mul(q.shape[1]!, tf.softmax(tf.div(q, temperature), 1));
    const advantage = tf.relu(tf.sub(q, tf.mean(q, 1, true)));
    const mean = tf.mean(advantage, 1, true);
    const weights = tf.div(advantage, tf.maximum(mean, 1e-12));
    return floor > 0 ? tf.where(tf.greaterEqual(tf.broadcastTo(mean, q.shape), floor), weights, tf.onesLike(weights)) : weights;
  });
}

interface Draw {
  action: tf.Tensor;
  preSquash: tf.Tensor;
  mean: tf.Tensor;
  logStd: tf.Tensor;
  /** log π(a | s, e), [B, 1] (−H̃ of this sample, with the tanh term). */
  logProb: tf.Tensor;
}

/**
 * SMFP: a stochastic MeanFlow policy, one forward pass per action, trained online by entropic mirror descent against
 * twin critics.
 */
export class Smfp implements Agent {
  readonly algorithm = 'smfp' as const;
  readonly policy: PolicyNetwork;
  /** π_k: the previous policy of the mirror-descent step. */
  readonly oldPolicy: PolicyNetwork;
  readonly critic: TwinCritic;
  readonly temperature: Temperature;
  private readonly actorOptimizer: Adam;
  private readonly criticOptimizer: Adam;
  private updates = 0;
  private readonly noise: Float32Array;
  private readonly d: number;

  constructor(
    readonly observationSize: number,
    readonly actionSize: number,
    readonly config: SmfpConfig,
    seed: number,
  ) {
    validateSmfpConfig(config);
    const pc = policyConfig({
      kind: 'meanflow',
      observationSize,
      actionSize,
      hiddenSizes: config.actorHidden,
      activation: config.actorActivation,
      layerNorm: config.actorLayerNorm,
      timeFeatures: config.timeFeatures,
      logStdHead: { min: config.logStdMin, max: config.logStdMax, bound: config.logStdBound },
      squash: config.squash,
    });
    this.d = actionSize;
    this.policy = createPolicy(pc, seed);
    this.oldPolicy = createPolicy(pc, seed);
    copyPolicyWeights(this.policy, this.oldPolicy);
    this.critic = new TwinCritic(observationSize, actionSize, config.critic, seed + 10_000);
    this.actorOptimizer = adamGroup(trainableVariables(this.policy), config.actorLearningRate);
    this.criticOptimizer = adamGroup(this.critic.variables(), config.criticLearningRate);
    this.temperature = new Temperature(config.initialAlpha, config.targetEntropy ?? -actionSize, config.alphaLearningRate);
    this.noise = new Float32Array(2 * actionSize);
  }

  act(observation: Float32Array, explore: boolean, rng: Rng): Float32Array {
    const d = this.d;
    if (!explore && this.config.evalNoise === 'best-of-n') return this.actBestOfN(observation, rng);
    rng.fillNormal(this.noise);
    if (!explore && this.config.evalNoise !== 'full') {
      this.noise.fill(0, d); // ξ = 0: the mean of the conditional Gaussian
      if (this.config.evalNoise === 'zero') this.noise.fill(0, 0, d);
    }
    return tf.tidy(() => {
      const draw = this.draw(this.policy, tf.tensor2d(observation, [1, this.observationSize]), tf.tensor2d(this.noise.subarray(0, d), [1, d]), tf.tensor2d(this.noise.subarray(d), [1, d]));
      return draw.action.dataSync() as Float32Array;
    });
  }

  /** N full samples for one state; the one with the highest min Q (MeanFlowQL's action selection). */
  private actBestOfN(observation: Float32Array, rng: Rng): Float32Array {
    const n = this.config.evalCandidates;
    return tf.tidy(() => {
      const states = repeatStates(tf.tensor2d(observation, [1, this.observationSize]), n);
      const draw = this.draw(this.policy, states, gaussianNoise(n, this.d, rng), gaussianNoise(n, this.d, rng));
      const q = this.critic.minValue(normalizeObservation(this.policy, states), draw.action);
      return tf.gather(draw.action, bestCandidates(q, n)).dataSync() as Float32Array;
    });
  }

  /** One sample a = squash(g(s, e, 1) + σ(s, e, 1)⊙ξ) with its conditional log-density. */
  private draw(policy: PolicyNetwork, observation: tf.Tensor, e: tf.Tensor, xi: tf.Tensor): Draw {
    const { g: mean, logStd } = meanflowHeads(policy, observation, e, 1);
    const preSquash = tf.add(mean, tf.mul(tf.exp(logStd!), xi));
    const tanh = this.config.squash === 'tanh';
    const action = tanh ? tf.tanh(preSquash) : tf.clipByValue(preSquash, -1, 1);
    return { action, preSquash, mean, logStd: logStd!, logProb: squashedGaussianLogProb(xi, logStd!, action, tanh) };
  }

  update(batch: Batch, rng: Rng): Record<string, number> {
    const c = this.config;
    const B = batch.size;
    const d = this.d;
    const out: Record<string, number> = {};
    const alpha = this.temperature.alpha;
    const [obs, act, rew, nextObs, mask] = batchTensors(batch, this.observationSize, d);
    const [eNext, xiNext, eNow, xiNow] = [gaussianNoise(B, d, rng), gaussianNoise(B, d, rng), gaussianNoise(B, d, rng), gaussianNoise(B, d, rng)];
    const obsNorm = normalizeObservation(this.policy, obs);
    const disposeLater: tf.Tensor[] = [obs, act, rew, nextObs, mask, eNext, xiNext, eNow, xiNow, obsNorm];

    // 1. Critic: soft clipped double-Q backup with the surrogate's per-sample log-density.
    const target = tf.tidy(() => {
      const next = this.draw(this.policy, nextObs, eNext, xiNext);
      let nextValue = this.critic.targetMinValue(normalizeObservation(this.policy, nextObs), next.action);
      if (c.entropyInBackup) nextValue = tf.sub(nextValue, tf.mul(alpha, next.logProb));
      return tf.add(rew, tf.mul(c.gamma, tf.mul(mask, nextValue)));
    });
    disposeLater.push(target);
    out.critic_loss = this.criticOptimizer.minimize(() =>
      tf.tidy(() => {
        const [q1, q2] = this.critic.values(obsNorm, act);
        return tf.add(tf.mean(tf.squaredDifference(q1, target)), tf.mean(tf.squaredDifference(q2, target))) as tf.Scalar;
      }),
    );

    // 2a. Mirror-descent particles from π_k (no gradient): weights and the stop-gradient MeanFlow targets.
    const md = c.mdWeighting !== 'none' && c.mdWeight > 0 ? this.mirrorDescentTargets(obs, rng, out) : null;
    const old = c.klWeight > 0 ? meanflowHeads(this.oldPolicy, obs, eNow, 1) : null;
    if (old) disposeLater.push(old.g, old.logStd!);

    // 2b. Actor.
    let meanLogProb = 0;
    const actor = this.actorOptimizer.minimize(() =>
      tf.tidy(() => {
        const terms: tf.Tensor[] = [];
        const draw = this.draw(this.policy, obs, eNow, xiNow);
        meanLogProb = tf.mean(draw.logProb).dataSync()[0];
        // Entropy bonus (−α·H̃ per sample, always on: it is what trains σ) and the soft improvement −β·Q.
        terms.push(tf.mul(alpha, tf.mean(draw.logProb)));
        if (c.qWeight > 0) {
          const q = this.critic.minValue(obsNorm, draw.action);
          const scale = c.qNormalize ? 1 / Math.max(tf.mean(tf.abs(q)).dataSync()[0], 1e-6) : 1;
          terms.push(tf.mul(-c.qWeight * scale, tf.mean(q)));
        }
        if (c.squash === 'clip' && c.boundLossWeight > 0) terms.push(tf.mul(c.boundLossWeight, boundLoss(draw.preSquash)));
        if (md) {
          // Weighted MFI regression: g(s, a_t, t) toward sg(clip(a_t + (t − 1)v − t·dg/dt)).
          const { loss, meanError } = mfiLoss(this.policy, md);
          out.mfi_loss = meanError.dataSync()[0];
          terms.push(tf.mul(c.mdWeight, loss));
        }
        if (old) {
          // KL(N(μ, σ²) ‖ N(μ_k, σ_k²)) summed over dimensions, at the same (s, e).
          const varK = tf.exp(tf.mul(2, old.logStd!));
          const kl = tf.sum(
            tf.sub(tf.add(tf.sub(old.logStd!, draw.logStd), tf.div(tf.add(tf.exp(tf.mul(2, draw.logStd)), tf.square(tf.sub(draw.mean, old.g))), tf.mul(2, varK))), 0.5),
            1,
          );
          const klMean = tf.mean(kl);
          out.kl_old = klMean.dataSync()[0];
          terms.push(tf.mul(c.klWeight, klMean));
        }
        return tf.addN(terms) as tf.Scalar;
      }),
    );
    out.actor_loss = actor;
    out.entropy = -meanLogProb;

    // 3. Temperature toward the target entropy (log π := −H̃ per sample), unless α is fixed.
    if (c.alphaMode === 'auto') out.alpha_loss = this.temperature.update(meanLogProb);
    out.alpha = alpha;

    // 4. Targets and the old policy.
    this.critic.polyakUpdate(c.tau);
    this.updates++;
    if (this.updates % c.oldPolicyInterval === 0) copyPolicyWeights(this.policy, this.oldPolicy);
    tf.dispose(disposeLater);
    if (md) disposeMfiProblem(md);
    return out;
  }

  /**
   * Draws K particles per state from π_k, scores them with the critic, and builds the weighted MFI regression
   * problem: rows (s, a_t, t) with target sg(clip(a_t + (t − 1)v − t·dg/dt, ±clip)) and weights w_j.
   */
  private mirrorDescentTargets(obs: tf.Tensor, rng: Rng, out: Record<string, number>): MfiProblem {
    const c = this.config;
    const M = Math.min(c.mdStates, obs.shape[0]);
    const K = c.mdParticles;
    const N = M * K;
    const e = gaussianNoise(N, this.d, rng);
    const xi = gaussianNoise(N, this.d, rng);
    const eFlow = c.mdCoupling === 'policy' ? null : gaussianNoise(N, this.d, rng);
    const extra = c.mdParticleNoise > 0 ? gaussianNoise(N, this.d, rng) : null;
    const t = tf.tensor2d(rng.fillUniform(new Float32Array(N), 0, 1).map((x) => 1 - x), [N, 1]); // t ∈ (0, 1]
    const result = tf.tidy(() => {
      // Each of the M states repeated K times, particle-major within a state.
      const sub = tf.slice(obs, [0, 0], [M, -1]);
      const states = repeatStates(sub, K);
      const particle = this.draw(this.oldPolicy, states, e, xi);
      let u = particle.preSquash;
      if (extra) u = tf.add(u, tf.mul(c.mdParticleNoise, extra));
      const a = c.squash === 'tanh' ? tf.tanh(u) : tf.clipByValue(u, -1, 1);
      const q = tf.reshape(this.critic.minValue(normalizeObservation(this.policy, states), a), [M, K]);
      const w = advantageWeights(q, c.mdWeighting === 'exp' ? 'exp' : 'relu', c.mdTemperature, c.mdAdvantageFloor);
      // The regression target lives in u-space (before the squash), where the map g lives; the adaptive weight
      // (from the JVP's primal g, the same δ² the tape will see) multiplies the advantage weight.
      const fitted = c.mdFitTarget === 'mean' ? particle.mean : u;
      const target0 = c.squash === 'tanh' ? tf.clipByValue(fitted, -c.targetClip, c.targetClip) : fitted;
      const problem = mfiProblem(this.policy, states, target0, eFlow ?? e, t, c, tf.reshape(w, [N, 1]));
      const effective = tf.mean(tf.cast(tf.greater(w, 0), 'float32'));
      return { problem: { ...problem }, effective };
    });
    out.md_active_fraction = result.effective.dataSync()[0];
    tf.dispose([result.effective, t, e, xi, ...(eFlow ? [eFlow] : []), ...(extra ? [extra] : [])]);
    return result.problem;
  }

  setObservationNormalization(mean: Float32Array, std: Float32Array): void {
    setObservationNormalization(this.policy, mean, std);
    setObservationNormalization(this.oldPolicy, mean, std);
  }

  /** Everything but the policy's own weights (the checkpoint stores those as its policy). */
  getState(): AgentState {
    return actorCriticState(this.learnerParts(), this.updates, this.oldPolicyVariables());
  }

  setState(state: AgentState): void {
    this.updates = restoreActorCriticState(this.learnerParts(), state, this.oldPolicyVariables());
  }

  /** The old policy π_k is learner state too: resuming must not refresh it early. */
  private oldPolicyVariables(): Map<string, tf.Variable> {
    return new Map([...policyWeights(this.oldPolicy)].map(([name, v]) => [`old_actor/${name}`, v]));
  }

  private learnerParts(): ActorCriticParts {
    return { critic: this.critic, temperature: this.temperature, actorOptimizer: this.actorOptimizer, criticOptimizer: this.criticOptimizer };
  }

  dispose(): void {
    disposeActorCritic(this.learnerParts());
    for (const v of [...policyWeights(this.policy).values(), ...policyWeights(this.oldPolicy).values()]) v.dispose();
  }
}
