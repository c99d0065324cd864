// The rclnodejs transport, for machines with a sourced ROS 2: rcl does discovery and QoS, onestep publishes and
// receives raw CDR buffers so the codec (src/ros/msgs) is the same on every transport. rclnodejs is an optional
// dependency without usable types here, so it is reached through the small structural types below.

import { OpenEndpoints, resolveEndpoint, resolveService, sortTopics } from './endpoints.ts';
import type { Remapping } from './names.ts';
import { ClientCore, runHandler } from './services/client-core.ts';
import { ServiceCallError } from './services/errors.ts';
import type {
  MessageHandler, NodeIdentity, Publisher, QosProfile, QosProfileName, ServiceClient, ServiceHandler, ServiceInfo, ServiceServer,
  Subscription, TopicInfo, Transport,
} from './transport.ts';

interface RclPublisher {
  publish(message: Buffer): void;
}
interface RclServiceResponse {
  send(response: unknown): void;
}
interface RclClient {
  sendRequest(request: unknown, callback: (response: unknown) => void): void;
  isServiceServerAvailable(): boolean;
}
interface RclNode {
  createService(type: string, name: string, options: object, cb: (request: unknown, response: RclServiceResponse) => void): unknown;
  createClient(type: string, name: string, options: object): RclClient;
  destroyService(s: unknown): void;
  destroyClient(c: RclClient): void;
  getServiceNamesAndTypes(): { name: string; types: string[] }[];
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
  Node: new (name: string, namespace?: string, context?: unknown, options?: object) => RclNode;
  NodeOptions?: new () => { startParameterServices: boolean };
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
    // onestep's nodes serve their own parameter services (src/ros/node/parameter-server.ts): rcl's must stay off
    let options: object | undefined;
    if (rcl.NodeOptions) {
      const o = new rcl.NodeOptions();
      o.startParameterServices = false;
      options = o;
    }
    const rclNode = options ? new rcl.Node(opts.node.name, opts.node.namespace, undefined, options) : new rcl.Node(opts.node.name, opts.node.namespace);
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

  createService<Req = unknown, Res = unknown>(
    name: string,
    type: string,
    handler: ServiceHandler<Req, Res>,
    qos?: QosProfile | QosProfileName,
  ): ServiceServer {
    this.endpoints.checkOpen();
    const s = resolveService<Req, Res>(this.node, this.remappings, name, type, qos);
    let sequence = 0n;
    const service = this.rclNode.createService(s.type, s.name, { qos: this.qos(s.qos) }, (request, response) => {
      const info = { receivedAt: process.hrtime.bigint(), sequence: ++sequence };
      void runHandler(handler, request as Req, info, (err) =>
        process.stderr.write(`onestep: service ${s.name}: the handler failed, no reply sent: ${(err as Error).message}\n`),
      ).then((out) => {
        if (out) response.send(out.response);
      });
    });
    const handle: ServiceServer = {
      name: s.name,
      type: s.type,
      close: () => {
        if (this.endpoints.untrack(handle)) this.rclNode.destroyService(service);
      },
    };
    this.endpoints.track(handle);
    return handle;
  }

  createClient<Req = unknown, Res = unknown>(name: string, type: string, qos?: QosProfile | QosProfileName): ServiceClient<Req, Res> {
    this.endpoints.checkOpen();
    const s = resolveService<Req, Res>(this.node, this.remappings, name, type, qos);
    const client = this.rclNode.createClient(s.type, s.name, { qos: this.qos(s.qos) });
    let sequence = 0;
    const core: ClientCore<Req, Res> = new ClientCore<Req, Res>(
      s.name,
      s.type,
      {
        available: () => client.isServiceServerAvailable(),
        send: (request) => {
          try {
            s.codec.request.encodedSize(request); // a request that does not fit the type fails here, by field
          } catch (err) {
            throw new ServiceCallError('request', s.name, (err as Error).message);
          }
          const key = String(++sequence);
          client.sendRequest(request, (response) => core.resolve(key, response as Res));
          return key;
        },
        release: () => this.rclNode.destroyClient(client),
      },
      () => this.endpoints.untrack(core),
    );
    this.endpoints.track(core);
    return core;
  }

  services(): ServiceInfo[] {
    return this.rclNode
      .getServiceNamesAndTypes()
      .map((t) => ({ service: t.name, types: t.types, servers: -1, clients: -1 }))
      .sort((a, b) => a.service.localeCompare(b.service));
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
