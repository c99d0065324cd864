// The operating-system boundary of the RTPS stack: UDP sockets and local addresses. The protocol code only
// sees this interface, so it runs against node:dgram in production and an in-memory network in unit tests.

export interface DatagramSource {
  address: string;
  port: number;
}

/** Called with a datagram; `bytes` belongs to the callee (the platform never reuses it). */
export type DatagramHandler = (bytes: Uint8Array, from: DatagramSource) => void;

export interface BindOptions {
  /** IPv4 address to bind ("0.0.0.0" for all interfaces, or a multicast group to receive only that group). */
  address: string;
  port: number;
  /** Share the port with other sockets (multicast discovery ports). */
  reuseAddr: boolean;
  onDatagram: DatagramHandler;
  /** Requested kernel receive buffer (bytes); best effort. */
  receiveBufferSize?: number;
}

export interface UdpSocket {
  readonly port: number;
  /**
   * Sends bytes[0, length). The caller may overwrite `bytes` as soon as this returns (the platform copies or
   * sends synchronously). Errors (unreachable, no route) are counted, never thrown.
   */
  send(bytes: Uint8Array, length: number, port: number, address: string): void;
  /** Joins a multicast group on the interface with the given address (undefined = the kernel's choice); throws when impossible. */
  joinMulticast(group: string, interfaceAddress?: string): void;
  /** Selects the interface for outgoing multicast. */
  setMulticastInterface(interfaceAddress: string): void;
  close(): void;
}

export interface LocalInterface {
  name: string;
  address: string;
  internal: boolean;
}

export interface UdpPlatform {
  /** Resolves when bound; rejects (code EADDRINUSE and the like) when the port is taken. */
  bind(options: BindOptions): Promise<UdpSocket>;
  /** The host's IPv4 interfaces. */
  interfaces(): LocalInterface[];
  /** Failed sends, for diagnostics. */
  readonly sendErrors: number;
}
