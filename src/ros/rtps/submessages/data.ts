// DATA (0x15): one sample (or key-only / inline-QoS-only change) from a writer, RTPS 8.3.7.2 / 9.4.5.3.
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import type { EntityId } from '../ids/guid.ts';
import { readSequenceNumber, writeSequenceNumber, type SequenceNumber } from '../ids/sequence-number.ts';
import { beginSubmessage, endSubmessage, SubmessageId } from '../message/submessage.ts';
import { RtpsParseError } from '../wire/errors.ts';
import { InlineQos } from './inline-qos.ts';

export const DataFlags = { INLINE_QOS: 0x02, DATA: 0x04, KEY: 0x08, NON_STANDARD: 0x10 } as const;
/** octetsToInlineQos when the fixed part is exactly readerId + writerId + writerSN. */
const OCTETS_TO_INLINE_QOS = 16;

export class Data {
  readerId: EntityId = 0;
  writerId: EntityId = 0;
  writerSN: SequenceNumber = 0;
  readonly inlineQos = new InlineQos();
  hasInlineQos = false;
  /** Serialized payload (encapsulation header + body) as [payloadStart, payloadEnd) of r.bytes; -1 if none. */
  payloadStart = -1;
  payloadEnd = -1;
  isKey = false;

  read(r: WireReader, flags: number): this {
    r.skip(2); // extraFlags
    const octetsToInlineQos = r.u16();
    const fixedStart = r.pos;
    this.readerId = r.u32be();
    this.writerId = r.u32be();
    this.writerSN = readSequenceNumber(r);
    if (octetsToInlineQos < OCTETS_TO_INLINE_QOS) throw new RtpsParseError(`DATA octetsToInlineQos ${octetsToInlineQos} < 16`);
    r.pos = fixedStart;
    r.skip(octetsToInlineQos);
    this.inlineQos.clear();
    this.hasInlineQos = (flags & DataFlags.INLINE_QOS) !== 0;
    if (this.hasInlineQos) {
      const origin = r.origin;
      r.origin = r.pos;
      this.inlineQos.read(r);
      r.origin = origin;
    }
    this.isKey = (flags & DataFlags.KEY) !== 0;
    if (flags & (DataFlags.DATA | DataFlags.KEY)) {
      if (r.remaining < 4) throw new RtpsParseError('DATA payload shorter than its encapsulation header');
      this.payloadStart = r.pos;
      this.payloadEnd = r.end;
      r.pos = r.end;
    } else {
      this.payloadStart = this.payloadEnd = -1;
    }
    return this;
  }
}

/**
 * Writes a DATA carrying payload[start,end) (encapsulation header included), padded to 4 octets with the pad
 * count in the encapsulation options as CDR requires. `inlineQos` writes an optional parameter list.
 */
export function writeData(
  w: WireWriter,
  readerId: EntityId,
  writerId: EntityId,
  sn: SequenceNumber,
  payload: Uint8Array | undefined,
  start = 0,
  end = payload ? payload.length : 0,
  inlineQos?: (w: WireWriter) => void,
  keyOnly = false,
): void {
  let flags = 0;
  if (inlineQos) flags |= DataFlags.INLINE_QOS;
  if (payload) flags |= keyOnly ? DataFlags.KEY : DataFlags.DATA;
  const at = beginSubmessage(w, SubmessageId.DATA, flags);
  w.u16(0);
  w.u16(OCTETS_TO_INLINE_QOS);
  w.u32be(readerId);
  w.u32be(writerId);
  writeSequenceNumber(w, sn);
  if (inlineQos) inlineQos(w);
  if (payload) writePaddedPayload(w, payload, start, end);
  endSubmessage(w, at);
}

/** Copies a serialized payload and pads it to 4 octets, recording the padding in the options octet. */
export function writePaddedPayload(w: WireWriter, payload: Uint8Array, start: number, end: number): void {
  const headerAt = w.pos;
  w.raw(payload, start, end);
  const pad = (4 - ((end - start) % 4)) % 4;
  if (pad) {
    w.zeros(pad);
    w.bytes[headerAt + 3] = (w.bytes[headerAt + 3] & ~3) | pad;
  }
}
