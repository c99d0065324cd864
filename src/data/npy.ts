// The .npy array format (numpy's NEP 1): a magic string, a version, a little header that is a Python dict literal
// ({'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }), then the raw elements in C order. We read the
// numeric and boolean dtypes datasets use (and 0-d unicode strings for metadata), and refuse what would be read
// wrong or not at all — Fortran order, big-endian data, pickled objects, structured dtypes — with a named error.
import { endianness } from 'node:os';
import { DatasetError } from './validate.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** A decoded array: its numpy dtype string, shape (C order) and elements as numbers (or a string for `<U`). */
export interface NpyArray {
  readonly descr: string;
  readonly shape: readonly number[];
  /** Element count (product of the shape; 1 for a 0-d array). */
  readonly size: number;
  /** Numeric elements in C order; null for a string array. */
  readonly values: Float64Array | Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | null;
  /** The text of a 0-d unicode (`<U`) array; undefined otherwise. */
  readonly text?: string;
}

/** Where an array came from, for error messages. */
interface Where {
  file: string;
  key: string;
}

const ELEMENT: Record<string, { bytes: number; make: (buf: ArrayBuffer, n: number) => NonNullable<NpyArray['values']> }> = {
  f8: { bytes: 8, make: (b, n) => new Float64Array(b, 0, n) },
  f4: { bytes: 4, make: (b, n) => new Float32Array(b, 0, n) },
  i1: { bytes: 1, make: (b, n) => new Int8Array(b, 0, n) },
  u1: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  b1: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  i2: { bytes: 2, make: (b, n) => new Int16Array(b, 0, n) },
  u2: { bytes: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  i4: { bytes: 4, make: (b, n) => new Int32Array(b, 0, n) },
  u4: { bytes: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  i8: { bytes: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  u8: { bytes: 8, make: (b, n) => new BigUint64Array(b, 0, n) },
};

/** Decode one .npy file's bytes. */
export function parseNpy(bytes: Uint8Array, where: Where): NpyArray {
  const fail = (code: ConstructorParameters<typeof DatasetError>[0], message: string) => new DatasetError(code, where.file, `${message}`, { key: where.key });
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw fail('bad-npy', 'is not a .npy array (no \\x93NUMPY magic)');
  const major = bytes[6];
  if (major < 1 || major > 3) throw fail('bad-npy', `has .npy format version ${major}.${bytes[7]}, which this reader does not know (1.0 to 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw fail('bad-npy', 'has a .npy header longer than the array');
  // Versions 1 and 2 write the header in latin-1, version 3 in UTF-8; the keys and values we read are ASCII.
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  let header: unknown;
  try {
    header = parsePythonLiteral(headerText);
  } catch (err) {
    throw fail('bad-npy', `has an unreadable .npy header (${(err as Error).message}): ${headerText.trim()}`);
  }
  if (!isRecord(header) || !('descr' in header) || !('fortran_order' in header) || !('shape' in header)) {
    throw fail('bad-npy', `has a .npy header without descr, fortran_order and shape: ${headerText.trim()}`);
  }
  const { descr, fortran_order: fortran, shape } = header;
  if (typeof descr !== 'string') throw fail('unsupported-dtype', `has a structured dtype ${JSON.stringify(descr)}; store plain numeric arrays`);
  if (fortran !== false) {
    throw fail('fortran-order', 'is stored in Fortran (column-major) order; save it in C order (np.ascontiguousarray) before np.savez');
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw fail('bad-npy', `has an invalid shape ${JSON.stringify(shape)}`);
  const size = shape.reduce((a: number, b: number) => a * b, 1);

  const order = descr[0];
  const kind = descr.slice(1);
  if (kind === 'O') throw fail('pickled-object', 'holds Python objects (dtype object, stored with pickle), which are refused: store numeric arrays');
  if (order === '>' && kind !== 'b1' && kind !== 'i1' && kind !== 'u1') {
    throw fail('big-endian', `is big-endian (dtype ${descr}); convert it with arr.astype(arr.dtype.newbyteorder('<'))`);
  }
  if (endianness() !== 'LE') throw fail('big-endian', 'cannot be read on a big-endian machine');
  const body = bytes.subarray(dataStart);
  if (kind.startsWith('U') && /^U\d+$/.test(kind)) {
    // Fixed-width UTF-32 code units, NUL-padded; only 0-d strings (metadata) are read.
    const width = Number(kind.slice(1));
    if (size !== 1) throw fail('unsupported-dtype', `is an array of ${size} strings (dtype ${descr}); only a single string (metadata) is read`);
    if (body.length < 4 * width) throw fail('truncated', `holds ${body.length} bytes, a ${descr} string needs ${4 * width}`);
    const units = new DataView(body.buffer, body.byteOffset, 4 * width);
    let text = '';
    for (let i = 0; i < width; i++) {
      const cp = units.getUint32(4 * i, true);
      if (cp === 0) break;
      text += String.fromCodePoint(cp);
    }
    return { descr, shape, size, values: null, text };
  }
  const element = ELEMENT[kind];
  if (!element) throw fail('unsupported-dtype', `has dtype ${descr}; datasets take float32/float64, bool and integer arrays`);
  const need = size * element.bytes;
  if (body.length < need) throw fail('truncated', `holds ${body.length} data bytes, shape (${shape.join(', ')}) of ${descr} needs ${need}`);
  // Copy into a buffer of our own: aligned for the typed array, and independent of the (possibly large) archive.
  const own = new ArrayBuffer(need);
  new Uint8Array(own).set(body.subarray(0, need));
  return { descr, shape, size, values: element.make(own, size) };
}

/** The array's elements as float32 (booleans as 0/1, integers converted). */
export function toFloat32(array: NpyArray): Float32Array {
  const v = array.values;
  if (v === null) throw new TypeError('a string array has no numbers');
  if (v instanceof Float32Array) return v;
  const out = new Float32Array(v.length);
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) for (let i = 0; i < v.length; i++) out[i] = Number(v[i]);
  else for (let i = 0; i < v.length; i++) out[i] = v[i];
  return out;
}

/** What writeNpy takes: float32 arrays, booleans as 0/1 bytes, or a string (stored as a 0-d unicode array). */
export type NpyValue = { data: Float32Array; shape: readonly number[] } | { data: Uint8Array; shape: readonly number[]; dtype: 'bool' } | string;

/** Encode one array as a version 1.0 .npy file (header padded so the data starts at a multiple of 64). */
export function encodeNpy(value: NpyValue): Uint8Array {
  let descr: string;
  let shape: readonly number[];
  let body: Uint8Array;
  if (typeof value === 'string') {
    const cps = Array.from(value, (c) => c.codePointAt(0)!);
    const width = Math.max(1, cps.length);
    descr = `<U${width}`;
    shape = [];
    const units = new Uint32Array(width);
    units.set(cps);
    body = new Uint8Array(units.buffer);
  } else {
    const expected = value.shape.reduce((a, b) => a * b, 1);
    if (expected !== value.data.length) throw new RangeError(`shape (${value.shape.join(', ')}) needs ${expected} elements, got ${value.data.length}`);
    descr = 'dtype' in value ? '|b1' : '<f4';
    shape = value.shape;
    body = new Uint8Array(value.data.buffer, value.data.byteOffset, value.data.byteLength);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + body.length);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Parse the Python literal numpy writes as the header: a dict of str keys to str, bool, int, tuple/list values
 * (nested for structured dtypes). Tuples come back as arrays. Anything else is an error, never evaluated.
 */
export function parsePythonLiteral(text: string): unknown {
  let i = 0;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const expect = (c: string) => {
    skip();
    if (text[i] !== c) throw new Error(`expected '${c}' at ${i}`);
    i++;
  };
  const value = (): unknown => {
    skip();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      for (;;) {
        skip();
        if (text[i] === '}') {
          i++;
          return out;
        }
        const key = value();
        if (typeof key !== 'string') throw new Error('dict keys must be strings');
        expect(':');
        out[key] = value();
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') throw new Error(`expected ',' or '}' at ${i}`);
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const out: unknown[] = [];
      for (;;) {
        skip();
        if (text[i] === close) {
          i++;
          return out;
        }
        out.push(value());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== close) throw new Error(`expected ',' or '${close}' at ${i}`);
      }
    }
    const word = /^(True|False|None|-?\d+L?)/.exec(text.slice(i));
    if (!word) throw new Error(`unexpected '${text.slice(i, i + 10)}' at ${i}`);
    i += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number(word[0].replace('L', ''));
  };
  const result = value();
  skip();
  if (i !== text.length) throw new Error(`trailing text at ${i}`);
  return result;
}
