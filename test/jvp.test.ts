import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { denseLayer, layerNormLayer, runLayers, type Activation, type Layer } from '../src/nn/layers.ts';
import { layersJvp } from '../src/nn/jvp.ts';

await tf.setBackend('cpu');

/** Relative L2 error of the exact tangent against the central difference [f(x + hẋ) − f(x − hẋ)] / 2h. */
function tangentError(layers: Layer[], x: tf.Tensor, xDot: tf.Tensor, h = 1e-3): number {
  return tf.tidy(() => {
    const { value, tangent } = layersJvp(layers, x, xDot);
    const primal = runLayers(layers, x);
    assert.ok(tf.max(tf.abs(tf.sub(value, primal))).dataSync()[0] < 1e-5, 'the JVP primal equals the forward pass');
    const fd = tf.div(tf.sub(runLayers(layers, tf.add(x, tf.mul(h, xDot))), runLayers(layers, tf.sub(x, tf.mul(h, xDot)))), 2 * h);
    return tf.norm(tf.sub(tangent, fd)).dataSync()[0] / tf.norm(fd).dataSync()[0];
  });
}

function mlp(inSize: number, act: Activation, seed: number): Layer[] {
  return [
    denseLayer('l0', inSize, 64, 'uniform', seed),
    act === 'relu' ? { kind: 'activation', name: 'a0', fn: act } : layerNormLayer('n0', 64),
    { kind: 'activation', name: 'a0', fn: act },
    denseLayer('l1', 64, 64, 'uniform', seed + 2),
    layerNormLayer('n1', 64),
    { kind: 'activation', name: 'a1', fn: act },
    denseLayer('l2', 64, 5, 'uniform', seed + 4),
  ];
}

for (const act of ['gelu_tanh', 'silu', 'mish', 'tanh'] as const) {
  test(`JVP through dense, LayerNorm and ${act} matches central finite differences`, () => {
    const layers = mlp(9, act, 11);
    // Give LayerNorm a non-trivial affine part so its γ enters the tangent.
    for (const l of layers) if (l.kind === 'layernorm') l.gamma.assign(tf.randomUniform([64], 0.5, 1.5, 'float32', 3));
    const x = tf.randomNormal([32, 9], 0, 1, 'float32', 5);
    const xDot = tf.randomNormal([32, 9], 0, 1, 'float32', 6);
    const err = tangentError(layers, x, xDot);
    assert.ok(err < 5e-3, `relative error ${err}`);
    if (process.env.JVP_VERBOSE) console.log(act, err);
  });
}

test('JVP through ReLU matches finite differences away from the kink', () => {
  const layers = mlp(9, 'relu', 21);
  const x = tf.randomNormal([32, 9], 0, 1, 'float32', 7);
  const xDot = tf.randomNormal([32, 9], 0, 1, 'float32', 8);
  const err = tangentError(layers, x, xDot, 1e-4);
  assert.ok(err < 2e-2, `relative error ${err}`);
});

test('a zero input tangent gives a zero output tangent, and the tangent is linear in ẋ', () => {
  const layers = mlp(4, 'gelu_tanh', 31);
  const x = tf.randomNormal([8, 4], 0, 1, 'float32', 9);
  const d = tf.randomNormal([8, 4], 0, 1, 'float32', 10);
  const zero = layersJvp(layers, x, tf.zerosLike(x)).tangent;
  assert.equal(tf.max(tf.abs(zero)).dataSync()[0], 0);
  const t1 = layersJvp(layers, x, d).tangent;
  const t3 = layersJvp(layers, x, tf.mul(3, d)).tangent;
  assert.ok(tf.max(tf.abs(tf.sub(t3, tf.mul(3, t1)))).dataSync()[0] < 1e-4);
});

test('meanflowJvp gives dg/dt = (∂g/∂a_t)·v + ∂g/∂t of the policy (vs central differences along the path)', async () => {
  const { createPolicy, policyConfig, meanflowMap, setObservationNormalization } = await import('../src/nn/policy.ts');
  const { meanflowJvp } = await import('../src/nn/jvp.ts');
  for (const timeFeatures of [{ kind: 'sinusoidal', count: 8, maxPeriod: 100 }, { kind: 'scalar' }] as const) {
    const policy = createPolicy(policyConfig({ kind: 'meanflow', observationSize: 6, actionSize: 3, hiddenSizes: [64, 64], activation: 'gelu_tanh', timeFeatures, logStdHead: { min: -5, max: 2, bound: 'clip' } }), 4);
    // The output layer starts at zero; give it weights so the tangent is non-trivial.
    policy.meanHead.kernel.assign(tf.randomNormal([64, 3], 0, 0.3, 'float32', 12));
    setObservationNormalization(policy, [0, 1, 2, 3, 4, 5], [1, 2, 3, 1, 2, 3]);
    const B = 16;
    const obs = tf.randomNormal([B, 6], 0, 1, 'float32', 1);
    const at = tf.randomNormal([B, 3], 0, 1, 'float32', 2);
    const v = tf.randomNormal([B, 3], 0, 1, 'float32', 3);
    const t = tf.randomUniform([B, 1], 0.1, 0.9, 'float32', 4);
    const { value, tangent } = meanflowJvp(policy, obs, at, t, v);
    const h = 1e-3;
    const fd = tf.div(tf.sub(meanflowMap(policy, obs, tf.add(at, tf.mul(h, v)), tf.add(t, h)), meanflowMap(policy, obs, tf.sub(at, tf.mul(h, v)), tf.sub(t, h))), 2 * h);
    assert.ok(tf.max(tf.abs(tf.sub(value, meanflowMap(policy, obs, at, t)))).dataSync()[0] < 1e-5);
    const err = tf.norm(tf.sub(tangent, fd)).dataSync()[0] / tf.norm(fd).dataSync()[0];
    assert.ok(err < 5e-3, `${timeFeatures.kind}: relative error ${err}`);
    // Dropping the ∂g/∂t term (a common bug) must be detectable by this test.
    const { meanflowInput } = await import('../src/nn/policy.ts');
    const tfSize = timeFeatures.kind === 'scalar' ? 1 : 16;
    const noTime = layersJvp([...policy.trunk, policy.meanHead], meanflowInput(policy, obs, at, t), tf.concat([tf.zerosLike(obs), v, tf.zeros([B, tfSize])], 1));
    const errNoTime = tf.norm(tf.sub(noTime.tangent, fd)).dataSync()[0] / tf.norm(fd).dataSync()[0];
    assert.ok(errNoTime > 20 * err, 'the time tangent contributes');
  }
});
