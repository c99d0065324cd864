// CDR encoding of one message by its plan (plan.ts): a sizing pass that validates the message's shape, then a
// writing pass into one buffer (the caller's, on the hot path), strings encoded as UTF-8 in place.
import { CdrEncodeError, HOST_LE, SIZE, ALIGN, TYPED, INT_RANGE, type Primitive, type StructPlan } from './plan.ts';
import { compileEncoder, type CompiledEncoder } from './compiled-encode.ts';

export class Writer {
  view!: DataView;
  bytes!: Uint8Array;
  /** The same memory as a Buffer: Buffer#write encodes UTF-8 in place without a temporary view. */
  buf!: Buffer;
  offset = 4;
  field = '';
  constructor(readonly type: string) {}

  fail(detail: string): never {
    throw new CdrEncodeError(this.type, this.field, detail);
  }
}

/** The plan's reusable encoder state. */
function scratchOf(plan: StructPlan): Writer {
  return (plan.scratch ??= new Writer(plan.type)) as Writer;
}

function isSequence(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

function pad(offset: number, n: number): number {
  const rem = (offset - 4) % n;
  return rem ? offset + n - rem : offset;
}

// Short strings a publisher sends again and again (joint names, frame ids) are kept UTF-8 encoded: a Map lookup by
// the string and a byte copy cost less than measuring and encoding it through Buffer's C++ bindings every message.
const UTF8_CACHE_MAX_CHARS = 64;
const UTF8_CACHE_MAX_ENTRIES = 4096;
const utf8Cache = new Map<string, Uint8Array>();

/** The UTF-8 bytes of a short string, cached (undefined for long strings: those are encoded in place). */
function utf8Of(s: string): Uint8Array | undefined {
  if (s.length > UTF8_CACHE_MAX_CHARS) return undefined;
  let e = utf8Cache.get(s);
  if (e === undefined) {
    if (utf8Cache.size >= UTF8_CACHE_MAX_ENTRIES) utf8Cache.clear();
    e = new Uint8Array(Buffer.from(s, 'utf8'));
    utf8Cache.set(s, e);
  }
  return e;
}

function utf8Length(s: string): number {
  return utf8Of(s)?.length ?? Buffer.byteLength(s, 'utf8');
}

function sizeScalar(offset: number, p: Primitive, v: unknown): number {
  if (p === 'string') return pad(offset, 4) + 4 + (typeof v === 'string' ? utf8Length(v) : 0) + 1;
  return pad(offset, ALIGN[p]) + SIZE[p];
}

function sizeStruct(plan: StructPlan, msg: unknown, offset: number, w: Writer): number {
  if (plan.empty) return offset + 1;
  if (msg !== undefined && (msg === null || typeof msg !== 'object' || isSequence(msg))) {
    w.fail(`expected a ${plan.type} object, got ${describe(msg)}`);
  }
  const m = (msg ?? {}) as Record<string, unknown>;
  for (const f of plan.fields) {
    const v = m[f.name] ?? f.defaultValue;
    w.field = f.path;
    if (f.arrayLength === undefined) {
      offset = f.struct ? sizeStruct(f.struct, v, offset, w) : sizeScalar(offset, f.primitive!, v);
      continue;
    }
    if (v !== undefined && !isSequence(v)) w.fail(`expected an array, got ${describe(v)}`);
    const arr = (v ?? f.zeros ?? []) as ArrayLike<unknown>;
    if (f.arrayLength >= 0 && arr.length !== f.arrayLength) w.fail(`expected exactly ${f.arrayLength} elements, got ${arr.length}`);
    if (f.arrayBound !== undefined && arr.length > f.arrayBound) w.fail(`${arr.length} elements exceed the bound ${f.arrayBound}`);
    if (f.arrayLength < 0) offset = pad(offset, 4) + 4;
    if (f.struct) {
      for (let i = 0; i < arr.length; i++) offset = sizeStruct(f.struct, arr[i], offset, w);
    } else if (f.primitive === 'string') {
      for (let i = 0; i < arr.length; i++) offset = sizeScalar(offset, 'string', arr[i]);
    } else {
      const p = f.primitive as Exclude<Primitive, 'string'>;
      if (arr.length > 0) offset = pad(offset, ALIGN[p]);
      offset += SIZE[p] * arr.length;
    }
  }
  return offset;
}

function writeScalar(w: Writer, p: Primitive, v: unknown, bound?: number): void {
  const view = w.view;
  if (p === 'string') {
    if (v !== undefined && typeof v !== 'string') w.fail(`expected a string, got ${describe(v)}`);
    const s = (v ?? '') as string;
    w.offset = pad(w.offset, 4);
    let n = 0;
    if (s.length > 0) {
      const e = utf8Of(s);
      if (e === undefined) n = w.buf.write(s, w.offset + 4, 'utf8');
      else {
        const bytes = w.bytes;
        const at = w.offset + 4;
        n = e.length;
        for (let i = 0; i < n; i++) bytes[at + i] = e[i];
      }
    }
    if (bound !== undefined && n > bound) w.fail(`string of ${n} bytes exceeds its bound ${bound}`);
    view.setUint32(w.offset, n + 1, true);
    w.bytes[w.offset + 4 + n] = 0;
    w.offset += 4 + n + 1;
    return;
  }
  w.offset = pad(w.offset, ALIGN[p]);
  const o = w.offset;
  w.offset += SIZE[p];
  if (p === 'time' || p === 'duration') {
    const t = (v ?? {}) as { sec?: unknown; nanosec?: unknown; nsec?: unknown };
    if (typeof t !== 'object') w.fail(`expected { sec, nanosec }, got ${describe(v)}`);
    view.setInt32(o, checkInt(w, 'int32', t.sec ?? 0), true);
    view.setUint32(o + 4, checkInt(w, 'uint32', t.nanosec ?? t.nsec ?? 0), true);
    return;
  }
  if (p === 'bool') {
    if (v !== undefined && typeof v !== 'boolean' && v !== 0 && v !== 1) w.fail(`expected a boolean, got ${describe(v)}`);
    view.setUint8(o, v ? 1 : 0);
    return;
  }
  if (p === 'int64' || p === 'uint64') {
    const big = toBigInt(w, v ?? 0n, p);
    if (p === 'int64') view.setBigInt64(o, big, true);
    else view.setBigUint64(o, big, true);
    return;
  }
  if (p === 'float32' || p === 'float64') {
    if (v !== undefined && typeof v !== 'number') w.fail(`expected a number, got ${describe(v)}`);
    if (p === 'float32') view.setFloat32(o, (v ?? 0) as number, true);
    else view.setFloat64(o, (v ?? 0) as number, true);
    return;
  }
  const n = checkInt(w, p, v ?? 0);
  switch (p) {
    case 'int8': view.setInt8(o, n); break;
    case 'uint8': view.setUint8(o, n); break;
    case 'int16': view.setInt16(o, n, true); break;
    case 'uint16': view.setUint16(o, n, true); break;
    case 'int32': view.setInt32(o, n, true); break;
    default: view.setUint32(o, n, true);
  }
}

function checkInt(w: Writer, p: Primitive, v: unknown): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  const [lo, hi] = INT_RANGE[p]!;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < lo || n > hi) w.fail(`expected an ${p} in [${lo}, ${hi}], got ${describe(v)}`);
  return n;
}

function toBigInt(w: Writer, v: unknown, p: 'int64' | 'uint64'): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else w.fail(`expected an ${p} (integer or bigint), got ${describe(v)}`);
  if (p === 'uint64' ? b < 0n || b > 0xffffffffffffffffn : b < -(2n ** 63n) || b >= 2n ** 63n) w.fail(`${b} is out of range for ${p}`);
  return b;
}

function writeStruct(w: Writer, plan: StructPlan, msg: unknown): void {
  if (plan.empty) {
    w.bytes[w.offset++] = 0;
    return;
  }
  const m = (msg ?? {}) as Record<string, unknown>;
  for (const f of plan.fields) {
    const v = m[f.name] ?? f.defaultValue;
    w.field = f.path;
    if (f.arrayLength === undefined) {
      if (f.struct) writeStruct(w, f.struct, v);
      else writeScalar(w, f.primitive!, v, f.stringBound);
      continue;
    }
    const arr = (v ?? f.zeros ?? []) as ArrayLike<unknown>;
    if (f.arrayLength < 0) {
      w.offset = pad(w.offset, 4);
      w.view.setUint32(w.offset, arr.length, true);
      w.offset += 4;
    }
    if (f.struct) {
      for (let i = 0; i < arr.length; i++) writeStruct(w, f.struct, arr[i]);
      continue;
    }
    const p = f.primitive!;
    const Ctor = TYPED[p];
    if (Ctor && arr.length >= 32 && HOST_LE && arr instanceof Ctor) {
      // long array of the same element type: one block copy of its bytes (short ones take the loop below)
      w.offset = pad(w.offset, ALIGN[p as Exclude<Primitive, 'string'>]);
      const src = arr as unknown as ArrayBufferView;
      w.bytes.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), w.offset);
      w.offset += src.byteLength;
      continue;
    }
    if ((p === 'float64' || p === 'float32') && arr.length > 0) {
      w.offset = pad(w.offset, SIZE[p]);
      for (let i = 0; i < arr.length; i++) {
        const x = arr[i];
        if (typeof x !== 'number') w.fail(`element ${i}: expected a number, got ${describe(x)}`);
        if (p === 'float64') w.view.setFloat64(w.offset, x, true);
        else w.view.setFloat32(w.offset, x, true);
        w.offset += SIZE[p];
      }
      continue;
    }
    for (let i = 0; i < arr.length; i++) writeScalar(w, p, arr[i], f.stringBound);
  }
}

const compiledEncoders = new WeakMap<StructPlan, CompiledEncoder | null>();

/** The plan's compiled encoder (compiled-encode.ts), or null where the plan has fields it leaves to this file. */
function compiledOf(plan: StructPlan): CompiledEncoder | null {
  let c = compiledEncoders.get(plan);
  if (c === undefined) compiledEncoders.set(plan, (c = compileEncoder(plan, utf8Of)));
  return c;
}

/** Size in bytes (header included) of `msg` encoded as `plan`; validates the shape of `msg`. */
export function encodedSize(plan: StructPlan, msg: unknown): number {
  const size = compiledOf(plan)?.size(msg) ?? -1;
  return size >= 0 ? size : sizeStruct(plan, msg, 4, scratchOf(plan));
}

/**
 * Encodes `msg` as CDR_LE with its 4-byte encapsulation header into `out` (allocated when absent or too small)
 * and returns the written bytes (a subarray of `out` when it was large enough).
 */
export function encodeCdr(plan: StructPlan, msg: unknown, out?: Uint8Array): Uint8Array {
  return encode(plan, msg, out, compiledOf(plan));
}

/** The interpreted encoding (what the compiled one must equal): for tests. */
export function encodeCdrInterpreted(plan: StructPlan, msg: unknown, out?: Uint8Array): Uint8Array {
  return encode(plan, msg, out, null);
}

function encode(plan: StructPlan, msg: unknown, out: Uint8Array | undefined, compiled: CompiledEncoder | null): Uint8Array {
  const w = scratchOf(plan);
  // the compiled code takes the messages it can vouch for; the rest (and every error) is the interpreted walk's
  let size = compiled !== null ? compiled.size(msg) : -1;
  const fast = size >= 0;
  if (!fast) size = sizeStruct(plan, msg, 4, w);
  // options bytes carry the trailing padding count (mod 4), as Cyclone and rmw write it
  const padded = size + ((4 - (size % 4)) % 4);
  const bytes = out && out.byteLength >= padded ? out : new Uint8Array(padded);
  if (w.bytes !== bytes) {
    w.bytes = bytes;
    w.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    w.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  bytes[0] = 0;
  bytes[1] = 1;
  bytes[2] = 0;
  bytes[3] = padded - size;
  w.offset = 4;
  if (fast) compiled!.write(w, msg);
  else writeStruct(w, plan, msg);
  bytes.fill(0, size, padded);
  return bytes.subarray(0, padded);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 20 ? `${v.slice(0, 20)}…` : v}"`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
