// Hostile input: truncated, oversized and random datagrams, unknown submessages, vendor parameters, wrong
// encapsulation, and a fuzz run of 100,000 mutated packets through the whole receive path. Nothing may
// throw, memory must stay bounded, and the participant must keep working afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Participant } from '../src/ros/rtps/participant.ts';
import { RtpsTransport } from '../src/ros/rtps/transport.ts';
import { MemoryNetwork } from '../src/ros/rtps/platform/memory-udp.ts';
import { fromRosQos } from '../src/ros/rtps/qos.ts';
import { WireWriter } from '../src/ros/rtps/wire/writer.ts';
import { writeHeader } from '../src/ros/rtps/message/header.ts';
import { writeData } from '../src/ros/rtps/submessages/data.ts';
import { writeDataFrag } from '../src/ros/rtps/submessages/data-frag.ts';
import { writeHeartbeat } from '../src/ros/rtps/submessages/heartbeat.ts';
import { writeHeartbeatFrag } from '../src/ros/rtps/submessages/heartbeat-frag.ts';
import { writeAckNack } from '../src/ros/rtps/submessages/acknack.ts';
import { writeNackFrag } from '../src/ros/rtps/submessages/nack-frag.ts';
import { writeGap } from '../src/ros/rtps/submessages/gap.ts';
import { writeInfoTsNow } from '../src/ros/rtps/submessages/info-ts.ts';
import { writeInfoDst } from '../src/ros/rtps/submessages/info-dst.ts';
import { FragmentNumberSet, SequenceNumberSet } from '../src/ros/rtps/ids/sequence-number.ts';
import { EntityIds } from '../src/ros/rtps/ids/guid.ts';
import { udpv4 } from '../src/ros/rtps/ids/locator.ts';
import { encodeParticipantData } from '../src/ros/rtps/discovery/participant-data.ts';
import { encodeEndpointData } from '../src/ros/rtps/discovery/endpoint-data.ts';
import { writeParameter, writeSentinel } from '../src/ros/rtps/parameters/parameter-list.ts';
import { buildSpdpDisposeMessage } from '../src/ros/rtps/discovery/spdp.ts';

const TOPIC = 'rt/chatter';
const TYPE = 'std_msgs::msg::dds_::String_';
const REMOTE = Uint8Array.from([0x01, 0x10, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1]);
const REMOTE_WRITER = 0x00000103;
const quiet = { warn: () => {}, debug: () => {} };

/** A fake Cyclone-like peer: the packets it would send to announce itself and publish on TOPIC. */
function peerPackets(ourReaderPort: number, vendorJunk = false): Record<string, Uint8Array> {
  const msg = (build: (w: WireWriter) => void) => {
    const w = new WireWriter(65536);
    writeHeader(w, REMOTE);
    build(w);
    return w.bytes.slice(0, w.pos);
  };
  let spdp = encodeParticipantData({
    guidPrefix: REMOTE,
    vendorId: 0x0110,
    protocolMinor: 2,
    domainId: 0,
    domainTag: '',
    defaultUnicast: [udpv4('127.0.0.1', ourReaderPort + 100)],
    defaultMulticast: [],
    metatrafficUnicast: [udpv4('127.0.0.1', ourReaderPort + 101)],
    metatrafficMulticast: [],
    leaseDuration: 30,
    builtinEndpoints: 0x3f,
    userData: new Uint8Array(0),
    entityName: '',
  });
  if (vendorJunk) {
    // splice vendor-specific parameters (Cyclone's 0x8xxx) in front of the sentinel
    const w = new WireWriter(spdp.length + 64);
    w.raw(spdp, 0, spdp.length - 4);
    w.origin = 4;
    writeParameter(w, 0x8007, (w) => w.zeros(20));
    writeParameter(w, 0x8019, (w) => w.u32(0xdeadbeef));
    writeSentinel(w);
    spdp = w.bytes.slice(0, w.pos);
  }
  const sedp = encodeEndpointData(
    {
      guid: { prefix: REMOTE, entityId: REMOTE_WRITER },
      topicName: TOPIC,
      typeName: TYPE,
      qos: fromRosQos({ reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 }, true),
      unicastLocators: [],
      multicastLocators: [],
      userData: new Uint8Array(0),
      expectsInlineQos: false,
      vendorId: 0x0110,
    },
    REMOTE,
  );
  const user = Uint8Array.from([0, 1, 0, 0, 6, 0, 0, 0, 104, 101, 108, 108, 111, 0]);
  const big = new Uint8Array(5000);
  big[1] = 1;
  const set = new SequenceNumberSet().reset(1);
  set.add(1);
  const frags = new FragmentNumberSet().reset(1);
  frags.add(1);
  return {
    spdp: msg((w) => {
      writeInfoTsNow(w);
      writeData(w, EntityIds.UNKNOWN, EntityIds.SPDP_WRITER, 1, spdp);
    }),
    sedp: msg((w) => {
      writeData(w, EntityIds.SEDP_PUBLICATIONS_READER, EntityIds.SEDP_PUBLICATIONS_WRITER, 1, sedp);
      writeHeartbeat(w, EntityIds.SEDP_PUBLICATIONS_READER, EntityIds.SEDP_PUBLICATIONS_WRITER, 1, 1, 1, true);
    }),
    data: msg((w) => {
      writeInfoTsNow(w);
      writeData(w, EntityIds.UNKNOWN, REMOTE_WRITER, 1, user);
      writeHeartbeat(w, EntityIds.UNKNOWN, REMOTE_WRITER, 1, 1, 2, false);
    }),
    frag: msg((w) => {
      writeDataFrag(w, EntityIds.UNKNOWN, REMOTE_WRITER, 2, big, 1344, 1, 1);
      writeDataFrag(w, EntityIds.UNKNOWN, REMOTE_WRITER, 2, big, 1344, 2, 1);
      writeHeartbeatFrag(w, EntityIds.UNKNOWN, REMOTE_WRITER, 2, 4, 1);
    }),
    gap: msg((w) => {
      writeInfoDst(w, new Uint8Array(12));
      writeGap(w, EntityIds.UNKNOWN, REMOTE_WRITER, 3, new SequenceNumberSet().reset(5));
    }),
    acknack: msg((w) => {
      writeAckNack(w, 0x00000104, 0x00000103, set, 1, false);
      writeNackFrag(w, 0x00000104, 0x00000103, 1, frags, 1);
      writeAckNack(w, EntityIds.SEDP_PUBLICATIONS_READER, EntityIds.SEDP_PUBLICATIONS_WRITER, set, 1, false);
    }),
  };
}

async function target(maxRemoteParticipants = 1000) {
  const net = new MemoryNetwork();
  const p = await Participant.create({ platform: net.platform(), logger: quiet, env: {}, maxRemoteParticipants, reassemblyBudget: 8 << 20, maxSampleSize: 4 << 20 });
  const got: Uint8Array[] = [];
  const reader = p.createReader({
    topicName: TOPIC,
    typeName: TYPE,
    qos: fromRosQos({ reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 }, false),
    onSample: (x) => got.push(x),
  });
  const writer = p.createWriter({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos({ reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth: 10 }, true) });
  writer.write(Uint8Array.from([0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]));
  return { net, p, got, reader, writer };
}

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
  let seed = 20261121;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % n;
  };
  const scratch = new Uint8Array(70000);
  const rssBefore = process.memoryUsage().rss;
  const t0 = Date.now();
  const N = 100_000;
  for (let i = 0; i < N; i++) {
    const base = corpus[rand(corpus.length)];
    let len = base.length;
    scratch.set(base);
    const mutations = 1 + rand(4);
    for (let m = 0; m < mutations; m++) {
      switch (rand(7)) {
        case 0: // flip bits
          scratch[20 + rand(len - 20)] ^= 1 << rand(8);
          break;
        case 1: // random byte
          scratch[20 + rand(len - 20)] = rand(256);
          break;
        case 2: // truncate
          len = 20 + rand(len - 19);
          break;
        case 3: // extend with junk
          for (let k = 0; k < 64 && len < scratch.length; k++) scratch[len++] = rand(256);
          break;
        case 4: {
          // interesting 16/32-bit values (lengths, counts) at a random aligned offset
          const at = 20 + 2 * rand((len - 22) >> 1);
          const v = [0, 1, 0xffff, 0x7fff, 0x8000, 4, 0xfff0][rand(7)];
          scratch[at] = v & 0xff;
          scratch[at + 1] = v >> 8;
          break;
        }
        case 5: // new source prefix: looks like another participant
          scratch[8 + rand(12)] = rand(256);
          break;
        default: {
          // duplicate a chunk of another packet into this one
          const other = corpus[rand(corpus.length)];
          const from = rand(other.length);
          const n = Math.min(rand(200), other.length - from, scratch.length - len);
          scratch.set(other.subarray(from, from + n), len);
          len += n;
        }
      }
    }
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
