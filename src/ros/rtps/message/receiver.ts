// Walks one received datagram submessage by submessage (RTPS 8.3.4 "message receiver"), keeping the
// interpreter state (source/destination prefix, timestamp) and handing each parsed submessage to a handler.
// Parsed submessages live in reused objects: the receive path allocates nothing of its own.
import { WireReader } from '../wire/reader.ts';
import { RtpsParseError } from '../wire/errors.ts';
import { isRtpsHeader, RTPS_HEADER_SIZE } from './header.ts';
import { FLAG_ENDIANNESS, SubmessageId, SUBMESSAGE_HEADER_SIZE } from './submessage.ts';
import { AckNack } from '../submessages/acknack.ts';
import { Data } from '../submessages/data.ts';
import { DataFrag } from '../submessages/data-frag.ts';
import { Gap } from '../submessages/gap.ts';
import { Heartbeat } from '../submessages/heartbeat.ts';
import { HeartbeatFrag } from '../submessages/heartbeat-frag.ts';
import { InfoDst } from '../submessages/info-dst.ts';
import { InfoReply } from '../submessages/info-reply.ts';
import { InfoSrc } from '../submessages/info-src.ts';
import { InfoTs } from '../submessages/info-ts.ts';
import { NackFrag } from '../submessages/nack-frag.ts';

/** What the receiver knows about the submessage being handled. */
export interface ReceiveContext {
  /** GUID prefix of the sending participant (12 bytes, reused: copy to keep). */
  readonly sourcePrefix: Uint8Array;
  sourceVendorId: number;
  /** Destination prefix from INFO_DST (all zeros = everyone). */
  readonly destPrefix: Uint8Array;
  readonly timestamp: InfoTs;
  /** The whole datagram; DATA payload offsets index into it. */
  bytes: Uint8Array;
}

export interface SubmessageHandler {
  onData(ctx: ReceiveContext, m: Data): void;
  onDataFrag(ctx: ReceiveContext, m: DataFrag): void;
  onHeartbeat(ctx: ReceiveContext, m: Heartbeat): void;
  onHeartbeatFrag(ctx: ReceiveContext, m: HeartbeatFrag): void;
  onAckNack(ctx: ReceiveContext, m: AckNack): void;
  onNackFrag(ctx: ReceiveContext, m: NackFrag): void;
  onGap(ctx: ReceiveContext, m: Gap): void;
}

export interface ReceiveStats {
  datagrams: number;
  malformed: number;
  unknownSubmessages: number;
}

export class MessageReceiver implements ReceiveContext {
  readonly sourcePrefix = new Uint8Array(12);
  sourceVendorId = 0;
  readonly destPrefix = new Uint8Array(12);
  readonly timestamp = new InfoTs();
  bytes: Uint8Array = new Uint8Array(0);
  readonly stats: ReceiveStats = { datagrams: 0, malformed: 0, unknownSubmessages: 0 };
  /** Optional: the prefix this participant answers to; submessages after an INFO_DST for another are skipped. */
  ownPrefix: Uint8Array | undefined;

  private readonly r = new WireReader();
  private readonly data = new Data();
  private readonly dataFrag = new DataFrag();
  private readonly heartbeat = new Heartbeat();
  private readonly heartbeatFrag = new HeartbeatFrag();
  private readonly ackNack = new AckNack();
  private readonly nackFrag = new NackFrag();
  private readonly gap = new Gap();
  private readonly infoDst = new InfoDst();
  private readonly infoSrc = new InfoSrc();
  private readonly infoReply = new InfoReply();

  constructor(private readonly handler: SubmessageHandler) {}

  /**
   * Processes one datagram. Malformed input never throws out of here: the rest of the datagram is dropped
   * (RTPS 8.3.4.1) and counted in stats.malformed. Errors thrown by the handler propagate.
   */
  receive(bytes: Uint8Array, length = bytes.length): boolean {
    this.stats.datagrams++;
    if (!isRtpsHeader(bytes, length)) {
      this.stats.malformed++;
      return false;
    }
    this.bytes = bytes;
    for (let i = 0; i < 12; i++) this.sourcePrefix[i] = bytes[8 + i];
    this.sourceVendorId = (bytes[6] << 8) | bytes[7];
    this.destPrefix.fill(0);
    this.timestamp.valid = false;
    const r = this.r;
    let pos = RTPS_HEADER_SIZE;
    while (pos + SUBMESSAGE_HEADER_SIZE <= length) {
      const id = bytes[pos];
      const flags = bytes[pos + 1];
      const little = (flags & FLAG_ENDIANNESS) !== 0;
      let octets = little ? bytes[pos + 2] | (bytes[pos + 3] << 8) : (bytes[pos + 2] << 8) | bytes[pos + 3];
      const bodyStart = pos + SUBMESSAGE_HEADER_SIZE;
      // octetsToNextHeader 0 means "to the end of the message" except for PAD and INFO_TS (RTPS 9.4.5.1.3)
      if (octets === 0 && id !== SubmessageId.PAD && id !== SubmessageId.INFO_TS) octets = length - bodyStart;
      const bodyEnd = bodyStart + octets;
      if (bodyEnd > length) {
        this.stats.malformed++;
        return false;
      }
      r.reset(bytes, bodyStart, bodyEnd, little);
      try {
        if (!this.dispatch(id, flags, r)) {
          this.stats.unknownSubmessages++;
        }
      } catch (err) {
        if (err instanceof RtpsParseError || err instanceof RangeError) {
          this.stats.malformed++;
          return false;
        }
        throw err;
      }
      pos = bodyEnd;
    }
    return true;
  }

  /** True when submessages are addressed to us (no INFO_DST, INFO_DST unknown, or our prefix). */
  private forUs(): boolean {
    const own = this.ownPrefix;
    if (!own) return true;
    const d = this.destPrefix;
    let zero = true;
    for (let i = 0; i < 12; i++) if (d[i] !== 0) zero = false;
    if (zero) return true;
    for (let i = 0; i < 12; i++) if (d[i] !== own[i]) return false;
    return true;
  }

  private dispatch(id: number, flags: number, r: WireReader): boolean {
    const h = this.handler;
    switch (id) {
      case SubmessageId.DATA:
        if (this.forUs()) h.onData(this, this.data.read(r, flags));
        return true;
      case SubmessageId.DATA_FRAG:
        if (this.forUs()) h.onDataFrag(this, this.dataFrag.read(r, flags));
        return true;
      case SubmessageId.HEARTBEAT:
        if (this.forUs()) h.onHeartbeat(this, this.heartbeat.read(r, flags));
        return true;
      case SubmessageId.HEARTBEAT_FRAG:
        if (this.forUs()) h.onHeartbeatFrag(this, this.heartbeatFrag.read(r));
        return true;
      case SubmessageId.ACKNACK:
        if (this.forUs()) h.onAckNack(this, this.ackNack.read(r, flags));
        return true;
      case SubmessageId.NACK_FRAG:
        if (this.forUs()) h.onNackFrag(this, this.nackFrag.read(r));
        return true;
      case SubmessageId.GAP:
        if (this.forUs()) h.onGap(this, this.gap.read(r));
        return true;
      case SubmessageId.INFO_TS:
        this.timestamp.read(r, flags);
        return true;
      case SubmessageId.INFO_DST:
        this.infoDst.read(r);
        this.destPrefix.set(this.infoDst.prefix);
        return true;
      case SubmessageId.INFO_SRC:
        this.infoSrc.read(r);
        this.sourcePrefix.set(this.infoSrc.prefix);
        this.sourceVendorId = this.infoSrc.vendorId;
        return true;
      case SubmessageId.INFO_REPLY:
        this.infoReply.read(r, flags);
        return true;
      case SubmessageId.PAD:
      case SubmessageId.INFO_REPLY_IP4:
        return true;
      default:
        // unknown and vendor-specific (0x80-0xff) submessages are skipped by their length (RTPS 8.3.4.1)
        return false;
    }
  }
}
