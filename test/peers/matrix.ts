// The interop matrix of issue 5 for one DDS vendor, as node:test cases: both directions for String, JointState,
// Float64MultiArray and an 80 KB message; reliable and best-effort; transient-local late joiner; a peer starting
// 5 s after onestep and one before; a peer that dies (lease expiry); another domain; loopback without multicast.
// Every case runs in its own private network namespace (test/helpers/netns.ts).

import { after, test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { type PeerVendor, netnsSkipReason, peersDir, spawnInNetns } from '../helpers/netns.ts';
import type { Scenario, ScenarioResult } from './scenario.ts';

let topicSeq = 0;

/** A long-lived `scenario.ts --serve` process per namespace variant, so each case skips a node + tsx start. */
class ScenarioServer {
  private readonly child: ChildProcess;
  private readonly pending = new Map<string, (line: string) => void>();
  private nextId = 1;
  private stderr = '';
  private exited = false;

  constructor(multicast: boolean) {
    this.child = spawnInNetns(['node', '--import', 'tsx', 'test/peers/scenario.ts', '--serve'], { multicast });
    let partial = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const m = /^RESULT (\S+) (.*)$/.exec(line);
        if (m) this.pending.get(m[1])?.(m[2]);
      }
    });
    this.child.stderr!.on('data', (d) => (this.stderr = (this.stderr + d).slice(-4000)));
    this.child.on('close', () => {
      this.exited = true;
      for (const resolve of this.pending.values()) resolve('');
    });
    this.child.unref();
    (this.child.stdout as unknown as { unref?: () => void }).unref?.();
    (this.child.stderr as unknown as { unref?: () => void }).unref?.();
  }

  run(s: Scenario, timeoutMs: number): Promise<ScenarioResult> {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      if (this.exited) return reject(new Error(`the scenario process has exited: ${this.stderr}`));
      const timer = setTimeout(() => reject(new Error(`scenario timed out after ${timeoutMs} ms: ${this.stderr.slice(-1500)}`)), timeoutMs);
      this.pending.set(id, (json) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (!json) reject(new Error(`the scenario process exited: ${this.stderr.slice(-1500)}`));
        else resolve(JSON.parse(json) as ScenarioResult);
      });
      this.child.stdin!.write(`${id} ${JSON.stringify(s)}\n`);
    });
  }

  close(): void {
    this.child.stdin!.end();
  }
}

const servers = new Map<boolean, ScenarioServer>();
after(() => {
  for (const s of servers.values()) s.close();
});

export async function runScenarioInNetns(s: Omit<Scenario, 'topic'> & { topic?: string }, multicast = true): Promise<ScenarioResult> {
  const scenario = { topic: `/interop_${process.pid}_${topicSeq++}`, ...s };
  let server = servers.get(multicast);
  if (!server) servers.set(multicast, (server = new ScenarioServer(multicast)));
  const result = await server.run(scenario, (s.timeoutMs ?? 20_000) + 15_000);
  if (!result.ok) throw new Error(`scenario failed: ${result.error}\n${result.peerLog}`);
  return result;
}

/** Why interop cases cannot run here (no private network namespace), or undefined when they can. */
export function interopSkipReason(): string | undefined {
  return netnsSkipReason();
}

function expectAll(r: ScenarioResult, count: number, what: string): void {
  assert.equal(r.bad, 0, `${what}: ${r.bad} messages arrived with wrong contents`);
  assert.equal(r.unique, count, `${what}: ${r.unique}/${count} distinct messages arrived (${r.received} in all)\n${r.peerLog}`);
}

function expectMost(r: ScenarioResult, count: number, what: string): void {
  assert.equal(r.bad, 0, `${what}: ${r.bad} messages arrived with wrong contents`);
  // best-effort may lose a datagram on a busy machine, never most of them
  assert.ok(r.unique >= Math.ceil(count * 0.9), `${what}: only ${r.unique}/${count} arrived\n${r.peerLog}`);
}

export function defineInteropTests(vendor: PeerVendor): void {
  const skip = interopSkipReason();
  const opts = { skip, timeout: 60_000 };
  if (!skip) peersDir();

  for (const [type, size] of [['String', 0], ['JointState', 6], ['Float64MultiArray', 8]] as const) {
    test(`${vendor} → onestep: ${type}, reliable`, opts, async () => {
      const r = await runScenarioInNetns({ writer: vendor, reader: 'onestep', type, size, count: 20 });
      expectAll(r, 20, `${vendor} → onestep ${type}`);
    });
    test(`onestep → ${vendor}: ${type}, reliable`, opts, async () => {
      const r = await runScenarioInNetns({ writer: 'onestep', reader: vendor, type, size, count: 20 });
      expectAll(r, 20, `onestep → ${vendor} ${type}`);
    });
  }

  // Transport.coalesce (the sim bridge's state): several DATA submessages, each with its INFO_TS, in one datagram;
  // best-effort, so that no resend (one sample per datagram) could make up for a datagram the reader refused
  test(`onestep → ${vendor}: JointState coalesced 4 to a datagram, best-effort`, opts, async () => {
    const r = await runScenarioInNetns({ writer: 'onestep', reader: vendor, type: 'JointState', reliability: 'best_effort', size: 6, count: 40, coalesce: 4 });
    expectAll(r, 40, `onestep → ${vendor} coalesced`);
  });

  test(`${vendor} → onestep: JointState, best-effort (sensor data)`, opts, async () => {
    const r = await runScenarioInNetns({ writer: vendor, reader: 'onestep', type: 'JointState', reliability: 'best_effort', depth: 5, count: 50, rate: 200 });
    expectMost(r, 50, `${vendor} → onestep best-effort`);
  });
  test(`onestep → ${vendor}: JointState, best-effort (sensor data)`, opts, async () => {
    const r = await runScenarioInNetns({ writer: 'onestep', reader: vendor, type: 'JointState', reliability: 'best_effort', depth: 5, count: 50, rate: 200 });
    expectMost(r, 50, `onestep → ${vendor} best-effort`);
  });

  // 10,000 float64 = 80 KB: more than one UDP datagram, so DATA_FRAG both ways
  test(`${vendor} → onestep: 80 KB Float64MultiArray (fragmented), reliable`, opts, async () => {
    const r = await runScenarioInNetns({ writer: vendor, reader: 'onestep', type: 'Float64MultiArray', size: 10_000, count: 5, rate: 20 });
    expectAll(r, 5, `${vendor} → onestep 80 KB`);
  });
  test(`onestep → ${vendor}: 80 KB Float64MultiArray (fragmented), reliable`, opts, async () => {
    const r = await runScenarioInNetns({ writer: 'onestep', reader: vendor, type: 'Float64MultiArray', size: 10_000, count: 5, rate: 20 });
    expectAll(r, 5, `onestep → ${vendor} 80 KB`);
  });

  test(`${vendor} transient-local writer → late onestep reader gets the history`, opts, async () => {
    // the peer writes 5 messages with nobody listening, then onestep joins
    const r = await runScenarioInNetns({
      writer: vendor, reader: 'onestep', type: 'String', durability: 'transient_local', count: 5, writerDelayMs: -1500,
    });
    expectAll(r, 5, `${vendor} transient-local replay`);
  });

  test(`${vendor} starting 5 s after onestep is discovered`, { ...opts, timeout: 90_000 }, async () => {
    const r = await runScenarioInNetns({ writer: vendor, reader: 'onestep', type: 'String', count: 10, writerDelayMs: 5000, timeoutMs: 30_000 });
    expectAll(r, 10, `${vendor} late start`);
  });
  test(`${vendor} started before onestep is discovered`, opts, async () => {
    const r = await runScenarioInNetns({ writer: vendor, reader: 'onestep', type: 'String', count: 10, writerDelayMs: -1000 });
    expectAll(r, 10, `${vendor} early start`);
  });

  test(`a ${vendor} peer that dies is removed when its lease expires`, opts, async () => {
    const r = await runScenarioInNetns({ writer: vendor, reader: 'onestep', type: 'String', count: 5, lease: 2, killWriter: true, timeoutMs: 25_000 });
    expectAll(r, 5, `${vendor} before dying`);
    assert.ok(r.unmatchedAfterMs !== undefined, `onestep still matched the killed ${vendor} writer after the lease`);
    assert.ok(r.unmatchedAfterMs! < 2000 * 2 + 1500, `removed after ${r.unmatchedAfterMs} ms, lease 2 s`);
  });

  test(`${vendor} → onestep with ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST (unicast discovery on the well-known ports)`, opts, async () => {
    const r = await runScenarioInNetns({
      writer: vendor, reader: 'onestep', type: 'String', count: 10, onestepEnv: { ROS_AUTOMATIC_DISCOVERY_RANGE: 'LOCALHOST' }, timeoutMs: 25_000,
    });
    expectAll(r, 10, `${vendor} → onestep, localhost discovery range`);
  });

  for (const [writer, reader] of [[vendor, 'onestep'], ['onestep', vendor]] as const) {
    test(`${writer} → ${reader} on ROS domain 42`, opts, async () => {
      const r = await runScenarioInNetns({ writer, reader, type: 'String', count: 10, domain: 42 });
      expectAll(r, 10, `domain 42 ${writer} → ${reader}`);
    });
    test(`${writer} → ${reader} on loopback without multicast`, opts, async () => {
      const r = await runScenarioInNetns({ writer, reader, type: 'JointState', count: 10, timeoutMs: 25_000 }, false);
      expectAll(r, 10, `unicast-only ${writer} → ${reader}`);
    });
  }
}
