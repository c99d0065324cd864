// Hostile input: truncated, oversized and random datagrams, unknown submessages, vendor parameters, wrong
// encapsulation, and a fuzz run of 100,000 mutated packets through the whole receive path. Nothing may
// throw, memory must stay bounded, and the participant must keep working afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpsTransport } from '../src/ros/rtps/transport.ts';
import { MemoryNetwork } from '../src/ros/rtps/platform/memory-udp.ts';
import { WireWriter } from '../src/ros/rtps/wire/writer.ts';
import { writeHeader } from '../src/ros/rtps/message/header.ts';
import { writeData } from '../src/ros/rtps/submessages/data.ts';
import { EntityIds } from '../src/ros/rtps/ids/guid.ts';
import { buildSpdpDisposeMessage } from '../src/ros/rtps/discovery/spdp.ts';
import { REMOTE, REMOTE_WRITER, fuzzRandom, fuzzTarget as target, mutate, peerPackets, quiet } from './helpers/rtps-fuzz.ts';

test('a well-formed peer with vendor-specific SPDP parameters is discovered and its samples delivered', async () => {
  const { p, got, reader } = await target();
  const pk = peerPackets(7411, true);
  p.receive(pk.spdp);
  assert.equal(p.remote.size, 1, 'vendor parameters are skipped, the participant accepted');
  p.receive(pk.sedp);
  assert.equal(reader.matchedWriters(), 1);
  p.receive(pk.data);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0].subarray(8, 13), new TextEncoder().encode('hello'));
  await p.close();
});

test('truncated, oversized, random and unknown-submessage datagrams are dropped without harm', async () => {
  const { p, got } = await target();
  const pk = peerPackets(7411);
  p.receive(pk.spdp);
  p.receive(pk.sedp);
  for (const packet of Object.values(pk)) for (let cut = 0; cut < packet.length; cut++) p.receive(packet.subarray(0, cut));
  const oversized = new Uint8Array(65507);
  oversized.set(pk.data);
  oversized.fill(0xff, pk.data.length);
  p.receive(oversized);
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256);
  for (let i = 0; i < 2000; i++) {
    const r = new Uint8Array(1 + (rand() * 7) % 1400).map(rand);
    if (i % 2 && r.length >= 6) r.set([0x52, 0x54, 0x50, 0x53, 2, 3], 0); // random body behind a valid header
    p.receive(r);
  }
  const unknown = new WireWriter(256);
  writeHeader(unknown, REMOTE);
  for (const id of [0x02, 0x0a, 0x33, 0x80, 0xff]) {
    unknown.u8(id);
    unknown.u8(1);
    unknown.u16(4);
    unknown.u32(0);
  }
  p.receive(unknown.bytes.slice(0, unknown.pos));
  assert.ok(p.stats().unknownSubmessages >= 5);
  assert.ok(p.stats().malformed > 100);
  // still working: the full, intact sample arrives
  p.receive(pk.data);
  assert.ok(got.length >= 1);
  assert.deepEqual(got[got.length - 1].subarray(8, 13), new TextEncoder().encode('hello'));
  await p.close();
});

test('wrong encapsulation: the transport drops the sample with a typed, named error and stays up', async () => {
  const net = new MemoryNetwork();
  const errors: string[] = [];
  const t = await RtpsTransport.create({ node: { name: 'probe', namespace: '/' }, platform: net.platform(), env: {}, logger: quiet, onError: (e) => errors.push((e as Error).message) });
  const got: string[] = [];
  t.subscribe('/chatter', 'std_msgs/msg/String', 'default', (m: { data: string }) => got.push(m.data));
  const pk = peerPackets(7411);
  t.participant.receive(pk.spdp);
  t.participant.receive(pk.sedp);
  const bad = (encapsulation: number[], sn: number, body: number[]) => {
    const w = new WireWriter(256);
    writeHeader(w, REMOTE);
    writeData(w, EntityIds.UNKNOWN, REMOTE_WRITER, sn, Uint8Array.from([...encapsulation, ...body]));
    return w.bytes.slice(0, w.pos);
  };
  t.participant.receive(bad([0, 3, 0, 0], 1, [1, 0, 0, 0])); // PL_CDR on a user topic
  t.participant.receive(bad([0, 1, 0, 0], 2, [200, 0, 0, 0, 65])); // string longer than the sample
  t.participant.receive(bad([0, 1, 0, 0], 3, [3, 0, 0, 0, 104, 105, 0, 0])); // fine: "hi"
  assert.deepEqual(got, ['hi']);
  assert.equal(errors.length, 1, 'one report per misbehaving publisher');
  assert.match(errors[0], /do not decode as std_msgs\/msg\/String: .*encapsulation 0x0003, expected CDR_BE \(0x0000\) or CDR_LE \(0x0001\)/);
  assert.throws(() => t.advertise('/x', 'std_msgs/msg/String').publishRaw(Uint8Array.from([0, 7, 0, 0])), /encapsulation 0x0007/);
  await t.close();
});

test('fuzz: 100,000 mutated packets through the receive path: no throw, bounded memory, still working', { timeout: 120_000 }, async () => {
  const { p, got, writer, net } = await target(64);
  // what the participant answers goes nowhere (the fake peer does not exist); the parser is under test
  net.dropFilter = () => true;
  const pk = peerPackets(7411);
  p.receive(pk.spdp);
  p.receive(pk.sedp);
  const corpus = Object.values(pk);
  const rand = fuzzRandom(20261121);
  const scratch = new Uint8Array(70000);
  const rssBefore = process.memoryUsage().rss;
  const t0 = Date.now();
  const N = 100_000;
  for (let i = 0; i < N; i++) {
    const len = mutate(corpus, rand, scratch);
    p.receive(scratch.slice(0, len));
    // a real socket delivers between event-loop turns: let timers and deliveries run now and then
    if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
  }
  const seconds = (Date.now() - t0) / 1000;
  const rssGrowthMB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  const stats = p.stats();
  assert.ok(stats.datagrams >= N);
  assert.ok(stats.reassemblyBytes <= 8 << 20, `reassembly within budget (${stats.reassemblyBytes})`);
  assert.ok(p.remote.size <= 64, `participants capped (${p.remote.size})`);
  assert.ok(rssGrowthMB < 256, `memory bounded (rss +${rssGrowthMB.toFixed(0)} MB)`);
  // still working: the peer leaves (disposal) and comes back; its fresh conversation is delivered
  const before = got.length;
  p.receive(buildSpdpDisposeMessage(REMOTE, 99));
  p.receive(pk.spdp);
  p.receive(pk.sedp);
  p.receive(pk.data);
  assert.equal(got.length, before + 1, 'the receive path still delivers');
  assert.deepEqual(got[got.length - 1].subarray(8, 13), new TextEncoder().encode('hello'));
  writer.write(Uint8Array.from([0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]));
  console.log(`fuzz: ${N} packets in ${seconds.toFixed(1)} s, malformed ${stats.malformed}, participants ${p.remote.size}, rss +${rssGrowthMB.toFixed(0)} MB`);
  await p.close();
});
