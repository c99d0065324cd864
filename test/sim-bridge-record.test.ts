// `onestep sim-bridge --record`: a lockstep episode driven by the Cyclone DDS controller (test/peers/bridge-client.c)
// over rtps in a private network namespace, recorded as rosbag2 writes MCAP. Read back with @mcap/core, every
// payload decoded by @foxglove/rosmsg2-serialization against the schema text in the file (not onestep's CDR code):
// one channel per topic the bridge publishes or takes, with its type, ros2msg schema and QoS; one message per
// state on each state topic, one per command received; the recorded joint positions are the ones the controller
// saw, and the statistics agree; `onestep profile` reads it (each state paired with the command that answered it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { McapIndexedReader } from '@mcap/core';
import { FileHandleReadable } from '@mcap/nodejs';
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT, netnsSkipReason, runInNetns } from './helpers/netns.ts';
import { bridgeClient, type BridgeScenario, type ClientResult } from './peers/bridge-scenario.ts';
import { onestepInProcess } from './helpers/cli.ts';

const skip = netnsSkipReason();
const work = join(REPO_ROOT, '.test-out', `sim-bridge-record-${process.pid}`);

before(() => {
  if (skip) return;
  bridgeClient();
  mkdirSync(work, { recursive: true });
});
after(() => rmSync(work, { recursive: true, force: true }));

test('a recorded lockstep episode reads back: channels, schemas, QoS, one message per state and per command, the states the controller saw', { skip, timeout: 180_000 }, async () => {
  const file = join(work, 'lockstep.mcap');
  const scenario: BridgeScenario = { mode: 'f64', clock: 'lockstep', target: [0.3, 0.6, -0.3, 1.9, 0.2, 0.8, 0.1], states: 50, seed: 3, domain: 93, record: file };
  const r = await runInNetns(['node', '--import', 'tsx', 'test/peers/bridge-scenario.ts', JSON.stringify(scenario)], { timeoutMs: 170_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no result (exit ${r.code ?? r.signal}): ${r.stderr.slice(-3000)}`);
  const run = JSON.parse(line.slice(7)) as ClientResult;
  assert.equal(run.clientCode, 0, run.clientStderr);
  assert.equal(run.bridgeCode, 0, run.bridgeStderr);
  assert.match(run.bridgeStderr, /recording closed file=\S+lockstep\.mcap messages=\d+/);
  assert.equal(run.states.length, 50);

  const handle = await open(file, 'r');
  try {
    const reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(handle) });
    assert.equal(reader.header.profile, 'ros2');
    const channels = new Map<number, { topic: string; type: string; reader: MessageReader; qos: Record<string, number> }>();
    for (const channel of reader.channelsById.values()) {
      const schema = reader.schemasById.get(channel.schemaId)!;
      assert.equal(schema.encoding, 'ros2msg');
      assert.equal(channel.messageEncoding, 'cdr');
      const qos = parseYaml(channel.metadata.get('offered_qos_profiles')!)[0];
      channels.set(channel.id, { topic: channel.topic, type: schema.name, reader: new MessageReader(parse(new TextDecoder().decode(schema.data), { ros2: true })), qos });
    }
    const byTopic = new Map([...channels.values()].map((c) => [c.topic, c]));
    assert.deepEqual([...byTopic.keys()].sort(), [
      '/clock', '/forward_position_controller/commands', '/joint_command', '/joint_states', '/sim_bridge/pause', '/sim_bridge/reset',
      '/sim_bridge/status', '/sim_bridge/step', '/target', '/tool_tip',
    ]);
    const types: Record<string, string> = {
      '/clock': 'rosgraph_msgs/msg/Clock', '/joint_states': 'sensor_msgs/msg/JointState', '/tool_tip': 'geometry_msgs/msg/PointStamped',
      '/target': 'geometry_msgs/msg/PointStamped', '/sim_bridge/status': 'onestep_msgs/msg/EpisodeStatus',
      '/forward_position_controller/commands': 'std_msgs/msg/Float64MultiArray', '/joint_command': 'sensor_msgs/msg/JointState',
    };
    for (const [topic, type] of Object.entries(types)) assert.equal(byTopic.get(topic)!.type, type, topic);
    // ClockQoS (best effort = 2 in rmw's enum), the rest reliable (1)
    assert.equal(byTopic.get('/clock')!.qos.reliability, 2);
    assert.equal(byTopic.get('/joint_states')!.qos.reliability, 1);

    const got = new Map<string, Record<string, any>[]>();
    for await (const m of reader.readMessages({ validateCrcs: true })) {
      const c = channels.get(m.channelId)!;
      const decoded = c.reader.readMessage<Record<string, any>>(m.data);
      assert.equal(c.reader.lastReadHadTrailingBytes(), false, c.topic);
      got.set(c.topic, [...(got.get(c.topic) ?? []), decoded]);
    }
    const count = (t: string) => got.get(t)?.length ?? 0;
    // lockstep, one episode of 50 steps: states 0..49 published (the 50th step ends the run), 50 commands answered them
    for (const t of ['/joint_states', '/clock', '/tool_tip', '/target']) assert.equal(count(t), 50, t);
    assert.equal(count('/forward_position_controller/commands'), 50);
    assert.equal(count('/joint_command'), 0);
    // status: one per state, the terminal step's, the finished run's, and QUITTING at close
    assert.equal(count('/sim_bridge/status'), 53);
    const status = got.get('/sim_bridge/status')!;
    assert.equal(status[50].terminated || status[50].truncated, true, 'the terminal step');
    assert.equal(status.at(-1)!.state, 3, 'QUITTING last');
    // the states recorded are the states the controller received, bit for bit, stamped with sim time
    got.get('/joint_states')!.forEach((js, i) => {
      assert.deepEqual(Array.from(js.position as Float64Array), run.states[i].q, `joint state ${i}`);
      assert.equal(js.header.stamp.sec * 1e9 + js.header.stamp.nanosec, Math.round(i * 0.05 * 1e9));
      const clock = got.get('/clock')![i].clock;
      assert.deepEqual([clock.sec, clock.nanosec], [js.header.stamp.sec, js.header.stamp.nanosec], `clock ${i}`);
    });
    for (const c of got.get('/forward_position_controller/commands')!) assert.deepEqual(Array.from(c.data as Float64Array), scenario.target);
    const total = [...got.values()].reduce((a, l) => a + l.length, 0);
    assert.equal(reader.statistics!.messageCount, BigInt(total));
    assert.equal(reader.statistics!.channelCount, channels.size);
  } finally {
    await handle.close();
  }
  // the bridge's side of the loop: state published → command received, all 50 paired
  const profile = await onestepInProcess('profile', file, '--warmup', '0');
  assert.equal(profile.code, 0, profile.stderr);
  assert.match(profile.stdout, /recorded by onestep sim-bridge/);
  assert.match(profile.stdout, /observations 50 \(after 0 warm-up\), commands 50, matched 50/);
});
