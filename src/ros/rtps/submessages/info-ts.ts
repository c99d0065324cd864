// INFO_TS (0x09): source timestamp for the following submessages; flag I invalidates it.
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import { beginSubmessage, endSubmessage, SubmessageId } from '../message/submessage.ts';

export const FLAG_INVALIDATE = 0x02;

export class InfoTs {
  valid = false;
  seconds = 0;
  fraction = 0;

  read(r: WireReader, flags: number): this {
    this.valid = (flags & FLAG_INVALIDATE) === 0;
    if (this.valid) {
      this.seconds = r.u32();
      this.fraction = r.u32();
    }
    return this;
  }

  /** Timestamp in nanoseconds since the epoch (approximate: double precision). */
  get nanoseconds(): number {
    return this.seconds * 1e9 + (this.fraction / 2 ** 32) * 1e9;
  }
}

const origin = performance.timeOrigin;

/** Writes the current wall-clock time (microsecond resolution; nothing allocated). */
export function writeInfoTsNow(w: WireWriter): void {
  const ms = origin + performance.now();
  const seconds = Math.floor(ms / 1000);
  const at = beginSubmessage(w, SubmessageId.INFO_TS, 0);
  w.u32(seconds);
  w.u32(Math.floor(((ms - seconds * 1000) / 1000) * 2 ** 32));
  endSubmessage(w, at);
}
