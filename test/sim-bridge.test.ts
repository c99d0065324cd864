// onestep sim-bridge over the inproc transport (real CDR on every message), with the real MuJoCo arm: what it
// publishes per step (joint states and points equal to the task's own observation, sim-time stamps, clock, episode
// status), lockstep by arrival order and by header stamp, episodes identical to in-process ones, bad commands
// refused and counted without reaching the simulation, the real-time watchdog, missed commands, reset/pause/step.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { InprocTransport } from '../src/ros/inproc.ts';
import { Logger } from '../src/ros/node/diagnostics.ts';
import { SimBridge, type BridgeSummary, type PublishedState, type SimBridgeOptions } from '../src/ros/sim-bridge/index.ts';
import { MujocoEnv } from '../src/sim/env.ts';
import { SimRobot } from '../src/sim/robot.ts';
import { sleep, until } from './helpers/wait.ts';

const JOINTS = ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7'];
const HOME = [0, 0.3, 0, 1.6, 0, 1.0, 0];

let domain = 150;
const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

interface Stamped { header: { stamp: { sec: number; nanosec: number } } }
interface JointStateMsg extends Stamped { name: string[]; position: Float64Array; velocity: Float64Array; effort: Float64Array }

async function harness(opts: Partial<SimBridgeOptions> & { task?: string } = {}) {
  const d = domain++;
  const robot = await SimRobot.forTask(opts.task ?? 'arm_reach');
  const logs: string[] = [];
  const states: PublishedState[] = [];
  const bridge = SimBridge.start({
    transport: new InprocTransport({ node: { name: 'sim_bridge', namespace: '/' }, domainId: d }),
    robot, clock: 'lockstep', seed: 100, logger: new Logger('sim_bridge', 'info', 'text', (l) => logs.push(l)), logThrottleMs: 60_000,
    onState: (s) => states.push({ ...s, observation: Float32Array.from(s.observation) }),
    ...opts,
  });
  const peer = new InprocTransport({ node: { name: 'controller', namespace: '/' }, domainId: d });
  const js: JointStateMsg[] = [];
  const status: Record<string, any>[] = [];
  const clock: { clock: { sec: number; nanosec: number } }[] = [];
  const points = new Map<string, { point: { x: number; y: number; z: number } } & Stamped>();
  peer.subscribe<JointStateMsg>('/joint_states', 'sensor_msgs/msg/JointState', 'sensor_data', (m) => js.push(m));
  peer.subscribe<Record<string, any>>('/sim_bridge/status', 'onestep_msgs/msg/EpisodeStatus', 'default', (m) => status.push(m));
  peer.subscribe<{ clock: { sec: number; nanosec: number } }>('/clock', 'rosgraph_msgs/msg/Clock', { reliability: 'best_effort', durability: 'volatile', history: 'keep_last', depth: 1 }, (m) => clock.push(m));
  for (const p of ['tool_tip', 'target']) peer.subscribe<any>(`/${p}`, 'geometry_msgs/msg/PointStamped', 'sensor_data', (m) => points.set(p, m));
  const commands = peer.advertise('/forward_position_controller/commands', 'std_msgs/msg/Float64MultiArray', 'default');
  const jointCommand = peer.advertise('/joint_command', 'sensor_msgs/msg/JointState', 'default');
  const close = async () => {
    await bridge.close();
    await peer.close();
    robot.close();
  };
  cleanup.push(close);
  return {
    bridge, robot, logs, states, js, status, clock, points, peer, close,
    send: (data: ArrayLike<number>) => commands.publish({ layout: { dim: [], data_offset: 0 }, data: Float64Array.from(data) }),
    sendJoints: (name: string[], position: ArrayLike<number>, stamp = { sec: 0, nanosec: 0 }) =>
      jointCommand.publish({ header: { stamp, frame_id: '' }, name, position: Float64Array.from(position), velocity: new Float64Array(0), effort: new Float64Array(0) }),
  };
}

function assertNear(actual: readonly number[], expected: readonly number[], what = 'values', tol = 1e-6): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((x, i) => assert.ok(Math.abs(x - expected[i]) <= tol, `${what}[${i}]: ${x} vs ${expected[i]}`));
}

/** The arm's command in force (ctrl). */
function ctrlOf(robot: SimRobot): number[] {
  const out = new Float64Array(7);
  robot.readCommand(out);
  return [...out];
}

test('lockstep: one state per answered command; joint states and points are the task observation, stamped with sim time', async () => {
  const h = await harness({ episodes: 2 });
  await until('the first state', () => h.js.length === 1 && h.points.size === 2);
  assert.deepEqual(h.js[0].name, JOINTS);
  assert.deepEqual(h.js[0].header.stamp, { sec: 0, nanosec: 0 });
  const target = [0.1, 0.5, -0.1, 1.7, 0.05, 1.2, 0.02];
  // a controller answering every state with the same target, and an in-process run of the same episodes
  h.peer.subscribe('/joint_states', 'sensor_msgs/msg/JointState', 'sensor_data', () => h.send(target));
  h.send(target);
  const summary: BridgeSummary = await h.bridge.done;
  assert.equal(summary.episodes.length, 2);
  assert.equal(summary.steps, 100);
  assert.equal(summary.counters.commandsMissed, 0);
  const env = await MujocoEnv.make('arm_reach');
  try {
    const a = Float64Array.from(target, (x, i) => (x - env.actionSpec.offset[i]) / env.actionSpec.scale[i]);
    for (let k = 0; k < 2; k++) {
      const obs0 = env.reset(100 + k);
      const first = h.states.find((s) => s.episode === k && s.step === 0)!;
      assert.deepEqual([...first.observation], [...obs0]);
      let ret = 0;
      let r;
      for (let t = 0; t < 50; t++) {
        r = env.step(a);
        ret += r.reward;
        if (t < 49) assert.deepEqual([...h.states.find((s) => s.episode === k && s.step === t + 1)!.observation], [...r.obs], `episode ${k} step ${t + 1}`);
      }
      assert.equal(summary.episodes[k].return, ret, 'bit-identical episode');
      assert.equal(summary.episodes[k].success, r!.info.success);
      assert.equal(summary.episodes[k].seed, 100 + k);
    }
  } finally {
    env.close();
  }
  // the wire: each JointState / point is the task's observation of that state; stamps are sim time (restarting at 0)
  await until('the last messages', () => h.js.length === 100);
  for (let i = 0; i < h.js.length; i++) {
    const s = h.states[i];
    const m = h.js[i];
    assert.deepEqual(m.header.stamp, { sec: s.stampSec, nanosec: s.stampNanosec });
    assert.deepEqual([...m.position].map(Math.fround), [...s.observation.subarray(0, 7)]);
    assert.deepEqual([...m.velocity].map(Math.fround), [...s.observation.subarray(7, 14)]);
  }
  assert.equal(h.states[1].stampNanosec, 50_000_000);
  assert.deepEqual(h.js[50].header.stamp, { sec: 0, nanosec: 0 }, 'episode 2 starts at sim time 0');
  const tip = h.points.get('tool_tip')!;
  const last = h.states[h.states.length - 1].observation;
  assert.deepEqual([tip.point.x, tip.point.y, tip.point.z].map(Math.fround), [...last.subarray(14, 17)]);
  const tgt = h.points.get('target')!;
  assert.deepEqual([tgt.point.x, tgt.point.y, tgt.point.z].map(Math.fround), [...last.subarray(17, 20)]);
  await until('status and clock', () => h.status.some((s) => s.terminated || s.truncated) && h.clock.length > 0);
  const end = h.status.find((s) => s.truncated && s.episode === 0)!;
  assert.equal(end.step, 50);
  assert.equal(end.episode_return, summary.episodes[0].return);
  assert.equal(end.commands_accepted, 50n);
  assert.equal(end.state, 1, 'PLAYING');
  await until('STOPPED after the last episode', () => h.status[h.status.length - 1].state === 0);
});

test('bad commands are refused whole, counted, logged once per throttle period, and never reach the simulation', async () => {
  const h = await harness();
  await until('the first state', () => h.js.length === 1);
  const good = [0.1, 0.4, 0, 1.5, 0, 1.1, 0];
  h.send(good);
  await until('step 1', () => h.js.length === 2);
  assertNear(ctrlOf(h.robot), good);
  h.send([0.1, 0.2, 0.3]); // wrong length
  h.send([0.1, NaN, 0, 1.5, 0, 1.1, 0]);
  h.send([0.1, 0.4, 0, Infinity, 0, 1.1, 0]);
  h.sendJoints(['joint1', 'elbow'], [0, 0]); // unknown joint
  h.sendJoints(['joint1', 'joint1'], [0, 0]); // repeated
  h.sendJoints(['joint1', 'joint2'], [0]); // lengths differ
  await until('all refused', () => h.bridge.counters.commandsRefused === 6);
  await sleep(20);
  assert.equal(h.js.length, 2, 'a refused command answers nothing in lockstep');
  assertNear(ctrlOf(h.robot), good, 'ctrl untouched');
  assert.equal(h.logs.filter((l) => l.includes('refused command')).length, 1, 'one log line per throttle period');
  assert.match(h.logs.find((l) => l.includes('refused command'))!, /wrong length 3 \(expected 7: joint1, joint2/);
  // an out-of-range command is applied clamped to the task's range (home ± scale within the ctrlrange)
  h.send([5, 5, 5, 5, 5, 5, 5]);
  await until('step 2', () => h.js.length === 3);
  assertNear(ctrlOf(h.robot), [...h.robot.commandHigh]);
  assert.equal(h.bridge.counters.commandsClamped, 1);
  await until('status', () => h.status.some((s) => s.commands_refused === 6n));
});

test('JointState commands: by name, any subset and order; lockstep matches them to the state by header stamp', async () => {
  const h = await harness();
  await until('the first state', () => h.js.length === 1);
  const start = ctrlOf(h.robot);
  // a reply to some other state: stale, ignored
  h.sendJoints(['joint2'], [0.9], { sec: 7, nanosec: 0 });
  await until('stale counted', () => h.bridge.counters.commandsStale === 1);
  assert.equal(h.js.length, 1);
  h.sendJoints(['joint4', 'joint2'], [1.9, 0.9], h.js[0].header.stamp as { sec: number; nanosec: number });
  await until('step 1', () => h.js.length === 2);
  const expected = [...start];
  expected[1] = 0.9;
  expected[3] = 1.9;
  assertNear(ctrlOf(h.robot), expected);
  // unstamped: arrival order, like Float64MultiArray
  h.sendJoints(['joint1'], [0.2]);
  await until('step 2', () => h.js.length === 3);
  assertNear([ctrlOf(h.robot)[0]], [0.2]);
});

test('lockstep: a missed command is counted and the step runs with the command in force (hold); abort stops the run', async () => {
  const h = await harness({ lockstepTimeoutMs: 30, missedCommand: 'hold' });
  await until('two missed steps', () => h.bridge.counters.commandsMissed >= 2 && h.js.length >= 3);
  assert.ok(h.logs.some((l) => l.includes('missed command: stepping on')));
  await h.close();
  const a = await harness({ lockstepTimeoutMs: 30, missedCommand: 'abort' });
  await assert.rejects(a.bridge.done, /lockstep: no command answered the state at sim time 0.000000000 s \(episode 0, step 0\) within 30 ms/);
  assert.equal(a.js.length, 1);
});

test('real time: steps at the control period ÷ RTF, newest command applied, watchdog → zero after the timeout, counted', async () => {
  // 50 ms control period at 10× real time: a step every 5 ms
  const h = await harness({ clock: 'realtime', realTimeFactor: 10, commandTimeoutMs: 40, watchdogAction: 'zero' });
  const target = [0.2, 0.5, 0.1, 1.8, 0.1, 1.2, 0.05];
  const feeder = setInterval(() => h.send(target), 5);
  await until('commands applied', () => h.bridge.counters.commandsAccepted > 5 && h.bridge.counters.steps > 5);
  await sleep(20);
  assertNear(ctrlOf(h.robot), target);
  clearInterval(feeder);
  await until('the watchdog', () => h.bridge.counters.watchdogTimeouts === 1, 2000);
  await sleep(30);
  // zero, clamped to the task's range
  assertNear(ctrlOf(h.robot), [...h.robot.commandLow].map((lo, i) => Math.min(h.robot.commandHigh[i], Math.max(lo, 0))));
  assert.equal(h.bridge.counters.watchdogTimeouts, 1, 'one timeout event while stale');
  assert.ok(h.logs.some((l) => l.includes('no command within the timeout: safe command') && l.includes('safe_command=zero')));
  h.send(target);
  await until('cleared', () => h.logs.some((l) => l.includes('watchdog cleared')));
  const s = await h.close();
  assert.ok(h.bridge.summary().realTimeFactor > 5 && h.bridge.summary().realTimeFactor < 11, `RTF ${h.bridge.summary().realTimeFactor}`);
  void s;
});

test('reset, pause and step through topics', async () => {
  const h = await harness({ clock: 'realtime', realTimeFactor: 10 });
  const reset = h.peer.advertise('/sim_bridge/reset', 'std_msgs/msg/Empty', 'default');
  const pause = h.peer.advertise('/sim_bridge/pause', 'std_msgs/msg/Bool', 'default');
  const step = h.peer.advertise('/sim_bridge/step', 'std_msgs/msg/UInt64', 'default');
  await until('a few steps', () => h.bridge.counters.steps >= 3);
  pause.publish({ data: true });
  await until('paused', () => h.status.some((s) => s.state === 2));
  const steps = h.bridge.counters.steps;
  await sleep(40);
  assert.equal(h.bridge.counters.steps, steps, 'no steps while paused');
  step.publish({ data: 3n });
  await until('three steps', () => h.bridge.counters.steps === steps + 3);
  await sleep(30);
  assert.equal(h.bridge.counters.steps, steps + 3);
  const before = h.robot.stepIndex;
  reset.publish({});
  await until('the next episode', () => h.status.some((s) => s.episode === 1 && s.step === 0));
  assert.equal(h.robot.stepIndex, 0);
  assert.ok(before > 0);
  assert.equal(h.js[h.js.length - 1].header.stamp.sec + h.js[h.js.length - 1].header.stamp.nanosec, 0, 'the new episode starts at sim time 0');
  pause.publish({ data: false });
  await until('playing again', () => h.bridge.counters.steps > steps + 5);
  // step while playing is refused
  step.publish({ data: 1n });
  await until('refusal logged', () => h.logs.some((l) => l.includes('step refused: the simulation is not paused')));
});
