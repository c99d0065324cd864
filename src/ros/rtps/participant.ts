// The RTPS participant: the composition of its pieces (participant/): sockets on the standard ports, SPDP
// discovery with leases, SEDP endpoint discovery, matching our writers and readers with remote ones, the receive
// routing, and the handles of user endpoints. This class owns their shared state (the remote participants, our
// writers) and the periodic tick, builds outgoing messages (MessageSender) and raises the participant's events.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { WireWriter } from './wire/writer.ts';
import { RtpsUsageError } from './wire/errors.ts';
import { EntityIds, EntityKind, guidToHex, makeEntityId, type EntityId, type Guid, type GuidPrefix, type PrefixMap } from './ids/guid.ts';
import { sameLocators, udpv4, type Locator } from './ids/locator.ts';
import { RTPS_HEADER_SIZE, writeHeader, VENDOR_ID } from './message/header.ts';
import { MessageReceiver } from './message/receiver.ts';
import { writeInfoDst } from './submessages/info-dst.ts';
import { BuiltinEndpoint } from './parameters/pid.ts';
import type { ParticipantData } from './discovery/participant-data.ts';
import type { EndpointData } from './discovery/endpoint-data.ts';
import { KeepLastHistory } from './endpoints/history.ts';
import { StatefulWriter } from './endpoints/writer.ts';
import { StatefulReader } from './endpoints/reader.ts';
import { FragmentBudget } from './endpoints/fragments.ts';
import type { MessageSender } from './endpoints/sender.ts';
import { discoveryConfigFromEnv, SPDP_MULTICAST_GROUP, spdpMulticastPort, type DiscoveryConfig } from './config.ts';
import type { UdpPlatform, UdpSocket } from './platform/udp.ts';
import { NodeUdpPlatform } from './platform/node-udp.ts';
import type {
  EmitEvent,
  EndpointOwner,
  LocalEndpointEntry,
  LocalReaderEntry,
  LocalWriterEntry,
  ParticipantEvents,
  ReaderOptions,
  RemoteEndpoint,
  RemoteParticipant,
  RtpsLogger,
  WriterOptions,
} from './participant/model.ts';
import { openParticipantSockets } from './participant/sockets.ts';
import { ParticipantDiscovery, spdpTargets } from './participant/spdp.ts';
import { SedpEndpoints } from './participant/sedp.ts';
import { EndpointMatcher } from './participant/matching.ts';
import { SubmessageRouter } from './participant/routing.ts';
import { LocalReader, LocalWriter } from './participant/local-endpoints.ts';

export type { ParticipantEvents, ReaderOptions, RemoteEndpoint, RemoteParticipant, RtpsLogger, WriterOptions } from './participant/model.ts';
export { LocalReader, LocalWriter } from './participant/local-endpoints.ts';

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

const DEFAULT_LEASE_S = 20;
const DEFAULT_ANNOUNCE_S = 3;
const TICK_MS = 25;

export class Participant extends EventEmitter<ParticipantEvents> implements MessageSender, EndpointOwner {
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
  /** Participants discovered and not yet lost, by GUID prefix. */
  readonly remote: PrefixMap<RemoteParticipant>;
  readonly receiver: MessageReceiver;

  private readonly platform: UdpPlatform;
  private readonly logger: RtpsLogger;
  private readonly out: WireWriter;
  private readonly leaseDuration: number;
  private readonly userData: Uint8Array;
  private readonly entityName: string;
  private readonly localhostPeerCount: number;
  private readonly budget: FragmentBudget;
  private readonly interfaceOption: string[] | undefined;
  private readonly spdp: ParticipantDiscovery;
  private readonly sedp: SedpEndpoints;
  private readonly matcher: EndpointMatcher;

  private metaSocket: UdpSocket | undefined;
  private userSocket: UdpSocket | undefined;
  private multicastSocket: UdpSocket | undefined;
  private advertisedAddresses: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private nextEntityKey = 1;
  /** Our writers by entity id (ACKNACK routing, the tick), builtin ones included. */
  private readonly writers = new Map<EntityId, StatefulWriter>();
  /** coalesce(): nesting depth; the readers of the datagram being built in `out`; where its last sample starts. */
  private coalescing = 0;
  private pendingLocators: readonly Locator[] | null = null;
  private pendingEnd = 0;
  private sampleStart = 0;

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
    const announcePeriodMs = 1000 * (options.announcePeriod ?? Math.min(DEFAULT_ANNOUNCE_S, this.leaseDuration / 3));
    if (!(this.leaseDuration > 0) || !(announcePeriodMs > 0)) {
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
    this.budget = new FragmentBudget(options.maxSampleSize ?? 64 << 20, options.reassemblyBudget ?? 128 << 20);
    this.interfaceOption = options.interfaces;
    this.out = new WireWriter(65536);

    // GUID prefix: vendor id, then random bytes so two processes never collide
    const prefix = new Uint8Array(12);
    prefix.set(VENDOR_ID, 0);
    prefix.set(randomBytes(10), 2);
    this.prefix = prefix;
    this.guid = { prefix, entityId: EntityIds.PARTICIPANT };

    const emit: EmitEvent = (event, ...args) => void (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    this.matcher = new EndpointMatcher(emit, this.logger, () => this.advertisedAddresses);
    this.spdp = new ParticipantDiscovery({
      prefix,
      domainId: this.domainId,
      announcePeriodMs,
      maxRemoteParticipants: options.maxRemoteParticipants ?? 512,
      logger: this.logger,
      send: (bytes, locators) => this.sendBytes(bytes, locators),
      discovered: (rp) => {
        this.sedp.match(rp);
        this.emit('participantDiscovered', rp);
      },
      lost: (rp, why) => {
        for (const ep of [...rp.endpoints.values()]) this.matcher.removeRemote(rp, ep);
        this.sedp.unmatch(rp);
        rp.routes.clear();
        this.emit('participantLost', rp, why);
      },
    });
    this.remote = this.spdp.remote;
    this.sedp = new SedpEndpoints(prefix, this, this.budget, {
      participant: (p) => this.remote.get(p),
      announced: (rp, data, isWriter) => this.matcher.addRemote(rp, data, isWriter),
      disposed: (rp, entityId) => this.matcher.disposeRemote(rp, entityId),
    }, this.logger);
    this.writers.set(EntityIds.SEDP_PUBLICATIONS_WRITER, this.sedp.publicationsWriter);
    this.writers.set(EntityIds.SEDP_SUBSCRIPTIONS_WRITER, this.sedp.subscriptionsWriter);
    this.receiver = new MessageReceiver(new SubmessageRouter(this.remote, this.writers, (ctx, m) => this.spdp.onData(ctx, m)));
    this.receiver.ownPrefix = prefix;
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

  private async start(): Promise<void> {
    const sockets = await openParticipantSockets({
      platform: this.platform,
      discovery: this.discovery,
      interfaces: this.interfaceOption,
      logger: this.logger,
      onDatagram: (bytes) => this.receive(bytes),
    });
    this.metaSocket = sockets.meta;
    this.userSocket = sockets.user;
    this.multicastSocket = sockets.multicast;
    this.participantIndex = sockets.participantIndex;
    this.multicastAvailable = sockets.multicast !== undefined;
    this.advertisedAddresses = sockets.advertisedAddresses;
    const targets = spdpTargets({
      discovery: this.discovery,
      multicastAvailable: this.multicastAvailable,
      participantIndex: this.participantIndex,
      localhostPeerCount: this.localhostPeerCount,
      logger: this.logger,
    });
    this.spdp.start(this.participantData(), targets, this.advertisedAddresses, performance.now());
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

  // ------------------------------------------------------------------------------------------ message sender

  begin(destination?: GuidPrefix): WireWriter {
    // anything else sent while coalescing (heartbeats, resends, acknowledgements) leaves after what is pending
    if (this.pendingLocators !== null) this.sendPending();
    const w = this.out.reset();
    writeHeader(w, this.prefix);
    if (destination) writeInfoDst(w, destination);
    return w;
  }

  beginSample(bytes: number): WireWriter {
    const w = this.out;
    if (this.pendingLocators !== null && w.pos + bytes <= this.maxMessageSize) {
      this.sampleStart = w.pos;
      return w;
    }
    this.begin();
    this.sampleStart = w.pos;
    return w;
  }

  flushSample(locators: readonly Locator[]): void {
    if (this.coalescing === 0) {
      this.flush(locators);
      return;
    }
    const pending = this.pendingLocators;
    if (pending === null || pending === locators || sameLocators(pending, locators)) {
      this.pendingLocators = locators;
      this.pendingEnd = this.out.pos;
      return;
    }
    // other readers: what was pending goes to its own, and this sample starts the next datagram
    const w = this.out;
    const start = this.sampleStart;
    const end = w.pos;
    w.pos = start;
    this.flush(pending);
    w.bytes.copyWithin(RTPS_HEADER_SIZE, start, end);
    w.pos = RTPS_HEADER_SIZE + end - start;
    this.pendingLocators = locators;
    this.pendingEnd = w.pos;
  }

  /**
   * Runs `publish` (synchronous writes of user samples) and sends the samples it writes for the same readers as one
   * datagram (several DATA submessages after one RTPS header, RTPS 8.3.3), rather than one datagram each: a
   * subscriber to several of them is woken and reads once, and the publisher makes one sendmsg call. Samples that do
   * not fit in maxMessageSize together, fragmented samples and other traffic go out as usual, in order.
   */
  coalesce(publish: () => void): void {
    this.coalescing++;
    try {
      publish();
    } finally {
      if (--this.coalescing === 0 && this.pendingLocators !== null) this.sendPending();
    }
  }

  private sendPending(): void {
    const locators = this.pendingLocators!;
    this.pendingLocators = null;
    this.out.pos = this.pendingEnd; // not a sample left half-written by a throw
    this.flush(locators);
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
    this.spdp.announceIfDue(now);
    for (const w of this.writers.values()) w.tick(now);
    this.spdp.checkLeases(now);
  }

  // ------------------------------------------------------------------------------------------ receive path

  /** Feeds one datagram to the protocol (public for tests and fuzzing). */
  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    const rp = this.remote.getAt(bytes, 8);
    if (rp && bytes.length >= 20) rp.lastSeenMs = performance.now();
    this.receiver.receive(bytes);
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
    this.sedp.announce(data, true);
    this.matcher.addLocal(entry, this.remote.values());
    return new LocalWriter(this, entry);
  }

  createReader(o: ReaderOptions): LocalReader {
    if (this.closed) throw new RtpsUsageError('participant is closed');
    const guid = { prefix: this.prefix, entityId: this.newEntityId(EntityKind.READER_NO_KEY) };
    const data = this.endpointData(guid, o);
    const reader = new StatefulReader(guid, o.qos, this, this.budget, o.onSample);
    const entry: LocalReaderEntry = { kind: 'reader', reader, data };
    this.sedp.announce(data, false);
    this.matcher.addLocal(entry, this.remote.values());
    return new LocalReader(this, entry);
  }

  /** @internal */
  deleteEndpoint(entry: LocalEndpointEntry): void {
    if (!this.matcher.removeLocal(entry, this.remote.values())) return;
    if (entry.kind === 'writer') this.writers.delete(entry.data.guid.entityId);
    if (!this.closed) this.sedp.dispose(entry.data, entry.kind === 'writer');
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
    for (const e of this.matcher.local.values()) yield { data: e.data, isWriter: e.kind === 'writer' };
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
      for (const entry of [...this.matcher.local.values()]) this.deleteEndpoint(entry);
      this.spdp.sendDisposal();
    }
    this.closed = true;
    this.spdp.removeAll('closed');
    // let the disposals leave before the sockets close
    await new Promise((r) => setImmediate(r));
    this.metaSocket?.close();
    this.userSocket?.close();
    this.multicastSocket?.close();
    this.removeAllListeners();
  }
}
