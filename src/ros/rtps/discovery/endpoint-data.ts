// DiscoveredWriterData / DiscoveredReaderData: what SEDP announces about one endpoint (RTPS 8.5.4, 9.6.2.2).
import { WireReader } from '../wire/reader.ts';
import { WireWriter } from '../wire/writer.ts';
import { RtpsParseError } from '../wire/errors.ts';
import { readLocator, writeLocator, type Locator } from '../ids/locator.ts';
import { EntityIds, isWriterEntity, readEntityIdAt, type Guid } from '../ids/guid.ts';
import { readParameterList, writeParameter, writeSentinel } from '../parameters/parameter-list.ts';
import { Encapsulation, PID } from '../parameters/pid.ts';
import {
  defaultEndpointQos,
  DURABILITY_WIRE,
  LIVELINESS_WIRE,
  readDuration,
  RELIABILITY_WIRE,
  writeDuration,
  XCDR1,
  type DurabilityKind,
  type EndpointQos,
  type LivelinessKind,
} from '../qos.ts';
import { PROTOCOL_VERSION, VENDOR_ID } from '../message/header.ts';
import { payloadKind } from './participant-data.ts';

export interface EndpointData {
  guid: Guid;
  topicName: string;
  typeName: string;
  qos: EndpointQos;
  unicastLocators: Locator[];
  multicastLocators: Locator[];
  userData: Uint8Array;
  expectsInlineQos: boolean;
  vendorId: number;
}

const MAX_LOCATORS = 16;
const MAX_PARTITIONS = 64;

function invert<T extends string>(m: Record<T, number>): Map<number, T> {
  return new Map(Object.entries(m).map(([k, v]) => [v as number, k as T]));
}
const DURABILITY_FROM_WIRE = invert<DurabilityKind>(DURABILITY_WIRE);
const LIVELINESS_FROM_WIRE = invert<LivelinessKind>(LIVELINESS_WIRE);

/**
 * Decodes a SEDP sample. `keyHash` (from inline QoS) names the endpoint when PID_ENDPOINT_GUID is absent.
 * Returns the endpoint GUID only (`data` undefined) for a dispose/unregister sample without a body.
 */
export function decodeEndpointData(payload: Uint8Array, keyHash?: Uint8Array): EndpointData {
  const r = new WireReader();
  r.reset(payload, 4, payload.length, payloadKind(payload) === Encapsulation.PL_CDR_LE);
  let guid: Guid | undefined;
  let isWriter: boolean | undefined;
  const d: Omit<EndpointData, 'guid' | 'qos'> & { qos?: EndpointQos } = {
    topicName: '',
    typeName: '',
    unicastLocators: [],
    multicastLocators: [],
    userData: new Uint8Array(0),
    expectsInlineQos: false,
    vendorId: 0,
  };
  // policies are collected first and applied on the defaults once the endpoint kind (writer/reader) is known
  const policies: ((q: EndpointQos) => void)[] = [];
  readParameterList(r, (pid, r) => {
    switch (pid) {
      case PID.ENDPOINT_GUID: {
        r.need(16);
        guid = { prefix: r.bytes.slice(r.pos, r.pos + 12), entityId: readEntityIdAt(r.bytes, r.pos + 12) };
        return true;
      }
      case PID.TOPIC_NAME:
        d.topicName = r.string();
        return true;
      case PID.TYPE_NAME:
        d.typeName = r.string();
        return true;
      case PID.VENDORID:
        r.need(2);
        d.vendorId = (r.bytes[r.pos] << 8) | r.bytes[r.pos + 1];
        return true;
      case PID.UNICAST_LOCATOR:
        if (d.unicastLocators.length < MAX_LOCATORS) d.unicastLocators.push(readLocator(r));
        return true;
      case PID.MULTICAST_LOCATOR:
        if (d.multicastLocators.length < MAX_LOCATORS) d.multicastLocators.push(readLocator(r));
        return true;
      case PID.EXPECTS_INLINE_QOS:
        d.expectsInlineQos = r.u8() !== 0;
        return true;
      case PID.USER_DATA: {
        const n = r.u32();
        d.userData = r.slice(n).slice();
        return true;
      }
      case PID.RELIABILITY: {
        const kind = r.u32();
        policies.push((q) => (q.reliability = kind === RELIABILITY_WIRE.reliable ? 'reliable' : 'best_effort'));
        return true;
      }
      case PID.DURABILITY: {
        const kind = DURABILITY_FROM_WIRE.get(r.u32());
        if (kind === undefined) throw new RtpsParseError('unknown DURABILITY kind');
        policies.push((q) => (q.durability = kind));
        return true;
      }
      case PID.HISTORY: {
        const kind = r.u32() === 1 ? 'keep_all' : 'keep_last';
        const depth = r.i32();
        policies.push((q) => (q.history = { kind, depth }));
        return true;
      }
      case PID.DEADLINE: {
        const period = readDuration(r);
        policies.push((q) => (q.deadline = period));
        return true;
      }
      case PID.LIVELINESS: {
        const kind = LIVELINESS_FROM_WIRE.get(r.u32());
        const leaseDuration = readDuration(r);
        if (kind === undefined) throw new RtpsParseError('unknown LIVELINESS kind');
        policies.push((q) => (q.liveliness = { kind, leaseDuration }));
        return true;
      }
      case PID.OWNERSHIP: {
        const exclusive = r.u32() === 1;
        policies.push((q) => (q.ownership = exclusive ? 'exclusive' : 'shared'));
        return true;
      }
      case PID.DESTINATION_ORDER: {
        const bySource = r.u32() === 1;
        policies.push((q) => (q.destinationOrder = bySource ? 'by_source_timestamp' : 'by_reception_timestamp'));
        return true;
      }
      case PID.PARTITION: {
        const n = r.u32();
        if (n > MAX_PARTITIONS) throw new RtpsParseError(`PARTITION with ${n} names`);
        const names: string[] = [];
        for (let i = 0; i < n; i++) names.push(r.string());
        policies.push((q) => (q.partitions = names));
        return true;
      }
      case PID.DATA_REPRESENTATION: {
        const n = r.u32();
        if (n > 8) throw new RtpsParseError(`DATA_REPRESENTATION with ${n} ids`);
        const ids: number[] = [];
        for (let i = 0; i < n; i++) {
          r.align(2);
          ids.push(r.u16());
        }
        policies.push((q) => (q.dataRepresentation = ids.length ? ids : [XCDR1]));
        return true;
      }
      default:
        return false;
    }
  });
  if (!guid && keyHash && keyHash.length === 16) {
    guid = { prefix: keyHash.slice(0, 12), entityId: readEntityIdAt(keyHash, 12) };
  }
  if (!guid) throw new RtpsParseError('SEDP data without PID_ENDPOINT_GUID or key hash');
  isWriter = isWriterEntity(guid.entityId);
  const qos = defaultEndpointQos(isWriter);
  for (const apply of policies) apply(qos);
  if (!d.topicName || !d.typeName) throw new RtpsParseError('SEDP data without topic or type name');
  return { ...d, guid, qos };
}

/** Encodes a local endpoint's announcement as PL_CDR_LE. */
export function encodeEndpointData(d: EndpointData, participantPrefix: Uint8Array): Uint8Array {
  const w = new WireWriter(4096 + d.userData.length + 4 * (d.topicName.length + d.typeName.length));
  w.u16be(Encapsulation.PL_CDR_LE);
  w.u16(0);
  w.origin = w.pos;
  writeParameter(w, PID.ENDPOINT_GUID, (w) => {
    w.raw(d.guid.prefix);
    w.u32be(d.guid.entityId);
  });
  writeParameter(w, PID.PARTICIPANT_GUID, (w) => {
    w.raw(participantPrefix);
    w.u32be(EntityIds.PARTICIPANT);
  });
  writeParameter(w, PID.PROTOCOL_VERSION, (w) => {
    w.u8(PROTOCOL_VERSION.major);
    w.u8(PROTOCOL_VERSION.minor);
  });
  writeParameter(w, PID.VENDORID, (w) => w.raw(VENDOR_ID));
  writeParameter(w, PID.TOPIC_NAME, (w) => w.string(d.topicName));
  writeParameter(w, PID.TYPE_NAME, (w) => w.string(d.typeName));
  const q = d.qos;
  writeParameter(w, PID.RELIABILITY, (w) => {
    w.u32(RELIABILITY_WIRE[q.reliability]);
    writeDuration(w, 0.1); // max_blocking_time (DDS default)
  });
  writeParameter(w, PID.DURABILITY, (w) => w.u32(DURABILITY_WIRE[q.durability]));
  writeParameter(w, PID.HISTORY, (w) => {
    w.u32(q.history.kind === 'keep_all' ? 1 : 0);
    w.i32(q.history.depth);
  });
  if (Number.isFinite(q.deadline)) writeParameter(w, PID.DEADLINE, (w) => writeDuration(w, q.deadline));
  writeParameter(w, PID.LIVELINESS, (w) => {
    w.u32(LIVELINESS_WIRE[q.liveliness.kind]);
    writeDuration(w, q.liveliness.leaseDuration);
  });
  if (q.ownership === 'exclusive') writeParameter(w, PID.OWNERSHIP, (w) => w.u32(1));
  if (q.partitions.length) {
    writeParameter(w, PID.PARTITION, (w) => {
      w.u32(q.partitions.length);
      for (const p of q.partitions) w.string(p);
    });
  }
  for (const l of d.unicastLocators) writeParameter(w, PID.UNICAST_LOCATOR, (w) => writeLocator(w, l));
  for (const l of d.multicastLocators) writeParameter(w, PID.MULTICAST_LOCATOR, (w) => writeLocator(w, l));
  if (d.userData.length) {
    writeParameter(w, PID.USER_DATA, (w) => {
      w.u32(d.userData.length);
      w.raw(d.userData);
    });
  }
  writeSentinel(w);
  return w.bytes.slice(0, w.pos);
}

/** The parameter list of a dispose/unregister sample: just the key (the endpoint or participant GUID). */
export function encodeKeyOnly(guid: Guid, pid: number = PID.ENDPOINT_GUID): Uint8Array {
  const w = new WireWriter(64);
  w.u16be(Encapsulation.PL_CDR_LE);
  w.u16(0);
  w.origin = w.pos;
  writeParameter(w, pid, (w) => {
    w.raw(guid.prefix);
    w.u32be(guid.entityId);
  });
  writeSentinel(w);
  return w.bytes.slice(0, w.pos);
}

/**
 * The 16 GUID octets of parameter `pid` in a key-only parameter list (what `encodeKeyOnly` writes, from any
 * vendor), or undefined when the payload does not hold it. Reads without throwing: the payload is a peer's.
 */
export function keyOnlyGuid(payload: Uint8Array, pid: number): Uint8Array | undefined {
  if (payload.length < 8) return undefined;
  const little = payload[1] === Encapsulation.PL_CDR_LE;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let pos = 4;
  while (pos + 4 <= payload.length) {
    const id = view.getUint16(pos, little);
    const len = view.getUint16(pos + 2, little);
    if (id === PID.SENTINEL) break;
    if (id === pid && len >= 16 && pos + 4 + 16 <= payload.length) return payload.subarray(pos + 4, pos + 20);
    pos += 4 + len;
  }
  return undefined;
}
