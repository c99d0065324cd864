// The interop harness itself, without onestep: the Cyclone DDS and Fast DDS peers talk to each other inside a
// private network namespace, with and without multicast. If these fail, the onestep interop failures are moot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason, runScenarioInNetns } from './peers/matrix.ts';

const skip = interopSkipReason(false);

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
