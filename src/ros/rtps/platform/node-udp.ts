// node:dgram behind the UdpPlatform interface. Sends copy into a pool of preallocated datagram buffers, so
// the caller can reuse its one send buffer while the kernel may still queue ours.
import dgram from 'node:dgram';
import os from 'node:os';
import type { BindOptions, LocalInterface, UdpPlatform, UdpSocket } from './udp.ts';

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

class NodeUdpSocket implements UdpSocket {
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
    const slot = platform.pool.take();
    slot.buffer.set(length === bytes.length ? bytes : bytes.subarray(0, length));
    try {
      this.socket.send(slot.buffer, 0, length, port, address, slot.done);
    } catch {
      slot.done(null);
      platform.countError();
    }
  }

  joinMulticast(group: string, interfaceAddress?: string): void {
    this.socket.addMembership(group, interfaceAddress);
  }

  setMulticastInterface(interfaceAddress: string): void {
    this.socket.setMulticastInterface(interfaceAddress);
  }

  close(): void {
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
