// The rclnodejs transport, for machines with a sourced ROS 2: rcl does discovery and QoS, onestep publishes and
// receives raw CDR buffers so the codec (src/ros/msgs) is the same on every transport. rclnodejs is an optional
// dependency without usable types here, so it is reached through the small structural types below.

import { OpenEndpoints, resolveEndpoint, sortTopics } from './endpoints.ts';
import type { Remapping } from './names.ts';
import type { MessageHandler, NodeIdentity, Publisher, QosProfile, QosProfileName, Subscription, TopicInfo, Transport } from './transport.ts';

interface RclPublisher {
  publish(message: Buffer): void;
}
interface RclNode {
  createPublisher(type: string, topic: string, options: object): RclPublisher;
  createSubscription(type: string, topic: string, options: object, cb: (raw: Buffer) => void): unknown;
  destroyPublisher(p: RclPublisher): void;
  destroySubscription(s: unknown): void;
  getTopicNamesAndTypes(): { name: string; types: string[] }[];
  countPublishers(topic: string): number;
  countSubscribers(topic: string): number;
  spin(timeoutMs?: number): void;
  destroy(): void;
}
interface RclQosCtor {
  new (history: number, depth: number, reliability: number, durability: number): object;
}
interface Rclnodejs {
  init(): Promise<void>;
  Node: new (name: string, namespace?: string) => RclNode;
  QoS: RclQosCtor;
  shutdown(): void;
  isShutdown?(): boolean;
}

// rmw enum values (rmw/types.h), as rclnodejs exposes them
const HISTORY = { keep_last: 1, keep_all: 2 } as const;
const RELIABILITY = { reliable: 1, best_effort: 2 } as const;
const DURABILITY = { transient_local: 1, volatile: 2 } as const;

let initialized: Promise<Rclnodejs> | undefined;

async function loadRclnodejs(): Promise<Rclnodejs> {
  // a variable specifier: no static dependency, and the import happens only when this transport is chosen
  const specifier = 'rclnodejs';
  initialized ??= import(specifier).then(async (mod: { default?: Rclnodejs } & Rclnodejs) => {
    const rcl = mod.default ?? mod;
    await rcl.init();
    return rcl;
  });
  return initialized;
}

export class RclnodejsTransport implements Transport {
  readonly kind = 'rclnodejs' as const;
  private readonly endpoints = new OpenEndpoints('rclnodejs');

  private constructor(
    private readonly rcl: Rclnodejs,
    private readonly rclNode: RclNode,
    readonly node: NodeIdentity,
    private readonly remappings: readonly Remapping[],
  ) {}

  static async create(opts: { node: NodeIdentity; domainId: number; remappings?: readonly Remapping[] }): Promise<RclnodejsTransport> {
    // rcl reads the domain from the environment at init
    process.env.ROS_DOMAIN_ID = String(opts.domainId);
    const rcl = await loadRclnodejs();
    const rclNode = new rcl.Node(opts.node.name, opts.node.namespace);
    rclNode.spin();
    return new RclnodejsTransport(rcl, rclNode, opts.node, opts.remappings ?? []);
  }

  private qos(profile: QosProfile): object {
    return new this.rcl.QoS(HISTORY[profile.history], profile.depth, RELIABILITY[profile.reliability], DURABILITY[profile.durability]);
  }

  advertise<T = unknown>(topic: string, type: string, qos?: QosProfile | QosProfileName): Publisher<T> {
    this.endpoints.checkOpen();
    const endpoint = resolveEndpoint<T>(this.node, this.remappings, topic, type, qos);
    const { topic: name, codec } = endpoint;
    const pub = this.rclNode.createPublisher(endpoint.type, name, { qos: this.qos(endpoint.qos) });
    const toBuffer = (cdr: Uint8Array) => Buffer.from(cdr.buffer, cdr.byteOffset, cdr.byteLength);
    return this.endpoints.publisher(endpoint, {
      publish: (message) => pub.publish(toBuffer(codec.encode(message))),
      publishRaw: (cdr) => pub.publish(toBuffer(cdr)),
      matchedSubscriptions: () => this.rclNode.countSubscribers(name),
      release: () => this.rclNode.destroyPublisher(pub),
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
    const { topic: name, codec } = endpoint;
    const sub = this.rclNode.createSubscription(endpoint.type, name, { qos: this.qos(endpoint.qos), isRaw: true }, (raw) => {
      const cdr = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
      try {
        onMessage(codec.decode(cdr), { receivedAt: process.hrtime.bigint(), cdr });
      } catch (err) {
        process.stderr.write(`onestep: dropped a message on ${name}: ${(err as Error).message}\n`);
      }
    });
    return this.endpoints.subscription(endpoint, {
      matchedPublishers: () => this.rclNode.countPublishers(name),
      release: () => this.rclNode.destroySubscription(sub),
    });
  }

  topics(): TopicInfo[] {
    return sortTopics(
      this.rclNode.getTopicNamesAndTypes().map((t) => ({
        topic: t.name,
        types: t.types,
        publishers: this.rclNode.countPublishers(t.name),
        subscribers: this.rclNode.countSubscribers(t.name),
      })),
    );
  }

  async close(): Promise<void> {
    if (!this.endpoints.closeAll()) return;
    this.rclNode.destroy();
    if (!this.rcl.isShutdown?.()) this.rcl.shutdown();
    initialized = undefined;
  }
}
