// LayerNorm over the last axis on cpu-blas, optionally followed by relu/tanh, as one forward and one backward
// kernel. Composed from stock ops it was 8 forward kernels and ~20 backward ones per layer (plus relu and its
// step mask), each a full pass with a fresh output buffer: a SAC update with LayerNorm critics ran at ~1/4 the
// rate of one with plain critics.
//
// Forward, per row: μ and rstd = 1/√(var + ε) (two passes over the row), then y = act((x − μ)·rstd·γ + β).
// μ and rstd are float32 and returned as outputs ([…, 1]), so the backward and the JVP use exactly the
// statistics the forward used.
//
// Backward, with dz = dy·act'(y) and x̂ = (x − μ)·rstd, g = dz·γ, per row of n:
//   dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) + (dμ − drstd·rstd²·x̂)/n,   dγ = Σ_rows dz·x̂,   dβ = Σ_rows dz
// (dμ, drstd: gradients reaching the statistics outputs, zero unless someone differentiates through them).
// All three come out of the same two passes over each row.
//
// JVP (forward mode, for the MeanFlow target): y and its tangent ẏ along ẋ as one kernel, y from the forward's
// own code (see layerNormJvpConfig); composed, the tangent was ~12 element-wise ops per layer.
//
// Rows whose width is a multiple of 4 run in the WebAssembly SIMD module (float32 sums, four lanes); others,
// or without WebAssembly SIMD, in the JS loops below (sums in double).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Blas } from './blas.ts';
import { type CpuKernelArgs, fillRows, output, sizeOf, uninitialized, valuesOf } from './cpu.ts';
import { applyActivationInPlace } from './matmul.ts';
import { SimdArena, round4, simdModule } from './simd.ts';

// One arena for the LayerNorm kernels, or null without WebAssembly SIMD. Rows whose width is a multiple of 4
// (every hidden layer we build) run there: data is copied in (a memcpy is far cheaper than a JS pass),
// normalised four lanes at a time, copied out.
let arena: SimdArena | null | undefined;
function simdArena(n: number): SimdArena | null {
  if (n % 4 !== 0) return null;
  if (arena === undefined) {
    const module = simdModule();
    arena = module ? new SimdArena(module) : null;
  }
  return arena;
}

export const LAYER_NORM_KERNEL = 'OnestepLayerNorm';
export const LAYER_NORM_GRAD_KERNEL = 'OnestepLayerNormGrad';
export const LAYER_NORM_JVP_KERNEL = 'OnestepLayerNormJvp';
export const DENSE_LAYER_NORM_KERNEL = 'OnestepDenseLayerNorm';

/** Activations fused after the normalisation: their derivative can be read from the output y alone. */
export const LAYER_NORM_ACTIVATIONS = ['linear', 'relu', 'tanh'] as const;
export type LayerNormActivation = (typeof LAYER_NORM_ACTIVATIONS)[number];

/** Leading dimensions of `shape` with the last one set to 1: the shape of the per-row statistics. */
export function statsShape(shape: readonly number[]): number[] {
  return [...shape.slice(0, -1), 1];
}

/**
 * The forward over `rows` rows of `n` values: y (with relu applied when `relu`), mean and rstd. The row sums run
 * on four accumulators: one would be bound by the latency of each add (measured 1.7× slower).
 */
function normalizeRows(xv: Float32Array, gv: Float32Array, bv: Float32Array, rows: number, n: number, epsilon: number,
  relu: boolean, y: Float32Array, mean: Float32Array, rstd: Float32Array): void {
  const n4 = n & ~3;
  for (let r = 0, off = 0; r < rows; r++, off += n) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, j = off;
    for (const end = off + n4; j < end; j += 4) { s0 += xv[j]; s1 += xv[j + 1]; s2 += xv[j + 2]; s3 += xv[j + 3]; }
    for (const end = off + n; j < end; j++) s0 += xv[j];
    const mu = Math.fround((s0 + s1 + (s2 + s3)) / n);
    let q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    j = off;
    for (const end = off + n4; j < end; j += 4) {
      const d0 = xv[j] - mu, d1 = xv[j + 1] - mu, d2 = xv[j + 2] - mu, d3 = xv[j + 3] - mu;
      q0 += d0 * d0; q1 += d1 * d1; q2 += d2 * d2; q3 += d3 * d3;
    }
    for (const end = off + n; j < end; j++) { const d = xv[j] - mu; q0 += d * d; }
    const s = Math.fround(1 / Math.sqrt((q0 + q1 + (q2 + q3)) / n + epsilon));
    mean[r] = mu;
    rstd[r] = s;
    if (relu) {
      for (let k = 0; k < n; k++) { const v = (xv[off + k] - mu) * s * gv[k] + bv[k]; y[off + k] = (v + Math.abs(v)) * 0.5; } // branch-free; NaN stays NaN
    } else {
      for (let k = 0; k < n; k++) y[off + k] = (xv[off + k] - mu) * s * gv[k] + bv[k];
    }
  }
}

/** The forward's y (activated), mean and rstd as fresh buffers; SIMD when the row width allows it. */
function forwardValues(xv: Float32Array, gv: Float32Array, bv: Float32Array, size: number, n: number, epsilon: number,
  activation: LayerNormActivation): { y: Float32Array; mean: Float32Array; rstd: Float32Array } {
  const rows = n > 0 ? size / n : 0;
  const y = uninitialized(size), mean = uninitialized(rows), rstd = uninitialized(rows);
  const simd = simdArena(n);
  if (simd) {
    // [x → y | γ | β | mean | rstd]
    const G = size, B = G + n, M = B + n, S = M + round4(rows);
    simd.reserve(S + rows);
    simd.region(0, size).set(xv);
    simd.region(G, n).set(gv);
    simd.region(B, n).set(bv);
    simd.layerNorm(0, G, B, M, S, rows, n, epsilon, activation === 'relu');
    y.set(simd.region(0, size));
    mean.set(simd.region(M, rows));
    rstd.set(simd.region(S, rows));
  } else {
    normalizeRows(xv, gv, bv, rows, n, epsilon, activation === 'relu', y, mean, rstd);
  }
  if (activation === 'tanh') applyActivationInPlace(y, activation, 0);
  return { y, mean, rstd };
}

// The loops live in their own small functions: inside the kernel function V8 optimised them on-stack and
// then deoptimised on every call at the cold code after the loop (measured 4-6× slower).
export function layerNormForwardConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { x, gamma, beta }, backend, attrs }: CpuKernelArgs<'x' | 'gamma' | 'beta'>): TensorInfo[] => {
    const n = x.shape[x.shape.length - 1], size = sizeOf(x.shape);
    const { y, mean, rstd } = forwardValues(valuesOf(backend, x), valuesOf(backend, gamma), valuesOf(backend, beta), size, n,
      attrs!.epsilon as number, attrs!.activation as LayerNormActivation);
    const stats = statsShape(x.shape);
    return [output(backend, [...x.shape], y), output(backend, stats, mean), output(backend, [...stats], rstd)];
  };
  return { kernelName: LAYER_NORM_KERNEL, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * The tangent of y = act(LayerNorm(x)) along ẋ, given the forward's y, mean and rstd, per row of n:
 *   ẋ_c = ẋ − mean(ẋ),  x̂ = (x − μ)·s,  ẏ = act'(y) · γ · s · (ẋ_c − x̂·mean(x̂·ẋ_c))
 * with act' = [y > 0] for relu, 1 − y² for tanh, 1 for linear. One pass for the row sums (in double, two
 * accumulators each), using Σ(x − μ)(ẋ − m) = Σ(x − μ)ẋ − m·Σ(x − μ); one pass for ẏ; the activation's slope is
 * applied in a third, branch-free pass (a branch per element in the second one cost ~3×).
 */
function tangentRows(xv: Float32Array, dv: Float32Array, gv: Float32Array, y: Float32Array, mean: Float32Array, rstd: Float32Array,
  rows: number, n: number, activation: LayerNormActivation, out: Float32Array): void {
  const n2 = n & ~1, invN = 1 / n;
  for (let r = 0, off = 0; r < rows; r++, off += n) {
    const mu = mean[r], s = rstd[r];
    let d0 = 0, d1 = 0, c0 = 0, c1 = 0, p0 = 0, p1 = 0, j = off;
    for (const end = off + n2; j < end; j += 2) {
      const a0 = xv[j] - mu, a1 = xv[j + 1] - mu, e0 = dv[j], e1 = dv[j + 1];
      d0 += e0; d1 += e1; c0 += a0; c1 += a1; p0 += a0 * e0; p1 += a1 * e1;
    }
    if (j < off + n) { const a0 = xv[j] - mu, e0 = dv[j]; d0 += e0; c0 += a0; p0 += a0 * e0; }
    const md = (d0 + d1) * invN;
    // x̂·mean(x̂·ẋ_c) = (x − μ)·s²·h/n with h = Σ(x − μ)(ẋ − md).
    const k = s * s * ((p0 + p1) - md * (c0 + c1)) * invN;
    for (let c = 0, i = off; c < n; c++, i++) out[i] = gv[c] * s * ((dv[i] - md) - (xv[i] - mu) * k);
  }
  if (activation === 'relu') for (let i = 0, size = rows * n; i < size; i++) out[i] *= +(y[i] > 0);
  else if (activation === 'tanh') for (let i = 0, size = rows * n; i < size; i++) out[i] *= 1 - y[i] * y[i];
}

/**
 * The forward-mode JVP of the forward kernel: [y, ẏ] from x, ẋ, γ, β. y is the forward kernel's output bit for bit
 * (the same code computes it); ẏ replaces ~12 composed element-wise ops per layer (each a full pass and a fresh
 * buffer): in the SIMD module beside the forward for widths that are a multiple of 4, else in the JS loops. It has
 * no gradient: the JVP runs outside any tape (the MeanFlow target is stop-gradient).
 */
export function layerNormJvpConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { x, xDot, gamma, beta }, backend, attrs }: CpuKernelArgs<'x' | 'xDot' | 'gamma' | 'beta'>): TensorInfo[] => {
    const n = x.shape[x.shape.length - 1], size = sizeOf(x.shape), rows = n > 0 ? size / n : 0;
    const activation = attrs!.activation as LayerNormActivation, epsilon = attrs!.epsilon as number;
    const xv = valuesOf(backend, x), gv = valuesOf(backend, gamma), dv = valuesOf(backend, xDot);
    const simd = simdArena(n);
    if (!simd) {
      const { y, mean, rstd } = forwardValues(xv, gv, valuesOf(backend, beta), size, n, epsilon, activation);
      const yDot = uninitialized(size);
      tangentRows(xv, dv, gv, y, mean, rstd, rows, n, activation, yDot);
      return [output(backend, [...x.shape], y), output(backend, [...x.shape], yDot)];
    }
    // [x → y | ẋ → ẏ | x | γ | β | mean | rstd]: the forward's own SIMD call, then the tangent beside it
    const Y = 0, D = size, X = 2 * size, G = 3 * size, B = G + n, M = B + n, S = M + round4(rows);
    simd.reserve(S + rows);
    simd.region(Y, size).set(xv);
    simd.region(X, size).set(xv);
    simd.region(D, size).set(dv);
    simd.region(G, n).set(gv);
    simd.region(B, n).set(valuesOf(backend, beta));
    simd.layerNorm(Y, G, B, M, S, rows, n, epsilon, activation === 'relu');
    simd.layerNormTangent(D, X, G, Y, M, S, rows, n, activation === 'relu');
    const y = uninitialized(size), yDot = uninitialized(size);
    y.set(simd.region(Y, size));
    yDot.set(simd.region(D, size));
    if (activation === 'tanh') {
      applyActivationInPlace(y, activation, 0);
      for (let i = 0; i < size; i++) yDot[i] *= 1 - y[i] * y[i];
    }
    return [output(backend, [...x.shape], y), output(backend, [...x.shape], yDot)];
  };
  return { kernelName: LAYER_NORM_JVP_KERNEL, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * act(LayerNorm(x·W + b)) for x [rows, k], W [k, n], without the intermediate: where no gradient is recorded (a
 * target network, best-of-N candidates, acting), nothing needs x·W + b, so sgemm writes it straight into the SIMD
 * arena, LayerNorm runs there in place and one copy brings y out — one buffer and two full copies fewer than dense,
 * then layerNorm. No gradient (layernorm.ts uses it only while no tape records).
 */
export function denseLayerNormConfig(blas: Blas, backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { x, W, b, gamma, beta }, backend, attrs }: CpuKernelArgs<'x' | 'W' | 'b' | 'gamma' | 'beta'>): TensorInfo => {
    const rows = x.shape[0], k = x.shape[1], n = W.shape[1], size = rows * n;
    const activation = attrs!.activation as LayerNormActivation, epsilon = attrs!.epsilon as number;
    const bias = valuesOf(backend, b), gv = valuesOf(backend, gamma), bv = valuesOf(backend, beta);
    const simd = simdArena(n);
    let y: Float32Array;
    if (simd) {
      // [x·W + b → y | γ | β | mean | rstd]
      const G = size, B = G + n, M = B + n, S = M + round4(rows);
      simd.reserve(S + rows);
      const z = simd.region(0, size);
      fillRows(z, bias, rows, n);
      if (size > 0 && k > 0) blas.sgemm(false, false, rows, n, k, 1, valuesOf(backend, x), k, valuesOf(backend, W), n, 1, z, n);
      simd.region(G, n).set(gv);
      simd.region(B, n).set(bv);
      simd.layerNorm(0, G, B, M, S, rows, n, epsilon, activation === 'relu');
      y = uninitialized(size);
      y.set(simd.region(0, size));
      if (activation === 'tanh') applyActivationInPlace(y, activation, 0);
    } else {
      const z = uninitialized(size);
      fillRows(z, bias, rows, n);
      if (size > 0 && k > 0) blas.sgemm(false, false, rows, n, k, 1, valuesOf(backend, x), k, valuesOf(backend, W), n, 1, z, n);
      y = forwardValues(z, gv, bv, size, n, epsilon, activation).y;
    }
    return output(backend, [rows, n], y);
  };
  return { kernelName: DENSE_LAYER_NORM_KERNEL, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

// Column accumulators for dγ and dβ, reused across calls (kernels run synchronously).
let columns = new Float64Array(0);

/**
 * dx over `rows` rows of `n`, accumulating dγ and dβ into `dg`, `db`. dz = dy, or dy masked where y ≤ 0 when
 * `relu`; `dy` may be `dx` itself (each value is read before it is written). Two passes per row: dz, g = dz·γ
 * and the row sums of g and g·x̂ (two accumulators each), then dx from g.
 */
function normalizeRowsGrad(dyv: Float32Array, yv: Float32Array, relu: boolean, xv: Float32Array, gv: Float32Array, mean: Float32Array,
  rstd: Float32Array, dmean: Float32Array, drstd: Float32Array, rows: number, n: number, dx: Float32Array, dg: Float64Array, db: Float64Array): void {
  const invN = 1 / n, n2 = n & ~1;
  for (let r = 0, off = 0; r < rows; r++, off += n) {
    const mu = mean[r], s = rstd[r];
    let g0 = 0, g1 = 0, h0 = 0, h1 = 0, j = 0;
    for (; j < n2; j += 2) {
      const i = off + j;
      const dz0 = relu ? dyv[i] * +(yv[i] > 0) : dyv[i], dz1 = relu ? dyv[i + 1] * +(yv[i + 1] > 0) : dyv[i + 1];
      const xh0 = (xv[i] - mu) * s, xh1 = (xv[i + 1] - mu) * s;
      db[j] += dz0; db[j + 1] += dz1;
      dg[j] += dz0 * xh0; dg[j + 1] += dz1 * xh1;
      const a0 = dz0 * gv[j], a1 = dz1 * gv[j + 1];
      dx[i] = a0; dx[i + 1] = a1;
      g0 += a0; g1 += a1; h0 += a0 * xh0; h1 += a1 * xh1;
    }
    for (; j < n; j++) {
      const i = off + j;
      const dz = relu ? dyv[i] * +(yv[i] > 0) : dyv[i], xh = (xv[i] - mu) * s, a0 = dz * gv[j];
      db[j] += dz; dg[j] += dz * xh; dx[i] = a0; g0 += a0; h0 += a0 * xh;
    }
    // dx = s·g + a − x̂·b = s·g − x·(s·b) + (a + μ·s·b) with the row constants a, b.
    const a = (dmean[r] - s * (g0 + g1)) * invN, b = (s * (h0 + h1) + drstd[r] * s * s) * invN;
    const sb = s * b, c = a + mu * sb;
    for (let i = off, end = off + n; i < end; i++) dx[i] = s * dx[i] - xv[i] * sb + c;
  }
}

/** out = dy·(1 − y²), the derivative through y = tanh(·); returns `out`. */
function tanhGrad(dy: Float32Array, y: Float32Array, out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) { const t = y[i]; out[i] = dy[i] * (1 - t * t); }
  return out;
}

/** dx, dγ, dβ of the forward kernel from dy (and dμ, drstd), the saved x, γ, y, μ, rstd. */
export function layerNormGradConfig(backendName: string): KernelConfig {
  type Inputs = 'dy' | 'dmean' | 'drstd' | 'x' | 'gamma' | 'y' | 'mean' | 'rstd';
  const kernelFunc = ({ inputs, backend, attrs }: CpuKernelArgs<Inputs>): TensorInfo[] => {
    const { x, gamma } = inputs;
    const n = x.shape[x.shape.length - 1], size = sizeOf(x.shape), rows = n > 0 ? size / n : 0;
    const values = (t: TensorInfo) => valuesOf(backend, t);
    const activation = attrs!.activation as LayerNormActivation;
    // dx's buffer holds g = dz·γ between the two passes over each row; for tanh it first holds dz.
    const dx = uninitialized(size);
    let dy = values(inputs.dy);
    if (activation === 'tanh') dy = tanhGrad(dy, values(inputs.y), dx);
    const relu = activation === 'relu';
    const simd = simdArena(n);
    if (simd) {
      // [dy → dx | y | x | γ | dγ | dβ | mean | rstd | dmean | drstd]
      const Y = size, X = 2 * size, G = 3 * size, DG = G + n, DB = DG + n, R = round4(rows), M = DB + n, S = M + R, DM = S + R, DS = DM + R;
      simd.reserve(DS + rows);
      simd.region(0, size).set(dy);
      if (relu) simd.region(Y, size).set(values(inputs.y));
      simd.region(X, size).set(values(x));
      simd.region(G, n).set(values(gamma));
      simd.region(DG, 2 * n).fill(0);
      for (const [at, t] of [[M, inputs.mean], [S, inputs.rstd], [DM, inputs.dmean], [DS, inputs.drstd]] as const) simd.region(at, rows).set(values(t));
      simd.layerNormGrad(0, Y, X, G, M, S, DM, DS, DG, DB, rows, n, relu);
      dx.set(simd.region(0, size));
      return [
        output(backend, [...x.shape], dx),
        output(backend, [...gamma.shape], simd.region(DG, n).slice()),
        output(backend, [...gamma.shape], simd.region(DB, n).slice()),
      ];
    }
    if (columns.length < 2 * n) columns = new Float64Array(2 * n);
    const dg = columns.subarray(0, n).fill(0), db = columns.subarray(n, 2 * n).fill(0);
    normalizeRowsGrad(dy, values(inputs.y), relu, values(x), values(gamma), values(inputs.mean), values(inputs.rstd),
      values(inputs.dmean), values(inputs.drstd), rows, n, dx, dg, db);
    return [
      output(backend, [...x.shape], dx),
      output(backend, [...gamma.shape], Float32Array.from(dg)),
      output(backend, [...gamma.shape], Float32Array.from(db)),
    ];
  };
  return { kernelName: LAYER_NORM_GRAD_KERNEL, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
