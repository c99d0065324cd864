// The contract every ROS 2 transport (rtps, rclnodejs, inproc) implements. Nothing in here imports a ROS library.

export type Reliability = 'reliable' | 'best_effort';
export type Durability = 'volatile' | 'transient_local';
export type History = 'keep_last' | 'keep_all';

export interface QosProfile {
  reliability: Reliability;
  durability: Durability;
  history: History;
  /** History depth for keep_last. */
  depth: number;
}

export type QosProfileName = 'default' | 'sensor_data' | 'system_default';

/** rmw/qos_profiles.h; system_default follows rmw_cyclonedds (reliable, volatile). */
export const QOS_PROFILES: Readonly<Record<QosProfileName, Readonly<QosProfile>>> = {
  default: { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 },
  sensor_data: { reliability: 'best_effort', durability: 'volatile', history: 'keep_last', depth: 5 },
  system_default: { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 },
};

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

export interface MessageInfo {
  /** Local monotonic receive time, process.hrtime.bigint() nanoseconds. */
  receivedAt: bigint;
  /** The serialized message as received: 4-byte encapsulation header + CDR body. */
  cdr: Uint8Array;
  /** Publisher identity where the transport knows it (GUID as hex). */
  publisher?: string;
}

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

export interface Subscription {
  readonly topic: string;
  readonly type: string;
  readonly qos: QosProfile;
  matchedPublishers(): number;
  close(): void;
}

export type MessageHandler<T> = (message: T, info: MessageInfo) => void;

export interface TopicInfo {
  topic: string;
  types: string[];
  publishers: number;
  subscribers: number;
}

export interface Transport {
  readonly kind: 'rtps' | 'rclnodejs' | 'inproc';
  readonly node: NodeIdentity;
  /** Topic names may be absolute, relative (resolved against the namespace) or private ("~/x"). */
  advertise<T = unknown>(topic: string, type: string, qos?: QosProfile | QosProfileName): Publisher<T>;
  subscribe<T = unknown>(
    topic: string,
    type: string,
    qos: QosProfile | QosProfileName | undefined,
    onMessage: MessageHandler<T>,
  ): Subscription;
  /** Topics currently known in the graph (own and discovered). */
  topics(): TopicInfo[];
  close(): Promise<void>;
}
