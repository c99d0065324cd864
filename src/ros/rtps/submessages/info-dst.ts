// INFO_DST (0x0e): the GUID prefix of the participant the following submessages are for.
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import type { GuidPrefix } from '../ids/guid.ts';
import { beginSubmessage, endSubmessage, SubmessageId } from '../message/submessage.ts';

export class InfoDst {
  readonly prefix = new Uint8Array(12);

  read(r: WireReader): this {
    r.need(12);
    for (let i = 0; i < 12; i++) this.prefix[i] = r.bytes[r.pos + i];
    r.pos += 12;
    return this;
  }
}

export function writeInfoDst(w: WireWriter, prefix: GuidPrefix): void {
  const at = beginSubmessage(w, SubmessageId.INFO_DST, 0);
  w.raw(prefix);
  endSubmessage(w, at);
}
