// One interop scenario, run inside a private network namespace (test/helpers/netns.ts runInNetns): a writer and a
// reader, each onestep (the rtps transport) or a DDS peer, on one ROS topic; prints `RESULT <json>` last.
//   node --import tsx test/peers/scenario.ts '<Scenario JSON>'

import { createTransport } from '../../src/ros/index.ts';
import type { Publisher, Subscription, Transport } from '../../src/ros/transport.ts';
import { Peer, type PeerSummary, type PeerVendor, sleep } from '../helpers/netns.ts';
import { DEFAULT_SIZE, type PeerMessageType, ROS_TYPE, checkMessage, makeMessage } from './contents.ts';

export type Side = 'onestep' | PeerVendor;

export interface Scenario {
  writer: Side;
  reader: Side;
  type: PeerMessageType;
  /** ROS topic name, e.g. "/chatter"; the peers use its DDS name "rt/chatter". */
  topic: string;
  reliability?: 'reliable' | 'best_effort';
  durability?: 'volatile' | 'transient_local';
  depth?: number;
  count?: number;
  size?: number;
  rate?: number;
  domain?: number;
  /** ms between starting the reader and the writer; negative: the writer starts first. */
  writerDelayMs?: number;
  /** SIGKILL the writer peer once everything arrived, and time how long until onestep's reader drops it. */
  killWriter?: boolean;
  /** Peer participant lease, seconds. */
  lease?: number;
  /** Peers print no RECV line per message (benchmarks); latency comes from their DONE summary. */
  quiet?: boolean;
  /** Environment the onestep participant reads (ROS_LOCALHOST_ONLY, ROS_AUTOMATIC_DISCOVERY_RANGE, ...). */
  onestepEnv?: Record<string, string>;
  /** An onestep writer publishes this many messages per Transport.coalesce call (several DATA in one datagram). */
  coalesce?: number;
  timeoutMs?: number;
}

export interface ScenarioResult {
  ok: boolean;
  error?: string;
  sent?: number;
  received: number;
  unique: number;
  bad: number;
  latencyUs?: { p50: number; p99: number; max: number };
  /** ms from the writer's SIGKILL until onestep's reader had no matched writer. */
  unmatchedAfterMs?: number;
  /** Receive rate between the first and the last message, Hz. */
  rateHz?: number;
  writerSummary?: PeerSummary;
  readerSummary?: PeerSummary;
  peerLog?: string;
}

function percentile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.floor(q * (sorted.length - 1))] : -1;
}

function peerArgs(s: Scenario, role: 'pub' | 'sub'): string[] {
  const args = [
    '--role', role, '--type', s.type, '--topic', `rt${s.topic}`,
    '--reliability', s.reliability ?? 'reliable', '--durability', s.durability ?? 'volatile',
    '--depth', String(s.depth ?? 10), '--count', String(s.count ?? 10), '--rate', String(s.rate ?? 100),
    '--size', String(s.size ?? DEFAULT_SIZE[s.type]), '--domain', String(s.domain ?? 0),
    '--timeout', String(((s.timeoutMs ?? 20_000) / 1000) | 0),
  ];
  if (s.lease) args.push('--lease', String(s.lease));
  if (s.quiet) args.push('--quiet');
  if (role === 'pub') args.push('--linger', String(s.killWriter ? 60 : 1));
  return args;
}

export async function runScenario(s: Scenario): Promise<ScenarioResult> {
  const count = s.count ?? 10;
  const size = s.size ?? DEFAULT_SIZE[s.type];
  const rate = s.rate ?? 100;
  const timeoutMs = s.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  const qos = { reliability: s.reliability ?? 'reliable', durability: s.durability ?? 'volatile', history: 'keep_last', depth: s.depth ?? 10 } as const;
  const peers: Peer[] = [];
  let transport: Transport | undefined;
  const result: ScenarioResult = { ok: false, received: 0, unique: 0, bad: 0 };
  const seen = new Set<number>();
  const latencies: number[] = [];
  let sub: Subscription | undefined;
  let firstAt = 0;
  let lastAt = 0;
  let writerPeer: Peer | undefined;
  let readerPeer: Peer | undefined;

  const onestep = async () =>
    (transport ??= await createTransport({
      kind: 'rtps',
      node: 'interop_test',
      domainId: s.domain ?? 0,
      rtps: s.onestepEnv ? { env: { ...process.env, ...s.onestepEnv } } : undefined,
    }));

  const startReader = async () => {
    if (s.reader === 'onestep') {
      const t = await onestep();
      sub = t.subscribe(s.topic, ROS_TYPE[s.type], qos, (msg) => {
        const c = checkMessage(s.type, msg, size);
        lastAt = performance.now();
        if (result.received === 0) firstAt = lastAt;
        result.received++;
        if (!c.ok) result.bad++;
        if (!seen.has(c.i)) seen.add(c.i);
        if (c.latencyUs >= 0) latencies.push(c.latencyUs);
      });
    } else {
      readerPeer = Peer.start(s.reader, peerArgs(s, 'sub'));
      peers.push(readerPeer);
      await readerPeer.waitFor(/^READY/, 10_000);
    }
  };

  const startWriter = async () => {
    if (s.writer === 'onestep') {
      const t = await onestep();
      const pub: Publisher = t.advertise(s.topic, ROS_TYPE[s.type], qos);
      while (pub.matchedSubscriptions() < 1) {
        if (Date.now() > deadline) throw new Error('onestep writer never matched the reader');
        await sleep(20);
      }
      await sleep(200); // the reader's side may not have matched us yet: give it the same head start the peers take
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        if (rate > 0) {
          const wait = start + (i * 1000) / rate - performance.now();
          if (wait > 1) await sleep(wait);
          else if (i % 32 === 31) await new Promise<void>((r) => setImmediate(r)); // behind schedule: still let I/O run
        } else if (i % 32 === 31) await new Promise<void>((r) => setImmediate(r));
        if (s.coalesce !== undefined && s.coalesce > 1) {
          const first = i;
          i = Math.min(count, i + s.coalesce) - 1;
          const last = i;
          t.coalesce!(() => {
            for (let k = first; k <= last; k++) pub.publish(makeMessage(s.type, k, size));
          });
          continue;
        }
        pub.publish(makeMessage(s.type, i, size));
      }
      result.sent = count;
    } else {
      writerPeer = Peer.start(s.writer, peerArgs(s, 'pub'));
      peers.push(writerPeer);
    }
  };

  try {
    const delay = s.writerDelayMs ?? 300;
    if (delay >= 0) {
      await startReader();
      await sleep(delay);
      await startWriter();
    } else {
      // the writer first: onestep's writer publishes only once matched, so start it without awaiting
      const w = startWriter();
      await sleep(-delay);
      await startReader();
      await w;
    }

    if (s.reader === 'onestep') {
      let quietSince = Date.now();
      let lastCount = 0;
      while (result.received < count && Date.now() < deadline) {
        await sleep(10);
        if (result.received !== lastCount) [lastCount, quietSince] = [result.received, Date.now()];
        // a finished writer and a second of silence: what was lost is lost
        else if (writerPeer && writerPeer.lines.some((l) => l.startsWith('SENT')) && Date.now() - quietSince > 1000) break;
      }
      result.unique = seen.size;
      if (result.received > 1) result.rateHz = ((result.received - 1) * 1000) / (lastAt - firstAt);
      if (s.killWriter && writerPeer) {
        const killedAt = Date.now();
        writerPeer.kill('SIGKILL');
        while (sub!.matchedPublishers() > 0 && Date.now() < deadline) await sleep(50);
        if (sub!.matchedPublishers() === 0) result.unmatchedAfterMs = Date.now() - killedAt;
      }
      if (writerPeer && !s.killWriter) {
        if (result.received >= count) writerPeer.kill('SIGTERM'); // everything arrived: no need to wait out its linger
        const w = await writerPeer.done(Math.max(1000, deadline - Date.now()));
        result.writerSummary = w.summary;
        if (result.sent === undefined) result.sent = w.summary.sent;
      }
    } else {
      const r = await readerPeer!.done(Math.max(1000, deadline - Date.now()));
      result.readerSummary = r.summary;
      result.received = r.summary.received ?? 0;
      result.unique = r.summary.unique ?? 0;
      result.bad = r.summary.bad ?? 0;
      result.rateHz = r.summary.rate_hz;
      if ((r.summary.lat_p50_us ?? -1) >= 0 && s.quiet) {
        result.latencyUs = { p50: r.summary.lat_p50_us, p99: r.summary.lat_p99_us, max: r.summary.lat_max_us };
      }
      for (const m of readerPeer!.received()) if (m.latencyUs >= 0) latencies.push(m.latencyUs);
      if (writerPeer) {
        writerPeer.kill();
        const w = await writerPeer.done(5000);
        result.writerSummary = w.summary;
        result.sent = w.summary.sent;
      }
    }
    latencies.sort((a, b) => a - b);
    if (latencies.length && !result.latencyUs) result.latencyUs = { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies[latencies.length - 1] };
    result.ok = true;
  } catch (err) {
    result.error = (err as Error).message;
  } finally {
    result.peerLog = peers.map((p) => `${p.vendor}: ${p.describe()}`).join('\n');
    for (const p of peers) p.kill('SIGKILL');
    await transport?.close();
  }
  return result;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const print = (id: string, r: ScenarioResult): void => void process.stdout.write(`RESULT ${id} ${JSON.stringify(r)}\n`);
  const fail = (err: unknown): ScenarioResult => ({ ok: false, error: String((err as Error)?.stack ?? err), received: 0, unique: 0, bad: 0 });
  if (process.argv[2] === '--serve') {
    // one scenario per stdin line, `<id> <Scenario JSON>`, run one after the other (saves a process start each)
    const { createInterface } = await import('node:readline');
    let queue = Promise.resolve();
    for await (const line of createInterface({ input: process.stdin })) {
      const at = line.indexOf(' ');
      if (at < 0) continue;
      const id = line.slice(0, at);
      const scenario = JSON.parse(line.slice(at + 1)) as Scenario;
      queue = queue.then(() => runScenario(scenario).then((r) => print(id, r), (err) => print(id, fail(err))));
    }
    await queue;
    process.exit(0);
  }
  const scenario = JSON.parse(process.argv[2]) as Scenario;
  runScenario(scenario).then(
    (r) => {
      print('0', r);
      process.exit(0);
    },
    (err) => {
      print('0', fail(err));
      process.exit(1);
    },
  );
}
