// The fused LayerNorm of cpu-blas (OnestepLayerNorm / OnestepLayerNormGrad) against the same function on stock
// cpu, where it is composed from TF.js ops with TF.js's own gradients: values, every gradient (x, γ, β, and
// through the mean/rstd outputs), fused activations, rows of constant values, batch 1, rank 3; widths that are a
// multiple of 4 (the WebAssembly SIMD loops) and widths that are not (the JS loops); the JVP through it; and that
// the layer stack really runs the fused kernels.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/nn/backend.ts';
import { poisonUninitialized } from '../src/nn/kernels/cpu.ts';
import { denseLayerNorm, layerNorm, layerNormJvp, layerNormWithStats, LayerNormShapeError, LAYER_NORM_ACTIVATIONS } from '../src/nn/layernorm.ts';
import { activationSlopeTimes } from '../src/nn/dense.ts';
import { denseLayer, layerNormLayer, runLayers, type Layer } from '../src/nn/layers.ts';
import { layersJvp } from '../src/nn/jvp.ts';

type Values = { shape: number[]; values: Float32Array };

// Deterministic inputs (a small LCG) so both backends see identical data.
function random(shape: number[], seed: number, lo = -1, hi = 1): Values {
  let s = seed * 2654435761 >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    values[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return { shape, values };
}

/** Runs `fn` on stock cpu (composed ops, the reference) and on cpu-blas (fused kernels) from the same inputs. */
async function onBoth(inputs: Values[], fn: (...xs: tf.Tensor[]) => tf.Tensor[]): Promise<[Values[], Values[]]> {
  const out: Values[][] = [];
  for (const backend of ['cpu', 'cpu-blas']) {
    await tf.setBackend(backend);
    out.push(tf.tidy(() => fn(...inputs.map((i) => tf.tensor(i.values, i.shape))).map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }))));
  }
  await tf.setBackend('cpu-blas');
  return [out[0], out[1]];
}

/** Largest difference, relative to the reference's largest magnitude (at least 1), output by output. */
function assertClose(ref: Values[], ours: Values[], label: string, tol = 1e-5): void {
  assert.equal(ours.length, ref.length, `${label}: number of outputs`);
  for (let k = 0; k < ref.length; k++) {
    assert.deepEqual(ours[k].shape, ref[k].shape, `${label}: shape of output ${k}`);
    let scale = 1, worst = 0;
    for (const v of ref[k].values) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < ref[k].values.length; i++) {
      assert.ok(Number.isFinite(ours[k].values[i]), `${label}: output ${k}[${i}] is ${ours[k].values[i]}`);
      worst = Math.max(worst, Math.abs(ref[k].values[i] - ours[k].values[i]) / scale);
    }
    assert.ok(worst <= tol, `${label}: output ${k} differs by ${worst} (normalised), tolerance ${tol}`);
  }
}

/** Inputs x (with row `constantRow` set to one value, when given), γ, β and a fixed upstream gradient R. */
function inputsFor(shape: number[], seed: number, constantRow?: number): Values[] {
  const n = shape[shape.length - 1];
  const x = random(shape, seed, -3, 3);
  if (constantRow !== undefined) x.values.fill(0.75, constantRow * n, (constantRow + 1) * n);
  return [x, random([n], seed + 1, 0.5, 1.5), random([n], seed + 2, -0.5, 0.5), random(shape, seed + 3)];
}

before(async () => {
  const info = await initBackend({ prefer: 'cpu-blas' });
  assert.equal(info.backend, 'cpu-blas');
  poisonUninitialized(true); // a value the kernels leave unwritten shows up as NaN
});

describe('layerNorm on cpu-blas equals the composed TF.js ops', () => {
  const cases: { shape: number[]; constantRow?: number }[] = [
    { shape: [1, 7] }, // batch 1
    { shape: [1, 4], constantRow: 0 }, // batch 1, variance 0
    { shape: [256, 256], constantRow: 3 }, // the critics' size, one row of constant values
    { shape: [5, 3], constantRow: 4 },
    { shape: [9, 33] }, // odd width: the unrolled loops' tails
    { shape: [3, 20], constantRow: 2 },
    { shape: [2, 3, 6], constantRow: 1 }, // rank 3: rows are all leading dimensions
    { shape: [2, 3, 8], constantRow: 4 },
    { shape: [4, 1] }, // one feature: every row has variance 0
  ];
  for (const activation of LAYER_NORM_ACTIVATIONS) {
    for (const { shape, constantRow } of cases) {
      const label = `${activation} [${shape}]${constantRow !== undefined ? ` with row ${constantRow} constant` : ''}`;
      test(`${label}: value and the gradients for x, γ and β`, async () => {
        const [ref, ours] = await onBoth(inputsFor(shape, shape.length * 7 + shape[0], constantRow), (x, g, b, r) => {
          const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layerNorm(x, g, b, 1e-5, activation), r));
          return [layerNorm(x, g, b, 1e-5, activation), ...tf.grads(f)([x, g, b])];
        });
        assertClose(ref, ours, label);
      });
      test(`${label}: the JVP kernel (value and tangent) equals the composed JVP`, async () => {
        const [x, g, b, xDot] = inputsFor(shape, shape.length * 5 + shape[0], constantRow);
        const [ref, ours] = await onBoth([x, g, b, xDot], (x, g, b, d) => {
          const { value, tangent } = layerNormJvp(x, d, g, b, 1e-5, activation);
          return [value, tangent, layerNorm(x, g, b, 1e-5, activation)];
        });
        // The tangent divides by √(var + ε): scale the tolerance with the largest rstd (rows of constant values).
        assertClose(ref, ours, `${label} JVP`, constantRow !== undefined ? 2e-3 : 1e-5);
        assert.deepEqual(ours[0].values, ours[2].values, 'the JVP value is the forward kernel\'s output, bit for bit');
      });
    }
  }

  test('activationSlopeTimes (the JVP through relu/tanh, one kernel) equals slope·dy composed, NaN included', async () => {
    const y = random([7, 9], 33, -1, 1);
    y.values[5] = NaN;
    const [ref, ours] = await onBoth([y, random([7, 9], 34)], (y, dy) => [activationSlopeTimes(tf.relu(y), dy, 'relu'), activationSlopeTimes(tf.tanh(y), dy, 'tanh')]);
    for (const out of [...ref, ...ours]) out.values[5] = 0; // NaN·mask is NaN or 0 depending on the mask: not part of the contract
    assertClose(ref, ours, 'slope times dy');
    assert.throws(() => activationSlopeTimes(tf.ones([2, 3]), tf.ones([3, 2]), 'relu'), /must have one shape/);
  });

  for (const activation of LAYER_NORM_ACTIVATIONS) for (const [rows, k, n] of [[1280, 29, 256], [7, 5, 12], [9, 4, 10], [1, 3, 1]]) {
    test(`denseLayerNorm ${activation} ${rows}×${k}→${n}: without a tape one kernel equal to dense then layerNorm; with one, their gradients`, async () => {
      const inputs = [random([rows, k], rows + n, -2, 2), random([k, n], 5), random([n], 6), random([n], 7, 0.5, 1.5), random([n], 8, -0.5, 0.5), random([rows, n], 9)];
      const [ref, ours] = await onBoth(inputs, (x, W, b, g, be, r) => {
        const f = (x: tf.Tensor, W: tf.Tensor, g: tf.Tensor) => tf.sum(tf.mul(denseLayerNorm(x as tf.Tensor2D, W as tf.Tensor2D, b, g, be, 1e-5, activation), r));
        return [denseLayerNorm(x as tf.Tensor2D, W as tf.Tensor2D, b, g, be, 1e-5, activation), ...tf.grads(f)([x, W, g])];
      });
      assertClose(ref, ours, `dense+layerNorm ${activation}`, 2e-5);
    });
  }

  test('denseLayerNorm runs its one kernel only while no tape records', async () => {
    await tf.setBackend('cpu-blas');
    const [x, W] = [tf.ones([4, 3]) as tf.Tensor2D, tf.ones([3, 8]) as tf.Tensor2D];
    const [b, g, be] = [tf.zeros([8]), tf.ones([8]), tf.zeros([8])];
    const plain = await tf.profile(() => tf.tidy(() => denseLayerNorm(x, W, b, g, be, 1e-5, 'relu')));
    assert.deepEqual(plain.kernelNames, ['OnestepDenseLayerNorm']);
    const taped = await tf.profile(() => tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(denseLayerNorm(x as tf.Tensor2D, W, b, g, be, 1e-5, 'relu')))(x)));
    assert.ok(!taped.kernelNames.includes('OnestepDenseLayerNorm') && taped.kernelNames.includes('OnestepDense') && taped.kernelNames.includes('OnestepLayerNormGrad'), taped.kernelNames.join());
    assert.throws(() => denseLayerNorm(x, W, b, tf.ones([3]), be, 1e-5), /gamma must be \[8\]/);
    tf.dispose([x, W, b, g, be]);
  });

  test('layerNormJvp rejects a tangent of another shape, and the JVP kernel has no gradient (it runs outside any tape)', () => {
    const x = tf.ones([2, 4]), g = tf.ones([4]), b = tf.zeros([4]);
    assert.throws(() => layerNormJvp(x, tf.ones([2, 3]), g, b, 1e-5), (e: Error) => e instanceof LayerNormShapeError && /tangent must be float32 \[2,4\]/.test(e.message));
    assert.throws(() => tf.grad((x: tf.Tensor) => tf.sum(layerNormJvp(x, x, g, b, 1e-5).tangent))(x), /gradient function not found for OnestepLayerNormJvp/);
    tf.dispose([x, g, b]);
  });

  for (const width of [10, 12]) test(`gradients through the mean and rstd outputs as well as the value (width ${width})`, async () => {
    const [x, g, b, r] = inputsFor([6, width], 41, 2);
    const [ref, ours] = await onBoth([x, g, b, r, random([6, 1], 45), random([6, 1], 46)], (x, g, b, r, rm, rs) => {
      const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { value, mean, rstd } = layerNormWithStats(x, g, b, 1e-3);
        return tf.addN([tf.sum(tf.mul(value, r)), tf.sum(tf.mul(mean, rm)), tf.mul(0.01, tf.sum(tf.mul(rstd, rs)))]);
      };
      const { value, mean, rstd } = layerNormWithStats(x, g, b, 1e-3);
      return [value, mean, rstd, ...tf.grads(f)([x, g, b])];
    });
    assertClose(ref, ours, 'with statistics');
  });

  for (const width of [11, 12]) test(`gradients for only some inputs (frozen γ, β: an actor loss through a critic; only γ), width ${width}`, async () => {
    const [ref, ours] = await onBoth(inputsFor([8, width], 51, 5), (x, g, b, r) => {
      const onlyX = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(layerNorm(x, g, b, 1e-5, 'relu'), r)))(x);
      const onlyGamma = tf.grad((g: tf.Tensor) => tf.sum(tf.mul(layerNorm(x, g, b, 1e-5, 'relu'), r)))(g);
      return [onlyX, onlyGamma];
    });
    assertClose(ref, ours, 'partial gradients');
  });

  test('second use of the same input accumulates its gradients (x feeds two LayerNorms)', async () => {
    const [ref, ours] = await onBoth(inputsFor([5, 8], 61), (x, g, b, r) => {
      const f = (x: tf.Tensor, g: tf.Tensor) => tf.sum(tf.mul(tf.add(layerNorm(x, g, b, 1e-5, 'tanh'), layerNorm(tf.mul(2, x), g, b, 1e-5)), r));
      return tf.grads(f)([x, g]);
    });
    assertClose(ref, ours, 'accumulated gradients');
  });
});

describe('layers and JVP on cpu-blas', () => {
  function critic(seed: number): Layer[] {
    const layers: Layer[] = [
      denseLayer('h0', 9, 32, 'uniform', seed), layerNormLayer('n0', 32), { kind: 'activation', name: 'a0', fn: 'relu' },
      denseLayer('h1', 32, 32, 'uniform', seed + 2), layerNormLayer('n1', 32), { kind: 'activation', name: 'a1', fn: 'gelu_tanh' },
      denseLayer('out', 32, 1, 'uniform', seed + 4),
    ];
    // A non-trivial affine part, so γ and β enter every result.
    tf.tidy(() => {
      for (const l of layers) {
        if (l.kind === 'layernorm') {
          l.gamma.assign(tf.randomUniform([32], 0.5, 1.5, 'float32', seed + 7));
          l.beta.assign(tf.randomUniform([32], -0.3, 0.3, 'float32', seed + 8));
        }
      }
    });
    return layers;
  }

  test('runLayers runs LayerNorm + relu as the fused kernels (no separate Relu) with the composed result', async () => {
    await tf.setBackend('cpu-blas');
    const layers = critic(3);
    const x = tf.tensor(random([16, 9], 71).values, [16, 9]);
    const { kernelNames } = await tf.profile(() => tf.variableGrads(() => tf.sum(runLayers(layers, x)) as tf.Scalar));
    assert.ok(kernelNames.includes('OnestepLayerNorm') && kernelNames.includes('OnestepLayerNormGrad'), kernelNames.join());
    assert.ok(!kernelNames.includes('Relu') && !kernelNames.includes('Rsqrt'), kernelNames.join());
    const fused = tf.tidy(() => runLayers(layers, x).dataSync());
    await tf.setBackend('cpu');
    const composed = tf.tidy(() => runLayers(layers, x).dataSync());
    await tf.setBackend('cpu-blas');
    for (let i = 0; i < fused.length; i++) assert.ok(Math.abs(fused[i] - composed[i]) < 1e-5, `row ${i}: ${fused[i]} vs ${composed[i]}`);
    tf.dispose([x, ...layers.flatMap((l) => (l.kind === 'dense' ? [l.kernel, l.bias] : l.kind === 'layernorm' ? [l.gamma, l.beta] : []))]);
  });

  test('the JVP primal is the fused forward exactly, and the tangent matches the composed JVP and finite differences', async () => {
    await tf.setBackend('cpu-blas');
    const layers = critic(13);
    const xv = random([12, 9], 81), dv = random([12, 9], 82);
    const run = () => tf.tidy(() => {
      const x = tf.tensor(xv.values, xv.shape), xDot = tf.tensor(dv.values, dv.shape);
      const { value, tangent } = layersJvp(layers, x, xDot);
      const h = 1e-3;
      const fd = tf.div(tf.sub(runLayers(layers, tf.add(x, tf.mul(h, xDot))), runLayers(layers, tf.sub(x, tf.mul(h, xDot)))), 2 * h);
      return { value: value.dataSync(), primal: runLayers(layers, x).dataSync(), tangent: tangent.dataSync(), fd: fd.dataSync() };
    });
    const ours = run();
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('cpu-blas');
    assert.deepEqual(ours.value, ours.primal, 'JVP primal = forward pass, bit for bit');
    for (let i = 0; i < ours.tangent.length; i++) {
      assert.ok(Math.abs(ours.value[i] - ref.value[i]) < 1e-5, `value ${i}: ${ours.value[i]} vs ${ref.value[i]}`);
      assert.ok(Math.abs(ours.tangent[i] - ref.tangent[i]) < 1e-4 * Math.max(1, Math.abs(ref.tangent[i])), `tangent ${i}: ${ours.tangent[i]} vs composed ${ref.tangent[i]}`);
    }
    // Relative L2 error against central differences (a few units may cross a ReLU kink, as in test/jvp.test.ts).
    let err = 0, norm = 0;
    for (let i = 0; i < ours.fd.length; i++) { err += (ours.tangent[i] - ours.fd[i]) ** 2; norm += ours.fd[i] ** 2; }
    assert.ok(Math.sqrt(err / norm) < 2e-2, `tangent vs finite differences: relative error ${Math.sqrt(err / norm)}`);
    // LayerNorm + relu and Dense + relu run as one kernel each, with no separate slope or products.
    const { kernelNames } = await tf.profile(() => tf.tidy(() => layersJvp(layers, tf.tensor(xv.values, xv.shape), tf.tensor(dv.values, dv.shape)).tangent));
    assert.ok(kernelNames.includes('OnestepLayerNormJvp') && !kernelNames.includes('Step'), kernelNames.join());
  });

  test('no tensors are left behind by the forward, the gradients or the JVP', () => {
    const [x, g, b] = inputsFor([4, 6], 91).map((v) => tf.tensor(v.values, v.shape));
    const before = tf.memory().numTensors;
    tf.dispose(layerNorm(x, g, b, 1e-5, 'relu'));
    tf.dispose(tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(layerNorm(x, g, b, 1e-5, 'relu')))([x, g, b]));
    const stats = layerNormWithStats(x, g, b, 1e-5);
    tf.dispose([stats.value, stats.mean, stats.rstd]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, g, b]);
  });
});

test('bad shapes, epsilon and activations are typed errors naming the problem', () => {
  const x = tf.ones([2, 3]), g = tf.ones([3]), b = tf.zeros([3]);
  assert.throws(() => layerNorm(x, tf.ones([4]), b, 1e-5), (e: Error) => e instanceof LayerNormShapeError && /gamma must be \[3\]/.test(e.message));
  assert.throws(() => layerNorm(x, g, tf.zeros([2, 3]), 1e-5), /beta must be \[3\]/);
  assert.throws(() => layerNorm(tf.ones([2, 0]), tf.ones([0]), tf.zeros([0]), 1e-5), /non-empty last axis/);
  assert.throws(() => layerNorm(tf.scalar(1), g, b, 1e-5), /non-empty last axis/);
  assert.throws(() => layerNorm(x, g, b, -1), /epsilon must be/);
  assert.throws(() => layerNorm(x, g, b, 1e-5, 'gelu' as never), /activation must be one of linear, relu, tanh/);
  assert.throws(() => layerNorm(tf.ones([2, 3], 'int32'), g, b, 1e-5), /must be float32/);
  tf.dispose([x, g, b]);
});
