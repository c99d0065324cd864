// NACK_FRAG (0x12): a reader requests missing fragments of one sample, RTPS 8.3.7.7.
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import type { EntityId } from '../ids/guid.ts';
import { FragmentNumberSet, readSequenceNumber, writeSequenceNumber, type SequenceNumber } from '../ids/sequence-number.ts';
import { beginSubmessage, endSubmessage, SubmessageId } from '../message/submessage.ts';

export class NackFrag {
  readerId: EntityId = 0;
  writerId: EntityId = 0;
  writerSN: SequenceNumber = 0;
  readonly fragmentNumberState = new FragmentNumberSet();
  count = 0;

  read(r: WireReader): this {
    this.readerId = r.u32be();
    this.writerId = r.u32be();
    this.writerSN = readSequenceNumber(r);
    this.fragmentNumberState.read(r);
    this.count = r.i32();
    return this;
  }
}

export function writeNackFrag(
  w: WireWriter,
  readerId: EntityId,
  writerId: EntityId,
  sn: SequenceNumber,
  missing: FragmentNumberSet,
  count: number,
): void {
  const at = beginSubmessage(w, SubmessageId.NACK_FRAG, 0);
  w.u32be(readerId);
  w.u32be(writerId);
  writeSequenceNumber(w, sn);
  missing.write(w);
  w.i32(count);
  endSubmessage(w, at);
}
