// Checkpoint save → load round trip, atomic re-save, and the rejections of a damaged checkpoint.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKPOINT_FILE, CheckpointError, loadCheckpoint, saveCheckpoint } from '../src/nn/checkpoint.ts';
import { createPolicy, disposePolicy, policyAction, policyConfig, policyWeights, setObservationNormalization } from '../src/nn/policy.ts';

await tf.setBackend('cpu');
tf.env().set('PROD', true);
const root = await mkdtemp(join(tmpdir(), 'onestep-ckpt-'));

function makePolicy(seed = 3) {
  const policy = createPolicy(policyConfig({ kind: 'meanflow', observationSize: 6, actionSize: 2, hiddenSizes: [16, 16], logStdHead: { min: -4, max: 1, bound: 'clip' }, squash: 'tanh' }), seed);
  for (const [name, v] of policyWeights(policy)) if (!name.startsWith('observation/')) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', seed++));
  setObservationNormalization(policy, [1, 2, 3, 4, 5, 6], [0.5, 1, 2, 1e-9, 1, 3]);
  return policy;
}
const info = { algorithm: 'smfp', task: 'toy', actionNames: ['a', 'b'], actionScale: [2, 3] } as const;

test('save → load round trip: config, weights, counters, optimizer state, extra tensors, trainer state', async () => {
  const dir = join(root, 'roundtrip');
  const policy = makePolicy();
  const moment = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const { checkpointId } = await saveCheckpoint(dir, {
    policy,
    info,
    counters: { trainingSteps: 1234, envSteps: 5678 },
    optimizer: { 'actor/adam/m/hidden0/kernel': moment },
    tensors: new Map([['critic/q1/out/bias', { shape: [1], data: Float32Array.of(-7.5) }]]),
    state: { alpha: 0.2, schedule: { warmup: 100 } },
  });
  const ckpt = await loadCheckpoint(dir);
  assert.equal(ckpt.checkpointId, checkpointId);
  assert.match(checkpointId, /^toy-smfp-1234-[0-9a-f]{12}$/);
  assert.deepEqual(ckpt.policy.config, policy.config);
  assert.deepEqual(ckpt.info, info);
  assert.deepEqual(ckpt.counters, { trainingSteps: 1234, envSteps: 5678 });
  assert.deepEqual(ckpt.state, { alpha: 0.2, schedule: { warmup: 100 } });
  assert.deepEqual(ckpt.optimizer.get('actor/adam/m/hidden0/kernel'), { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) });
  assert.deepEqual(ckpt.tensors.get('critic/q1/out/bias'), { shape: [1], data: Float32Array.of(-7.5) });
  const loaded = policyWeights(ckpt.policy);
  for (const [name, v] of policyWeights(policy)) assert.deepEqual(loaded.get(name)!.dataSync(), v.dataSync(), name);
  // The floored std (1e-9 → 1) survives, and the reloaded policy acts identically.
  assert.equal(ckpt.policy.observationStd.dataSync()[3], 1);
  const obs = tf.randomNormal([8, 6], 0, 1, 'float32', 9);
  const noise = tf.randomNormal([8, 4], 0, 1, 'float32', 10);
  assert.deepEqual(policyAction(ckpt.policy, obs, noise).dataSync(), policyAction(policy, obs, noise).dataSync());
  disposePolicy(policy);
  disposePolicy(ckpt.policy);
});

test('re-saving replaces the checkpoint atomically and keeps one weights file; same weights → same id', async () => {
  const dir = join(root, 'resave');
  const policy = makePolicy();
  const first = await saveCheckpoint(dir, { policy, info, counters: { trainingSteps: 1 } });
  const again = await saveCheckpoint(dir, { policy, info, counters: { trainingSteps: 1 } });
  assert.equal(again.checkpointId, first.checkpointId);
  policyWeights(policy).get('mean/bias')!.assign(tf.tensor1d([9, 9]));
  const changed = await saveCheckpoint(dir, { policy, info, counters: { trainingSteps: 2 } });
  assert.notEqual(changed.checkpointId, first.checkpointId);
  const files = (await readdir(dir)).sort();
  assert.equal(files.length, 2, files.join(', '));
  assert.ok(files.includes(CHECKPOINT_FILE));
  const ckpt = await loadCheckpoint(dir);
  assert.deepEqual(Array.from(policyWeights(ckpt.policy).get('mean/bias')!.dataSync()), [9, 9]);
  disposePolicy(policy);
  disposePolicy(ckpt.policy);
});

test('rejects damaged checkpoints with a message naming the directory and the problem', async () => {
  const dir = join(root, 'damaged');
  const policy = makePolicy();
  await saveCheckpoint(dir, { policy, info, counters: { trainingSteps: 5 } });
  disposePolicy(policy);
  const json = JSON.parse(await readFile(join(dir, CHECKPOINT_FILE), 'utf8'));
  const expectError = async (mutate: (j: typeof json) => unknown, message: RegExp, raw?: string) => {
    await writeFile(join(dir, CHECKPOINT_FILE), raw ?? JSON.stringify(mutate(structuredClone(json))));
    await assert.rejects(loadCheckpoint(dir), (err: Error) => {
      assert.ok(err instanceof CheckpointError, err.message);
      assert.ok(err.message.startsWith(`checkpoint ${dir}: `), err.message);
      assert.match(err.message, message);
      return true;
    });
  };
  await assert.rejects(loadCheckpoint(join(root, 'missing')), /no checkpoint\.json \(expected a checkpoint directory written by onestep train\)/);
  await expectError(() => null, /checkpoint\.json is not valid JSON/, '{"format":');
  await expectError((j) => ({ ...j, format: 'other' }), /format must be "onestep-checkpoint"/);
  await expectError((j) => ({ ...j, formatVersion: 2 }), /formatVersion 2 is not supported \(this onestep reads version 1\)/);
  await expectError((j) => ({ ...j, policyConfig: { ...j.policyConfig, activation: 'swish' } }), /policy config: activation must be one of/);
  await expectError((j) => ({ ...j, tensors: j.tensors.map((t: { offset: number }, i: number) => (i === 0 ? { ...t, offset: 1e9 } : t)) }), /tensors\[0\] \(observation\/mean\) has a bad shape, group or offset/);
  await expectError((j) => ({ ...j, tensors: j.tensors.filter((t: { name: string }) => t.name !== 'hidden1/kernel') }), /policy weight hidden1\/kernel is missing/);
  await expectError((j) => ({ ...j, policyConfig: { ...j.policyConfig, hiddenSizes: [16, 8] } }), /policy weight hidden1\/kernel has shape \[16, 16\], the config needs \[16, 8\]/);
  await writeFile(join(dir, CHECKPOINT_FILE), JSON.stringify(json));
  await rm(join(dir, json.weightsFile));
  await assert.rejects(loadCheckpoint(dir), /weights file weights-[0-9a-f]+\.bin is missing/);
});
