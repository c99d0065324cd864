// ParameterList: a sequence of (pid, length, value) ending in PID_SENTINEL, RTPS 9.4.2.11. Reading walks the
// list without copying; vendor-specific parameters are skipped safely, unknown must-understand ones reject.
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import { RtpsParseError } from '../wire/errors.ts';
import { PID, PID_MUST_UNDERSTAND_FLAG, PID_VENDOR_SPECIFIC_FLAG } from './pid.ts';

/**
 * Visit each parameter. `visit` receives the reader positioned at the value (with r.end narrowed to it) and
 * returns true if it understood the pid. Vendor-specific parameters are visited only when `vendorSpecific` is set
 * (and never rejected as must-understand: their meaning belongs to the sender's vendor).
 */
export function readParameterList(
  r: WireReader,
  visit: (pid: number, r: WireReader, length: number) => boolean,
  vendorSpecific = false,
): void {
  const outerEnd = r.end;
  for (;;) {
    if (r.end - r.pos < 4) throw new RtpsParseError('parameter list without PID_SENTINEL');
    const pid = r.u16();
    const length = r.u16();
    if (pid === PID.SENTINEL) return;
    if (pid === PID.PAD) {
      r.skip(length);
      continue;
    }
    const valueStart = r.pos;
    const valueEnd = valueStart + length;
    if (valueEnd > outerEnd) throw new RtpsParseError(`parameter 0x${pid.toString(16)} overruns the list`);
    const isVendor = (pid & PID_VENDOR_SPECIFIC_FLAG) !== 0;
    if (!isVendor || vendorSpecific) {
      r.end = valueEnd;
      const savedOrigin = r.origin;
      r.origin = valueStart;
      let understood: boolean;
      try {
        understood = visit(pid, r, length);
      } finally {
        r.end = outerEnd;
        r.origin = savedOrigin;
      }
      if (!understood && !isVendor && (pid & PID_MUST_UNDERSTAND_FLAG) !== 0) {
        throw new RtpsParseError(`unknown must-understand parameter 0x${pid.toString(16)}`);
      }
    }
    r.pos = valueEnd;
  }
}

/** Writes one parameter: header, then `body` writes the value; the length is patched and padded to 4. */
export function writeParameter(w: WireWriter, pid: number, body: (w: WireWriter) => void): void {
  w.u16(pid);
  const lenAt = w.pos;
  w.u16(0);
  const start = w.pos;
  const savedOrigin = w.origin;
  w.origin = start;
  body(w);
  w.origin = savedOrigin;
  const rem = (w.pos - start) % 4;
  if (rem !== 0) w.zeros(4 - rem);
  w.patchU16(lenAt, w.pos - start);
}

export function writeSentinel(w: WireWriter): void {
  w.u16(PID.SENTINEL);
  w.u16(0);
}
