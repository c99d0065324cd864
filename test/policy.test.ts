// The policy network as data: initial state, heads, normalisation, config validation and weight copies.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PolicyConfigError,
  copyPolicyWeights,
  createPolicy,
  disposePolicy,
  meanflowHeads,
  meanflowInput,
  policyConfig,
  policyInputSize,
  policyNoiseSize,
  policySample,
  policyWeights,
  setObservationNormalization,
  trainableVariables,
} from '../src/nn/policy.ts';

await tf.setBackend('cpu');
tf.env().set('PROD', true);

test('a fresh meanflow policy outputs g ≡ 0 (zero-initialised head): an in-range action at the start', () => {
  const policy = createPolicy(policyConfig({ kind: 'meanflow', observationSize: 5, actionSize: 3 }), 1);
  const obs = tf.randomNormal([16, 5], 0, 3, 'float32', 2);
  const at = tf.randomNormal([16, 3], 0, 1, 'float32', 3);
  const { g, logStd } = meanflowHeads(policy, obs, at, tf.randomUniform([16, 1], 0, 1, 'float32', 4));
  assert.deepEqual(Array.from(g.dataSync()), new Array(48).fill(0));
  assert.equal(logStd, null);
  disposePolicy(policy);
});

test('input layout is [normalised obs, a_t, φ(t)] and the noise layout follows the kind', () => {
  const mf = policyConfig({ kind: 'meanflow', observationSize: 5, actionSize: 3, timeFeatures: { kind: 'sinusoidal', count: 4, maxPeriod: 100 } });
  assert.equal(policyInputSize(mf), 5 + 3 + 8);
  assert.equal(policyNoiseSize(mf), 3);
  const smfp = policyConfig({ ...mf, logStdHead: { min: -5, max: 2, bound: 'clip' } });
  assert.equal(policyNoiseSize(smfp), 6);
  const sac = policyConfig({ kind: 'gaussian', observationSize: 5, actionSize: 3 });
  assert.equal(policyInputSize(sac), 5);
  assert.equal(policyNoiseSize(sac), 3);

  const policy = createPolicy(mf);
  setObservationNormalization(policy, [1, 1, 1, 1, 1], [2, 2, 2, 2, 2]);
  const x = meanflowInput(policy, tf.tensor2d([[3, 3, 3, 3, 3]]), tf.tensor2d([[7, 8, 9]]), 0).dataSync();
  assert.deepEqual(Array.from(x.slice(0, 8)), [1, 1, 1, 1, 1, 7, 8, 9]);
  assert.deepEqual(Array.from(x.slice(8)), [1, 1, 1, 1, 0, 0, 0, 0], 'φ(0) = [cos 0…, sin 0…]');
  disposePolicy(policy);
});

test('φ(t) for a number t (built in JS) is bit for bit what the tensor path gives for the same t', () => {
  for (const timeFeatures of [{ kind: 'sinusoidal', count: 8, maxPeriod: 100 }, { kind: 'scalar' }] as const) {
    const policy = createPolicy(policyConfig({ kind: 'meanflow', observationSize: 2, actionSize: 3, timeFeatures }));
    for (const t of [0, 1, 0.37, 0.999]) {
      const obs = tf.tensor2d([[0.5, -1], [2, 3], [0, 0]]), a = tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
      const fromNumber = meanflowInput(policy, obs, a, t).dataSync();
      const fromTensor = meanflowInput(policy, obs, a, tf.fill([3, 1], t)).dataSync();
      assert.deepEqual(Array.from(fromNumber), Array.from(fromTensor), `${timeFeatures.kind} t = ${t}`);
    }
    disposePolicy(policy);
  }
});

test('observation std below the floor (or non-finite) becomes 1; normalisation is not trainable', () => {
  const policy = createPolicy(policyConfig({ kind: 'gaussian', observationSize: 4, actionSize: 2 }));
  const used = setObservationNormalization(policy, [0, 0, 0, 0], [0.5, 1e-9, 0, NaN]);
  assert.deepEqual(Array.from(used), [0.5, 1, 1, 1]);
  assert.ok(!trainableVariables(policy).includes(policy.observationStd));
  assert.ok(!trainableVariables(policy).includes(policy.observationMean));
  assert.equal(trainableVariables(policy).length, policyWeights(policy).size - 2);
  assert.throws(() => setObservationNormalization(policy, [0], [1]), PolicyConfigError);
  disposePolicy(policy);
});

test('SMFP and SAC samples: squashed into [-1, 1], σ within its bounds, zero noise = the mode', () => {
  for (const config of [
    policyConfig({ kind: 'meanflow', observationSize: 4, actionSize: 2, logStdHead: { min: -3, max: 0.5, bound: 'clip' }, squash: 'clip' }),
    policyConfig({ kind: 'gaussian', observationSize: 4, actionSize: 2 }),
  ]) {
    const policy = createPolicy(config, 5);
    for (const v of trainableVariables(policy)) v.assign(tf.randomNormal(v.shape, 0, 1, 'float32', 6));
    const obs = tf.randomNormal([64, 4], 0, 1, 'float32', 7);
    const s = policySample(policy, obs, tf.randomNormal([64, policyNoiseSize(config)], 0, 3, 'float32', 8));
    assert.ok(s.action.dataSync().every((a) => a >= -1 && a <= 1));
    const head = config.logStdHead!;
    assert.ok(s.logStd!.dataSync().every((l) => l >= head.min - 1e-6 && l <= head.max + 1e-6));
    const mode = policySample(policy, obs, tf.zeros([64, policyNoiseSize(config)]));
    const squash = config.squash === 'tanh' ? tf.tanh(mode.mean) : tf.clipByValue(mode.mean, -1, 1);
    assert.deepEqual(mode.action.dataSync(), squash.dataSync());
    assert.throws(() => policySample(policy, obs, tf.zeros([64, 1])), /noise must be \[batch, \d\]/);
    disposePolicy(policy);
  }
});

test('config validation names the field', () => {
  assert.throws(() => policyConfig({ kind: 'meanflow', observationSize: 0, actionSize: 2 }), /policy config: observationSize must be a positive integer \(got 0\)/);
  assert.throws(() => policyConfig({ kind: 'meanflow', observationSize: 3, actionSize: 2, hiddenSizes: [64, 1.5] }), /hiddenSizes\[1\] must be a positive integer/);
  assert.throws(() => policyConfig({ kind: 'gaussian', observationSize: 3, actionSize: 2, logStdHead: null }), /logStdHead is required/);
  assert.throws(() => policyConfig({ kind: 'meanflow', observationSize: 3, actionSize: 2, activation: 'swish' as never }), /activation must be one of relu, silu, gelu_tanh, mish, tanh/);
  assert.throws(() => policyConfig({ kind: 'meanflow', observationSize: 3, actionSize: 2, logStdHead: { min: 1, max: 1, bound: 'clip' } }), /min must be < max/);
});

test('copyPolicyWeights makes an identical policy (old-policy snapshots); no tensors leak', () => {
  const config = policyConfig({ kind: 'meanflow', observationSize: 3, actionSize: 2, logStdHead: { min: -5, max: 2, bound: 'tanh' }, squash: 'tanh' });
  const a = createPolicy(config, 1);
  const b = createPolicy(config, 2);
  for (const v of trainableVariables(a)) v.assign(tf.randomNormal(v.shape, 0, 1, 'float32', 9));
  copyPolicyWeights(a, b);
  const before = tf.memory().numTensors;
  const obs = tf.randomNormal([4, 3]);
  const noise = tf.randomNormal([4, 4]);
  const sa = policySample(a, obs, noise);
  const sb = policySample(b, obs, noise);
  assert.deepEqual(sa.action.dataSync(), sb.action.dataSync());
  tf.dispose([obs, noise, sa.action, sa.preSquash, sa.mean, sa.logStd!, sb.action, sb.preSquash, sb.mean, sb.logStd!]);
  assert.equal(tf.memory().numTensors, before);
  disposePolicy(a);
  disposePolicy(b);
});
