// Offline → online through the shared Trainer: MeanFlowQL and the BC baselines learn from a small dataset of a
// noisy scripted controller on the point-reach task, a run interrupted in either phase resumes exactly, balanced
// sampling runs, and evaluation through the exported ONNX model takes the same actions as the TF.js policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/nn/backend.ts';
import { policyAction, policyWeights } from '../src/nn/policy.ts';
import type { OfflineDataset } from '../src/data/dataset.ts';
import type { Agent } from '../src/algos/agent.ts';
import { GAUSSIAN_BC_DEFAULTS, GaussianBc, MEANFLOW_BC_DEFAULTS, MeanFlowBc } from '../src/algos/bc.ts';
import { MEANFLOWQL_DEFAULTS, MeanFlowQl, type MeanFlowQlConfig } from '../src/algos/meanflowql.ts';
import { ReplayBuffer } from '../src/algos/replay.ts';
import { Rng } from '../src/core/rng.ts';
import { Trainer, type LoopConfig } from '../src/algos/trainer.ts';
import { buildPolicySpec, exportPolicyOnnx } from '../src/export/onnx.ts';
import { PointReach } from './helpers/point-reach.ts';

await initBackend();

/** `episodes` episodes of a proportional controller toward the goal with N(0, 0.3²) action noise. */
function scriptedDataset(episodes: number, seed: number): OfflineDataset {
  const env = new PointReach();
  const rng = new Rng(seed);
  const rows = episodes * 20;
  const [observations, nextObservations] = [new Float32Array(rows * 2), new Float32Array(rows * 2)];
  const [actions, rewards, terminals, masks, episodeEnds] = [new Float32Array(rows), new Float32Array(rows), new Float32Array(rows), new Float32Array(rows), new Float32Array(rows)];
  let i = 0;
  for (let k = 0; k < episodes; k++) {
    let obs = Float32Array.from(env.reset(50_000 + k));
    for (;;) {
      const a = Math.max(-1, Math.min(1, 5 * (obs[1] - obs[0]) + 0.3 * rng.normal()));
      const r = env.step(Float32Array.of(a));
      observations.set(obs, 2 * i);
      nextObservations.set(r.obs, 2 * i);
      actions[i] = a;
      rewards[i] = r.reward;
      masks[i] = r.terminated ? 0 : 1;
      episodeEnds[i] = r.terminated || r.truncated ? 1 : 0;
      i++;
      obs = Float32Array.from(r.obs);
      if (r.terminated || r.truncated) break;
    }
  }
  return { source: 'scripted point-reach (in memory)', size: rows, observationSize: 2, actionSize: 1, observations, actions, rewards, nextObservations, terminals, masks, episodeEnds };
}

const DATA = scriptedDataset(40, 1);
const small = [32, 32];
const mfqlConfig: MeanFlowQlConfig = {
  ...MEANFLOWQL_DEFAULTS,
  actorHidden: small,
  actorActivation: 'relu',
  critic: { hiddenSizes: small, activation: 'relu', layerNorm: false },
  actorLearningRate: 1e-3,
  alphaInterval: 50,
};
const makeMfql = (seed: number, offlineSteps: number) => new MeanFlowQl(2, 1, mfqlConfig, seed, { offlineSteps });

const loop = (offlineSteps: number, totalSteps: number, sampling: 'mixed' | 'balanced' = 'mixed'): LoopConfig => ({
  totalSteps,
  warmupSteps: 0,
  batchSize: 64,
  replayCapacity: DATA.size + totalSteps,
  updatesPerStep: 1,
  herRelabels: 0,
  evalEvery: 100,
  evalEpisodes: 5,
  checkpointEvery: 100,
  seed: 7,
  offlineSteps,
  offlineSampling: sampling,
});

async function train(agent: Agent, out: string, config: LoopConfig, resume = false, stopAtFirstEval = false) {
  const trainer = new Trainer(agent, new PointReach(), new PointReach(), config, out, { algorithm: agent.algorithm, task: 'point_reach' }, resume, DATA);
  await trainer.init();
  if (stopAtFirstEval) trainer.onEval = () => trainer.requestStop();
  const finished = await trainer.run();
  return { trainer, finished };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('offline MeanFlowQL on a tiny dataset: the MFI and critic losses fall and the one-step policy heads for the goal as the data does', () => {
  const agent = makeMfql(1, 400);
  const replay = new ReplayBuffer(DATA.size, 2, 1);
  replay.addMany(DATA.observations, DATA.actions, DATA.rewards, DATA.nextObservations, DATA.masks, DATA.size);
  const rng = new Rng(2);
  const logs = Array.from({ length: 400 }, () => agent.update(replay.sample(64, rng), rng));
  const first = logs.slice(0, 40);
  const last = logs.slice(-40);
  assert.ok(mean(last.map((l) => l.mfi_error)) < 0.7 * mean(first.map((l) => l.mfi_error)), `MFI error ${mean(first.map((l) => l.mfi_error))} → ${mean(last.map((l) => l.mfi_error))}`);
  assert.ok(mean(last.map((l) => l.critic_loss)) < mean(first.map((l) => l.critic_loss)), 'critic loss falls');
  // The one-step policy imitates the controller: on fresh states it moves toward the goal.
  let agree = 0;
  const probe = new Rng(3);
  for (let k = 0; k < 100; k++) {
    const obs = Float32Array.of(probe.uniform() * 2 - 1, probe.uniform() * 2 - 1);
    if (Math.abs(obs[1] - obs[0]) < 0.2) continue;
    if (Math.sign(agent.act(obs, false, probe)[0]) === Math.sign(obs[1] - obs[0])) agree++;
  }
  assert.ok(agree > 70, `moves toward the goal in ${agree} of ~80 states`);
  agent.dispose();
});

function fingerprint(agent: Agent): Float32Array[] {
  const state = agent.getState();
  return [...[...policyWeights(agent.policy).values()].map((v) => v.dataSync() as Float32Array), ...[...state.tensors.values()].map((t) => t.data), ...[...state.optimizer.values()].map((t) => t.data)];
}

for (const sampling of ['mixed', 'balanced'] as const) {
  test(`offline → online (${sampling}): a run stopped in the offline phase and extended online equals the uninterrupted run`, async () => {
    const whole = makeMfql(4, 300);
    const outA = mkdtempSync(join(tmpdir(), 'mfql-a-'));
    const a = await train(whole, outA, loop(300, 200, sampling));
    assert.ok(a.finished);

    const outB = mkdtempSync(join(tmpdir(), 'mfql-b-'));
    const first = makeMfql(4, 300);
    const b1 = await train(first, outB, loop(300, 100, sampling), false, true);
    assert.equal(b1.finished, false, 'stopped at the first offline evaluation');
    first.dispose();
    const second = makeMfql(77, 300);
    await train(second, outB, loop(300, 100, sampling), true); // finishes offline, 100 online steps
    second.dispose();
    const third = makeMfql(78, 300);
    const b3 = await train(third, outB, loop(300, 200, sampling), true); // extended to 200 online steps
    assert.ok(b3.finished);

    const [fa, fb] = [fingerprint(whole), fingerprint(third)];
    assert.equal(fa.length, fb.length);
    fa.forEach((x, i) => assert.deepEqual(fb[i], x, `tensor ${i} differs after resume`));
    const evalsA = readFileSync(join(outA, 'eval.jsonl'), 'utf8');
    assert.equal(readFileSync(join(outB, 'eval.jsonl'), 'utf8'), evalsA, 'the evaluation log is identical');
    const rows = evalsA.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.phase), ['offline', 'offline', 'offline', 'online', 'online']);
    assert.deepEqual(rows.map((r) => r.updates), [100, 200, 300, 400, 500]);
    whole.dispose();
    third.dispose();
  });
}

for (const name of ['MeanFlowQL', 'MeanFlow BC', 'Gaussian BC'] as const) {
  test(`${name}: evaluation through the exported ONNX model takes the TF.js policy's actions (|Δ| ≤ 1e-5)`, async () => {
    const agent: Agent =
      name === 'MeanFlowQL'
        ? new MeanFlowQl(2, 1, { ...mfqlConfig, actionSelection: 'single' }, 5, { offlineSteps: 150 })
        : name === 'MeanFlow BC'
          ? new MeanFlowBc(2, 1, { ...MEANFLOW_BC_DEFAULTS, actorHidden: small, actorActivation: 'relu', actorLearningRate: 1e-3 }, 5, { offlineSteps: 150 })
          : new GaussianBc(2, 1, { ...GAUSSIAN_BC_DEFAULTS, hidden: small, activation: 'relu' }, 5);
    const out = mkdtempSync(join(tmpdir(), 'mfql-onnx-'));
    await train(agent, out, { ...loop(150, 0), evalEvery: 150 });
    const spec = buildPolicySpec(agent.policy, { algorithm: agent.algorithm, task: 'point_reach', trainingSteps: 150, checkpointId: 'test' });
    const session = await ort.InferenceSession.create(exportPolicyOnnx(agent.policy, spec));
    // Evaluation episodes: TF.js acts (drawing its noise from rngA); ONNX gets the same noise from rngB.
    const env = new PointReach();
    const [rngA, rngB] = [new Rng(9), new Rng(9)];
    const noise = new Float32Array(spec.noise.size);
    let worst = 0;
    for (let k = 0; k < 3; k++) {
      let obs = Float32Array.from(env.reset(900 + k));
      for (;;) {
        const mine = agent.act(obs, false, rngA);
        if (agent.algorithm === 'gaussian-bc') noise.fill(0);
        else rngB.fillNormal(noise);
        const theirs = (await session.run({ obs: new ort.Tensor('float32', obs, [1, 2]), noise: new ort.Tensor('float32', noise, [1, noise.length]) })).action.data as Float32Array;
        worst = Math.max(worst, Math.abs(mine[0] - theirs[0]));
        const r = env.step(mine);
        obs = Float32Array.from(r.obs);
        if (r.truncated || r.terminated) break;
      }
    }
    assert.ok(worst <= 1e-5, `max |Δ| = ${worst}`);
    // And on a batch of random states (the policy's forward, not only the visited ones).
    const obs = tf.randomUniform([256, 2], -1.5, 1.5, 'float32', 1);
    const z = agent.algorithm === 'gaussian-bc' ? tf.zeros([256, 1]) : tf.randomNormal([256, 1], 0, 1, 'float32', 2);
    const expected = policyAction(agent.policy, obs, z).dataSync();
    const actual = (await session.run({ obs: new ort.Tensor('float32', obs.dataSync() as Float32Array, [256, 2]), noise: new ort.Tensor('float32', z.dataSync() as Float32Array, [256, 1]) })).action.data as Float32Array;
    assert.ok(expected.every((x, i) => Math.abs(x - actual[i]) <= 1e-5));
    agent.dispose();
  });
}
