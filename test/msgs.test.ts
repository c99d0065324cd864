import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from '@foxglove/rosmsg';
import {
  CdrDecodeError,
  CdrEncodeError,
  UnknownMessageTypeError,
  getMessageCodec,
  getServiceCodec,
  knownMessageTypes,
} from '../src/ros/msgs/index.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('std_msgs/String encodes to the bytes rmw writes (CDR_LE, options = trailing padding)', () => {
  const codec = getMessageCodec<{ data: string }>('std_msgs/String');
  assert.equal(codec.ddsType, 'std_msgs::msg::dds_::String_');
  assert.equal(hex(codec.encode({ data: 'hello' })), '00010002' + '06000000' + '68656c6c6f00' + '0000');
  assert.deepEqual(codec.decode(Buffer.from('00010000' + '0600000068656c6c6f00', 'hex')), { data: 'hello' });
  // multi-byte UTF-8 is sized in bytes, not UTF-16 units
  assert.equal(codec.decode(codec.encode({ data: 'héllo ✓' })).data, 'héllo ✓');
  assert.equal(getMessageCodec('std_msgs/msg/String'), codec, 'one cached codec per type, either spelling');
});

test('JointState round-trips; aligned float64[] decode as views into the received bytes', () => {
  const codec = getMessageCodec('sensor_msgs/msg/JointState');
  const msg = {
    header: { stamp: { sec: 12, nanosec: 345 }, frame_id: 'base' },
    name: ['shoulder', 'elbow', 'wrist'],
    position: [0.1, -0.2, 0.3],
    velocity: new Float64Array([1, 2, 3]),
    effort: [],
  };
  // CDR aligns relative to the body, which starts after the 4-byte header: a payload at byteOffset ≡ 4 (mod 8)
  // has its float64 arrays 8-aligned in memory (a DATA payload in a received datagram starts at 0 mod 8, so there
  // they are copies: see the next test)
  const encoded = codec.encode(msg);
  const bytes = new Uint8Array(encoded.byteLength + 4).subarray(4);
  bytes.set(encoded);
  const back = codec.decode(bytes) as { position: Float64Array; velocity: Float64Array; name: string[]; header: unknown };
  assert.deepEqual(back.header, msg.header);
  assert.deepEqual(back.name, msg.name);
  assert.ok(back.position instanceof Float64Array);
  assert.deepEqual([...back.position], msg.position);
  assert.equal(back.position.buffer, bytes.buffer, 'zero-copy view');
  // same bytes at an odd offset: still decoded correctly (one block copy)
  const shifted = new Uint8Array(bytes.byteLength + 1);
  shifted.set(bytes, 1);
  const moved = codec.decode(shifted.subarray(1)) as { velocity: Float64Array };
  assert.deepEqual([...moved.velocity], [1, 2, 3]);
  assert.notEqual(moved.velocity.buffer, shifted.buffer);
});

test('repeated strings come from the decoder\'s cache only while their bytes are the same; misaligned short arrays are copies', () => {
  const codec = getMessageCodec<{ header: { frame_id: string }; name: string[]; position: Float64Array; velocity: Float64Array }>('sensor_msgs/msg/JointState');
  const msg = (names: string[], frame: string, x: number) => ({
    header: { stamp: { sec: 1, nanosec: 2 }, frame_id: frame },
    name: names,
    position: names.map((_, i) => x + i),
    velocity: names.map((_, i) => -x - i),
  });
  // payload at an offset ≡ 0 (mod 8), as in a received datagram: float64 arrays are misaligned in memory
  const at0 = (m: ReturnType<typeof msg>) => {
    const e = codec.encode(m as never);
    const b = new Uint8Array(e.byteLength + 8).subarray(8);
    b.set(e);
    return b;
  };
  const seq: [string[], string][] = [
    [['joint1', 'joint2', 'joint3'], 'base'],
    [['joint1', 'joint2', 'joint3'], 'base'],
    [['joint1', 'jOint2', 'joint3'], 'base'], // same length, one byte differs
    [['joint1', 'joint2'], 'bas'], // shorter
    [['joint1', 'joint2', 'joint3', 'a_much_longer_joint_name_than_before'], 'base_link_frame'], // longer: the cache entry grows
    [['joint1', 'joint2', 'joint3', 'a_much_longer_joint_name_than_before'], 'base_link_frame'],
    [['jöint1', '✓', ''], ''], // multi-byte UTF-8, empty strings
    [['x'.repeat(100), 'joint2'], 'base'], // longer than what is cached
    [['joint1', 'joint2', 'joint3'], 'base'],
  ];
  const firstPass: string[][] = [];
  for (let k = 0; k < seq.length; k++) {
    const [names, frame] = seq[k];
    const bytes = at0(msg(names, frame, k));
    const back = codec.decode(bytes);
    assert.deepEqual(back.name, names, `message ${k}`);
    assert.equal(back.header.frame_id, frame, `message ${k}`);
    assert.deepEqual([...back.position], names.map((_, i) => k + i));
    assert.deepEqual([...back.velocity], names.map((_, i) => -k - i));
    assert.notEqual(back.position.buffer, bytes.buffer, 'misaligned: a copy, not a view');
    // a later message overwriting the same bytes does not change what was decoded
    bytes.fill(0xee, 4);
    assert.deepEqual(back.name, names);
    assert.deepEqual([...back.position], names.map((_, i) => k + i));
    firstPass.push(back.name);
  }
  // a cached string is the same string value, whatever the buffer it came from
  assert.equal(codec.decode(at0(msg(['joint1'], 'base', 0))).name[0], firstPass[0][0]);
  // big-endian short arrays are copied with their bytes swapped
  const f64 = getMessageCodec<{ data: Float64Array }>('std_msgs/msg/Float64MultiArray');
  const be = Buffer.alloc(4 + 4 + 4 + 4 + 4 + 16);
  be.writeUInt16BE(0x0000, 0);
  be.writeUInt32BE(0, 4);
  be.writeUInt32BE(0, 8);
  be.writeUInt32BE(2, 12);
  be.writeDoubleBE(0.75, 20);
  be.writeDoubleBE(-8, 28);
  assert.deepEqual([...f64.decode(new Uint8Array(be.buffer, be.byteOffset, 36)).data], [0.75, -8]);
});

test('CDR_BE payloads decode; encapsulation options are ignored', () => {
  const codec = getMessageCodec<{ layout: { dim: unknown[]; data_offset: number }; data: Float64Array }>('std_msgs/Float64MultiArray');
  const be = Buffer.alloc(4 + 4 + 4 + 4 + 4 + 16);
  be.writeUInt16BE(0x0000, 0); // CDR_BE
  be.writeUInt16BE(0x0003, 2); // options: ignored
  be.writeUInt32BE(0, 4); // dim: []
  be.writeUInt32BE(7, 8); // data_offset
  be.writeUInt32BE(2, 12); // data count
  // body offset 12 → float64 aligned to 16 (relative to the body)
  be.writeDoubleBE(1.5, 20);
  be.writeDoubleBE(-2.25, 28);
  const msg = codec.decode(new Uint8Array(be.buffer, be.byteOffset, 36));
  assert.equal(msg.layout.data_offset, 7);
  assert.deepEqual([...msg.data], [1.5, -2.25]);
});

test('onestep_msgs are parsed from the interface package at run time', () => {
  const pkg = new URL('../msgs/onestep_msgs/', import.meta.url);
  const cmake = readFileSync(new URL('CMakeLists.txt', pkg), 'utf8');
  for (const file of readdirSync(new URL('msg/', pkg))) {
    assert.match(cmake, new RegExp(`"msg/${file}"`), `${file} listed in rosidl_generate_interfaces`);
    const codec = getMessageCodec(`onestep_msgs/msg/${file.replace('.msg', '')}`);
    assert.deepEqual(codec.decode(codec.encode(codec.create())), codec.create());
  }
  const action = getMessageCodec('onestep_msgs/Action');
  const msg = {
    header: { stamp: { sec: 1, nanosec: 2 }, frame_id: '' },
    observation_stamp: { sec: 1, nanosec: 1 },
    joint_names: ['j1', 'j2'],
    data: new Float64Array([0.5, -0.5]),
    mode: 2,
    clipped: true,
    inference_time_ms: 0.25,
    latency_ms: 0.75,
  };
  const back = action.decode(action.encode(msg)) as typeof msg;
  assert.deepEqual({ ...back, data: [...back.data] }, { ...msg, data: [0.5, -0.5] });
  assert.match(action.definition, /uint8 MODE_DELTA = 2/);
  // the ros2msg schema text (rosbag2/MCAP) spells out builtin_interfaces/Time and re-parses
  assert.match(action.definition, /^builtin_interfaces\/Time observation_stamp$/m);
  assert.match(action.definition, /^MSG: builtin_interfaces\/Time$/m);
  assert.equal(parse(action.definition, { ros2: true }).length, 3);
  assert.ok(knownMessageTypes().includes('onestep_msgs/msg/PolicyStatus'));
  const status = getMessageCodec('onestep_msgs/PolicyStatus').create() as { actions_published: bigint };
  assert.equal(status.actions_published, 0n);
});

test('rmw_dds_common/ParticipantEntitiesInfo (ros_discovery_info) round-trips', () => {
  const codec = getMessageCodec('rmw_dds_common/msg/ParticipantEntitiesInfo');
  const gid = (n: number) => ({ data: new Uint8Array(16).fill(n) });
  const msg = {
    gid: gid(1),
    node_entities_info_seq: [{ node_namespace: '/', node_name: 'policy', reader_gid_seq: [gid(2)], writer_gid_seq: [gid(3), gid(4)] }],
  };
  const back = codec.decode(codec.encode(msg)) as typeof msg;
  assert.deepEqual(back.node_entities_info_seq[0].writer_gid_seq.map((g) => g.data[0]), [3, 4]);
  assert.throws(() => codec.encode({ gid: { data: new Uint8Array(24) } }), /expected exactly 16 elements/);
});

test('encodeInto reuses the caller buffer', () => {
  const codec = getMessageCodec('std_msgs/Float64MultiArray');
  const out = new Uint8Array(256);
  const data = new Float64Array([1, 2, 3, 4]);
  const a = codec.encodeInto({ data }, out);
  assert.equal(a.buffer, out.buffer);
  assert.equal(a.byteLength, codec.encodedSize({ data }) + ((4 - (codec.encodedSize({ data }) % 4)) % 4));
  assert.deepEqual([...(codec.decode(a) as { data: Float64Array }).data], [1, 2, 3, 4]);
  const big = codec.encodeInto({ data: new Float64Array(100) }, out);
  assert.notEqual(big.buffer, out.buffer, 'too small: a new buffer');
});

test('values that do not fit their type are named in the error', () => {
  const js = getMessageCodec('sensor_msgs/JointState');
  assert.throws(() => js.encode({ position: 'x' }), (e: Error) => e instanceof CdrEncodeError && /"position": expected an array/.test(e.message));
  assert.throws(() => js.encode({ position: [1, 'a'] }), /position.*element 1: expected a number/);
  assert.throws(() => js.encode({ header: { stamp: { sec: 1.5 } } }), /header.stamp.*int32/);
  assert.throws(() => js.encode({ name: [3] }), /"name": expected a string/);
  assert.throws(() => getMessageCodec('std_msgs/UInt8').encode({ data: 256 }), /uint8 in \[0, 255\]/);
  assert.throws(() => getMessageCodec('std_msgs/Int64').encode({ data: 1.5 }), /int64/);
  assert.throws(() => getMessageCodec('std_msgs/Nope'), (e: Error) => e instanceof UnknownMessageTypeError && /std_msgs\/(msg\/)?Nope/.test(e.message));
  assert.throws(() => getMessageCodec('Nope'), UnknownMessageTypeError);
});

test('malformed bytes raise CdrDecodeError naming the field', () => {
  const js = getMessageCodec('sensor_msgs/JointState');
  const good = js.encode({ name: ['a', 'b'], position: [1, 2] });
  assert.throws(() => js.decode(good.subarray(0, 3)), /shorter than the 4-byte encapsulation header/);
  assert.throws(() => js.decode(Uint8Array.from([0, 2, 0, 0, ...good.subarray(4)])), /unsupported encapsulation 0x0002/);
  assert.throws(() => js.decode(good.subarray(0, good.byteLength - 12)), (e: Error) => e instanceof CdrDecodeError && /position/.test(e.message));
  const huge = Uint8Array.from(good);
  new DataView(huge.buffer).setUint32(20, 0x7fffffff, true); // name count
  assert.throws(() => js.decode(huge), /sequence length 2147483647 exceeds/);
  // a count that runs past this message must not read the neighbouring bytes of a larger buffer
  const pooled = new Uint8Array(4096);
  pooled.set(good);
  const f64 = getMessageCodec('std_msgs/Float64MultiArray');
  const arr = f64.encode({ data: [1] });
  const lying = Uint8Array.from(arr);
  new DataView(lying.buffer).setUint32(12, 300, true);
  pooled.set(lying, 8);
  assert.throws(() => f64.decode(pooled.subarray(8, 8 + lying.byteLength)), /exceeds/);
  const str = getMessageCodec('std_msgs/String');
  assert.throws(() => str.decode(Buffer.from('00010000' + '03000000' + '616263', 'hex')), /NUL-terminated/);
});

test('a forged count of a struct sequence is refused by the bytes left, before anything is allocated for it', () => {
  // Float32MultiArray: layout.dim is a sequence of MultiArrayDimension {string label, uint32 size, uint32 stride}:
  // each takes at least 12 bytes, so 2,097,152 of them cannot fit in the 4 bytes that follow the count
  const f32 = getMessageCodec('std_msgs/Float32MultiArray');
  const forged = Buffer.from('00010000' + '00002000' + '00000000', 'hex');
  const t0 = performance.now();
  assert.throws(() => f32.decode(forged), (e: Error) => e instanceof CdrDecodeError && /layout\.dim.*sequence length 2097152 exceeds the 4 bytes left/.test(e.message));
  assert.ok(performance.now() - t0 < 20, 'refused at the count, not after allocating 2 M elements');
  // the bound is a lower bound: real messages with nested sequences and empty strings still decode
  const msg = { layout: { dim: [{ label: '', size: 0, stride: 0 }, { label: 'x', size: 2, stride: 2 }], data_offset: 0 }, data: Float32Array.of(1, 2) };
  assert.deepEqual(f32.decode(f32.encode(msg)).layout, msg.layout);
  const params = getServiceCodec('rcl_interfaces/srv/SetParameters').request;
  const req = { parameters: [{ name: 'a', value: { type: 2, integer_value: 3n, string_array_value: [], byte_array_value: [], bool_array_value: [], integer_array_value: [], double_array_value: [] } }] };
  assert.equal((params.decode(params.encode(req)) as typeof req).parameters[0].value.integer_value, 3n);
});

test('fuzz: 20,000 mutated JointState payloads only ever raise CdrDecodeError', () => {
  const js = getMessageCodec('sensor_msgs/JointState');
  const base = js.encode({ header: { frame_id: 'base' }, name: ['a', 'bb', 'ccc'], position: [1, 2, 3], velocity: [4], effort: [] });
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  let decoded = 0;
  for (let i = 0; i < 20_000; i++) {
    const b = Uint8Array.from(base);
    const flips = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < flips; k++) b[4 + Math.floor(rand() * (b.length - 4))] = Math.floor(rand() * 256);
    const cut = rand() < 0.2 ? Math.floor(rand() * b.length) : b.length;
    try {
      js.decode(b.subarray(0, cut));
      decoded++;
    } catch (err) {
      if (!(err instanceof CdrDecodeError)) throw err;
    }
  }
  assert.ok(decoded > 0 && decoded < 20_000);
});

test('the compiled decoder equals the interpreted one: same messages, same errors, over 6 types and 30,000 mutated payloads', async () => {
  const { ros2jazzy } = await import('@foxglove/rosmsg-msgs-common');
  const { compileStruct } = await import('../src/ros/msgs/cdr/plan.ts');
  const { encodeCdr } = await import('../src/ros/msgs/cdr/encode.ts');
  const { decodeCdr, decodeCdrInterpreted } = await import('../src/ros/msgs/cdr/decode.ts');
  const lookup = (t: string) => (ros2jazzy as Record<string, import('@foxglove/message-definition').MessageDefinition>)[t];
  const samples: [string, unknown][] = [
    ['sensor_msgs/JointState', { header: { stamp: { sec: 3, nanosec: 4 }, frame_id: 'base' }, name: ['a', 'bb', 'ccc'], position: [1, 2, 3], velocity: [4], effort: [] }],
    ['std_msgs/Float64MultiArray', { layout: { dim: [{ label: 'x', size: 3, stride: 3 }], data_offset: 1 }, data: [0.5, -1, 2] }],
    ['geometry_msgs/PointStamped', { header: { frame_id: 'world' }, point: { x: 1, y: 2, z: 3 } }],
    ['sensor_msgs/Imu', { orientation: { w: 1 }, orientation_covariance: [1, 0, 0, 0, 1, 0, 0, 0, 1] }],
    ['trajectory_msgs/JointTrajectory', { joint_names: ['j1', 'j2'], points: [{ positions: [1, 2], velocities: [], accelerations: [], effort: [], time_from_start: { sec: 1, nanosec: 5 } }, { positions: [3, 4], time_from_start: { sec: 2, nanosec: 0 } }] }],
    ['diagnostic_msgs/DiagnosticArray', { status: [{ level: 1, name: 'n', message: 'm', hardware_id: 'h', values: [{ key: 'k', value: 'v' }, { key: 'k2', value: '' }] }] }],
  ];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const attempt = (f: () => unknown) => {
    try {
      return { value: f() };
    } catch (err) {
      if (!(err instanceof CdrDecodeError)) throw err;
      return { error: err.message };
    }
  };
  let same = 0;
  let errors = 0;
  for (const [type, msg] of samples) {
    const plan = compileStruct(type, lookup);
    const base = encodeCdr(plan, msg);
    assert.deepEqual(decodeCdr(plan, base), decodeCdrInterpreted(plan, base), type);
    for (let i = 0; i < 5000; i++) {
      const b = Uint8Array.from(base);
      const flips = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < flips; k++) b[4 + Math.floor(rand() * (b.length - 4))] = Math.floor(rand() * 256);
      const bytes = b.subarray(0, rand() < 0.2 ? Math.floor(rand() * b.length) : b.length);
      const compiled = attempt(() => decodeCdr(plan, bytes));
      const interpreted = attempt(() => decodeCdrInterpreted(plan, bytes));
      assert.deepEqual(compiled, interpreted, `${type}, mutation ${i}`);
      if (compiled.error) errors++;
      else same++;
    }
  }
  assert.ok(same > 1000 && errors > 1000, `both outcomes exercised (${same} decoded, ${errors} refused)`);
});

test('the compiled encoder equals the interpreted one: same bytes, same errors, over 9 types and 40,000 mutated messages', async () => {
  const { ros2jazzy } = await import('@foxglove/rosmsg-msgs-common');
  const { compileStruct } = await import('../src/ros/msgs/cdr/plan.ts');
  const { encodeCdr, encodeCdrInterpreted, encodedSize } = await import('../src/ros/msgs/cdr/encode.ts');
  const { compileEncoder } = await import('../src/ros/msgs/cdr/compiled-encode.ts');
  const lookup = (t: string) => (ros2jazzy as Record<string, import('@foxglove/message-definition').MessageDefinition>)[t];
  const ramp = (n: number, Ctor: Float64ArrayConstructor | Uint8ArrayConstructor = Float64Array) => {
    const a = new Ctor(n);
    for (let i = 0; i < n; i++) a[i] = i * 3 + 1;
    return a;
  };
  const samples: [string, unknown][] = [
    ['sensor_msgs/JointState', { header: { stamp: { sec: 3, nanosec: 4 }, frame_id: 'base' }, name: ['a', 'bb', 'jöint'], position: [1, 2, 3], velocity: new Float64Array([4, 5, 6]), effort: new Float32Array(0) }],
    ['std_msgs/Float64MultiArray', { layout: { dim: [{ label: 'x', size: 40, stride: 40 }], data_offset: 1 }, data: ramp(40) }],
    ['geometry_msgs/PointStamped', { header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'world' }, point: { x: 1, y: 2, z: 3 } }],
    ['sensor_msgs/Imu', { header: { stamp: { sec: 1, nanosec: 2 }, frame_id: '' }, orientation: { x: 0, y: 0, z: 0, w: 1 }, orientation_covariance: [1, 0, 0, 0, 1, 0, 0, 0, 1], angular_velocity: { x: 0.1, y: 0.2, z: 0.3 }, angular_velocity_covariance: new Float64Array(9), linear_acceleration: { x: 0, y: 0, z: 9.8 }, linear_acceleration_covariance: new Float64Array(9).fill(-1) }],
    ['trajectory_msgs/JointTrajectory', { header: { stamp: { sec: 0, nanosec: 1 }, frame_id: 'f' }, joint_names: ['j1', 'j2'], points: [{ positions: [1, 2], velocities: [], accelerations: [], effort: [], time_from_start: { sec: 1, nanosec: 5 } }, { positions: new Float64Array([3, 4]), velocities: [0, 0], accelerations: [], effort: [], time_from_start: { sec: 2, nanosec: 0 } }] }],
    ['diagnostic_msgs/DiagnosticArray', { header: { stamp: { sec: 9, nanosec: 9 }, frame_id: '' }, status: [{ level: 1, name: 'n', message: 'm', hardware_id: 'h', values: [{ key: 'k', value: 'v' }, { key: 'k2', value: '' }] }] }],
    ['std_msgs/UInt8MultiArray', { layout: { dim: [], data_offset: 0 }, data: ramp(50, Uint8Array) }],
    ['std_msgs/Int32', { data: -7 }],
    ['std_msgs/Bool', { data: true }],
  ];
  const pool: unknown[] = [undefined, null, 0, 1.5, -1, 255, 256, 2 ** 31, -(2 ** 31) - 1, NaN, 'x', '', 'ünï', true, false, [], [1, 2], ['a'], new Float64Array(3), new Int32Array(40), new Uint8Array(40), new BigInt64Array(2), {}, { sec: 1, nanosec: 2 }, 3n];
  let seed = 11;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const clone = (x: unknown): unknown => (ArrayBuffer.isView(x) ? (x as Uint8Array).slice() : Array.isArray(x) ? x.map(clone) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, clone(v)])) : x);
  const slots = (x: unknown, out: [Record<string | number, unknown>, string | number][] = []) => {
    if (x && typeof x === 'object' && !ArrayBuffer.isView(x)) {
      for (const k of Object.keys(x)) {
        out.push([x as Record<string, unknown>, Array.isArray(x) ? Number(k) : k]);
        slots((x as Record<string, unknown>)[k], out);
      }
    }
    return out;
  };
  const attempt = (f: () => Uint8Array) => {
    try {
      return { bytes: Array.from(f()) };
    } catch (err) {
      if (!(err instanceof CdrEncodeError)) throw err;
      return { error: err.message };
    }
  };
  let encoded = 0;
  let refused = 0;
  for (const [type, sample] of samples) {
    const plan = compileStruct(type, lookup);
    const fast = compileEncoder(plan, () => undefined);
    assert.ok(fast !== null && fast.size(sample) > 0, `${type}: the compiled encoder takes the plain message`);
    assert.deepEqual(attempt(() => encodeCdr(plan, sample)), attempt(() => encodeCdrInterpreted(plan, sample)), type);
    for (let i = 0; i < 40_000 / samples.length; i++) {
      const m = clone(sample);
      const at = slots(m);
      for (let k = rand() < 0.5 ? 1 : 2; k > 0; k--) {
        const [holder, key] = at[Math.floor(rand() * at.length)];
        holder[key] = pool[Math.floor(rand() * pool.length)];
      }
      const out = new Uint8Array(rand() < 0.5 ? 8 : 4096);
      const compiled = attempt(() => encodeCdr(plan, m, out));
      const interpreted = attempt(() => encodeCdrInterpreted(plan, m));
      assert.deepEqual(compiled, interpreted, `${type}, mutation ${i}: ${JSON.stringify(m, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
      if (compiled.bytes) {
        encoded++;
        assert.equal(encodedSize(plan, m), compiled.bytes.length - compiled.bytes[3], 'encodedSize (the unpadded size)');
      } else refused++;
    }
  }
  assert.ok(encoded > 5000 && refused > 5000, `both outcomes exercised (${encoded} encoded, ${refused} refused)`);
});
