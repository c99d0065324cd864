// In-process transport: every InprocTransport on the same domain in this process shares one bus. Messages go
// through the real CDR codec (so a subscriber sees exactly what the network would deliver) and are delivered
// asynchronously, with the DDS QoS rules that mean something in one process: request/offered matching
// (best-effort writer ↛ reliable reader, volatile writer ↛ transient-local reader), KEEP_LAST depth on the
// reader's queue, and transient-local replay of a writer's last `depth` samples to late-joining readers.
// Services: services/inproc-services.ts.

import { OpenEndpoints, checkNodeIdentity, resolveEndpoint, resolveService, sortTopics } from './endpoints.ts';
import { InprocServices } from './services/inproc-services.ts';
import type { MessageCodec } from './msgs/index.ts';
import type { Remapping } from './names.ts';
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
} from './transport.ts';

/** keep_all readers still need a bound, as DDS resource limits give one. */
const KEEP_ALL_LIMIT = 10_000;

/** Options of an {@link InprocTransport}. */
export interface InprocOptions {
  node: NodeIdentity;
  domainId?: number;
  remappings?: readonly Remapping[];
  /** Called when a subscription callback throws; the bus keeps delivering. Default: one line on stderr. */
  onError?: (err: unknown, topic: string) => void;
}

interface Sample {
  cdr: Uint8Array;
  publisher: string;
}

interface WriterEntry {
  id: string;
  type: string;
  qos: QosProfile;
  /** Last `depth` samples, kept only for transient-local writers. */
  history: Sample[];
}

interface ReaderEntry {
  type: string;
  qos: QosProfile;
  codec: MessageCodec<unknown>;
  queue: Sample[];
  scheduled: boolean;
  deliver: (s: Sample) => void;
  closed: boolean;
}

interface TopicEntry {
  writers: Set<WriterEntry>;
  readers: Set<ReaderEntry>;
}

/** Does a writer offering `w` match a reader requesting `r` (DDS request/offered rules)? */
export function qosCompatible(w: QosProfile, r: QosProfile): boolean {
  if (w.reliability === 'best_effort' && r.reliability === 'reliable') return false;
  if (w.durability === 'volatile' && r.durability === 'transient_local') return false;
  return true;
}

class Bus {
  readonly topics = new Map<string, TopicEntry>();
  nextId = 1;

  entry(topic: string): TopicEntry {
    let e = this.topics.get(topic);
    if (!e) {
      e = { writers: new Set(), readers: new Set() };
      this.topics.set(topic, e);
    }
    return e;
  }

  release(topic: string): void {
    const e = this.topics.get(topic);
    if (e && e.writers.size === 0 && e.readers.size === 0) this.topics.delete(topic);
  }
}

const buses = new Map<number, Bus>();

function matches(w: WriterEntry, r: ReaderEntry): boolean {
  return w.type === r.type && qosCompatible(w.qos, r.qos);
}

function enqueue(r: ReaderEntry, s: Sample): void {
  if (r.closed) return;
  r.queue.push(s);
  const limit = r.qos.history === 'keep_all' ? KEEP_ALL_LIMIT : Math.max(1, r.qos.depth);
  if (r.queue.length > limit) r.queue.shift(); // KEEP_LAST: the oldest undelivered sample is replaced
  if (!r.scheduled) {
    r.scheduled = true;
    setImmediate(() => {
      r.scheduled = false;
      const batch = r.queue.splice(0);
      for (const sample of batch) {
        if (r.closed) return;
        r.deliver(sample);
      }
    });
  }
}

/**
 * A transport whose graph is this process: every InprocTransport of one domain sees the others, with ROS name
 * resolution, QoS matching and CDR round trips, and no network. For tests, simulations and examples.
 */
export class InprocTransport implements Transport {
  readonly kind = 'inproc' as const;
  readonly node: NodeIdentity;
  private readonly bus: Bus;
  private readonly remappings: readonly Remapping[];
  private readonly onError: (err: unknown, topic: string) => void;
  private readonly endpoints = new OpenEndpoints('inproc');
  private readonly serviceBus: InprocServices;

  constructor(opts: InprocOptions) {
    this.node = checkNodeIdentity(opts.node);
    const domain = opts.domainId ?? 0;
    let bus = buses.get(domain);
    if (!bus) buses.set(domain, (bus = new Bus()));
    this.bus = bus;
    this.remappings = opts.remappings ?? [];
    this.onError =
      opts.onError ?? ((err, topic) => process.stderr.write(`onestep: subscription callback on ${topic} threw: ${(err as Error)?.message ?? err}\n`));
    this.serviceBus = new InprocServices(domain, this.endpoints, (err, where) => this.onError(err, where));
  }

  advertise<T = unknown>(topic: string, type: string, qos?: QosProfile | QosProfileName): Publisher<T> {
    this.endpoints.checkOpen();
    const endpoint = resolveEndpoint<T>(this.node, this.remappings, topic, type, qos);
    const { topic: name, codec, qos: profile } = endpoint;
    const bus = this.bus;
    const entry = bus.entry(name);
    const writer: WriterEntry = { id: `inproc:${bus.nextId++}`, type: endpoint.type, qos: profile, history: [] };
    entry.writers.add(writer);
    const deliver = (cdr: Uint8Array) => {
      const sample = { cdr, publisher: writer.id };
      if (profile.durability === 'transient_local') {
        writer.history.push(sample);
        const keep = profile.history === 'keep_all' ? KEEP_ALL_LIMIT : Math.max(1, profile.depth);
        if (writer.history.length > keep) writer.history.shift();
      }
      for (const r of entry.readers) if (matches(writer, r)) enqueue(r, sample);
    };
    return this.endpoints.publisher(endpoint, {
      publish: (message: T) => deliver(codec.encode(message)),
      publishRaw: (cdr: Uint8Array) => deliver(Uint8Array.from(cdr)), // the caller may reuse its buffer
      matchedSubscriptions: () => [...entry.readers].filter((r) => matches(writer, r)).length,
      release: () => {
        entry.writers.delete(writer);
        bus.release(name);
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
    const { topic: name, codec, qos: profile } = endpoint;
    const bus = this.bus;
    const entry = bus.entry(name);
    const reader: ReaderEntry = {
      type: endpoint.type,
      qos: profile,
      codec: codec as MessageCodec<unknown>,
      queue: [],
      scheduled: false,
      closed: false,
      deliver: (s) => {
        const info: MessageInfo = { receivedAt: process.hrtime.bigint(), cdr: s.cdr, publisher: s.publisher };
        try {
          onMessage(codec.decode(s.cdr), info);
        } catch (err) {
          this.onError(err, name);
        }
      },
    };
    entry.readers.add(reader);
    // transient-local replay: late joiners get what matching writers kept
    for (const w of entry.writers) {
      if (profile.durability === 'transient_local' && matches(w, reader)) for (const s of w.history) enqueue(reader, s);
    }
    return this.endpoints.subscription(endpoint, {
      matchedPublishers: () => [...entry.writers].filter((w) => matches(w, reader)).length,
      release: () => {
        reader.closed = true;
        entry.readers.delete(reader);
        bus.release(name);
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
    return this.serviceBus.createService(resolveService<Req, Res>(this.node, this.remappings, name, type, qos), handler);
  }

  createClient<Req = unknown, Res = unknown>(name: string, type: string, qos?: QosProfile | QosProfileName): ServiceClient<Req, Res> {
    this.endpoints.checkOpen();
    return this.serviceBus.createClient(resolveService<Req, Res>(this.node, this.remappings, name, type, qos));
  }

  services(): ServiceInfo[] {
    return this.serviceBus.services();
  }

  topics(): TopicInfo[] {
    const out: TopicInfo[] = [];
    for (const [topic, e] of this.bus.topics) {
      const types = new Set<string>();
      for (const w of e.writers) types.add(w.type);
      for (const r of e.readers) types.add(r.type);
      out.push({ topic, types: [...types].sort(), publishers: e.writers.size, subscribers: e.readers.size });
    }
    return sortTopics(out);
  }

  async close(): Promise<void> {
    this.endpoints.closeAll();
  }
}
