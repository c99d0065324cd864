// The policy node over the inproc transport (real CDR codec on every message) with a real ONNX Runtime policy:
// values, joint ordering, bad observations, watchdog and recovery, clamp / rate limit / blend-in, timer mode and
// decimation, every output type, diagnostics, hot reload (file change and request), and clean shutdown.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InprocTransport } from '../src/ros/inproc.ts';
import type { Transport } from '../src/ros/transport.ts';
import { PolicyRuntime } from '../src/runtime/policy-runtime.ts';
import { buildConfig } from '../src/ros/node/params.ts';
import { PolicyNode, PolicyNodeError } from '../src/ros/node/policy-node.ts';
import { Logger } from '../src/ros/node/diagnostics.ts';
import type { ParameterValue } from '../src/ros/node/ros-args.ts';
import { ARM_JOINTS, writeArmPolicy, type Fixture } from './serve-fixture.ts';
import { sleep, until as waitUntil } from './helpers/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'onestep-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let domain = 100;

// This file's waits time out sooner than the helper's default.
const until = (what: string, cond: () => boolean, timeoutMs = 3000) => waitUntil(what, cond, timeoutMs);

interface Harness {
  node: PolicyNode;
  robot: Transport;
  commands: Float64Array[];
  raw: unknown[];
  logs: string[];
  fixture: Fixture;
  modelPath: string;
  sendJoints(position: number[], velocity?: number[], names?: string[]): void;
  sendTarget(x: number, y: number, z: number): void;
  close(): Promise<void>;
}

const baseParams: [string, ParameterValue][] = [
  ['observation.sources', ['joint_states', 'target']],
  ['observation.target.type', 'geometry_msgs/msg/PointStamped'],
  ['observation.target.topic', '/target'],
  ['observation.joint_states.topic', '/joint_states'],
  ['action.topic', '/arm_controller/commands'],
  ['deterministic', true],
  ['watch_model', false],
  ['diagnostics.rate_hz', 0],
];

async function start(params: [string, ParameterValue][] = [], opts: { fixture?: Parameters<typeof writeArmPolicy>[1]; commandType?: string } = {}): Promise<Harness> {
  const d = domain++;
  const modelPath = join(dir, `arm-${d}.onnx`);
  const fixture = writeArmPolicy(modelPath, opts.fixture);
  const overrides = new Map<string, ParameterValue>([...baseParams, ['model', modelPath], ...params]);
  const config = buildConfig(overrides);
  const logs: string[] = [];
  const logger = new Logger('policy_node', 'debug', 'text', (l) => logs.push(l));
  const transport = new InprocTransport({ node: { name: 'policy_node', namespace: '/' }, domainId: d });
  const node = await PolicyNode.start({
    transport, config, logger, shutdownGraceMs: 5,
    loadPolicy: (p) => PolicyRuntime.load(p, { deterministic: config.deterministic, seed: config.seed }),
  });
  const robot = new InprocTransport({ node: { name: 'robot', namespace: '/' }, domainId: d });
  const commands: Float64Array[] = [];
  const raw: unknown[] = [];
  const type = opts.commandType ?? config.action.type;
  robot.subscribe<Record<string, any>>(config.action.topic, type, 'default', (m) => {
    raw.push(m);
    if (type === 'std_msgs/msg/Float64MultiArray') commands.push(Float64Array.from(m.data));
    else if (type === 'trajectory_msgs/msg/JointTrajectory') commands.push(Float64Array.from(m.points[0].positions));
    else commands.push(Float64Array.from(m.data));
  });
  const joints = robot.advertise('/joint_states', 'sensor_msgs/msg/JointState', 'sensor_data');
  const target = robot.advertise('/target', 'geometry_msgs/msg/PointStamped', 'sensor_data');
  let stampSec = 1000;
  return {
    node, robot, commands, raw, logs, fixture, modelPath,
    sendJoints(position, velocity = position.map(() => 0), names = ARM_JOINTS) {
      joints.publish({ header: { stamp: { sec: stampSec++, nanosec: 42 }, frame_id: '' }, name: names, position: Float64Array.from(position), velocity: Float64Array.from(velocity), effort: new Float64Array(0) });
    },
    sendTarget(x, y, z) {
      target.publish({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'base' }, point: { x, y, z } });
    },
    async close() {
      await node.shutdown('test');
      await robot.close();
    },
  };
}

const q0 = [0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7];
const clampModel = (v: Float64Array) => v.map((x) => Math.min(1.6, Math.max(-1.5, x)));
const obsOf = (q: number[], dq: number[], t: number[]) => [...q, ...dq, ...t];

test('event mode: JointState (any order) + target → Float64MultiArray equal to the policy evaluated directly', async () => {
  const h = await start();
  try {
    h.sendTarget(0.5, 0.1, 0.3);
    await sleep(5);
    h.sendJoints(q0, q0.map((x) => x / 10));
    await until('first command', () => h.commands.length === 1);
    const want = clampModel(h.fixture.reference(obsOf(q0, q0.map((x) => x / 10), [0.5, 0.1, 0.3])));
    for (let j = 0; j < 7; j++) assert.ok(Math.abs(h.commands[0][j] - want[j]) < 1e-5, `joint${j + 1}: ${h.commands[0][j]} vs ${want[j]}`);
    // the same state with the names in another order gives the same command
    const order = [6, 2, 0, 5, 1, 4, 3];
    h.sendJoints(order.map((i) => q0[i]), order.map((i) => q0[i] / 10), order.map((i) => ARM_JOINTS[i]));
    await until('second command', () => h.commands.length === 2);
    assert.deepEqual([...h.commands[1]], [...h.commands[0]]);
    // 50 observations → 50 commands, each equal to a direct evaluation
    const direct = await PolicyRuntime.load(h.modelPath, { deterministic: true });
    for (let k = 0; k < 50; k++) {
      const q = q0.map((x, i) => x + 0.01 * k * (i + 1));
      h.sendJoints(q);
      await until(`command ${k}`, () => h.commands.length === 3 + k);
      const a = direct.act(Float32Array.from(obsOf(q, q.map(() => 0), [0.5, 0.1, 0.3])));
      const got = h.commands[2 + k];
      for (let j = 0; j < 7; j++) assert.ok(Math.abs(got[j] - Math.min(1.6, Math.max(-1.5, a[j]))) < 1e-6);
    }
    direct.close();
    assert.equal(h.node.counters.observationsDropped, 0);
    assert.ok(h.node.latency.size('e2e') >= 52);
  } finally {
    await h.close();
  }
});

test('bad observations are dropped, counted and logged (throttled), produce no action and do not stop the node', async () => {
  const h = await start([['safety.watchdog_ms', 0]]);
  try {
    h.sendTarget(0.5, 0, 0.3);
    h.sendJoints(q0);
    await until('first command', () => h.commands.length === 1);
    h.sendJoints([NaN, ...q0.slice(1)]);
    h.sendJoints(q0.slice(0, 6), q0.slice(0, 6), ARM_JOINTS.slice(0, 6)); // joint7 missing
    h.sendJoints(q0, [0, 0]); // velocity array too short
    h.sendJoints([1e40, ...q0.slice(1)]); // overflows float32
    h.sendTarget(Infinity, 0, 0);
    await until('drops counted', () => h.node.counters.observationsDropped === 5);
    await sleep(20);
    assert.equal(h.commands.length, 1, 'no action from a bad observation');
    const warnings = h.logs.filter((l) => l.includes('dropped observation'));
    assert.equal(warnings.length, 1, 'throttled to one line per second');
    assert.match(warnings[0], /reason="non-finite value at position"|reason=.*non-finite/);
    h.sendTarget(0.5, 0, 0.3);
    h.sendJoints(q0);
    await until('recovered command', () => h.commands.length === 2);
    assert.deepEqual([...h.commands[1]], [...h.commands[0]], 'the bad target did not leak into the observation');
  } finally {
    await h.close();
  }
});

test('watchdog: no observation for T ms → safe action (hold), repeated while stale; fresh data recovers with a blend-in', async () => {
  const h = await start([['safety.watchdog_ms', 30], ['safety.stale_action', 'hold'], ['safety.blend_in_steps', 4]]);
  try {
    h.sendTarget(0.5, 0, 0.3);
    for (let k = 0; k < 10; k++) {
      h.sendJoints(q0);
      await sleep(5);
    }
    await until('commands', () => h.commands.length === 10);
    const last = h.commands[9];
    const t0 = performance.now();
    await until('stale', () => h.node.state === 'stale', 500);
    const firedAfter = performance.now() - t0;
    assert.ok(firedAfter < 30 + 40, `watchdog fired after ${firedAfter.toFixed(1)} ms`);
    await sleep(100);
    const safe = h.commands.slice(10);
    assert.ok(safe.length >= 2, `safe action repeated while stale (${safe.length})`);
    for (const c of safe) assert.deepEqual([...c], [...last], 'hold = the last command');
    assert.equal(h.node.counters.staleEvents, 1);
    // recovery: blend from the measured position q1 to the policy's command over 4 steps
    const q1 = q0.map((x) => x * 0.5);
    const before = h.commands.length;
    for (let k = 0; k < 6; k++) {
      h.sendJoints(q1);
      await until(`recovery command ${k}`, () => h.commands.length === before + k + 1);
    }
    assert.equal(h.node.state, 'running');
    const want = clampModel(h.fixture.reference(obsOf(q1, q1.map(() => 0), [0.5, 0, 0.3])));
    const got = h.commands.slice(before);
    for (let k = 0; k < 4; k++) {
      const alpha = (k + 1) / 4;
      for (let j = 0; j < 7; j++) assert.ok(Math.abs(got[k][j] - (q1[j] + alpha * (want[j] - q1[j]))) < 1e-5, `blend step ${k} joint ${j}`);
    }
    for (let j = 0; j < 7; j++) assert.ok(Math.abs(got[5][j] - want[j]) < 1e-5);
  } finally {
    await h.close();
  }
});

test('safety: per-joint clamp and rate limit per period, asserted numerically', async () => {
  const lower = [-0.1, -0.2, -0.3, -0.4, -0.5, -0.6, -0.7];
  const upper = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
  const h = await start([['safety.lower', lower], ['safety.upper', upper], ['safety.max_step', [0.05]], ['safety.watchdog_ms', 0]], { fixture: { gain: 8 } });
  try {
    h.sendTarget(0.5, 0, 0.3);
    const n = 20;
    for (let k = 0; k < n; k++) {
      h.sendJoints(k < 10 ? q0 : q0.map((x) => -x));
      await until(`command ${k}`, () => h.commands.length === k + 1);
    }
    const raw0 = h.fixture.reference(obsOf(q0, q0.map(() => 0), [0.5, 0, 0.3]));
    const raw1 = h.fixture.reference(obsOf(q0.map((x) => -x), q0.map(() => 0), [0.5, 0, 0.3]));
    // reproduce the filter: ±0.05 per step from the previous command, then clamped
    const expect: number[][] = [];
    // the rate limit starts from the measured position (clamped), so the first command cannot jump either
    let prev: number[] | null = q0.map((x, j) => Math.min(upper[j], Math.max(lower[j], x)));
    for (let k = 0; k < n; k++) {
      const raw = k < 10 ? raw0 : raw1;
      const cmd = [...raw].map((x, j) => {
        let v = x;
        if (prev) v = Math.min(prev[j] + 0.05, Math.max(prev[j] - 0.05, v));
        return Math.min(upper[j], Math.max(lower[j], v));
      });
      expect.push(cmd);
      prev = cmd;
    }
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < 7; j++) {
        assert.ok(Math.abs(h.commands[k][j] - expect[k][j]) < 1e-5, `step ${k} joint ${j}: ${h.commands[k][j]} vs ${expect[k][j]}`);
        assert.ok(h.commands[k][j] >= lower[j] - 1e-12 && h.commands[k][j] <= upper[j] + 1e-12);
        if (k > 0) assert.ok(Math.abs(h.commands[k][j] - h.commands[k - 1][j]) <= 0.05 + 1e-9);
      }
    }
    assert.ok(expect.some((c, k) => k > 0 && c.some((x, j) => Math.abs(x - expect[k - 1][j]) > 0.049)), 'the rate limit was exercised');
  } finally {
    await h.close();
  }
});

test('blend-in at start moves from the measured position over N steps', async () => {
  const h = await start([['safety.blend_in_steps', 5], ['safety.watchdog_ms', 0]]);
  try {
    h.sendTarget(0.5, 0, 0.3);
    for (let k = 0; k < 7; k++) {
      h.sendJoints(q0);
      await until(`command ${k}`, () => h.commands.length === k + 1);
    }
    const want = clampModel(h.fixture.reference(obsOf(q0, q0.map(() => 0), [0.5, 0, 0.3])));
    for (let k = 0; k < 7; k++) {
      const alpha = Math.min(1, (k + 1) / 5);
      for (let j = 0; j < 7; j++) assert.ok(Math.abs(h.commands[k][j] - (q0[j] + alpha * (want[j] - q0[j]))) < 1e-5);
    }
  } finally {
    await h.close();
  }
});

test('timer mode with decimation: fixed-rate commands, policy every N ticks, linear interpolation between', async () => {
  const h = await start([['mode', 'timer'], ['control_rate_hz', 100], ['decimation', 4], ['interpolate', true], ['safety.watchdog_ms', 0]]);
  try {
    h.sendTarget(0.5, 0, 0.3);
    h.sendJoints(q0);
    await sleep(400);
    const n = h.commands.length;
    assert.ok(n >= 20 && n <= 45, `about 100 Hz for 0.4 s: ${n} commands`);
    const infer = h.node.latency.recorded('infer');
    assert.ok(Math.abs(infer - n / 4) <= 2, `policy every 4th tick: ${infer} inferences for ${n} commands`);
    // constant observation: after the first period the command is the policy's target
    const want = clampModel(h.fixture.reference(obsOf(q0, q0.map(() => 0), [0.5, 0, 0.3])));
    for (let j = 0; j < 7; j++) assert.ok(Math.abs(h.commands[n - 1][j] - want[j]) < 1e-5);
    // a new observation: the next four commands go linearly from the old target to the new one
    const q1 = q0.map((x) => -x);
    h.sendJoints(q1);
    const want1 = clampModel(h.fixture.reference(obsOf(q1, q1.map(() => 0), [0.5, 0, 0.3])));
    await until('new target reached', () => Math.abs(h.commands[h.commands.length - 1][0] - want1[0]) < 1e-5, 1000);
    const tail = h.commands.slice(-12);
    const firstNew = tail.findIndex((c) => Math.abs(c[0] - want[0]) > 1e-6);
    assert.ok(firstNew >= 0);
    const steps = tail.slice(firstNew, firstNew + 4).map((c) => (c[0] - want[0]) / (want1[0] - want[0]));
    assert.deepEqual(steps.map((s) => Math.round(s * 100) / 100), [0.25, 0.5, 0.75, 1]);
  } finally {
    await h.close();
  }
});

test('outputs: JointTrajectory single-point streaming and onestep_msgs/Action with the observation stamp', async () => {
  const jt = await start([['action.type', 'trajectory_msgs/msg/JointTrajectory'], ['action.time_from_start_ms', 10], ['action.joint_names', [...ARM_JOINTS].reverse()]]);
  try {
    jt.sendTarget(0.5, 0, 0.3);
    jt.sendJoints(q0);
    await until('trajectory', () => jt.raw.length === 1);
    const m = jt.raw[0] as Record<string, any>;
    assert.deepEqual(m.joint_names, [...ARM_JOINTS].reverse());
    assert.equal(m.points.length, 1);
    assert.deepEqual(m.points[0].time_from_start, { sec: 0, nanosec: 10_000_000 });
    const want = clampModel(jt.fixture.reference(obsOf(q0, q0.map(() => 0), [0.5, 0, 0.3])));
    for (let j = 0; j < 7; j++) assert.ok(Math.abs(m.points[0].positions[j] - want[6 - j]) < 1e-5, 'reordered to the controller\'s joint order');
  } finally {
    await jt.close();
  }
  const act = await start([['action.type', 'onestep_msgs/msg/Action']]);
  try {
    act.sendTarget(0.5, 0, 0.3);
    act.sendJoints(q0);
    await until('action', () => act.raw.length === 1);
    const m = act.raw[0] as Record<string, any>;
    assert.deepEqual(m.observation_stamp, { sec: 1000, nanosec: 42 });
    assert.deepEqual(m.joint_names, ARM_JOINTS);
    assert.equal(m.mode, 0);
    assert.ok(m.inference_time_ms > 0 && m.inference_time_ms < 100);
    assert.ok(m.latency_ms >= m.inference_time_ms);
    assert.ok(Math.abs(m.header.stamp.sec - Date.now() / 1000) < 5);
  } finally {
    await act.close();
  }
});

test('diagnostics: /diagnostics and ~/status carry latency, counters and the model id; ~/policy_io echoes', async () => {
  const h = await start([['diagnostics.rate_hz', 20], ['diagnostics.policy_io', true]]);
  const diags: any[] = [];
  const status: any[] = [];
  const io: any[] = [];
  h.robot.subscribe('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', 'default', (m) => diags.push(m));
  h.robot.subscribe('/policy_node/status', 'onestep_msgs/msg/PolicyStatus', 'default', (m) => status.push(m));
  h.robot.subscribe('/policy_node/policy_io', 'std_msgs/msg/Float64MultiArray', 'sensor_data', (m) => io.push(m));
  try {
    h.sendTarget(0.5, 0, 0.3);
    // one at a time: a sensor_data subscription keeps only the last 5 samples
    for (let k = 0; k < 5; k++) {
      h.sendJoints(q0);
      await until(`command ${k}`, () => h.commands.length === k + 1);
    }
    h.sendJoints([NaN, ...q0.slice(1)]);
    await until('a report after the actions', () => status.some((s) => s.actions_published === 5n), 2000);
    const s = status.find((x) => x.actions_published === 5n);
    assert.equal(s.state, 1);
    assert.equal(s.checkpoint, 'fixture-0001');
    assert.equal(s.observations_rejected, 1n);
    const d = diags.find((x) => x.status[0].values.some((v: any) => v.key === 'actions_published' && v.value === '5'));
    assert.ok(d, 'diagnostics with the counters');
    const values = Object.fromEntries(d.status[0].values.map((v: any) => [v.key, v.value]));
    assert.equal(values.model_id, 'fixture-0001');
    assert.equal(values.observations_dropped, '1');
    assert.equal(d.status[0].level, 1, 'WARN: an observation was dropped in this period');
    assert.ok(diags.some((x) => Number(x.status[0].values.find((v: any) => v.key === 'inference_p50_ms').value) > 0));
    assert.equal(io.length, 5);
    assert.equal(io[0].data.length, 17 + 7);
    assert.deepEqual([...io[0].data.slice(0, 7)].map((x: number) => Math.round(x * 1e6) / 1e6), q0);
  } finally {
    await h.close();
  }
});

test('hot reload: a changed model file is validated and switched to; a bad one is refused and the old keeps running', async () => {
  const h = await start([['watch_model', true], ['safety.watchdog_ms', 0]]);
  try {
    h.sendTarget(0.5, 0, 0.3);
    h.sendJoints(q0);
    await until('first command', () => h.commands.length === 1);
    // a new model, written next to it and renamed over (what an exporter or rsync does)
    const tmp = `${h.modelPath}.tmp`;
    const next = writeArmPolicy(tmp, { seed: 7, checkpointId: 'fixture-0002' });
    renameSync(tmp, h.modelPath);
    await until('reload', () => h.node.counters.reloads === 1, 3000);
    assert.equal(h.node.modelSpec.checkpointId, 'fixture-0002');
    h.sendJoints(q0);
    await until('command from the new model', () => h.commands.length === 2);
    const want = clampModel(next.reference(obsOf(q0, q0.map(() => 0), [0.5, 0, 0.3])));
    for (let j = 0; j < 7; j++) assert.ok(Math.abs(h.commands[1][j] - want[j]) < 1e-5);
    // a model for another observation layout is refused
    writeArmPolicy(tmp, { observationNames: ['a', 'b', 'c'], checkpointId: 'bad-layout' });
    renameSync(tmp, h.modelPath);
    await until('refusal', () => h.node.counters.reloadsRefused === 1, 3000);
    assert.equal(h.node.modelSpec.checkpointId, 'fixture-0002');
    assert.ok(h.logs.some((l) => /refused the new model/.test(l) && /observation differs/.test(l)));
    // garbage bytes are refused too, via the ~/reload request topic
    const garbage = join(dir, 'garbage.onnx');
    writeFileSync(garbage, 'not an onnx model');
    const req = h.robot.advertise('/policy_node/reload', 'std_msgs/msg/String', 'default');
    req.publish({ data: garbage });
    await until('second refusal', () => h.node.counters.reloadsRefused === 2, 3000);
    // a model whose action is NaN fails the test step
    const nan = join(dir, 'nan.onnx');
    writeArmPolicy(nan, { nanAction: true });
    assert.equal(await h.node.reload(nan), false);
    h.sendJoints(q0);
    await until('still acting', () => h.commands.length === 3);
    assert.deepEqual([...h.commands[2]], [...h.commands[1]]);
  } finally {
    await h.close();
  }
});

test('start-up mismatch between parameters and model metadata stops the node with both sides named', async () => {
  const modelPath = join(dir, 'mismatch.onnx');
  writeArmPolicy(modelPath);
  const transport = new InprocTransport({ node: { name: 'policy_node', namespace: '/' }, domainId: 200 });
  const config = buildConfig(new Map<string, ParameterValue>([['model', modelPath], ['watch_model', false]]));
  await assert.rejects(
    PolicyNode.start({ transport, config, loadPolicy: (p) => PolicyRuntime.load(p) }),
    (e: Error) => e instanceof PolicyNodeError && /model .*mismatch.onnx expects 17 values/.test(e.message) && /sources give 14/.test(e.message),
  );
  const config2 = buildConfig(new Map<string, ParameterValue>([...baseParams, ['model', modelPath], ['action.joint_names', ['joint1', 'joint2']]]));
  await assert.rejects(PolicyNode.start({ transport, config: config2, loadPolicy: (p) => PolicyRuntime.load(p) }), /action.joint_names has 2 joints .*the model .* has 7 actions/);
  await transport.close();
});

test('shutdown publishes the final safe action (zero) and disposes every endpoint', async () => {
  const h = await start([['safety.stale_action', 'zero'], ['diagnostics.rate_hz', 10]]);
  h.sendTarget(0.5, 0, 0.3);
  h.sendJoints(q0);
  await until('first command', () => h.commands.length === 1);
  const ownTopics = () => h.robot.topics().filter((t) => t.topic.startsWith('/policy_node') || t.topic === '/diagnostics');
  assert.ok(ownTopics().length >= 2);
  await h.node.shutdown('test');
  await until('final command', () => h.commands.length === 2);
  assert.deepEqual([...h.commands[1]], [0, 0, 0, 0, 0, 0, 0]);
  const remaining = h.robot.topics().filter((t) => t.topic === '/arm_controller/commands')[0];
  assert.equal(remaining?.publishers ?? 0, 0, 'the command publisher is gone');
  assert.equal(h.robot.topics().find((t) => t.topic === '/joint_states')?.subscribers ?? 0, 0, 'the subscriptions are gone');
  h.sendJoints(q0);
  await sleep(20);
  assert.equal(h.commands.length, 2);
  await h.robot.close();
});
