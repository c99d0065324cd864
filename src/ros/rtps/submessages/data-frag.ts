// DATA_FRAG (0x16): consecutive fragments of one sample too large for a datagram, RTPS 8.3.7.3 / 9.4.5.4.
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import type { EntityId } from '../ids/guid.ts';
import { readSequenceNumber, writeSequenceNumber, type SequenceNumber } from '../ids/sequence-number.ts';
import { beginSubmessage, endSubmessage, SubmessageId } from '../message/submessage.ts';
import { RtpsParseError } from '../wire/errors.ts';
import { InlineQos } from './inline-qos.ts';

export const DataFragFlags = { INLINE_QOS: 0x02, KEY: 0x04, NON_STANDARD: 0x08 } as const;
const OCTETS_TO_INLINE_QOS = 28;

export class DataFrag {
  readerId: EntityId = 0;
  writerId: EntityId = 0;
  writerSN: SequenceNumber = 0;
  /** 1-based number of the first fragment carried here. */
  fragmentStartingNum = 0;
  fragmentsInSubmessage = 0;
  fragmentSize = 0;
  sampleSize = 0;
  readonly inlineQos = new InlineQos();
  payloadStart = 0;
  payloadEnd = 0;

  read(r: WireReader, flags: number): this {
    r.skip(2);
    const octetsToInlineQos = r.u16();
    const fixedStart = r.pos;
    this.readerId = r.u32be();
    this.writerId = r.u32be();
    this.writerSN = readSequenceNumber(r);
    this.fragmentStartingNum = r.u32();
    this.fragmentsInSubmessage = r.u16();
    this.fragmentSize = r.u16();
    this.sampleSize = r.u32();
    if (octetsToInlineQos < OCTETS_TO_INLINE_QOS) throw new RtpsParseError(`DATA_FRAG octetsToInlineQos ${octetsToInlineQos} < 28`);
    if (this.fragmentStartingNum < 1 || this.fragmentSize === 0 || this.fragmentsInSubmessage === 0) {
      throw new RtpsParseError('DATA_FRAG with zero fragment number, size or count');
    }
    if ((this.fragmentStartingNum - 1) * this.fragmentSize >= this.sampleSize) {
      throw new RtpsParseError('DATA_FRAG fragment starts beyond the sample');
    }
    r.pos = fixedStart;
    r.skip(octetsToInlineQos);
    this.inlineQos.clear();
    if (flags & DataFragFlags.INLINE_QOS) {
      const origin = r.origin;
      r.origin = r.pos;
      this.inlineQos.read(r);
      r.origin = origin;
    }
    this.payloadStart = r.pos;
    this.payloadEnd = r.end;
    r.pos = r.end;
    return this;
  }
}

/** Writes fragments [first, first+count) of payload, cut at fragmentSize. */
export function writeDataFrag(
  w: WireWriter,
  readerId: EntityId,
  writerId: EntityId,
  sn: SequenceNumber,
  payload: Uint8Array,
  fragmentSize: number,
  first: number,
  count: number,
  inlineQos?: (w: WireWriter) => void,
): void {
  const at = beginSubmessage(w, SubmessageId.DATA_FRAG, inlineQos ? DataFragFlags.INLINE_QOS : 0);
  w.u16(0);
  w.u16(OCTETS_TO_INLINE_QOS);
  w.u32be(readerId);
  w.u32be(writerId);
  writeSequenceNumber(w, sn);
  w.u32(first);
  w.u16(count);
  w.u16(fragmentSize);
  w.u32(payload.length);
  if (inlineQos) inlineQos(w);
  const start = (first - 1) * fragmentSize;
  const end = Math.min(payload.length, start + count * fragmentSize);
  w.raw(payload, start, end);
  const pad = (4 - ((end - start) % 4)) % 4;
  if (pad) w.zeros(pad);
  endSubmessage(w, at);
}
