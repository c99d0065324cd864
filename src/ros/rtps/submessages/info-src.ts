// INFO_SRC (0x0c): the following submessages come from another participant (relays, RTPS 8.3.7.9).
import type { WireReader } from '../wire/reader.ts';

export class InfoSrc {
  protocolMajor = 0;
  protocolMinor = 0;
  vendorId = 0;
  readonly prefix = new Uint8Array(12);

  read(r: WireReader): this {
    r.skip(4); // unused
    this.protocolMajor = r.u8();
    this.protocolMinor = r.u8();
    this.vendorId = (r.u8() << 8) | r.u8();
    r.need(12);
    for (let i = 0; i < 12; i++) this.prefix[i] = r.bytes[r.pos + i];
    r.pos += 12;
    return this;
  }
}
