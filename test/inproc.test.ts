import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { InprocTransport, createTransport, domainIdFromEnv, parseNodeIdentity, rclnodejsAvailability } from '../src/ros/index.ts';

let domain = 100;
const pair = () => {
  const d = domain++;
  return [
    new InprocTransport({ node: { name: 'a', namespace: '/' }, domainId: d }),
    new InprocTransport({ node: { name: 'b', namespace: '/arm' }, domainId: d }),
  ] as const;
};

test('publishes decoded messages with their CDR bytes, asynchronously', async () => {
  const [a, b] = pair();
  const got: { data: string; cdr: string }[] = [];
  const sub = b.subscribe<{ data: string }>('/chatter', 'std_msgs/String', 'default', (m, info) => got.push({ data: m.data, cdr: Buffer.from(info.cdr).toString('hex') }));
  const pub = a.advertise<{ data: string }>('chatter', 'std_msgs/msg/String');
  assert.equal(pub.topic, '/chatter');
  assert.equal(pub.matchedSubscriptions(), 1);
  assert.equal(sub.matchedPublishers(), 1);
  pub.publish({ data: 'hi' });
  assert.equal(got.length, 0, 'delivery is not re-entrant');
  await tick();
  assert.deepEqual(got, [{ data: 'hi', cdr: '000100010300000068690000'.slice(0, 8) + '03000000686900' + '00' }]);
  assert.deepEqual(a.topics(), [{ topic: '/chatter', types: ['std_msgs/msg/String'], publishers: 1, subscribers: 1 }]);
  await a.close();
  await b.close();
  assert.deepEqual(a.topics(), []);
});

test('resolves relative and private names against each node', async () => {
  const [a, b] = pair();
  const got: string[] = [];
  b.subscribe<{ data: string }>('~/status', 'std_msgs/String', 'default', (m) => got.push(m.data));
  a.advertise<{ data: string }>('/arm/b/status', 'std_msgs/String').publish({ data: 'private' });
  await tick();
  assert.deepEqual(got, ['private']);
  assert.throws(() => a.advertise('bad name', 'std_msgs/String'), /invalid ROS name/);
  assert.throws(() => a.advertise('x', 'std_msgs/Nope'), /unknown message type/);
  await a.close();
  await b.close();
});

test('QoS: request/offered matching, keep-last depth, transient-local replay', async () => {
  const [a, b] = pair();
  const be = a.advertise<{ data: number }>('/x', 'std_msgs/Int32', 'sensor_data');
  const got: number[] = [];
  const rel = b.subscribe<{ data: number }>('/x', 'std_msgs/Int32', 'default', (m) => got.push(m.data));
  assert.equal(rel.matchedPublishers(), 0, 'best-effort writer does not match a reliable reader');
  be.publish({ data: 1 });
  const wrongType = b.subscribe('/x', 'std_msgs/String', 'sensor_data', () => assert.fail('type mismatch delivered'));
  assert.equal(wrongType.matchedPublishers(), 0);

  const shallow: number[] = [];
  b.subscribe<{ data: number }>('/y', 'std_msgs/Int32', { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 2 }, (m) => shallow.push(m.data));
  const y = a.advertise<{ data: number }>('/y', 'std_msgs/Int32');
  for (let i = 0; i < 5; i++) y.publish({ data: i });
  await tick();
  assert.deepEqual(got, []);
  assert.deepEqual(shallow, [3, 4], 'keep_last 2 keeps the newest two');

  const latched = a.advertise<{ data: number }>('/latched', 'std_msgs/Int32', { reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth: 1 });
  latched.publish({ data: 7 });
  latched.publish({ data: 8 });
  const late: number[] = [];
  const volatileLate: number[] = [];
  b.subscribe<{ data: number }>('/latched', 'std_msgs/Int32', { reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth: 10 }, (m) => late.push(m.data));
  b.subscribe<{ data: number }>('/latched', 'std_msgs/Int32', 'default', (m) => volatileLate.push(m.data));
  await tick();
  assert.deepEqual(late, [8]);
  assert.deepEqual(volatileLate, []);
  const tlReader = b.subscribe('/v', 'std_msgs/Int32', { reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth: 1 }, () => {});
  a.advertise('/v', 'std_msgs/Int32');
  assert.equal(tlReader.matchedPublishers(), 0, 'volatile writer does not match a transient-local reader');
  await a.close();
  await b.close();
});

test('a throwing callback is reported and does not stop delivery', async () => {
  const [a, b] = pair();
  const errors: string[] = [];
  const c = new InprocTransport({ node: { name: 'c', namespace: '/' }, domainId: domain - 1, onError: (e) => errors.push((e as Error).message) });
  const got: number[] = [];
  c.subscribe<{ data: number }>('/n', 'std_msgs/Int32', 'default', (m) => {
    if (m.data === 1) throw new Error('boom');
    got.push(m.data);
  });
  const pub = a.advertise<{ data: number }>('/n', 'std_msgs/Int32');
  pub.publish({ data: 1 });
  pub.publish({ data: 2 });
  assert.throws(() => pub.publish({ data: 'x' as unknown as number }), /int32/);
  await tick();
  assert.deepEqual(got, [2]);
  assert.deepEqual(errors, ['boom']);
  pub.close();
  assert.throws(() => pub.publish({ data: 3 }), /closed/);
  await Promise.all([a.close(), b.close(), c.close()]);
});

test('createTransport: inproc, node identity and domain from the environment', async () => {
  assert.deepEqual(parseNodeIdentity('/arm/policy'), { name: 'policy', namespace: '/arm' });
  assert.deepEqual(parseNodeIdentity('policy'), { name: 'policy', namespace: '/' });
  assert.throws(() => parseNodeIdentity('/arm/'), /node name must not be empty/);
  assert.equal(domainIdFromEnv({ ROS_DOMAIN_ID: '42' }), 42);
  assert.equal(domainIdFromEnv({}), 0);
  assert.throws(() => domainIdFromEnv({ ROS_DOMAIN_ID: 'x' }), /ROS_DOMAIN_ID="x" is not a valid ROS domain id/);
  assert.equal(rclnodejsAvailability({}).ok, false);
  await assert.rejects(createTransport({ kind: 'rclnodejs', node: 'n' }), /cannot use the rclnodejs transport/);
  await assert.rejects(createTransport({ kind: 'nope' as 'auto', node: 'n' }), /unknown transport "nope"/);
  const t = await createTransport({ kind: 'inproc', node: '/ns/n', domainId: 7 });
  assert.equal(t.kind, 'inproc');
  assert.deepEqual(t.node, { name: 'n', namespace: '/ns' });
  await t.close();
});
