// The loops JS runs slowest in a training step (ReLU, its gradient mask, Adam, LayerNorm forward and backward)
// as a ~1.4 KB WebAssembly SIMD module, assembled here from opcodes so nothing needs compiling at install time.
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
  i32Mul: [0x6c],
  i32Shl: [0x74],
  i32GeU: [0x4f],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  end: [0x0b],
  simd: (code: number) => [0xfd, ...uleb(code)],
  f32: (v: number) => [0x43, ...new Uint8Array(Float32Array.of(v).buffer)],
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  f32Div: [0x95],
  f32Sqrt: [0x91],
  f32FromU32: [0xb3],
};
const load = (): number[] => [...op.simd(0x00), 4, 0]; // v128.load align=16 offset=0
const store = (): number[] => [...op.simd(0x0b), 4, 0]; // v128.store
const f32x4 = { splat: 0x13, extractLane: 0x1f, gt: 0x44, and: 0x4e, or: 0x50, sqrt: 0xe3, add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7, max: 0xe9 };
const i32x4Splat = 0x11;
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
/** base + row offset + j, for the row loops below. */
const addr3 = (base: number, rowLocal: number, offsetLocal: number) => [...addr(base, rowLocal), ...op.get(offsetLocal), ...op.i32Add];
/** The sum of a v128 local's four f32 lanes, (l0 + l1) + (l2 + l3), left on the stack as an f32. */
const lanesSum = (v: number) => [
  ...op.get(v), ...s(f32x4.extractLane), 0, ...op.get(v), ...s(f32x4.extractLane), 1, ...op.f32Add,
  ...op.get(v), ...s(f32x4.extractLane), 2, ...op.get(v), ...s(f32x4.extractLane), 3, ...op.f32Add, ...op.f32Add,
];
/** A loop over byte offset j = 0, 16, … < end (a local holding a multiple of 16). */
function loopTo(endLocal: number, offsetLocal: number, body: number[]): number[] {
  return [
    ...op.i32(0), ...op.set(offsetLocal),
    ...op.block, ...op.loop,
    ...op.get(offsetLocal), ...op.get(endLocal), ...op.i32GeU, ...op.brIf(1),
    ...body,
    ...op.get(offsetLocal), ...op.i32(16), ...op.i32Add, ...op.set(offsetLocal),
    ...op.br(0), ...op.end, ...op.end,
  ];
}

/** The module's bytes (~1400). */
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
  // layerNorm(x, g, b, mean, rstd, rows, n, eps, lo), n a multiple of 4, in place over x: per row μ, then
  // rstd = 1/√(mean((x − μ)²) + eps), then x ← max((x − μ)·rstd·g + b, lo) (lo = 0: relu, −∞: none).
  const layerNormBody = (() => {
    const [x, g, b, mean, rstd, rows, n, eps, lo] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const [r, j, rowBytes, xr, rq] = [9, 10, 11, 12, 13];
    const [mu, sc, nf] = [14, 15, 16];
    const [acc, t, muV, sV, loV] = [17, 18, 19, 20, 21];
    const xj = () => [...addr(xr, j), ...load()];
    return {
      locals: [[5, I32], [3, F32], [5, V128]],
      code: [
        ...op.get(n), ...op.i32(2), ...op.i32Shl, ...op.set(rowBytes),
        ...op.get(n), ...op.f32FromU32, ...op.set(nf),
        ...op.get(lo), ...s(f32x4.splat), ...op.set(loV),
        ...op.i32(0), ...op.set(r),
        ...op.block, ...op.loop,
        ...op.get(r), ...op.get(rows), ...op.i32GeU, ...op.brIf(1),
        ...op.get(x), ...op.get(r), ...op.get(rowBytes), ...op.i32Mul, ...op.i32Add, ...op.set(xr),
        ...op.get(r), ...op.i32(2), ...op.i32Shl, ...op.set(rq),
        // μ
        ...op.f32(0), ...s(f32x4.splat), ...op.set(acc),
        ...loopTo(rowBytes, j, [...op.get(acc), ...xj(), ...s(f32x4.add), ...op.set(acc)]),
        ...lanesSum(acc), ...op.get(nf), ...op.f32Div, ...op.set(mu),
        ...op.get(mu), ...s(f32x4.splat), ...op.set(muV),
        // rstd
        ...op.f32(0), ...s(f32x4.splat), ...op.set(acc),
        ...loopTo(rowBytes, j, [
          ...xj(), ...op.get(muV), ...s(f32x4.sub), ...op.set(t),
          ...op.get(acc), ...op.get(t), ...op.get(t), ...s(f32x4.mul), ...s(f32x4.add), ...op.set(acc),
        ]),
        ...op.f32(1), ...lanesSum(acc), ...op.get(nf), ...op.f32Div, ...op.get(eps), ...op.f32Add, ...op.f32Sqrt, ...op.f32Div, ...op.set(sc),
        ...op.get(sc), ...s(f32x4.splat), ...op.set(sV),
        ...addr(mean, rq), ...op.get(mu), ...op.f32Store,
        ...addr(rstd, rq), ...op.get(sc), ...op.f32Store,
        // y
        ...loopTo(rowBytes, j, [
          ...addr(xr, j),
          ...xj(), ...op.get(muV), ...s(f32x4.sub), ...op.get(sV), ...s(f32x4.mul), ...addr(g, j), ...load(), ...s(f32x4.mul),
          ...addr(b, j), ...load(), ...s(f32x4.add), ...op.get(loV), ...s(f32x4.max), ...store(),
        ]),
        ...op.get(r), ...op.i32(1), ...op.i32Add, ...op.set(r),
        ...op.br(0), ...op.end, ...op.end,
      ],
    };
  })();
  // layerNormGrad(dy, y, x, g, mean, rstd, dmean, drstd, dg, db, rows, n, lo, all), n a multiple of 4; dx in
  // place over dy, dγ and dβ added to dg and db. dz = dy where y > lo or `all` (−1: every lane, 0: the relu
  // mask); g = dz·γ; dx = rstd·g + a − x̂·(rstd·b) with a = (dμ − rstd·Σg)/n, b = (rstd·Σg·x̂ + drstd·rstd²)/n.
  const layerNormGradBody = (() => {
    const [dy, y, x, g, mean, rstd, dmean, drstd, dg, db, rows, n, lo, all] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
    const [r, j, rowBytes, off, rq] = [14, 15, 16, 17, 18];
    const [sc, nf, a, bb] = [19, 20, 21, 22];
    const [loV, allV, muV, sV, dz, xh, gg, acc1, acc2, aV, sbV] = [23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33];
    const at = (base: number) => addr3(base, off, j);
    const centred = () => [...at(x), ...load(), ...op.get(muV), ...s(f32x4.sub)];
    return {
      locals: [[5, I32], [4, F32], [11, V128]],
      code: [
        ...op.get(n), ...op.i32(2), ...op.i32Shl, ...op.set(rowBytes),
        ...op.get(n), ...op.f32FromU32, ...op.set(nf),
        ...op.get(lo), ...s(f32x4.splat), ...op.set(loV),
        ...op.get(all), ...s(i32x4Splat), ...op.set(allV),
        ...op.i32(0), ...op.set(r),
        ...op.block, ...op.loop,
        ...op.get(r), ...op.get(rows), ...op.i32GeU, ...op.brIf(1),
        ...op.get(r), ...op.get(rowBytes), ...op.i32Mul, ...op.set(off),
        ...op.get(r), ...op.i32(2), ...op.i32Shl, ...op.set(rq),
        ...addr(mean, rq), ...op.f32Load, ...s(f32x4.splat), ...op.set(muV),
        ...addr(rstd, rq), ...op.f32Load, ...op.set(sc),
        ...op.get(sc), ...s(f32x4.splat), ...op.set(sV),
        ...op.f32(0), ...s(f32x4.splat), ...op.set(acc1),
        ...op.f32(0), ...s(f32x4.splat), ...op.set(acc2),
        ...loopTo(rowBytes, j, [
          ...at(dy), ...load(), ...at(y), ...load(), ...op.get(loV), ...s(f32x4.gt), ...op.get(allV), ...s(f32x4.or), ...s(f32x4.and), ...op.set(dz),
          ...centred(), ...op.get(sV), ...s(f32x4.mul), ...op.set(xh),
          ...addr(db, j), ...addr(db, j), ...load(), ...op.get(dz), ...s(f32x4.add), ...store(),
          ...addr(dg, j), ...addr(dg, j), ...load(), ...op.get(dz), ...op.get(xh), ...s(f32x4.mul), ...s(f32x4.add), ...store(),
          ...op.get(dz), ...addr(g, j), ...load(), ...s(f32x4.mul), ...op.set(gg),
          ...at(dy), ...op.get(gg), ...store(),
          ...op.get(acc1), ...op.get(gg), ...s(f32x4.add), ...op.set(acc1),
          ...op.get(acc2), ...op.get(gg), ...op.get(xh), ...s(f32x4.mul), ...s(f32x4.add), ...op.set(acc2),
        ]),
        ...addr(dmean, rq), ...op.f32Load, ...op.get(sc), ...lanesSum(acc1), ...op.f32Mul, ...op.f32Sub, ...op.get(nf), ...op.f32Div, ...op.set(a),
        ...op.get(sc), ...lanesSum(acc2), ...op.f32Mul, ...addr(drstd, rq), ...op.f32Load, ...op.get(sc), ...op.f32Mul, ...op.get(sc), ...op.f32Mul, ...op.f32Add,
        ...op.get(nf), ...op.f32Div, ...op.set(bb),
        ...op.get(a), ...s(f32x4.splat), ...op.set(aV),
        ...op.get(sc), ...op.get(bb), ...op.f32Mul, ...s(f32x4.splat), ...op.set(sbV),
        ...loopTo(rowBytes, j, [
          ...at(dy),
          ...at(dy), ...load(), ...op.get(sV), ...s(f32x4.mul), ...op.get(aV), ...s(f32x4.add),
          ...centred(), ...op.get(sbV), ...s(f32x4.mul), ...s(f32x4.sub), ...store(),
        ]),
        ...op.get(r), ...op.i32(1), ...op.i32Add, ...op.set(r),
        ...op.br(0), ...op.end, ...op.end,
      ],
    };
  })();
  const funcs = [reluBody, maskBody, adamBody, layerNormBody, layerNormGradBody];
  const types = [
    [0x60, ...vec([[I32], [I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], ...new Array(9).fill([F32])]), ...vec([])],
    [0x60, ...vec([...new Array(7).fill([I32]), [F32], [F32]]), ...vec([])],
    [0x60, ...vec([...new Array(12).fill([I32]), [F32], [I32]]), ...vec([])],
  ];
  const code = funcs.map((f) => {
    const body = [...vec(f.locals.map(([count, type]) => [...uleb(count), type])), ...f.code, ...op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec([[0], [1], [2], [3], [4]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...name('relu'), 0x00, 0], [...name('reluMask'), 0x00, 1], [...name('adam'), 0x00, 2], [...name('layerNorm'), 0x00, 3],
      [...name('layerNormGrad'), 0x00, 4], [...name('memory'), 0x02, 0]])),
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
  layerNorm(x: number, g: number, b: number, mean: number, rstd: number, rows: number, n: number, eps: number, lo: number): void;
  layerNormGrad(dy: number, y: number, x: number, g: number, mean: number, rstd: number, dmean: number, drstd: number,
    dg: number, db: number, rows: number, n: number, lo: number, all: number): void;
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
}

export { round4 };
