// The receive path: each submessage of a received datagram goes where it belongs — SPDP DATA to participant
// discovery; DATA, DATA_FRAG, HEARTBEAT(_FRAG) and GAP from a remote writer to the proxies our matched readers keep
// for it (the routes SEDP matching set up); ACKNACK and NACK_FRAG to our writer they name. Allocates nothing per
// submessage on the DATA path.
import { EntityIds, entityIdToHex, prefixToHex, type EntityId, type PrefixMap } from '../ids/guid.ts';
import type { ReceiveContext, SubmessageHandler } from '../message/receiver.ts';
import type { Data } from '../submessages/data.ts';
import type { DataFrag } from '../submessages/data-frag.ts';
import type { Heartbeat } from '../submessages/heartbeat.ts';
import type { HeartbeatFrag } from '../submessages/heartbeat-frag.ts';
import type { AckNack } from '../submessages/acknack.ts';
import type { NackFrag } from '../submessages/nack-frag.ts';
import type { Gap } from '../submessages/gap.ts';
import type { InlineQos, SampleIdentity } from '../submessages/inline-qos.ts';
import { Encapsulation, PID, VENDOR_EPROSIMA } from '../parameters/pid.ts';
import type { StatefulWriter } from '../endpoints/writer.ts';
import type { RemoteParticipant } from './model.ts';

const EMPTY = new Uint8Array(0);

export class SubmessageRouter implements SubmessageHandler {
  constructor(
    private readonly remote: PrefixMap<RemoteParticipant>,
    /** Our writers by entity id (ACKNACK routing), builtin ones included. */
    private readonly writers: ReadonlyMap<EntityId, StatefulWriter>,
    private readonly onSpdp: (ctx: ReceiveContext, m: Data) => void,
  ) {}

  onData(ctx: ReceiveContext, m: Data): void {
    if (m.writerId === EntityIds.SPDP_WRITER) {
      this.onSpdp(ctx, m);
      return;
    }
    const rp = this.remote.getAt(ctx.sourcePrefix);
    if (!rp) return;
    const proxies = rp.routes.get(m.writerId);
    if (!proxies) return;
    let payload: Uint8Array;
    if (m.payloadStart >= 0) {
      let end = m.payloadEnd;
      const pad = ctx.bytes[m.payloadStart + 3] & 3;
      if (!isParameterList(ctx.bytes, m.payloadStart) && end - pad >= m.payloadStart + 4) end -= pad;
      payload = ctx.bytes.subarray(m.payloadStart, end);
    } else {
      payload = EMPTY;
    }
    const ts = ctx.timestamp.valid ? ctx.timestamp.nanoseconds : 0;
    const status = m.inlineQos.statusInfo;
    const keyHash = m.inlineQos.hasKeyHash ? m.inlineQos.keyHash : undefined;
    const related = relatedSampleIdentity(m.inlineQos, ctx.sourceVendorId);
    for (let i = 0; i < proxies.length; i++) {
      const proxy = proxies[i];
      if (m.readerId !== EntityIds.UNKNOWN && m.readerId !== proxy.reader.guid.entityId) continue;
      proxy.reader.onSample(proxy, m.writerSN, payload, ts, status, keyHash, related);
    }
  }

  onDataFrag(ctx: ReceiveContext, m: DataFrag): void {
    const rp = this.remote.getAt(ctx.sourcePrefix);
    if (!rp) return;
    const proxies = rp.routes.get(m.writerId);
    if (!proxies) return;
    const ts = ctx.timestamp.valid ? ctx.timestamp.nanoseconds : 0;
    const related = relatedSampleIdentity(m.inlineQos, ctx.sourceVendorId);
    for (let i = 0; i < proxies.length; i++) {
      const proxy = proxies[i];
      if (m.readerId !== EntityIds.UNKNOWN && m.readerId !== proxy.reader.guid.entityId) continue;
      if (m.writerSN < proxy.expected && proxy.reliable) continue; // already delivered
      // a writer may put the inline QoS on any fragment: keep it until the sample is whole (few are in flight)
      if (related) {
        if (proxy.fragmentRelated.size >= 16) proxy.fragmentRelated.clear();
        proxy.fragmentRelated.set(m.writerSN, related);
      }
      const sample = proxy.fragments.add(
        m.writerSN,
        m.sampleSize,
        m.fragmentSize,
        m.fragmentStartingNum,
        m.fragmentsInSubmessage,
        ctx.bytes,
        m.payloadStart,
        m.payloadEnd,
      );
      if (sample) {
        const pad = sample.length >= 4 ? sample[3] & 3 : 0;
        const payload = pad && sample.length - pad >= 4 && !isParameterList(sample, 0) ? sample.subarray(0, sample.length - pad) : sample;
        const sampleRelated = proxy.fragmentRelated.get(m.writerSN);
        proxy.fragmentRelated.delete(m.writerSN);
        proxy.reader.onSample(proxy, m.writerSN, payload, ts, m.inlineQos.statusInfo, undefined, sampleRelated);
      }
    }
  }

  onHeartbeat(ctx: ReceiveContext, m: Heartbeat): void {
    const proxies = this.remote.getAt(ctx.sourcePrefix)?.routes.get(m.writerId);
    if (!proxies) return;
    for (const proxy of proxies) {
      if (m.readerId !== EntityIds.UNKNOWN && m.readerId !== proxy.reader.guid.entityId) continue;
      proxy.reader.onHeartbeat(proxy, m);
    }
  }

  onHeartbeatFrag(ctx: ReceiveContext, m: HeartbeatFrag): void {
    const proxies = this.remote.getAt(ctx.sourcePrefix)?.routes.get(m.writerId);
    if (!proxies) return;
    for (const proxy of proxies) {
      if (m.readerId !== EntityIds.UNKNOWN && m.readerId !== proxy.reader.guid.entityId) continue;
      proxy.reader.onHeartbeatFrag(proxy, m);
    }
  }

  onGap(ctx: ReceiveContext, m: Gap): void {
    const proxies = this.remote.getAt(ctx.sourcePrefix)?.routes.get(m.writerId);
    if (!proxies) return;
    for (const proxy of proxies) {
      if (m.readerId !== EntityIds.UNKNOWN && m.readerId !== proxy.reader.guid.entityId) continue;
      proxy.reader.onGap(proxy, m);
    }
  }

  onAckNack(ctx: ReceiveContext, m: AckNack): void {
    const writer = this.writers.get(m.writerId);
    if (!writer) return;
    writer.onAckNack(prefixToHex(ctx.sourcePrefix) + entityIdToHex(m.readerId), m);
  }

  onNackFrag(ctx: ReceiveContext, m: NackFrag): void {
    const writer = this.writers.get(m.writerId);
    if (!writer) return;
    writer.onNackFrag(prefixToHex(ctx.sourcePrefix) + entityIdToHex(m.readerId), m);
  }
}

/** The related sample identity of a DATA, if it carries one we can read (0x800f only from Fast DDS). */
function relatedSampleIdentity(q: InlineQos, sourceVendorId: number): SampleIdentity | undefined {
  if (q.relatedPid === 0) return undefined;
  if (q.relatedPid === PID.FASTDDS_RELATED_SAMPLE_IDENTITY && sourceVendorId !== VENDOR_EPROSIMA) return undefined;
  return q.related();
}

function isParameterList(bytes: Uint8Array, at: number): boolean {
  const kind = (bytes[at] << 8) | bytes[at + 1];
  return kind === Encapsulation.PL_CDR_LE || kind === Encapsulation.PL_CDR_BE;
}
