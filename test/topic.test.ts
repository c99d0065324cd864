import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { interopSkipReason } from './peers/matrix.ts';
import { peersDir, runInNetns } from './helpers/netns.ts';
import { onestepInProcess } from './helpers/cli.ts';

const onestep = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync('node', ['bin/onestep.js', 'topic', ...args], { encoding: 'utf8', timeout: 30_000, env });

test('bad input fails with one line naming what was wrong (in process: the CLI\'s own program and formatting)', async () => {
  const cases: [string[], RegExp][] = [
    [['pub', '/x', 'std_msgs/String', '{dta: 1}', '--transport', 'inproc'], /^onestep: dta: no such field in std_msgs\/msg\/String \(fields: data\)\n$/],
    [['pub', '/x', 'std_msgs/Strin', '--transport', 'inproc'], /^onestep: unknown message type "std_msgs\/msg\/Strin"/],
    [['pub', '/x', 'std_msgs/UInt8', '{data: 300}', '--transport', 'inproc'], /^onestep: cannot encode std_msgs\/msg\/UInt8 field "data": expected an uint8 in \[0, 255\], got number 300\n$/],
    [['pub', '/x', 'std_msgs/String', '{data: [', '--transport', 'inproc'], /^onestep: values are not valid YAML/],
    [['pub', 'bad name', 'std_msgs/String', '--transport', 'inproc', '--once', '-w', '0'], /^onestep: invalid ROS name "bad name"/],
    [['pub', '/x', 'std_msgs/String', '--rate', '0', '--transport', 'inproc'], /^onestep: --rate must be a positive number of Hz, got 0\n$/],
    [['echo', '/x', 'std_msgs/String', '--transport', 'inproc', '--depth', '0'], /^onestep: --depth must be a positive integer, got 0\n$/],
    [['echo', '/x', '--transport', 'inproc', '--wait', '0.2'], /^onestep: no publisher of \/x was discovered within 0.2 s: name its TYPE/],
  ];
  for (const [args, expected] of cases) {
    const r = await onestepInProcess('topic', ...args);
    assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, expected, args.join(' '));
  }
});

test('the CLI itself prints that one line and exits 1: rclnodejs asked for where ROS 2 is not sourced', () => {
  // whether or not this machine has ROS 2 sourced: the child gets an environment without it
  const { ROS_DISTRO: _distro, AMENT_PREFIX_PATH: _ament, ...withoutRos } = process.env;
  const r = onestep(['list', '--transport', 'rclnodejs'], withoutRos);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^onestep: cannot use the rclnodejs transport: ROS 2 is not sourced \(ROS_DISTRO \/ AMENT_PREFIX_PATH unset\)\n$/);
});

test('pub --once over inproc publishes and exits', () => {
  const r = onestep(['pub', '/x', 'sensor_msgs/msg/JointState', '{header: auto, name: [a], position: [1.5]}', '--transport', 'inproc', '--once', '-w', '0']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /publishing #1:\n(.|\n)*position:\n\s+- 1.5/);
});

const skip = interopSkipReason();

test('echo, list, hz and pub against a Cyclone DDS peer', { skip, timeout: 120_000 }, async () => {
  const peers = peersDir();
  const cli = 'node bin/onestep.js topic';
  const script = [
    // a Cyclone publisher of JointState at 50 Hz: echo two messages, list with types, measure the rate
    `${peers}/cyclone_peer --role pub --type JointState --topic rt/joint_states --count 2000 --rate 50 --wait-match 0 --timeout 40 >/dev/null & peer=$!`,
    `${cli} echo /joint_states --count 2 --timeout 10 --transport rtps > echo.out 2>&1; echo "echo=$?"`,
    `${cli} list -t --wait 1.5 --transport rtps; echo "list=$?"`,
    `${cli} hz /joint_states sensor_msgs/msg/JointState --duration 2.5 --transport rtps; echo "hz=$?"`,
    'kill $peer; cat echo.out; rm -f echo.out',
    // onestep publishing to a Cyclone subscriber: the message "msg 0" is what the peer checks for
    `${peers}/cyclone_peer --role sub --type String --topic rt/chatter --count 1 --timeout 15 > sub.out &`,
    `${cli} pub /chatter std_msgs/msg/String "{data: msg 0}" --once --transport rtps >/dev/null; echo "pub=$?"`,
    'wait; cat sub.out; rm -f sub.out',
  ].join('\n');
  const r = await runInNetns(['sh', '-c', `cd .test-out && cd .. && ${script}`], { timeoutMs: 90_000 });
  const out = r.stdout;
  assert.match(out, /echo=0/, `${out}\n${r.stderr}`);
  assert.match(out, /header:\n\s+stamp:\n\s+sec: \d+\n\s+nanosec: \d+\n\s+frame_id: "?\d+"?\nname:\n\s+- j0/);
  assert.equal((out.match(/^---$/gm) ?? []).length, 2, 'exactly two messages echoed');
  assert.match(out, /^\/joint_states \[sensor_msgs\/msg\/JointState\]$/m);
  assert.match(out, /list=0/);
  const rate = Number(/average rate: ([\d.]+)/.exec(out)?.[1]);
  assert.ok(rate > 40 && rate < 60, `hz measured ${rate} for a 50 Hz publisher`);
  assert.match(out, /hz=0/);
  assert.match(out, /pub=0/);
  assert.match(out, /^RECV 0 1 /m, 'the Cyclone subscriber got exactly "msg 0"');
});
