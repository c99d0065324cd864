// HEARTBEAT (0x07): a reliable writer announces the sequence numbers it has [firstSN, lastSN], RTPS 8.3.7.5.
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import type { EntityId } from '../ids/guid.ts';
import { readSequenceNumber, writeSequenceNumber, type SequenceNumber } from '../ids/sequence-number.ts';
import { beginSubmessage, endSubmessage, SubmessageId } from '../message/submessage.ts';

export const HeartbeatFlags = { FINAL: 0x02, LIVELINESS: 0x04 } as const;

export class Heartbeat {
  readerId: EntityId = 0;
  writerId: EntityId = 0;
  firstSN: SequenceNumber = 0;
  lastSN: SequenceNumber = 0;
  count = 0;
  /** Final: the reader need not answer when it misses nothing. */
  final = false;
  liveliness = false;

  read(r: WireReader, flags: number): this {
    this.readerId = r.u32be();
    this.writerId = r.u32be();
    this.firstSN = readSequenceNumber(r);
    this.lastSN = readSequenceNumber(r);
    this.count = r.i32();
    this.final = (flags & HeartbeatFlags.FINAL) !== 0;
    this.liveliness = (flags & HeartbeatFlags.LIVELINESS) !== 0;
    return this;
  }
}

export function writeHeartbeat(
  w: WireWriter,
  readerId: EntityId,
  writerId: EntityId,
  firstSN: SequenceNumber,
  lastSN: SequenceNumber,
  count: number,
  final: boolean,
): void {
  const at = beginSubmessage(w, SubmessageId.HEARTBEAT, final ? HeartbeatFlags.FINAL : 0);
  w.u32be(readerId);
  w.u32be(writerId);
  writeSequenceNumber(w, firstSN);
  writeSequenceNumber(w, lastSN);
  w.i32(count);
  endSubmessage(w, at);
}
