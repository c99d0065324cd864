// SequenceNumber_t (int32 high, uint32 low) held as a JS number (exact up to 2^53), and SequenceNumberSet
// (base + up to 256 bits), RTPS 9.4.2.6/9.4.2.7.
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import { RtpsParseError } from '../wire/errors.ts';

export type SequenceNumber = number;
export const SEQUENCE_NUMBER_UNKNOWN = -(2 ** 32); // high = -1, low = 0
const TWO32 = 2 ** 32;

/** Largest `high` word that keeps the sequence number an exact JS integer (< 2^53). */
const MAX_HIGH = 2 ** 21;

/**
 * Reads a sequence number. Values a real writer cannot reach (negative, or >= 2^53: 285 years at a million
 * samples per second) are parse errors, so arithmetic on sequence numbers stays exact everywhere.
 */
export function readSequenceNumber(r: WireReader): SequenceNumber {
  const high = r.i32();
  const low = r.u32();
  if (high === -1 && low === 0) return SEQUENCE_NUMBER_UNKNOWN;
  if (high < 0 || high >= MAX_HIGH) throw new RtpsParseError(`sequence number out of range (high word ${high})`);
  return high * TWO32 + low;
}

export function writeSequenceNumber(w: WireWriter, sn: SequenceNumber): void {
  w.i32(Math.floor(sn / TWO32));
  w.u32(sn % TWO32);
}

/** A bitmap set over [base, base + numBits): bit i set means base + i is in the set. Reused, never reallocated. */
export class SequenceNumberSet {
  base: SequenceNumber = 1;
  numBits = 0;
  readonly bitmap = new Uint32Array(8);

  reset(base: SequenceNumber): this {
    this.base = base;
    this.numBits = 0;
    this.bitmap.fill(0);
    return this;
  }

  /** Adds sn (must be within base..base+255); extends numBits. Returns false when sn is out of range. */
  add(sn: SequenceNumber): boolean {
    const i = sn - this.base;
    if (i < 0 || i >= 256) return false;
    this.bitmap[i >>> 5] |= 0x80000000 >>> (i & 31);
    if (i + 1 > this.numBits) this.numBits = i + 1;
    return true;
  }

  has(sn: SequenceNumber): boolean {
    const i = sn - this.base;
    if (i < 0 || i >= this.numBits) return false;
    return (this.bitmap[i >>> 5] & (0x80000000 >>> (i & 31))) !== 0;
  }

  /** Calls fn for each member in increasing order. */
  forEach(fn: (sn: SequenceNumber) => void): void {
    for (let i = 0; i < this.numBits; i++) {
      if (this.bitmap[i >>> 5] & (0x80000000 >>> (i & 31))) fn(this.base + i);
    }
  }

  get empty(): boolean {
    for (let i = 0; i < (this.numBits + 31) >>> 5; i++) if (this.bitmap[i] !== 0) return false;
    return true;
  }

  read(r: WireReader): this {
    this.base = readSequenceNumber(r);
    return this.readBits(r);
  }

  /** Shared by FragmentNumberSet: numBits + bitmap words. */
  readBits(r: WireReader): this {
    const numBits = r.u32();
    if (numBits > 256) throw new RtpsParseError(`bitmap set numBits ${numBits} > 256`);
    this.numBits = numBits;
    const words = (numBits + 31) >>> 5;
    this.bitmap.fill(0);
    for (let i = 0; i < words; i++) this.bitmap[i] = r.u32();
    return this;
  }

  write(w: WireWriter): void {
    writeSequenceNumber(w, this.base);
    this.writeBits(w);
  }

  writeBits(w: WireWriter): void {
    w.u32(this.numBits);
    const words = (this.numBits + 31) >>> 5;
    for (let i = 0; i < words; i++) w.u32(this.bitmap[i]);
  }
}

/** FragmentNumberSet: same bitmap, 32-bit unsigned base (fragment numbers start at 1). */
export class FragmentNumberSet extends SequenceNumberSet {
  override read(r: WireReader): this {
    this.base = r.u32();
    return this.readBits(r);
  }

  override write(w: WireWriter): void {
    w.u32(this.base);
    this.writeBits(w);
  }
}
