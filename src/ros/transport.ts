// The contract every ROS 2 transport (rtps, rclnodejs, inproc) implements. Nothing in here imports a ROS library.

/** QoS reliability, as in rmw. */
export type Reliability = 'reliable' | 'best_effort';
/** QoS durability: transient_local keeps the last samples for subscribers that join later. */
export type Durability = 'volatile' | 'transient_local';
/** QoS history kind. */
export type History = 'keep_last' | 'keep_all';

/** A QoS profile, as ROS 2 names its fields. */
export interface QosProfile {
  reliability: Reliability;
  durability: Durability;
  history: History;
  /** History depth for keep_last. */
  depth: number;
}

/** The standard ROS 2 profiles by name (see QOS_PROFILES). */
export type QosProfileName = 'default' | 'sensor_data' | 'system_default' | 'services_default' | 'parameters' | 'parameter_events' | 'clock' | 'rosout';

/** rmw/qos_profiles.h; system_default follows rmw_cyclonedds (reliable, volatile). */
export const QOS_PROFILES: Readonly<Record<QosProfileName, Readonly<QosProfile>>> = {
  default: { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 },
  sensor_data: { reliability: 'best_effort', durability: 'volatile', history: 'keep_last', depth: 5 },
  system_default: { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 },
  services_default: { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 },
  parameters: { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 1000 },
  parameter_events: { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 1000 },
  // rclcpp's ClockQoS: the newest time only, best effort (matches every /clock publisher)
  clock: { reliability: 'best_effort', durability: 'volatile', history: 'keep_last', depth: 1 },
  // rcl's rosout publisher: late joiners (rqt_console) get recent lines
  rosout: { reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth: 1000 },
};

/** A profile from a name (or a copy of `default` for undefined); throws on an unknown name. */
export function resolveQos(qos: QosProfile | QosProfileName | undefined): QosProfile {
  if (qos === undefined) return { ...QOS_PROFILES.default };
  if (typeof qos === 'string') {
    const named = QOS_PROFILES[qos];
    if (!named) throw new Error(`unknown QoS profile "${qos}" (expected one of ${Object.keys(QOS_PROFILES).join(', ')})`);
    return { ...named };
  }
  return qos;
}

/** Who a transport speaks for in the ROS graph (used for name resolution and graph info). */
export interface NodeIdentity {
  name: string;
  /** Absolute namespace, "/" for the root. */
  namespace: string;
}

/** What a subscription callback learns about a message besides its content. */
export interface MessageInfo {
  /** Local monotonic receive time, process.hrtime.bigint() nanoseconds. */
  receivedAt: bigint;
  /** The serialized message as received: 4-byte encapsulation header + CDR body. */
  cdr: Uint8Array;
  /** Publisher identity where the transport knows it (GUID as hex). */
  publisher?: string;
}

/** Publishes messages of one type on one topic; from `Transport.advertise`. */
export interface Publisher<T = unknown> {
  /** Fully-qualified ROS topic name, e.g. "/arm/commands". */
  readonly topic: string;
  /** ROS type name, e.g. "std_msgs/msg/Float64MultiArray". */
  readonly type: string;
  readonly qos: QosProfile;
  publish(message: T): void;
  /** Publish already-serialized bytes (encapsulation header + CDR body). */
  publishRaw(cdr: Uint8Array): void;
  /** Number of matched subscriptions known to this transport. */
  matchedSubscriptions(): number;
  close(): void;
}

/** A live subscription; from `Transport.subscribe`. Close it to stop the callbacks. */
export interface Subscription {
  readonly topic: string;
  readonly type: string;
  readonly qos: QosProfile;
  matchedPublishers(): number;
  close(): void;
}

/** Called once per received message, with the decoded message. */
export type MessageHandler<T> = (message: T, info: MessageInfo) => void;

/** One topic of the graph, with its types and endpoint counts. */
export interface TopicInfo {
  topic: string;
  types: string[];
  publishers: number;
  subscribers: number;
}

/** What a service server knows about one request. */
export interface ServiceRequestInfo {
  /** Local monotonic receive time, process.hrtime.bigint() nanoseconds. */
  receivedAt: bigint;
  /** The client, where the transport knows it (hex id). */
  client?: string;
  /** The client's sequence number of this request. */
  sequence: bigint;
}

/** Answers one request; may be async. A handler that throws sends no reply (the client times out), as rcl does. */
export type ServiceHandler<Req, Res> = (request: Req, info: ServiceRequestInfo) => Res | Promise<Res>;

/** A service this node offers; from `Transport.createService`. */
export interface ServiceServer {
  /** Fully-qualified service name, e.g. "/policy_node/reload". */
  readonly name: string;
  /** ROS service type, e.g. "std_srvs/srv/Trigger". */
  readonly type: string;
  close(): void;
}

/** Options of one `ServiceClient.call`. */
export interface CallOptions {
  /** Give up after this long (waiting for a server included), ms; default: wait forever, as rclcpp does. */
  timeoutMs?: number;
}

/** Calls one service; from `Transport.createClient`. */
export interface ServiceClient<Req = unknown, Res = unknown> {
  readonly name: string;
  readonly type: string;
  /**
   * Sends one request and resolves with its response. Waits for a server first (within the timeout). Rejects with
   * a ServiceCallError: 'timeout', 'server_lost' (the server went away before answering), 'closed' or 'request'
   * (the request does not fit the type). Calls may overlap; each gets its own response.
   */
  call(request: Req, options?: CallOptions): Promise<Res>;
  /** True when a server is matched both ways (requests reach it and its replies reach us). */
  isAvailable(): boolean;
  /** Resolves true once a server is available, false after `timeoutMs`. */
  waitForService(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** One service of the graph, with its types and server/client counts. */
export interface ServiceInfo {
  service: string;
  types: string[];
  /** Servers and clients known (−1 where the transport cannot count them: rclnodejs). */
  servers: number;
  clients: number;
}

/**
 * One ROS 2 node's view of the graph: publishers, subscriptions, services and clients with ROS name resolution and
 * QoS, whatever carries them (embedded RTPS, rclnodejs, in-process).
 */
export interface Transport {
  readonly kind: 'rtps' | 'rclnodejs' | 'inproc';
  readonly node: NodeIdentity;
  /** Topic names may be absolute, relative (resolved against the namespace) or private ("~/x"). */
  advertise<T = unknown>(topic: string, type: string, qos?: QosProfile | QosProfileName): Publisher<T>;
  /** Subscribes to a topic; `onMessage` gets each decoded message. Names resolve like `advertise`'s. */
  subscribe<T = unknown>(
    topic: string,
    type: string,
    qos: QosProfile | QosProfileName | undefined,
    onMessage: MessageHandler<T>,
  ): Subscription;
  /** Topics currently known in the graph (own and discovered). */
  topics(): TopicInfo[];
  /** Offers a service (request/reply topics "rq/<name>Request", "rr/<name>Reply" on DDS). Names resolve like topics. */
  createService<Req = unknown, Res = unknown>(
    name: string,
    type: string,
    handler: ServiceHandler<Req, Res>,
    qos?: QosProfile | QosProfileName,
  ): ServiceServer;
  /** A client of the service `name` (resolved like topics) of ROS type `type`, e.g. "std_srvs/srv/Trigger". */
  createClient<Req = unknown, Res = unknown>(name: string, type: string, qos?: QosProfile | QosProfileName): ServiceClient<Req, Res>;
  /** Services currently known in the graph (own and discovered). */
  services(): ServiceInfo[];
  /**
   * Runs `publish`, which publishes several messages at once (a simulator's state on several topics): where the
   * transport can, what goes to the same subscribers leaves together (rtps: one datagram). Optional.
   */
  coalesce?(publish: () => void): void;
  /** Closes every endpoint and leaves the graph; the transport cannot be used afterwards. */
  close(): Promise<void>;
}
