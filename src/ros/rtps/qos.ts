// DDS QoS as RTPS carries it in SEDP, its wire encoding, and the request/offered compatibility rules
// (DDS 1.4 §2.2.3) with a human-readable reason when a writer and a reader cannot match.
import type { WireReader } from './wire/reader.ts';
import type { WireWriter } from './wire/writer.ts';
import type { QosProfile } from '../transport.ts';

export type ReliabilityKind = 'best_effort' | 'reliable';
export type DurabilityKind = 'volatile' | 'transient_local' | 'transient' | 'persistent';
export type LivelinessKind = 'automatic' | 'manual_by_participant' | 'manual_by_topic';

export interface EndpointQos {
  reliability: ReliabilityKind;
  durability: DurabilityKind;
  history: { kind: 'keep_last' | 'keep_all'; depth: number };
  /** Seconds; Infinity when unset. */
  deadline: number;
  liveliness: { kind: LivelinessKind; leaseDuration: number };
  ownership: 'shared' | 'exclusive';
  destinationOrder: 'by_reception_timestamp' | 'by_source_timestamp';
  /** Empty = the default partition. */
  partitions: string[];
  /** Data representation ids: 0 XCDR1, 1 XML, 2 XCDR2. */
  dataRepresentation: number[];
}

export const XCDR1 = 0;
export const XCDR2 = 2;

/** DDS defaults for a discovered endpoint whose SEDP data omits a policy (RTPS Table 9.12). */
export function defaultEndpointQos(isWriter: boolean): EndpointQos {
  return {
    reliability: isWriter ? 'reliable' : 'best_effort',
    durability: 'volatile',
    history: { kind: 'keep_last', depth: 1 },
    deadline: Infinity,
    liveliness: { kind: 'automatic', leaseDuration: Infinity },
    ownership: 'shared',
    destinationOrder: 'by_reception_timestamp',
    partitions: [],
    dataRepresentation: [XCDR1],
  };
}

/** A ROS QoS profile as the DDS QoS of a local endpoint. */
export function fromRosQos(qos: QosProfile, isWriter: boolean): EndpointQos {
  const q = defaultEndpointQos(isWriter);
  q.reliability = qos.reliability;
  q.durability = qos.durability;
  q.history = { kind: qos.history, depth: qos.depth };
  return q;
}

const DURABILITY_RANK: Record<DurabilityKind, number> = { volatile: 0, transient_local: 1, transient: 2, persistent: 3 };
const LIVELINESS_RANK: Record<LivelinessKind, number> = { automatic: 0, manual_by_participant: 1, manual_by_topic: 2 };

/** Returns undefined when the writer's offered QoS satisfies the reader's request, else why not. */
export function qosIncompatibility(offered: EndpointQos, requested: EndpointQos): string | undefined {
  if (offered.reliability === 'best_effort' && requested.reliability === 'reliable') {
    return 'RELIABILITY: writer offers BEST_EFFORT, reader requests RELIABLE';
  }
  if (DURABILITY_RANK[offered.durability] < DURABILITY_RANK[requested.durability]) {
    return `DURABILITY: writer offers ${offered.durability.toUpperCase()}, reader requests ${requested.durability.toUpperCase()}`;
  }
  if (offered.deadline > requested.deadline) {
    return `DEADLINE: writer offers ${offered.deadline} s, reader requests ${requested.deadline} s`;
  }
  if (LIVELINESS_RANK[offered.liveliness.kind] < LIVELINESS_RANK[requested.liveliness.kind]) {
    return `LIVELINESS: writer offers ${offered.liveliness.kind.toUpperCase()}, reader requests ${requested.liveliness.kind.toUpperCase()}`;
  }
  if (offered.liveliness.leaseDuration > requested.liveliness.leaseDuration) {
    return `LIVELINESS: writer lease ${offered.liveliness.leaseDuration} s exceeds reader lease ${requested.liveliness.leaseDuration} s`;
  }
  if (offered.ownership !== requested.ownership) {
    return `OWNERSHIP: writer ${offered.ownership.toUpperCase()}, reader ${requested.ownership.toUpperCase()}`;
  }
  if (offered.destinationOrder === 'by_reception_timestamp' && requested.destinationOrder === 'by_source_timestamp') {
    return 'DESTINATION_ORDER: writer offers BY_RECEPTION_TIMESTAMP, reader requests BY_SOURCE_TIMESTAMP';
  }
  if (!partitionsMatch(offered.partitions, requested.partitions)) {
    return `PARTITION: writer [${offered.partitions.join(',')}] and reader [${requested.partitions.join(',')}] share none`;
  }
  const writerRepresentation = offered.dataRepresentation[0] ?? XCDR1;
  const accepted = requested.dataRepresentation.length ? requested.dataRepresentation : [XCDR1];
  if (!accepted.includes(writerRepresentation)) {
    return `DATA_REPRESENTATION: writer uses ${representationName(writerRepresentation)}, reader accepts ${accepted.map(representationName).join(',')}`;
  }
  return undefined;
}

function representationName(id: number): string {
  return id === XCDR1 ? 'XCDR1' : id === XCDR2 ? 'XCDR2' : id === 1 ? 'XML' : `#${id}`;
}

function partitionsMatch(a: string[], b: string[]): boolean {
  const pa = a.length ? a : [''];
  const pb = b.length ? b : [''];
  for (const x of pa) for (const y of pb) if (x === y || globMatch(x, y) || globMatch(y, x)) return true;
  return false;
}

function globMatch(pattern: string, name: string): boolean {
  if (!/[*?[]/.test(pattern)) return false;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

// Duration_t on the wire: int32 seconds + uint32 fraction (2^-32 s); {0x7fffffff, 0xffffffff} is infinite.
export function readDuration(r: WireReader): number {
  const sec = r.i32();
  const frac = r.u32();
  if (sec === 0x7fffffff) return Infinity;
  return sec + frac / 2 ** 32;
}

export function writeDuration(w: WireWriter, seconds: number): void {
  if (!Number.isFinite(seconds)) {
    w.i32(0x7fffffff);
    w.u32(0xffffffff);
    return;
  }
  const s = Math.floor(seconds);
  w.i32(s);
  w.u32(Math.min(0xffffffff, Math.round((seconds - s) * 2 ** 32)));
}

export const RELIABILITY_WIRE: Record<ReliabilityKind, number> = { best_effort: 1, reliable: 2 };
export const DURABILITY_WIRE: Record<DurabilityKind, number> = { volatile: 0, transient_local: 1, transient: 2, persistent: 3 };
export const LIVELINESS_WIRE: Record<LivelinessKind, number> = { automatic: 0, manual_by_participant: 1, manual_by_topic: 2 };
