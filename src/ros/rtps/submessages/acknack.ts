// ACKNACK (0x06): a reliable reader acknowledges everything below readerSNState.base and requests the members
// of the set, RTPS 8.3.7.1.
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import type { EntityId } from '../ids/guid.ts';
import { SequenceNumberSet } from '../ids/sequence-number.ts';
import { beginSubmessage, endSubmessage, SubmessageId } from '../message/submessage.ts';

export const AckNackFlags = { FINAL: 0x02 } as const;

export class AckNack {
  readerId: EntityId = 0;
  writerId: EntityId = 0;
  readonly readerSNState = new SequenceNumberSet();
  count = 0;
  final = false;

  read(r: WireReader, flags: number): this {
    this.readerId = r.u32be();
    this.writerId = r.u32be();
    this.readerSNState.read(r);
    this.count = r.i32();
    this.final = (flags & AckNackFlags.FINAL) !== 0;
    return this;
  }
}

export function writeAckNack(
  w: WireWriter,
  readerId: EntityId,
  writerId: EntityId,
  state: SequenceNumberSet,
  count: number,
  final: boolean,
): void {
  const at = beginSubmessage(w, SubmessageId.ACKNACK, final ? AckNackFlags.FINAL : 0);
  w.u32be(readerId);
  w.u32be(writerId);
  state.write(w);
  w.i32(count);
  endSubmessage(w, at);
}
