// The inline QoS a reader needs from DATA/DATA_FRAG: key hash and status info (dispose/unregister), and the
// related sample identity that ties a service reply to its request (DDS-RPC PID 0x0083, or eProsima's 0x800f).
import type { WireReader } from '../wire/reader.ts';
import type { WireWriter } from '../wire/writer.ts';
import { readParameterList, writeParameter, writeSentinel } from '../parameters/parameter-list.ts';
import { PID } from '../parameters/pid.ts';

/** A writer GUID (16 bytes) and one of its sequence numbers: which sample a reply relates to. */
export interface SampleIdentity {
  guid: Uint8Array;
  /** −1 for SEQUENCENUMBER_UNKNOWN (a request naming only the client's reply reader). */
  sn: number;
}

export class InlineQos {
  hasKeyHash = false;
  readonly keyHash = new Uint8Array(16);
  statusInfo = 0;
  /** 0: none; PID.RELATED_SAMPLE_IDENTITY or PID.FASTDDS_RELATED_SAMPLE_IDENTITY: where `related*` came from. */
  relatedPid = 0;
  readonly relatedGuid = new Uint8Array(16);
  relatedSN = 0;

  clear(): void {
    this.hasKeyHash = false;
    this.statusInfo = 0;
    this.relatedPid = 0;
  }

  read(r: WireReader): void {
    readParameterList(r, this.visit, true);
  }

  /** A copy of the related sample identity, or undefined. */
  related(): SampleIdentity | undefined {
    return this.relatedPid === 0 ? undefined : { guid: this.relatedGuid.slice(), sn: this.relatedSN };
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
    if ((pid === PID.RELATED_SAMPLE_IDENTITY || pid === PID.FASTDDS_RELATED_SAMPLE_IDENTITY) && length >= 24) {
      // the standard id wins when a writer sends both (Fast DDS does)
      if (this.relatedPid === PID.RELATED_SAMPLE_IDENTITY) return true;
      this.relatedGuid.set(r.bytes.subarray(r.pos, r.pos + 16));
      r.skip(16);
      const high = r.i32();
      const low = r.u32();
      this.relatedSN = high === -1 && low === 0 ? -1 : high * 2 ** 32 + low;
      this.relatedPid = pid;
      return true;
    }
    return false;
  };
}

/** Writes the inline QoS of a request or reply: the related sample identity under both ids, then the sentinel. */
export function writeRelatedSampleIdentity(w: WireWriter, related: SampleIdentity): void {
  for (const pid of [PID.RELATED_SAMPLE_IDENTITY, PID.FASTDDS_RELATED_SAMPLE_IDENTITY]) {
    writeParameter(w, pid, (w) => {
      w.raw(related.guid);
      if (related.sn < 0) {
        w.i32(-1);
        w.u32(0);
      } else {
        w.i32(Math.floor(related.sn / 2 ** 32));
        w.u32(related.sn >>> 0);
      }
    });
  }
  writeSentinel(w);
}
