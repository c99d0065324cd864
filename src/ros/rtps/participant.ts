// The RTPS participant: sockets on the standard ports, SPDP (announce, re-announce, lease expiry), SEDP over
// reliable transient-local builtin endpoints, user writers and readers, and QoS matching between them.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { WireWriter } from './wire/writer.ts';
import { RtpsParseError, RtpsUsageError } from './wire/errors.ts';
import {
  EntityIds,
  EntityKind,
  entityIdToHex,
  guidToHex,
  isWriterEntity,
  makeEntityId,
  PrefixMap,
  prefixToHex,
  readEntityIdAt,
  type EntityId,
  type Guid,
  type GuidPrefix,
} from './ids/guid.ts';
import { LocatorKind, locatorKey, udpv4, type Locator } from './ids/locator.ts';
import { writeHeader, VENDOR_ID } from './message/header.ts';
import { MessageReceiver, type ReceiveContext, type SubmessageHandler } from './message/receiver.ts';
import { writeInfoDst } from './submessages/info-dst.ts';
import type { Data } from './submessages/data.ts';
import type { DataFrag } from './submessages/data-frag.ts';
import type { Heartbeat } from './submessages/heartbeat.ts';
import type { HeartbeatFrag } from './submessages/heartbeat-frag.ts';
import type { AckNack } from './submessages/acknack.ts';
import type { NackFrag } from './submessages/nack-frag.ts';
import type { Gap } from './submessages/gap.ts';
import { BuiltinEndpoint, Encapsulation, PID, VENDOR_EPROSIMA } from './parameters/pid.ts';
import { writeRelatedSampleIdentity, type InlineQos, type SampleIdentity } from './submessages/inline-qos.ts';
import { decodeParticipantData, type ParticipantData } from './discovery/participant-data.ts';
import { decodeEndpointData, encodeEndpointData, encodeKeyOnly, type EndpointData } from './discovery/endpoint-data.ts';
import { buildSpdpDisposeMessage, buildSpdpMessage, sedpDisposeInlineQos, sedpKeyInlineQos } from './discovery/spdp.ts';
import { KeepLastHistory, KeyedHistory } from './endpoints/history.ts';
import { StatefulWriter } from './endpoints/writer.ts';
import { StatefulReader, type SampleInfo, type WriterProxy } from './endpoints/reader.ts';
import { FragmentBudget } from './endpoints/fragments.ts';
import type { MessageSender } from './endpoints/sender.ts';
import { qosIncompatibility, type EndpointQos } from './qos.ts';
import {
  discoveryConfigFromEnv,
  MAX_PARTICIPANT_INDEX,
  metatrafficUnicastPort,
  SPDP_MULTICAST_GROUP,
  spdpMulticastPort,
  userUnicastPort,
  type DiscoveryConfig,
} from './config.ts';
import type { UdpPlatform, UdpSocket } from './platform/udp.ts';
import { NodeUdpPlatform } from './platform/node-udp.ts';

export interface RtpsLogger {
  warn(message: string): void;
  debug(message: string): void;
}

export interface ParticipantOptions {
  /** Defaults to ROS_DOMAIN_ID (0 when unset). */
  domainId?: number;
  /** Overrides of the discovery environment (range, static peers, localhost only). */
  discovery?: Partial<DiscoveryConfig>;
  env?: NodeJS.ProcessEnv;
  /** Interface names ("lo", "eth0") or IPv4 addresses to use; default: all. */
  interfaces?: string[];
  /** Participant lease announced to peers, seconds (default 20). */
  leaseDuration?: number;
  /** SPDP re-announcement period, seconds (default 3). */
  announcePeriod?: number;
  /** Participant USER_DATA (default "enclave=/;", what rmw sends). */
  userData?: string;
  /** PID_ENTITY_NAME (shown by some DDS tools). */
  entityName?: string;
  /** Largest datagram built, bytes (default 14720, Cyclone's default: fits jumbo-free networks after IP fragmentation). */
  maxMessageSize?: number;
  /** DATA_FRAG fragment size, bytes (default 1344). */
  fragmentSize?: number;
  /** Well-known localhost participant indices probed when discovery is unicast (default 10). */
  localhostPeerCount?: number;
  /** Largest reassembled sample accepted (default 64 MiB) and the participant's reassembly budget (default 128 MiB). */
  maxSampleSize?: number;
  reassemblyBudget?: number;
  /** Discovered participants kept at most (default 512); further ones are ignored until some expire. */
  maxRemoteParticipants?: number;
  platform?: UdpPlatform;
  logger?: Partial<RtpsLogger>;
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

interface LocalWriterEntry {
  kind: 'writer';
  writer: StatefulWriter;
  history: KeepLastHistory;
  data: EndpointData;
}

interface LocalReaderEntry {
  kind: 'reader';
  reader: StatefulReader;
  data: EndpointData;
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

const DEFAULT_LEASE_S = 20;
const DEFAULT_ANNOUNCE_S = 3;
const TICK_MS = 25;
const INITIAL_ANNOUNCES_MS = [0, 100, 300, 700, 1500];
const MAX_ENDPOINTS_PER_PARTICIPANT = 4096;
const BUILTIN_QOS: EndpointQos = {
  reliability: 'reliable',
  durability: 'transient_local',
  history: { kind: 'keep_last', depth: 1 },
  deadline: Infinity,
  liveliness: { kind: 'automatic', leaseDuration: Infinity },
  ownership: 'shared',
  destinationOrder: 'by_reception_timestamp',
  partitions: [],
  dataRepresentation: [0],
};

export class Participant extends EventEmitter<ParticipantEvents> implements SubmessageHandler, MessageSender {
  readonly prefix: GuidPrefix;
  readonly guid: Guid;
  readonly domainId: number;
  readonly discovery: DiscoveryConfig;
  readonly maxMessageSize: number;
  readonly fragmentSize: number;
  /** Participant index (the well-known unicast ports it holds). */
  participantIndex = -1;
  /** False when joining the SPDP multicast group failed (no multicast-capable interface). */
  multicastAvailable = false;
  readonly remote = new PrefixMap<RemoteParticipant>();
  readonly receiver: MessageReceiver;

  private readonly platform: UdpPlatform;
  private readonly logger: RtpsLogger;
  private readonly out: WireWriter;
  private readonly leaseDuration: number;
  private readonly announcePeriodMs: number;
  private readonly userData: Uint8Array;
  private readonly entityName: string;
  private readonly localhostPeerCount: number;
  private readonly maxRemoteParticipants: number;
  private readonly budget: FragmentBudget;
  private readonly interfaceOption: string[] | undefined;

  private metaSocket: UdpSocket | undefined;
  private userSocket: UdpSocket | undefined;
  private multicastSocket: UdpSocket | undefined;
  private bindAddress = '0.0.0.0';
  private advertisedAddresses: string[] = [];
  private spdpMessage: Uint8Array = new Uint8Array(0);
  private spdpSN = 0;
  private spdpTargets: Locator[] = [];
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private lastAnnounceAt = -Infinity;
  private initialAnnounce = 0;
  private lastLeaseCheck = 0;
  private closed = false;
  private nextEntityKey = 1;

  private readonly sedpPublicationsWriter: StatefulWriter;
  private readonly sedpSubscriptionsWriter: StatefulWriter;
  private readonly sedpPublicationsHistory = new KeyedHistory();
  private readonly sedpSubscriptionsHistory = new KeyedHistory();
  private readonly sedpPublicationsReader: StatefulReader;
  private readonly sedpSubscriptionsReader: StatefulReader;
  /** Local writers by entity id (ACKNACK routing), builtin ones included. */
  private readonly writers = new Map<EntityId, StatefulWriter>();
  private readonly localEndpoints = new Map<EntityId, LocalWriterEntry | LocalReaderEntry>();
  /** Pairs already reported as incompatible, so each is logged once. */
  private readonly reportedIncompatible = new Set<string>();

  private constructor(options: ParticipantOptions) {
    super();
    const env = options.env ?? process.env;
    this.discovery = discoveryConfigFromEnv(env, { ...options.discovery, ...(options.domainId !== undefined ? { domainId: options.domainId } : {}) });
    this.domainId = this.discovery.domainId;
    this.platform = options.platform ?? new NodeUdpPlatform();
    const debug = env.ONESTEP_RTPS_DEBUG === '1';
    this.logger = {
      warn: options.logger?.warn ?? ((m) => process.stderr.write(`onestep rtps: ${m}\n`)),
      debug: options.logger?.debug ?? (debug ? (m) => process.stderr.write(`onestep rtps [debug]: ${m}\n`) : () => {}),
    };
    this.leaseDuration = options.leaseDuration ?? DEFAULT_LEASE_S;
    this.announcePeriodMs = 1000 * (options.announcePeriod ?? Math.min(DEFAULT_ANNOUNCE_S, this.leaseDuration / 3));
    if (!(this.leaseDuration > 0) || !(this.announcePeriodMs > 0)) {
      throw new RtpsUsageError('leaseDuration and announcePeriod must be positive numbers of seconds');
    }
    this.userData = new TextEncoder().encode(options.userData ?? 'enclave=/;');
    this.entityName = options.entityName ?? '';
    this.maxMessageSize = options.maxMessageSize ?? 14720;
    this.fragmentSize = options.fragmentSize ?? 1344;
    if (this.maxMessageSize < 512 || this.maxMessageSize > 65000) throw new RtpsUsageError('maxMessageSize must be within 512..65000 bytes');
    if (this.fragmentSize < 256 || this.fragmentSize + 128 > this.maxMessageSize) {
      throw new RtpsUsageError('fragmentSize must be at least 256 bytes and fit in maxMessageSize with its headers');
    }
    this.localhostPeerCount = options.localhostPeerCount ?? 10;
    this.maxRemoteParticipants = options.maxRemoteParticipants ?? 512;
    this.budget = new FragmentBudget(options.maxSampleSize ?? 64 << 20, options.reassemblyBudget ?? 128 << 20);
    this.interfaceOption = options.interfaces;
    this.out = new WireWriter(65536);

    // GUID prefix: vendor id, then random bytes so two processes never collide
    const prefix = new Uint8Array(12);
    prefix.set(VENDOR_ID, 0);
    prefix.set(randomBytes(10), 2);
    this.prefix = prefix;
    this.guid = { prefix, entityId: EntityIds.PARTICIPANT };
    this.receiver = new MessageReceiver(this);
    this.receiver.ownPrefix = prefix;

    const builtin = (id: EntityId): Guid => ({ prefix, entityId: id });
    this.sedpPublicationsWriter = new StatefulWriter(builtin(EntityIds.SEDP_PUBLICATIONS_WRITER), BUILTIN_QOS, this.sedpPublicationsHistory, this);
    this.sedpSubscriptionsWriter = new StatefulWriter(builtin(EntityIds.SEDP_SUBSCRIPTIONS_WRITER), BUILTIN_QOS, this.sedpSubscriptionsHistory, this);
    this.writers.set(EntityIds.SEDP_PUBLICATIONS_WRITER, this.sedpPublicationsWriter);
    this.writers.set(EntityIds.SEDP_SUBSCRIPTIONS_WRITER, this.sedpSubscriptionsWriter);
    this.sedpPublicationsReader = new StatefulReader(builtin(EntityIds.SEDP_PUBLICATIONS_READER), BUILTIN_QOS, this, this.budget, (p, i) =>
      this.onSedpSample(p, i, true),
    );
    this.sedpSubscriptionsReader = new StatefulReader(builtin(EntityIds.SEDP_SUBSCRIPTIONS_READER), BUILTIN_QOS, this, this.budget, (p, i) =>
      this.onSedpSample(p, i, false),
    );
  }

  /** Creates a participant, binds its sockets and starts discovery. */
  static async create(options: ParticipantOptions = {}): Promise<Participant> {
    const p = new Participant(options);
    try {
      await p.start();
    } catch (err) {
      await p.close();
      throw err;
    }
    return p;
  }

  get guidHex(): string {
    return guidToHex(this.guid);
  }

  // ---------------------------------------------------------------------------------------------- start-up

  private resolveInterfaces(): string[] | undefined {
    if (this.discovery.localhostOnly) return ['127.0.0.1'];
    if (!this.interfaceOption || this.interfaceOption.length === 0) return undefined;
    const all = this.platform.interfaces();
    const out: string[] = [];
    for (const want of this.interfaceOption) {
      if (/^\d+\.\d+\.\d+\.\d+$/.test(want)) out.push(want);
      else {
        const found = all.filter((i) => i.name === want).map((i) => i.address);
        if (found.length === 0) {
          throw new RtpsUsageError(`network interface "${want}" not found (have: ${all.map((i) => i.name).join(', ') || 'none'})`);
        }
        out.push(...found);
      }
    }
    return out;
  }

  private async start(): Promise<void> {
    const chosen = this.resolveInterfaces();
    this.bindAddress = chosen && chosen.length === 1 ? chosen[0] : '0.0.0.0';
    if (chosen) this.advertisedAddresses = chosen;
    else {
      const external = this.platform.interfaces().filter((i) => !i.internal).map((i) => i.address);
      this.advertisedAddresses = external.length ? external : ['127.0.0.1'];
    }
    const onDatagram = (bytes: Uint8Array) => this.receive(bytes);
    const rcvbuf = 4 << 20;

    // well-known unicast ports: the first free participant index
    const d = this.domainId;
    for (let index = 0; index <= MAX_PARTICIPANT_INDEX; index++) {
      let meta: UdpSocket | undefined;
      try {
        meta = await this.platform.bind({ address: this.bindAddress, port: metatrafficUnicastPort(d, index), reuseAddr: false, onDatagram, receiveBufferSize: rcvbuf });
        this.userSocket = await this.platform.bind({ address: this.bindAddress, port: userUnicastPort(d, index), reuseAddr: false, onDatagram, receiveBufferSize: rcvbuf });
        this.metaSocket = meta;
        this.participantIndex = index;
        break;
      } catch (err) {
        meta?.close();
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' && code !== 'EACCES') {
          throw new RtpsUsageError(`cannot bind RTPS unicast port on ${this.bindAddress}: ${(err as Error).message}`);
        }
      }
    }
    if (!this.metaSocket) throw new RtpsUsageError(`no free RTPS participant index 0..${MAX_PARTICIPANT_INDEX} in domain ${d}`);

    // SPDP multicast, unless discovery is off or localhost-only via unicast
    if (this.discovery.range === 'subnet' || this.discovery.range === 'localhost') {
      try {
        this.multicastSocket = await this.platform.bind({ address: '0.0.0.0', port: spdpMulticastPort(d), reuseAddr: true, onDatagram, receiveBufferSize: rcvbuf });
        const groups = chosen ?? [undefined];
        for (const iface of groups) this.multicastSocket.joinMulticast(SPDP_MULTICAST_GROUP, iface);
        if (chosen?.length) this.metaSocket.setMulticastInterface(chosen[0]);
        this.multicastAvailable = true;
      } catch (err) {
        this.multicastSocket?.close();
        this.multicastSocket = undefined;
        this.multicastAvailable = false;
        this.logger.debug(`multicast unavailable (${(err as Error).message}); discovering by unicast to the well-known localhost ports`);
      }
    }
    this.rebuildSpdp();
    this.spdpTargets = this.computeSpdpTargets();
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    this.tick();
  }

  private locators(port: number): Locator[] {
    return this.advertisedAddresses.map((a) => udpv4(a, port));
  }

  private participantData(): ParticipantData {
    const builtin =
      BuiltinEndpoint.PARTICIPANT_ANNOUNCER |
      BuiltinEndpoint.PARTICIPANT_DETECTOR |
      BuiltinEndpoint.PUBLICATIONS_ANNOUNCER |
      BuiltinEndpoint.PUBLICATIONS_DETECTOR |
      BuiltinEndpoint.SUBSCRIPTIONS_ANNOUNCER |
      BuiltinEndpoint.SUBSCRIPTIONS_DETECTOR;
    return {
      guidPrefix: this.prefix,
      vendorId: (VENDOR_ID[0] << 8) | VENDOR_ID[1],
      protocolMinor: 3,
      domainId: this.domainId,
      domainTag: '',
      defaultUnicast: this.locators(this.userSocket!.port),
      defaultMulticast: [],
      metatrafficUnicast: this.locators(this.metaSocket!.port),
      metatrafficMulticast: this.multicastAvailable ? [udpv4(SPDP_MULTICAST_GROUP, spdpMulticastPort(this.domainId))] : [],
      leaseDuration: this.leaseDuration,
      builtinEndpoints: builtin,
      userData: this.userData,
      entityName: this.entityName,
    };
  }

  private rebuildSpdp(): void {
    this.spdpMessage = buildSpdpMessage(this.participantData(), ++this.spdpSN);
  }

  /** Where periodic SPDP goes besides known participants: the multicast group and/or unicast peers. */
  private computeSpdpTargets(): Locator[] {
    const d = this.domainId;
    const targets = new Map<string, Locator>();
    const add = (l: Locator) => targets.set(locatorKey(l), l);
    if (this.multicastAvailable && this.discovery.range === 'subnet') add(udpv4(SPDP_MULTICAST_GROUP, spdpMulticastPort(d)));
    if (this.multicastAvailable && this.discovery.range === 'localhost') add(udpv4(SPDP_MULTICAST_GROUP, spdpMulticastPort(d)));
    const unicastLocalhost = this.discovery.range === 'localhost' || (this.discovery.range === 'subnet' && !this.multicastAvailable);
    const peers = Math.max(this.localhostPeerCount, this.participantIndex + 2);
    if (unicastLocalhost) {
      for (let i = 0; i < peers; i++) if (i !== this.participantIndex) add(udpv4('127.0.0.1', metatrafficUnicastPort(d, i)));
    }
    for (const host of this.discovery.staticPeers) {
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
        this.logger.warn(`ROS_STATIC_PEERS entry "${host}" is not an IPv4 address; skipped (names are not resolved)`);
        continue;
      }
      for (let i = 0; i < peers; i++) add(udpv4(host, metatrafficUnicastPort(d, i)));
    }
    return [...targets.values()];
  }

  // ------------------------------------------------------------------------------------------ message sender

  begin(destination?: GuidPrefix): WireWriter {
    const w = this.out.reset();
    writeHeader(w, this.prefix);
    if (destination) writeInfoDst(w, destination);
    return w;
  }

  flush(locators: readonly Locator[]): void {
    const socket = this.metaSocket;
    if (!socket || this.closed) return;
    const w = this.out;
    for (let i = 0; i < locators.length; i++) {
      const l = locators[i];
      socket.send(w.bytes, w.pos, l.port, l.address);
    }
  }

  private sendBytes(bytes: Uint8Array, locators: readonly Locator[]): void {
    const socket = this.metaSocket;
    if (!socket || this.closed) return;
    for (const l of locators) socket.send(bytes, bytes.length, l.port, l.address);
  }

  // ------------------------------------------------------------------------------------------ periodic work

  private tick(): void {
    if (this.closed) return;
    const now = performance.now();
    const sinceStart = now - this.startedAt;
    const due =
      (this.initialAnnounce < INITIAL_ANNOUNCES_MS.length && sinceStart >= INITIAL_ANNOUNCES_MS[this.initialAnnounce]) ||
      now - this.lastAnnounceAt >= this.announcePeriodMs;
    if (due) {
      if (this.initialAnnounce < INITIAL_ANNOUNCES_MS.length) this.initialAnnounce++;
      this.lastAnnounceAt = now;
      this.announce();
    }
    for (const w of this.writers.values()) w.tick(now);
    if (now - this.lastLeaseCheck >= 250) {
      this.lastLeaseCheck = now;
      this.checkLeases(now);
    }
  }

  /** Sends our SPDP announcement to the discovery targets and to every known participant. */
  private announce(): void {
    this.sendBytes(this.spdpMessage, this.spdpTargets);
    for (const rp of this.remote.values()) this.sendBytes(this.spdpMessage, rp.metatrafficLocators);
  }

  private checkLeases(now: number): void {
    for (const rp of [...this.remote.values()]) {
      if (now - rp.lastSeenMs > rp.data.leaseDuration * 1000) {
        this.logger.debug(`participant ${rp.hex} lease expired`);
        this.removeParticipant(rp, 'lease');
      }
    }
  }

  // ------------------------------------------------------------------------------------------ receive path

  /** Feeds one datagram to the protocol (public for tests and fuzzing). */
  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    const rp = this.remote.getAt(bytes, 8);
    if (rp && bytes.length >= 20) rp.lastSeenMs = performance.now();
    this.receiver.receive(bytes);
  }

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

  // ------------------------------------------------------------------------------------------ SPDP

  private onSpdp(ctx: ReceiveContext, m: Data): void {
    if (m.payloadStart < 0) return;
    const payload = ctx.bytes.subarray(m.payloadStart, m.payloadEnd);
    if (m.inlineQos.statusInfo !== 0) {
      const prefix = m.inlineQos.hasKeyHash ? m.inlineQos.keyHash.subarray(0, 12) : decodeKeyPrefix(payload);
      const rp = prefix ? this.remote.get(prefix) : undefined;
      if (rp) this.removeParticipant(rp, 'disposed');
      return;
    }
    let data: ParticipantData;
    try {
      data = decodeParticipantData(payload);
    } catch (err) {
      if (err instanceof RtpsParseError) {
        this.logger.debug(`ignoring malformed SPDP data: ${err.message}`);
        return;
      }
      throw err;
    }
    if (data.domainId !== undefined && data.domainId !== this.domainId) return;
    if (data.domainTag !== '') return; // we only join the default (empty) domain tag
    if (prefixEq(data.guidPrefix, this.prefix)) return; // our own announcement (multicast loopback)
    const now = performance.now();
    const existing = this.remote.get(data.guidPrefix);
    const metatraffic = usableLocators(data.metatrafficUnicast, this.advertisedAddresses);
    const defaults = usableLocators(data.defaultUnicast, this.advertisedAddresses);
    if (existing) {
      existing.data = data;
      existing.lastSeenMs = now;
      existing.metatrafficLocators = metatraffic;
      existing.defaultLocators = defaults;
      return;
    }
    if (this.remote.size >= this.maxRemoteParticipants) {
      this.logger.debug(`ignoring participant ${prefixToHex(data.guidPrefix)}: ${this.maxRemoteParticipants} participants known`);
      return;
    }
    if (metatraffic.length === 0) return; // nowhere to reach it
    const rp: RemoteParticipant = {
      prefix: data.guidPrefix,
      hex: prefixToHex(data.guidPrefix),
      data,
      lastSeenMs: now,
      metatrafficLocators: metatraffic,
      defaultLocators: defaults,
      endpoints: new Map(),
      routes: new Map(),
    };
    this.remote.set(rp.prefix, rp);
    this.logger.debug(`discovered participant ${rp.hex} vendor ${data.vendorId.toString(16)} at ${metatraffic.map(locatorKey).join(' ')}`);
    // answer at once so the newcomer need not wait for our next period
    this.sendBytes(this.spdpMessage, metatraffic);
    this.matchBuiltins(rp);
    this.emit('participantDiscovered', rp);
  }

  private matchBuiltins(rp: RemoteParticipant): void {
    const set = rp.data.builtinEndpoints;
    const meta = rp.metatrafficLocators;
    const guid = (entityId: EntityId): Guid => ({ prefix: rp.prefix, entityId });
    if (set & BuiltinEndpoint.PUBLICATIONS_DETECTOR) {
      this.sedpPublicationsWriter.matchReader(guid(EntityIds.SEDP_PUBLICATIONS_READER), true, meta, true);
    }
    if (set & BuiltinEndpoint.SUBSCRIPTIONS_DETECTOR) {
      this.sedpSubscriptionsWriter.matchReader(guid(EntityIds.SEDP_SUBSCRIPTIONS_READER), true, meta, true);
    }
    if (set & BuiltinEndpoint.PUBLICATIONS_ANNOUNCER) {
      const proxy = this.sedpPublicationsReader.matchWriter(guid(EntityIds.SEDP_PUBLICATIONS_WRITER), true, meta);
      addRoute(rp, EntityIds.SEDP_PUBLICATIONS_WRITER, proxy);
    }
    if (set & BuiltinEndpoint.SUBSCRIPTIONS_ANNOUNCER) {
      const proxy = this.sedpSubscriptionsReader.matchWriter(guid(EntityIds.SEDP_SUBSCRIPTIONS_WRITER), true, meta);
      addRoute(rp, EntityIds.SEDP_SUBSCRIPTIONS_WRITER, proxy);
    }
  }

  private removeParticipant(rp: RemoteParticipant, why: 'lease' | 'disposed' | 'closed'): void {
    if (!this.remote.delete(rp.prefix)) return;
    for (const ep of [...rp.endpoints.values()]) this.removeRemoteEndpoint(rp, ep);
    const key = (entityId: EntityId) => rp.hex + entityIdToHex(entityId);
    this.sedpPublicationsWriter.unmatchReader(key(EntityIds.SEDP_PUBLICATIONS_READER));
    this.sedpSubscriptionsWriter.unmatchReader(key(EntityIds.SEDP_SUBSCRIPTIONS_READER));
    this.sedpPublicationsReader.unmatchWriter(key(EntityIds.SEDP_PUBLICATIONS_WRITER));
    this.sedpSubscriptionsReader.unmatchWriter(key(EntityIds.SEDP_SUBSCRIPTIONS_WRITER));
    rp.routes.clear();
    this.emit('participantLost', rp, why);
  }

  // ------------------------------------------------------------------------------------------ SEDP

  private onSedpSample(payload: Uint8Array, info: SampleInfo, publication: boolean): void {
    const rp = this.remote.get(info.writerGuid.prefix);
    if (!rp) return;
    if (info.statusInfo !== 0 || payload.length === 0) {
      let entityId: EntityId | undefined;
      if (info.keyHash) entityId = readEntityIdAt(info.keyHash, 12);
      else {
        try {
          entityId = decodeEndpointData(payload).guid.entityId;
        } catch {
          entityId = decodeKeyEntity(payload);
        }
      }
      const ep = entityId !== undefined ? rp.endpoints.get(entityId) : undefined;
      if (ep) this.removeRemoteEndpoint(rp, ep);
      return;
    }
    let data: EndpointData;
    try {
      data = decodeEndpointData(payload, info.keyHash);
    } catch (err) {
      if (err instanceof RtpsParseError) {
        this.logger.debug(`ignoring malformed SEDP data from ${rp.hex}: ${err.message}`);
        return;
      }
      throw err;
    }
    if (!prefixEq(data.guid.prefix, rp.prefix)) return; // an endpoint must belong to the announcing participant
    const isWriter = isWriterEntity(data.guid.entityId);
    if (isWriter !== publication) return;
    const existing = rp.endpoints.get(data.guid.entityId);
    if (existing) {
      if (existing.data.topicName === data.topicName && existing.data.typeName === data.typeName && sameQos(existing.data.qos, data.qos)) return;
      this.removeRemoteEndpoint(rp, existing); // QoS or topic changed: rematch from scratch
    }
    if (rp.endpoints.size >= MAX_ENDPOINTS_PER_PARTICIPANT) return;
    const unicast = usableLocators(data.unicastLocators, this.advertisedAddresses);
    const ep: RemoteEndpoint = {
      data,
      participant: rp,
      locators: unicast.length ? unicast : rp.defaultLocators,
      isWriter,
    };
    rp.endpoints.set(data.guid.entityId, ep);
    this.emit('endpointDiscovered', ep);
    for (const local of this.localEndpoints.values()) this.tryMatch(local, ep);
  }

  private removeRemoteEndpoint(rp: RemoteParticipant, ep: RemoteEndpoint): void {
    rp.endpoints.delete(ep.data.guid.entityId);
    const remoteKey = guidToHex(ep.data.guid);
    if (ep.isWriter) {
      rp.routes.delete(ep.data.guid.entityId);
      for (const local of this.localEndpoints.values()) {
        if (local.kind === 'reader' && local.reader.unmatchWriter(remoteKey)) this.emit('unmatched', guidToHex(local.data.guid), remoteKey);
      }
    } else {
      for (const local of this.localEndpoints.values()) {
        if (local.kind === 'writer' && local.writer.unmatchReader(remoteKey)) this.emit('unmatched', guidToHex(local.data.guid), remoteKey);
      }
    }
    this.emit('endpointLost', ep);
  }

  private tryMatch(local: LocalWriterEntry | LocalReaderEntry, remote: RemoteEndpoint): void {
    const isLocalWriter = local.kind === 'writer';
    if (isLocalWriter === remote.isWriter) return;
    if (local.data.topicName !== remote.data.topicName) return;
    const localKey = guidToHex(local.data.guid);
    const remoteKey = guidToHex(remote.data.guid);
    let reason: string | undefined;
    if (local.data.typeName !== remote.data.typeName) {
      reason = `type mismatch: local "${local.data.typeName}", remote "${remote.data.typeName}"`;
    } else {
      reason = isLocalWriter ? qosIncompatibility(local.data.qos, remote.data.qos) : qosIncompatibility(remote.data.qos, local.data.qos);
    }
    if (reason) {
      const pair = `${localKey}/${remoteKey}`;
      if (!this.reportedIncompatible.has(pair)) {
        this.reportedIncompatible.add(pair);
        const role = isLocalWriter ? 'our writer and a remote reader' : 'a remote writer and our reader';
        this.logger.warn(`topic "${local.data.topicName}": ${role} (${remoteKey}) do not match: ${reason}`);
      }
      this.emit('incompatibleQos', localKey, remoteKey, reason);
      return;
    }
    if (local.kind === 'writer') {
      local.writer.matchReader(
        remote.data.guid,
        remote.data.qos.reliability === 'reliable',
        remote.locators,
        remote.data.qos.durability !== 'volatile',
      );
    } else {
      const proxy = local.reader.matchWriter(remote.data.guid, remote.data.qos.reliability === 'reliable', remote.locators);
      addRoute(remote.participant, remote.data.guid.entityId, proxy);
    }
    this.emit('matched', localKey, remoteKey);
  }

  private announceEndpoint(entry: LocalWriterEntry | LocalReaderEntry): void {
    const history = entry.kind === 'writer' ? this.sedpPublicationsHistory : this.sedpSubscriptionsHistory;
    const writer = entry.kind === 'writer' ? this.sedpPublicationsWriter : this.sedpSubscriptionsWriter;
    const payload = encodeEndpointData(entry.data, this.prefix);
    const guid = entry.data.guid;
    const sn = history.add(guidToHex(guid), payload, { inlineQos: sedpKeyInlineQos(guid.prefix, guid.entityId) });
    writer.publish(sn, payload, payload.length, history.get(sn));
  }

  private disposeEndpoint(entry: LocalWriterEntry | LocalReaderEntry): void {
    const history = entry.kind === 'writer' ? this.sedpPublicationsHistory : this.sedpSubscriptionsHistory;
    const writer = entry.kind === 'writer' ? this.sedpPublicationsWriter : this.sedpSubscriptionsWriter;
    const guid = entry.data.guid;
    const key = encodeKeyOnly(guid);
    const sn = history.add(guidToHex(guid), key, { keyOnly: true, inlineQos: sedpDisposeInlineQos(guid.prefix, guid.entityId) });
    writer.publish(sn, key, key.length, history.get(sn));
  }

  // ------------------------------------------------------------------------------------------ user endpoints

  private newEntityId(kind: number): EntityId {
    const id = makeEntityId(this.nextEntityKey++, kind);
    if (this.nextEntityKey > 0xffffff) throw new RtpsUsageError('entity ids exhausted');
    return id;
  }

  private endpointData(guid: Guid, o: WriterOptions): EndpointData {
    if (!o.topicName || !o.typeName) throw new RtpsUsageError('topic and type names must be non-empty');
    if (o.qos.history.kind === 'keep_last' && !(Number.isInteger(o.qos.history.depth) && o.qos.history.depth >= 1)) {
      throw new RtpsUsageError(`history depth must be a positive integer, got ${o.qos.history.depth}`);
    }
    return {
      guid,
      topicName: o.topicName,
      typeName: o.typeName,
      qos: o.qos,
      unicastLocators: this.locators(this.userSocket!.port),
      multicastLocators: [],
      userData: o.userData ?? new Uint8Array(0),
      expectsInlineQos: false,
      vendorId: (VENDOR_ID[0] << 8) | VENDOR_ID[1],
    };
  }

  createWriter(o: WriterOptions): LocalWriter {
    if (this.closed) throw new RtpsUsageError('participant is closed');
    const guid = { prefix: this.prefix, entityId: this.newEntityId(EntityKind.WRITER_NO_KEY) };
    const data = this.endpointData(guid, o);
    // history: what reliable resends and transient-local replays need; keep_all is bounded like keep_last(1000)
    const keeps = o.qos.reliability === 'reliable' || o.qos.durability !== 'volatile';
    const depth = keeps ? (o.qos.history.kind === 'keep_all' ? 1000 : o.qos.history.depth) : 0;
    const history = new KeepLastHistory(depth);
    const writer = new StatefulWriter(guid, o.qos, history, this);
    const entry: LocalWriterEntry = { kind: 'writer', writer, history, data };
    this.writers.set(guid.entityId, writer);
    this.localEndpoints.set(guid.entityId, entry);
    this.announceEndpoint(entry);
    for (const rp of this.remote.values()) for (const ep of rp.endpoints.values()) this.tryMatch(entry, ep);
    return new LocalWriter(this, entry);
  }

  createReader(o: ReaderOptions): LocalReader {
    if (this.closed) throw new RtpsUsageError('participant is closed');
    const guid = { prefix: this.prefix, entityId: this.newEntityId(EntityKind.READER_NO_KEY) };
    const data = this.endpointData(guid, o);
    const reader = new StatefulReader(guid, o.qos, this, this.budget, o.onSample);
    const entry: LocalReaderEntry = { kind: 'reader', reader, data };
    this.localEndpoints.set(guid.entityId, entry);
    this.announceEndpoint(entry);
    for (const rp of this.remote.values()) for (const ep of rp.endpoints.values()) this.tryMatch(entry, ep);
    return new LocalReader(this, entry);
  }

  /** @internal */
  deleteEndpoint(entry: LocalWriterEntry | LocalReaderEntry): void {
    if (!this.localEndpoints.delete(entry.data.guid.entityId)) return;
    if (entry.kind === 'writer') {
      this.writers.delete(entry.data.guid.entityId);
    } else {
      for (const rp of this.remote.values()) {
        for (const [id, proxies] of rp.routes) {
          const kept = proxies.filter((p) => p.reader !== entry.reader);
          if (kept.length) rp.routes.set(id, kept);
          else rp.routes.delete(id);
        }
      }
    }
    if (!this.closed) this.disposeEndpoint(entry);
  }

  /** A discovered remote endpoint by its GUID. */
  remoteEndpoint(guid: Guid): RemoteEndpoint | undefined {
    return this.remote.get(guid.prefix)?.endpoints.get(guid.entityId);
  }

  /** Remote endpoints known now (for graph queries such as topic lists). */
  *remoteEndpoints(): IterableIterator<RemoteEndpoint> {
    for (const rp of this.remote.values()) yield* rp.endpoints.values();
  }

  /** Local endpoints (topic, type, writer or reader). */
  *localEndpointData(): IterableIterator<{ data: EndpointData; isWriter: boolean }> {
    for (const e of this.localEndpoints.values()) yield { data: e.data, isWriter: e.kind === 'writer' };
  }

  /** Datagram-level counters for diagnostics. */
  stats(): { datagrams: number; malformed: number; unknownSubmessages: number; sendErrors: number; reassemblyBytes: number } {
    return { ...this.receiver.stats, sendErrors: this.platform.sendErrors, reassemblyBytes: this.budget.used };
  }

  /** Announces our departure (SEDP and SPDP disposals) and closes the sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    if (this.metaSocket) {
      for (const entry of [...this.localEndpoints.values()]) this.deleteEndpoint(entry);
      const dispose = buildSpdpDisposeMessage(this.prefix, ++this.spdpSN);
      this.sendBytes(dispose, this.spdpTargets);
      for (const rp of this.remote.values()) this.sendBytes(dispose, rp.metatrafficLocators);
    }
    this.closed = true;
    for (const rp of [...this.remote.values()]) this.removeParticipant(rp, 'closed');
    // let the disposals leave before the sockets close
    await new Promise((r) => setImmediate(r));
    this.metaSocket?.close();
    this.userSocket?.close();
    this.multicastSocket?.close();
    this.removeAllListeners();
  }
}

export class LocalWriter {
  readonly guid: Guid;
  readonly guidHex: string;
  private closed = false;

  constructor(
    private readonly participant: Participant,
    private readonly entry: LocalWriterEntry,
  ) {
    this.guid = entry.data.guid;
    this.guidHex = guidToHex(this.guid);
  }

  get topicName(): string {
    return this.entry.data.topicName;
  }

  /**
   * Publishes one serialized sample (encapsulation header + CDR body), bytes [0, length). Copies what it keeps.
   * `related` goes out as inline QoS (the request a service reply answers). Returns the sample's sequence number.
   */
  write(payload: Uint8Array, length = payload.length, related?: SampleIdentity): number {
    if (this.closed) throw new RtpsUsageError(`writer on "${this.entry.data.topicName}" is closed`);
    if (length < 4) throw new RtpsUsageError(`serialized sample must hold at least the 4-byte encapsulation header, got ${length} bytes`);
    const { writer, history } = this.entry;
    const sn = writer.nextSN();
    const inlineQos = related ? (w: WireWriter) => writeRelatedSampleIdentity(w, related) : undefined;
    history.add(sn, payload, length, inlineQos);
    writer.publish(sn, payload, length, history.get(sn), inlineQos);
    return sn;
  }

  /** The readers matched now, with whether each has acknowledged us yet (proof that it matched us too). */
  matchedReaderStates(): { guid: Guid; guidHex: string; acknowledged: boolean; remote: RemoteEndpoint | undefined }[] {
    return [...this.entry.writer.readers.values()].map((r) => ({
      guid: r.guid,
      guidHex: r.key,
      acknowledged: r.lastAckNackCount >= 0,
      remote: this.participant.remoteEndpoint(r.guid),
    }));
  }

  matchedReaders(): number {
    return this.entry.writer.matchedReaders;
  }

  /** True when all reliable readers acknowledged everything written. */
  allAcknowledged(): boolean {
    return this.entry.writer.allAcknowledged();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.participant.deleteEndpoint(this.entry);
  }
}

export class LocalReader {
  readonly guid: Guid;
  readonly guidHex: string;
  private closed = false;

  constructor(
    private readonly participant: Participant,
    private readonly entry: LocalReaderEntry,
  ) {
    this.guid = entry.data.guid;
    this.guidHex = guidToHex(this.guid);
  }

  matchedWriters(): number {
    return this.entry.reader.writers.size;
  }

  /** The writers matched now, with their discovery data. */
  matchedWriterStates(): { guid: Guid; guidHex: string; remote: RemoteEndpoint | undefined }[] {
    return [...this.entry.reader.writers.values()].map((w) => ({ guid: w.guid, guidHex: w.key, remote: this.participant.remoteEndpoint(w.guid) }));
  }

  get delivered(): number {
    return this.entry.reader.delivered;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.participant.deleteEndpoint(this.entry);
  }
}

// ------------------------------------------------------------------------------------------ helpers

const EMPTY = new Uint8Array(0);

function addRoute(rp: RemoteParticipant, writerId: EntityId, proxy: WriterProxy): void {
  const list = rp.routes.get(writerId);
  if (!list) rp.routes.set(writerId, [proxy]);
  else if (!list.includes(proxy)) list.push(proxy);
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

function prefixEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length < 12 || b.length < 12) return false;
  for (let i = 0; i < 12; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameQos(a: EndpointQos, b: EndpointQos): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * UDPv4 locators we can send to. A peer on this host often lists one locator per interface; one suffices
 * then (duplicates would double every sample), so a peer that lists one of our own addresses gets just that one.
 */
function usableLocators(list: Locator[], ownAddresses: string[]): Locator[] {
  const v4 = list.filter((l) => l.kind === LocatorKind.UDPv4 && l.port > 0 && l.port < 65536 && l.address !== '0.0.0.0');
  const local = v4.filter((l) => l.address === '127.0.0.1' || ownAddresses.includes(l.address));
  if (local.length) {
    const byPort = new Map<number, Locator>();
    for (const l of local) if (!byPort.has(l.port)) byPort.set(l.port, l);
    return [...byPort.values()];
  }
  return v4;
}

/** The participant prefix of a key-only SPDP payload (PID_PARTICIPANT_GUID). */
function decodeKeyPrefix(payload: Uint8Array): Uint8Array | undefined {
  const guid = findGuidParameter(payload, PID.PARTICIPANT_GUID);
  return guid?.subarray(0, 12);
}

function decodeKeyEntity(payload: Uint8Array): EntityId | undefined {
  const guid = findGuidParameter(payload, PID.ENDPOINT_GUID);
  return guid ? readEntityIdAt(guid, 12) : undefined;
}

function findGuidParameter(payload: Uint8Array, pid: number): Uint8Array | undefined {
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
