// Direct access to the TF.js cpu backend's storage: our kernels read inputs and write outputs as plain
// Float32Arrays, which is what lets them avoid the stock kernels' generic (and allocating) index arithmetic.
import type { BackendValues, DataId, DataType, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

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
 * Large ones come from the pool of buffers that disposed tensors gave back (see PooledCpuBackend), else fresh;
 * a fresh one's ArrayBuffer is its own (never a pooled one shared with other buffers).
 */
export function uninitialized(n: number): Float32Array {
  let out: Float32Array | undefined;
  if (n < POOLED_MIN) out = new Float32Array(n);
  else {
    out = pool.take(n);
    if (!out) {
      const bytes = Buffer.allocUnsafeSlow(n * 4);
      out = new Float32Array(bytes.buffer, bytes.byteOffset, n);
      ours.set(out.buffer, out);
    }
  }
  return poison ? out.fill(NaN) : out;
}

// Tests fill "uninitialized" buffers with NaN, so a kernel that leaves a value unwritten cannot pass by luck.
let poison = false;
export function poisonUninitialized(on: boolean): void {
  poison = on;
}

// --- Recycling kernel output buffers ---
// A fresh multi-hundred-KB buffer is fresh memory: the allocator hands back pages the OS must fault in and zero
// on first touch, and V8 frees the old ones only at its next GC. Measured: an sgemm into a fresh 1280 × 256
// output cost 4.7 ms of CPU against 1.6 ms into a reused one (1.3 vs 0.34 ms at 256 × 256) — in a MeanFlowQL
// update the page faults cost more than the arithmetic. So the cpu-blas backend gives the buffers of disposed
// tensors back to a pool that uninitialized() draws from (PyTorch frees a tensor the moment its last reference goes,
// so the allocator hands the same warm block out again; the pool gets TF.js's disposals the same effect).
//
// Only buffers uninitialized() allocated are recycled, and only while nothing outside the backend can see them:
// a buffer is "escaped" for good once its values are read out (dataSync()/data() return the backend's own array
// on the cpu backends), once another tensor's values are a view into it (the stock Slice shares memory), or once
// it backs two tensors at a time. User arrays handed to tf.tensor() are never ours, so never recycled.

const POOLED_MIN = 1024;
/** Buffers this module allocated, keyed by their ArrayBuffer (each has its own), so views on them are found too. */
const ours = new WeakMap<ArrayBufferLike, Float32Array>();
/** Buffers that back a live tensor now. */
const live = new WeakSet<Float32Array>();
/** Buffers that may be referenced from outside the backend: never recycled. */
const escaped = new WeakSet<Float32Array>();

class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private bytes = 0;
  constructor(private readonly maxBytes: number) {}
  take(n: number): Float32Array | undefined {
    const out = this.free.get(n)?.pop();
    if (out) this.bytes -= out.byteLength;
    return out;
  }
  give(buffer: Float32Array): void {
    if (this.bytes + buffer.byteLength > this.maxBytes) return; // left to the GC
    let list = this.free.get(buffer.length);
    if (!list) this.free.set(buffer.length, (list = []));
    list.push(buffer);
    this.bytes += buffer.byteLength;
  }
  clear(): void {
    this.free.clear();
    this.bytes = 0;
  }
  get size(): number {
    return this.bytes;
  }
}
// A SAC or MeanFlowQL update at batch 256 (1280 rows in best-of-5) cycles through ~20–40 MB of outputs.
const poolMegabytes = (() => {
  const raw = process.env.ONESTEP_BUFFER_POOL_MB?.trim();
  const mb = raw ? Number(raw) : 64;
  return Number.isFinite(mb) && mb >= 0 ? mb : 64;
})();
const pool = new BufferPool(poolMegabytes * 2 ** 20);

/** The pool's cap in MB (ONESTEP_BUFFER_POOL_MB, default 64; 0 turns recycling off). */
export function bufferPoolMegabytes(): number {
  return poolMegabytes;
}

/** Bytes held by the pool now (tests). */
export function pooledBytes(): number {
  return pool.size;
}

/** Drops every pooled buffer (to the GC). */
export function clearBufferPool(): void {
  pool.clear();
}

type CpuData = { values?: unknown; dtype: string; refCount: number };

function noteStored(values: unknown): void {
  if (!ArrayBuffer.isView(values)) return;
  const owner = ours.get(values.buffer);
  if (!owner) return;
  if (owner !== values || live.has(owner)) escaped.add(owner); // a view on it, or a second tensor on it
  else live.add(owner);
}

function noteSeen(values: unknown): void {
  if (!ArrayBuffer.isView(values)) return;
  const owner = ours.get(values.buffer);
  if (owner) escaped.add(owner);
}

/**
 * The stock cpu backend (same storage, same kernels) that recycles the buffers of disposed tensors into the pool
 * uninitialized() draws from, under the rules above.
 */
export class PooledCpuBackend extends MathBackendCPU {
  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    noteStored(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    // (data.get of an id this backend does not hold would ask the engine to move it here: has() first)
    if (this.data.has(dataId)) noteSeen((this.data.get(dataId) as CpuData).values); // replaced without a dispose: who else holds it is unknown
    noteStored(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): BackendValues {
    const values = super.readSync(dataId);
    noteSeen(values);
    noteSeen((this.data.get(dataId) as CpuData).values);
    return values;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const record = this.data.has(dataId) ? this.data.get(dataId) as CpuData : undefined;
    const released = super.disposeData(dataId, force);
    if (released && record && ArrayBuffer.isView(record.values)) {
      const values = record.values as Float32Array;
      if (ours.get(values.buffer) === values && live.has(values)) {
        live.delete(values);
        if (!escaped.has(values)) pool.give(values);
      }
    }
    return released;
  }
}

/** Every row of `out` ([rows, n]) set to `bias`: one copy, then doubling copies of what is already there. */
export function fillRows(out: Float32Array, bias: Float32Array, rows: number, n: number): void {
  if (rows === 0) return;
  out.set(bias, 0);
  for (let done = 1; done < rows;) {
    const take = Math.min(done, rows - done);
    out.copyWithin(done * n, 0, take * n);
    done += take;
  }
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
