// The optimiser API against a straightforward reference written out loop by loop, on both paths:
// fused in place (cpu-blas) and TF.js ops (stock cpu, standing in for wasm / tfjs-node).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/nn/backend.ts';
import { Adam, OptimizerError, copyInto, polyakUpdate, type AdamOptions } from '../src/nn/optim.ts';

function series(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(seed * 12.9898 + i * 78.233) * 1.5;
  return out;
}

/** Adam as in PyTorch (torch.optim.Adam/AdamW), one parameter array at a time, in float64. */
function referenceAdam(params: Float64Array[], gradsPerStep: Float32Array[][], opts: Required<Omit<AdamOptions, 'clipGlobalNorm'>> & { clipGlobalNorm?: number }) {
  const m = params.map((p) => new Float64Array(p.length)), v = params.map((p) => new Float64Array(p.length));
  gradsPerStep.forEach((grads, s) => {
    const t = s + 1;
    const lr = typeof opts.learningRate === 'function' ? opts.learningRate(t) : opts.learningRate;
    let norm = 0;
    for (const g of grads) for (const x of g) norm += x * x;
    norm = Math.sqrt(norm);
    const scale = opts.clipGlobalNorm !== undefined && norm > opts.clipGlobalNorm ? opts.clipGlobalNorm / norm : 1;
    params.forEach((p, i) => {
      for (let j = 0; j < p.length; j++) {
        const g = grads[i][j] * scale;
        p[j] *= 1 - lr * opts.weightDecay;
        m[i][j] = opts.beta1 * m[i][j] + (1 - opts.beta1) * g;
        v[i][j] = opts.beta2 * v[i][j] + (1 - opts.beta2) * g * g;
        const mHat = m[i][j] / (1 - opts.beta1 ** t), vHat = v[i][j] / (1 - opts.beta2 ** t);
        p[j] -= lr * mHat / (Math.sqrt(vHat) + opts.epsilon);
      }
    });
  });
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

before(async () => {
  await initBackend({ prefer: 'cpu-blas' });
});

const configs: { label: string; opts: Required<Omit<AdamOptions, 'clipGlobalNorm'>> & { clipGlobalNorm?: number } }[] = [
  { label: 'plain', opts: { learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 } },
  { label: 'clipped, decoupled decay, schedule, explicit epsilon', opts: { learningRate: (t) => 3e-3 * (1 - t / 20), beta1: 0.8, beta2: 0.99, epsilon: 1e-4, weightDecay: 0.1, clipGlobalNorm: 0.5 } },
];

for (const backend of ['cpu-blas', 'cpu'] as const) {
  describe(`Adam on ${backend} (${backend === 'cpu-blas' ? 'fused in place' : 'TF.js ops'})`, () => {
    for (const { label, opts } of configs) {
      test(`${label}: 7 steps match the reference`, async () => {
        await tf.setBackend(backend);
        const shapes = [[5, 3], [3], [1]];
        const init = shapes.map((s, i) => series(s.reduce((a, b) => a * b, 1), i + 1));
        const vars = shapes.map((s, i) => tf.variable(tf.tensor(init[i], s), true, `adam_${backend}_${label}_${i}`));
        const steps = Array.from({ length: 7 }, (_, s) => shapes.map((sh, i) => series(sh.reduce((a, b) => a * b, 1), 10 * s + i + 7)));
        const adam = new Adam(vars, opts);
        for (const grads of steps) {
          const gs = grads.map((g, i) => tf.tensor(g, shapes[i]));
          const info = adam.apply(gs);
          let norm = 0;
          for (const g of grads) for (const x of g) norm += x * x;
          assert.ok(Math.abs(info.gradNorm - Math.sqrt(norm)) < 1e-4, `gradNorm ${info.gradNorm} vs ${Math.sqrt(norm)}`);
          tf.dispose(gs);
        }
        const ref = init.map((a) => Float64Array.from(a));
        referenceAdam(ref, steps, opts);
        vars.forEach((v, i) => assert.ok(maxDiff(v.dataSync(), ref[i]) < 2e-6, `param ${i} differs by ${maxDiff(v.dataSync(), ref[i])}`));
        assert.equal(adam.step, 7);
        adam.dispose();
        tf.dispose(vars);
      });
    }

    test('minimize() on a quadratic converges and returns the loss', async () => {
      await tf.setBackend(backend);
      const w = tf.variable(tf.tensor([3, -2]), true, `quad_${backend}`);
      const adam = new Adam([w], { learningRate: 0.1 });
      let loss = Infinity;
      for (let i = 0; i < 300; i++) loss = adam.minimize(() => tf.sum(tf.square(tf.sub(w, tf.tensor([1, 1])))) as tf.Scalar);
      assert.ok(loss < 1e-3, `loss ${loss}`);
      assert.ok(maxDiff(w.dataSync(), [1, 1]) < 0.05);
      adam.dispose();
      w.dispose();
    });

    test('state round-trips: a restored optimiser continues exactly like the original', async () => {
      await tf.setBackend(backend);
      const make = (name: string) => tf.variable(tf.tensor(series(6, 3), [2, 3]), true, name);
      const a = make(`rt_a_${backend}`), b = make(`rt_b_${backend}`);
      const optA = new Adam([a], { learningRate: 0.05 }), optB = new Adam([b], { learningRate: 0.05 });
      const grad = (s: number) => tf.tensor(series(6, s), [2, 3]);
      for (let s = 0; s < 3; s++) optA.apply([grad(s)]);
      b.assign(tf.tensor(a.dataSync().slice(), [2, 3])); // dataSync() is live on cpu backends: copy it
      optB.setState(optA.getState());
      for (let s = 3; s < 6; s++) {
        optA.apply([grad(s)]);
        optB.apply([grad(s)]);
      }
      assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
      assert.throws(() => optB.setState({ step: 1, m: [new Float32Array(5)], v: [new Float32Array(6)] }), OptimizerError);
      optA.dispose(); optB.dispose();
      tf.dispose([a, b]);
    });

    test('bad gradients are typed errors and leave the parameters unchanged', async () => {
      await tf.setBackend(backend);
      const w = tf.variable(tf.tensor([1, 2, 3]), true, `bad_${backend}`);
      const adam = new Adam([w], { learningRate: 0.1 });
      assert.throws(() => adam.apply([tf.tensor([1, 2])]), /gradient for .* has shape \[2\], expected \[3\]/);
      assert.throws(() => adam.apply([]), /expected 1 gradients, got 0/);
      assert.throws(() => adam.apply([tf.tensor([1, NaN, 0])]), /non-finite gradient/);
      assert.deepEqual(Array.from(w.dataSync()), [1, 2, 3]);
      assert.throws(() => new Adam([w], { learningRate: 0.1, beta1: 1 }), OptimizerError);
      assert.throws(() => new Adam([], { learningRate: 0.1 }), /no variables/);
      adam.dispose();
      w.dispose();
    });

    test('Polyak update and hard copy match the reference; copies stay independent', async () => {
      await tf.setBackend(backend);
      const src = [tf.variable(tf.tensor(series(12, 1), [3, 4]), true, `src0_${backend}`), tf.variable(tf.tensor(series(4, 2)), true, `src1_${backend}`)];
      const tgt = [tf.variable(tf.zeros([3, 4]), true, `tgt0_${backend}`), tf.variable(tf.zeros([4]), true, `tgt1_${backend}`)];
      polyakUpdate(tgt, src, 0.25);
      tgt.forEach((t, i) => {
        const expected = Array.from(src[i].dataSync(), (x) => 0.25 * x);
        assert.ok(maxDiff(t.dataSync(), expected) < 1e-7);
      });
      polyakUpdate(tgt, src, 0.25);
      tgt.forEach((t, i) => assert.ok(maxDiff(t.dataSync(), Array.from(src[i].dataSync(), (x) => (0.25 + 0.75 * 0.25) * x)) < 1e-6));
      copyInto(tgt, src);
      tgt.forEach((t, i) => assert.deepEqual(Array.from(t.dataSync()), Array.from(src[i].dataSync())));
      // Moving the source afterwards must not move the copy.
      const before = Array.from(tgt[0].dataSync());
      const adam = new Adam([src[0]], { learningRate: 0.5 });
      adam.apply([tf.ones([3, 4])]);
      assert.deepEqual(Array.from(tgt[0].dataSync()), before);
      assert.throws(() => polyakUpdate(tgt, src, 1.5), /tau must be in \[0, 1\]/);
      assert.throws(() => polyakUpdate(tgt, [src[1], src[0]], 0.1), /has shape/);
      adam.dispose();
      tf.dispose([...src, ...tgt]);
    });
  });
}

test('an optimiser refuses to step on a backend other than the one it was created on', async () => {
  await tf.setBackend('cpu-blas');
  const w = tf.variable(tf.tensor([1, 2]), true, 'backend_switch_w');
  const adam = new Adam([w], { learningRate: 0.1 });
  await tf.setBackend('cpu');
  assert.throws(() => adam.apply([tf.ones([2])]), /created on backend cpu-blas but cpu is active/);
  await tf.setBackend('cpu-blas');
  adam.apply([tf.ones([2])]);
  adam.dispose();
  w.dispose();
});

test('in-place updates never reach a tensor that shares the variable\'s buffer', async () => {
  await tf.setBackend('cpu-blas');
  const initial = tf.tensor([1, 2, 3]);
  const w = tf.variable(initial, true, 'shared_w'); // shares initial's buffer
  const alias = tf.reshape(w, [3, 1]); // shares it too
  const adam = new Adam([w], { learningRate: 0.5 });
  adam.apply([tf.ones([3])]);
  assert.deepEqual(Array.from(initial.dataSync()), [1, 2, 3]);
  assert.deepEqual(Array.from(alias.dataSync()), [1, 2, 3]);
  assert.ok(maxDiff(w.dataSync(), [0.5, 1.5, 2.5]) < 1e-6);
  // Assigning from a caller's array (a checkpoint, say) must not let later steps write into that array.
  const restored = Float32Array.from([4, 5, 6]);
  w.assign(tf.tensor(restored));
  adam.apply([tf.ones([3])]);
  assert.deepEqual(Array.from(restored), [4, 5, 6]);
  adam.dispose();
  tf.dispose([initial, w, alias]);
});
