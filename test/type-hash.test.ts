// REP-2011 type hashes (RIHS01) against values published by ROS 2 Jazzy graphs (rmw_zenoh key expressions and
// rosbag2 metadata of real systems), service codecs from .srv definitions, and the description rules that matter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  getServiceCodec, registerServiceDefinition, serviceTypeHash, typeDescription, typeHash, UnknownServiceTypeError,
} from '../src/ros/msgs/index.ts';

const PUBLISHED_PREFIX = 'RIHS01_';
// hashes as Jazzy systems publish them
const PUBLISHED: Record<string, string> = {
  'std_msgs/msg/String': 'df668c740482bbd48fb39d76a70dfd4bd59db1288021743503259e948f6b1a18',
  'std_msgs/msg/Header': 'f49fb3ae2cf070f793645ff749683ac6b06203e41c891e17701b1cb597ce6a01',
  'builtin_interfaces/msg/Time': 'b106235e25a4c5ed35098aa0a61a3ee9c9b18d197f398b0e4206cea9acf9c197',
  'std_msgs/msg/Float64MultiArray': '1025ddc6b9552d191f89ef1a8d2f60f3d373e28b283d8891ddcc974e8c55397f',
  'sensor_msgs/msg/JointState': 'a13ee3a330e346c9d87b5aa18d24e11690752bd33a0350f11c5882bc9179260e',
  'sensor_msgs/msg/Image': 'd31d41a9a4c4bc8eae9be757b0beed306564f7526c88ea6a4588fb9582527d47',
  'geometry_msgs/msg/Twist': '9c45bf16fe0983d80e3cfe750d6835843d265a9a6c46bd2e609fcddde6fb8d2a',
  'geometry_msgs/msg/TwistStamped': '5f0fcd4f81d5d06ad9b4c4c63e3ea51b82d6ae4d0558f1d475229b1121db6f64',
  'nav_msgs/msg/Odometry': '3cc97dc7fb7502f8714462c526d369e35b603cfc34d946e3f2eda2766dfec6e0',
  'diagnostic_msgs/msg/KeyValue': 'd68081eaa540288c5440753baecef0c4e16e81a5f78ad68902ded5100413bb42',
  'trajectory_msgs/msg/JointTrajectory': '179b33eba59d676f6d967ac71fe35e7ca2f64b2f3928f4a018cec115e213796e',
  // byte[] inside ParameterValue: an octet sequence (160), not uint8 (147)
  'rcl_interfaces/msg/ParameterEvent': '043e627780fcad87a22d225bc2a037361dba713fca6a6b9f4b869a5aa0393204',
  'rcl_interfaces/msg/Log': 'e28ce254ca8abc06abf92773b74602cdbf116ed34fbaf294fb9f81da9f318eac',
};

for (const [type, hash] of Object.entries(PUBLISHED)) {
  test(`RIHS01 of ${type} equals the published hash`, () => {
    assert.equal(typeHash(type), `RIHS01_${hash}`);
  });
}

test('RIHS01 of a service type (with its generated _Event message) equals the published example_interfaces/srv/AddTwoInts hash', () => {
  registerServiceDefinition('example_interfaces/srv/AddTwoInts', 'int64 a\nint64 b\n---\nint64 sum\n');
  assert.equal(serviceTypeHash('example_interfaces/srv/AddTwoInts'), 'RIHS01_e118de6bf5eeb66a2491b5bda11202e7b68f198d6f67922cf30364858239c81a');
});

test('descriptions: byte is an octet, char a uint8, bounds and arrays carry their capacities, empty requests get a member', () => {
  const value = typeDescription('rcl_interfaces/msg/ParameterValue').type_description.fields;
  assert.deepEqual(value.find((f) => f.name === 'byte_array_value')!.type, { type_id: 160, capacity: 0, string_capacity: 0, nested_type_name: '' });
  const descriptor = typeDescription('rcl_interfaces/msg/ParameterDescriptor');
  assert.deepEqual(descriptor.type_description.fields.find((f) => f.name === 'integer_range')!.type, {
    type_id: 97, capacity: 1, string_capacity: 0, nested_type_name: 'rcl_interfaces/msg/IntegerRange',
  });
  assert.deepEqual(descriptor.referenced_type_descriptions.map((d) => d.type_name), ['rcl_interfaces/msg/FloatingPointRange', 'rcl_interfaces/msg/IntegerRange']);
  const trigger = typeDescription('std_srvs/srv/Trigger_Request');
  assert.equal(trigger.type_description.type_name, 'std_srvs/srv/Trigger_Request');
  assert.deepEqual(trigger.type_description.fields, [{ name: 'structure_needs_at_least_one_member', type: { type_id: 3, capacity: 0, string_capacity: 0, nested_type_name: '' } }]);
  const gid = typeDescription('rmw_dds_common/msg/Gid').type_description.fields[0];
  assert.equal(gid.type.type_id, 3 + 48, 'char[16] is a uint8 array');
  // a field type changing changes the hash
  registerServiceDefinition('onestep_test/srv/A', 'int32 x\n---\n');
  registerServiceDefinition('onestep_test/srv/B', 'int64 x\n---\n');
  assert.notEqual(typeHash('onestep_test/srv/A_Request'), typeHash('onestep_test/srv/B_Request'));
});

test('service codecs: the parameter and std_srvs services round-trip; unknown services are refused by name', () => {
  const get = getServiceCodec<{ names: string[] }, { values: { type: number; integer_value: bigint }[] }>('rcl_interfaces/GetParameters');
  assert.equal(get.type, 'rcl_interfaces/srv/GetParameters');
  assert.equal(get.request.ddsType, 'rcl_interfaces::srv::dds_::GetParameters_Request_');
  assert.equal(get.response.ddsType, 'rcl_interfaces::srv::dds_::GetParameters_Response_');
  assert.deepEqual(get.request.decode(get.request.encode({ names: ['a', 'b.c'] })).names, ['a', 'b.c']);
  assert.equal(get.response.decode(get.response.encode({ values: [{ type: 2, integer_value: 7n }] })).values[0].integer_value, 7n);
  const trigger = getServiceCodec('std_srvs/srv/Trigger');
  // an empty request is one octet on the wire (after the encapsulation header), as rosidl generates it
  assert.equal(trigger.request.encode({}).length, 8);
  assert.deepEqual(trigger.response.decode(trigger.response.encode({ success: true, message: 'ok' })), { success: true, message: 'ok' });
  for (const t of ['GetParameters', 'SetParameters', 'SetParametersAtomically', 'ListParameters', 'DescribeParameters', 'GetParameterTypes']) {
    assert.ok(getServiceCodec(`rcl_interfaces/srv/${t}`).response.create());
  }
  assert.throws(() => getServiceCodec('std_srvs/srv/NoSuch'), (e: Error) => e instanceof UnknownServiceTypeError && /std_srvs\/srv\/NoSuch/.test(e.message));
  assert.throws(() => getServiceCodec('std_msgs/msg/String'), UnknownServiceTypeError);
  assert.throws(() => registerServiceDefinition('x/srv/Y', 'int32 a\n'), /---/);
});

test('rtps endpoints announce the type hash in USER_DATA as Jazzy\'s rmw writes it ("typehash=RIHS01_<hex>;")', async () => {
  const { RtpsTransport } = await import('../src/ros/rtps/transport.ts');
  const { MemoryNetwork } = await import('../src/ros/rtps/platform/memory-udp.ts');
  const net = new MemoryNetwork();
  const quiet = { warn: () => {}, debug: () => {} };
  const a = await RtpsTransport.create({ node: { name: 'a', namespace: '/' }, platform: net.platform(), env: {}, logger: quiet });
  const b = await RtpsTransport.create({ node: { name: 'b', namespace: '/' }, platform: net.platform(), env: {}, logger: quiet });
  try {
    a.advertise('/chatter', 'std_msgs/msg/String');
    a.subscribe('/joint_states', 'sensor_msgs/msg/JointState', 'sensor_data', () => {});
    const deadline = Date.now() + 5000;
    const find = (topic: string) => [...b.participant.remoteEndpoints()].find((e) => e.data.topicName === topic);
    while (!(find('rt/chatter') && find('rt/joint_states')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const text = (topic: string) => new TextDecoder().decode(find(topic)!.data.userData);
    assert.equal(text('rt/chatter'), `typehash=${PUBLISHED_PREFIX}${PUBLISHED['std_msgs/msg/String']};`);
    assert.equal(text('rt/joint_states'), `typehash=${PUBLISHED_PREFIX}${PUBLISHED['sensor_msgs/msg/JointState']};`);
  } finally {
    await a.close();
    await b.close();
  }
});
