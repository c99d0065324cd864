// Submessage header: id, flags (bit 0 = little-endian), octetsToNextHeader (RTPS 9.4.5.1).
import type { WireWriter } from '../wire/writer.ts';

export const SubmessageId = {
  PAD: 0x01,
  ACKNACK: 0x06,
  HEARTBEAT: 0x07,
  GAP: 0x08,
  INFO_TS: 0x09,
  INFO_SRC: 0x0c,
  INFO_REPLY_IP4: 0x0d,
  INFO_DST: 0x0e,
  INFO_REPLY: 0x0f,
  NACK_FRAG: 0x12,
  HEARTBEAT_FRAG: 0x13,
  DATA: 0x15,
  DATA_FRAG: 0x16,
} as const;

export const FLAG_ENDIANNESS = 0x01;
export const SUBMESSAGE_HEADER_SIZE = 4;

/** Starts a little-endian submessage; returns the offset of its length field for endSubmessage. */
export function beginSubmessage(w: WireWriter, id: number, flags: number): number {
  w.u8(id);
  w.u8(flags | FLAG_ENDIANNESS);
  const lengthAt = w.pos;
  w.u16(0);
  return lengthAt;
}

export function endSubmessage(w: WireWriter, lengthAt: number): void {
  w.patchU16(lengthAt, w.pos - lengthAt - 2);
}
