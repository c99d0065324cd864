import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RosNameError,
  fromDdsTopicName,
  fromDdsTypeName,
  normalizeNamespace,
  normalizeTypeName,
  parseRemapRules,
  resolveTopicName,
  toDdsTopicName,
  toDdsTypeName,
  validateNodeName,
  validateTopicName,
} from '../src/ros/names.ts';

const root = { name: 'policy', namespace: '/' };
const arm = { name: 'policy', namespace: '/arm' };

test('resolves absolute, relative, private and substituted names', () => {
  assert.equal(resolveTopicName('/joint_states', arm), '/joint_states');
  assert.equal(resolveTopicName('joint_states', root), '/joint_states');
  assert.equal(resolveTopicName('joint_states', arm), '/arm/joint_states');
  assert.equal(resolveTopicName('~/status', root), '/policy/status');
  assert.equal(resolveTopicName('~/status', arm), '/arm/policy/status');
  assert.equal(resolveTopicName('~', arm), '/arm/policy');
  assert.equal(resolveTopicName('{node}/x', arm), '/arm/policy/x');
  assert.equal(resolveTopicName('/{ns}/y', { name: 'n', namespace: '/a/b' }), '/a/b/y');
});

test('applies remappings on resolved names', () => {
  const { topics, node, namespace } = parseRemapRules(['joint_states:=/robot/joint_states', '__node:=p2', '__ns:=/r']);
  assert.equal(node, 'p2');
  assert.equal(namespace, '/r');
  assert.equal(resolveTopicName('joint_states', arm, topics), '/robot/joint_states');
  // the rule was written relative, so it resolves against the node's namespace: /arm/joint_states != /x/joint_states
  assert.equal(resolveTopicName('joint_states', { name: 'p', namespace: '/x' }, [{ from: '/arm/joint_states', to: 'y' }]), '/x/joint_states');
  assert.equal(resolveTopicName('~/cmd', arm, [{ from: '~/cmd', to: '/commands' }]), '/commands');
  assert.throws(() => parseRemapRules(['nope']), RosNameError);
  assert.throws(() => parseRemapRules(['__node:=9bad']), /must not start with a digit/);
});

test('rejects invalid names with a reason', () => {
  for (const bad of ['', 'a//b', 'a/', '1abc', 'a/1b', 'a-b', 'a~', '/~/x', 'a b', '{foo}/x']) {
    assert.throws(() => validateTopicName(bad), RosNameError, bad);
  }
  assert.throws(() => validateNodeName('my-node'), /letters, digits/);
  assert.throws(() => normalizeNamespace('/a/'), /end with/);
  assert.equal(normalizeNamespace('arm'), '/arm');
  assert.equal(normalizeNamespace(''), '/');
  assert.throws(() => resolveTopicName('x'.repeat(300), root), /longer than/);
});

test('mangles topic and type names for DDS, and back', () => {
  assert.equal(toDdsTopicName('/joint_states'), 'rt/joint_states');
  assert.equal(toDdsTopicName('/ns/add', 'request'), 'rq/ns/addRequest');
  assert.equal(toDdsTopicName('/ns/add', 'reply'), 'rr/ns/addReply');
  assert.throws(() => toDdsTopicName('relative'), RosNameError);
  assert.deepEqual(fromDdsTopicName('rt/arm/commands'), { name: '/arm/commands', kind: 'topic' });
  assert.deepEqual(fromDdsTopicName('rq/ns/addRequest'), { name: '/ns/add', kind: 'request' });
  assert.equal(fromDdsTopicName('ros_discovery_info'), undefined);
  assert.equal(toDdsTypeName('std_msgs/msg/String'), 'std_msgs::msg::dds_::String_');
  assert.equal(toDdsTypeName('sensor_msgs/JointState'), 'sensor_msgs::msg::dds_::JointState_');
  assert.equal(fromDdsTypeName('rmw_dds_common::msg::dds_::ParticipantEntitiesInfo_'), 'rmw_dds_common/msg/ParticipantEntitiesInfo');
  assert.equal(fromDdsTypeName('HelloWorld'), undefined);
  assert.equal(normalizeTypeName('std_msgs/String'), 'std_msgs/msg/String');
  assert.throws(() => normalizeTypeName('String'), /expected a ROS type name/);
  assert.throws(() => normalizeTypeName('a/b/c/d'), RosNameError);
});
