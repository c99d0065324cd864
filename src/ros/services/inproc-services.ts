// Services between InprocTransports of one process and domain: requests and replies go through the real CDR codecs
// and are delivered asynchronously, like the network does; a request reaches every server of the name and type
// (DDS semantics: the first reply wins); a server that closes with requests in hand fails them with 'server_lost'.
import { type ResolvedService, type OpenEndpoints } from '../endpoints.ts';
import type { ServiceHandler, ServiceInfo, ServiceServer } from '../transport.ts';
import { ClientCore, runHandler } from './client-core.ts';
import { ServiceCallError } from './errors.ts';

interface ServerEntry {
  type: string;
  /** Calls handed to this server and not answered yet: client → keys. */
  readonly inflight: Map<ClientEntry, Set<string>>;
  deliver(bytes: Uint8Array, client: ClientEntry, key: string, sequence: bigint): void;
  closed: boolean;
}

interface ClientEntry {
  type: string;
  id: string;
  core: ClientCore<unknown, unknown>;
  /** For each pending call: the servers it went to. */
  readonly sentTo: Map<string, Set<ServerEntry>>;
  receive(bytes: Uint8Array, key: string): void;
}

interface NameEntry {
  servers: Set<ServerEntry>;
  clients: Set<ClientEntry>;
}

const buses = new Map<number, Map<string, NameEntry>>();
let nextClientId = 1;

export class InprocServices {
  private readonly bus: Map<string, NameEntry>;

  constructor(
    domainId: number,
    private readonly endpoints: OpenEndpoints,
    private readonly onError: (err: unknown, where: string) => void,
  ) {
    let bus = buses.get(domainId);
    if (!bus) buses.set(domainId, (bus = new Map()));
    this.bus = bus;
  }

  private entry(name: string): NameEntry {
    let e = this.bus.get(name);
    if (!e) this.bus.set(name, (e = { servers: new Set(), clients: new Set() }));
    return e;
  }

  private release(name: string): void {
    const e = this.bus.get(name);
    if (e && e.servers.size === 0 && e.clients.size === 0) this.bus.delete(name);
  }

  private notifyClients(e: NameEntry): void {
    for (const c of e.clients) c.core.availabilityChanged();
  }

  createService<Req, Res>(s: ResolvedService<Req, Res>, handler: ServiceHandler<Req, Res>): ServiceServer {
    const e = this.entry(s.name);
    const { codec } = s;
    const server: ServerEntry = {
      type: s.type,
      inflight: new Map(),
      closed: false,
      deliver: (bytes, client, key, sequence) => {
        let keys = server.inflight.get(client);
        if (!keys) server.inflight.set(client, (keys = new Set()));
        keys.add(key);
        setImmediate(async () => {
          if (server.closed) return;
          let request: Req;
          try {
            request = codec.request.decode(bytes);
          } catch (err) {
            this.onError(err, `service ${s.name}: a request that does not decode`);
            return;
          }
          const out = await runHandler(handler, request, { receivedAt: process.hrtime.bigint(), client: client.id, sequence }, (err) =>
            this.onError(err, `service ${s.name}: the handler failed, no reply sent`),
          );
          if (server.closed || !out) return;
          let reply: Uint8Array;
          try {
            reply = codec.response.encode(out.response);
          } catch (err) {
            this.onError(err, `service ${s.name}: the handler's response does not fit ${s.type}, no reply sent`);
            return;
          }
          server.inflight.get(client)?.delete(key);
          setImmediate(() => client.receive(reply, key));
        });
      },
    };
    e.servers.add(server);
    this.notifyClients(e);
    const handle: ServiceServer = {
      name: s.name,
      type: s.type,
      close: () => {
        if (!this.endpoints.untrack(handle)) return;
        server.closed = true;
        e.servers.delete(server);
        // calls this server held fail now unless another server has them too
        for (const [client, keys] of server.inflight) {
          for (const key of keys) {
            const to = client.sentTo.get(key);
            to?.delete(server);
            if (to && to.size === 0) {
              client.sentTo.delete(key);
              client.core.fail(key, new ServiceCallError('server_lost', s.name, 'the server went away before it replied'));
            }
          }
        }
        server.inflight.clear();
        this.notifyClients(e);
        this.release(s.name);
      },
    };
    this.endpoints.track(handle);
    return handle;
  }

  createClient<Req, Res>(s: ResolvedService<Req, Res>): ClientCore<Req, Res> {
    const e = this.entry(s.name);
    const servers = () => [...e.servers].filter((x) => x.type === s.type && !x.closed);
    let sequence = 0n;
    const client: ClientEntry = {
      type: s.type,
      id: `inproc-client:${nextClientId++}`,
      core: undefined as unknown as ClientCore<unknown, unknown>,
      sentTo: new Map(),
      receive: (bytes, key) => {
        if (!client.sentTo.delete(key)) return; // answered already (several servers) or given up
        let response: Res;
        try {
          response = s.codec.response.decode(bytes);
        } catch (err) {
          client.core.fail(key, new ServiceCallError('server_lost', s.name, `the reply does not decode: ${(err as Error).message}`));
          return;
        }
        client.core.resolve(key, response);
      },
    };
    const core = new ClientCore<Req, Res>(s.name, s.type, {
      available: () => servers().length > 0,
      send: (request) => {
        let bytes: Uint8Array;
        try {
          bytes = s.codec.request.encode(request);
        } catch (err) {
          throw new ServiceCallError('request', s.name, (err as Error).message);
        }
        const seq = ++sequence;
        const key = String(seq);
        const to = new Set(servers());
        client.sentTo.set(key, to);
        for (const server of to) server.deliver(bytes, client, key, seq);
        return key;
      },
      release: () => {
        e.clients.delete(client);
        this.release(s.name);
      },
    }, () => this.endpoints.untrack(core));
    client.core = core as ClientCore<unknown, unknown>;
    e.clients.add(client);
    this.endpoints.track(core);
    return core;
  }

  services(): ServiceInfo[] {
    const out: ServiceInfo[] = [];
    for (const [service, e] of this.bus) {
      const types = new Set<string>();
      for (const s of e.servers) types.add(s.type);
      for (const c of e.clients) types.add(c.type);
      out.push({ service, types: [...types].sort(), servers: e.servers.size, clients: e.clients.size });
    }
    return out.sort((a, b) => a.service.localeCompare(b.service));
  }
}
