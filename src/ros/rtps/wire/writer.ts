// A little-endian byte writer over one preallocated buffer: the send path builds every datagram here, so
// nothing is allocated per message.
import { RtpsUsageError } from './errors.ts';

export class WireWriter {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Write position in bytes. */
  pos = 0;
  /** Alignment origin: CDR aligns relative to the start of the serialized body, not of the datagram. */
  origin = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, capacity);
  }

  reset(): this {
    this.pos = 0;
    this.origin = 0;
    return this;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) {
      throw new RtpsUsageError(`RTPS message exceeds the ${this.bytes.length}-byte send buffer`);
    }
  }

  align(n: number): void {
    const rem = (this.pos - this.origin) % n;
    if (rem !== 0) {
      const pad = n - rem;
      this.need(pad);
      this.bytes.fill(0, this.pos, this.pos + pad);
      this.pos += pad;
    }
  }

  u8(v: number): void {
    this.need(1);
    this.bytes[this.pos++] = v;
  }

  u16(v: number): void {
    this.need(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  u16be(v: number): void {
    this.need(2);
    this.view.setUint16(this.pos, v, false);
    this.pos += 2;
  }

  u32(v: number): void {
    this.need(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  u32be(v: number): void {
    this.need(4);
    this.view.setUint32(this.pos, v >>> 0, false);
    this.pos += 4;
  }

  i32(v: number): void {
    this.need(4);
    this.view.setInt32(this.pos, v | 0, true);
    this.pos += 4;
  }

  raw(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.need(n);
    this.bytes.set(start === 0 && end === src.length ? src : src.subarray(start, end), this.pos);
    this.pos += n;
  }

  zeros(n: number): void {
    this.need(n);
    this.bytes.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** CDR string: uint32 length including the terminating NUL, the UTF-8 bytes, NUL. */
  string(s: string): void {
    this.align(4);
    const lenAt = this.pos;
    this.need(4);
    this.pos += 4;
    const { written } = new TextEncoder().encodeInto(s, this.bytes.subarray(this.pos, this.bytes.length - 1));
    if (written === undefined || (s.length > 0 && written === 0)) throw new RtpsUsageError('string does not fit');
    this.pos += written;
    this.u8(0);
    this.view.setUint32(lenAt, written + 1, true);
  }

  /** Overwrite a uint16 written earlier (submessage and parameter lengths are known only afterwards). */
  patchU16(at: number, v: number): void {
    this.view.setUint16(at, v, true);
  }

  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
}
