// Direct access to the TF.js cpu backend's storage: our kernels read inputs and write outputs as plain
// Float32Arrays, which is what lets them avoid the stock kernels' generic (and allocating) index arithmetic.
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

export type CpuBackend = MathBackendCPU;

/** The float32 values behind a tensor on a cpu-family backend (no copy). */
export function valuesOf(backend: CpuBackend, t: TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}

/** A new float32 tensor on `backend` that takes ownership of `values`. */
export function output(backend: CpuBackend, shape: number[], values: Float32Array): TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}

/**
 * A float32 buffer of n values with undefined contents, for outputs a kernel overwrites completely: zeroing a
 * fresh 256 KB array costs ~10× the allocation itself (measured ~110 µs vs ~10 µs), more than the op it holds.
 * Its ArrayBuffer is its own (never a pooled one shared with other buffers).
 */
export function uninitialized(n: number): Float32Array {
  let out: Float32Array;
  if (n < 1024) out = new Float32Array(n);
  else {
    const bytes = Buffer.allocUnsafeSlow(n * 4);
    out = new Float32Array(bytes.buffer, bytes.byteOffset, n);
  }
  return poison ? out.fill(NaN) : out;
}

// Tests fill "uninitialized" buffers with NaN, so a kernel that leaves a value unwritten cannot pass by luck.
let poison = false;
export function poisonUninitialized(on: boolean): void {
  poison = on;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** Arguments of a kernel call, typed for our cpu-family backends. */
export interface CpuKernelArgs<I extends string> {
  inputs: Record<I, TensorInfo>;
  backend: CpuBackend;
  attrs?: NamedAttrMap;
}
