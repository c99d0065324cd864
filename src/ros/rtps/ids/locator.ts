// Locator_t: kind, port, 16-byte address (IPv4 in the last four octets), RTPS 9.3.2.
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import { RtpsParseError } from '../wire/errors.ts';

export const LocatorKind = { INVALID: -1, RESERVED: 0, UDPv4: 1, UDPv6: 2 } as const;

export interface Locator {
  readonly kind: number;
  readonly port: number;
  /** Dotted IPv4 address for UDPv4, colon-hex for UDPv6. */
  readonly address: string;
}

export const LOCATOR_SIZE = 24;

export function udpv4(address: string, port: number): Locator {
  return { kind: LocatorKind.UDPv4, port, address };
}

export function locatorKey(l: Locator): string {
  return `${l.address}:${l.port}`;
}

export function locatorEquals(a: Locator, b: Locator): boolean {
  return a.kind === b.kind && a.port === b.port && a.address === b.address;
}

/** The same locators in the same order. */
export function sameLocators(a: readonly Locator[], b: readonly Locator[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!locatorEquals(a[i], b[i])) return false;
  return true;
}

export function isMulticastIPv4(address: string): boolean {
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}

export function readLocator(r: WireReader): Locator {
  const kind = r.i32();
  const port = r.u32();
  r.need(16);
  const b = r.bytes;
  const p = r.pos;
  r.pos += 16;
  if (kind === LocatorKind.UDPv4) {
    return { kind, port, address: `${b[p + 12]}.${b[p + 13]}.${b[p + 14]}.${b[p + 15]}` };
  }
  if (kind === LocatorKind.UDPv6) {
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(((b[p + i] << 8) | b[p + i + 1]).toString(16));
    return { kind, port, address: parts.join(':') };
  }
  return { kind, port, address: '' };
}

export function writeLocator(w: WireWriter, l: Locator): void {
  w.i32(l.kind);
  w.u32(l.port);
  if (l.kind === LocatorKind.UDPv4) {
    const octets = l.address.split('.').map(Number);
    if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) {
      throw new RtpsParseError(`not an IPv4 address: "${l.address}"`);
    }
    w.zeros(12);
    for (const o of octets) w.u8(o);
  } else {
    w.zeros(16);
  }
}
