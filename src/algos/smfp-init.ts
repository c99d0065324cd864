// SMFP fine-tuning from an offline checkpoint (MeanFlowQL or MeanFlow BC): the one-step policy's MeanFlow map
// g(s, e, 1) and its observation statistics carry over unchanged; the σ head, which the offline policy lacks,
// starts state-independent and small, so the first online actions are the offline policy's plus a little noise;
// the critics carry over too when the checkpoint stores them in SMFP's shape (MeanFlowQL does), else start fresh.
import * as tf from '@tensorflow/tfjs-core';
import type { Checkpoint } from '../nn/checkpoint.ts';
import { copyPolicyWeights, policyWeights } from '../nn/policy.ts';
import { restoreVariables } from './agent.ts';
import type { Smfp } from './smfp.ts';

/** σ of the fresh head in the normalised action space [-1, 1]. */
export const INITIAL_POLICY_STD = 0.1;

/** The head's raw output ℓ whose bounded log σ equals log(std) (inverting the clip or tanh bound). */
function rawLogStd(std: number, bound: { min: number; max: number; bound: 'clip' | 'tanh' }): number {
  const target = Math.min(Math.max(Math.log(std), bound.min + 1e-6), bound.max - 1e-6);
  return bound.bound === 'clip' ? target : Math.atanh((2 * (target - bound.min)) / (bound.max - bound.min) - 1);
}

/** Loads `ckpt` into `agent` (before training); returns what carried over, for the log. Throws when shapes differ. */
export function initSmfpFromOffline(agent: Smfp, ckpt: Checkpoint, initialStd = INITIAL_POLICY_STD): string[] {
  const source = ckpt.policy.config;
  if (source.kind !== 'meanflow' || source.logStdHead) throw new Error(`a ${ckpt.info.algorithm} checkpoint has no plain MeanFlow map (need meanflowql or bc)`);
  const target = policyWeights(agent.policy);
  for (const [name, v] of policyWeights(ckpt.policy)) {
    const dst = target.get(name);
    if (!dst || dst.shape.join() !== v.shape.join()) {
      throw new Error(`policy weight ${name} [${v.shape.join(', ')}] has no counterpart of that shape in SMFP's policy (its actor must have the checkpoint's widths, activation, LayerNorm and time features)`);
    }
    dst.assign(v);
  }
  const head = agent.policy.logStdHead!;
  const bound = agent.policy.config.logStdHead!;
  tf.tidy(() => {
    head.kernel.assign(tf.zerosLike(head.kernel));
    head.bias.assign(tf.fill(head.bias.shape, rawLogStd(initialStd, bound)));
  });
  copyPolicyWeights(agent.policy, agent.oldPolicy);
  const carried = ['MeanFlow map', 'observation statistics', `σ head at ${initialStd}`];
  const critic = agent.critic.weights();
  const fits = [...critic].every(([name, v]) => ckpt.tensors.get(`critic/${name}`)?.data.length === v.size);
  if (fits) {
    restoreVariables(ckpt.tensors, critic, 'critic/');
    carried.push('critics and their targets');
  } else {
    carried.push('fresh critics (the checkpoint stores none of this shape)');
  }
  return carried;
}
