// MeanFlowQL — "One-Step Generative Policies with Q-Learning: A Reformulation of MeanFlow" (AAAI 2026,
// arXiv 2511.13035), as documented in docs/algorithms/meanflowql.md. One network g_θ(s, a_t, t) is the residual
// MeanFlow map (b = 0); the action is one forward pass a = clip(g(s, e, 1), −1, 1), e ~ N(0, I). It is trained in one
// stage: an MFI behaviour-cloning loss (the exact MeanFlow target, through a forward-mode JVP) plus −Q.
//
// Actor: an MLP (not the reference's one-token DiT; docs/algorithms/meanflowql.md explains why an MLP with a
// zero-initialised output is a valid substitute). Critic: two heads with Polyak targets. One update, in the order it runs:
//   1. backup   a' = best of N candidates clip(g(s', e_n, 1)) under the mean target critic
//               y  = r + γ·mask·agg_k Q̄_k(s', a')
//   2. MFI      t ~ grid/U(0,1), e ~ N(0, I), a_t = (1 − t)a + t·e, v = e − a
//               g_tgt = clip(sg(a_t + (t − 1)v − t·dg/dt), ±5),  L_MFI = mean(sg(w)·δ²)   (src/algos/meanflow.ts)
//   3. critic   L_Q = Σ_k mean (Q_k(s, a) − y)²
//   4. actor    â = g(s, e, 1);  L_actor = −mean_k Q_k(s, clip(â)) + L_bound(â) + α·L_MFI
//   5. both gradients are taken at the same parameters, then each group takes its own clipped Adam step
//   6. Polyak τ on the target critic; every 2000 updates the dynamic-α controller may rescale α.
// Acting (online and evaluation) is best-of-N under the target critic too. The ONNX export is the single-sample
// policy (docs/algorithms/meanflowql.md "Export").
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../nn/layers.ts';
import type { Adam } from '../nn/optim.ts';
import {
  type PolicyNetwork,
  type TimeFeaturesConfig,
  createPolicy,
  meanflowMap,
  normalizeObservation,
  policyConfig,
  policyWeights,
  setObservationNormalization,
  trainableVariables,
} from '../nn/policy.ts';
import { type Agent, type AgentState, adamGroup, batchTensors, bestCandidates, collectVariables, gaussianNoise, optimizerTensors, repeatStates, restoreOptimizer, restoreVariables } from './agent.ts';
import { type CriticConfig, type QAggregation, Q_AGGREGATIONS, TwinCritic, aggregateHeads } from './critic.ts';
import { boundLoss, disposeMfiProblem, flowTimes, mfiLoss, mfiProblem } from './meanflow.ts';
import type { Batch } from './replay.ts';
import type { Rng } from '../core/rng.ts';

/** How an action is chosen from N noise draws: the best under the target critic, their mean, or one sample. */
export type ActionSelection = 'best' | 'mean' | 'single';
const ACTION_SELECTIONS: readonly ActionSelection[] = ['best', 'mean', 'single'];

/** MeanFlowQL's hyper-parameters (defaults: MEANFLOWQL_DEFAULTS). */
export interface MeanFlowQlConfig {
  gamma: number;
  tau: number;
  actorHidden: number[];
  actorActivation: Activation;
  actorLayerNorm: boolean;
  timeFeatures: TimeFeaturesConfig;
  critic: CriticConfig;
  /** Actor: linear warm-up over this fraction of the offline updates, then cosine to lr·finalRatio at their end. */
  actorLearningRate: number;
  actorWarmupFraction: number;
  actorFinalLearningRateRatio: number;
  /** Constant actor learning rate during online fine-tuning; null = actorLearningRate·actorFinalLearningRateRatio. */
  onlineActorLearningRate: number | null;
  criticLearningRate: number;
  /** Global-norm gradient clip, per parameter group. */
  gradClipNorm: number;
  /** α: the weight of the MFI (behaviour) term; it must match the scale of Q (the reference tunes it per task). */
  alpha: number;
  /** Dynamic α: every alphaInterval updates after the warm-up, compare L_MFI with the mean of the last alphaWindow records. */
  dynamicAlpha: boolean;
  alphaInterval: number;
  alphaWindow: number;
  /** Above threshold × mean: α ← min(α·increase, α₀·maxRatio); below mean / threshold: α ← max(α·decrease, α₀·minRatio). */
  alphaThreshold: number;
  alphaIncrease: number;
  alphaDecrease: number;
  alphaMinRatio: number;
  alphaMaxRatio: number;
  /** The controller waits for this fraction of the offline updates. */
  alphaWarmupFraction: number;
  /** Flow-time sampler: the grid {1/T, …, 1} when T ≤ 1000, else continuous U(0, 1). */
  timeSteps: number;
  adaptiveLoss: boolean;
  adaptiveGamma: number;
  adaptiveC: number;
  targetClip: number;
  boundLossWeight: number;
  /** N: candidates per state for best-of-N (acting and backup). */
  numCandidates: number;
  /** How the chosen next action is scored in the backup: by both target heads' mean (reference), min or max. */
  qAggregation: QAggregation;
  /** The backup's next action: best-of-N (reference, optimistic) or one sample (FQL). */
  backupSelection: 'best' | 'single';
  /** The action taken online and at evaluation. */
  actionSelection: ActionSelection;
  /** Scale the −Q term by sg(1 / mean|Q|) (FQL's advice for new environments; off in the reference). */
  normalizeQLoss: boolean;
}

/**
 * The reference's defaults (HiccupRL/MeanFlowQL get_config), with two substitutions: an MLP actor (LayerNorm in
 * each block standing in for the DiT's RMSNorm) in place of the one-token DiT, and ReLU in place of GELU in actor
 * and critic — GELU runs as ~10 element-wise TF.js ops and made the update ~6× slower on CPU (set
 * actorActivation / critic.activation to gelu_tanh for the reference's activation).
 */
export const MEANFLOWQL_DEFAULTS: MeanFlowQlConfig = {
  gamma: 0.99,
  tau: 0.005,
  actorHidden: [512, 512, 512, 512],
  actorActivation: 'relu',
  actorLayerNorm: true,
  timeFeatures: { kind: 'sinusoidal', count: 8, maxPeriod: 100 },
  critic: { hiddenSizes: [512, 512, 512, 512], activation: 'relu', layerNorm: true },
  actorLearningRate: 1e-4,
  actorWarmupFraction: 0.05,
  actorFinalLearningRateRatio: 0.1,
  onlineActorLearningRate: null,
  criticLearningRate: 3e-4,
  gradClipNorm: 1,
  alpha: 10,
  dynamicAlpha: true,
  alphaInterval: 2000,
  alphaWindow: 20,
  alphaThreshold: 5,
  alphaIncrease: 1.2,
  alphaDecrease: 0.8,
  alphaMinRatio: 0.1,
  alphaMaxRatio: 10,
  alphaWarmupFraction: 0.1,
  timeSteps: 10_000,
  adaptiveLoss: true,
  adaptiveGamma: 0.8,
  adaptiveC: 1e-4,
  targetClip: 5,
  boundLossWeight: 1,
  numCandidates: 5,
  qAggregation: 'mean',
  backupSelection: 'best',
  actionSelection: 'best',
  normalizeQLoss: false,
};

/** What the agent must know about the run: the offline updates that the actor schedule and the α warm-up span. */
export interface OfflineSchedule {
  offlineSteps: number;
}

/** A MeanFlowQL hyper-parameter out of range; the message names it. */
export class MeanFlowQlConfigError extends Error {
  override name = 'MeanFlowQlConfigError';
}

/** The learning-rate schedule's fields, shared with the MeanFlow BC baseline (the same actor, the same schedule). */
export type ActorScheduleConfig = Pick<MeanFlowQlConfig, 'actorLearningRate' | 'actorWarmupFraction' | 'actorFinalLearningRateRatio' | 'onlineActorLearningRate'>;

/**
 * The actor's learning rate at 1-based update `step`: linear warm-up to lr over the first warmupFraction of the
 * offline updates, cosine decay to lr·finalRatio at their end, then constant (onlineActorLearningRate) online.
 */
export function actorLearningRate(c: ActorScheduleConfig, offlineSteps: number, step: number): number {
  const floor = c.actorLearningRate * c.actorFinalLearningRateRatio;
  if (step > offlineSteps) return c.onlineActorLearningRate ?? floor;
  const warm = Math.max(1, Math.round(c.actorWarmupFraction * offlineSteps));
  if (step <= warm) return (c.actorLearningRate * step) / warm;
  const progress = (step - warm) / Math.max(1, offlineSteps - warm);
  return floor + (c.actorLearningRate - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** Rejects a wrong choice or an out-of-range number, naming the field. */
export function validateMeanFlowQlConfig(c: MeanFlowQlConfig): MeanFlowQlConfig {
  const fail = (field: keyof MeanFlowQlConfig, want: string): never => {
    throw new MeanFlowQlConfigError(`MeanFlowQL ${field} must be ${want} (got ${JSON.stringify(c[field])})`);
  };
  if (!Q_AGGREGATIONS.includes(c.qAggregation)) fail('qAggregation', `one of ${Q_AGGREGATIONS.join(', ')}`);
  if (!ACTION_SELECTIONS.includes(c.actionSelection)) fail('actionSelection', `one of ${ACTION_SELECTIONS.join(', ')}`);
  if (c.backupSelection !== 'best' && c.backupSelection !== 'single') fail('backupSelection', 'best or single');
  for (const f of ['numCandidates', 'alphaInterval', 'alphaWindow', 'timeSteps'] as const) if (!Number.isInteger(c[f]) || c[f] < 1) fail(f, 'an integer >= 1');
  for (const f of ['gamma', 'tau', 'actorWarmupFraction', 'alphaWarmupFraction', 'adaptiveGamma', 'actorFinalLearningRateRatio'] as const) if (!(c[f] >= 0 && c[f] <= 1)) fail(f, 'in [0, 1]');
  for (const f of ['actorLearningRate', 'criticLearningRate', 'gradClipNorm', 'alpha', 'alphaThreshold', 'alphaIncrease', 'alphaDecrease', 'alphaMinRatio', 'alphaMaxRatio', 'adaptiveC', 'targetClip'] as const) {
    if (!(c[f] > 0)) fail(f, '> 0');
  }
  if (!(c.boundLossWeight >= 0)) fail('boundLossWeight', '>= 0');
  if (c.onlineActorLearningRate !== null && !(c.onlineActorLearningRate >= 0)) fail('onlineActorLearningRate', 'null or >= 0');
  if (!(c.alphaMinRatio <= 1 && c.alphaMaxRatio >= 1)) fail('alphaMinRatio', '<= 1 with alphaMaxRatio >= 1');
  return c;
}

/** The MeanFlow policy network of MeanFlowQL and the BC baseline: no σ head, clipped output, zero-initialised g. */
export function meanflowPolicyConfig(observationSize: number, actionSize: number, c: Pick<MeanFlowQlConfig, 'actorHidden' | 'actorActivation' | 'actorLayerNorm' | 'timeFeatures'>) {
  return policyConfig({
    kind: 'meanflow',
    observationSize,
    actionSize,
    hiddenSizes: c.actorHidden,
    activation: c.actorActivation,
    layerNorm: c.actorLayerNorm,
    timeFeatures: c.timeFeatures,
    logStdHead: null,
    squash: 'clip',
  });
}

/**
 * MeanFlowQL: a one-step MeanFlow policy trained offline (and then online) with a Q-learning objective and best-of-N
 * action selection under the critic.
 */
export class MeanFlowQl implements Agent {
  readonly algorithm = 'meanflowql' as const;
  readonly policy: PolicyNetwork;
  readonly critic: TwinCritic;
  private readonly actorOptimizer: Adam;
  private readonly criticOptimizer: Adam;
  private updates = 0;
  /** α now, and the L_MFI values the dynamic controller recorded (newest last). */
  private alpha: number;
  private alphaHistory: number[] = [];

  constructor(
    readonly observationSize: number,
    readonly actionSize: number,
    readonly config: MeanFlowQlConfig,
    seed: number,
    readonly schedule: OfflineSchedule = { offlineSteps: 0 },
  ) {
    validateMeanFlowQlConfig(config);
    this.policy = createPolicy(meanflowPolicyConfig(observationSize, actionSize, config), seed);
    this.critic = new TwinCritic(observationSize, actionSize, config.critic, seed + 10_000);
    this.actorOptimizer = adamGroup(trainableVariables(this.policy), (step) => actorLearningRate(config, schedule.offlineSteps, step), config.gradClipNorm);
    this.criticOptimizer = adamGroup(this.critic.variables(), config.criticLearningRate, config.gradClipNorm);
    this.alpha = config.alpha;
  }

  /** Online and evaluation acting are the same: `actionSelection` over fresh noise (no extra exploration noise). */
  act(observation: Float32Array, _explore: boolean, rng: Rng): Float32Array {
    const n = this.config.actionSelection === 'single' ? 1 : this.config.numCandidates;
    const noise = rng.fillNormal(new Float32Array(n * this.actionSize));
    return tf.tidy(() => {
      const obs = tf.tensor2d(observation, [1, this.observationSize]);
      return this.selectAction(obs, tf.tensor2d(noise, [n, this.actionSize]), this.config.actionSelection).dataSync() as Float32Array;
    });
  }

  /**
   * One action per state from `noise` [B·N, d] (N draws per state, state-major): `single` uses the first draw
   * (N = 1), `mean` averages the N clipped candidates, `best` takes the candidate with the highest mean target-
   * critic value (explicit axes: the reference's axis heuristic misfires when B = 2).
   */
  selectAction(observation: tf.Tensor, noise: tf.Tensor, how: ActionSelection): tf.Tensor {
    return tf.tidy(() => this.select(observation, noise, how).action);
  }

  /** selectAction plus, for `best`, both target heads at the chosen candidates (the backup reuses them). */
  private select(observation: tf.Tensor, noise: tf.Tensor, how: ActionSelection): { action: tf.Tensor; heads: [tf.Tensor, tf.Tensor] | null } {
    const B = observation.shape[0];
    const N = noise.shape[0] / B;
    if (!Number.isInteger(N) || N < 1) throw new MeanFlowQlConfigError(`selectAction: noise rows ${noise.shape[0]} must be a multiple of the ${B} states`);
    const states = repeatStates(observation, N);
    const candidates = tf.clipByValue(meanflowMap(this.policy, states, noise, 1), -1, 1);
    if (how === 'single') return { action: N === 1 ? candidates : tf.gather(candidates, tf.range(0, B * N, N, 'int32')), heads: null };
    if (how === 'mean') return { action: tf.mean(tf.reshape(candidates, [B, N, -1]), 1), heads: null };
    const [q1, q2] = this.critic.targetValues(normalizeObservation(this.policy, states), candidates);
    const rows = bestCandidates(aggregateHeads([q1, q2], 'mean'), N);
    return { action: tf.gather(candidates, rows), heads: [tf.gather(q1, rows), tf.gather(q2, rows)] };
  }

  update(batch: Batch, rng: Rng): Record<string, number> {
    const c = this.config;
    const B = batch.size;
    const [obs, act, rew, nextObs, mask] = batchTensors(batch, this.observationSize, this.actionSize);
    const backupDraws = c.backupSelection === 'best' ? c.numCandidates : 1;
    const eNext = gaussianNoise(B * backupDraws, this.actionSize, rng);
    const eFlow = gaussianNoise(B, this.actionSize, rng);
    const t = flowTimes(B, c.timeSteps, rng);
    const eActor = gaussianNoise(B, this.actionSize, rng);
    const obsNorm = normalizeObservation(this.policy, obs);

    // 1. Backup (no gradient): y = r + γ·mask·agg_k Q̄_k(s', a'), a' = best of N under the mean target critic.
    const target = tf.tidy(() => {
      const next = this.select(nextObs, eNext, c.backupSelection);
      const heads = next.heads ?? this.critic.targetValues(normalizeObservation(this.policy, nextObs), next.action);
      return tf.add(rew, tf.mul(c.gamma, tf.mul(mask, aggregateHeads(heads, c.qAggregation))));
    });

    // 2. MFI problem (no gradient): the exact JVP target and the adaptive weights at (s, a_t, t).
    const problem = mfiProblem(this.policy, obs, act, eFlow, t, c);

    // 3. Critic loss gradient.
    const critic = tf.variableGrads(() => tf.tidy(() => {
      const [q1, q2] = this.critic.values(obsNorm, act);
      return tf.add(tf.mean(tf.squaredDifference(q1, target)), tf.mean(tf.squaredDifference(q2, target))) as tf.Scalar;
    }), this.critic.variables());

    // 4. Actor loss gradient at the same critic parameters (the reference takes one joint step): −Q + bound + α·MFI.
    const diag = { q: 0, bound: 0, mfi: 0, mfiError: 0 };
    const actor = tf.variableGrads(() => tf.tidy(() => {
      const g = meanflowMap(this.policy, obs, eActor, 1);
      const q = aggregateHeads(this.critic.values(obsNorm, tf.clipByValue(g, -1, 1)), 'mean');
      let qLoss = tf.neg(tf.mean(q));
      if (c.normalizeQLoss) qLoss = tf.div(qLoss, tf.maximum(tf.mean(tf.abs(q)), 1e-6).dataSync()[0]);
      const bound = boundLoss(g);
      const { loss: mfi, meanError } = mfiLoss(this.policy, problem);
      diag.q = tf.mean(q).dataSync()[0];
      diag.bound = bound.dataSync()[0];
      diag.mfi = mfi.dataSync()[0];
      diag.mfiError = meanError.dataSync()[0];
      return tf.addN([qLoss, tf.mul(c.boundLossWeight, bound), tf.mul(this.alpha, mfi)]) as tf.Scalar;
    }), trainableVariables(this.policy));

    // 5. One clipped Adam step per group.
    const criticStep = this.criticOptimizer.apply(critic.grads);
    const actorStep = this.actorOptimizer.apply(actor.grads);
    const out: Record<string, number> = {
      critic_loss: critic.value.dataSync()[0],
      actor_loss: actor.value.dataSync()[0],
      q_mean: diag.q,
      bound_loss: diag.bound,
      mfi_loss: diag.mfi,
      mfi_error: diag.mfiError,
      alpha: this.alpha,
      actor_lr: actorStep.learningRate,
      actor_grad_norm: actorStep.gradNorm,
      critic_grad_norm: criticStep.gradNorm,
    };
    tf.dispose([critic.value, actor.value, ...Object.values(critic.grads), ...Object.values(actor.grads)]);

    // 6. Target critic, then the α controller on this update's L_MFI.
    this.critic.polyakUpdate(c.tau);
    this.updates++;
    this.adaptAlpha(diag.mfi);
    disposeMfiProblem(problem);
    tf.dispose([obs, act, rew, nextObs, mask, eNext, eFlow, t, eActor, obsNorm, target]);
    return out;
  }

  /**
   * Every alphaInterval updates (after the warm-up): L_MFI above threshold × the mean of the recorded values means
   * the policy drifts from the data, so α grows; far below it, α shrinks. Then L_MFI joins the record (window).
   */
  private adaptAlpha(mfi: number): void {
    const c = this.config;
    if (!c.dynamicAlpha || this.updates % c.alphaInterval !== 0) return;
    if (this.updates < c.alphaWarmupFraction * this.schedule.offlineSteps) return;
    const h = this.alphaHistory;
    if (h.length > 0) {
      const mean = h.reduce((a, b) => a + b, 0) / h.length;
      if (mfi > c.alphaThreshold * mean) this.alpha = Math.min(this.alpha * c.alphaIncrease, c.alpha * c.alphaMaxRatio);
      else if (mfi < mean / c.alphaThreshold) this.alpha = Math.max(this.alpha * c.alphaDecrease, c.alpha * c.alphaMinRatio);
    }
    h.push(mfi);
    if (h.length > c.alphaWindow) h.shift();
  }

  setObservationNormalization(mean: Float32Array, std: Float32Array): void {
    setObservationNormalization(this.policy, mean, std);
  }

  getState(): AgentState {
    const tensors = new Map();
    const optimizer = new Map();
    collectVariables(tensors, this.critic.weights(), 'critic/');
    const json = {
      updates: this.updates,
      alpha: this.alpha,
      alphaHistory: [...this.alphaHistory],
      actorAdamStep: optimizerTensors('actor_adam', this.actorOptimizer, optimizer),
      criticAdamStep: optimizerTensors('critic_adam', this.criticOptimizer, optimizer),
      critic: this.config.critic,
    };
    return { tensors, optimizer, json };
  }

  setState(state: AgentState): void {
    restoreVariables(state.tensors, this.critic.weights(), 'critic/');
    const j = state.json as { updates: number; alpha: number; alphaHistory: number[]; actorAdamStep: number; criticAdamStep: number };
    restoreOptimizer('actor_adam', this.actorOptimizer, state.optimizer, j.actorAdamStep);
    restoreOptimizer('critic_adam', this.criticOptimizer, state.optimizer, j.criticAdamStep);
    this.updates = j.updates;
    this.alpha = j.alpha;
    this.alphaHistory = [...j.alphaHistory];
  }

  dispose(): void {
    this.critic.dispose();
    this.actorOptimizer.dispose();
    this.criticOptimizer.dispose();
    for (const v of policyWeights(this.policy).values()) v.dispose();
  }
}
