// The three loops JS runs slowest in a training step (ReLU, its gradient mask, Adam) as a ~500-byte
// WebAssembly SIMD module, assembled here from opcodes so nothing needs compiling at install time.
// Data is copied into the module's memory (a memcpy is ~20× cheaper than a scalar JS pass here) and, for
// matmul outputs, sgemm writes there directly. Without WebAssembly SIMD, callers use their JS loops.

// --- a minimal assembler: LEB128, vectors, sections --------------------------------------------------
const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// Instructions used below.
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32Shl: [0x74],
  i32GeU: [0x4f],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  end: [0x0b],
  simd: (code: number) => [0xfd, ...uleb(code)],
};
const load = (): number[] => [...op.simd(0x00), 4, 0]; // v128.load align=16 offset=0
const store = (): number[] => [...op.simd(0x0b), 4, 0]; // v128.store
const f32x4 = { splat: 0x13, gt: 0x44, and: 0x4e, sqrt: 0xe3, add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7, max: 0xe9 };
const s = (code: number) => op.simd(code);

/**
 * A loop over byte offset i = 0, 16, … < n·4 (n a multiple of 4). `offsetLocal` holds i, `endLocal` n·4;
 * the body reads addresses as base + i.
 */
function loopOver(nParam: number, offsetLocal: number, endLocal: number, body: number[]): number[] {
  return [
    ...op.get(nParam), ...op.i32(2), ...op.i32Shl, ...op.set(endLocal),
    ...op.i32(0), ...op.set(offsetLocal),
    ...op.block, ...op.loop,
    ...op.get(offsetLocal), ...op.get(endLocal), ...op.i32GeU, ...op.brIf(1),
    ...body,
    ...op.get(offsetLocal), ...op.i32(16), ...op.i32Add, ...op.set(offsetLocal),
    ...op.br(0), ...op.end, ...op.end,
  ];
}
const addr = (base: number, offsetLocal: number) => [...op.get(base), ...op.get(offsetLocal), ...op.i32Add];

/** The module's bytes (~500). */
export function assemble(): Uint8Array {
  // relu(x, n): x ← max(x, 0) in place (NaN stays NaN).
  const reluBody = (() => {
    const [x, n, i, end, zero] = [0, 1, 2, 3, 4];
    return {
      locals: [[2, I32], [1, V128]],
      code: [
        ...[0x43, 0, 0, 0, 0], ...s(f32x4.splat), ...op.set(zero),
        ...loopOver(n, i, end, [...addr(x, i), ...addr(x, i), ...load(), ...op.get(zero), ...s(f32x4.max), ...store()]),
      ],
    };
  })();
  // reluMask(dz, dy, y, n): dz ← dy where y > 0, else 0.
  const maskBody = (() => {
    const [dz, dy, y, n, i, end, zero] = [0, 1, 2, 3, 4, 5, 6];
    return {
      locals: [[2, I32], [1, V128]],
      code: [
        ...[0x43, 0, 0, 0, 0], ...s(f32x4.splat), ...op.set(zero),
        ...loopOver(n, i, end, [
          ...addr(dz, i), ...addr(dy, i), ...load(), ...addr(y, i), ...load(), ...op.get(zero), ...s(f32x4.gt), ...s(f32x4.and), ...store(),
        ]),
      ],
    };
  })();
  // adam(p, g, m, v, n, b1, 1−b1, b2, 1−b2, stepSize, 1/√(1−b2ᵗ), eps, gradScale, decay), PyTorch's formulation.
  const adamBody = (() => {
    const [p, g, m, v, n] = [0, 1, 2, 3, 4];
    const scalars = [5, 6, 7, 8, 9, 10, 11, 12, 13]; // b1, c1, b2, c2, step, invSq, eps, scale, decay
    const [i, end] = [14, 15];
    const splat = (k: number) => 16 + k; // v128 locals, one per scalar
    const [B1, C1, B2, C2, STEP, INVSQ, EPS, SCALE, DECAY] = scalars.map((_, k) => splat(k));
    const [G, M, V] = [25, 26, 27];
    return {
      locals: [[2, I32], [12, V128]],
      code: [
        ...scalars.flatMap((sc, k) => [...op.get(sc), ...s(f32x4.splat), ...op.set(splat(k))]),
        ...loopOver(n, i, end, [
          ...addr(g, i), ...load(), ...op.get(SCALE), ...s(f32x4.mul), ...op.set(G),
          ...addr(m, i), ...load(), ...op.get(B1), ...s(f32x4.mul), ...op.get(G), ...op.get(C1), ...s(f32x4.mul), ...s(f32x4.add), ...op.set(M),
          ...addr(v, i), ...load(), ...op.get(B2), ...s(f32x4.mul), ...op.get(G), ...op.get(G), ...s(f32x4.mul), ...op.get(C2), ...s(f32x4.mul), ...s(f32x4.add), ...op.set(V),
          ...addr(m, i), ...op.get(M), ...store(),
          ...addr(v, i), ...op.get(V), ...store(),
          ...addr(p, i),
          ...addr(p, i), ...load(), ...op.get(DECAY), ...s(f32x4.mul),
          ...op.get(M), ...op.get(STEP), ...s(f32x4.mul),
          ...op.get(V), ...s(f32x4.sqrt), ...op.get(INVSQ), ...s(f32x4.mul), ...op.get(EPS), ...s(f32x4.add),
          ...s(f32x4.div), ...s(f32x4.sub), ...store(),
        ]),
      ],
    };
  })();
  const funcs = [reluBody, maskBody, adamBody];
  const types = [
    [0x60, ...vec([[I32], [I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], ...new Array(9).fill([F32])]), ...vec([])],
  ];
  const code = funcs.map((f) => {
    const body = [...vec(f.locals.map(([count, type]) => [...uleb(count), type])), ...f.code, ...op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec([[0], [1], [2]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...name('relu'), 0x00, 0], [...name('reluMask'), 0x00, 1], [...name('adam'), 0x00, 2], [...name('memory'), 0x02, 0]])),
    ...section(10, vec(code)),
  ]);
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
  memory: WasmMemory;
}

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable (or ONESTEP_SIMD=0). */
export function simdModule(): WasmModule | null {
  if (compiled !== undefined) return compiled;
  const bytes = assemble();
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
}

export { round4 };
