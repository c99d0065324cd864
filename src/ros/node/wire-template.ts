// Pre-serialized messages patched in place. The node publishes the same message shape every period (same joint
// names, same array lengths); only numbers change. So the shared CDR encoder serializes the message once, with
// a distinct sentinel in every number slot the node will write, the sentinels are located in the bytes, and each
// publish writes the numbers straight into those offsets: no per-message encoding, no allocation.

/** A number slot in a message: its CDR kind. */
export type SlotKind = 'f64' | 'f32' | 'i32' | 'u32';

export class WireTemplateError extends Error {
  override name = 'WireTemplateError';
}

/** Hands out sentinel values while a template message is being built, remembering each slot's kind. */
export class SentinelFactory {
  readonly kinds: SlotKind[] = [];
  readonly values: number[] = [];
  // Sentinels are finite, exactly representable values with a slot counter in the low bits, so they survive the
  // encoder unchanged and their byte patterns are distinct from each other and from lengths/strings.
  private readonly scratch = new DataView(new ArrayBuffer(8));

  f64(): number {
    const id = this.kinds.length;
    this.scratch.setUint32(0, 0x4152_5dcb, false);
    this.scratch.setUint32(4, 0x5a00_0000 + id, false);
    return this.add('f64', this.scratch.getFloat64(0, false));
  }

  f32(): number {
    this.scratch.setUint32(0, 0x4a5d_0000 + this.kinds.length, false);
    return this.add('f32', this.scratch.getFloat32(0, false));
  }

  i32(): number {
    return this.add('i32', 0x5dc0_0000 + this.kinds.length);
  }

  u32(): number {
    return this.add('u32', 0x6ec0_0000 + this.kinds.length);
  }

  private add(kind: SlotKind, value: number): number {
    this.kinds.push(kind);
    this.values.push(value);
    return value;
  }

  /** The bytes the sentinel for `slot` encodes to. */
  bytesOf(slot: number, littleEndian: boolean): Uint8Array {
    const kind = this.kinds[slot];
    const out = new Uint8Array(kind === 'f64' ? 8 : 4);
    const dv = new DataView(out.buffer);
    const value = this.values[slot];
    if (kind === 'f64') dv.setFloat64(0, value, littleEndian);
    else if (kind === 'f32') dv.setFloat32(0, value, littleEndian);
    else if (kind === 'i32') dv.setInt32(0, value, littleEndian);
    else dv.setUint32(0, value, littleEndian);
    return out;
  }
}

/** A serialized message (encapsulation header + CDR body) and the byte offset of every number slot. */
export class WireTemplate {
  readonly view: DataView;
  readonly littleEndian: boolean;
  /**
   * The buffer as float64s, when the template is little-endian like this machine: `f64[f64Index[slot]] = x`
   * writes a float64 slot with a plain typed-array store (no call, so nothing is ever boxed). Null otherwise.
   */
  readonly f64: Float64Array | null;
  /** For each f64 slot, its index into `f64` (-1 for other slots). */
  readonly f64Index: Int32Array;

  private constructor(
    readonly bytes: Uint8Array,
    readonly offsets: Int32Array,
    readonly kinds: readonly SlotKind[],
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Encapsulation kind 0x0001 = CDR_LE, 0x0000 = CDR_BE (second byte carries the endianness).
    this.littleEndian = (bytes[1] & 1) === 1;
    this.f64Index = new Int32Array(kinds.length).fill(-1);
    const hostLittleEndian = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;
    let aligned = this.littleEndian && hostLittleEndian;
    kinds.forEach((k, slot) => {
      if (k !== 'f64') return;
      const at = bytes.byteOffset + offsets[slot];
      if (at % 8 !== 0) aligned = false;
      else this.f64Index[slot] = at / 8;
    });
    this.f64 = aligned ? new Float64Array(bytes.buffer, 0, Math.floor(bytes.buffer.byteLength / 8)) : null;
  }

  /**
   * Serializes `build(s)` with `encode`, then finds each sentinel. Every sentinel must occur exactly once,
   * otherwise the message layout is not what the caller assumed.
   */
  static build<T>(encode: (message: T) => Uint8Array, build: (s: SentinelFactory) => T): WireTemplate {
    const s = new SentinelFactory();
    const message = build(s);
    const encoded = encode(message);
    // 4 bytes of padding in front put the CDR body (after the 4-byte encapsulation header) on an 8-byte
    // boundary of the buffer, so float64 slots can be written through a Float64Array (see `f64`).
    const bytes = new Uint8Array(new ArrayBuffer(encoded.byteLength + 4), 4, encoded.byteLength);
    bytes.set(encoded);
    const littleEndian = (bytes[1] & 1) === 1;
    const offsets = new Int32Array(s.kinds.length);
    for (let slot = 0; slot < s.kinds.length; slot++) {
      const pattern = s.bytesOf(slot, littleEndian);
      const first = indexOf(bytes, pattern, 4);
      if (first < 0) throw new WireTemplateError(`slot ${slot} (${s.kinds[slot]}) not found in the serialized template`);
      if (indexOf(bytes, pattern, first + 1) >= 0) throw new WireTemplateError(`slot ${slot} (${s.kinds[slot]}) found twice in the serialized template`);
      offsets[slot] = first;
    }
    return new WireTemplate(bytes, offsets, s.kinds);
  }

  setF64(slot: number, value: number): void {
    this.view.setFloat64(this.offsets[slot], value, this.littleEndian);
  }

  setF32(slot: number, value: number): void {
    this.view.setFloat32(this.offsets[slot], value, this.littleEndian);
  }

  setI32(slot: number, value: number): void {
    this.view.setInt32(this.offsets[slot], value, this.littleEndian);
  }

  setU32(slot: number, value: number): void {
    this.view.setUint32(this.offsets[slot], value, this.littleEndian);
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const last = haystack.length - needle.length;
  outer: for (let i = from; i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
