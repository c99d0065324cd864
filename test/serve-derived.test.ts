// Derived observation sources of the policy node: target − tip and its length computed from the points' full
// precision values, the node's own last command (measured pose first, then the clamped policy command before
// rate limiting, restarted when the trigger's stamps jump back), validated at start against the model's names.
// Node tests run over the inproc transport with the shipped arm_reach layout (launch/arm_policy.yaml).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InprocTransport } from '../src/ros/inproc.ts';
import { PolicyRuntime } from '../src/runtime/policy-runtime.ts';
import { buildConfig } from '../src/ros/node/params.ts';
import { PolicyNode, PolicyNodeError } from '../src/ros/node/policy-node.ts';
import { Logger } from '../src/ros/node/diagnostics.ts';
import { ObservationAssembler, ObservationLayoutError, layoutSources, type SourceConfig } from '../src/ros/node/observation.ts';
import { ActionMapper } from '../src/ros/node/action.ts';
import { ParameterError, parametersFromYaml, type ParameterValue } from '../src/ros/node/ros-args.ts';
import { sleep, until as waitUntil } from './helpers/wait.ts';

const MODEL = 'models/untrained-arm_reach/policy.onnx';
const JOINTS = ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7'];
const shipped = parametersFromYaml(readFileSync('launch/arm_policy.yaml', 'utf8'), { name: 'policy_node', namespace: '/' }, 'arm_policy.yaml');

const source = (c: Partial<SourceConfig> & { name: string }): SourceConfig => ({
  topic: `/${c.name}`, type: 'geometry_msgs/msg/PointStamped', fields: [], jointNames: [], size: 0, names: [], ...c,
});
const point = (x: number, y: number, z: number) => ({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' }, point: { x, y, z } });

test('difference and distance are computed from the full-precision values, then rounded once to float32', () => {
  const sources = [
    source({ name: 'ee' }),
    source({ name: 'target' }),
    source({ name: 'to_target', kind: 'difference', of: ['target', 'ee'] }),
    source({ name: 'reach', kind: 'distance', of: ['target', 'ee'] }),
    source({ name: 'height', kind: 'distance', of: ['target'] }),
  ];
  const names = ['ee_x', 'ee_y', 'ee_z', 'target_x', 'target_y', 'target_z', 'to_target_x', 'to_target_y', 'to_target_z', 'reach', 'height'];
  const asm = new ObservationAssembler(layoutSources(sources, { names, size: 11, source: 'm' }), 11);
  assert.equal(asm.ready, false);
  // 0.1 + 1e-9 and 0.1 are the same float32: a difference of the float32 entries would be 0
  const ee = [0.1, 0.2, 0.3];
  const target = [0.1 + 1e-9, 0.5, -0.25];
  assert.ok(asm.accept(0, point(ee[0], ee[1], ee[2])));
  assert.ok(asm.accept(1, point(target[0], target[1], target[2])));
  assert.ok(asm.ready, 'derived sources wait for nothing but their operands');
  asm.derive(null);
  const d = target.map((t, i) => t - ee[i]);
  assert.deepEqual([...asm.vector.subarray(6, 9)], d.map(Math.fround));
  assert.ok(asm.vector[6] !== 0);
  assert.equal(asm.vector[9], Math.fround(Math.hypot(ee[0] - target[0], ee[1] - target[1], ee[2] - target[2])));
  assert.equal(asm.vector[10], Math.fround(Math.hypot(...target)));
  // a dropped message leaves the operand's last good value in force
  assert.ok(!asm.accept(1, point(NaN, 0, 0)));
  asm.derive(null);
  assert.deepEqual([...asm.vector.subarray(6, 9)], d.map(Math.fround));
});

test('last_command entries follow the command vector by joint name', () => {
  const sources = [source({ name: 'js', type: 'sensor_msgs/msg/JointState', fields: ['position'], jointNames: ['a', 'b'] }), source({ name: 'cmd', kind: 'last_command', jointNames: ['b', 'a'] })];
  const asm = new ObservationAssembler(layoutSources(sources, { names: ['a_position', 'b_position', 'b_command', 'a_command'], size: 4, source: 'm' }), 4, ['a', 'b']);
  assert.ok(asm.usesCommand);
  asm.derive(Float64Array.of(1.5, -2.5));
  assert.deepEqual([...asm.vector.subarray(2)], [-2.5, 1.5]);
  assert.throws(() => new ObservationAssembler(layoutSources(sources, { names: [], size: 4, source: 'm' }), 4, ['a', 'c']),
    /observation.cmd.joint_names has "b", which the node does not command \(commanded joints: a, c\)/);
});

test('the command range a model can give, in output order through the user scale and offset', () => {
  const m = new ActionMapper({ policyNames: ['a', 'b'], outputNames: ['b', 'a'], mode: 'relative', scale: [2, -1], offset: [0.5, 0], source: 'm' });
  // policy bounds a ∈ [-1, 1], b ∈ [0, 3]; output b = 0.5 + 2·b, output a = −a
  const r = m.range([-1, 0], [1, 3]);
  assert.deepEqual([...r.lower], [0.5, -1]);
  assert.deepEqual([...r.upper], [6.5, 1]);
  const d = new ActionMapper({ policyNames: ['a'], outputNames: [], mode: 'delta', scale: [], offset: [], source: 'm' }).range([-1], [1]);
  assert.deepEqual([d.lower[0], d.upper[0]], [-Infinity, Infinity], 'delta: added to the measured position');
});

test('derived sources are validated at start, naming the parameter', () => {
  const ee = source({ name: 'ee' });
  const layout = (extra: SourceConfig, size = 6) => layoutSources([ee, extra], { names: [], size, source: 'm' });
  assert.throws(() => layout(source({ name: 'd', kind: 'difference', of: ['ee', 'nowhere'] })), /observation.d.of names "nowhere", which is not in observation.sources \(ee, d\)/);
  assert.throws(() => layout(source({ name: 'd', kind: 'difference', of: ['ee'] })), /observation.d.of has 1 entries: a difference source takes two sources/);
  assert.throws(() => layout(source({ name: 'd', kind: 'distance', of: ['ee', 'd'] }), 4), /names "d", a derived source: operands must be topic sources/);
  const arr = source({ name: 'arr', type: 'std_msgs/msg/Float64MultiArray', size: 2 });
  assert.throws(() => layoutSources([ee, arr, source({ name: 'd', kind: 'difference', of: ['ee', 'arr'] })], { names: [], size: 8, source: 'm' }),
    /"ee" has 3 values, "arr" 2: they must match/);
  assert.throws(() => layout(source({ name: 'x', of: ['ee'] })), /observation.x.of is set, but only difference and distance sources take operands/);
  assert.throws(() => layoutSources([source({ name: 'c', kind: 'last_command', jointNames: ['a'] })], { names: [], size: 1, source: 'm' }),
    (e: Error) => e instanceof ObservationLayoutError && /at least one must read a topic/.test(e.message));
  // the names are checked against the model like every other source's
  assert.throws(
    () => layoutSources([ee, source({ name: 'to_goal', kind: 'difference', of: ['ee', 'ee'] })], { names: ['ee_x', 'ee_y', 'ee_z', 'to_goal_x', 'to_goal_y', 'ee_to_target_z'], size: 6, source: 'm' }),
    /\[5\] model "ee_to_target_z" vs source to_goal "to_goal_z"/,
  );
  // a derived source cannot trigger actions or be the measured joint state
  const base: [string, ParameterValue][] = [['observation.sources', ['js', 'cmd']], ['observation.cmd.kind', 'last_command']];
  assert.throws(() => buildConfig(new Map<string, ParameterValue>([...base, ['observation.trigger', 'cmd']])), (e: Error) => e instanceof ParameterError && /not one of the topic sources/.test(e.message));
  assert.throws(() => buildConfig(new Map<string, ParameterValue>([...base, ['observation.cmd.kind', 'sum']])), /observation.cmd.kind/);
  assert.equal(buildConfig(new Map<string, ParameterValue>([['observation.sources', ['cmd', 'js']], ['observation.cmd.kind', 'last_command']])).trigger, 'js');
});

test('a last_command source without a JointState source is refused at start', async () => {
  const config = buildConfig(new Map<string, ParameterValue>([
    ['model', MODEL], ['watch_model', false], ['diagnostics.rate_hz', 0], ['observation.check_names', false],
    ['observation.sources', ['obs', 'cmd']], ['observation.obs.type', 'std_msgs/msg/Float64MultiArray'], ['observation.cmd.kind', 'last_command'],
  ]));
  const transport = new InprocTransport({ node: { name: 'policy_node', namespace: '/' }, domainId: 190 });
  await assert.rejects(
    PolicyNode.start({ transport, config, loadPolicy: (p) => PolicyRuntime.load(p, { deterministic: true }), logger: new Logger('t', 'error', 'text', () => {}) }),
    (e: Error) => e instanceof PolicyNodeError && /last_command observation source starts from the measured joint positions/.test(e.message),
  );
  await transport.close();
});

// ---------------------------------------------------------------------------------------------------------------
// The node with the shipped parameters (event mode for one action per observation)

// This file's waits time out sooner than the helper's default.
const until = (what: string, cond: () => boolean, timeoutMs = 3000) => waitUntil(what, cond, timeoutMs);

let domain = 191;
const open: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of open) await close();
});

async function startShipped(params: [string, ParameterValue][]) {
  const d = domain++;
  const overrides = new Map<string, ParameterValue>([
    ...shipped, ['model', MODEL], ['mode', 'event'], ['watch_model', false], ['diagnostics.rate_hz', 0], ['diagnostics.policy_io', true],
    ['safety.blend_in_steps', 0], ['safety.max_step', []], ['deterministic', false], ...params,
  ]);
  const config = buildConfig(overrides);
  const transport = new InprocTransport({ node: { name: 'policy_node', namespace: '/' }, domainId: d });
  const policy = await PolicyRuntime.load(MODEL, { seed: 7 });
  const actions: Float32Array[] = [];
  const node = await PolicyNode.start({
    transport, config, shutdownGraceMs: 5, logger: new Logger('policy_node', 'error', 'text', () => {}),
    loadPolicy: async () => ({
      spec: policy.spec, observationSize: policy.observationSize, actionSize: policy.actionSize,
      act: (o: Float32Array) => {
        const a = policy.act(o);
        actions.push(Float32Array.from(a));
        return a;
      },
      close: () => policy.close(),
    }),
  });
  const robot = new InprocTransport({ node: { name: 'robot', namespace: '/' }, domainId: d });
  const io: Float64Array[] = [];
  const commands: Float64Array[] = [];
  robot.subscribe<{ data: Float64Array }>('/policy_node/policy_io', 'std_msgs/msg/Float64MultiArray', 'sensor_data', (m) => io.push(Float64Array.from(m.data)));
  robot.subscribe<{ data: Float64Array }>(config.action.topic, config.action.type, 'default', (m) => commands.push(Float64Array.from(m.data)));
  const joints = robot.advertise('/joint_states', 'sensor_msgs/msg/JointState', 'sensor_data');
  const tip = robot.advertise('/tool_tip', 'geometry_msgs/msg/PointStamped', 'sensor_data');
  const target = robot.advertise('/target', 'geometry_msgs/msg/PointStamped', 'sensor_data');
  const close = async () => {
    await node.shutdown('test');
    await robot.close();
  };
  open.push(close);
  return {
    config, io, commands, actions,
    /** One observation (points first, then the triggering joint state) and its action. */
    async step(q: number[], stampSec: number) {
      const n = io.length;
      tip.publish(point(0.4, 0.1, 0.3));
      target.publish(point(0.5, -0.1, 0.2));
      await sleep(1);
      joints.publish({ header: { stamp: { sec: stampSec, nanosec: 0 }, frame_id: '' }, name: JOINTS, position: Float64Array.from(q), velocity: new Float64Array(7), effort: new Float64Array(0) });
      await until('the action', () => io.length === n + 1);
      return { observation: io[n].subarray(0, 31), command: io[n].subarray(31) };
    },
  };
}

test('shipped layout: last_command is the measured pose first, then the clamped policy command; a stamp jump back restarts it', async () => {
  const h = await startShipped([['safety.upper', [2.96, 2.09, 2.96, 1.65, 2.96, 2.09, 3.05]]]);
  const q0 = [0.05, 0.25, -0.05, 1.7, 0.02, 1.1, -0.01];
  const first = await h.step(q0, 10);
  const f32 = (v: ArrayLike<number>) => Array.from(v, Math.fround);
  assert.deepEqual([...first.observation.subarray(24)], f32([0.05, 0.25, -0.05, 1.65, 0.02, 1.1, -0.01]), 'measured pose, clamped to the joint limits');
  assert.deepEqual([...first.observation.subarray(20, 24)], f32([0.1, -0.2, -0.1, Math.hypot(0.1, 0.2, 0.1)]));
  // relative mode: the published command is the model's physical output (home + scale·a already in it), clamped
  const clamp = (a: Float32Array) => Array.from(a, (x, j) => Math.min(h.config.safety.upper[j], Math.max(h.config.safety.lower[j], x)));
  assert.deepEqual([...first.command], clamp(h.actions[0]));
  const second = await h.step(q0, 11);
  assert.deepEqual([...second.observation.subarray(24)], f32(clamp(h.actions[0])), 'the previous command');
  const third = await h.step(q0, 12);
  assert.deepEqual([...third.observation.subarray(24)], f32(clamp(h.actions[1])));
  // a simulator reset: sim time restarts, so the trigger's stamp goes back
  const q1 = [0.1, 0.3, 0, 1.5, 0, 1.0, 0];
  const reset = await h.step(q1, 0);
  assert.deepEqual([...reset.observation.subarray(24)], f32(q1));
  const next = await h.step(q1, 1);
  assert.deepEqual([...next.observation.subarray(24)], f32(clamp(h.actions[3])));
});

test('shipped layout with a rate limit: last_command is the policy command before rate limiting', async () => {
  const h = await startShipped([['safety.max_step', [0.001]]]);
  const q0 = [0, 0.3, 0, 1.6, 0, 1.0, 0];
  const first = await h.step(q0, 1);
  const second = await h.step(q0, 2);
  const target = Array.from(h.actions[0]);
  assert.ok(first.command.some((c, j) => Math.abs(c - target[j]) > 0.01), 'the published command is rate limited');
  first.command.forEach((c, j) => assert.ok(Math.abs(c - q0[j]) <= 0.001 + 1e-12, `joint ${j} moved ≤ max_step from the measured pose`));
  assert.deepEqual([...second.observation.subarray(24)], target.map(Math.fround), 'the observation carries the policy command');
});
