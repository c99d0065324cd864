// GAP (0x08): sequence numbers [gapStart, gapList.base) and the members of gapList are irrelevant to the
// reader (filtered, or dropped from a KEEP_LAST history), RTPS 8.3.7.4.
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import type { EntityId } from '../ids/guid.ts';
import { readSequenceNumber, SequenceNumberSet, writeSequenceNumber, type SequenceNumber } from '../ids/sequence-number.ts';
import { beginSubmessage, endSubmessage, SubmessageId } from '../message/submessage.ts';

export class Gap {
  readerId: EntityId = 0;
  writerId: EntityId = 0;
  gapStart: SequenceNumber = 0;
  readonly gapList = new SequenceNumberSet();

  read(r: WireReader): this {
    this.readerId = r.u32be();
    this.writerId = r.u32be();
    this.gapStart = readSequenceNumber(r);
    this.gapList.read(r);
    return this;
  }
}

export function writeGap(
  w: WireWriter,
  readerId: EntityId,
  writerId: EntityId,
  gapStart: SequenceNumber,
  gapList: SequenceNumberSet,
): void {
  const at = beginSubmessage(w, SubmessageId.GAP, 0);
  w.u32be(readerId);
  w.u32be(writerId);
  writeSequenceNumber(w, gapStart);
  gapList.write(w);
  endSubmessage(w, at);
}
