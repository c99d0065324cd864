// What every Transport (inproc, rclnodejs, rtps) does the same way around its own I/O: check the node identity,
// resolve an advertise() or subscribe() request (topic name, type, codec, QoS), hand out publisher and subscription
// handles whose close() runs once and whose publish() refuses after it, and close what is still open at shutdown.

import { getMessageCodec, getServiceCodec, type MessageCodec, type ServiceCodec } from './msgs/index.ts';
import { type Remapping, normalizeNamespace, normalizeTypeName, resolveTopicName, validateNodeName } from './names.ts';
import { type NodeIdentity, type Publisher, type QosProfile, type QosProfileName, type Subscription, type TopicInfo, resolveQos } from './transport.ts';

/** A node identity with a valid ROS node name and an absolute, normalised namespace. */
export function checkNodeIdentity(node: NodeIdentity): NodeIdentity {
  return { name: validateNodeName(node.name), namespace: normalizeNamespace(node.namespace) };
}

/** An advertise() / subscribe() request resolved against the node: what every transport needs first. */
export interface ResolvedEndpoint<T> {
  /** Fully-qualified ROS topic name, after remapping. */
  topic: string;
  /** Full ROS type name, e.g. "std_msgs/msg/String". */
  type: string;
  codec: MessageCodec<T>;
  qos: QosProfile;
}

export function resolveEndpoint<T>(
  node: NodeIdentity,
  remappings: readonly Remapping[],
  topic: string,
  type: string,
  qos: QosProfile | QosProfileName | undefined,
): ResolvedEndpoint<T> {
  const name = resolveTopicName(topic, node, remappings); // a bad name is reported before a bad type
  const fullType = normalizeTypeName(type);
  return { topic: name, type: fullType, codec: getMessageCodec<T>(fullType), qos: resolveQos(qos) };
}

/** A createService() / createClient() request resolved against the node. */
export interface ResolvedService<Req, Res> {
  /** Fully-qualified service name, after remapping. */
  name: string;
  /** Full ROS service type, e.g. "std_srvs/srv/Trigger". */
  type: string;
  codec: ServiceCodec<Req, Res>;
  qos: QosProfile;
}

export function resolveService<Req, Res>(
  node: NodeIdentity,
  remappings: readonly Remapping[],
  name: string,
  type: string,
  qos: QosProfile | QosProfileName | undefined,
): ResolvedService<Req, Res> {
  const fqn = resolveTopicName(name, node, remappings); // service names follow the topic name rules and remappings
  const codec = getServiceCodec<Req, Res>(type);
  return { name: fqn, type: codec.type, codec, qos: resolveQos(qos ?? 'services_default') };
}

/** A transport's side of one publisher. */
export interface PublisherIo<T> {
  publish(message: T): void;
  publishRaw(cdr: Uint8Array): void;
  matchedSubscriptions(): number;
  /** Frees what the transport holds for this publisher; runs once, on the first close(). */
  release(): void;
}

/** A transport's side of one subscription. */
export interface SubscriptionIo {
  matchedPublishers(): number;
  /** Stops delivery and frees what the transport holds for this subscription; runs once, on the first close(). */
  release(): void;
}

/** The order topics() lists in, the same on every transport. */
export function sortTopics(topics: TopicInfo[]): TopicInfo[] {
  return topics.sort((a, b) => a.topic.localeCompare(b.topic));
}

/** The publishers and subscriptions one transport has open, so that closing the transport closes them all. */
export class OpenEndpoints {
  private readonly handles = new Set<{ close(): void }>();
  private isClosed = false;

  /** `transport` names it in errors ("the rtps transport is closed"); `UsageError` is the error type thrown. */
  constructor(
    private readonly transport: string,
    private readonly UsageError: new (message: string) => Error = Error,
  ) {}

  /** True once closeAll() ran: nothing new may be opened. */
  get closed(): boolean {
    return this.isClosed;
  }

  checkOpen(): void {
    if (this.isClosed) throw new this.UsageError(`the ${this.transport} transport is closed`);
  }

  // A handle is open while it is in `handles`: close() removes it (once) and frees the transport's side.
  publisher<T>(endpoint: ResolvedEndpoint<T>, io: PublisherIo<T>): Publisher<T> {
    const UsageError = this.UsageError;
    const handle: Publisher<T> = {
      topic: endpoint.topic,
      type: endpoint.type,
      qos: endpoint.qos,
      publish: (message: T) => {
        if (!this.handles.has(handle)) throw new UsageError(`publisher on ${endpoint.topic} is closed`);
        io.publish(message);
      },
      publishRaw: (cdr: Uint8Array) => {
        if (!this.handles.has(handle)) throw new UsageError(`publisher on ${endpoint.topic} is closed`);
        io.publishRaw(cdr);
      },
      matchedSubscriptions: () => io.matchedSubscriptions(),
      close: () => {
        if (this.handles.delete(handle)) io.release();
      },
    };
    this.handles.add(handle);
    return handle;
  }

  subscription<T>(endpoint: ResolvedEndpoint<T>, io: SubscriptionIo): Subscription {
    const handle: Subscription = {
      topic: endpoint.topic,
      type: endpoint.type,
      qos: endpoint.qos,
      matchedPublishers: () => io.matchedPublishers(),
      close: () => {
        if (this.handles.delete(handle)) io.release();
      },
    };
    this.handles.add(handle);
    return handle;
  }

  /** Tracks a service server or client, so that closeAll() closes it too. */
  track(handle: { close(): void }): void {
    this.handles.add(handle);
  }

  /** Forgets a handle whose close() runs; true the first time (the caller frees its side then). */
  untrack(handle: { close(): void }): boolean {
    return this.handles.delete(handle);
  }

  /** Closes every handle still open and refuses new ones; false when the transport was already closed. */
  closeAll(): boolean {
    if (this.isClosed) return false;
    for (const handle of [...this.handles]) handle.close();
    this.isClosed = true;
    return true;
  }
}
