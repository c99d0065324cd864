// HEARTBEAT_FRAG (0x13): which fragments of a sample the writer has sent so far, RTPS 8.3.7.6.
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import type { EntityId } from '../ids/guid.ts';
import { readSequenceNumber, writeSequenceNumber, type SequenceNumber } from '../ids/sequence-number.ts';
import { beginSubmessage, endSubmessage, SubmessageId } from '../message/submessage.ts';

export class HeartbeatFrag {
  readerId: EntityId = 0;
  writerId: EntityId = 0;
  writerSN: SequenceNumber = 0;
  lastFragmentNum = 0;
  count = 0;

  read(r: WireReader): this {
    this.readerId = r.u32be();
    this.writerId = r.u32be();
    this.writerSN = readSequenceNumber(r);
    this.lastFragmentNum = r.u32();
    this.count = r.i32();
    return this;
  }
}

export function writeHeartbeatFrag(
  w: WireWriter,
  readerId: EntityId,
  writerId: EntityId,
  sn: SequenceNumber,
  lastFragmentNum: number,
  count: number,
): void {
  const at = beginSubmessage(w, SubmessageId.HEARTBEAT_FRAG, 0);
  w.u32be(readerId);
  w.u32be(writerId);
  writeSequenceNumber(w, sn);
  w.u32(lastFragmentNum);
  w.i32(count);
  endSubmessage(w, at);
}
