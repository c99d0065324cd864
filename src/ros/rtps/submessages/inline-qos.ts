// The inline QoS a reader needs from DATA/DATA_FRAG: key hash and status info (dispose/unregister).
import type { WireReader } from '../wire/reader.ts';
import { readParameterList } from '../parameters/parameter-list.ts';
import { PID } from '../parameters/pid.ts';

export class InlineQos {
  hasKeyHash = false;
  readonly keyHash = new Uint8Array(16);
  statusInfo = 0;

  clear(): void {
    this.hasKeyHash = false;
    this.statusInfo = 0;
  }

  read(r: WireReader): void {
    readParameterList(r, this.visit);
  }

  private readonly visit = (pid: number, r: WireReader, length: number): boolean => {
    if (pid === PID.KEY_HASH && length >= 16) {
      this.keyHash.set(r.bytes.subarray(r.pos, r.pos + 16));
      this.hasKeyHash = true;
      return true;
    }
    if (pid === PID.STATUS_INFO && length >= 4) {
      // status info is 4 octets, flags in the last one regardless of endianness
      this.statusInfo = r.bytes[r.pos + 3];
      return true;
    }
    return false;
  };
}
