// `onestep demo` end to end in a private network namespace: sim-bridge and serve as two processes over the rtps
// transport, K episodes with sampled actions, equal to the in-process evaluation (success rate, and every
// episode's return bit for bit in lockstep); nothing left running after it, also when it is interrupted (Ctrl-C).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsSkipReason, runInNetns, spawnInNetns } from './helpers/netns.ts';
import { armReachModel } from './helpers/arm-model.ts';

const skip = netnsSkipReason();
const MODEL = armReachModel();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(`the two-process demo equals the in-process evaluation in lockstep (${MODEL})`, { skip }, async () => {
  const episodes = 3;
  const r = await runInNetns(['node', 'bin/onestep.js', 'demo', '--model', MODEL, '--episodes', String(episodes), '--seed', '11', '--no-deterministic', '--domain-id', '81', '--json'], { timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(out.ros.returns.length, episodes);
  assert.equal(out.ros.successRate, out.inProcess.successRate, 'success rate');
  assert.deepEqual(out.ros.returns, out.inProcess.returns, 'every return, bit for bit');
  assert.deepEqual(out.ros.successes, out.inProcess.successes);
  assert.equal(out.identical, true);
  assert.equal(out.ros.counters.commandsMissed, 0);
  assert.equal(out.ros.counters.commandsAccepted, episodes * 50);
  assert.equal(out.deterministic, false);
  assert.ok(out.latencyMs.node && out.latencyMs.node.samples === episodes * 50, 'the node reported its latency per stage');
  assert.ok(out.latencyMs.bridge.roundTrip.count === episodes * 50);
  for (const pid of [out.pids.bridge, out.pids.serve]) assert.equal(alive(pid), false, `process ${pid} left running`);
});

test('Ctrl-C stops the demo, sim-bridge and serve, leaving nothing running', { skip }, async () => {
  const child = spawnInNetns(['node', 'bin/onestep.js', 'demo', '--model', MODEL, '--episodes', '500', '--domain-id', '82']);
  child.stdin!.end();
  let stderr = '';
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const started = new Promise<void>((resolve) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (/episode 1\/500/.test(stderr)) resolve();
    });
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  await Promise.race([started, exited]);
  const pids = /sim-bridge pid (\d+), serve pid (\d+)/.exec(stderr);
  assert.ok(pids, `the demo named its processes: ${stderr}`);
  child.kill('SIGINT');
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, 130, `exit status after Ctrl-C (stderr: ${stderr.slice(-1500)})`);
  assert.match(stderr, /interrupted after \d+ of 500 episodes; sim-bridge and serve stopped/);
  for (const pid of [Number(pids[1]), Number(pids[2])]) assert.equal(alive(pid), false, `process ${pid} left running`);
  assert.match(stdout, /onestep demo: arm_reach, 500 episodes/);
});
