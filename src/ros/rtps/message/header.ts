// The 20-byte RTPS message header: "RTPS", protocol version, vendor id, sender's GUID prefix (RTPS 8.3.3.1).
import type { WireWriter } from '../wire/writer.ts';
import type { GuidPrefix } from '../ids/guid.ts';

export const RTPS_HEADER_SIZE = 20;
export const PROTOCOL_VERSION = { major: 2, minor: 3 } as const;

/**
 * onestep's vendor id, 0x01 0xfe: the OMG assigns ids upward from 0x0101 (RTI 0x0101 ... eProsima 0x010f,
 * Cyclone 0x0110, RustDDS 0x0112, Dust DDS 0x0114, a couple of dozen in all), so the top of the 0x01xx block is
 * unassigned. No peer gives it vendor-specific treatment, so we never borrow another implementation's behaviour.
 */
export const VENDOR_ID = new Uint8Array([0x01, 0xfe]);
export const VENDOR_ID_ECLIPSE_CYCLONE = 0x0110;
export const VENDOR_ID_EPROSIMA = 0x010f;

/** Returns true if bytes[0..20) starts an RTPS (or the legacy "RTPX") message of major version 2. */
export function isRtpsHeader(bytes: Uint8Array, length: number): boolean {
  return (
    length >= RTPS_HEADER_SIZE &&
    bytes[0] === 0x52 && // R
    bytes[1] === 0x54 && // T
    bytes[2] === 0x50 && // P
    (bytes[3] === 0x53 || bytes[3] === 0x58) && // S / X
    bytes[4] === 2
  );
}

export function writeHeader(w: WireWriter, prefix: GuidPrefix): void {
  w.u8(0x52);
  w.u8(0x54);
  w.u8(0x50);
  w.u8(0x53);
  w.u8(PROTOCOL_VERSION.major);
  w.u8(PROTOCOL_VERSION.minor);
  w.u8(VENDOR_ID[0]);
  w.u8(VENDOR_ID[1]);
  w.raw(prefix);
}
