// An in-memory UDP network for protocol unit tests: loopback semantics, multicast groups, optional loss,
// and delivery on a later macrotask like a real socket. Not used outside tests.
import type { BindOptions, DatagramHandler, LocalInterface, UdpPlatform, UdpSocket } from './udp.ts';

interface Bound {
  address: string;
  port: number;
  onDatagram: DatagramHandler;
  groups: Set<string>;
}

export class MemoryNetwork {
  private readonly sockets = new Set<Bound>();
  /** Return true to drop a datagram (loss injection). */
  dropFilter: ((bytes: Uint8Array, port: number, address: string) => boolean) | undefined;
  multicast = true;
  delivered = 0;
  dropped = 0;

  platform(): UdpPlatform {
    return new MemoryPlatform(this);
  }

  bind(options: BindOptions): Bound {
    if (!options.reuseAddr) {
      for (const s of this.sockets) {
        if (s.port === options.port) {
          throw Object.assign(new Error(`EADDRINUSE ${options.address}:${options.port}`), { code: 'EADDRINUSE' });
        }
      }
    }
    let port = options.port;
    if (port === 0) port = 40000 + Math.floor(Math.random() * 20000);
    const b: Bound = { address: options.address, port, onDatagram: options.onDatagram, groups: new Set() };
    this.sockets.add(b);
    return b;
  }

  unbind(b: Bound): void {
    this.sockets.delete(b);
  }

  send(from: Bound, bytes: Uint8Array, length: number, port: number, address: string): void {
    const copy = bytes.slice(0, length);
    if (this.dropFilter?.(copy, port, address)) {
      this.dropped++;
      return;
    }
    const isGroup = Number(address.split('.')[0]) >= 224;
    if (isGroup && !this.multicast) return;
    setImmediate(() => {
      for (const s of this.sockets) {
        if (s.port !== port) continue;
        if (isGroup ? !s.groups.has(address) : s.address !== '0.0.0.0' && s.address !== address) continue;
        this.delivered++;
        s.onDatagram(isGroup ? copy.slice() : copy, { address: '127.0.0.1', port: from.port });
      }
    });
  }
}

class MemoryPlatform implements UdpPlatform {
  sendErrors = 0;
  constructor(private readonly net: MemoryNetwork) {}

  async bind(options: BindOptions): Promise<UdpSocket> {
    const net = this.net;
    const b = net.bind(options);
    return {
      port: b.port,
      send: (bytes, length, port, address) => net.send(b, bytes, length, port, address),
      joinMulticast: (group) => {
        if (!net.multicast) throw Object.assign(new Error('addMembership ENODEV'), { code: 'ENODEV' });
        b.groups.add(group);
      },
      setMulticastInterface: () => {},
      close: () => net.unbind(b),
    };
  }

  interfaces(): LocalInterface[] {
    return [{ name: 'lo', address: '127.0.0.1', internal: true }];
  }
}
