// Online fine-tuning from an offline checkpoint (`onestep train --init`): which offline policy each online
// algorithm can start from, the hyper-parameters that must follow the checkpoint for its weights to fit, and the
// loading itself. In both cases the observation statistics go with the network they were trained for.
//  - SMFP from MeanFlowQL or MeanFlow BC: the one-step MeanFlow map g(s, e, 1) carries over unchanged; the σ head,
//    which the offline policy lacks, starts state-independent and small, so the first online actions are the
//    offline policy's plus a little noise; the critics carry over when the checkpoint stores them in SMFP's shape
//    (MeanFlowQL does), else start fresh.
//  - SAC from Gaussian BC: the tanh-Gaussian actor (trunk, mean and log-σ heads) carries over whole — the same
//    network kind, so SAC's first sampled actions are the BC policy's; critics start fresh (BC has none) and the
//    temperature at SAC's configured initial α (docs/algorithms/meanflowql.md, "SAC from a Gaussian BC checkpoint").
//    A BC term in the actor loss (--set bcWeight) is left to the run: it helps on unimodal data, hurts on multimodal.
import * as tf from '@tensorflow/tfjs-core';
import type { Checkpoint } from '../nn/checkpoint.ts';
import { copyPolicyWeights, policyWeights, type PolicyConfig, type PolicyNetwork } from '../nn/policy.ts';
import { restoreVariables } from './agent.ts';
import type { Sac } from './sac.ts';
import type { Smfp } from './smfp.ts';

/** σ of SMFP's fresh head in the normalised action space [-1, 1]. */
export const INITIAL_POLICY_STD = 0.1;

/** The online algorithms that start from an offline checkpoint, and the offline algorithms each accepts. */
export const INIT_SOURCES = { smfp: ['meanflowql', 'bc'], sac: ['gaussian-bc'] } as const;
export type InitAlgo = keyof typeof INIT_SOURCES;

/** Why `ckpt` cannot start `algo`, or null when its policy is of the kind `algo` fine-tunes. */
function sourceMismatch(algo: InitAlgo, ckpt: Checkpoint): string | null {
  const c = ckpt.policy.config;
  const fits = algo === 'smfp' ? c.kind === 'meanflow' && !c.logStdHead : c.kind === 'gaussian' && c.squash === 'tanh';
  if (fits) return null;
  const what = algo === 'smfp' ? 'no plain MeanFlow map to start SMFP from' : 'no tanh-Gaussian actor to start SAC from';
  return `a ${ckpt.info.algorithm} checkpoint has ${what} (use a ${INIT_SOURCES[algo].join(' or ')} checkpoint)`;
}

/**
 * The hyper-parameters of `algo` that must follow `ckpt` for its weights to carry over: the actor's widths,
 * activation and LayerNorm (and SMFP's time features, clip squash and stored critic shape; SAC's log-σ bounds).
 * Throws when the checkpoint's policy is not one `algo` starts from.
 */
export function initHyperFrom(algo: InitAlgo, ckpt: Checkpoint): Record<string, unknown> {
  const mismatch = sourceMismatch(algo, ckpt);
  if (mismatch) throw new Error(mismatch);
  const c = ckpt.policy.config;
  const actor = { actorHidden: [...c.hiddenSizes], actorActivation: c.activation, actorLayerNorm: c.layerNorm };
  if (algo === 'sac') return { ...actor, logStdMin: c.logStdHead!.min, logStdMax: c.logStdHead!.max };
  const critic = (ckpt.state as { agent?: { critic?: unknown } }).agent?.critic;
  // The map was trained for a = clip(g): SMFP keeps that squash.
  return { ...actor, timeFeatures: c.timeFeatures, squash: 'clip', ...(critic ? { critic } : {}) };
}

const list = (v: readonly number[]) => `[${v.join(', ')}]`;

/**
 * Copies the checkpoint's policy weights (observation statistics included) into `target`, after checking that the
 * two networks agree on what those weights mean; an error names the first field that differs.
 */
function copyOfflinePolicy(ckpt: Checkpoint, target: PolicyNetwork, into: string): void {
  const source = ckpt.policy.config;
  const dst: PolicyConfig = target.config;
  const fields: [string, string, string][] = [
    ['observation size', String(source.observationSize), String(dst.observationSize)],
    ['action size', String(source.actionSize), String(dst.actionSize)],
    ['hidden widths', list(source.hiddenSizes), list(dst.hiddenSizes)],
    ['activation', source.activation, dst.activation],
    ['LayerNorm', String(source.layerNorm), String(dst.layerNorm)],
  ];
  if (source.kind === 'meanflow') fields.push(['time features', JSON.stringify(source.timeFeatures), JSON.stringify(dst.timeFeatures)]);
  if (source.kind === 'gaussian') fields.push(['log-σ bounds', JSON.stringify(source.logStdHead), JSON.stringify(dst.logStdHead)]);
  for (const [field, have, want] of fields) {
    if (have !== want) throw new Error(`the ${ckpt.info.algorithm} checkpoint's actor has ${field} ${have}, ${into}'s has ${want} (the actor must match the checkpoint's widths, activation and LayerNorm)`);
  }
  const weights = policyWeights(target);
  for (const [name, v] of policyWeights(ckpt.policy)) {
    const w = weights.get(name);
    if (!w || w.shape.join() !== v.shape.join()) throw new Error(`policy weight ${name} [${v.shape.join(', ')}] has no counterpart of that shape in ${into}'s policy`);
    w.assign(v);
  }
}

/** The head's raw output ℓ whose bounded log σ equals log(std) (inverting the clip or tanh bound). */
function rawLogStd(std: number, bound: { min: number; max: number; bound: 'clip' | 'tanh' }): number {
  const target = Math.min(Math.max(Math.log(std), bound.min + 1e-6), bound.max - 1e-6);
  return bound.bound === 'clip' ? target : Math.atanh((2 * (target - bound.min)) / (bound.max - bound.min) - 1);
}

/** Loads `ckpt` into SMFP `agent` (before training); returns what carried over, for the log. Throws when shapes differ. */
export function initSmfpFromOffline(agent: Smfp, ckpt: Checkpoint, initialStd = INITIAL_POLICY_STD): string[] {
  const mismatch = sourceMismatch('smfp', ckpt);
  if (mismatch) throw new Error(mismatch);
  copyOfflinePolicy(ckpt, agent.policy, 'SMFP');
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

/** Loads a Gaussian BC checkpoint's actor into SAC `agent` (before training); returns what carried over, for the log. */
export function initSacFromOffline(agent: Sac, ckpt: Checkpoint): string[] {
  const mismatch = sourceMismatch('sac', ckpt);
  if (mismatch) throw new Error(mismatch);
  copyOfflinePolicy(ckpt, agent.policy, 'SAC');
  const freeze = agent.config.actorFreezeUpdates ?? 0;
  const bcWeight = agent.config.bcWeight ?? 0;
  return [
    'tanh-Gaussian actor (mean and log-σ heads)', 'observation statistics', 'fresh critics', `α at ${+agent.temperature.alpha.toPrecision(3)}`,
    ...(bcWeight > 0 ? [`BC term in the actor loss at weight ${bcWeight}`] : []),
    ...(freeze > 0 ? [`actor held for the first ${freeze} updates`] : []),
  ];
}
