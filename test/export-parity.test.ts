// Parity: the TF.js forward (training) and the exported ONNX graph under ONNX Runtime compute the same policy,
// in physical units, for every policy kind, on 1,000 random (observation, noise) pairs.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPolicySpec, exportPolicyOnnx } from '../src/export/onnx.ts';
import { createPolicy, disposePolicy, physicalAction, policyAction, policyConfig, policyNoiseSize, policyWeights, setObservationNormalization, type PolicyConfig } from '../src/nn/policy.ts';
import type { PolicyAlgorithm } from '../src/format/spec.ts';

await tf.setBackend('cpu');

const N = 1000;
const O = 11;
const D = 4;

const cases: { name: string; algorithm: PolicyAlgorithm; config: PolicyConfig }[] = [
  { name: 'meanflow (MeanFlowQL), relu + LayerNorm, sinusoidal φ', algorithm: 'meanflowql', config: policyConfig({ kind: 'meanflow', observationSize: O, actionSize: D, hiddenSizes: [32, 24] }) },
  {
    name: 'meanflow (MeanFlowQL), mish, scalar φ, no LayerNorm',
    algorithm: 'meanflowql',
    config: policyConfig({ kind: 'meanflow', observationSize: O, actionSize: D, hiddenSizes: [32], activation: 'mish', layerNorm: false, timeFeatures: { kind: 'scalar' } }),
  },
  {
    name: 'meanflow + log-σ head (SMFP), gelu_tanh, clip bound, tanh squash',
    algorithm: 'smfp',
    config: policyConfig({ kind: 'meanflow', observationSize: O, actionSize: D, hiddenSizes: [32, 32], activation: 'gelu_tanh', logStdHead: { min: -5, max: 1, bound: 'clip' }, squash: 'tanh' }),
  },
  {
    name: 'meanflow + log-σ head (SMFP), silu, tanh bound, clip squash',
    algorithm: 'smfp',
    config: policyConfig({ kind: 'meanflow', observationSize: O, actionSize: D, hiddenSizes: [24, 24], activation: 'silu', logStdHead: { min: -3, max: 0.5, bound: 'tanh' } }),
  },
  {
    name: 'SMFP at the shipped size: 2×256 relu + LayerNorm, tanh bound, tanh squash',
    algorithm: 'smfp',
    config: policyConfig({ kind: 'meanflow', observationSize: O, actionSize: D, hiddenSizes: [256, 256], logStdHead: { min: -5, max: 2, bound: 'tanh' }, squash: 'tanh' }),
  },
  { name: 'gaussian (SAC), tanh activation', algorithm: 'sac', config: policyConfig({ kind: 'gaussian', observationSize: O, actionSize: D, hiddenSizes: [32, 32], activation: 'tanh' }) },
];

for (const c of cases) {
  test(`parity TF.js vs ONNX Runtime, max |Δ| ≤ 1e-5: ${c.name}`, async () => {
    const policy = createPolicy(c.config, 7);
    // Random, non-trivial weights everywhere (the MeanFlow head starts at zero, which would hide errors).
    let seed = 100;
    for (const [name, v] of policyWeights(policy)) {
      if (name.startsWith('observation/')) continue;
      // Kernels at 1.5/√fan_in (a trained network's scale, a bit wider), vectors at 0.3.
      const std = v.shape.length === 2 ? 1.5 / Math.sqrt(v.shape[0]) : 0.3;
      v.assign(tf.randomNormal(v.shape, name.endsWith('gamma') ? 1 : 0, std, 'float32', seed++));
    }
    const mean = Array.from({ length: O }, (_, i) => Math.sin(i) * 3);
    const std = Array.from({ length: O }, (_, i) => (i === 3 ? 1e-9 : 0.5 + (i % 4)));
    setObservationNormalization(policy, mean, std);
    const spec = buildPolicySpec(policy, {
      algorithm: c.algorithm,
      task: 'parity',
      trainingSteps: 1,
      checkpointId: 'parity',
      actionScale: [0.5, 1, 1.5, 2],
      actionOffset: [0, 0.1, -0.2, 0.3],
      // Joint 3's limits bind inside the scaled range, so the graph's clamp is exercised.
      actionLow: [-10, -10, -1, -10],
      actionHigh: [10, 10, 10, 1.5],
    });
    const bytes = exportPolicyOnnx(policy, spec);
    const noiseSize = policyNoiseSize(c.config);
    // Observations spread 1.5σ around the statistics (wider than training data, as a robot may see).
    const obs = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([N, O], 0, 1.5, 'float32', 1), tf.tensor1d([...spec.observation.std])), tf.tensor1d(mean)));
    const noise = tf.randomNormal([N, noiseSize], 0, 1, 'float32', 2);
    const expected = tf.tidy(() => physicalAction(policyAction(policy, obs, noise), spec.action)).dataSync();

    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
    const out = await session.run({
      obs: new ort.Tensor('float32', obs.dataSync(), [N, O]),
      noise: new ort.Tensor('float32', noise.dataSync(), [N, noiseSize]),
    });
    const actual = out.action.data as Float32Array;
    assert.deepEqual(out.action.dims, [N, D]);
    let maxDiff = 0;
    for (let i = 0; i < actual.length; i++) maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    assert.ok(maxDiff <= 1e-5, `max |Δ| = ${maxDiff}`);
    if (process.env.ONESTEP_PARITY_LOG) console.log(`${c.name}: max |Δ| = ${maxDiff}`);
    // The policy is not degenerate: actions vary and joint 3's limit binds somewhere.
    const spread = Math.max(...actual) - Math.min(...actual);
    assert.ok(spread > 0.5, `actions barely vary (${spread})`);
    assert.ok(actual.every((a, i) => i % D !== 3 || a <= 1.5 + 1e-6), 'joint 3 above its high limit');
    await session.release();
    tf.dispose([obs, noise]);
    disposePolicy(policy);
  });
}
