// RtpsTransport: the Transport contract over onestep's own RTPS participant. ROS names are mangled to DDS
// names (rt/…, pkg::msg::dds_::Type_), messages go through the shared CDR codecs, endpoints carry the type hash
// in USER_DATA as Jazzy's rmw does ("typehash=RIHS01_…;"), services follow both rmw conventions (services.ts),
// and the node is announced on ros_discovery_info so ROS 2 tools list it.
import { OpenEndpoints, checkNodeIdentity, resolveEndpoint, resolveService, sortTopics } from '../endpoints.ts';
import { RMW_GID_SIZE_HUMBLE, RMW_GID_SIZE_IRON } from '../msgs/index.ts';
import { typeHashUserData } from '../msgs/type-hash.ts';
import { fromDdsTopicName, fromDdsTypeName, toDdsTopicName, type Remapping } from '../names.ts';
import type {
  MessageHandler,
  MessageInfo,
  NodeIdentity,
  Publisher,
  QosProfile,
  QosProfileName,
  ServiceClient,
  ServiceHandler,
  ServiceInfo,
  ServiceServer,
  Subscription,
  TopicInfo,
  Transport,
} from '../transport.ts';
import { Participant, type LocalReader, type LocalWriter, type ParticipantOptions } from './participant.ts';
import { conventionOf, createRtpsClient, createRtpsService, rtpsServices, type RequestConvention, type RtpsServiceContext } from './services.ts';
import { fromRosQos, type EndpointQos } from './qos.ts';
import { RtpsUsageError } from './wire/errors.ts';
import {
  encodeParticipantEntitiesInfo,
  gidSizeFor,
  ROS_DISCOVERY_INFO_TOPIC,
  ROS_DISCOVERY_INFO_TYPE,
} from './graph-info.ts';

/** Options of {@link RtpsTransport.create}: the node, remappings, and the participant's network options. */
export interface RtpsTransportOptions extends ParticipantOptions {
  node: NodeIdentity;
  remappings?: readonly Remapping[];
  /** GID size on ros_discovery_info: 24 (Humble and older) or 16 (Iron and newer); default from ROS_DISTRO, else 16. */
  gidSize?: number;
  /** Called when a subscription callback throws or a sample cannot be decoded. Default: one line on stderr. */
  onError?: (err: unknown, topic: string) => void;
  /**
   * Which request-identity convention services speak: 'auto' (default) picks by the peer's DDS vendor —
   * rmw_cyclonedds's request header with Cyclone DDS, the sample identity of rmw_fastrtps with everyone else.
   * Force one for a peer whose vendor id does not say which rmw it runs.
   */
  serviceConvention?: 'auto' | RequestConvention;
}

/** A sample whose encapsulation is not plain CDR (XCDR1, big or little endian). */
export class RtpsEncapsulationError extends Error {
  override name = 'RtpsEncapsulationError';
}

const GRAPH_QOS: EndpointQos = {
  ...fromRosQos({ reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth: 1 }, true),
};

/**
 * A ROS 2 node over onestep's own DDS-RTPS participant (no ROS install needed): SPDP/SEDP discovery, reliable and
 * best-effort endpoints, ROS topic and service naming, graph information; interoperates with Fast DDS and Cyclone DDS
 * peers.
 */
export class RtpsTransport implements Transport {
  readonly kind = 'rtps' as const;
  readonly node: NodeIdentity;
  private readonly remappings: readonly Remapping[];
  private readonly onError: (err: unknown, topic: string) => void;
  private readonly gidSize: number;
  private readonly writers = new Set<LocalWriter>();
  private readonly readers = new Set<LocalReader>();
  private readonly endpoints = new OpenEndpoints('rtps', RtpsUsageError);
  private graphWriter: LocalWriter | undefined;
  private graphTimer: NodeJS.Timeout | undefined;
  /** Local endpoint GUID → what to call when it matches or unmatches a remote endpoint (service clients). */
  private readonly matchListeners = new Map<string, Set<() => void>>();
  private readonly serviceContext: RtpsServiceContext;

  private constructor(
    readonly participant: Participant,
    opts: RtpsTransportOptions,
  ) {
    this.node = checkNodeIdentity(opts.node);
    this.remappings = opts.remappings ?? [];
    const env = opts.env ?? process.env;
    this.gidSize = opts.gidSize ?? (gidSizeFor(env.ROS_DISTRO) === 24 ? RMW_GID_SIZE_HUMBLE : RMW_GID_SIZE_IRON);
    if (this.gidSize !== 16 && this.gidSize !== 24) throw new RtpsUsageError(`gidSize must be 16 or 24, got ${this.gidSize}`);
    const reported = new Set<string>();
    this.onError =
      opts.onError ??
      ((err, topic) => {
        const line = `${topic}: ${(err as Error)?.message ?? err}`;
        if (reported.has(line)) return; // once per distinct problem: a bad peer must not flood the log
        if (reported.size < 1000) reported.add(line);
        process.stderr.write(`onestep: ${line}\n`);
      });
    const onMatch = (local: string) => {
      const listeners = this.matchListeners.get(local);
      if (listeners) for (const f of listeners) f();
    };
    participant.on('matched', onMatch);
    participant.on('unmatched', onMatch);
    this.serviceContext = {
      participant,
      endpoints: this.endpoints,
      onError: (err, where) => this.onError(err, where),
      graphAdd: (e) => {
        if ('write' in e) this.writers.add(e);
        else this.readers.add(e);
        this.graphChanged();
      },
      graphRemove: (e) => {
        if ('write' in e) this.writers.delete(e);
        else this.readers.delete(e);
        this.graphChanged();
      },
      conventionFor: (vendorId) => (!opts.serviceConvention || opts.serviceConvention === 'auto' ? conventionOf(vendorId) : opts.serviceConvention),
      watchMatches: (guidHex, listener) => {
        let set = this.matchListeners.get(guidHex);
        if (!set) this.matchListeners.set(guidHex, (set = new Set()));
        set.add(listener);
        return () => {
          set.delete(listener);
          if (set.size === 0) this.matchListeners.delete(guidHex);
        };
      },
    };
  }

  /** Opens the participant's sockets and starts discovery on `opts.domainId` (ROS_DOMAIN_ID by default). */
  static async create(opts: RtpsTransportOptions): Promise<RtpsTransport> {
    const participant = await Participant.create({ entityName: opts.node.name, ...opts });
    const t = new RtpsTransport(participant, opts);
    t.graphWriter = participant.createWriter({ topicName: ROS_DISCOVERY_INFO_TOPIC, typeName: ROS_DISCOVERY_INFO_TYPE, qos: GRAPH_QOS });
    t.publishGraph();
    return t;
  }

  /** Re-publishes the node's entities on ros_discovery_info (coalesced: one message per burst of changes). */
  private graphChanged(): void {
    if (this.graphTimer || this.endpoints.closed) return;
    this.graphTimer = setTimeout(() => {
      this.graphTimer = undefined;
      this.publishGraph();
    }, 5);
    this.graphTimer.unref();
  }

  private publishGraph(): void {
    if (!this.graphWriter || this.endpoints.closed) return;
    const bytes = encodeParticipantEntitiesInfo(
      this.participant.guid,
      [
        {
          namespace: this.node.namespace,
          name: this.node.name,
          readers: [...this.readers].map((r) => r.guid),
          writers: [...this.writers].map((w) => w.guid),
        },
      ],
      this.gidSize,
    );
    this.graphWriter.write(bytes);
  }

  advertise<T = unknown>(topic: string, type: string, qos?: QosProfile | QosProfileName): Publisher<T> {
    this.endpoints.checkOpen();
    const endpoint = resolveEndpoint<T>(this.node, this.remappings, topic, type, qos);
    const { topic: name, codec } = endpoint;
    const writer = this.participant.createWriter({
      topicName: toDdsTopicName(name),
      typeName: codec.ddsType,
      qos: fromRosQos(endpoint.qos, true),
      userData: typeHashBytes(endpoint.type),
    });
    this.writers.add(writer);
    this.graphChanged();
    // encode buffer reused across publishes; grows (once) when a larger message comes
    let scratch = new Uint8Array(256);
    return this.endpoints.publisher(endpoint, {
      publish: (message: T) => {
        const bytes = codec.encodeInto(message, scratch);
        if (bytes.buffer !== scratch.buffer) scratch = new Uint8Array(bytes.length * 2);
        writer.write(bytes, bytes.length);
      },
      publishRaw: (cdr: Uint8Array) => {
        checkEncapsulation(cdr, name);
        writer.write(cdr, cdr.length);
      },
      matchedSubscriptions: () => writer.matchedReaders(),
      release: () => {
        writer.close();
        this.writers.delete(writer);
        this.graphChanged();
      },
    });
  }

  subscribe<T = unknown>(
    topic: string,
    type: string,
    qos: QosProfile | QosProfileName | undefined,
    onMessage: MessageHandler<T>,
  ): Subscription {
    this.endpoints.checkOpen();
    const endpoint = resolveEndpoint<T>(this.node, this.remappings, topic, type, qos);
    const { topic: name, type: fullType, codec } = endpoint;
    // one info object per subscription, overwritten for each message (the receive path allocates nothing else)
    const info: MessageInfo = { receivedAt: 0n, cdr: new Uint8Array(0), publisher: undefined };
    const onError = this.onError;
    // a publisher that sends undecodable samples is reported once, not once per sample
    const badPublishers = new Set<string>();
    const reader = this.participant.createReader({
      topicName: toDdsTopicName(name),
      typeName: codec.ddsType,
      qos: fromRosQos(endpoint.qos, false),
      userData: typeHashBytes(fullType),
      onSample: (payload, sample) => {
        info.receivedAt = process.hrtime.bigint();
        info.cdr = payload;
        info.publisher = sample.writerKey;
        let message: T;
        try {
          checkEncapsulation(payload, name);
          message = codec.decode(payload);
        } catch (err) {
          if (!badPublishers.has(sample.writerKey)) {
            badPublishers.add(sample.writerKey);
            onError(new Error(`dropping samples from ${sample.writerKey} that do not decode as ${fullType}: ${(err as Error).message}`), name);
          }
          return;
        }
        try {
          onMessage(message, info);
        } catch (err) {
          onError(err, name);
        }
      },
    });
    this.readers.add(reader);
    this.graphChanged();
    return this.endpoints.subscription(endpoint, {
      matchedPublishers: () => reader.matchedWriters(),
      release: () => {
        reader.close();
        this.readers.delete(reader);
        this.graphChanged();
      },
    });
  }

  createService<Req = unknown, Res = unknown>(
    name: string,
    type: string,
    handler: ServiceHandler<Req, Res>,
    qos?: QosProfile | QosProfileName,
  ): ServiceServer {
    this.endpoints.checkOpen();
    return createRtpsService(this.serviceContext, resolveService<Req, Res>(this.node, this.remappings, name, type, qos), handler);
  }

  createClient<Req = unknown, Res = unknown>(name: string, type: string, qos?: QosProfile | QosProfileName): ServiceClient<Req, Res> {
    this.endpoints.checkOpen();
    return createRtpsClient(this.serviceContext, resolveService<Req, Res>(this.node, this.remappings, name, type, qos));
  }

  services(): ServiceInfo[] {
    return rtpsServices(this.participant);
  }

  coalesce(publish: () => void): void {
    this.participant.coalesce(publish);
  }

  topics(): TopicInfo[] {
    const byTopic = new Map<string, { types: Set<string>; publishers: number; subscribers: number }>();
    const add = (ddsTopic: string, ddsType: string, isWriter: boolean) => {
      const t = fromDdsTopicName(ddsTopic);
      if (!t || t.kind !== 'topic') return;
      let e = byTopic.get(t.name);
      if (!e) byTopic.set(t.name, (e = { types: new Set(), publishers: 0, subscribers: 0 }));
      e.types.add(fromDdsTypeName(ddsType) ?? ddsType);
      if (isWriter) e.publishers++;
      else e.subscribers++;
    };
    for (const { data, isWriter } of this.participant.localEndpointData()) add(data.topicName, data.typeName, isWriter);
    for (const ep of this.participant.remoteEndpoints()) add(ep.data.topicName, ep.data.typeName, ep.isWriter);
    return sortTopics([...byTopic].map(([topic, e]) => ({ topic, types: [...e.types].sort(), publishers: e.publishers, subscribers: e.subscribers })));
  }

  async close(): Promise<void> {
    if (!this.endpoints.closeAll()) return;
    if (this.graphTimer) clearTimeout(this.graphTimer);
    this.graphWriter?.close();
    await this.participant.close();
  }
}

const userDataEncoder = new TextEncoder();

/** "typehash=RIHS01_…;" as USER_DATA bytes (empty when the type cannot be described). */
function typeHashBytes(type: string): Uint8Array {
  return userDataEncoder.encode(typeHashUserData(type));
}

/** Plain CDR (XCDR1) little or big endian; the options octets are ignored. */
function checkEncapsulation(cdr: Uint8Array, topic: string): void {
  if (cdr.length < 4) throw new RtpsEncapsulationError(`sample on ${topic} is ${cdr.length} bytes, shorter than the 4-byte encapsulation header`);
  if (cdr[0] !== 0 || cdr[1] > 1) {
    throw new RtpsEncapsulationError(
      `sample on ${topic} has encapsulation 0x${((cdr[0] << 8) | cdr[1]).toString(16).padStart(4, '0')}, expected CDR_BE (0x0000) or CDR_LE (0x0001)`,
    );
  }
}
