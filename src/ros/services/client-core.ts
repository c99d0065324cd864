// What every transport's service client does the same way: calls with a deadline that covers waiting for a server
// and waiting for the reply, overlapping calls each matched to its own reply by a key the transport chooses,
// availability waiters, and failing pending calls at once when their server goes away or the client closes.
import type { CallOptions, ServiceClient } from '../transport.ts';
import { ServiceCallError } from './errors.ts';

/** A transport's side of one client. */
export interface ClientIo<Req> {
  /** True when a server is matched both ways. */
  available(): boolean;
  /** Sends the request and returns the key its reply will carry. Throws ServiceCallError('request') for a bad request. */
  send(request: Req): string;
  /** Frees what the transport holds for this client; runs once. */
  release(): void;
}

interface Pending<Res> {
  resolve: (r: Res) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Availability is re-checked at least this often even when the transport does not report a change. */
const AVAILABILITY_POLL_MS = 50;

export class ClientCore<Req, Res> implements ServiceClient<Req, Res> {
  private readonly pending = new Map<string, Pending<Res>>();
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    readonly name: string,
    readonly type: string,
    private readonly io: ClientIo<Req>,
    private readonly onClose: () => void = () => {},
  ) {}

  isAvailable(): boolean {
    return !this.closed && this.io.available();
  }

  /** The transport saw matching change: wake callers waiting for a server. */
  availabilityChanged(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async waitForService(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!this.isAvailable()) {
      if (this.closed) return false;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(left, AVAILABILITY_POLL_MS));
        function done(): void {
          clearTimeout(t);
          resolve();
        }
        this.waiters.push(done);
      });
    }
    return true;
  }

  async call(request: Req, options: CallOptions = {}): Promise<Res> {
    if (this.closed) throw new ServiceCallError('closed', this.name, 'the client is closed');
    const timeoutMs = options.timeoutMs ?? Infinity;
    if (!(timeoutMs > 0)) throw new ServiceCallError('request', this.name, `timeoutMs must be a positive number of ms, got ${timeoutMs}`);
    const start = performance.now();
    if (!this.io.available() && !(await this.waitForService(timeoutMs))) {
      if (this.closed) throw new ServiceCallError('closed', this.name, 'the client was closed while waiting for a server');
      throw new ServiceCallError('timeout', this.name, `no server of ${this.type} became available within ${timeoutMs} ms`);
    }
    const key = this.io.send(request);
    return new Promise<Res>((resolve, reject) => {
      const left = timeoutMs - (performance.now() - start);
      const entry: Pending<Res> = { resolve, reject, timer: undefined };
      if (Number.isFinite(left)) {
        entry.timer = setTimeout(() => {
          this.pending.delete(key);
          reject(new ServiceCallError('timeout', this.name, `no reply within ${timeoutMs} ms`));
        }, Math.max(0, left));
      }
      this.pending.set(key, entry);
    });
  }

  /** A reply arrived for `key`; false when no call waits for it (late, duplicate, or another client's). */
  resolve(key: string, response: Res): boolean {
    const p = this.take(key);
    p?.resolve(response);
    return p !== undefined;
  }

  /** A reply for `key` that cannot be decoded: that call fails (the others go on). */
  fail(key: string, error: Error): boolean {
    const p = this.take(key);
    p?.reject(error);
    return p !== undefined;
  }

  /** The call waiting for `key`, no longer pending and with its timeout cleared; undefined when none waits. */
  private take(key: string) {
    const p = this.pending.get(key);
    if (!p) return undefined;
    this.pending.delete(key);
    clearTimeout(p.timer);
    return p;
  }

  get pendingCalls(): number {
    return this.pending.size;
  }

  /** Fails every pending call (the server went away, or the client closes). */
  rejectAll(error: ServiceCallError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new ServiceCallError('closed', this.name, 'the client was closed before the reply came'));
    this.availabilityChanged();
    this.io.release();
    this.onClose();
  }
}

/** Runs a server's handler; resolves undefined (after reporting) when it throws or rejects. */
export async function runHandler<Req, Res>(
  handler: (request: Req, info: import('../transport.ts').ServiceRequestInfo) => Res | Promise<Res>,
  request: Req,
  info: import('../transport.ts').ServiceRequestInfo,
  onError: (err: unknown) => void,
): Promise<{ response: Res } | undefined> {
  try {
    return { response: await handler(request, info) };
  } catch (err) {
    onError(err);
    return undefined;
  }
}
