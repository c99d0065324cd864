// `onestep sim-bridge` on the rtps transport driven by a Cyclone DDS C controller (test/peers/bridge-client.c), in
// private network namespaces: JointState in, Float64MultiArray out in lockstep, the arm reaching the commanded pose
// exactly as it does in-process; the Isaac-style JointState command by joint name in real time, the CLI exiting
// cleanly on Ctrl-C; and closing a bridge leaves no socket or timer behind. (Stamp matching of JointState commands
// in lockstep is tested over inproc in sim-bridge.test.ts.)
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { netnsSkipReason, runInNetns } from './helpers/netns.ts';
import { bridgeClient, type BridgeScenario, type ClientResult } from './peers/bridge-scenario.ts';
import { SimRobot } from '../src/sim/robot.ts';

const skip = netnsSkipReason();
let domain = 71;

before(() => {
  if (!skip) bridgeClient();
});

async function scenario(s: BridgeScenario): Promise<ClientResult> {
  const r = await runInNetns(['node', '--import', 'tsx', 'test/peers/bridge-scenario.ts', JSON.stringify(s)], { timeoutMs: 120_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`bridge scenario printed no result (exit ${r.code ?? r.signal}): ${r.stderr.slice(-3000)}`);
  return JSON.parse(line.slice(7)) as ClientResult;
}

// a pose within arm_reach's command range (home ± scale)
const TARGET = [0.3, 0.6, -0.3, 1.9, 0.2, 0.8, 0.1];

/** The same commands in-process: the positions after each step (state i+1), from reset(seed). */
async function inProcess(seed: number, steps: number): Promise<number[][]> {
  const robot = await SimRobot.forTask('arm_reach');
  try {
    robot.reset(seed);
    const p = new Float64Array(7), v = new Float64Array(7), e = new Float64Array(7);
    const out: number[][] = [];
    robot.readJoints(p, v, e);
    out.push([...p]);
    for (let k = 0; k < steps; k++) {
      robot.step(Float64Array.from(TARGET));
      robot.readJoints(p, v, e);
      out.push([...p]);
    }
    return out;
  } finally {
    robot.close();
  }
}

function checkReached(r: ClientResult, expected: number[][], what: string): void {
  assert.equal(r.clientCode, 0, `${what}: controller exit (${r.clientStderr.trim()})`);
  assert.ok(r.clientDone);
  assert.equal(r.states.length, 50);
  r.states.forEach((s, i) => {
    assert.deepEqual(s.q, expected[i], `${what}: state ${i} is the in-process state, bit for bit`);
    assert.equal(s.sec * 1e9 + s.nanosec, Math.round(i * 0.05 * 1e9), `${what}: state ${i} stamped with sim time`);
  });
  const last = r.states[r.states.length - 1].q;
  last.forEach((q, j) => assert.ok(Math.abs(q - TARGET[j]) < 0.05, `${what}: joint${j + 1} at ${q}, commanded ${TARGET[j]}`));
  const first = r.states[0].q;
  const error = (q: number[]) => Math.hypot(...q.map((x, j) => x - TARGET[j]));
  assert.ok(error(last) < 0.1 * error(first), `${what}: error ${error(first)} → ${error(last)}`);
}

test('a Cyclone DDS controller drives the arm to a commanded pose: JointState in, Float64MultiArray out (lockstep); closing a bridge leaves no socket or timer', { skip }, async () => {
  const seed = 5;
  const r = await scenario({ mode: 'f64', clock: 'lockstep', target: TARGET, states: 50, seed, domain: domain++, close: true });
  assert.equal(r.bridgeCode, 0, r.bridgeStderr);
  checkReached(r, await inProcess(seed, 49), 'Float64MultiArray');
  const lines = r.bridgeStdout.trim().split('\n').map((l) => JSON.parse(l));
  const summary = lines.find((l) => l.event === 'summary');
  assert.equal(summary.steps, 50);
  assert.equal(summary.counters.commandsAccepted, 50);
  assert.equal(summary.counters.commandsMissed, 0);
  assert.equal(summary.counters.commandsRefused, 0);
  assert.equal(lines.filter((l) => l.event === 'episode').length, 1);
  // a bridge on the rtps transport, run and closed in one process: nothing of it is left
  const c = r.close!;
  assert.ok(c.steps > 0, `it ran (${c.steps} steps)`);
  assert.ok(c.running.includes('UDPWrap'), `sockets while running: ${c.running.join(', ')}`);
  assert.deepEqual(c.after, c.before, `resources after close: ${c.after.join(', ')} (before: ${c.before.join(', ')})`);
});

test('real time with a Cyclone DDS controller commanding by joint name (JointState, reversed order); Ctrl-C stops the bridge cleanly', { skip }, async () => {
  const r = await scenario({ mode: 'js', clock: 'realtime', target: TARGET, states: 40, seed: 7, domain: domain++ });
  assert.equal(r.clientCode, 0, r.clientStderr);
  assert.equal(r.bridgeCode, 0, `exit on SIGINT: ${r.bridgeStderr}`);
  assert.ok(r.stopMs !== undefined && r.stopMs < 5000, `stopped in ${r.stopMs} ms`);
  const summary = r.bridgeStdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.event === 'summary');
  assert.ok(summary.steps >= 29, `${summary.steps} steps`);
  assert.ok(summary.counters.commandsAccepted >= 25);
  // stamps advance by one control period per state (within an episode)
  for (let i = 1; i < r.states.length; i++) {
    const dt = r.states[i].sec + r.states[i].nanosec / 1e9 - (r.states[i - 1].sec + r.states[i - 1].nanosec / 1e9);
    assert.ok(Math.abs(dt - 0.05) < 1e-6, `state ${i}: dt ${dt}`);
  }
  assert.match(r.bridgeStderr, /stopping signal=SIGINT/);
  const last = r.states[r.states.length - 1].q;
  last.forEach((q, j) => assert.ok(Math.abs(q - TARGET[j]) < 0.05, `joint${j + 1} at ${q}, commanded ${TARGET[j]} by name`));
});
