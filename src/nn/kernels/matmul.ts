// BatchMatMul and _FusedMatMul on OpenBLAS sgemm: transposes are sgemm flags (no copies), batches broadcast
// when one side has a single matrix, bias and activation are applied in the output buffer in one pass.
// Anything outside that fast path (int32, general batch broadcasting, prelu, odd bias shapes) goes to the
// stock kernel, so behaviour is always TF.js's.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Blas } from './blas.ts';
import { type CpuKernelArgs, output, sizeOf, uninitialized, valuesOf } from './cpu.ts';

/** Activations we fuse into the matmul output (names as in tf.fused.matMul). */
export function applyActivationInPlace(y: Float32Array, activation: string, leakyAlpha: number): boolean {
  const n = y.length;
  switch (activation) {
    case 'linear':
      return true;
    case 'relu':
      // Branch-free: mispredicted branches dominate on half-negative pre-activations.
      for (let i = 0; i < n; i++) { const v = y[i]; y[i] = (v + Math.abs(v)) * 0.5; }
      return true;
    case 'relu6':
      for (let i = 0; i < n; i++) y[i] = Math.min(Math.max(y[i], 0), 6);
      return true;
    case 'elu':
      for (let i = 0; i < n; i++) { const v = y[i]; y[i] = v > 0 ? v : Math.exp(v) - 1; }
      return true;
    case 'sigmoid':
      for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-y[i]));
      return true;
    case 'leakyrelu':
      for (let i = 0; i < n; i++) { const v = y[i]; y[i] = v > 0 ? v : leakyAlpha * v; }
      return true;
    case 'tanh':
      for (let i = 0; i < n; i++) y[i] = Math.tanh(y[i]);
      return true;
    default:
      return false;
  }
}

interface MatMulPlan {
  batch: number; m: number; n: number; k: number;
  strideA: number; strideB: number; outShape: number[];
}

/** Shapes → sgemm plan, or null when the batch dimensions need general broadcasting. */
function plan(aShape: number[], bShape: number[], transA: boolean, transB: boolean): MatMulPlan | null {
  const ra = aShape.length, rb = bShape.length;
  if (ra < 2 || rb < 2) return null;
  const m = transA ? aShape[ra - 1] : aShape[ra - 2];
  const kA = transA ? aShape[ra - 2] : aShape[ra - 1];
  const kB = transB ? bShape[rb - 1] : bShape[rb - 2];
  const n = transB ? bShape[rb - 2] : bShape[rb - 1];
  if (kA !== kB) return null; // let the stock kernel raise its shape error
  const batchA = aShape.slice(0, -2), batchB = bShape.slice(0, -2);
  const nA = sizeOf(batchA), nB = sizeOf(batchB);
  let outBatch: number[];
  if (nA === nB && batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i])) outBatch = batchA;
  else if (nB === 1) outBatch = batchA.length >= batchB.length ? batchA : [...new Array(batchB.length - batchA.length).fill(1), ...batchA];
  else if (nA === 1) outBatch = batchB.length >= batchA.length ? batchB : [...new Array(batchA.length - batchB.length).fill(1), ...batchB];
  else return null;
  return {
    batch: Math.max(nA, nB), m, n, k: kA,
    strideA: nA === 1 ? 0 : m * kA, strideB: nB === 1 ? 0 : kA * n,
    outShape: [...outBatch, m, n],
  };
}

function runGemm(blas: Blas, p: MatMulPlan, a: Float32Array, b: Float32Array, transA: boolean, transB: boolean, c: Float32Array): void {
  const { m, n, k } = p;
  const lda = transA ? m : k, ldb = transB ? k : n;
  if (p.batch === 1) {
    blas.sgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, n);
    return;
  }
  const sizeA = m * k, sizeB = k * n, sizeC = m * n;
  for (let i = 0; i < p.batch; i++) {
    const offA = i * p.strideA, offB = i * p.strideB;
    blas.sgemm(transA, transB, m, n, k, 1, a.subarray(offA, offA + sizeA), lda, b.subarray(offB, offB + sizeB), ldb, 0,
      c.subarray(i * sizeC, (i + 1) * sizeC), n);
  }
}

export function batchMatMulConfig(blas: Blas, stock: KernelFunc, backendName: string): KernelConfig {
  const kernelFunc = (args: CpuKernelArgs<'a' | 'b'>): TensorInfo => {
    const { inputs: { a, b }, backend, attrs } = args;
    const transA = Boolean(attrs?.transposeA), transB = Boolean(attrs?.transposeB);
    const p = a.dtype === 'float32' && b.dtype === 'float32' ? plan(a.shape, b.shape, transA, transB) : null;
    if (!p) return stock(args as never) as TensorInfo;
    // sgemm (beta = 0) writes every value; with k = 0 there is no sgemm and the result is zeros.
    const c = p.k > 0 ? uninitialized(p.batch * p.m * p.n) : new Float32Array(p.batch * p.m * p.n);
    if (c.length > 0 && p.k > 0) runGemm(blas, p, valuesOf(backend, a), valuesOf(backend, b), transA, transB, c);
    return output(backend, p.outShape, c);
  };
  return { kernelName: 'BatchMatMul', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Adds a bias broadcast over rows (size n) or a scalar bias; false when the bias has another shape. */
export function addBiasInPlace(c: Float32Array, n: number, bias: Float32Array, biasShape: number[]): boolean {
  if (bias.length === 1) {
    const v = bias[0];
    for (let i = 0; i < c.length; i++) c[i] += v;
    return true;
  }
  // A bias of n values along the last axis, whatever leading ones it carries ([n], [1, n], ...).
  if (bias.length !== n || biasShape[biasShape.length - 1] !== n) return false;
  for (let row = 0; row < c.length; row += n) {
    for (let j = 0; j < n; j++) c[row + j] += bias[j];
  }
  return true;
}

export function fusedMatMulConfig(blas: Blas, stock: KernelFunc, backendName: string): KernelConfig {
  const kernelFunc = (args: CpuKernelArgs<'a' | 'b' | 'bias' | 'preluActivationWeights'>): TensorInfo => {
    const { inputs: { a, b, bias, preluActivationWeights }, backend, attrs } = args;
    const transA = Boolean(attrs?.transposeA), transB = Boolean(attrs?.transposeB);
    const activation = (attrs?.activation as string | undefined) ?? 'linear';
    const fastable = a.dtype === 'float32' && b.dtype === 'float32' && preluActivationWeights == null &&
      activation !== 'prelu' && (bias == null || bias.dtype === 'float32');
    const p = fastable ? plan(a.shape, b.shape, transA, transB) : null;
    if (!p) return stock(args as never) as TensorInfo;
    // sgemm (beta = 0) writes every value; with k = 0 there is no sgemm and the result is zeros.
    const c = p.k > 0 ? uninitialized(p.batch * p.m * p.n) : new Float32Array(p.batch * p.m * p.n);
    if (c.length > 0 && p.k > 0) runGemm(blas, p, valuesOf(backend, a), valuesOf(backend, b), transA, transB, c);
    if (bias != null && !addBiasInPlace(c, p.n, valuesOf(backend, bias), bias.shape)) return stock(args as never) as TensorInfo;
    if (!applyActivationInPlace(c, activation, (attrs?.leakyreluAlpha as number | undefined) ?? 0.2)) {
      return stock(args as never) as TensorInfo;
    }
    return output(backend, p.outShape, c);
  };
  return { kernelName: '_FusedMatMul', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

