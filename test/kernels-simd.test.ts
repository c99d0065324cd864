// The WebAssembly SIMD loops (src/nn/kernels/simd.wat) against plain JS references, including NaN, padding lanes
// and lengths that are not a multiple of four; and the checked-in simd.wasm against what simd.wat assembles to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SimdArena, round4, simdModule, simdModuleBytes } from '../src/nn/kernels/simd.ts';
import { SIMD_WASM, SIMD_WAT, assembleWat } from '../scripts/build-wasm.ts';

test('the checked-in simd.wasm is what simd.wat assembles to (wabt), and is the module the kernels load', async () => {
  const built = await assembleWat(SIMD_WAT);
  const checkedIn = readFileSync(SIMD_WASM);
  assert.ok(Buffer.from(built).equals(checkedIn), 'simd.wasm is stale: run node --import tsx scripts/build-wasm.ts');
  assert.ok(Buffer.from(simdModuleBytes()).equals(checkedIn));
});

const arena = () => {
  const module = simdModule();
  assert.ok(module, 'WebAssembly SIMD is available in Node >= 16.4 and the module validates');
  return new SimdArena(module);
};
const series = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.37) * 3);

test('relu matches max(x, 0) with NaN kept, for odd lengths, and leaves neighbours alone', () => {
  const a = arena();
  for (const n of [1, 3, 4, 5, 17, 1000]) {
    a.reserve(round4(n) + 8);
    const x = series(n, n);
    x[0] = NaN;
    a.region(0, round4(n) + 8).fill(-7);
    a.region(0, n).set(x);
    a.relu(0, n);
    const out = a.region(0, n);
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(x[i])) assert.ok(Number.isNaN(out[i]));
      else assert.equal(out[i], Math.max(x[i], 0), `index ${i} of ${n}`);
    }
    assert.deepEqual(Array.from(a.region(round4(n), 8)), new Array(8).fill(-7), 'memory past the padded region is untouched');
  }
});

test('reluMask gives dy where y > 0 and 0 elsewhere (y = 0 and -0 included)', () => {
  const a = arena();
  const n = 23, s = round4(n);
  a.reserve(3 * s);
  const dy = series(n, 1), y = series(n, 2);
  y[0] = 0; y[1] = -0; y[2] = 1e-30;
  a.region(0, n).set(dy);
  a.region(s, n).set(y);
  a.reluMask(2 * s, 0, s, n);
  const dz = a.region(2 * s, n);
  for (let i = 0; i < n; i++) assert.equal(dz[i], y[i] > 0 ? dy[i] : 0, `index ${i}`);
});

test('adam matches PyTorch-style Adam (float64 reference) over several steps, with clipping scale and decay', () => {
  const a = arena();
  const n = 13, s = round4(n);
  a.reserve(4 * s);
  const [P, G, M, V] = [0, s, 2 * s, 3 * s];
  const p = Float64Array.from(series(n, 3)), m = new Float64Array(n), v = new Float64Array(n);
  a.region(P, n).set(p);
  a.region(M, 2 * s).fill(0);
  const b1 = 0.9, b2 = 0.99, lr = 0.01, eps = 1e-6, wd = 0.05, scale = 0.7;
  for (let t = 1; t <= 5; t++) {
    const g = series(n, 10 + t);
    a.region(G, n).set(g);
    const stepSize = lr / (1 - b1 ** t), invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** t);
    a.adam(P, G, M, V, n, b1, b2, stepSize, invSqrtBc2, eps, scale, 1 - lr * wd);
    for (let i = 0; i < n; i++) {
      const gi = g[i] * scale;
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      p[i] = p[i] * (1 - lr * wd) - lr * (m[i] / (1 - b1 ** t)) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps);
    }
  }
  const got = a.region(P, n);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i] - p[i]) < 1e-5, `param ${i}: ${got[i]} vs ${p[i]}`);
  const gotM = a.region(M, n);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(gotM[i] - m[i]) < 1e-6, `m ${i}`);
});

test('reserve grows the memory and fresh regions see it', () => {
  const a = arena();
  a.reserve(1 << 20);
  const r = a.region((1 << 20) - 4, 4);
  r.set([1, -2, 3, -4]);
  a.relu((1 << 20) - 4, 4);
  assert.deepEqual(Array.from(a.region((1 << 20) - 4, 4)), [1, 0, 3, 0]);
});

test('layerNormTangent matches a float64 reference of the LayerNorm JVP, with and without the ReLU mask', () => {
  const a = arena();
  for (const [rows, n] of [[1, 4], [3, 8], [5, 256]]) {
    for (const relu of [false, true]) {
      const size = rows * n, R = round4(rows);
      const x = series(size, rows + n), d = series(size, 3 * n + 1), g = Float32Array.from({ length: n }, (_, j) => 0.5 + (j % 7) / 7);
      const mean = new Float32Array(rows), rstd = new Float32Array(rows), y = new Float32Array(size);
      for (let r = 0; r < rows; r++) {
        let mu = 0, v = 0;
        for (let j = 0; j < n; j++) mu += x[r * n + j] / n;
        for (let j = 0; j < n; j++) v += (x[r * n + j] - mu) ** 2 / n;
        mean[r] = mu;
        rstd[r] = 1 / Math.sqrt(v + 1e-5);
        for (let j = 0; j < n; j++) y[r * n + j] = (x[r * n + j] - mu) * rstd[r] * g[j] - 0.1; // β = −0.1: some y ≤ 0
      }
      // [d | x | γ | y | mean | rstd]
      const D = 0, X = size, G = 2 * size, Y = G + n, M = Y + size, S = M + R;
      a.reserve(S + R);
      a.region(D, size).set(d);
      a.region(X, size).set(x);
      a.region(G, n).set(g);
      a.region(Y, size).set(y);
      a.region(M, rows).set(mean);
      a.region(S, rows).set(rstd);
      a.layerNormTangent(D, X, G, Y, M, S, rows, n, relu);
      const out = a.region(D, size);
      for (let r = 0; r < rows; r++) {
        const o = r * n, s = rstd[r];
        let md = 0, h = 0;
        for (let j = 0; j < n; j++) md += d[o + j] / n;
        for (let j = 0; j < n; j++) h += (x[o + j] - mean[r]) * s * (d[o + j] - md) / n;
        for (let j = 0; j < n; j++) {
          let want = g[j] * s * ((d[o + j] - md) - (x[o + j] - mean[r]) * s * h);
          if (relu && !(y[o + j] > 0)) want = 0;
          assert.ok(Math.abs(out[o + j] - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${rows}×${n} relu ${relu} [${r}, ${j}]: ${out[o + j]} vs ${want}`);
        }
      }
    }
  }
});
