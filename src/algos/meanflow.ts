// The MeanFlow pieces SMFP and MeanFlowQL share (docs/algorithms/meanflowql.md §2): the conditional path, the
// exact stop-gradient target of the residual map g (through the forward-mode JVP of src/nn/jvp.ts), the adaptive
// loss weight, the MFI regression loss itself and the bound loss that gives clipped actions a gradient.
//
// Convention (MeanFlow, MeanFlowQL): data at t = 0, noise at t = 1, b fixed at 0.
//   a_t = (1 − t)·a + t·e,   v = e − a,   dg/dt = (∂g/∂a_t)·v + ∂g/∂t
//   g_tgt = clip(sg(a_t + (t − 1)·v − t·dg/dt), ±targetClip)
//   δ²_i = mean over action dims of (g − g_tgt)²,   w_i = sg(clip(1/(δ²_i + c)^(1 − γ_a), 1e−6, 1e6))
//   L_MFI = mean_i(w_i·δ²_i)   (≈ mean δ^(2γ_a): a robust power of the error)
import * as tf from '@tensorflow/tfjs-core';
import { meanflowJvp } from '../nn/jvp.ts';
import { meanflowMap, type PolicyNetwork } from '../nn/policy.ts';
import type { Rng } from '../core/rng.ts';

/** How the MFI loss is weighted and its target clipped (MeanFlowQL's defaults: adaptive, γ_a 0.8, c 1e−4, clip 5). */
export interface MfiLossConfig {
  /** Adaptive weight 1/(δ² + c)^(1 − γ_a); false = plain squared error. */
  adaptiveLoss: boolean;
  adaptiveGamma: number;
  adaptiveC: number;
  /** Clip of the stop-gradient target. */
  targetClip: number;
}

/** The point a_t = (1 − t)·a + t·e on the straight path from the action a (t = 0) to the noise e (t = 1), and v = e − a. */
export function conditionalPath(action: tf.Tensor, noise: tf.Tensor, t: tf.Tensor): { actionT: tf.Tensor; velocity: tf.Tensor } {
  const [actionT, velocity] = tf.tidy(() => [tf.add(tf.mul(tf.sub(1, t), action), tf.mul(t, noise)), tf.sub(noise, action)]);
  return { actionT, velocity };
}

/**
 * The MeanFlow identity's target for the residual map at (s, a_t, t), no gradient: g_tgt = clip(a_t + (t − 1)v −
 * t·dg/dt). Also returns the primal g of the same JVP pass (equal to the forward pass), for the adaptive weight.
 */
export function meanflowTarget(policy: PolicyNetwork, observation: tf.Tensor, actionT: tf.Tensor, t: tf.Tensor, velocity: tf.Tensor, targetClip: number): { g: tf.Tensor; target: tf.Tensor } {
  const [g, target] = tf.tidy(() => {
    const { value: g, tangent: dgdt } = meanflowJvp(policy, observation, actionT, t, velocity);
    const raw = tf.sub(tf.add(actionT, tf.mul(tf.sub(t, 1), velocity)), tf.mul(t, dgdt));
    return [g, tf.clipByValue(raw, -targetClip, targetClip)];
  });
  return { g, target };
}

/** Per-sample squared error averaged over action dimensions, [B, 1]. */
export function perSampleError(g: tf.Tensor, target: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(g, target)), 1, true));
}

/** sg(clip(1/(δ² + c)^(1 − γ_a), 1e−6, 1e6)) for δ² of shape [B, 1] (a constant: no gradient flows through it). */
export function adaptiveWeight(error: tf.Tensor, gamma: number, c: number): tf.Tensor {
  return tf.tidy(() => tf.clipByValue(tf.exp(tf.mul(-(1 - gamma), tf.log(tf.add(error, c)))), 1e-6, 1e6));
}

/**
 * A MeanFlow regression problem built without gradient: rows (s, a_t, t), their targets and per-row weights.
 * (A type alias, not an interface, so tf.tidy accepts it as a tensor container.)
 */
export type MfiProblem = {
  readonly observation: tf.Tensor;
  readonly actionT: tf.Tensor;
  readonly t: tf.Tensor;
  readonly target: tf.Tensor;
  /** [B, 1]: the adaptive weight times any sample weight (all ones when neither applies). */
  readonly weight: tf.Tensor;
};

/**
 * The MFI problem for pulling g toward the end points `action0` (dataset actions for behaviour cloning, weighted
 * particles for SMFP's mirror-descent step) from `noise` at times `t` ([B, 1]). `sampleWeight` ([B, 1]) multiplies
 * the adaptive weight. The returned tensors are owned by the caller (dispose with disposeMfiProblem).
 */
export function mfiProblem(policy: PolicyNetwork, observation: tf.Tensor, action0: tf.Tensor, noise: tf.Tensor, t: tf.Tensor, config: MfiLossConfig, sampleWeight?: tf.Tensor): MfiProblem {
  const [actionT, target, weight] = tf.tidy(() => {
    const { actionT, velocity } = conditionalPath(action0, noise, t);
    const { g, target } = meanflowTarget(policy, observation, actionT, t, velocity, config.targetClip);
    let weight = sampleWeight ? sampleWeight.clone() : tf.onesLike(tf.slice(g, [0, 0], [-1, 1]));
    if (config.adaptiveLoss) weight = tf.mul(weight, adaptiveWeight(perSampleError(g, target), config.adaptiveGamma, config.adaptiveC));
    return [actionT, target, weight];
  });
  return { observation: observation.clone(), actionT, t: t.clone(), target, weight };
}

export function disposeMfiProblem(p: MfiProblem): void {
  tf.dispose([p.observation, p.actionT, p.t, p.target, p.weight]);
}

/**
 * L = mean_i(w_i·δ²_i) with the gradient through g_θ(s, a_t, t) only (call it inside the optimiser's loss).
 * `meanError` is the unweighted mean δ² (for the log).
 */
export function mfiLoss(policy: PolicyNetwork, p: MfiProblem): { loss: tf.Scalar; meanError: tf.Scalar } {
  const [loss, meanError] = tf.tidy(() => {
    const error = perSampleError(meanflowMap(policy, p.observation, p.actionT, p.t), p.target);
    return [tf.mean(tf.mul(p.weight, error)) as tf.Scalar, tf.mean(error) as tf.Scalar];
  });
  return { loss, meanError };
}

/** mean(relu(u − 1)) + mean(relu(−1 − u)): a gradient back into [−1, 1] for outputs the clip would cut off. */
export function boundLoss(preSquash: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.add(tf.mean(tf.relu(tf.sub(preSquash, 1))), tf.mean(tf.relu(tf.sub(-1, preSquash)))) as tf.Scalar);
}

/**
 * Flow times for a batch, [n, 1]: uniform on the grid {1/T, 2/T, …, 1} when T ≤ 1000, else t ~ U(0, 1)
 * (MeanFlowQL's sampler; its default T = 10000 means continuous time).
 */
export function flowTimes(n: number, timeSteps: number, rng: Rng): tf.Tensor2D {
  const t = new Float32Array(n);
  if (timeSteps <= 1000) for (let i = 0; i < n; i++) t[i] = (1 + rng.int(timeSteps)) / timeSteps;
  else rng.fillUniform(t, 0, 1);
  return tf.tensor2d(t, [n, 1]);
}
