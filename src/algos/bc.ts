// Behaviour-cloning baselines in MeanFlowQL's harness (same trainer, replay, normalisation, schedule, export):
//  - MeanFlowBc: MeanFlowQL's network trained by the MFI loss alone (MeanFlowQL with the Q terms removed), acting
//    with one sample a = clip(g(s, e, 1)), e ~ N(0, I). It can represent several modes per state.
//  - GaussianBc: a tanh-Gaussian MLP (the SAC actor) fitted by maximum likelihood of the dataset actions,
//    L = −mean log π(a|s) with a = tanh(u), u ~ N(μ(s), σ(s)²) (the tanh change of variables included); it acts
//    with the mean tanh(μ(s)). One Gaussian per state: on multimodal data its mean falls between the modes.
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../nn/layers.ts';
import { createPolicy, gaussianHeads, policyAction, policyConfig, trainableVariables } from '../nn/policy.ts';
import { ActorOnlyAgent, adamGroup, tanhGaussianLogProbOf, tanhPreimage } from './agent.ts';
import { disposeMfiProblem, flowTimes, mfiLoss, mfiProblem } from './meanflow.ts';
import { MEANFLOWQL_DEFAULTS, type MeanFlowQlConfig, type OfflineSchedule, actorLearningRate, meanflowPolicyConfig, validateMeanFlowQlConfig } from './meanflowql.ts';
import type { Batch } from './replay.ts';
import type { Rng } from '../core/rng.ts';

/** The MeanFlowQL fields the MFI-only baseline uses (everything about the critic and α is absent). */
export type MeanFlowBcConfig = Pick<
  MeanFlowQlConfig,
  | 'actorHidden' | 'actorActivation' | 'actorLayerNorm' | 'timeFeatures' | 'actorLearningRate' | 'actorWarmupFraction'
  | 'actorFinalLearningRateRatio' | 'onlineActorLearningRate' | 'gradClipNorm' | 'timeSteps' | 'adaptiveLoss'
  | 'adaptiveGamma' | 'adaptiveC' | 'targetClip'
>;

const pickBc = ({ actorHidden, actorActivation, actorLayerNorm, timeFeatures, actorLearningRate, actorWarmupFraction, actorFinalLearningRateRatio, onlineActorLearningRate, gradClipNorm, timeSteps, adaptiveLoss, adaptiveGamma, adaptiveC, targetClip }: MeanFlowQlConfig): MeanFlowBcConfig =>
  ({ actorHidden, actorActivation, actorLayerNorm, timeFeatures, actorLearningRate, actorWarmupFraction, actorFinalLearningRateRatio, onlineActorLearningRate, gradClipNorm, timeSteps, adaptiveLoss, adaptiveGamma, adaptiveC, targetClip });

/** MeanFlow behaviour cloning's defaults (MeanFlowQL's actor settings). */
export const MEANFLOW_BC_DEFAULTS: MeanFlowBcConfig = pickBc(MEANFLOWQL_DEFAULTS);

/** Behaviour cloning of a one-step MeanFlow policy: the offline baseline without a critic. */
export class MeanFlowBc extends ActorOnlyAgent {
  readonly algorithm = 'bc' as const;

  constructor(
    observationSize: number,
    actionSize: number,
    readonly config: MeanFlowBcConfig,
    seed: number,
    schedule: OfflineSchedule = { offlineSteps: 0 },
  ) {
    validateMeanFlowQlConfig({ ...MEANFLOWQL_DEFAULTS, ...config });
    const policy = createPolicy(meanflowPolicyConfig(observationSize, actionSize, config), seed);
    super(observationSize, actionSize, policy, adamGroup(trainableVariables(policy), (step) => actorLearningRate(config, schedule.offlineSteps, step), config.gradClipNorm));
  }

  /** One sample of the generative policy, online and at evaluation alike. */
  act(observation: Float32Array, _explore: boolean, rng: Rng): Float32Array {
    const e = rng.fillNormal(new Float32Array(this.actionSize));
    return tf.tidy(() => policyAction(this.policy, tf.tensor2d(observation, [1, this.observationSize]), tf.tensor2d(e, [1, this.actionSize])).dataSync() as Float32Array);
  }

  update(batch: Batch, rng: Rng): Record<string, number> {
    const B = batch.size;
    const obs = tf.tensor2d(batch.observation, [B, this.observationSize]);
    const act = tf.tensor2d(batch.action, [B, this.actionSize]);
    const e = tf.tensor2d(rng.fillNormal(new Float32Array(B * this.actionSize)), [B, this.actionSize]);
    const t = flowTimes(B, this.config.timeSteps, rng);
    const problem = mfiProblem(this.policy, obs, act, e, t, this.config);
    let meanError = 0;
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
      const { loss, meanError: err } = mfiLoss(this.policy, problem);
      meanError = err.dataSync()[0];
      return loss;
    }), trainableVariables(this.policy));
    const step = this.optimizer.apply(grads);
    const out = { actor_loss: value.dataSync()[0], mfi_loss: value.dataSync()[0], mfi_error: meanError, actor_lr: step.learningRate, actor_grad_norm: step.gradNorm };
    tf.dispose([value, ...Object.values(grads), obs, act, e, t]);
    disposeMfiProblem(problem);
    this.updates++;
    return out;
  }
}

/** Gaussian behaviour cloning's hyper-parameters. */
export interface GaussianBcConfig {
  hidden: number[];
  activation: Activation;
  layerNorm: boolean;
  learningRate: number;
  gradClipNorm: number;
  logStdMin: number;
  logStdMax: number;
  /** Dataset actions are pulled inside ±(1 − margin) before atanh (FQL clips dataset actions the same way). */
  actionMargin: number;
}

/** The same MLP as MeanFlowQL's actor (widths, ReLU + LayerNorm), with a tanh-Gaussian head. */
export const GAUSSIAN_BC_DEFAULTS: GaussianBcConfig = {
  hidden: [512, 512, 512, 512],
  activation: 'relu',
  layerNorm: true,
  learningRate: 3e-4,
  gradClipNorm: 1,
  logStdMin: -5,
  logStdMax: 2,
  actionMargin: 1e-5,
};

/** Behaviour cloning of a tanh-Gaussian policy by maximum likelihood: the unimodal baseline. */
export class GaussianBc extends ActorOnlyAgent {
  readonly algorithm = 'gaussian-bc' as const;
  private readonly noise: Float32Array;

  constructor(
    observationSize: number,
    actionSize: number,
    readonly config: GaussianBcConfig,
    seed: number,
  ) {
    if (!(config.actionMargin > 0 && config.actionMargin < 1)) throw new Error(`Gaussian BC actionMargin must be in (0, 1) (got ${config.actionMargin})`);
    const policy = createPolicy(
      policyConfig({ kind: 'gaussian', observationSize, actionSize, hiddenSizes: config.hidden, activation: config.activation, layerNorm: config.layerNorm, logStdHead: { min: config.logStdMin, max: config.logStdMax, bound: 'tanh' }, squash: 'tanh' }),
      seed,
    );
    super(observationSize, actionSize, policy, adamGroup(trainableVariables(policy), config.learningRate, config.gradClipNorm));
    this.noise = new Float32Array(actionSize);
  }

  /** The mean action tanh(μ(s)) at evaluation; a sample when exploring online. */
  act(observation: Float32Array, explore: boolean, rng: Rng): Float32Array {
    if (explore) rng.fillNormal(this.noise);
    else this.noise.fill(0);
    return tf.tidy(() => policyAction(this.policy, tf.tensor2d(observation, [1, this.observationSize]), tf.tensor2d(this.noise, [1, this.actionSize])).dataSync() as Float32Array);
  }

  update(batch: Batch, _rng: Rng): Record<string, number> {
    const B = batch.size;
    const obs = tf.tensor2d(batch.observation, [B, this.observationSize]);
    const raw = tf.tensor2d(batch.action, [B, this.actionSize]);
    const { action: act, u } = tanhPreimage(raw, this.config.actionMargin);
    let entropy = 0;
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
      const { mean, logStd } = gaussianHeads(this.policy, obs);
      entropy = tf.mean(tf.sum(logStd, 1)).dataSync()[0];
      return tf.neg(tf.mean(tanhGaussianLogProbOf(mean, logStd, u, act))) as tf.Scalar;
    }), trainableVariables(this.policy));
    const step = this.optimizer.apply(grads);
    const out = { actor_loss: value.dataSync()[0], mean_log_std: entropy / this.actionSize, actor_grad_norm: step.gradNorm };
    tf.dispose([value, ...Object.values(grads), obs, raw, act, u]);
    this.updates++;
    return out;
  }
}
