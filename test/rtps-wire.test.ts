// RTPS wire format: identifiers, submessages, parameter lists, discovery data and QoS rules, each written and
// read back, plus the malformed cases a peer can send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireReader } from '../src/ros/rtps/wire/reader.ts';
import { WireWriter } from '../src/ros/rtps/wire/writer.ts';
import { RtpsParseError } from '../src/ros/rtps/wire/errors.ts';
import {
  EntityIds,
  guidFromHex,
  guidToHex,
  isReaderEntity,
  isWriterEntity,
  makeEntityId,
  PrefixMap,
} from '../src/ros/rtps/ids/guid.ts';
import { readLocator, udpv4, writeLocator } from '../src/ros/rtps/ids/locator.ts';
import { readSequenceNumber, SequenceNumberSet, writeSequenceNumber } from '../src/ros/rtps/ids/sequence-number.ts';
import { writeHeader } from '../src/ros/rtps/message/header.ts';
import { MessageReceiver, type SubmessageHandler } from '../src/ros/rtps/message/receiver.ts';
import { writeData } from '../src/ros/rtps/submessages/data.ts';
import { writeDataFrag } from '../src/ros/rtps/submessages/data-frag.ts';
import { writeHeartbeat } from '../src/ros/rtps/submessages/heartbeat.ts';
import { writeHeartbeatFrag } from '../src/ros/rtps/submessages/heartbeat-frag.ts';
import { writeAckNack } from '../src/ros/rtps/submessages/acknack.ts';
import { writeNackFrag } from '../src/ros/rtps/submessages/nack-frag.ts';
import { writeGap } from '../src/ros/rtps/submessages/gap.ts';
import { writeInfoDst } from '../src/ros/rtps/submessages/info-dst.ts';
import { writeInfoTsNow } from '../src/ros/rtps/submessages/info-ts.ts';
import { writePad } from '../src/ros/rtps/submessages/pad.ts';
import { FragmentNumberSet } from '../src/ros/rtps/ids/sequence-number.ts';
import { readParameterList, writeParameter, writeSentinel } from '../src/ros/rtps/parameters/parameter-list.ts';
import { PID } from '../src/ros/rtps/parameters/pid.ts';
import { decodeParticipantData, encodeParticipantData } from '../src/ros/rtps/discovery/participant-data.ts';
import { decodeEndpointData, encodeEndpointData } from '../src/ros/rtps/discovery/endpoint-data.ts';
import { defaultEndpointQos, fromRosQos, qosIncompatibility } from '../src/ros/rtps/qos.ts';
import { discoveryConfigFromEnv, metatrafficUnicastPort, spdpMulticastPort, userUnicastPort } from '../src/ros/rtps/config.ts';
import { encodeParticipantEntitiesInfo, gidSizeFor } from '../src/ros/rtps/graph-info.ts';
import { getMessageCodec } from '../src/ros/msgs/index.ts';

const PREFIX = Uint8Array.from([1, 0xfe, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

test('GUID and entity ids: hex round trip, kinds, prefix map lookups without string keys', () => {
  const guid = { prefix: PREFIX, entityId: makeEntityId(5, 0x03) };
  assert.equal(guidToHex(guid), '01fe02030405060708090a0b00000503');
  assert.deepEqual(guidFromHex(guidToHex(guid)), { prefix: PREFIX, entityId: 0x503 });
  assert.ok(isWriterEntity(EntityIds.SEDP_PUBLICATIONS_WRITER) && !isReaderEntity(EntityIds.SEDP_PUBLICATIONS_WRITER));
  assert.ok(isReaderEntity(EntityIds.SPDP_READER));
  assert.throws(() => guidFromHex('xyz'), RtpsParseError);
  const map = new PrefixMap<string>();
  map.set(PREFIX, 'a');
  const other = PREFIX.slice();
  other[11] = 99;
  map.set(other, 'b');
  const datagram = new Uint8Array(20);
  datagram.set(other, 8);
  assert.equal(map.getAt(datagram, 8), 'b');
  assert.equal(map.get(PREFIX), 'a');
  assert.equal(map.size, 2);
  assert.ok(map.delete(PREFIX));
  assert.equal(map.get(PREFIX), undefined);
});

test('locators and sequence numbers round-trip, including 64-bit sequence numbers', () => {
  const w = new WireWriter(128);
  writeLocator(w, udpv4('192.168.1.20', 7411));
  writeSequenceNumber(w, 2 ** 40 + 7);
  const r = new WireReader().reset(w.bytes, 0, w.pos);
  assert.deepEqual(readLocator(r), { kind: 1, port: 7411, address: '192.168.1.20' });
  assert.equal(readSequenceNumber(r), 2 ** 40 + 7);
  assert.throws(() => writeLocator(new WireWriter(64), udpv4('300.1.1.1', 1)), RtpsParseError);
});

test('SequenceNumberSet: membership, order, wire form, and numBits > 256 is rejected', () => {
  const set = new SequenceNumberSet().reset(100);
  for (const sn of [100, 131, 132, 355]) assert.ok(set.add(sn));
  assert.ok(!set.add(356), 'beyond 256 bits');
  assert.ok(!set.add(99), 'below base');
  const seen: number[] = [];
  set.forEach((sn) => seen.push(sn));
  assert.deepEqual(seen, [100, 131, 132, 355]);
  const w = new WireWriter(64);
  set.write(w);
  const back = new SequenceNumberSet().read(new WireReader().reset(w.bytes, 0, w.pos));
  assert.equal(back.base, 100);
  assert.ok(back.has(355) && back.has(131) && !back.has(101));
  const bad = new WireWriter(16);
  writeSequenceNumber(bad, 1);
  bad.u32(257);
  assert.throws(() => new SequenceNumberSet().read(new WireReader().reset(bad.bytes, 0, bad.pos)), RtpsParseError);
});

/** Captures what the receiver hands out (copies, since its objects are reused). */
function capture(): { handler: SubmessageHandler; seen: Record<string, unknown>[] } {
  const seen: Record<string, unknown>[] = [];
  const handler: SubmessageHandler = {
    onData: (ctx, m) => seen.push({ kind: 'data', sn: m.writerSN, writer: m.writerId, reader: m.readerId, payload: ctx.bytes.slice(m.payloadStart, m.payloadEnd), status: m.inlineQos.statusInfo, ts: ctx.timestamp.valid }),
    onDataFrag: (ctx, m) => seen.push({ kind: 'frag', sn: m.writerSN, first: m.fragmentStartingNum, size: m.sampleSize, fragSize: m.fragmentSize, bytes: ctx.bytes.slice(m.payloadStart, m.payloadEnd) }),
    onHeartbeat: (_c, m) => seen.push({ kind: 'hb', first: m.firstSN, last: m.lastSN, count: m.count, final: m.final }),
    onHeartbeatFrag: (_c, m) => seen.push({ kind: 'hbfrag', sn: m.writerSN, last: m.lastFragmentNum }),
    onAckNack: (_c, m) => {
      const sns: number[] = [];
      m.readerSNState.forEach((s) => sns.push(s));
      seen.push({ kind: 'acknack', base: m.readerSNState.base, sns, count: m.count, final: m.final });
    },
    onNackFrag: (_c, m) => {
      const frags: number[] = [];
      m.fragmentNumberState.forEach((f) => frags.push(f));
      seen.push({ kind: 'nackfrag', sn: m.writerSN, frags });
    },
    onGap: (_c, m) => seen.push({ kind: 'gap', start: m.gapStart, base: m.gapList.base }),
  };
  return { handler, seen };
}

test('every submessage we write is read back with the same fields', () => {
  const w = new WireWriter(4096);
  writeHeader(w, PREFIX);
  writeInfoTsNow(w);
  const payload = Uint8Array.from([0, 1, 0, 0, 5, 0, 0, 0, 104, 101, 108, 108, 111]); // padded on the wire
  writeData(w, EntityIds.UNKNOWN, 0x103, 42, payload);
  const big = new Uint8Array(3000).map((_, i) => i & 0xff);
  writeDataFrag(w, 0x104, 0x103, 43, big, 1024, 2, 1);
  writeHeartbeat(w, 0, 0x103, 1, 43, 7, true);
  writeHeartbeatFrag(w, 0, 0x103, 43, 3, 2);
  const set = new SequenceNumberSet().reset(5);
  set.add(5);
  set.add(9);
  writeAckNack(w, 0x104, 0x103, set, 3, false);
  const frags = new FragmentNumberSet().reset(2);
  frags.add(2);
  frags.add(3);
  writeNackFrag(w, 0x104, 0x103, 43, frags, 4);
  writeGap(w, 0x104, 0x103, 10, new SequenceNumberSet().reset(12));
  writePad(w, 8);
  const { handler, seen } = capture();
  const rx = new MessageReceiver(handler);
  assert.ok(rx.receive(w.bytes.slice(0, w.pos)));
  assert.equal(rx.stats.malformed, 0);
  assert.deepEqual(
    seen.map((s) => s.kind),
    ['data', 'frag', 'hb', 'hbfrag', 'acknack', 'nackfrag', 'gap'],
  );
  const data = seen[0] as { sn: number; payload: Uint8Array; ts: boolean };
  assert.equal(data.sn, 42);
  assert.ok(data.ts, 'INFO_TS applies to the DATA');
  assert.equal(data.payload.length, 16, 'payload padded to 4 octets');
  assert.equal(data.payload[3], 3, 'pad count in the encapsulation options');
  assert.deepEqual(data.payload.subarray(4, 13), payload.subarray(4));
  const frag = seen[1] as { first: number; size: number; fragSize: number; bytes: Uint8Array };
  assert.deepEqual([frag.first, frag.size, frag.fragSize], [2, 3000, 1024]);
  assert.deepEqual(frag.bytes.subarray(0, 1024), big.subarray(1024, 2048));
  assert.deepEqual(seen[2], { kind: 'hb', first: 1, last: 43, count: 7, final: true });
  assert.deepEqual(seen[4], { kind: 'acknack', base: 5, sns: [5, 9], count: 3, final: false });
  assert.deepEqual(seen[5], { kind: 'nackfrag', sn: 43, frags: [2, 3] });
  assert.deepEqual(seen[6], { kind: 'gap', start: 10, base: 12 });
});

test('receiver: INFO_DST for another participant hides what follows; big-endian submessages parse', () => {
  const w = new WireWriter(512);
  writeHeader(w, PREFIX);
  const other = new Uint8Array(12).fill(7);
  writeInfoDst(w, other);
  writeHeartbeat(w, 0, 0x103, 1, 2, 1, false);
  // a big-endian HEARTBEAT addressed to everyone again (INFO_DST of zeros)
  writeInfoDst(w, new Uint8Array(12));
  const at = w.pos;
  w.u8(0x07);
  w.u8(0x00); // E = 0: big endian
  w.u16be(28);
  w.u32be(0);
  w.u32be(0x103);
  w.u32be(0);
  w.u32be(3);
  w.u32be(0);
  w.u32be(9);
  w.u32be(5);
  assert.equal(w.pos - at, 32);
  const { handler, seen } = capture();
  const rx = new MessageReceiver(handler);
  rx.ownPrefix = PREFIX;
  rx.receive(w.bytes.slice(0, w.pos));
  assert.deepEqual(seen, [{ kind: 'hb', first: 3, last: 9, count: 5, final: false }]);
});

test('receiver: truncated, oversized-length and non-RTPS datagrams are counted as malformed, never thrown', () => {
  const w = new WireWriter(256);
  writeHeader(w, PREFIX);
  writeHeartbeat(w, 0, 0x103, 1, 2, 1, false);
  const good = w.bytes.slice(0, w.pos);
  const { handler, seen } = capture();
  const rx = new MessageReceiver(handler);
  for (let cut = 0; cut < good.length; cut++) rx.receive(good.subarray(0, cut));
  const longer = good.slice();
  longer[22] = 0xff; // octetsToNextHeader beyond the datagram
  rx.receive(longer);
  rx.receive(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'));
  assert.equal(seen.length, 0);
  assert.ok(rx.stats.malformed >= 3);
  // unknown and vendor-specific submessages are skipped by length; what follows still parses
  const v = new WireWriter(256);
  writeHeader(v, PREFIX);
  v.u8(0x80);
  v.u8(1);
  v.u16(8);
  v.zeros(8);
  v.u8(0x33);
  v.u8(1);
  v.u16(4);
  v.zeros(4);
  writeHeartbeat(v, 0, 0x103, 1, 2, 1, false);
  rx.receive(v.bytes.slice(0, v.pos));
  assert.equal(seen.length, 1);
  assert.equal(rx.stats.unknownSubmessages, 2);
});

test('parameter lists: vendor-specific ids are skipped, unknown must-understand ids reject the list', () => {
  const build = (extra: (w: WireWriter) => void) => {
    const w = new WireWriter(256);
    writeParameter(w, PID.TOPIC_NAME, (w) => w.string('rt/x'));
    extra(w);
    writeParameter(w, PID.TYPE_NAME, (w) => w.string('T'));
    writeSentinel(w);
    return new WireReader().reset(w.bytes, 0, w.pos);
  };
  const names: string[] = [];
  readParameterList(
    build((w) => writeParameter(w, 0x8001, (w) => w.zeros(12))),
    (pid, r) => {
      if (pid === PID.TOPIC_NAME || pid === PID.TYPE_NAME) names.push(r.string());
      return pid !== 0x8001;
    },
  );
  assert.deepEqual(names, ['rt/x', 'T']);
  assert.throws(
    () => readParameterList(build((w) => writeParameter(w, 0x4fff, (w) => w.u32(1))), () => false),
    /must-understand/,
  );
  const noSentinel = new WireWriter(64);
  writeParameter(noSentinel, PID.TOPIC_NAME, (w) => w.string('a'));
  assert.throws(() => readParameterList(new WireReader().reset(noSentinel.bytes, 0, noSentinel.pos), () => true), RtpsParseError);
});

test('SPDP participant data round-trips; a list without the participant GUID is rejected', () => {
  const data = {
    guidPrefix: PREFIX,
    vendorId: 0x01fe,
    protocolMinor: 3,
    domainId: 7,
    domainTag: '',
    defaultUnicast: [udpv4('127.0.0.1', 7411)],
    defaultMulticast: [],
    metatrafficUnicast: [udpv4('127.0.0.1', 7410)],
    metatrafficMulticast: [udpv4('239.255.0.1', 7400)],
    leaseDuration: 12.5,
    builtinEndpoints: 0x3f,
    userData: new TextEncoder().encode('enclave=/;'),
    entityName: 'policy',
  };
  const back = decodeParticipantData(encodeParticipantData(data));
  assert.deepEqual(back, data);
  const bogus = Uint8Array.from([0, 3, 0, 0, 1, 0, 0, 0]); // PL_CDR_LE, sentinel only
  assert.throws(() => decodeParticipantData(bogus), /PARTICIPANT_GUID/);
  assert.throws(() => decodeParticipantData(Uint8Array.from([0, 1, 0, 0, 1, 0, 0, 0])), /PL_CDR/);
});

test('SEDP endpoint data round-trips with QoS; absent policies take the DDS defaults', () => {
  const qos = fromRosQos({ reliability: 'best_effort', durability: 'transient_local', history: 'keep_last', depth: 5 }, true);
  const data = {
    guid: { prefix: PREFIX, entityId: 0x103 },
    topicName: 'rt/joint_states',
    typeName: 'sensor_msgs::msg::dds_::JointState_',
    qos,
    unicastLocators: [udpv4('10.0.0.2', 7413)],
    multicastLocators: [],
    userData: new Uint8Array(0),
    expectsInlineQos: false,
    vendorId: 0x01fe,
  };
  const back = decodeEndpointData(encodeEndpointData(data, PREFIX));
  assert.deepEqual(back, data);
  // only the GUID, topic and type: a writer defaults to RELIABLE, a reader to BEST_EFFORT
  const w = new WireWriter(256);
  w.u16be(3);
  w.u16(0);
  w.origin = w.pos;
  writeParameter(w, PID.ENDPOINT_GUID, (w) => {
    w.raw(PREFIX);
    w.u32be(0x104);
  });
  writeParameter(w, PID.TOPIC_NAME, (w) => w.string('rt/a'));
  writeParameter(w, PID.TYPE_NAME, (w) => w.string('A'));
  writeSentinel(w);
  const reader = decodeEndpointData(w.bytes.slice(0, w.pos));
  assert.equal(reader.qos.reliability, 'best_effort');
  assert.deepEqual(reader.qos, defaultEndpointQos(false));
});

test('QoS request/offered rules name the failing policy', () => {
  const q = (reliability: 'reliable' | 'best_effort', durability: 'volatile' | 'transient_local', writer: boolean) =>
    fromRosQos({ reliability, durability, history: 'keep_last', depth: 10 }, writer);
  assert.equal(qosIncompatibility(q('reliable', 'volatile', true), q('best_effort', 'volatile', false)), undefined);
  assert.equal(qosIncompatibility(q('reliable', 'transient_local', true), q('reliable', 'volatile', false)), undefined);
  assert.match(qosIncompatibility(q('best_effort', 'volatile', true), q('reliable', 'volatile', false))!, /^RELIABILITY/);
  assert.match(qosIncompatibility(q('reliable', 'volatile', true), q('reliable', 'transient_local', false))!, /^DURABILITY/);
  const writer = q('reliable', 'volatile', true);
  const reader = q('reliable', 'volatile', false);
  reader.deadline = 0.1;
  assert.match(qosIncompatibility(writer, reader)!, /^DEADLINE/);
  reader.deadline = Infinity;
  reader.partitions = ['robot1'];
  assert.match(qosIncompatibility(writer, reader)!, /^PARTITION/);
  writer.partitions = ['robot*'];
  assert.equal(qosIncompatibility(writer, reader), undefined);
  reader.dataRepresentation = [2];
  assert.match(qosIncompatibility(writer, reader)!, /^DATA_REPRESENTATION/);
});

test('port mapping and the ROS discovery environment', () => {
  assert.equal(spdpMulticastPort(0), 7400);
  assert.equal(metatrafficUnicastPort(0, 0), 7410);
  assert.equal(userUnicastPort(0, 0), 7411);
  assert.equal(metatrafficUnicastPort(1, 2), 7664);
  assert.equal(userUnicastPort(42, 1), 17913);
  assert.deepEqual(discoveryConfigFromEnv({}), { domainId: 0, range: 'subnet', staticPeers: [], localhostOnly: false });
  assert.equal(discoveryConfigFromEnv({ ROS_LOCALHOST_ONLY: '1' }).range, 'localhost');
  assert.equal(discoveryConfigFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: 'LOCALHOST' }).range, 'localhost');
  assert.equal(discoveryConfigFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: 'OFF' }).range, 'off');
  assert.deepEqual(discoveryConfigFromEnv({ ROS_STATIC_PEERS: '10.0.0.2; 10.0.0.3' }).staticPeers, ['10.0.0.2', '10.0.0.3']);
  assert.equal(discoveryConfigFromEnv({ ROS_DOMAIN_ID: '17' }).domainId, 17);
  assert.throws(() => discoveryConfigFromEnv({ ROS_DOMAIN_ID: 'abc' }), /ROS_DOMAIN_ID/);
  assert.throws(() => discoveryConfigFromEnv({ ROS_DOMAIN_ID: '300' }), /ROS_DOMAIN_ID/);
  assert.throws(() => discoveryConfigFromEnv({ ROS_AUTOMATIC_DISCOVERY_RANGE: 'MOON' }), /ROS_AUTOMATIC_DISCOVERY_RANGE/);
});

test('ros_discovery_info encodes exactly like the shared CDR codec (16- and 24-byte GIDs)', () => {
  const participant = { prefix: PREFIX, entityId: EntityIds.PARTICIPANT };
  const writer = { prefix: PREFIX, entityId: 0x103 };
  const reader = { prefix: PREFIX, entityId: 0x204 };
  const bytes = encodeParticipantEntitiesInfo(participant, [{ namespace: '/arm', name: 'policy', readers: [reader], writers: [writer] }], 16);
  const codec = getMessageCodec<{ gid: { data: ArrayLike<number> }; node_entities_info_seq: { node_name: string; node_namespace: string; writer_gid_seq: { data: ArrayLike<number> }[] }[] }>(
    'rmw_dds_common/msg/ParticipantEntitiesInfo',
  );
  const msg = codec.decode(bytes);
  assert.equal(msg.node_entities_info_seq[0].node_name, 'policy');
  assert.equal(msg.node_entities_info_seq[0].node_namespace, '/arm');
  assert.deepEqual(Array.from(msg.node_entities_info_seq[0].writer_gid_seq[0].data).slice(12, 16), [0, 0, 1, 3]);
  assert.equal(gidSizeFor('humble'), 24);
  assert.equal(gidSizeFor('jazzy'), 16);
  assert.equal(encodeParticipantEntitiesInfo(participant, [], 24).length, 4 + 24 + 4);
});
