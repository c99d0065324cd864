// Every cpu-blas kernel against the stock TF.js cpu kernel: forward and gradient, transposes, batches,
// broadcasts, odd sizes, bias/activation variants, and the cases that must fall back to the stock kernel.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/nn/backend.ts';
import { dense, DenseShapeError } from '../src/nn/dense.ts';
import { BINARY_OPS, UNARY_OPS } from '../src/nn/kernels/elementwise.ts';
import { clearBufferPool, pooledBytes, poisonUninitialized } from '../src/nn/kernels/cpu.ts';

type Arrays = { shape: number[]; values: Float32Array | Int32Array }[];

// Deterministic inputs (a small LCG) so both backends see identical data.
function random(shape: number[], seed: number, lo = -1, hi = 1): { shape: number[]; values: Float32Array } {
  let s = seed * 2654435761 >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    values[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return { shape, values };
}

/** Runs `fn` on stock cpu and on cpu-blas from the same input data; returns both results as plain arrays. */
async function onBoth(inputs: Arrays, fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<[Arrays, Arrays]> {
  const out: Arrays[] = [];
  for (const backend of ['cpu', 'cpu-blas']) {
    await tf.setBackend(backend);
    const res = tf.tidy(() => {
      const xs = inputs.map((i) => tf.tensor(i.values, i.shape, i.values instanceof Int32Array ? 'int32' : 'float32'));
      const r = fn(...xs);
      return (Array.isArray(r) ? r : [r]).map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
    });
    out.push(res);
  }
  await tf.setBackend('cpu-blas');
  return [out[0], out[1]];
}

function assertClose(stock: Arrays, ours: Arrays, label: string, tol = 2e-5): void {
  assert.equal(ours.length, stock.length, `${label}: number of outputs`);
  for (let k = 0; k < stock.length; k++) {
    assert.deepEqual(ours[k].shape, stock[k].shape, `${label}: shape of output ${k}`);
    let scale = 1, worst = 0;
    for (const v of stock[k].values) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < stock[k].values.length; i++) {
      const a = stock[k].values[i], b = ours[k].values[i];
      if (Number.isNaN(a) || Number.isNaN(b)) {
        assert.ok(Number.isNaN(a) && Number.isNaN(b), `${label}: NaN mismatch at ${i} (stock ${a}, ours ${b})`);
        continue;
      }
      worst = Math.max(worst, Math.abs(a - b) / scale);
    }
    assert.ok(worst <= tol, `${label}: output ${k} differs by ${worst} (normalised), tolerance ${tol}`);
  }
}

/** Forward value plus the gradient w.r.t. every input of sum(f(x)·R), R fixed, so dy is not all ones. */
function withGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, nInputs: number) {
  return (...xs: tf.Tensor[]): tf.Tensor[] => {
    const y = f(...xs);
    const r = tf.tensor(random(y.shape, 99, -1, 1).values, y.shape);
    const grads = tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), r)))(xs.slice(0, nInputs));
    return [y, ...grads];
  };
}

before(async () => {
  const info = await initBackend({ prefer: 'cpu-blas' });
  assert.equal(info.backend, 'cpu-blas');
  poisonUninitialized(true);
});

describe('BatchMatMul', () => {
  const shapes: [number[], number[]][] = [
    [[1, 1], [1, 1]], [[3, 5], [5, 7]], [[17, 256], [256, 12]], [[256, 23], [23, 1]], [[2, 3, 5], [2, 5, 4]],
    [[4, 1, 3, 5], [4, 1, 5, 2]], [[3, 6, 5], [5, 7]], [[5, 3], [2, 3, 4]], [[1, 4, 3], [6, 3, 2]], [[0, 3], [3, 4]],
  ];
  for (const [a, b] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const sa = [...a], sb = [...b];
        if (transA) [sa[sa.length - 2], sa[sa.length - 1]] = [sa[sa.length - 1], sa[sa.length - 2]];
        if (transB) [sb[sb.length - 2], sb[sb.length - 1]] = [sb[sb.length - 1], sb[sb.length - 2]];
        // TF.js's own BatchMatMul gradient does not reduce broadcast batch dimensions: forward only there.
        const sameBatch = a.length === b.length && a.slice(0, -2).every((d, i) => d === b[i]);
        test(`[${sa}]${transA ? 'ᵀ' : ''} · [${sb}]${transB ? 'ᵀ' : ''} forward${sameBatch ? ' and gradient' : ''}`, async () => {
          const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, transA, transB);
          const [stock, ours] = await onBoth([random(sa, 1), random(sb, 2)], sameBatch ? withGrads(f, 2) : f);
          assertClose(stock, ours, 'matMul');
        });
      }
    }
  }
  test('general batch broadcasting ([2,1,m,k] · [1,3,k,n]) falls back to the stock kernel', async () => {
    const [stock, ours] = await onBoth([random([2, 1, 3, 4], 3), random([1, 3, 4, 5], 4)], (x, y) => tf.matMul(x, y));
    assertClose(stock, ours, 'broadcast matMul');
  });
  test('int32 matMul falls back to the stock kernel', async () => {
    const a = { shape: [2, 3], values: Int32Array.from([1, 2, 3, 4, 5, 6]) }, b = { shape: [3, 2], values: Int32Array.from([1, 0, 0, 1, 1, 1]) };
    const [stock, ours] = await onBoth([a, b], (x, y) => tf.matMul(x, y));
    assertClose(stock, ours, 'int32 matMul', 0);
  });
});

describe('_FusedMatMul', () => {
  const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const;
  for (const activation of activations) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
      test(`${activation}, bias [n], transposeA=${transA}, transposeB=${transB}`, async () => {
        const sa = transA ? [7, 9] : [9, 7], sb = transB ? [5, 7] : [7, 5];
        const [stock, ours] = await onBoth([random(sa, 5, -2, 2), random(sb, 6), random([5], 7)], (a, b, bias) =>
          tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation, transposeA: transA, transposeB: transB, leakyreluAlpha: 0.1 }));
        assertClose(stock, ours, `fused ${activation}`);
      });
    }
  }
  for (const activation of ['linear', 'relu'] as const) {
    test(`${activation} gradient with bias, batched`, async () => {
      const [stock, ours] = await onBoth([random([3, 6, 4], 8, -2, 2), random([3, 4, 5], 9), random([5], 10)],
        withGrads((a, b, bias) => tf.fused.matMul({ a, b, bias, activation }), 3));
      assertClose(stock, ours, `fused grad ${activation}`);
    });
  }
  test('scalar bias, no bias, [1, n] bias and a prelu fallback', async () => {
    const a = random([4, 3], 11), b = random([3, 6], 12);
    for (const bias of [random([1], 13), random([1, 6], 14), random([4, 6], 15)]) {
      const [stock, ours] = await onBoth([a, b, bias], (x, y, z) => tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation: 'relu' }));
      assertClose(stock, ours, `bias [${bias.shape}]`);
    }
    const [s1, o1] = await onBoth([a, b], (x, y) => tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D }));
    assertClose(s1, o1, 'no bias');
    const [s2, o2] = await onBoth([a, b, random([6], 16)], (x, y, w) =>
      tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, activation: 'prelu', preluActivationWeights: w }));
    assertClose(s2, o2, 'prelu');
  });
});

describe('dense (OnestepDense / OnestepDenseGrad)', () => {
  for (const activation of ['linear', 'relu', 'tanh'] as const) {
    for (const [rows, nIn, nOut] of [[1, 1, 1], [256, 17, 256], [7, 23, 1], [1280, 256, 1], [5, 3, 12], [33, 65, 31]]) {
      test(`${activation} ${rows}×${nIn}→${nOut} matches act(x·W + b) on stock cpu, value and gradients`, async () => {
        const inputs = [random([rows, nIn], 20, -2, 2), random([nIn, nOut], 21), random([nOut], 22)];
        const out: Arrays[] = [];
        for (const backend of ['cpu', 'cpu-blas']) {
          await tf.setBackend(backend);
          out.push(tf.tidy(() => {
            const [x, W, b] = inputs.map((i) => tf.tensor(i.values, i.shape));
            // On stock cpu dense() is composed from matMul/add/activation: the reference.
            return withGrads((x, W, b) => dense(x as tf.Tensor2D, W as tf.Tensor2D, b, activation), 3)(x, W, b)
              .map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
          }));
        }
        assertClose(out[0], out[1], `dense ${activation}`);
      });
    }
  }
  test('gradients through a stack for only some inputs (critic weights frozen, actor input only) match stock', async () => {
    const inputs = [random([9, 5], 23, -2, 2), random([5, 7], 24), random([7], 25), random([7, 3], 26), random([3], 27)];
    const out: Arrays[] = [];
    for (const backend of ['cpu', 'cpu-blas']) {
      await tf.setBackend(backend);
      out.push(tf.tidy(() => {
        const [x, W1, b1, W2, b2] = inputs.map((i) => tf.tensor(i.values, i.shape));
        const net = (x: tf.Tensor, W1: tf.Tensor, W2: tf.Tensor) =>
          tf.sum(tf.square(dense(dense(x as tf.Tensor2D, W1 as tf.Tensor2D, b1, 'relu'), W2 as tf.Tensor2D, b2, 'tanh')));
        const onlyX = tf.grad((x: tf.Tensor) => net(x, W1, W2))(x);
        const onlyW2 = tf.grad((W2: tf.Tensor) => net(x, W1, W2))(W2);
        const onlyB1 = tf.grad((b: tf.Tensor) => tf.sum(tf.square(dense(x as tf.Tensor2D, W1 as tf.Tensor2D, b, 'relu'))))(b1);
        return [onlyX, onlyW2, onlyB1].map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
      }));
    }
    assertClose(out[0], out[1], 'partial gradients');
  });
  test('on wasm dense (custom gradient with explicit transposes) matches stock cpu, value and gradients', async () => {
    await initBackend({ prefer: 'wasm' });
    const inputs = [random([6, 5], 28, -2, 2), random([5, 4], 29), random([4], 30)];
    const out: Arrays[] = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      out.push(tf.tidy(() => {
        const [x, W, b] = inputs.map((i) => tf.tensor(i.values, i.shape));
        return withGrads((x, W, b) => dense(x as tf.Tensor2D, W as tf.Tensor2D, b, 'relu'), 3)(x, W, b)
          .map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
      }));
    }
    await tf.setBackend('cpu-blas');
    assertClose(out[0], out[1], 'dense on wasm', 1e-5);
  });
  test('on cpu-blas dense runs the fused kernels', async () => {
    await tf.setBackend('cpu-blas');
    const x = tf.ones([2, 3]) as tf.Tensor2D, W = tf.ones([3, 4]) as tf.Tensor2D, b = tf.zeros([4]);
    const { kernelNames } = await tf.profile(() => tf.grads((W: tf.Tensor) => tf.sum(dense(x, W as tf.Tensor2D, b, 'relu')))([W]));
    assert.ok(kernelNames.includes('OnestepDense') && kernelNames.includes('OnestepDenseGrad'), kernelNames.join());
    tf.dispose([x, W, b]);
  });
  test('wrong shapes and activations are typed errors naming the problem', () => {
    const x = tf.ones([2, 3]) as tf.Tensor2D, W = tf.ones([4, 5]) as tf.Tensor2D, b = tf.zeros([5]);
    assert.throws(() => dense(x, W, b), (e: Error) => e instanceof DenseShapeError && /weight must be \[3, out\]/.test(e.message));
    assert.throws(() => dense(x, tf.ones([3, 5]) as tf.Tensor2D, tf.zeros([4])), /bias must have 5 values/);
    assert.throws(() => dense(tf.ones([3]) as unknown as tf.Tensor2D, W, b), /input must be \[batch, features\]/);
    assert.throws(() => dense(x, tf.ones([3, 5]) as tf.Tensor2D, b, 'swish' as never), /activation must be one of/);
  });
});

describe('elementwise', () => {
  const patterns: [number[], number[]][] = [
    [[4, 5], [4, 5]], [[4, 5], [1]], [[1], [4, 5]], [[4, 5], [5]], [[5], [4, 5]], [[4, 5], [4, 1]], [[4, 1], [4, 5]],
    [[2, 3, 4], [3, 4]], [[2, 3, 4], [2, 3, 1]], [[2, 3, 4], [2, 1, 1]], [[4, 1], [1, 5]], [[2, 1, 4], [3, 1]], [[3], []],
  ];
  for (const op of Object.keys(BINARY_OPS)) {
    const fn = ({ Add: tf.add, Sub: tf.sub, Multiply: tf.mul, RealDiv: tf.div, Maximum: tf.maximum, Minimum: tf.minimum, SquaredDifference: tf.squaredDifference } as const)[op as 'Add'];
    for (const [sa, sb] of patterns) {
      // TF.js's Maximum/Minimum/SquaredDifference gradients do not reduce broadcasts: forward only there.
      const gradOk = ['Add', 'Sub', 'Multiply', 'RealDiv'].includes(op) || sa.join() === sb.join();
      test(`${op} [${sa}] with [${sb}], value${gradOk ? ' and gradients' : ''}`, async () => {
        const a = random(sa, 30), b = random(sb, 31, 0.5, 2);
        const f = (x: tf.Tensor, y: tf.Tensor) => fn(x, y);
        const [stock, ours] = await onBoth([a, b], gradOk ? withGrads(f, 2) : f);
        assertClose(stock, ours, op);
      });
    }
  }
  test('Maximum/Minimum propagate NaN like the stock kernels; int32 falls back', async () => {
    const a = { shape: [4], values: Float32Array.from([NaN, 1, 2, NaN]) }, b = { shape: [4], values: Float32Array.from([0, NaN, 3, NaN]) };
    const [stock, ours] = await onBoth([a, b], (x, y) => [tf.maximum(x, y), tf.minimum(x, y), tf.add(x, y)]);
    assertClose(stock, ours, 'NaN');
    const i = { shape: [3], values: Int32Array.from([1, -2, 3]) };
    const [s2, o2] = await onBoth([i, i], (x, y) => [tf.add(x, y), tf.mul(x, y), tf.sub(x, y)]);
    assertClose(s2, o2, 'int32', 0);
  });
  for (const op of Object.keys(UNARY_OPS)) {
    const fn = ({ Neg: tf.neg, Exp: tf.exp, Log: tf.log, Tanh: tf.tanh, Sigmoid: tf.sigmoid, Sqrt: tf.sqrt, Square: tf.square, Abs: tf.abs, Relu: tf.relu, Cos: tf.cos, Sin: tf.sin } as const)[op as 'Neg'];
    test(`${op}, value and gradient, with odd sizes`, async () => {
      const positive = op === 'Log' || op === 'Sqrt';
      const [stock, ours] = await onBoth([random([3, 7, 5], 40, positive ? 0.1 : -3, 3)], withGrads((x) => fn(x), 1));
      assertClose(stock, ours, op);
    });
  }
  test('Relu and Neg keep NaN', async () => {
    const [stock, ours] = await onBoth([{ shape: [3], values: Float32Array.from([NaN, -1, 1]) }], (x) => [tf.relu(x), tf.neg(x)]);
    assertClose(stock, ours, 'NaN unary');
  });
  test('ClipByValue and Step (alpha 0 and 0.3), values with NaN, ±0 and the bounds themselves, and gradients', async () => {
    const x = { shape: [2, 7], values: Float32Array.from([NaN, -2, -1, -0, 0, 0.5, 1, 1.5, 3, -1e-8, 1e-8, -0.999, 0.999, 2]) };
    const [stock, ours] = await onBoth([x], (t) => [tf.clipByValue(t, -1, 1), tf.step(t), tf.step(t, 0.3)]);
    assertClose(stock, ours, 'clip/step', 0);
    const [s2, o2] = await onBoth([random([5, 9], 41, -3, 3)], withGrads((t) => tf.clipByValue(t, -1, 0.5), 1));
    assertClose(s2, o2, 'clip gradient', 0);
    const ints = { shape: [4], values: Int32Array.from([-3, 0, 2, 5]) };
    const [s3, o3] = await onBoth([ints], (t) => [tf.clipByValue(t, -1, 3), tf.step(t)]);
    assertClose(s3, o3, 'int32 clip/step fall back', 0);
  });
});

describe('GatherV2 and Tile', () => {
  for (const [shape, indices, axis] of [
    [[1280, 12], [0, 5, 10, 1275, 3], 0], [[6, 3], [5, 5, 0], 0], [[4, 7], [6, 0, 2], 1], [[2, 5, 3], [4, 1], 1], [[2, 3, 70], [2, 0], 1], [[5], [4, 0, 4], 0],
  ] as [number[], number[], number][]) {
    test(`gather [${shape}] rows ${JSON.stringify(indices)} along ${axis}, value and gradient`, async () => {
      const idx = { shape: [indices.length], values: Int32Array.from(indices) };
      const [stock, ours] = await onBoth([random(shape, 45), idx], (x, i) => {
        const y = tf.gather(x, i, axis);
        const r = tf.tensor(random(y.shape, 46).values, y.shape);
        return [y, tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.gather(z, i, axis), r)))(x)];
      });
      assertClose(stock, ours, 'gather', 0);
    });
  }
  test('gather with a 2-D index tensor, and an index out of range is the stock error', async () => {
    const idx = { shape: [2, 2], values: Int32Array.from([3, 0, 1, 1]) };
    const [stock, ours] = await onBoth([random([4, 5], 47), idx], (x, i) => tf.gather(x, i));
    assertClose(stock, ours, 'gather 2-D indices', 0);
    await tf.setBackend('cpu-blas');
    assert.throws(() => tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], 'int32'))), /GatherV2: the index value 3 is not in \[0, 2\]/);
  });
  for (const [shape, reps] of [
    [[256, 1, 17], [1, 5, 1]], [[3, 4], [2, 3]], [[5], [4]], [[2, 1, 3], [3, 4, 2]], [[4, 2], [1, 1]], [[1, 3], [0, 2]],
  ] as [number[], number[]][]) {
    test(`tile [${shape}] by [${reps}], value and gradient`, async () => {
      const [stock, ours] = await onBoth([random(shape, 48)], withGrads((x) => tf.tile(x, reps), 1));
      assertClose(stock, ours, 'tile', 0);
    });
  }
});

describe('Sum and Mean', () => {
  for (const [shape, axis, keepDims] of [
    [[256, 24], 1, false], [[256, 24], 0, false], [[256, 1], 0, true], [[2, 3, 4], [1, 2], false], [[2, 3, 4], [0, 1], true],
    [[2, 3, 4], 1, false], [[5], 0, false], [[3, 4], [0, 1], false], [[3, 4], -1, true], [[3, 0], 1, false], [[4, 3], [1, 0], false],
  ] as [number[], number | number[], boolean][]) {
    test(`sum and mean of [${shape}] over ${JSON.stringify(axis)} (keepDims ${keepDims}), value and gradient`, async () => {
      const [stock, ours] = await onBoth([random(shape, 90)], (x) => {
        const f = (y: tf.Tensor) => tf.add(tf.sum(tf.square(tf.sum(y, axis, keepDims))), tf.sum(tf.square(tf.mean(y, axis, keepDims))));
        return [tf.sum(x, axis, keepDims), tf.mean(x, axis, keepDims), tf.grad(f)(x)];
      });
      assertClose(stock, ours, 'reduce');
    });
  }
  test('int32 and bool sums fall back to the stock kernel', async () => {
    const [stock, ours] = await onBoth([{ shape: [2, 3], values: Int32Array.from([1, 2, 3, 4, 5, 6]) }], (x) => [tf.sum(x, 0), tf.sum(tf.greater(x, 2), 1)]);
    assertClose(stock, ours, 'int sum', 0);
  });
});

describe('SplitV, Slice, Concat', () => {
  for (const [shape, sizes, axis] of [
    [[256, 24], 2, 1], [[5, 7], [2, 4, 1], 1], [[6, 3], [1, 5], 0], [[2, 3, 8], [3, 5], -1], [[2, 9, 4], [3, 3, 3], 1], [[3, 1], 3, 0],
  ] as [number[], number | number[], number][]) {
    test(`split [${shape}] into ${JSON.stringify(sizes)} along ${axis}, value and gradient`, async () => {
      const [stock, ours] = await onBoth([random(shape, 50)], (x) => {
        const parts = tf.split(x, sizes, axis);
        const weights = parts.map((p, i) => tf.tensor(random(p.shape, 60 + i).values, p.shape));
        const loss = (y: tf.Tensor) => tf.addN(tf.split(y, sizes, axis).map((p, i) => tf.sum(tf.mul(p, weights[i]))));
        return [...parts, tf.grad(loss)(x)];
      });
      assertClose(stock, ours, 'split');
    });
  }
  for (const [shape, begin, size] of [
    [[5, 7], [0, 2], [5, 3]], [[5, 7], [1, 0], [3, 7]], [[2, 3, 4], [0, 1, 0], [2, 2, 4]], [[2, 3, 4], [1, 1, 1], [1, 2, 3]], [[9], [2], [4]],
  ] as [number[], number[], number[]][]) {
    test(`slice [${shape}] begin [${begin}] size [${size}], value and gradient`, async () => {
      const [stock, ours] = await onBoth([random(shape, 70)], withGrads((x) => tf.slice(x, begin, size), 1));
      assertClose(stock, ours, 'slice');
    });
  }
  for (const [shapes, axis] of [
    [[[256, 17], [256, 12]], 1], [[[2, 3], [4, 3], [1, 3]], 0], [[[2, 3, 1], [2, 3, 4]], 2], [[[3], [0], [2]], 0], [[[2, 0], [2, 5]], 1],
  ] as [number[][], number][]) {
    test(`concat ${JSON.stringify(shapes)} along ${axis}, value and gradient`, async () => {
      const inputs = shapes.map((s, i) => random(s, 80 + i));
      const [stock, ours] = await onBoth(inputs, withGrads((...xs) => tf.concat(xs, axis), shapes.length));
      assertClose(stock, ours, 'concat');
    });
  }
});

describe('output buffer pool (buffers of disposed tensors are reused, never while someone can see them)', () => {
  const N = [64, 32]; // 2048 values: large enough to be pooled
  const churn = (x: tf.Tensor) => { for (let i = 0; i < 8; i++) tf.dispose([tf.relu(x), tf.neg(x), tf.mul(x, 3)]); };

  test('a disposed output goes to the pool and the next output of its size takes it', async () => {
    await tf.setBackend('cpu-blas');
    clearBufferPool();
    const x = tf.tensor(random(N, 1).values, N);
    const y = tf.relu(x);
    assert.equal(pooledBytes(), 0);
    y.dispose();
    assert.equal(pooledBytes(), 2048 * 4);
    const z = tf.neg(x);
    assert.equal(pooledBytes(), 0, 'taken back out');
    assert.deepEqual(Array.from(z.dataSync()), Array.from(x.dataSync(), (v) => -v), 'and fully overwritten');
    tf.dispose([x, z]);
  });

  test('an array from dataSync() stays intact after its tensor is disposed and others are computed', async () => {
    await tf.setBackend('cpu-blas');
    const x = tf.tensor(random(N, 2).values, N);
    const y = tf.relu(x);
    const seen = y.dataSync() as Float32Array, copy = seen.slice();
    y.dispose();
    churn(x);
    assert.deepEqual(seen, copy);
    const z = tf.relu(x);
    assert.notEqual(z.dataSync(), seen, 'a fresh buffer, not the one handed out');
    tf.dispose([x, z]);
  });

  test('a stock Slice that shares memory with our output keeps that buffer out of the pool', async () => {
    await tf.setBackend('cpu-blas');
    const shape = [2, 64, 16];
    const x = tf.tensor(random(shape, 3).values, shape);
    const y = tf.relu(x);
    const s = tf.slice(y, [1, 1, 0], [1, 2, 16]); // two axes cut: the stock kernel, a view into y's buffer
    const expected = Array.from(tf.tidy(() => tf.relu(tf.slice(x, [1, 1, 0], [1, 2, 16]))).dataSync());
    y.dispose();
    churn(x);
    assert.deepEqual(Array.from(s.dataSync()), expected);
    tf.dispose([x, s]);
  });

  test('arrays handed to tf.tensor() are never recycled', async () => {
    await tf.setBackend('cpu-blas');
    const mine = random(N, 4).values, copy = mine.slice();
    const t = tf.tensor(mine, N);
    const x = tf.relu(t);
    t.dispose();
    churn(x);
    assert.deepEqual(mine, copy);
    x.dispose();
  });

  test('tensors move between cpu and cpu-blas both ways, and results stay right', async () => {
    await tf.setBackend('cpu-blas');
    const x = tf.tensor(random(N, 5).values, N);
    const y = tf.relu(x);
    await tf.setBackend('cpu');
    const onCpu = tf.tidy(() => tf.add(y, 1).dataSync());
    await tf.setBackend('cpu-blas');
    const back = tf.tidy(() => tf.add(y, 1).dataSync());
    assert.deepEqual(back, onCpu);
    y.dispose();
    churn(x);
    assert.deepEqual(Array.from(onCpu), Array.from(random(N, 5).values, (v) => Math.fround(Math.max(v, 0) + 1)));
    x.dispose();
  });
});
