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
