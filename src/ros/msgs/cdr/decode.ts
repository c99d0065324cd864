// CDR decoding of one message by its plan (plan.ts): every length is bounded by the bytes given, numeric arrays
// become typed-array views into the received bytes where endianness and alignment allow.
//
// Per message, the receive path of a ROS node decodes the same shapes again and again (a JointState's joint names,
// a header's frame id), so two things are kept cheap: a string equal to the one last decoded at the same place in
// the message (field and element index) is the cached string, compared byte for byte instead of decoded again; and
// a short misaligned numeric array (a float64 array of a DATA payload starts at 4 mod 8 in the datagram) is a fresh
// small typed array filled element by element, which V8 keeps on its heap, rather than a copy of an ArrayBuffer
// slice (a new backing store per array).
import { CdrDecodeError, HOST_LE, SIZE, ALIGN, TYPED, elementMinSize, type FieldPlan, type Primitive, type StructPlan } from './plan.ts';

const utf8 = new TextDecoder('utf-8', { fatal: false });

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

  /** A string; `f` and `index` name its place in the message, where the last string decoded there is cached. */
  string(f: FieldPlan, index: number): string {
    this.align(4);
    this.need(4);
    const n = this.view.getUint32(this.offset, this.little);
    this.offset += 4;
    if (n === 0) return ''; // some writers send an empty string as length 0
    if (n > this.end - this.offset) this.fail(`string length ${n} exceeds the ${this.end - this.offset} bytes left`);
    const bytes = this.bytes;
    const at = this.offset;
    if (bytes[at + n - 1] !== 0) this.fail('string is not NUL-terminated');
    const bound = f.stringBound;
    if (bound !== undefined && n - 1 > bound) this.fail(`string of ${n - 1} bytes exceeds its bound ${bound}`);
    this.offset += n;
    const len = n - 1;
    if (len > STRING_CACHE_MAX_BYTES || index >= STRING_CACHE_MAX_ELEMENTS) return utf8.decode(bytes.subarray(at, at + len));
    const cache = (f.decodedStrings ??= []);
    const hit = cache[index];
    if (hit !== undefined && hit.length === len) {
      const kept = hit.bytes;
      let i = 0;
      while (i < len && kept[i] === bytes[at + i]) i++;
      if (i === len) return hit.value;
    }
    const value = utf8.decode(bytes.subarray(at, at + len));
    if (hit !== undefined && hit.bytes.length >= len) {
      hit.bytes.set(bytes.subarray(at, at + len));
      hit.length = len;
      hit.value = value;
    } else {
      cache[index] = { bytes: bytes.slice(at, at + Math.max(len, 16)), length: len, value };
    }
    return value;
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
    } else if (n * size <= SMALL_ARRAY_BYTES && GETTER[p] !== undefined) {
      const arr = new Ctor(n); // small enough to live on V8's heap: no backing store allocated
      const get = GETTER[p]!;
      for (let i = 0; i < n; i++) (arr as unknown as unknown[])[i] = get(this.view, this.offset + i * size, this.little);
      out = arr;
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

/** Strings up to this many bytes, at element indices below the next constant, are cached where they were decoded. */
const STRING_CACHE_MAX_BYTES = 64;
const STRING_CACHE_MAX_ELEMENTS = 64;
/** V8 keeps typed arrays up to 64 bytes on its heap (V8_TYPED_ARRAY_MAX_SIZE_IN_HEAP). */
const SMALL_ARRAY_BYTES = 64;

const GETTER: Partial<Record<Primitive, (v: DataView, o: number, le: boolean) => number | bigint>> = {
  int16: (v, o, le) => v.getInt16(o, le), uint16: (v, o, le) => v.getUint16(o, le),
  int32: (v, o, le) => v.getInt32(o, le), uint32: (v, o, le) => v.getUint32(o, le),
  int64: (v, o, le) => v.getBigInt64(o, le), uint64: (v, o, le) => v.getBigUint64(o, le),
  float32: (v, o, le) => v.getFloat32(o, le), float64: (v, o, le) => v.getFloat64(o, le),
};


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
      else if (f.primitive === 'string') msg[f.name] = r.string(f, 0);
      else msg[f.name] = r.scalar(f.primitive as Exclude<Primitive, 'string'>);
      continue;
    }
    const n = f.arrayLength >= 0 ? f.arrayLength : r.count(elementMinSize(f));
    if (f.arrayBound !== undefined && n > f.arrayBound) r.fail(`sequence length ${n} exceeds its bound ${f.arrayBound}`);
    if (f.primitive && TYPED[f.primitive]) {
      msg[f.name] = r.numericArray(f.primitive, n);
      continue;
    }
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      if (f.struct) out[i] = readStruct(r, f.struct);
      else if (f.primitive === 'string') out[i] = r.string(f, i);
      else out[i] = r.scalar(f.primitive as Exclude<Primitive, 'string'>);
      r.field = f.path;
    }
    msg[f.name] = out;
  }
  return msg;
}

/**
 * A plan's reading compiled to straight-line JavaScript (once per plan, on first use): the same Reader calls in the
 * same order as readStruct, so the same bytes give the same message, key order and errors, but no walk over field
 * descriptors and no computed-key stores into an empty object; the message is one object literal per struct,
 * which V8 gives a fixed shape. A ROS node decodes every message it receives, so this is the receive path's.
 */
type CompiledRead = (r: Reader) => Record<string, unknown>;

const compiled = new WeakMap<StructPlan, CompiledRead>();

function compile(plan: StructPlan): CompiledRead {
  const fields: FieldPlan[] = [];
  let vars = 0;
  const fieldRef = (f: FieldPlan) => {
    fields.push(f);
    return `F[${fields.length - 1}]`;
  };
  // code that leaves the value of one element of `f` in a new variable; returns [code, variable]
  const element = (f: FieldPlan, index: string, indent: string): [string, string] => {
    const v = `v${vars++}`;
    if (f.struct) {
      const [code, value] = struct(f.struct, indent);
      return [`${code}${indent}const ${v} = ${value};\n`, v];
    }
    if (f.primitive === 'string') return [`${indent}const ${v} = r.string(${fieldRef(f)}, ${index});\n`, v];
    return [`${indent}const ${v} = r.scalar(${JSON.stringify(f.primitive)});\n`, v];
  };
  // code reading struct `p`; returns [code, expression of the message object]
  const struct = (p: StructPlan, indent: string): [string, string] => {
    if (p.empty) return [`${indent}r.need(1);\n${indent}r.offset += 1;\n`, '{}'];
    let code = '';
    const entries: string[] = [];
    for (const f of p.fields) {
      const path = JSON.stringify(f.path);
      code += `${indent}r.field = ${path};\n`;
      if (f.arrayLength === undefined) {
        const [c, v] = element(f, '0', indent);
        code += c;
        entries.push(`${JSON.stringify(f.name)}: ${v}`);
        continue;
      }
      const n = `v${vars++}`;
      code += `${indent}const ${n} = ${f.arrayLength >= 0 ? f.arrayLength : `r.count(${elementMinSize(f)})`};\n`;
      if (f.arrayBound !== undefined) code += `${indent}if (${n} > ${f.arrayBound}) r.fail(\`sequence length \${${n}} exceeds its bound ${f.arrayBound}\`);\n`;
      const out = `v${vars++}`;
      if (f.primitive && TYPED[f.primitive]) {
        code += `${indent}const ${out} = r.numericArray(${JSON.stringify(f.primitive)}, ${n});\n`;
      } else {
        const i = `i${vars++}`;
        const [c, v] = element(f, i, `${indent}  `);
        code += `${indent}const ${out} = new Array(${n});\n${indent}for (let ${i} = 0; ${i} < ${n}; ${i}++) {\n${c}${indent}  ${out}[${i}] = ${v};\n${indent}  r.field = ${path};\n${indent}}\n`;
      }
      entries.push(`${JSON.stringify(f.name)}: ${out}`);
    }
    return [code, `{ ${entries.join(', ')} }`];
  };
  const [code, value] = struct(plan, '  ');
  return new Function('F', `return function read(r) {\n${code}  return ${value};\n};`)(fields) as CompiledRead;
}

/** Decodes encapsulation header + CDR body. Numeric arrays may be views into `bytes`: copy them to keep them. */
export function decodeCdr<T>(plan: StructPlan, bytes: Uint8Array): T {
  const r = new Reader(bytes, plan.type);
  let read = compiled.get(plan);
  if (read === undefined) compiled.set(plan, (read = compile(plan)));
  return read(r) as T;
}

/** The interpreted reading (what the compiled one must equal): for tests. */
export function decodeCdrInterpreted<T>(plan: StructPlan, bytes: Uint8Array): T {
  return readStruct(new Reader(bytes, plan.type), plan) as T;
}
