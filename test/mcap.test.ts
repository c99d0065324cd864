// Recordings as rosbag2 writes them: read back with @mcap/core, every payload decoded by
// @foxglove/rosmsg2-serialization (not onestep's CDR code) against the schema text stored in the file, and the
// container walked byte by byte (magic, record opcodes, chunk / data / summary CRCs, statistics, indexes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { open } from 'node:fs/promises';
import { McapIndexedReader } from '@mcap/core';
import { FileHandleReadable } from '@mcap/nodejs';
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { parse as parseYaml } from 'yaml';
import { McapRecorder, RecorderError, offeredQosProfiles } from '../src/ros/mcap/recorder.ts';
import { RecordingTransport } from '../src/ros/mcap/recording-transport.ts';
import { Recording } from '../src/ros/mcap/reader.ts';
import { getMessageCodec } from '../src/ros/msgs/registry.ts';
import { typeHash } from '../src/ros/msgs/type-hash.ts';
import { InprocTransport } from '../src/ros/inproc.ts';
import { QOS_PROFILES } from '../src/ros/transport.ts';

const dir = mkdtempSync(join(tmpdir(), 'onestep-mcap-'));
const MAGIC = [0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a];

const jointState = (i: number) => ({
  header: { stamp: { sec: 100 + i, nanosec: 1000 * i }, frame_id: 'base' },
  name: ['joint1', 'joint2', 'joint3'],
  position: [0.1 * i, -0.2, 0.3],
  velocity: [0, 1.5, -i],
  effort: [],
});
const command = (i: number) => ({ layout: { dim: [], data_offset: 0 }, data: [i, i / 2, -i / 3] });
const action = (i: number) => ({
  header: { stamp: { sec: 5, nanosec: i }, frame_id: '' },
  observation_stamp: { sec: 100 + i, nanosec: 1000 * i },
  joint_names: ['joint1', 'joint2', 'joint3'],
  data: [0.5, -0.5, i],
  mode: 1,
  clipped: i % 2 === 0,
  inference_time_ms: 0.25,
  latency_ms: 0.5,
});

async function writeSample(path: string, n: number): Promise<{ sent: Map<string, unknown[]> }> {
  const rec = await McapRecorder.create(path, { customData: { purpose: 'test' }, chunkSize: 1024 });
  const js = rec.addTopic('/joint_states', 'sensor_msgs/msg/JointState', QOS_PROFILES.sensor_data);
  const cmd = rec.addTopic('/arm_controller/commands', 'std_msgs/msg/Float64MultiArray', QOS_PROFILES.default);
  const act = rec.addTopic('/policy_node/action', 'onestep_msgs/msg/Action', QOS_PROFILES.default);
  const clock = rec.addTopic('/clock', 'rosgraph_msgs/msg/Clock', QOS_PROFILES.clock);
  const sent = new Map<string, unknown[]>([['/joint_states', []], ['/arm_controller/commands', []], ['/policy_node/action', []], ['/clock', []]]);
  const t0 = 1_700_000_000_000_000_000n;
  for (let i = 0; i < n; i++) {
    const t = t0 + BigInt(i) * 1_000_000n;
    const items: [number, string, string, unknown][] = [
      [clock, '/clock', 'rosgraph_msgs/msg/Clock', { clock: { sec: i, nanosec: 0 } }],
      [js, '/joint_states', 'sensor_msgs/msg/JointState', jointState(i)],
      [cmd, '/arm_controller/commands', 'std_msgs/msg/Float64MultiArray', command(i)],
      [act, '/policy_node/action', 'onestep_msgs/msg/Action', action(i)],
    ];
    items.forEach(([ch, topic, type, msg], k) => {
      rec.write(ch, getMessageCodec(type).encode(msg as Record<string, unknown>), t + BigInt(k));
      sent.get(topic)!.push(msg);
    });
  }
  rec.attach('policy.onnx', 'application/octet-stream', new Uint8Array([1, 2, 3, 4, 5]));
  rec.attach('parameters.yaml', 'application/yaml', new TextEncoder().encode('policy_node:\n  ros__parameters:\n    deterministic: true\n'));
  const summary = await rec.close();
  assert.equal(summary.messages, 4 * n);
  return { sent };
}

test('every payload decodes with @foxglove/rosmsg2-serialization against the schema text stored in the file', async () => {
  const path = join(dir, 'decode.mcap');
  const n = 60;
  const { sent } = await writeSample(path, n);
  const handle = await open(path, 'r');
  try {
    const reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(handle) });
    assert.equal(reader.header.profile, 'ros2');
    const decoders = new Map<number, { topic: string; reader: MessageReader }>();
    for (const channel of reader.channelsById.values()) {
      const schema = reader.schemasById.get(channel.schemaId)!;
      assert.equal(schema.encoding, 'ros2msg');
      assert.equal(channel.messageEncoding, 'cdr');
      assert.match(schema.name, /^[a-z_]+\/msg\/[A-Za-z0-9]+$/);
      const text = new TextDecoder().decode(schema.data);
      decoders.set(channel.id, { topic: channel.topic, reader: new MessageReader(parse(text, { ros2: true })) });
      // what rosbag2 reads from a channel
      const qos = parseYaml(channel.metadata.get('offered_qos_profiles')!);
      assert.ok(Array.isArray(qos) && qos.length === 1);
      for (const key of ['history', 'reliability', 'durability', 'liveliness']) assert.equal(typeof qos[0][key], 'number', `${key} is an integer enum`);
      assert.equal(channel.metadata.get('topic_type_hash'), typeHash(schema.name));
    }
    // dependencies travel with the schema (JointState needs std_msgs/Header and builtin_interfaces/Time)
    const jsSchema = [...reader.schemasById.values()].find((s) => s.name === 'sensor_msgs/msg/JointState')!;
    const jsText = new TextDecoder().decode(jsSchema.data);
    assert.match(jsText, /^MSG: std_msgs\/Header$/m);
    assert.match(jsText, /^MSG: builtin_interfaces\/Time$/m);
    const got = new Map<string, unknown[]>();
    let lastLog = 0n;
    for await (const m of reader.readMessages({ validateCrcs: true })) {
      assert.ok(m.logTime >= lastLog, 'log-time order');
      lastLog = m.logTime;
      const d = decoders.get(m.channelId)!;
      const decoded = d.reader.readMessage(m.data);
      assert.equal(d.reader.lastReadHadTrailingBytes(), false, `${d.topic}: no trailing bytes`);
      if (!got.has(d.topic)) got.set(d.topic, []);
      got.get(d.topic)!.push(decoded);
    }
    const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : typeof v === 'bigint' ? Number(v) : v)));
    for (const [topic, msgs] of sent) {
      const back = got.get(topic)!;
      assert.equal(back.length, n, topic);
      for (let i = 0; i < n; i++) {
        const expected = plain(msgs[i]) as Record<string, unknown>;
        const actual = plain(back[i]) as Record<string, unknown>;
        if (topic === '/policy_node/action') {
          // float32 fields round through float32
          expected.inference_time_ms = Math.fround(0.25);
          expected.latency_ms = Math.fround(0.5);
        }
        assert.deepEqual(actual, expected, `${topic}[${i}]`);
      }
    }
    // attachments: the model and the parameters
    const names = reader.attachmentIndexes.map((a) => a.name).sort();
    assert.deepEqual(names, ['parameters.yaml', 'policy.onnx']);
    for await (const a of reader.readAttachments({ name: 'policy.onnx', validateCrcs: true })) assert.deepEqual([...a.data], [1, 2, 3, 4, 5]);
    // statistics and rosbag2 metadata
    const stats = reader.statistics!;
    assert.equal(stats.messageCount, BigInt(4 * n));
    assert.equal(stats.channelCount, 4);
    assert.equal(stats.schemaCount, 4);
    assert.equal(stats.attachmentCount, 2);
    assert.ok(reader.chunkIndexes.length > 1, 'several chunks (1 KiB chunk size)');
    for (const ci of reader.chunkIndexes) {
      assert.equal(ci.compression, '', 'uncompressed chunks');
      assert.ok(ci.messageIndexLength > 0n, 'message indexes present');
    }
    let meta = '';
    for await (const m of reader.readMetadata({ name: 'rosbag2' })) meta = m.metadata.get('serialized_metadata')!;
    const bag = parseYaml(meta);
    assert.equal(bag.version, 8);
    assert.equal(bag.storage_identifier, 'mcap');
    assert.equal(bag.message_count, 4 * n);
    assert.equal(bag.topics_with_message_count.length, 4);
    const js = bag.topics_with_message_count.find((t: any) => t.topic_metadata.name === '/joint_states');
    assert.equal(js.message_count, n);
    assert.equal(js.topic_metadata.type, 'sensor_msgs/msg/JointState');
    assert.equal(parseYaml(js.topic_metadata.offered_qos_profiles)[0].reliability, 2, 'best effort = 2');
    assert.equal(bag.duration.nanoseconds, (n - 1) * 1_000_000 + 3);
    assert.equal(bag.custom_data.purpose, 'test');
    assert.deepEqual(bag.relative_file_paths, ['decode.mcap']);
  } finally {
    await handle.close();
  }
});

test('the container at the byte level: magic, record opcodes in order, chunk, data-section, attachment and summary CRCs', async () => {
  const path = join(dir, 'bytes.mcap');
  await writeSample(path, 40);
  const b = readFileSync(path);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  assert.deepEqual([...b.subarray(0, 8)], MAGIC, 'leading magic');
  assert.deepEqual([...b.subarray(b.length - 8)], MAGIC, 'trailing magic');
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  const u32 = (at: number) => view.getUint32(at, true);
  const str = (at: number): [string, number] => {
    const len = u32(at);
    return [b.subarray(at + 4, at + 4 + len).toString('utf8'), at + 4 + len];
  };
  const records: { op: number; start: number; body: number; end: number }[] = [];
  let at = 8;
  while (at < b.length - 8) {
    const op = b[at];
    const len = u64(at + 1);
    records.push({ op, start: at, body: at + 9, end: at + 9 + len });
    at += 9 + len;
  }
  assert.equal(at, b.length - 8, 'records tile the file exactly');
  const ops = records.map((r) => r.op);
  assert.equal(ops[0], 0x01, 'Header first');
  assert.equal(ops[ops.length - 1], 0x02, 'Footer last');
  const header = records[0];
  const [profile, afterProfile] = str(header.body);
  assert.equal(profile, 'ros2');
  assert.equal(str(afterProfile)[0], 'onestep');
  const dataEnd = ops.indexOf(0x0f);
  assert.ok(dataEnd > 0, 'DataEnd present');
  const dataOps = new Set(ops.slice(1, dataEnd));
  for (const op of [0x06, 0x07, 0x09, 0x0c]) assert.ok(dataOps.has(op), `data section has opcode 0x${op.toString(16)}`);
  assert.ok(!dataOps.has(0x05), 'messages only inside chunks');
  const summaryOps = ops.slice(dataEnd + 1, -1);
  for (const op of [0x03, 0x04, 0x08, 0x0a, 0x0b, 0x0d, 0x0e]) assert.ok(summaryOps.includes(op), `summary has opcode 0x${op.toString(16)}`);

  // every chunk: its CRC covers the uncompressed records, which parse as Schema/Channel/Message records
  let chunkMessages = 0;
  const chunkOps = new Set<number>();
  for (const r of records.filter((x) => x.op === 0x06)) {
    const size = u64(r.body + 16);
    const crc = u32(r.body + 24);
    const [compression, next] = str(r.body + 28);
    assert.equal(compression, '');
    const recLen = u64(next);
    const inner = b.subarray(next + 8, next + 8 + recLen);
    assert.equal(inner.length, size);
    assert.equal(crc32(inner), crc, 'chunk CRC');
    let k = 0;
    while (k < inner.length) {
      const op = inner[k];
      assert.ok([0x03, 0x04, 0x05].includes(op), `chunk record opcode 0x${op.toString(16)}`);
      chunkOps.add(op);
      if (op === 0x05) chunkMessages++;
      k += 9 + Number(new DataView(inner.buffer, inner.byteOffset + k + 1, 8).getBigUint64(0, true));
    }
    assert.equal(k, inner.length);
  }
  assert.equal(chunkMessages, 160);
  // schemas and channels precede their first message (in the data section or inside the chunk)
  for (const op of [0x03, 0x04]) assert.ok(dataOps.has(op) || chunkOps.has(op), `opcode 0x${op.toString(16)} in the data section`);
  // attachments: CRC over every field before it
  for (const r of records.filter((x) => x.op === 0x09)) assert.equal(crc32(b.subarray(r.body, r.end - 4)), u32(r.end - 4), 'attachment CRC');
  // DataEnd: CRC of everything before it (magic included)
  const de = records[dataEnd];
  assert.equal(u32(de.body), crc32(b.subarray(0, de.start)), 'data section CRC');
  // Footer: summary start, summary offset start, CRC from the summary start through the footer's fields before the CRC
  const footer = records[records.length - 1];
  const summaryStart = u64(footer.body);
  const summaryOffsetStart = u64(footer.body + 8);
  assert.equal(summaryStart, records[dataEnd + 1].start);
  assert.equal(b[summaryOffsetStart], 0x0e, 'summary offsets start at a SummaryOffset record');
  assert.equal(u32(footer.body + 16), crc32(b.subarray(summaryStart, footer.body + 16)), 'summary CRC');
  // Statistics: message count 160, 4 channels
  const stats = records.find((r) => r.op === 0x0b)!;
  assert.equal(u64(stats.body), 160);
  assert.equal(view.getUint16(stats.body + 8, true), 4, 'schema count');
  assert.equal(u32(stats.body + 10), 4, 'channel count');
});

test('RecordingTransport records what a node receives and sends, at receive and send time', async () => {
  const path = join(dir, 'transport.mcap');
  const recorder = await McapRecorder.create(path);
  const inner = new InprocTransport({ node: { name: 'policy_node', namespace: '/' } });
  const other = new InprocTransport({ node: { name: 'robot', namespace: '/' } });
  const t = new RecordingTransport(inner, recorder);
  const got: number[] = [];
  t.subscribe<{ data: number[] }>('/in', 'std_msgs/msg/Float64MultiArray', 'default', (m) => got.push(m.data[0]));
  const out = t.advertise<{ data: string }>('~/out', 'std_msgs/msg/String', 'default');
  const codec = getMessageCodec('std_msgs/msg/String');
  const pub = other.advertise<{ layout: unknown; data: number[] }>('/in', 'std_msgs/msg/Float64MultiArray', 'default');
  for (let i = 0; i < 5; i++) {
    pub.publish({ layout: { dim: [], data_offset: 0 }, data: [i] });
    out.publish({ data: `hello ${i}` });
    out.publishRaw(codec.encode({ data: `raw ${i}` }));
  }
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
  await t.close();
  await other.close();
  const summary = await recorder.close();
  assert.equal(summary.messages, 15);
  const rec = await Recording.open(path);
  try {
    assert.deepEqual(rec.topics.map((x) => [x.topic, x.type, x.messages]).sort(), [
      ['/in', 'std_msgs/msg/Float64MultiArray', 5],
      ['/policy_node/out', 'std_msgs/msg/String', 10],
    ]);
    const strings: string[] = [];
    for await (const m of rec.messages<{ data: string }>(['/policy_node/out'])) strings.push(m.message.data);
    assert.deepEqual(strings, ['hello 0', 'raw 0', 'hello 1', 'raw 1', 'hello 2', 'raw 2', 'hello 3', 'raw 3', 'hello 4', 'raw 4']);
    const now = BigInt(Date.now()) * 1_000_000n;
    for await (const m of rec.messages(['/in'])) assert.ok(now - m.logTime < 60_000_000_000n && m.logTime <= now + 1_000_000_000n, 'log time is wall-clock ns');
  } finally {
    await rec.close();
  }
});

test('bad use is refused with a clear error', async () => {
  const rec = await McapRecorder.create(join(dir, 'bad.mcap'));
  rec.addTopic('/x', 'std_msgs/msg/String', QOS_PROFILES.default);
  assert.throws(() => rec.addTopic('/x', 'std_msgs/msg/Bool', QOS_PROFILES.default), /recorded as std_msgs\/msg\/String/);
  assert.throws(() => rec.write(99, new Uint8Array(8), 1n), /no topic was added with channel id 99/);
  assert.throws(() => rec.addTopic('/y', 'nope_msgs/msg/Nope', QOS_PROFILES.default), /unknown message type/);
  await rec.close();
  await assert.rejects(() => McapRecorder.create(join(dir, 'no/such/dir/x.mcap')), RecorderError);
  await assert.rejects(() => Recording.open(join(dir, 'missing.mcap')), /cannot open the recording/);
  assert.match(offeredQosProfiles(QOS_PROFILES.default), /reliability: 1\n {2}durability: 2/);
});
