// The RTPS state machines between two participants on an in-memory network (deterministic, with injected
// loss): discovery, reliable in-order delivery under loss, KEEP_LAST gaps, transient-local late joiners,
// fragmentation, lease expiry, disposal on close and QoS mismatch reporting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Participant, type ParticipantOptions } from '../src/ros/rtps/participant.ts';
import { MemoryNetwork } from '../src/ros/rtps/platform/memory-udp.ts';
import { fromRosQos } from '../src/ros/rtps/qos.ts';
import { SubmessageId } from '../src/ros/rtps/message/submessage.ts';
import type { QosProfile } from '../src/ros/transport.ts';

const TOPIC = 'rt/chatter';
const TYPE = 'std_msgs::msg::dds_::String_';

function qos(reliability: QosProfile['reliability'], durability: QosProfile['durability'], depth = 10) {
  return { reliability, durability, history: 'keep_last' as const, depth };
}

function sample(i: number, size = 12): Uint8Array {
  const b = new Uint8Array(Math.max(size, 8));
  b[1] = 1; // CDR_LE
  new DataView(b.buffer).setUint32(4, i, true);
  return b;
}

const idOf = (p: Uint8Array) => new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(4, true);

async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function pair(net: MemoryNetwork, extra: ParticipantOptions = {}) {
  const quiet = { warn: () => {}, debug: () => {} };
  const a = await Participant.create({ platform: net.platform(), logger: quiet, env: {}, ...extra });
  const b = await Participant.create({ platform: net.platform(), logger: quiet, env: {}, ...extra });
  await until(() => a.remote.size === 1 && b.remote.size === 1, 5000, 'discovery');
  return { a, b };
}

/** Drops DATA/DATA_FRAG datagrams of user writers (entity kind 0x03) with probability p (seeded). */
function lossy(net: MemoryNetwork, p: number, seed = 1): void {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  net.dropFilter = (bytes) => {
    for (let pos = 20; pos + 4 <= bytes.length; ) {
      const id = bytes[pos];
      const len = bytes[pos + 2] | (bytes[pos + 3] << 8);
      if ((id === SubmessageId.DATA || id === SubmessageId.DATA_FRAG) && bytes[pos + 15] === 0x03) return rand() < p;
      pos += 4 + len;
      if (len === 0) break;
    }
    return false;
  };
}

test('reliable: every sample arrives once and in order despite 30% loss of DATA', async () => {
  const net = new MemoryNetwork();
  const { a, b } = await pair(net);
  const got: number[] = [];
  const w = a.createWriter({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile', 1000), true) });
  b.createReader({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile'), false), onSample: (p) => got.push(idOf(p)) });
  await until(() => w.matchedReaders() === 1, 5000, 'match');
  await new Promise((r) => setTimeout(r, 50));
  lossy(net, 0.3);
  for (let i = 0; i < 300; i++) w.write(sample(i));
  await until(() => got.length === 300, 10000, `300 samples (have ${got.length})`);
  assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => i));
  await until(() => w.allAcknowledged(), 5000, 'acknowledgement');
  assert.ok(net.dropped > 30, `loss was injected (${net.dropped} dropped)`);
  await a.close();
  await b.close();
});

test('reliable KEEP_LAST: samples dropped from the writer history become gaps, later ones still arrive', async () => {
  const net = new MemoryNetwork();
  const { a, b } = await pair(net);
  const got: number[] = [];
  const w = a.createWriter({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile', 2), true) });
  b.createReader({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile'), false), onSample: (p) => got.push(idOf(p)) });
  await until(() => w.matchedReaders() === 1);
  await new Promise((r) => setTimeout(r, 50));
  net.dropFilter = () => true; // the reader misses everything ...
  for (let i = 0; i < 10; i++) w.write(sample(i));
  net.dropFilter = undefined; // ... and recovers what the depth-2 history still has
  await until(() => got.includes(9), 5000, 'last sample');
  assert.deepEqual(got, [8, 9]);
  await a.close();
  await b.close();
});

test('transient-local: a late-joining reader gets the last `depth` samples, a volatile one does not', async () => {
  const net = new MemoryNetwork();
  const { a, b } = await pair(net);
  const w = a.createWriter({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'transient_local', 3), true) });
  for (let i = 0; i < 5; i++) w.write(sample(i));
  const late: number[] = [];
  const volatileGot: number[] = [];
  b.createReader({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'transient_local'), false), onSample: (p) => late.push(idOf(p)) });
  b.createReader({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile'), false), onSample: (p) => volatileGot.push(idOf(p)) });
  await until(() => late.length === 3, 5000, 'history replay');
  assert.deepEqual(late, [2, 3, 4]);
  w.write(sample(5));
  await until(() => late.length === 4 && volatileGot.length === 1);
  assert.deepEqual(volatileGot, [5]);
  // best-effort transient-local readers get the history pushed
  const be: number[] = [];
  b.createReader({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('best_effort', 'transient_local'), false), onSample: (p) => be.push(idOf(p)) });
  await until(() => be.length === 3, 5000, 'best-effort replay');
  assert.deepEqual(be, [3, 4, 5]);
  await a.close();
  await b.close();
});

test('best-effort: newer samples are delivered, duplicates and older ones dropped', async () => {
  const net = new MemoryNetwork();
  const { a, b } = await pair(net);
  const got: number[] = [];
  const w = a.createWriter({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('best_effort', 'volatile'), true) });
  const r = b.createReader({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('best_effort', 'volatile'), false), onSample: (p) => got.push(idOf(p)) });
  await until(() => w.matchedReaders() === 1 && r.matchedWriters() === 1);
  lossy(net, 0.5, 7);
  for (let i = 0; i < 100; i++) w.write(sample(i));
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(got.length > 20 && got.length < 90, `some lost, some delivered (${got.length})`);
  for (let i = 1; i < got.length; i++) assert.ok(got[i] > got[i - 1], 'increasing');
  await a.close();
  await b.close();
});

test('fragmentation: 200 KB samples reassemble, under loss too (reliable resend), memory returns to zero', async () => {
  const net = new MemoryNetwork();
  const { a, b } = await pair(net);
  const got: Uint8Array[] = [];
  const w = a.createWriter({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile', 4), true) });
  b.createReader({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile'), false), onSample: (p) => got.push(p.slice()) });
  await until(() => w.matchedReaders() === 1);
  await new Promise((r) => setTimeout(r, 50));
  const big = (i: number) => {
    const s = sample(i, 200_000);
    for (let k = 8; k < s.length; k++) s[k] = (k * 31 + i) & 0xff;
    return s;
  };
  w.write(big(1));
  await until(() => got.length === 1);
  assert.deepEqual(got[0], big(1));
  lossy(net, 0.2, 3);
  w.write(big(2));
  w.write(big(3));
  await until(() => got.length === 3, 10000, 'fragmented samples under loss');
  assert.deepEqual(got[1], big(2));
  assert.deepEqual(got[2], big(3));
  assert.equal(b.stats().reassemblyBytes, 0);
  await a.close();
  await b.close();
});

test('lease expiry removes a silent participant and unmatches its endpoints; close() disposes at once', async () => {
  const net = new MemoryNetwork();
  const { a, b } = await pair(net, { leaseDuration: 1, announcePeriod: 0.25 });
  const w = a.createWriter({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile'), true) });
  const r = b.createReader({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile'), false), onSample: () => {} });
  await until(() => w.matchedReaders() === 1 && r.matchedWriters() === 1);
  const lost: string[] = [];
  a.on('participantLost', (_rp, why) => lost.push(why));
  // b falls silent (as if killed): drop everything it sends
  const bPrefix = b.prefix;
  net.dropFilter = (bytes) => bytes.subarray(8, 20).every((x, i) => x === bPrefix[i]);
  const t0 = Date.now();
  await until(() => lost.length === 1, 4000, 'lease expiry');
  const elapsed = Date.now() - t0;
  assert.equal(lost[0], 'lease');
  assert.ok(elapsed >= 700 && elapsed < 2500, `expired after ${elapsed} ms for a 1 s lease`);
  assert.equal(w.matchedReaders(), 0);
  // b comes back (its announcements get through again): rediscovered and rematched
  net.dropFilter = undefined;
  await until(() => w.matchedReaders() === 1, 4000, 'rediscovery');
  // a clean shutdown is seen at once, not after the lease
  await b.close();
  await until(() => lost.length === 2, 500, 'disposal');
  assert.equal(lost[1], 'disposed');
  await a.close();
});

test('endpoint close is announced: the remote side unmatches without waiting for a lease', async () => {
  const net = new MemoryNetwork();
  const { a, b } = await pair(net);
  const w = a.createWriter({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile'), true) });
  const r = b.createReader({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile'), false), onSample: () => {} });
  await until(() => w.matchedReaders() === 1 && r.matchedWriters() === 1);
  w.close();
  await until(() => r.matchedWriters() === 0, 2000, 'unmatch');
  assert.throws(() => w.write(sample(0)), /closed/);
  await a.close();
  await b.close();
});

test('QoS mismatch: no match, and the reason is logged once', async () => {
  const net = new MemoryNetwork();
  const warnings: string[] = [];
  const logger = { warn: (m: string) => warnings.push(m), debug: () => {} };
  const a = await Participant.create({ platform: net.platform(), logger, env: {} });
  const b = await Participant.create({ platform: net.platform(), logger, env: {} });
  const w = a.createWriter({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('best_effort', 'volatile'), true) });
  const r = b.createReader({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile'), false), onSample: () => {} });
  const t = b.createReader({ topicName: TOPIC, typeName: 'other::msg::dds_::T_', qos: fromRosQos(qos('best_effort', 'volatile'), false), onSample: () => {} });
  await until(() => warnings.length >= 4, 5000, 'warnings');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(w.matchedReaders(), 0);
  assert.equal(r.matchedWriters(), 0);
  assert.equal(t.matchedWriters(), 0);
  assert.ok(warnings.some((m) => /RELIABILITY: writer offers BEST_EFFORT, reader requests RELIABLE/.test(m)));
  assert.ok(warnings.some((m) => /type mismatch/.test(m)));
  assert.equal(warnings.length, 4, 'each pair reported once on each side');
  await a.close();
  await b.close();
});

test('no multicast: discovery falls back to the well-known localhost ports', async () => {
  const net = new MemoryNetwork();
  net.multicast = false;
  const { a, b } = await pair(net);
  assert.equal(a.multicastAvailable, false);
  const got: number[] = [];
  const w = a.createWriter({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile'), true) });
  b.createReader({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile'), false), onSample: (p) => got.push(idOf(p)) });
  await until(() => w.matchedReaders() === 1);
  await new Promise((r) => setTimeout(r, 30));
  w.write(sample(1));
  await until(() => got.length === 1);
  await a.close();
  await b.close();
});

test('domains are separate: participants on different ROS_DOMAIN_IDs never meet', async () => {
  const net = new MemoryNetwork();
  const a = await Participant.create({ platform: net.platform(), env: {}, domainId: 0 });
  const b = await Participant.create({ platform: net.platform(), env: {}, domainId: 5 });
  assert.equal(b.participantIndex, 0, 'each domain has its own port range');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(a.remote.size, 0);
  assert.equal(b.remote.size, 0);
  await a.close();
  await b.close();
});

test('discovery range OFF finds no one; ROS_STATIC_PEERS still reaches the listed hosts', async () => {
  const net = new MemoryNetwork();
  const off = { ROS_AUTOMATIC_DISCOVERY_RANGE: 'OFF' };
  const a = await Participant.create({ platform: net.platform(), env: off });
  const b = await Participant.create({ platform: net.platform(), env: off });
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(a.remote.size + b.remote.size, 0);
  const c = await Participant.create({ platform: net.platform(), env: { ...off, ROS_STATIC_PEERS: '127.0.0.1' } });
  await until(() => c.remote.size === 2 && a.remote.size === 1 && b.remote.size === 1, 5000, 'static peer discovery');
  for (const p of [a, b, c]) await p.close();
});

test('interfaces: a named interface binds to its address; an unknown one is a clear error', async () => {
  const net = new MemoryNetwork();
  await assert.rejects(Participant.create({ platform: net.platform(), env: {}, interfaces: ['eth7'] }), /network interface "eth7" not found \(have: lo\)/);
  const a = await Participant.create({ platform: net.platform(), env: {}, interfaces: ['lo'] });
  const b = await Participant.create({ platform: net.platform(), env: {}, interfaces: ['127.0.0.1'] });
  await until(() => a.remote.size === 1 && b.remote.size === 1, 5000, 'discovery on lo');
  const rp = [...a.remote.values()][0];
  assert.deepEqual(rp.metatrafficLocators.map((l) => l.address), ['127.0.0.1']);
  await a.close();
  await b.close();
});

/** User DATA submessages (writer entity kind 0x03) in each datagram `net` carries while recording. */
function recordUserDatagrams(net: MemoryNetwork): { port: number; datas: number }[] {
  const seen: { port: number; datas: number }[] = [];
  net.dropFilter = (bytes, port) => {
    let datas = 0;
    for (let pos = 20; pos + 4 <= bytes.length; ) {
      const len = bytes[pos + 2] | (bytes[pos + 3] << 8);
      if ((bytes[pos] === SubmessageId.DATA || bytes[pos] === SubmessageId.DATA_FRAG) && bytes[pos + 15] === 0x03) datas++;
      if (len === 0) break;
      pos += 4 + len;
    }
    if (datas > 0) seen.push({ port, datas });
    return false;
  };
  return seen;
}

test('coalesce: samples for the same readers share one datagram; other readers, oversized and fragmented samples go on their own, in order', async () => {
  const net = new MemoryNetwork();
  const quiet = { warn: () => {}, debug: () => {} };
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => Participant.create({ platform: net.platform(), logger: quiet, env: {} })));
  await until(() => a.remote.size === 2 && b.remote.size === 2 && c.remote.size === 2, 5000, 'discovery');
  const q = fromRosQos(qos('reliable', 'volatile', 10), true);
  const [w1, w2, w3] = ['rt/one', 'rt/two', 'rt/three'].map((topicName) => a.createWriter({ topicName, typeName: TYPE, qos: q }));
  const got = { b: [] as string[], c: [] as string[] };
  const read = (p: Participant, topicName: string, into: string[]) =>
    p.createReader({ topicName, typeName: TYPE, qos: fromRosQos(qos('reliable', 'volatile'), false), onSample: (s) => into.push(`${topicName.slice(3)}:${idOf(s)}:${s.length}`) });
  for (const t of ['rt/one', 'rt/two', 'rt/three']) read(b, t, got.b);
  read(c, 'rt/three', got.c);
  await until(() => w1.matchedReaders() === 1 && w2.matchedReaders() === 1 && w3.matchedReaders() === 2, 5000, 'match');
  await new Promise((r) => setTimeout(r, 100));
  const bPort = a.remote.get(b.prefix)!.defaultLocators[0].port;
  const datagrams = recordUserDatagrams(net);

  a.coalesce(() => {
    w1.write(sample(1));
    w2.write(sample(2));
    w1.write(sample(3)); // joins too: [one:1, two:2, one:3] → b
    w3.write(sample(4)); // b and c read three: the datagram so far leaves for b, this one starts the next
    w3.write(sample(5)); // → b, c with 4
    w2.write(sample(6, 9000)); // fits no datagram with the pending ones: they leave, it starts its own
    w1.write(sample(7, 9000)); // 9000 + 9000 > 14720: on its own again
    w2.write(sample(8, 40000)); // fragmented: DATA_FRAGs as ever, after what was pending
    w1.write(sample(9)); // pending until coalesce returns
  });
  const expected = ['one:1:12', 'two:2:12', 'one:3:12', 'three:4:12', 'three:5:12', 'two:6:9000', 'one:7:9000', 'two:8:40000', 'one:9:12'];
  await until(() => got.b.length === expected.length && got.c.length === 2, 5000, `delivery (b has ${got.b.length})`);
  assert.deepEqual(got.b, expected, 'b: every sample, in publication order');
  assert.deepEqual(got.c, ['three:4:12', 'three:5:12']);
  const toB = datagrams.filter((d) => d.port === bPort).map((d) => d.datas);
  // [1,2,3], [4,5], [6], [7], fragments of 8 (40000 / 1344 per DATA_FRAG: 30 in 3 datagrams), [9]
  assert.deepEqual(toB.slice(0, 4), [3, 2, 1, 1]);
  assert.equal(toB[toB.length - 1], 1);
  assert.equal(toB.slice(4, -1).reduce((s, n) => s + n, 0), Math.ceil(40000 / 1344), 'all fragments of the large sample');
  assert.deepEqual(datagrams.filter((d) => d.port !== bPort).map((d) => d.datas), [2], 'c: one datagram with both of its samples');

  // outside coalesce, one datagram per sample as before
  datagrams.length = 0;
  w1.write(sample(10));
  w2.write(sample(11));
  await until(() => got.b.length === expected.length + 2, 5000, 'uncoalesced delivery');
  assert.deepEqual(datagrams.map((d) => d.datas), [1, 1]);
  await Promise.all([a, b, c].map((p) => p.close()));
});
