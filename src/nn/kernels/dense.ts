// The dense layer on cpu-blas: forward y = act(x·W + b) as one sgemm plus one pass; backward as
// dz = dy·act'(y) (one pass), then each of dx = dz·Wᵀ, dW = xᵀ·dz (sgemm transpose flags, no copies) and
// db = dzᵀ·1 (sgemv) only when TF.js asks for it: an observation batch needs no dx, and the actor's loss
// needs no critic dW.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Blas } from './blas.ts';
import { type CpuKernelArgs, fillRows, output, uninitialized, valuesOf } from './cpu.ts';
import { applyActivationInPlace } from './matmul.ts';
import { SimdArena, round4, simdModule } from './simd.ts';

// One arena for the dense kernels' scratch (relu outputs, dy/y/dz), or null without WebAssembly SIMD.
let arena: SimdArena | null | undefined;
function simdArena(): SimdArena | null {
  if (arena === undefined) {
    const module = simdModule();
    arena = module ? new SimdArena(module) : null;
  }
  return arena;
}

export const DENSE_KERNEL = 'OnestepDense';
export const DENSE_GRAD_KERNEL = 'OnestepDenseGrad';
export const DENSE_BIAS_GRAD_KERNEL = 'OnestepDenseBiasGrad';

/** Activations whose derivative can be read from the layer's output y alone. */
export const DENSE_ACTIVATIONS = ['linear', 'relu', 'tanh'] as const;
export type DenseActivation = (typeof DENSE_ACTIVATIONS)[number];

export function denseForwardConfig(blas: Blas, backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { x, W, b }, backend, attrs }: CpuKernelArgs<'x' | 'W' | 'b'>): TensorInfo => {
    const rows = x.shape[0], nIn = x.shape[1], nOut = W.shape[1];
    const y = uninitialized(rows * nOut); // every row starts as the bias
    const simd = attrs!.activation === 'relu' ? simdArena() : null;
    // With SIMD, the matmul lands in the arena, ReLU runs there and one memcpy brings it out.
    if (simd) simd.reserve(y.length);
    const acc = simd ? simd.region(0, y.length) : y;
    // Start from the bias in every row (doubling copies), then let sgemm accumulate x·W onto it (beta = 1).
    const bias = valuesOf(backend, b);
    if (nOut === 1) {
      // A value head: one sgemv (sgemm with one output column ran at ~1/20 of its usual rate).
      acc.fill(bias[0]);
      if (y.length > 0 && nIn > 0) blas.sgemv(false, rows, nIn, 1, valuesOf(backend, x), nIn, valuesOf(backend, W), 1, acc);
    } else {
      fillRows(acc, bias, rows, nOut);
      if (y.length > 0 && nIn > 0) blas.sgemm(false, false, rows, nOut, nIn, 1, valuesOf(backend, x), nIn, valuesOf(backend, W), nOut, 1, acc, nOut);
    }
    if (simd) {
      simd.relu(0, y.length);
      y.set(acc);
    } else {
      applyActivationInPlace(y, attrs!.activation as string, 0);
    }
    return output(backend, [rows, nOut], y);
  };
  return { kernelName: DENSE_KERNEL, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

// A column of ones for db = dzᵀ·1, reused across calls (kernels run synchronously).
let ones = new Float32Array(0);

/** dz = dy·act'(y) for relu/tanh, from the layer's output y (linear needs no kernel: dz = dy). */
export function denseActivationGradConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { dy, y }, backend, attrs }: CpuKernelArgs<'dy' | 'y'>): TensorInfo => {
    const dyV = valuesOf(backend, dy), yV = valuesOf(backend, y), n = dyV.length;
    const dz = uninitialized(n); // every branch below writes all n values
    const activation = attrs!.activation as DenseActivation;
    const simd = activation === 'relu' ? simdArena() : null;
    if (simd) {
      // dy and y into the arena, the mask in SIMD, one memcpy out: ~6× less CPU than the JS loop.
      const stride = round4(n);
      simd.reserve(3 * stride);
      simd.region(0, n).set(dyV);
      simd.region(stride, n).set(yV);
      simd.reluMask(2 * stride, 0, stride, n);
      dz.set(simd.region(2 * stride, n));
    } else if (activation === 'relu') {
      // Branch-free mask: a data-dependent branch mispredicts on about half of the units.
      for (let i = 0; i < n; i++) dz[i] = dyV[i] * +(yV[i] > 0);
    } else if (activation === 'tanh') {
      for (let i = 0; i < n; i++) { const t = yV[i]; dz[i] = dyV[i] * (1 - t * t); }
    } else {
      dz.set(dyV);
    }
    return output(backend, [...dy.shape], dz);
  };
  return { kernelName: DENSE_GRAD_KERNEL, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** db = column sums of dz [rows, n], as one sgemv. */
export function denseBiasGradConfig(blas: Blas, backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { dz }, backend }: CpuKernelArgs<'dz'>): TensorInfo => {
    const [rows, n] = dz.shape;
    const db = new Float32Array(n);
    if (rows > 0 && n > 0) {
      if (ones.length < rows) ones = new Float32Array(rows).fill(1);
      blas.sgemv(true, rows, n, 1, valuesOf(backend, dz), n, ones, 0, db);
    }
    return output(backend, [n], db);
  };
  return { kernelName: DENSE_BIAS_GRAD_KERNEL, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
