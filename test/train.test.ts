import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/nn/backend.ts';
import { policyWeights } from '../src/nn/policy.ts';
import type { Agent } from '../src/algos/agent.ts';
import { Rng } from '../src/core/rng.ts';
import { SAC_DEFAULTS, Sac } from '../src/algos/sac.ts';
import { SMFP_DEFAULTS, Smfp } from '../src/algos/smfp.ts';
import { PointReach } from './helpers/point-reach.ts';
import { Trainer, type LoopConfig } from '../src/algos/trainer.ts';

await initBackend();

const hidden = [64, 64];
const makeSac = (seed: number) => new Sac(2, 1, { ...SAC_DEFAULTS, actorHidden: hidden, critic: { ...SAC_DEFAULTS.critic, hiddenSizes: hidden } }, seed);
const makeSmfp = (seed: number) => new Smfp(2, 1, { ...SMFP_DEFAULTS, actorHidden: hidden, critic: { ...SMFP_DEFAULTS.critic, hiddenSizes: hidden }, mdStates: 16, mdParticles: 8 }, seed);
const loop = (totalSteps: number, seed: number): LoopConfig => ({
  totalSteps,
  warmupSteps: 400,
  batchSize: 64,
  replayCapacity: 10_000,
  updatesPerStep: 1,
  herRelabels: 0,
  evalEvery: 400,
  evalEpisodes: 10,
  checkpointEvery: 400,
  seed,
});

function randomReturn(): number {
  const env = new PointReach();
  const rng = new Rng(99);
  let total = 0;
  for (let k = 0; k < 50; k++) {
    env.reset(1000 + k);
    for (let t = 0; t < 20; t++) total += env.step(new Float32Array([rng.uniform() * 2 - 1])).reward;
  }
  return total / 50;
}

async function train(agent: Agent, out: string, totalSteps: number, resume = false, her = 0) {
  const trainer = new Trainer(agent, new PointReach(), new PointReach(), { ...loop(totalSteps, 3), herRelabels: her }, out, { algorithm: agent.algorithm, task: 'point_reach' }, resume);
  await trainer.init();
  await trainer.run();
  return trainer;
}

for (const [name, make] of [['SAC', makeSac], ['SMFP', makeSmfp]] as const) {
  test(`${name} learns the point-reach task (return clearly above random)`, async () => {
    const random = randomReturn();
    const out = mkdtempSync(join(tmpdir(), `train-${name}-`));
    const agent = make(1);
    const trainer = await train(agent, out, 2000);
    const final = trainer.lastEval!;
    assert.ok(random < -12, `random policy return ${random}`);
    assert.ok(final.returnMean > random + 8, `${name}: final evaluation return ${final.returnMean.toFixed(2)} vs random ${random.toFixed(2)}`);
    // The run left its files behind.
    const evalRows = readFileSync(join(out, 'eval.jsonl'), 'utf8').trim().split('\n');
    assert.equal(evalRows.length, 5);
    assert.match(readFileSync(join(out, 'metrics.csv'), 'utf8'), /^env_steps,updates,episode_return/);
    agent.dispose();
  });
}

/** Every weight of the agent (policy + critics + optimiser moments) as one flat array. */
function fingerprint(agent: Agent): Float32Array[] {
  const state = agent.getState();
  return [
    ...[...policyWeights(agent.policy).values()].map((v) => v.dataSync() as Float32Array),
    ...[...state.tensors.values()].map((t) => t.data),
    ...[...state.optimizer.values()].map((t) => t.data),
  ];
}

for (const [name, make] of [['SAC', makeSac], ['SMFP', makeSmfp]] as const) {
  test(`${name}: resuming from a checkpoint gives exactly the uninterrupted run`, async () => {
    const whole = make(4);
    const outA = mkdtempSync(join(tmpdir(), 'resume-a-'));
    await train(whole, outA, 1200);

    const outB = mkdtempSync(join(tmpdir(), 'resume-b-'));
    const first = make(4);
    await train(first, outB, 800); // stops on an episode boundary and checkpoints
    first.dispose();
    const second = make(77); // a fresh process would start from different initial weights: the checkpoint must win
    await train(second, outB, 1200, true);

    const a = fingerprint(whole);
    const b = fingerprint(second);
    assert.equal(a.length, b.length);
    a.forEach((x, i) => assert.deepEqual(b[i], x, `tensor ${i} differs after resume`));
    const evalsA = readFileSync(join(outA, 'eval.jsonl'), 'utf8');
    const evalsB = readFileSync(join(outB, 'eval.jsonl'), 'utf8');
    assert.equal(evalsB, evalsA, 'the evaluation log is identical');
    whole.dispose();
    second.dispose();
    assert.ok(tf.memory().numTensors < 2000);
  });
}

test('HER stores k relabelled copies per transition, goals from later in the same episode, rewards recomputed', async () => {
  const agent = makeSac(5);
  const out = mkdtempSync(join(tmpdir(), 'her-'));
  const trainer = await train(agent, out, 400, false, 4); // warm-up only: 20 episodes of 20 steps
  const r = trainer.replay;
  assert.equal(r.size, 400 * 5);
  let relabelled = 0;
  for (let i = 0; i < r.size; i++) {
    const [x, goal] = [r.nextObservation[2 * i], r.nextObservation[2 * i + 1]];
    assert.equal(r.observation[2 * i + 1], goal, `row ${i}: observation and next observation carry the same goal`);
    assert.ok(Math.abs(r.reward[i] + Math.abs(x - goal)) < 1e-6, `row ${i}: reward ${r.reward[i]} is not −|x − goal|`);
    if (i % 100 >= 20) relabelled++;
  }
  // Each episode stores its 20 originals as it runs, then 80 relabelled rows whose goals are achieved positions.
  for (let e = 0; e < 20; e++) {
    const achieved = new Set(Array.from({ length: 20 }, (_, t) => r.nextObservation[2 * (e * 100 + t)]));
    for (let j = 20; j < 100; j++) assert.ok(achieved.has(r.nextObservation[2 * (e * 100 + j) + 1]), `episode ${e} row ${j}: goal is not a position the episode reached`);
  }
  assert.equal(relabelled, 1600);
  agent.dispose();
});
