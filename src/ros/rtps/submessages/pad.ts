// PAD (0x01): alignment filler with no content; receivers skip it.
import type { WireWriter } from '../wire/writer.ts';
import { beginSubmessage, endSubmessage, SubmessageId } from '../message/submessage.ts';

export function writePad(w: WireWriter, bytes: number): void {
  const at = beginSubmessage(w, SubmessageId.PAD, 0);
  w.zeros(bytes);
  endSubmessage(w, at);
}
