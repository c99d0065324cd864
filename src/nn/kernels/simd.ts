// The loops JS runs slowest in a training step (ReLU, its gradient mask, Adam, LayerNorm forward, backward and JVP)
// as a ~1.9 KB WebAssembly SIMD module: the source is simd.wat beside this file, the bytes (simd.wasm) are built
// from it by scripts/build-wasm.ts and checked in, so nothing compiles at install time. Data is copied into the
// module's memory (a memcpy is ~20× cheaper than a scalar JS pass here) and, for matmul outputs, sgemm writes
// there directly. Without WebAssembly SIMD, callers use their JS loops.
import { readFileSync } from 'node:fs';

/** The module's bytes, as built from simd.wat. */
export function simdModuleBytes(): Uint8Array {
  return readFileSync(new URL('./simd.wasm', import.meta.url));
}

// Just the WebAssembly API we use (this project's TypeScript lib has no DOM types, where it is declared).
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
export interface WasmModule { readonly wasmModule?: never }
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface SimdExports {
  relu(x: number, n: number): void;
  reluMask(dz: number, dy: number, y: number, n: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, b1: number, c1: number, b2: number, c2: number,
    step: number, invSqrtBc2: number, eps: number, scale: number, decay: number): void;
  layerNorm(x: number, g: number, b: number, mean: number, rstd: number, rows: number, n: number, eps: number, lo: number): void;
  layerNormGrad(dy: number, y: number, x: number, g: number, mean: number, rstd: number, dmean: number, drstd: number,
    dg: number, db: number, rows: number, n: number, lo: number, all: number): void;
  layerNormTangent(d: number, x: number, g: number, y: number, mean: number, rstd: number, rows: number, n: number, lo: number, all: number): void;
  memory: WasmMemory;
}

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable (or ONESTEP_SIMD=0). */
export function simdModule(): WasmModule | null {
  if (compiled !== undefined) return compiled;
  const bytes = simdModuleBytes();
  compiled = process.env.ONESTEP_SIMD !== '0' && wasm && wasm.validate(bytes) ? new wasm.Module(bytes) : null;
  return compiled;
}

const round4 = (n: number) => (n + 3) & ~3;

/**
 * One instance of the module with its own memory, carved into float32 regions by byte offset. Regions are
 * padded to whole SIMD lanes; the padding is computed on but never read back.
 */
export class SimdArena {
  private readonly fns: SimdExports;
  private view: Float32Array;

  constructor(module: WasmModule) {
    this.fns = new wasm!.Instance(module).exports as unknown as SimdExports;
    this.view = new Float32Array(this.fns.memory.buffer);
  }

  /** Makes the memory at least `floats` long (views taken before a growth are stale: take them after). */
  reserve(floats: number): void {
    const bytes = round4(floats) * 4;
    const have = this.fns.memory.buffer.byteLength;
    if (bytes > have) {
      this.fns.memory.grow(Math.ceil((bytes - have) / 65536));
      this.view = new Float32Array(this.fns.memory.buffer);
    }
  }

  /** A float32 view of `n` values starting at float index `at` (a multiple of 4). */
  region(at: number, n: number): Float32Array {
    return this.view.subarray(at, at + n);
  }

  relu(at: number, n: number): void {
    this.fns.relu(at * 4, round4(n));
  }

  reluMask(dzAt: number, dyAt: number, yAt: number, n: number): void {
    this.fns.reluMask(dzAt * 4, dyAt * 4, yAt * 4, round4(n));
  }

  adam(pAt: number, gAt: number, mAt: number, vAt: number, n: number, b1: number, b2: number, stepSize: number,
    invSqrtBc2: number, eps: number, gradScale: number, decay: number): void {
    this.fns.adam(pAt * 4, gAt * 4, mAt * 4, vAt * 4, round4(n), b1, 1 - b1, b2, 1 - b2, stepSize, invSqrtBc2, eps, gradScale, decay);
  }

  /**
   * LayerNorm of `rows` rows of `n` (a multiple of 4) at xAt, in place, then relu if asked; γ, β at gAt, bAt (n
   * each); each row's mean and 1/√(var + eps) to meanAt, rstdAt. Sums are float32, four lanes wide.
   */
  layerNorm(xAt: number, gAt: number, bAt: number, meanAt: number, rstdAt: number, rows: number, n: number, eps: number, relu: boolean): void {
    this.fns.layerNorm(xAt * 4, gAt * 4, bAt * 4, meanAt * 4, rstdAt * 4, rows, n, eps, relu ? 0 : -Infinity);
  }

  /**
   * The LayerNorm backward for `n` a multiple of 4: dx in place over dy, dγ and dβ added into dgAt, dbAt.
   * With `relu`, dy is first masked where the forward output y ≤ 0.
   */
  layerNormGrad(dyAt: number, yAt: number, xAt: number, gAt: number, meanAt: number, rstdAt: number, dmeanAt: number, drstdAt: number,
    dgAt: number, dbAt: number, rows: number, n: number, relu: boolean): void {
    this.fns.layerNormGrad(dyAt * 4, yAt * 4, xAt * 4, gAt * 4, meanAt * 4, rstdAt * 4, dmeanAt * 4, drstdAt * 4, dgAt * 4, dbAt * 4, rows, n, 0, relu ? 0 : -1);
  }

  /**
   * The LayerNorm tangent (JVP) for `n` a multiple of 4, in place over the input tangent at dAt, from the input x, γ,
   * the forward's output y and its mean and rstd; with `relu`, zero where y ≤ 0. Sums are float32, four lanes wide.
   */
  layerNormTangent(dAt: number, xAt: number, gAt: number, yAt: number, meanAt: number, rstdAt: number, rows: number, n: number, relu: boolean): void {
    this.fns.layerNormTangent(dAt * 4, xAt * 4, gAt * 4, yAt * 4, meanAt * 4, rstdAt * 4, rows, n, 0, relu ? 0 : -1);
  }
}

export { round4 };
