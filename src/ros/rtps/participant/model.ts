// What the pieces of a participant share: the options of user endpoints, what the participant knows about its
// peers (discovered participants, their endpoints, and the receive routing table: which of our readers each remote
// writer feeds), our own endpoints, and the events a participant emits.
import type { EntityId, Guid, GuidPrefix } from '../ids/guid.ts';
import { LocatorKind, type Locator } from '../ids/locator.ts';
import type { EndpointData } from '../discovery/endpoint-data.ts';
import type { ParticipantData } from '../discovery/participant-data.ts';
import type { KeepLastHistory } from '../endpoints/history.ts';
import type { SampleInfo, StatefulReader, WriterProxy } from '../endpoints/reader.ts';
import type { StatefulWriter } from '../endpoints/writer.ts';
import type { EndpointQos } from '../qos.ts';

export interface RtpsLogger {
  warn(message: string): void;
  debug(message: string): void;
}

export interface WriterOptions {
  topicName: string;
  typeName: string;
  qos: EndpointQos;
  userData?: Uint8Array;
}

export interface ReaderOptions extends WriterOptions {
  /** Called for every sample; the payload stays valid, `info` is reused (copy fields you keep). */
  onSample: (payload: Uint8Array, info: SampleInfo) => void;
}

export interface RemoteEndpoint {
  readonly data: EndpointData;
  readonly participant: RemoteParticipant;
  readonly locators: Locator[];
  readonly isWriter: boolean;
}

export interface RemoteParticipant {
  readonly prefix: GuidPrefix;
  readonly hex: string;
  data: ParticipantData;
  lastSeenMs: number;
  metatrafficLocators: Locator[];
  defaultLocators: Locator[];
  /** Remote endpoints by entity id. */
  readonly endpoints: Map<EntityId, RemoteEndpoint>;
  /** For each remote writer entity id, the proxies of our readers matched to it (the receive routing table). */
  readonly routes: Map<EntityId, WriterProxy[]>;
}

export interface LocalWriterEntry {
  kind: 'writer';
  writer: StatefulWriter;
  history: KeepLastHistory;
  data: EndpointData;
}

export interface LocalReaderEntry {
  kind: 'reader';
  reader: StatefulReader;
  data: EndpointData;
}

export type LocalEndpointEntry = LocalWriterEntry | LocalReaderEntry;

/** What a local writer or reader handle needs from the participant that made it. */
export interface EndpointOwner {
  remoteEndpoint(guid: Guid): RemoteEndpoint | undefined;
  deleteEndpoint(entry: LocalEndpointEntry): void;
}

export interface ParticipantEvents {
  participantDiscovered: [RemoteParticipant];
  participantLost: [RemoteParticipant, 'lease' | 'disposed' | 'closed'];
  endpointDiscovered: [RemoteEndpoint];
  endpointLost: [RemoteEndpoint];
  matched: [localGuid: string, remoteGuid: string];
  unmatched: [localGuid: string, remoteGuid: string];
  incompatibleQos: [localGuid: string, remoteGuid: string, reason: string];
}

/** The participant's `emit`, handed to the pieces that raise its events. */
export type EmitEvent = <K extends keyof ParticipantEvents>(event: K, ...args: ParticipantEvents[K]) => void;

/** Routes a remote writer's traffic to one more of our readers (no duplicates). */
export function addRoute(rp: RemoteParticipant, writerId: EntityId, proxy: WriterProxy): void {
  const list = rp.routes.get(writerId);
  if (!list) rp.routes.set(writerId, [proxy]);
  else if (!list.includes(proxy)) list.push(proxy);
}

/** Both prefixes are whole (12 bytes) and equal; a short one from the wire never equals ours. */
export function samePrefix(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length < 12 || b.length < 12) return false;
  for (let i = 0; i < 12; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * UDPv4 locators we can send to. A peer on this host often lists one locator per interface; one suffices
 * then (duplicates would double every sample), so a peer that lists one of our own addresses gets just that one.
 */
export function usableLocators(list: Locator[], ownAddresses: string[]): Locator[] {
  const v4 = list.filter((l) => l.kind === LocatorKind.UDPv4 && l.port > 0 && l.port < 65536 && l.address !== '0.0.0.0');
  const local = v4.filter((l) => l.address === '127.0.0.1' || ownAddresses.includes(l.address));
  if (local.length) {
    const byPort = new Map<number, Locator>();
    for (const l of local) if (!byPort.has(l.port)) byPort.set(l.port, l);
    return [...byPort.values()];
  }
  return v4;
}
