// node:dgram behind the UdpPlatform interface. Sends copy into a pool of preallocated datagram buffers, so
// the caller can reuse its one send buffer while the kernel may still queue ours.
//
// Unicast sends go through one *connected* socket per destination: on Linux a libc socket driven through koffi
// (native-udp.ts: the datagram leaves from the caller's buffer at C cost, no copy), else a connected node:dgram
// socket. dgram.send() to an address resolves it first, and even an IP literal goes through dns.lookup(), which
// defers the actual sendmsg to process.nextTick — after whatever the publishing code does next — and allocates on
// every send; a connected socket skips the lookup, so the datagram leaves inside publish(), and the kernel skips
// the per-datagram route lookup. RTPS peers answer to the locators announced in discovery, never to a datagram's
// source port, so sending from another port is fine. Multicast goes through the bound socket.
import dgram from 'node:dgram';
import os from 'node:os';
import type { BindOptions, LocalInterface, UdpPlatform, UdpSocket } from './udp.ts';
import { NativeUdpSender } from './native-udp.ts';

const SLOT_SIZE = 65536;
const MAX_POOLED_SLOTS = 256;

/** A send buffer with its completion callback, created once so a send allocates nothing. */
interface Slot {
  buffer: Buffer;
  done: (err: Error | null) => void;
}

class SendPool {
  private readonly free: Slot[] = [];

  constructor(private readonly onError: () => void) {}

  take(): Slot {
    const s = this.free.pop();
    if (s) return s;
    const slot: Slot = {
      buffer: Buffer.allocUnsafe(SLOT_SIZE),
      done: (err) => {
        if (this.free.length < MAX_POOLED_SLOTS) this.free.push(slot);
        if (err) this.onError();
      },
    };
    return slot;
  }
}

/** A socket connected to one unicast destination: native, or node:dgram (`ready` once connect() completed). */
interface Route {
  native: NativeUdpSender | null;
  socket: dgram.Socket | null;
  ready: boolean;
}

const MAX_ROUTES = 64;

class NodeUdpSocket implements UdpSocket {
  /** address → port → connected send socket (unicast destinations only); two levels, so a lookup allocates nothing. */
  private readonly routes = new Map<string, Map<number, Route>>();
  private routeCount = 0;
  private closed = false;

  constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
    private readonly platform: NodeUdpPlatform,
  ) {}

  send(bytes: Uint8Array, length: number, port: number, address: string): void {
    const platform = this.platform;
    if (length > SLOT_SIZE) {
      platform.countError();
      return;
    }
    const route = this.route(address, port);
    // the native send returns once the kernel has the bytes: nothing to copy, nothing to complete
    if (route !== null && route.native !== null && route.native.send(bytes, length)) return;
    const slot = platform.pool.take();
    slot.buffer.set(length === bytes.length ? bytes : bytes.subarray(0, length));
    try {
      if (route !== null && route.socket !== null && route.ready) route.socket.send(slot.buffer, 0, length, slot.done);
      else this.socket.send(slot.buffer, 0, length, port, address, slot.done);
    } catch {
      slot.done(null);
      platform.countError();
    }
  }

  /** The connected socket for a unicast destination (connecting it on first use); null for multicast. */
  private route(address: string, port: number): Route | null {
    let byPort = this.routes.get(address);
    const known = byPort?.get(port);
    if (known !== undefined) return known;
    const first = Number(address.slice(0, address.indexOf('.')));
    if (this.closed || (first >= 224 && first <= 239) || this.routeCount >= MAX_ROUTES) return null;
    if (byPort === undefined) this.routes.set(address, (byPort = new Map()));
    const ports = byPort;
    this.routeCount++;
    const native = NativeUdpSender.open(address, port);
    if (native !== null) {
      const route: Route = { native, socket: null, ready: true };
      ports.set(port, route);
      return route;
    }
    const socket = dgram.createSocket({ type: 'udp4' });
    const route: Route = { native: null, socket, ready: false };
    ports.set(port, route);
    // a failed connect or a later error (ICMP port unreachable while the peer restarts) drops the route: the next
    // send goes through the shared socket and connects afresh
    const drop = () => {
      if (ports.get(port) === route) {
        ports.delete(port);
        this.routeCount--;
      }
      try {
        socket.close();
      } catch {
        // already closed
      }
    };
    socket.on('error', () => {
      this.platform.countError();
      drop();
    });
    socket.connect(port, address, () => {
      if (this.closed) drop();
      else route.ready = true;
    });
    socket.unref();
    return route;
  }

  joinMulticast(group: string, interfaceAddress?: string): void {
    this.socket.addMembership(group, interfaceAddress);
  }

  setMulticastInterface(interfaceAddress: string): void {
    this.socket.setMulticastInterface(interfaceAddress);
  }

  close(): void {
    this.closed = true;
    for (const r of [...this.routes.values()].flatMap((m) => [...m.values()])) {
      r.native?.close();
      try {
        r.socket?.close();
      } catch {
        // already closed
      }
    }
    this.routes.clear();
    this.routeCount = 0;
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

export class NodeUdpPlatform implements UdpPlatform {
  readonly pool = new SendPool(() => this.countError());
  sendErrors = 0;

  countError(): void {
    this.sendErrors++;
  }

  bind(options: BindOptions): Promise<UdpSocket> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: 'udp4', reuseAddr: options.reuseAddr });
      const onError = (err: Error) => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.on('message', (msg, rinfo) => options.onDatagram(msg, rinfo));
      socket.bind({ port: options.port, address: options.address, exclusive: !options.reuseAddr }, () => {
        socket.off('error', onError);
        // a send error must not crash the process; it is counted instead
        socket.on('error', () => this.countError());
        if (options.receiveBufferSize) {
          try {
            socket.setRecvBufferSize(options.receiveBufferSize);
          } catch {
            // capped by net.core.rmem_max; the default still works
          }
        }
        resolve(new NodeUdpSocket(socket, socket.address().port, this));
      });
    });
  }

  interfaces(): LocalInterface[] {
    const out: LocalInterface[] = [];
    for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
      for (const a of addrs ?? []) {
        if (a.family === 'IPv4') out.push({ name, address: a.address, internal: a.internal });
      }
    }
    return out;
  }
}
