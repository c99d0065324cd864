// INFO_REPLY (0x0f): where replies (ACKNACK/NACK_FRAG) to the following submessages should go; flag M adds
// multicast locators. Parsed so the reply path honours it; the locator lists are bounded.
import type { WireReader } from '../wire/reader.ts';
import { readLocator, type Locator } from '../ids/locator.ts';
import { RtpsParseError } from '../wire/errors.ts';

export const FLAG_MULTICAST = 0x02;
const MAX_LOCATORS = 16;

export class InfoReply {
  unicast: Locator[] = [];
  multicast: Locator[] = [];

  read(r: WireReader, flags: number): this {
    this.unicast = readLocatorList(r);
    this.multicast = flags & FLAG_MULTICAST ? readLocatorList(r) : [];
    return this;
  }
}

function readLocatorList(r: WireReader): Locator[] {
  const n = r.u32();
  if (n > MAX_LOCATORS) throw new RtpsParseError(`INFO_REPLY with ${n} locators (max ${MAX_LOCATORS})`);
  const out: Locator[] = [];
  for (let i = 0; i < n; i++) out.push(readLocator(r));
  return out;
}
