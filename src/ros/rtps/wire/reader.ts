// A reading view over received bytes: no copies, bounds-checked, endianness chosen per submessage.
import { RtpsParseError } from './errors.ts';

// Integers are assembled from bytes rather than through a DataView, so pointing the reader at a new datagram
// allocates nothing.
export class WireReader {
  bytes: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  little = true;
  /** Alignment origin for CDR bodies. */
  origin = 0;

  /** Point the view at bytes[start, end) without copying. */
  reset(bytes: Uint8Array, start = 0, end = bytes.length, little = true): this {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.origin = start;
    this.little = little;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new RtpsParseError(`truncated: need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  align(n: number): void {
    const rem = (this.pos - this.origin) % n;
    if (rem !== 0) this.skip(n - rem);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }

  u16(): number {
    this.need(2);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 2;
    return this.little ? b[p] | (b[p + 1] << 8) : (b[p] << 8) | b[p + 1];
  }

  u16be(): number {
    this.need(2);
    const p = this.pos;
    this.pos += 2;
    return (this.bytes[p] << 8) | this.bytes[p + 1];
  }

  u32(): number {
    return this.i32() >>> 0;
  }

  u32be(): number {
    this.need(4);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  i32(): number {
    this.need(4);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return this.little
      ? b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)
      : (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
  }

  /** A view (not a copy) of the next n bytes. */
  slice(n: number): Uint8Array {
    this.need(n);
    const s = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** CDR string (uint32 length incl. NUL); malformed lengths are parse errors, not exceptions of another kind. */
  string(): string {
    this.align(4);
    const len = this.u32();
    if (len === 0) return '';
    this.need(len);
    const end = this.bytes[this.pos + len - 1] === 0 ? this.pos + len - 1 : this.pos + len;
    const s = decoder.decode(this.bytes.subarray(this.pos, end));
    this.pos += len;
    return s;
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });
