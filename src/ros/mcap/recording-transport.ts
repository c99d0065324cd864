// A Transport that records what passes through it: every message a subscription receives (logged at its receive
// stamp) and every message a publisher sends (logged when sent), into an McapRecorder, then passes it on unchanged.
// Wrapping the transport records a node (serve, sim-bridge, profile) without touching its code, and what is recorded
// is exactly what went over the wire. `tap()` adds subscriptions that only record (e.g. /clock).
import type {
  MessageHandler, MessageInfo, Publisher, QosProfile, QosProfileName, ServiceClient, ServiceHandler,
  ServiceServer, Subscription, Transport,
} from '../transport.ts';
import { getMessageCodec } from '../msgs/registry.ts';
import { type McapRecorder, wallTimeNs } from './recorder.ts';

export class RecordingTransport implements Transport {
  readonly kind: Transport['kind'];
  readonly node: Transport['node'];

  constructor(
    private readonly inner: Transport,
    readonly recorder: McapRecorder,
  ) {
    this.kind = inner.kind;
    this.node = inner.node;
  }

  advertise<T = unknown>(topic: string, type: string, qos?: QosProfile | QosProfileName): Publisher<T> {
    const pub = this.inner.advertise<T>(topic, type, qos);
    const channel = this.recorder.addTopic(pub.topic, pub.type, pub.qos);
    const recorder = this.recorder;
    const codec = getMessageCodec<T>(pub.type);
    return {
      topic: pub.topic,
      type: pub.type,
      qos: pub.qos,
      publish(message: T): void {
        pub.publish(message);
        recorder.write(channel, codec.encode(message), wallTimeNs());
      },
      publishRaw(cdr: Uint8Array): void {
        pub.publishRaw(cdr);
        recorder.write(channel, cdr, wallTimeNs());
      },
      matchedSubscriptions: () => pub.matchedSubscriptions(),
      close: () => pub.close(),
    };
  }

  subscribe<T = unknown>(topic: string, type: string, qos: QosProfile | QosProfileName | undefined, onMessage: MessageHandler<T>): Subscription {
    const recorder = this.recorder;
    let channel = -1;
    const sub = this.inner.subscribe<T>(topic, type, qos, (message: T, info: MessageInfo) => {
      // recorded after the handler: the copy is not on the path from receipt to the node's reaction
      try {
        onMessage(message, info);
      } finally {
        if (channel >= 0) recorder.write(channel, info.cdr, wallTimeNs(info.receivedAt));
      }
    });
    channel = this.recorder.addTopic(sub.topic, sub.type, sub.qos);
    return sub;
  }

  /** Subscribes only to record the topic. */
  tap(topic: string, type: string, qos?: QosProfile | QosProfileName): Subscription {
    return this.subscribe(topic, type, qos, () => {});
  }

  topics(): ReturnType<Transport['topics']> {
    return this.inner.topics();
  }

  createService<Req = unknown, Res = unknown>(name: string, type: string, handler: ServiceHandler<Req, Res>, qos?: QosProfile | QosProfileName): ServiceServer {
    return this.inner.createService(name, type, handler, qos);
  }

  createClient<Req = unknown, Res = unknown>(name: string, type: string, qos?: QosProfile | QosProfileName): ServiceClient<Req, Res> {
    return this.inner.createClient<Req, Res>(name, type, qos);
  }

  services(): ReturnType<Transport['services']> {
    return this.inner.services();
  }

  /** Closes the transport; the recording stays open (close it after, so the last messages are in). */
  close(): Promise<void> {
    return this.inner.close();
  }
}
