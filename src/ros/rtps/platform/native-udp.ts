// Send-only UDP sockets driven by libc through koffi (Linux): socket(), connect() to one destination, then
// send(fd, bytes, MSG_DONTWAIT) straight from the caller's buffer. On this path a datagram costs what it costs a C
// program: node:dgram's send (argument normalisation, a SendWrap, libuv's request and its completion callback)
// adds 10–25 µs per datagram on a 2-core machine, the largest part of onestep's writer overhead over Cyclone DDS
// (docs/BENCHMARKS.md). Nothing here is required: where koffi or libc is missing, or a call fails, the caller keeps
// using node:dgram.
import { createRequire } from 'node:module';

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;

interface Libc {
  socket: (domain: number, type: number, protocol: number) => number;
  connect: (fd: number, addr: Uint8Array, len: number) => number;
  send: (fd: number, buf: Uint8Array, len: number, flags: number) => number;
  close: (fd: number) => number;
}

let libc: Libc | null | undefined;

function load(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (process.platform !== 'linux' || process.env.ONESTEP_RTPS_NATIVE_SEND === '0') return libc;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    libc = {
      socket: lib.func('int socket(int domain, int type, int protocol)'),
      connect: lib.func('int connect(int fd, const uint8_t *addr, uint32_t len)'),
      send: lib.func('long send(int fd, const uint8_t *buf, size_t len, int flags)'),
      close: lib.func('int close(int fd)'),
    };
  } catch {
    libc = null;
  }
  return libc;
}

/** struct sockaddr_in for an IPv4 dotted quad (Linux layout: family, port in network order, address). */
function sockaddrIn(address: string, port: number): Uint8Array | null {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  const a = new Uint8Array(16);
  a[0] = AF_INET & 0xff;
  a[1] = AF_INET >> 8;
  a[2] = port >> 8;
  a[3] = port & 0xff;
  a.set(parts, 4);
  return a;
}

/** One connected send-only socket; send() returns false when the datagram did not go (use another path). */
export class NativeUdpSender {
  private constructor(
    private readonly c: Libc,
    private fd: number,
  ) {}

  /** A sender connected to address:port, or null where the native path is not available. */
  static open(address: string, port: number): NativeUdpSender | null {
    const c = load();
    const addr = sockaddrIn(address, port);
    if (c === null || addr === null) return null;
    try {
      const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return null;
      if (c.connect(fd, addr, addr.length) !== 0) {
        c.close(fd);
        return null;
      }
      return new NativeUdpSender(c, fd);
    } catch {
      return null;
    }
  }

  /** Sends bytes[0, length) now; the kernel has copied them when this returns. */
  send(bytes: Uint8Array, length: number): boolean {
    if (this.fd < 0) return false;
    return this.c.send(this.fd, bytes, length, MSG_DONTWAIT | MSG_NOSIGNAL) === length;
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      this.c.close(this.fd);
    } catch {
      // nothing left to free
    }
    this.fd = -1;
  }
}
