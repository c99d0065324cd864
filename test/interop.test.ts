// The interop harness itself, without onestep: the Cyclone DDS and Fast DDS peers talk to each other inside a
// private network namespace, with and without multicast. If these fail, the onestep interop failures are moot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason, runScenarioInNetns } from './peers/matrix.ts';
import { netnsSkipReason, peersDir, runInNetns } from './helpers/netns.ts';

const skip = interopSkipReason();

test('without network namespaces the interop tests skip on a developer machine and fail loudly under CI=true', () => {
  const none = { ok: false, reason: 'cannot create a private network namespace (unshare -n: Operation not permitted)', flags: [] };
  assert.equal(netnsSkipReason({}, none), none.reason);
  assert.equal(netnsSkipReason({ CI: 'false' }, none), none.reason);
  assert.throws(() => netnsSkipReason({ CI: 'true' }, none), /^Error: CI=true but cannot create a private network namespace .*must run in CI/);
  assert.equal(netnsSkipReason({ CI: 'true' }, { ok: true, reason: '', flags: ['-n'] }), undefined);
});

for (const [writer, reader] of [['cyclone', 'fastdds'], ['fastdds', 'cyclone']] as const) {
  test(`harness: ${writer} → ${reader}, JointState reliable, multicast discovery`, { skip, timeout: 60_000 }, async () => {
    const r = await runScenarioInNetns({ writer, reader, type: 'JointState', count: 20 });
    assert.equal(r.bad, 0);
    assert.equal(r.unique, 20);
    assert.ok(r.latencyUs && r.latencyUs.p50 > 0, 'one-way latency measured from the stamp');
  });
  test(`harness: ${writer} → ${reader}, String, loopback without multicast`, { skip, timeout: 60_000 }, async () => {
    const r = await runScenarioInNetns({ writer, reader, type: 'String', size: 100, count: 10 }, false);
    assert.equal(r.bad, 0);
    assert.equal(r.unique, 10);
  });
}

test('a onestep node is announced on ros_discovery_info (what `ros2 node list` reads), seen by Cyclone DDS', { skip: interopSkipReason(), timeout: 60_000 }, async () => {
  const peers = peersDir();
  const script = [
    `${peers}/cyclone_peer --role sub --type ParticipantEntitiesInfo --topic ros_discovery_info --durability transient_local --depth 1 --count 1000000 --timeout 15 > .test-out/graph.out &`,
    'peer=$!',
    `node bin/onestep.js topic pub /chatter std_msgs/msg/String "{data: x}" --node-name graph_probe --rate 10 --times 20 -w 0 --transport rtps >/dev/null`,
    'kill $peer; wait; cat .test-out/graph.out; rm -f .test-out/graph.out',
  ].join('\n');
  const r = await runInNetns(['sh', '-c', script], { timeoutMs: 45_000 });
  // rmw_dds_common ParticipantEntitiesInfo with 16-byte GIDs: node namespace, name, reader and writer GID counts
  assert.match(r.stdout, /^NODE \/ graph_probe \d+ 1$/m, `${r.stdout}\n${r.stderr}`);
});

test('a best-effort onestep writer and a reliable Cyclone reader refuse to match, and onestep says why', { skip: interopSkipReason(), timeout: 60_000 }, async () => {
  const peers = peersDir();
  const script = [
    `${peers}/cyclone_peer --role sub --type String --topic rt/qos_mismatch --count 1 --timeout 6 > .test-out/qos.out &`,
    `node bin/onestep.js topic pub /qos_mismatch std_msgs/msg/String "{data: msg 0}" --reliability best_effort --times 3 -w 1 --wait 3 --transport rtps >/dev/null`,
    'wait; cat .test-out/qos.out; rm -f .test-out/qos.out',
  ].join('\n');
  const r = await runInNetns(['sh', '-c', script], { timeoutMs: 45_000 });
  assert.match(r.stdout, /^DONE received=0 /m, 'nothing delivered across incompatible QoS');
  assert.doesNotMatch(r.stdout, /^MATCHED [1-9]/m);
  assert.match(r.stderr, /RELIABILITY.*BEST_EFFORT.*RELIABLE/, r.stderr);
});
