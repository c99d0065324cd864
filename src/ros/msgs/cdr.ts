// XCDR1 (plain CDR, the ROS 2 wire format) encoder and decoder compiled once per message type from parsed `.msg`
// definitions. Written here rather than taken from @foxglove/cdr because: the decoder must bound every length by
// the message it was given (a malformed count must not read neighbouring bytes of a pooled buffer or allocate
// gigabytes), strings must be UTF-8 sized (CdrWriter sizes them in UTF-16 units), and the hot path must be able to
// encode into a reused buffer.
//
// Conventions (same as rclnodejs and @foxglove/rosmsg2-serialization): time/duration → { sec, nanosec };
// int64/uint64 → bigint; numeric arrays → typed arrays (decoded as zero-copy views into the received bytes when
// endianness and alignment allow, one block copy otherwise); bool[] → boolean[]; string[] → string[].

import type { MessageDefinition, MessageDefinitionField } from '@foxglove/message-definition';

/** Bytes that do not decode as the expected message type. */
export class CdrDecodeError extends Error {
  override name = 'CdrDecodeError';
  constructor(
    readonly type: string,
    readonly field: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`cannot decode ${type}${field ? ` field "${field}"` : ''} at byte ${offset}: ${detail}`);
  }
}

/** A message value that does not fit its type (wrong kind, out of range, wrong array length). */
export class CdrEncodeError extends Error {
  override name = 'CdrEncodeError';
  constructor(
    readonly type: string,
    readonly field: string,
    detail: string,
  ) {
    super(`cannot encode ${type} field "${field}": ${detail}`);
  }
}

type Primitive =
  | 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'float32' | 'float64' | 'string' | 'time' | 'duration';

const SIZE: Record<Exclude<Primitive, 'string'>, number> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8,
  float32: 4, float64: 8, time: 8, duration: 8,
};
// time/duration are structs of two 32-bit integers, so they align to 4
const ALIGN: Record<Exclude<Primitive, 'string'>, number> = { ...SIZE, time: 4, duration: 4 };

type TypedArrayCtor =
  | Int8ArrayConstructor | Uint8ArrayConstructor | Int16ArrayConstructor | Uint16ArrayConstructor
  | Int32ArrayConstructor | Uint32ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor
  | Float32ArrayConstructor | Float64ArrayConstructor;

const TYPED: Partial<Record<Primitive, TypedArrayCtor>> = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array,
  uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, float32: Float32Array, float64: Float64Array,
};

const INT_RANGE: Partial<Record<Primitive, [number, number]>> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
};

interface FieldPlan {
  name: string;
  /** Path from the message root, for error messages ("header.stamp", "points[].positions"). */
  path: string;
  primitive?: Primitive;
  struct?: StructPlan;
  /** undefined: scalar; number: fixed-size array; -1: sequence. */
  arrayLength?: number;
  arrayBound?: number;
  stringBound?: number;
  defaultValue?: unknown;
  /** For fixed-size arrays: the value used when a message leaves the field out. */
  zeros?: ArrayLike<unknown>;
}

export interface StructPlan {
  type: string;
  fields: FieldPlan[];
  /** An empty .msg becomes a struct with one uint8 on the wire (rosidl "structure_needs_at_least_one_member"). */
  empty: boolean;
  /** Encoder state reused across calls so that encoding into a caller's buffer allocates nothing. */
  scratch?: Writer;
}

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Builds the codec plan of `type` from definitions keyed "pkg/Type" (as @foxglove/rosmsg-msgs-common does). */
export function compileStruct(type: string, lookup: (type: string) => MessageDefinition | undefined): StructPlan {
  // nested plans are built per use (not shared) so each field knows its full path for error messages
  const build = (t: string, chain: string[], prefix: string): StructPlan => {
    if (chain.includes(t)) throw new Error(`message type ${t} contains itself (${[...chain, t].join(' → ')})`);
    const def = lookup(t);
    if (!def) throw new Error(`unknown message type ${t}${chain.length ? ` (used by ${chain[chain.length - 1]})` : ''}`);
    const plan: StructPlan = { type: t.split('/').length === 2 ? t.replace('/', '/msg/') : t, fields: [], empty: false };
    for (const f of def.definitions) {
      if (f.isConstant) continue;
      const path = prefix + f.name;
      plan.fields.push(fieldPlan(t, f, path, (nested) => build(nested, [...chain, t], `${path}${f.isArray ? '[]' : ''}.`)));
    }
    plan.empty = plan.fields.length === 0;
    return plan;
  };
  return build(type, [], '');
}

function fieldPlan(owner: string, f: MessageDefinitionField, path: string, nested: (t: string) => StructPlan): FieldPlan {
  const plan: FieldPlan = { name: f.name, path, defaultValue: f.defaultValue };
  if (f.isComplex) plan.struct = nested(f.type);
  else if (f.type in SIZE || f.type === 'string') plan.primitive = f.type as Primitive;
  else throw new Error(`${owner}.${f.name}: unsupported field type ${f.type}`);
  if (f.isArray) {
    plan.arrayLength = f.arrayLength ?? -1;
    if (f.arrayLength !== undefined) {
      const Ctor = plan.primitive && TYPED[plan.primitive];
      plan.zeros = Ctor ? new Ctor(f.arrayLength) : new Array(f.arrayLength).fill(plan.primitive === 'bool' ? false : undefined);
    }
    if (f.arrayUpperBound !== undefined) plan.arrayBound = f.arrayUpperBound;
  }
  if (f.upperBound !== undefined) plan.stringBound = f.upperBound;
  return plan;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

class Reader {
  view: DataView;
  offset = 4;
  readonly end: number;
  readonly little: boolean;
  field = '';

  constructor(
    readonly bytes: Uint8Array,
    readonly type: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.byteLength;
    if (bytes.byteLength < 4) this.fail(`${bytes.byteLength} bytes, shorter than the 4-byte encapsulation header`);
    const scheme = this.view.getUint16(0, false);
    // 0x0000 CDR_BE, 0x0001 CDR_LE; the options bytes (2-3) carry padding hints and are ignored
    if (scheme !== 0 && scheme !== 1) {
      this.offset = 0;
      this.fail(`unsupported encapsulation 0x${scheme.toString(16).padStart(4, '0')} (expected CDR_BE 0x0000 or CDR_LE 0x0001)`);
    }
    this.little = scheme === 1;
  }

  fail(detail: string): never {
    throw new CdrDecodeError(this.type, this.field, this.offset, detail);
  }

  align(n: number): void {
    const rem = (this.offset - 4) % n;
    if (rem) this.offset += n - rem;
  }

  need(n: number): void {
    if (this.offset + n > this.end) this.fail(`needs ${n} bytes but only ${Math.max(0, this.end - this.offset)} remain`);
  }

  count(elementSize: number): number {
    this.align(4);
    this.need(4);
    const n = this.view.getUint32(this.offset, this.little);
    this.offset += 4;
    // every element takes at least `elementSize` bytes, so a count beyond what remains is malformed
    if (n * elementSize > this.end - this.offset) this.fail(`sequence length ${n} exceeds the ${this.end - this.offset} bytes left`);
    return n;
  }

  string(bound: number | undefined): string {
    this.align(4);
    this.need(4);
    const n = this.view.getUint32(this.offset, this.little);
    this.offset += 4;
    if (n === 0) return ''; // some writers send an empty string as length 0
    if (n > this.end - this.offset) this.fail(`string length ${n} exceeds the ${this.end - this.offset} bytes left`);
    const start = this.bytes.byteOffset + this.offset;
    if (this.bytes[this.offset + n - 1] !== 0) this.fail('string is not NUL-terminated');
    if (bound !== undefined && n - 1 > bound) this.fail(`string of ${n - 1} bytes exceeds its bound ${bound}`);
    const s = utf8.decode(new Uint8Array(this.bytes.buffer, start, n - 1));
    this.offset += n;
    return s;
  }

  scalar(p: Exclude<Primitive, 'string'>): unknown {
    const a = ALIGN[p];
    this.align(a);
    this.need(SIZE[p]);
    const v = this.view;
    const o = this.offset;
    const le = this.little;
    this.offset += SIZE[p];
    switch (p) {
      case 'bool': return v.getUint8(o) !== 0;
      case 'int8': return v.getInt8(o);
      case 'uint8': return v.getUint8(o);
      case 'int16': return v.getInt16(o, le);
      case 'uint16': return v.getUint16(o, le);
      case 'int32': return v.getInt32(o, le);
      case 'uint32': return v.getUint32(o, le);
      case 'int64': return v.getBigInt64(o, le);
      case 'uint64': return v.getBigUint64(o, le);
      case 'float32': return v.getFloat32(o, le);
      case 'float64': return v.getFloat64(o, le);
      default: return { sec: v.getInt32(o, le), nanosec: v.getUint32(o + 4, le) };
    }
  }

  numericArray(p: Primitive, n: number): ArrayBufferView {
    const Ctor = TYPED[p]!;
    const size = Ctor.BYTES_PER_ELEMENT;
    if (n > 0) this.align(size);
    this.need(n * size);
    const abs = this.bytes.byteOffset + this.offset;
    let out: ArrayBufferView;
    if (size === 1 || (this.little === HOST_LE && abs % size === 0)) {
      out = new Ctor(this.bytes.buffer as ArrayBuffer, abs, n); // zero-copy view
    } else if (this.little === HOST_LE) {
      out = new Ctor((this.bytes.buffer as ArrayBuffer).slice(abs, abs + n * size)); // one block copy to realign
    } else {
      const arr = new Ctor(n);
      const get = GETTER[p]!;
      for (let i = 0; i < n; i++) (arr as unknown as unknown[])[i] = get(this.view, this.offset + i * size, this.little);
      out = arr;
    }
    this.offset += n * size;
    return out;
  }
}

const GETTER: Partial<Record<Primitive, (v: DataView, o: number, le: boolean) => number | bigint>> = {
  int16: (v, o, le) => v.getInt16(o, le), uint16: (v, o, le) => v.getUint16(o, le),
  int32: (v, o, le) => v.getInt32(o, le), uint32: (v, o, le) => v.getUint32(o, le),
  int64: (v, o, le) => v.getBigInt64(o, le), uint64: (v, o, le) => v.getBigUint64(o, le),
  float32: (v, o, le) => v.getFloat32(o, le), float64: (v, o, le) => v.getFloat64(o, le),
};

function minWireSize(f: FieldPlan): number {
  if (f.struct) return f.struct.empty ? 1 : 0;
  if (f.primitive === 'string') return 4;
  return SIZE[f.primitive as Exclude<Primitive, 'string'>];
}

function readStruct(r: Reader, plan: StructPlan): Record<string, unknown> {
  const msg: Record<string, unknown> = {};
  if (plan.empty) {
    r.need(1);
    r.offset += 1;
    return msg;
  }
  for (const f of plan.fields) {
    r.field = f.path;
    if (f.arrayLength === undefined) {
      if (f.struct) msg[f.name] = readStruct(r, f.struct);
      else if (f.primitive === 'string') msg[f.name] = r.string(f.stringBound);
      else msg[f.name] = r.scalar(f.primitive as Exclude<Primitive, 'string'>);
      continue;
    }
    const n = f.arrayLength >= 0 ? f.arrayLength : r.count(minWireSize(f));
    if (f.arrayBound !== undefined && n > f.arrayBound) r.fail(`sequence length ${n} exceeds its bound ${f.arrayBound}`);
    if (f.primitive && TYPED[f.primitive]) {
      msg[f.name] = r.numericArray(f.primitive, n);
      continue;
    }
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      if (f.struct) out[i] = readStruct(r, f.struct);
      else if (f.primitive === 'string') out[i] = r.string(f.stringBound);
      else out[i] = r.scalar(f.primitive as Exclude<Primitive, 'string'>);
      r.field = f.path;
    }
    msg[f.name] = out;
  }
  return msg;
}

/** Decodes encapsulation header + CDR body. Numeric arrays may be views into `bytes`: copy them to keep them. */
export function decodeCdr<T>(plan: StructPlan, bytes: Uint8Array): T {
  const r = new Reader(bytes, plan.type);
  return readStruct(r, plan) as T;
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding: a sizing pass, then a writing pass into one buffer (caller-provided on the hot path).

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

function isSequence(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

function pad(offset: number, n: number): number {
  const rem = (offset - 4) % n;
  return rem ? offset + n - rem : offset;
}

function sizeScalar(offset: number, p: Primitive, v: unknown): number {
  if (p === 'string') return pad(offset, 4) + 4 + (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0) + 1;
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
    const n = s.length === 0 ? 0 : w.buf.write(s, w.offset + 4, 'utf8');
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

/** Size in bytes (header included) of `msg` encoded as `plan`; validates the shape of `msg`. */
export function encodedSize(plan: StructPlan, msg: unknown): number {
  return sizeStruct(plan, msg, 4, (plan.scratch ??= new Writer(plan.type)));
}

/**
 * Encodes `msg` as CDR_LE with its 4-byte encapsulation header into `out` (allocated when absent or too small)
 * and returns the written bytes (a subarray of `out` when it was large enough).
 */
export function encodeCdr(plan: StructPlan, msg: unknown, out?: Uint8Array): Uint8Array {
  const w = (plan.scratch ??= new Writer(plan.type));
  const size = sizeStruct(plan, msg, 4, w);
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
  writeStruct(w, plan, msg);
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
