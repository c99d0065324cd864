// The dense layer as two cpu-blas kernels: forward y = act(x·W + b) in one sgemm plus one pass, and backward
// (dz, dW, db) from one call: dz = dy·act'(y) once, then dW = xᵀ·dz as an sgemm transpose flag and db = dzᵀ·1.
// dx = dz·Wᵀ is left to the caller (one more sgemm), because the first layer's input needs no gradient.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Blas } from './blas.ts';
import { type CpuKernelArgs, output, valuesOf } from './cpu.ts';
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

/** Activations whose derivative can be read from the layer's output y alone. */
export const DENSE_ACTIVATIONS = ['linear', 'relu', 'tanh'] as const;
export type DenseActivation = (typeof DENSE_ACTIVATIONS)[number];

export function denseForwardConfig(blas: Blas, backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { x, W, b }, backend, attrs }: CpuKernelArgs<'x' | 'W' | 'b'>): TensorInfo => {
    const rows = x.shape[0], nIn = x.shape[1], nOut = W.shape[1];
    const y = new Float32Array(rows * nOut);
    const simd = attrs!.activation === 'relu' ? simdArena() : null;
    // With SIMD, the matmul lands in the arena, ReLU runs there and one memcpy brings it out.
    if (simd) simd.reserve(y.length);
    const acc = simd ? simd.region(0, y.length) : y;
    // Start from the bias in every row (memcpy per row), then let sgemm accumulate x·W onto it (beta = 1).
    const bias = valuesOf(backend, b);
    for (let r = 0; r < rows; r++) acc.set(bias, r * nOut);
    if (y.length > 0 && nIn > 0) blas.sgemm(false, false, rows, nOut, nIn, 1, valuesOf(backend, x), nIn, valuesOf(backend, W), nOut, 1, acc, nOut);
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

// dz scratch and a column of ones (db = dzᵀ·1), reused across calls: kernels run synchronously.
let dzScratch = new Float32Array(0);
let ones = new Float32Array(0);

export function denseBackwardConfig(blas: Blas, backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { dy, x, W, y }, backend, attrs }: CpuKernelArgs<'dy' | 'x' | 'W' | 'y'>): TensorInfo[] => {
    const rows = x.shape[0], nIn = x.shape[1], nOut = W.shape[1];
    const dyV = valuesOf(backend, dy);
    let dz = dyV;
    const activation = attrs!.activation as DenseActivation;
    const simd = activation === 'relu' ? simdArena() : null;
    if (simd) {
      // dy and y into the arena, dz = dy where y > 0 in SIMD; sgemm then reads dz from the arena.
      const n = dyV.length, stride = round4(n);
      simd.reserve(3 * stride);
      simd.region(0, n).set(dyV);
      simd.region(stride, n).set(valuesOf(backend, y));
      simd.reluMask(2 * stride, 0, stride, n);
      dz = simd.region(2 * stride, n);
    } else if (activation !== 'linear') {
      if (dzScratch.length < dyV.length) dzScratch = new Float32Array(dyV.length);
      dz = dzScratch.length === dyV.length ? dzScratch : dzScratch.subarray(0, dyV.length);
      const yV = valuesOf(backend, y);
      const n = dz.length;
      // Branch-free mask: a data-dependent branch mispredicts on about half of the units.
      if (activation === 'relu') for (let i = 0; i < n; i++) dz[i] = dyV[i] * +(yV[i] > 0);
      else for (let i = 0; i < n; i++) { const t = yV[i]; dz[i] = dyV[i] * (1 - t * t); }
    }
    const dW = new Float32Array(nIn * nOut), db = new Float32Array(nOut);
    if (rows > 0 && nOut > 0) {
      blas.sgemm(true, false, nIn, nOut, rows, 1, valuesOf(backend, x), nIn, dz, nOut, 0, dW, nOut);
    }
    if (rows > 0 && nOut > 0) {
      if (ones.length < rows) ones = new Float32Array(rows).fill(1);
      blas.sgemv(true, rows, nOut, 1, dz, nOut, ones, 0, db);
    }
    return [output(backend, [rows, nOut], dz.slice()), output(backend, [nIn, nOut], dW), output(backend, [nOut], db)];
  };
  return { kernelName: DENSE_GRAD_KERNEL, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
