// Every algorithm by name: the one place that turns (algorithm, sizes, hyper-parameters) into an agent, and a
// training checkpoint back into a working agent (policy, critics, temperature and optimisers), for the trainer's
// resume and for evaluating a checkpoint with its critic (best-of-N).
import { type Checkpoint, loadCheckpoint } from '../nn/checkpoint.ts';
import { copyPolicyWeights, disposePolicy } from '../nn/policy.ts';
import type { Agent, AlgorithmName } from './agent.ts';
import { GaussianBc, MeanFlowBc } from './bc.ts';
import { MeanFlowQl, type OfflineSchedule } from './meanflowql.ts';
import { Sac } from './sac.ts';
import { Smfp } from './smfp.ts';

export function createAgent(algorithm: AlgorithmName, observationSize: number, actionSize: number, hyper: object, seed: number, schedule: OfflineSchedule = { offlineSteps: 0 }): Agent {
  const h = hyper as never;
  switch (algorithm) {
    case 'smfp':
      return new Smfp(observationSize, actionSize, h, seed);
    case 'sac':
      return new Sac(observationSize, actionSize, h, seed);
    case 'meanflowql':
      return new MeanFlowQl(observationSize, actionSize, h, seed, schedule);
    case 'bc':
      return new MeanFlowBc(observationSize, actionSize, h, seed, schedule);
    case 'gaussian-bc':
      return new GaussianBc(observationSize, actionSize, h, seed);
  }
}

/** Loads a training checkpoint's policy weights and learner state (critics, temperature, optimisers) into `agent`. */
export function restoreAgent(agent: Agent, checkpoint: Checkpoint): void {
  const saved = checkpoint.state as { agent?: Record<string, unknown> };
  copyPolicyWeights(checkpoint.policy, agent.policy);
  agent.setState({ tensors: new Map(checkpoint.tensors), optimizer: new Map(checkpoint.optimizer), json: saved.agent ?? {} });
}

/** Loads `dir` (a training checkpoint) and restores it into `agent`; the loaded copy's policy is freed. */
export async function restoreAgentFrom(agent: Agent, dir: string): Promise<Checkpoint> {
  const checkpoint = await loadCheckpoint(dir);
  try {
    restoreAgent(agent, checkpoint);
  } finally {
    disposePolicy(checkpoint.policy);
  }
  return checkpoint;
}
