// Monomorphic float32 kernels for the elementwise, slicing, gathering and tiling ops of an RL update. The stock cpu kernels
// broadcast through per-element index arithmetic (allocating coordinate arrays) and slice non-contiguous
// blocks element by element; a SAC update spent more time there than in its matmuls. Each binary op gets its
// own generated loop per broadcast pattern (so the op is inlined, not called), and anything unusual
// (non-float32, two-sided broadcasts) goes to the stock kernel.
import { backend_util, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { type CpuKernelArgs, output, sizeOf, uninitialized, valuesOf } from './cpu.ts';

/** The binary ops we accelerate, as a JS expression of `a` and `b`. */
export const BINARY_OPS: Readonly<Record<string, string>> = {
  Add: 'a + b',
  Sub: 'a - b',
  Multiply: 'a * b',
  RealDiv: 'a / b',
  Maximum: '(a >= b || a !== a) ? a : b', // NaN propagates, as in TF.js
  Minimum: '(a <= b || a !== a) ? a : b',
  SquaredDifference: '(a - b) * (a - b)',
};

/** The unary ops we accelerate, as a JS expression of `x` (stock Neg, for one, is a broadcast multiply by −1). */
export const UNARY_OPS: Readonly<Record<string, string>> = {
  Neg: '-x',
  Exp: 'Math.exp(x)',
  Log: 'Math.log(x)',
  Tanh: 'Math.tanh(x)',
  Sigmoid: '1 / (1 + Math.exp(-x))',
  Sqrt: 'Math.sqrt(x)',
  Square: 'x * x',
  Abs: 'Math.abs(x)',
  Relu: '(x + Math.abs(x)) * 0.5', // branch-free; NaN stays NaN
  Cos: 'Math.cos(x)',
  Sin: 'Math.sin(x)',
};

function unaryConfig(kernelName: string, expr: string, stock: KernelFunc, backendName: string): KernelConfig {
  const loop = new Function('xv', 'out', `for (let i = 0, n = out.length; i < n; i++) { const x = xv[i]; out[i] = ${expr}; }`) as
    (xv: Float32Array, out: Float32Array) => void;
  const kernelFunc = (args: CpuKernelArgs<'x'>): TensorInfo => {
    const { inputs: { x }, backend } = args;
    if (x.dtype !== 'float32') return stock(args as never) as TensorInfo;
    const out = uninitialized(sizeOf(x.shape));
    loop(valuesOf(backend, x), out);
    return output(backend, [...x.shape], out);
  };
  return { kernelName, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * How one operand maps onto the output, seen as [outer, inner] with the operand's size:
 * full = same size, scalar = one value, row = repeats every `inner` values (a trailing-dims operand),
 * col = each value repeats `inner` times (a leading-dims operand with trailing 1s).
 */
type Pattern = { kind: 'full' | 'scalar' } | { kind: 'row' | 'col'; inner: number };

function classify(shape: readonly number[], out: readonly number[]): Pattern | null {
  const size = sizeOf(shape), outSize = sizeOf(out);
  if (size === outSize) return { kind: 'full' };
  if (size === 1) return { kind: 'scalar' };
  const rank = out.length;
  const s = [...new Array(rank - shape.length).fill(1), ...shape];
  // row: leading 1s, then equal to the output's trailing dims.
  let p = 0;
  while (p < rank && s[p] === 1 && out[p] !== 1) p++;
  let ok = true;
  for (let i = p; i < rank; i++) if (s[i] !== out[i]) ok = false;
  if (ok) return { kind: 'row', inner: sizeOf(out.slice(p)) };
  // col: equal to the output's leading dims, then 1s.
  let q = rank;
  while (q > 0 && s[q - 1] === 1 && out[q - 1] !== 1) q--;
  ok = true;
  for (let i = 0; i < q; i++) if (s[i] !== out[i]) ok = false;
  if (ok) return { kind: 'col', inner: sizeOf(out.slice(q)) };
  return null;
}

type Loop = (a: Float32Array, b: Float32Array, out: Float32Array, innerA: number, innerB: number) => void;

function indexExpr(p: Pattern, arr: 'a' | 'b', inner: 'innerA' | 'innerB'): string {
  switch (p.kind) {
    case 'full': return `${arr}v[i]`;
    case 'scalar': return `${arr}0`;
    case 'row': return `${arr}v[i % ${inner}]`;
    case 'col': return `${arr}v[(i / ${inner}) | 0]`;
  }
}

const loops = new Map<string, Loop>();

/** A loop specialised to one op and one pair of broadcast patterns, generated once. */
function loopFor(expr: string, pa: Pattern, pb: Pattern): Loop {
  const key = `${expr}|${pa.kind}|${pb.kind}`;
  let loop = loops.get(key);
  if (!loop) {
    const body = `
      const a0 = av[0], b0 = bv[0], n = out.length;
      for (let i = 0; i < n; i++) { const a = ${indexExpr(pa, 'a', 'innerA')}; const b = ${indexExpr(pb, 'b', 'innerB')}; out[i] = ${expr}; }`;
    loop = new Function('av', 'bv', 'out', 'innerA', 'innerB', body) as Loop;
    loops.set(key, loop);
  }
  return loop;
}

function binaryConfig(kernelName: string, expr: string, stock: KernelFunc, backendName: string): KernelConfig {
  const kernelFunc = (args: CpuKernelArgs<'a' | 'b'>): TensorInfo => {
    const { inputs: { a, b }, backend } = args;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock(args as never) as TensorInfo;
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const pa = classify(a.shape, outShape), pb = classify(b.shape, outShape);
    if (!pa || !pb) return stock(args as never) as TensorInfo;
    const out = uninitialized(sizeOf(outShape));
    const innerOf = (p: Pattern) => ('inner' in p ? p.inner : 1);
    loopFor(expr, pa, pb)(valuesOf(backend, a), valuesOf(backend, b), out, innerOf(pa), innerOf(pb));
    return output(backend, outShape, out);
  };
  return { kernelName, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Copies the [outer, count·inner] block starting at `start` along the axis; the shared piece of Slice/SplitV/Concat. */
function copyBlock(src: Float32Array, srcRow: number, srcOffset: number, dst: Float32Array, dstRow: number, dstOffset: number, outer: number, run: number): void {
  if (run >= 64) {
    for (let o = 0; o < outer; o++) dst.set(src.subarray(o * srcRow + srcOffset, o * srcRow + srcOffset + run), o * dstRow + dstOffset);
    return;
  }
  for (let o = 0; o < outer; o++) {
    const s = o * srcRow + srcOffset, d = o * dstRow + dstOffset;
    for (let j = 0; j < run; j++) dst[d + j] = src[s + j];
  }
}

/** SplitV along any axis: each output is one strided block copy. */
function splitVConfig(stock: KernelFunc, backendName: string): KernelConfig {
  const kernelFunc = (args: CpuKernelArgs<'x'>): TensorInfo[] => {
    const { inputs: { x }, backend, attrs } = args;
    if (x.dtype !== 'float32') return stock(args as never) as TensorInfo[];
    const axis = util.parseAxisParam(attrs!.axis as number, x.shape)[0];
    const sizes = backend_util.prepareSplitSize(x as never, attrs!.numOrSizeSplits as number | number[], axis);
    const outer = sizeOf(x.shape.slice(0, axis)), inner = sizeOf(x.shape.slice(axis + 1));
    const xv = valuesOf(backend, x), srcRow = x.shape[axis] * inner;
    let start = 0;
    return sizes.map((s) => {
      const shape = [...x.shape];
      shape[axis] = s;
      const out = uninitialized(outer * s * inner);
      copyBlock(xv, srcRow, start * inner, out, s * inner, 0, outer, s * inner);
      start += s;
      return output(backend, shape, out);
    });
  };
  return { kernelName: 'SplitV', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Slice when only one axis is cut (the split/gradient case); other slices go to the stock kernel. */
function sliceConfig(stock: KernelFunc, backendName: string): KernelConfig {
  const kernelFunc = (args: CpuKernelArgs<'x'>): TensorInfo => {
    const { inputs: { x }, backend, attrs } = args;
    if (x.dtype !== 'float32') return stock(args as never) as TensorInfo;
    const rank = x.shape.length;
    const begin = attrs!.begin as number | number[], size = attrs!.size as number | number[];
    const b = typeof begin === 'number' ? [begin, ...new Array(rank - 1).fill(0)] : begin;
    const s = (typeof size === 'number' ? [size, ...new Array(rank - 1).fill(-1)] : size).map((d, i) => (d === -1 ? x.shape[i] - b[i] : d));
    if (b.length !== rank || s.length !== rank) return stock(args as never) as TensorInfo;
    let axis = -1;
    for (let i = 0; i < rank; i++) {
      if (b[i] === 0 && s[i] === x.shape[i]) continue;
      if (axis !== -1 || b[i] < 0 || b[i] + s[i] > x.shape[i]) return stock(args as never) as TensorInfo;
      axis = i;
    }
    if (axis === -1) axis = 0;
    const outer = sizeOf(x.shape.slice(0, axis)), inner = sizeOf(x.shape.slice(axis + 1));
    const out = uninitialized(outer * s[axis] * inner);
    copyBlock(valuesOf(backend, x), x.shape[axis] * inner, b[axis] * inner, out, s[axis] * inner, 0, outer, s[axis] * inner);
    return output(backend, s, out);
  };
  return { kernelName: 'Slice', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Concat of float32 tensors along any axis: one strided block copy per input. */
function concatConfig(stock: KernelFunc, backendName: string): KernelConfig {
  const kernelFunc = (args: { inputs: TensorInfo[]; backend: CpuKernelArgs<'x'>['backend']; attrs?: Record<string, unknown> }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    if (inputs.length === 0 || inputs.some((t) => t.dtype !== 'float32')) return stock(args as never) as TensorInfo;
    const rank = inputs[0].shape.length;
    const axis = util.parseAxisParam(attrs!.axis as number, inputs[0].shape)[0];
    const live = inputs.filter((t) => sizeOf(t.shape) > 0);
    for (const t of inputs) {
      if (t.shape.length !== rank || t.shape.some((d, i) => i !== axis && d !== inputs[0].shape[i])) return stock(args as never) as TensorInfo;
    }
    const outShape = [...inputs[0].shape];
    outShape[axis] = inputs.reduce((n, t) => n + t.shape[axis], 0);
    const outer = sizeOf(outShape.slice(0, axis)), inner = sizeOf(outShape.slice(axis + 1));
    const out = uninitialized(sizeOf(outShape));
    const dstRow = outShape[axis] * inner;
    let offset = 0;
    for (const t of live) {
      const run = t.shape[axis] * inner;
      copyBlock(valuesOf(backend, t), run, 0, out, dstRow, offset, outer, run);
      offset += run;
    }
    return output(backend, outShape, out);
  };
  return { kernelName: 'Concat', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * Sum and Mean of float32 over a block of leading or trailing axes, without the stock kernel's transpose
 * (it transposes whenever the reduced axes are not innermost, e.g. a bias gradient over the batch).
 */
function reduceConfig(kernelName: 'Sum' | 'Mean', stock: KernelFunc, backendName: string): KernelConfig {
  const kernelFunc = (args: CpuKernelArgs<'x'>): TensorInfo => {
    const { inputs: { x }, backend, attrs } = args;
    if (x.dtype !== 'float32') return stock(args as never) as TensorInfo;
    const rank = x.shape.length;
    const axes = [...new Set(util.parseAxisParam(attrs!.axis as number | number[], x.shape))].sort((a, b) => a - b);
    const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
    const leading = axes.length > 0 && axes[0] === 0, trailing = axes.length > 0 && axes[axes.length - 1] === rank - 1;
    if (!contiguous || (!leading && !trailing)) return stock(args as never) as TensorInfo;
    const reduced = sizeOf(axes.map((a) => x.shape[a]));
    const kept = sizeOf(x.shape.filter((_, i) => !axes.includes(i)));
    const xv = valuesOf(backend, x);
    const out = new Float32Array(kept);
    const scale = kernelName === 'Mean' ? 1 / reduced : 1;
    if (reduced > 0 && trailing) {
      // [kept, reduced]: one running sum per row.
      for (let o = 0; o < kept; o++) {
        let acc = 0;
        for (let j = o * reduced, end = j + reduced; j < end; j++) acc += xv[j];
        out[o] = acc * scale;
      }
    } else if (reduced > 0) {
      // [reduced, kept]: accumulate rows into float64, then scale once.
      const acc = new Float64Array(kept);
      for (let r = 0; r < reduced; r++) {
        const off = r * kept;
        for (let j = 0; j < kept; j++) acc[j] += xv[off + j];
      }
      for (let j = 0; j < kept; j++) out[j] = acc[j] * scale;
    } // reducing nothing gives 0 for Sum and Mean alike, as the stock kernels do
    const outShape = attrs!.keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    return output(backend, outShape, out);
  };
  return { kernelName, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** ClipByValue and Step, whose stock kernels call a closure per element with the attributes. NaN stays NaN. */
function clipByValueConfig(stock: KernelFunc, backendName: string): KernelConfig {
  const kernelFunc = (args: CpuKernelArgs<'x'>): TensorInfo => {
    const { inputs: { x }, backend, attrs } = args;
    if (x.dtype !== 'float32') return stock(args as never) as TensorInfo;
    const lo = attrs!.clipValueMin as number, hi = attrs!.clipValueMax as number;
    const xv = valuesOf(backend, x), out = uninitialized(xv.length);
    for (let i = 0; i < xv.length; i++) { const v = xv[i]; out[i] = v > hi ? hi : v < lo ? lo : v; }
    return output(backend, [...x.shape], out);
  };
  return { kernelName: 'ClipByValue', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

function stepConfig(stock: KernelFunc, backendName: string): KernelConfig {
  const kernelFunc = (args: CpuKernelArgs<'x'>): TensorInfo => {
    const { inputs: { x }, backend, attrs } = args;
    if (x.dtype !== 'float32') return stock(args as never) as TensorInfo;
    const alpha = (attrs!.alpha as number | undefined) ?? 0;
    const xv = valuesOf(backend, x), out = uninitialized(xv.length);
    for (let i = 0; i < xv.length; i++) { const v = xv[i]; out[i] = v > 0 ? 1 : v !== v ? NaN : alpha; }
    return output(backend, [...x.shape], out);
  };
  return { kernelName: 'Step', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * GatherV2 of float32 rows (batchDims 0, any axis) as block copies; the stock kernel reshapes, reads both inputs
 * through TensorBuffers and copies element by element with index arithmetic. Out-of-range indices go to the
 * stock kernel, which reports them.
 */
function gatherV2Config(stock: KernelFunc, backendName: string): KernelConfig {
  const kernelFunc = (args: CpuKernelArgs<'x' | 'indices'>): TensorInfo => {
    const { inputs: { x, indices }, backend, attrs } = args;
    if (x.dtype !== 'float32' || indices.dtype !== 'int32' || ((attrs!.batchDims as number | undefined) ?? 0) !== 0) return stock(args as never) as TensorInfo;
    const axis = util.parseAxisParam(attrs!.axis as number, x.shape)[0];
    const dim = x.shape[axis];
    const idx = backend.data.get(indices.dataId).values as Int32Array;
    for (let i = 0; i < idx.length; i++) if (!(idx[i] >= 0 && idx[i] < dim)) return stock(args as never) as TensorInfo;
    const outer = sizeOf(x.shape.slice(0, axis)), inner = sizeOf(x.shape.slice(axis + 1));
    const xv = valuesOf(backend, x), out = uninitialized(outer * idx.length * inner);
    for (let o = 0, d = 0; o < outer; o++) {
      const base = o * dim * inner;
      for (let i = 0; i < idx.length; i++, d += inner) {
        const s = base + idx[i] * inner;
        if (inner >= 64) out.set(xv.subarray(s, s + inner), d);
        else for (let j = 0; j < inner; j++) out[d + j] = xv[s + j];
      }
    }
    return output(backend, [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], out);
  };
  return { kernelName: 'GatherV2', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Tile of float32: the innermost axis is copied as whole runs, then each repetition of an outer axis is one copy of the block below it. */
function tileConfig(stock: KernelFunc, backendName: string): KernelConfig {
  const kernelFunc = (args: CpuKernelArgs<'x'>): TensorInfo => {
    const { inputs: { x }, backend, attrs } = args;
    const reps = attrs!.reps as number[];
    if (x.dtype !== 'float32' || reps.length !== x.shape.length || x.shape.length === 0) return stock(args as never) as TensorInfo;
    const shape = x.shape, rank = shape.length;
    const outShape = shape.map((d, i) => d * reps[i]);
    const out = uninitialized(sizeOf(outShape));
    if (out.length === 0) return output(backend, outShape, out);
    const xv = valuesOf(backend, x);
    // outBlock[a]: values in one output slab below axis a (the product of outShape[a+1..]).
    const outBlock = outShape.map((_, a) => sizeOf(outShape.slice(a + 1)));
    const inBlock = shape.map((_, a) => sizeOf(shape.slice(a + 1)));
    // Writes the tile of x's slab at `src` (axis a) to out at `dst`; returns nothing, fills outShape[a]·outBlock[a].
    const fill = (a: number, src: number, dst: number): void => {
      if (a === rank - 1) {
        const n = shape[a];
        for (let r = 0; r < reps[a]; r++) for (let j = 0; j < n; j++) out[dst + r * n + j] = xv[src + j];
        return;
      }
      for (let i = 0; i < shape[a]; i++) fill(a + 1, src + i * inBlock[a], dst + i * outBlock[a]);
      const once = shape[a] * outBlock[a];
      for (let r = 1; r < reps[a]; r++) out.copyWithin(dst + r * once, dst, dst + once);
    };
    fill(0, 0, 0);
    return output(backend, outShape, out);
  };
  return { kernelName: 'Tile', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function elementwiseConfigs(stock: (name: string) => KernelFunc, backendName: string): KernelConfig[] {
  return [
    ...Object.entries(BINARY_OPS).map(([name, expr]) => binaryConfig(name, expr, stock(name), backendName)),
    ...Object.entries(UNARY_OPS).map(([name, expr]) => unaryConfig(name, expr, stock(name), backendName)),
    splitVConfig(stock('SplitV'), backendName),
    sliceConfig(stock('Slice'), backendName),
    concatConfig(stock('Concat'), backendName),
    reduceConfig('Sum', stock('Sum'), backendName),
    reduceConfig('Mean', stock('Mean'), backendName),
    clipByValueConfig(stock('ClipByValue'), backendName),
    stepConfig(stock('Step'), backendName),
    gatherV2Config(stock('GatherV2'), backendName),
    tileConfig(stock('Tile'), backendName),
  ];
}
