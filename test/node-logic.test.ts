// Pure logic of the policy node: ROS command line and parameter YAML, observation assembly, action mapping and
// encoding (through the shared CDR codec), and the safety filter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  collectParameters, nodeIdentity, nodeKeyMatches, parametersFromYaml, parseRosArgs, remappingsFor, resolveParameters,
  type ParameterDescriptor,
} from '../src/ros/node/ros-args.ts';
import { ObservationAssembler, ObservationLayoutError, layoutSources, type SourceConfig } from '../src/ros/node/observation.ts';
import { ActionEncoder, ActionInfo, ActionMapper, PolicyIoEncoder } from '../src/ros/node/action.ts';
import { SafetyFilter, Watchdog, makeLimits } from '../src/ros/node/safety.ts';
import { getMessageCodec } from '../src/ros/msgs/registry.ts';

test('--ros-args: remaps, node name, namespace, params, params files, end marker', () => {
  const a = parseRosArgs([
    '--model', 'm.onnx', '--ros-args', '-r', '__node:=arm_policy', '-r', '__ns:=/robot', '-r', 'commands:=/fwd/commands',
    '-p', 'mode:=timer', '-p', 'control_rate_hz:=250', '-p', 'safety.lower:=[-1.0, -2]', '--params-file', '/tmp/x.yaml',
    '-p', 'arm_policy:safety.blend_in_steps:=20', '--log-level', 'debug', '--', '--extra',
  ]);
  assert.equal(a.nodeName, 'arm_policy');
  assert.equal(a.namespace, '/robot');
  assert.deepEqual(a.remappings, [{ from: 'commands', to: '/fwd/commands' }]);
  assert.deepEqual(a.params.map((p) => [p.node, p.name, p.value]), [
    [undefined, 'mode', 'timer'], [undefined, 'control_rate_hz', 250], [undefined, 'safety.lower', [-1, -2]],
    ['arm_policy', 'safety.blend_in_steps', 20],
  ]);
  assert.deepEqual(a.paramsFiles, ['/tmp/x.yaml']);
  assert.equal(a.logLevel, 'debug');
  assert.deepEqual(a.rest, ['--model', 'm.onnx', '--extra']);
  assert.deepEqual(nodeIdentity(a, { name: 'policy_node', namespace: '/' }), { name: 'arm_policy', namespace: '/robot' });
  assert.throws(() => parseRosArgs(['--ros-args', '--bogus']), /unknown argument "--bogus"/);
  assert.throws(() => parseRosArgs(['--ros-args', '-p']), /-p needs a value/);
  assert.throws(() => parseRosArgs(['--ros-args', '-r', '__node:=1bad']), /must not start with a digit/);
  const nodeScoped = parseRosArgs(['--ros-args', '-r', 'other:in:=/x', '-r', 'policy_node:in:=/y']);
  assert.deepEqual(remappingsFor(nodeScoped, { name: 'policy_node', namespace: '/' }), [{ from: 'in', to: '/y' }]);
});

test('parameter YAML: node keys, /** wildcards, nested namespaces, flattening, precedence', () => {
  const node = { name: 'policy_node', namespace: '/arm' };
  assert.ok(nodeKeyMatches('/**', node));
  assert.ok(nodeKeyMatches('/arm/policy_node', node));
  assert.ok(nodeKeyMatches('/**/policy_node', node));
  assert.ok(nodeKeyMatches('/arm/*', node));
  assert.ok(!nodeKeyMatches('policy_node', node), 'a bare name addresses the root namespace');
  assert.ok(!nodeKeyMatches('/other/policy_node', node));
  const yaml = `
/**:
  ros__parameters:
    mode: event
    safety:
      watchdog_ms: 40.0
      lower: [-1.0, -1.0]
/arm:
  policy_node:
    ros__parameters:
      mode: timer
/other_node:
  ros__parameters:
    mode: nope
`;
  const p = parametersFromYaml(yaml, node);
  assert.deepEqual(Object.fromEntries(p), { mode: 'timer', 'safety.watchdog_ms': 40, 'safety.lower': [-1, -1] });
  assert.throws(() => parametersFromYaml('a: [1', node, 'f.yaml'), /f.yaml: not valid YAML/);
  assert.throws(() => parametersFromYaml('policy_node:\n  mode: x\n', node, 'f.yaml'), /not under a "ros__parameters"/);
  assert.throws(() => parametersFromYaml('/**:\n  ros__parameters:\n    x: [1, "a"]\n', node, 'f.yaml'), /mixed/);

  const dir = mkdtempSync(join(tmpdir(), 'onestep-params-'));
  const f = join(dir, 'p.yaml');
  writeFileSync(f, yaml);
  const args = parseRosArgs(['--ros-args', '--params-file', f, '-p', 'mode:=event']);
  assert.equal(collectParameters(args, node).get('mode'), 'event', '-p overrides the file');
  assert.throws(() => collectParameters(parseRosArgs(['--ros-args', '--params-file', join(dir, 'missing.yaml')]), node), /cannot read \(ENOENT\)/);
});

test('typed parameters: defaults, coercion, unknown names rejected with a hint', () => {
  const declared = new Map<string, ParameterDescriptor>([
    ['mode', { type: 'string', default: 'event', description: '', choices: ['event', 'timer'] }],
    ['control_rate_hz', { type: 'double', default: 100, description: '', min: 0 }],
    ['decimation', { type: 'int', default: 1, description: '', min: 1 }],
    ['safety.lower', { type: 'double[]', default: [], description: '' }],
  ]);
  const r = resolveParameters(declared, new Map<string, number | string | number[]>([['control_rate_hz', 500], ['safety.lower', [-1, 2]]]));
  assert.equal(r.get('mode'), 'event');
  assert.equal(r.get('control_rate_hz'), 500);
  assert.throws(() => resolveParameters(declared, new Map([['contrl_rate_hz', 5]])), /unknown parameter "contrl_rate_hz" \(did you mean "control_rate_hz"\?\)/);
  assert.throws(() => resolveParameters(declared, new Map([['mode', 'fast']])), /"mode" = "fast" is not one of event, timer/);
  assert.throws(() => resolveParameters(declared, new Map([['decimation', 1.5]])), /not an integer/);
  assert.throws(() => resolveParameters(declared, new Map([['decimation', 0]])), /not ≥ 1/);
  assert.throws(() => resolveParameters(declared, new Map([['safety.lower', ['a']]])), /not a list of numbers/);
});

const joints = ['joint1', 'joint2', 'joint3'];
const jsSource: SourceConfig = {
  name: 'joint_states', topic: '/joint_states', type: 'sensor_msgs/msg/JointState', fields: ['position', 'velocity'],
  jointNames: joints, size: 0, names: [],
};
const targetSource: SourceConfig = {
  name: 'target', topic: '/target', type: 'geometry_msgs/msg/PointStamped', fields: [], jointNames: [], size: 0, names: [],
};
const modelNames = [...joints.map((j) => `${j}_position`), ...joints.map((j) => `${j}_velocity`), 'target_x', 'target_y', 'target_z'];

test('observation: JointState by name in any order, point target, validated and committed only when whole', () => {
  const layouts = layoutSources([jsSource, targetSource], { names: modelNames, size: 9, source: 'm.onnx' });
  const asm = new ObservationAssembler(layouts, 9);
  assert.equal(asm.ready, false);
  const js = (name: string[], position: number[], velocity: number[]) => ({
    header: { stamp: { sec: 5, nanosec: 7 }, frame_id: '' }, name, position: Float64Array.from(position), velocity: Float64Array.from(velocity), effort: new Float64Array(0),
  });
  assert.ok(asm.accept(0, js(['joint3', 'gripper', 'joint1', 'joint2'], [3, 9, 1, 2], [30, 90, 10, 20])));
  assert.ok(asm.accept(1, { header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' }, point: { x: 0.5, y: -0.5, z: 0.25 } }));
  assert.ok(asm.ready);
  assert.deepEqual([...asm.vector], [1, 2, 3, 10, 20, 30, 0.5, -0.5, 0.25]);
  assert.equal(asm.sources[0].stampSec, 5);
  // reordered names are re-mapped; a NaN, a missing joint and a short velocity array are dropped untouched
  assert.ok(asm.accept(0, js(['joint1', 'joint2', 'joint3'], [4, 5, 6], [0, 0, 0])));
  assert.deepEqual([...asm.vector.subarray(0, 3)], [4, 5, 6]);
  assert.ok(!asm.accept(0, js(['joint1', 'joint2', 'joint3'], [7, NaN, 9], [0, 0, 0])));
  assert.ok(!asm.accept(0, js(['joint1', 'joint2'], [7, 8], [0, 0])));
  assert.ok(!asm.accept(0, js(['joint1', 'joint2', 'joint3'], [7, 8, 9], [0])));
  assert.ok(!asm.accept(1, { point: { x: Infinity, y: 0, z: 0 } }));
  assert.ok(!asm.accept(1, { point: { x: 1e39, y: 0, z: 0 } }), 'float32 overflow is non-finite for the policy');
  assert.deepEqual([...asm.vector], [4, 5, 6, 0, 0, 0, 0.5, -0.5, 0.25]);
  assert.equal(asm.sources[0].dropped, 3);
  assert.equal(asm.sources[1].dropped, 2);
});

test('observation: arrays (open size), onestep_msgs/Observation names; mismatches name both sides', () => {
  const arr: SourceConfig = { name: 'extra', topic: '/extra', type: 'std_msgs/msg/Float64MultiArray', fields: [], jointNames: [], size: 0, names: [] };
  const layouts = layoutSources([jsSource, arr], { names: [], size: 10, source: 'm.onnx' });
  assert.equal(layouts[1].width, 4);
  const asm = new ObservationAssembler(layouts, 10);
  assert.ok(!asm.accept(1, { layout: { dim: [], data_offset: 0 }, data: new Float64Array(3) }));
  assert.ok(asm.accept(1, { layout: { dim: [], data_offset: 0 }, data: Float64Array.of(1, 2, 3, 4) }));
  assert.throws(() => layoutSources([jsSource], { names: modelNames, size: 9, source: 'm.onnx' }),
    (e: Error) => e instanceof ObservationLayoutError && /model m.onnx expects 9 values/.test(e.message) && /sources give 6/.test(e.message));
  assert.throws(() => layoutSources([{ ...jsSource, jointNames: ['joint1', 'joint2', 'jointX'] }, targetSource], { names: modelNames, size: 9, source: 'm.onnx' }),
    /\[2\] model "joint3_position" vs source joint_states "jointX_position"/);
  assert.doesNotThrow(() => layoutSources([{ ...jsSource, jointNames: ['joint1', 'joint2', 'jointX'] }, targetSource], { names: modelNames, size: 9, source: 'm.onnx' }, false));
  const obs: SourceConfig = { name: 'obs', topic: '/obs', type: 'onestep_msgs/msg/Observation', fields: [], jointNames: [], size: 2, names: ['a', 'b'] };
  const a2 = new ObservationAssembler(layoutSources([obs], { names: ['a', 'b'], size: 2, source: 'm' }), 2);
  assert.ok(a2.accept(0, { names: ['a', 'b'], data: Float32Array.of(1, 2) }));
  assert.ok(a2.accept(0, { names: [], data: Float32Array.of(3, 4) }));
  assert.ok(!a2.accept(0, { names: ['b', 'a'], data: Float32Array.of(1, 2) }));
  assert.deepEqual([...a2.vector], [3, 4]);
});

test('action mapping: joint reorder, user scale/offset, delta on the measured position', () => {
  const m = new ActionMapper({ policyNames: joints, outputNames: ['joint3', 'joint1', 'joint2'], mode: 'absolute', scale: [2], offset: [0, 1, 0], source: 'm' });
  const out = new Float64Array(3);
  assert.ok(m.map(Float32Array.of(1, 2, 3), null, out));
  assert.deepEqual([...out], [6, 3, 4]);
  const d = new ActionMapper({ policyNames: joints, outputNames: [], mode: 'delta', scale: [], offset: [], source: 'm' });
  assert.ok(!d.map(Float32Array.of(1, 2, 3), null, out));
  assert.ok(d.map(Float32Array.of(0.5, 0.5, 0.5), Float64Array.of(1, 2, 3), out));
  assert.deepEqual([...out], [1.5, 2.5, 3.5]);
  assert.throws(() => new ActionMapper({ policyNames: joints, outputNames: ['joint1', 'joint2', 'joint9'], mode: 'absolute', scale: [], offset: [], source: 'm.onnx' }),
    /"joint9", which the model m.onnx does not act on/);
});

test('action encoders patch a pre-serialized message that decodes like the shared codec would encode it', () => {
  const cmd = Float64Array.of(0.1, -0.2, 0.3);
  for (const type of ['std_msgs/msg/Float64MultiArray', 'trajectory_msgs/msg/JointTrajectory', 'onestep_msgs/msg/Action'] as const) {
    const codec = getMessageCodec(type);
    const enc = ActionEncoder.create(type, joints, 'absolute', (m) => codec.encode(m as Record<string, unknown>), 20e6);
    const bytes = enc.write(cmd, ActionInfo.of({ observationSec: 12, observationNanosec: 34, inferenceMs: 0.5, latencyMs: 0.75, clipped: true }));
    const msg = codec.decode(bytes) as Record<string, any>;
    if (type === 'std_msgs/msg/Float64MultiArray') assert.deepEqual([...msg.data], [...cmd]);
    if (type === 'trajectory_msgs/msg/JointTrajectory') {
      assert.deepEqual(msg.joint_names, joints);
      assert.deepEqual([...msg.points[0].positions], [...cmd]);
      assert.deepEqual(msg.points[0].time_from_start, { sec: 0, nanosec: 20_000_000 });
    }
    if (type === 'onestep_msgs/msg/Action') {
      assert.deepEqual([...msg.data], [...cmd]);
      assert.deepEqual(msg.observation_stamp, { sec: 12, nanosec: 34 });
      assert.equal(msg.clipped, true);
      assert.equal(msg.latency_ms, 0.75);
      assert.ok(Math.abs(msg.header.stamp.sec - Date.now() / 1000) < 5);
      const again = codec.decode(enc.write(cmd, ActionInfo.of({ observationSec: 1, observationNanosec: 2, inferenceMs: 0, latencyMs: 0, clipped: false }))) as Record<string, any>;
      assert.equal(again.clipped, false);
    }
  }
  const io = getMessageCodec('std_msgs/msg/Float64MultiArray');
  const pio = new PolicyIoEncoder(2, 3, (m) => io.encode(m as Record<string, unknown>));
  assert.deepEqual([...(io.decode(pio.write(Float32Array.of(1, 2), cmd)) as any).data], [1, 2, ...cmd]);
});

test('safety: clamp, rate limit, blend-in from the measured position, non-finite refused, safe actions', () => {
  const f = new SafetyFilter(makeLimits(2, { lower: [-1], upper: [1, 0.5], maxStep: [0.1], blendInSteps: 4 }));
  const out = new Float64Array(2);
  f.startBlendIn(Float64Array.of(0, 0));
  const seen: number[][] = [];
  for (let k = 0; k < 6; k++) {
    assert.ok(f.filter(Float64Array.of(0.2, 2), out));
    seen.push([...out].map((x) => Math.round(x * 1e9) / 1e9));
  }
  // joint 0: blend 0.05, 0.1, 0.15, 0.2 (each under the 0.1 step); joint 1: rate limited by 0.1, then clamped at 0.5
  assert.deepEqual(seen, [[0.05, 0.1], [0.1, 0.2], [0.15, 0.3], [0.2, 0.4], [0.2, 0.5], [0.2, 0.5]]);
  const before = [...f.last];
  assert.ok(!f.filter(Float64Array.of(NaN, 0), out));
  assert.deepEqual([...f.last], before, 'a refused command does not move the reference');
  assert.ok(f.safeAction('hold', out, null, new Float64Array(2)));
  assert.deepEqual([...out], before);
  assert.ok(f.safeAction('damping', out, Float64Array.of(2, -20), Float64Array.of(0.5, 0.5)));
  assert.deepEqual([...out], [-1, 0.5], 'damping −k·v, clamped');
  assert.ok(!new SafetyFilter(makeLimits(2, {})).safeAction('hold', out, null, new Float64Array(2)), 'nothing to hold yet');
  assert.throws(() => makeLimits(3, { lower: [0, 0] }), /safety.lower has 2 values, expected 1 or 3/);
  assert.throws(() => makeLimits(1, { lower: [1], upper: [0] }), /lower 1 > upper 0/);
});

test('watchdog: recovers after N consecutive observations even when they come slower than timeout ÷ N', async () => {
  // 100 ms timeout, 5 observations to recover, observations every 30 ms: slower than 100 ÷ 5 (a 20 Hz robot against
  // the shipped 100 ms and 5 alike)
  let stale = 0;
  let recovered = 0;
  const w = new Watchdog(100, 5, (first) => { if (first) stale++; }, () => recovered++);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    w.feed(performance.now());
    await sleep(200);
    assert.equal(w.state, 'stale');
    for (let k = 0; k < 5; k++) {
      assert.equal(recovered, 0, `not recovered after ${k} observations`);
      w.feed(performance.now());
      await sleep(30);
    }
    assert.equal(recovered, 1, 'recovered on the fifth consecutive observation');
    assert.equal(w.state, 'running');
    // a gap longer than the timeout while stale restarts the count
    await sleep(200);
    assert.equal(w.state, 'stale');
    w.feed(performance.now());
    await sleep(250);
    for (let k = 0; k < 4; k++) {
      w.feed(performance.now());
      await sleep(30);
    }
    assert.equal(recovered, 1, 'the observation before the gap does not count');
    w.feed(performance.now());
    assert.equal(recovered, 2);
    assert.equal(stale, 2);
  } finally {
    w.stop();
  }
});

test('watchdog: a replayed expiry (timer off) makes the same state changes and callbacks as the timer', () => {
  const calls: [boolean, number, boolean][] = [];
  let recovered = 0;
  const w = new Watchdog(0, 2, (first, idleMs, restarted) => calls.push([first, idleMs, restarted]), () => recovered++);
  assert.equal(w.feed(0), true);
  w.replayExpiry(120, true);
  assert.equal(w.state, 'stale');
  assert.equal(w.staleEvents, 1);
  assert.equal(w.feed(1), false, 'one fresh observation of the two needed');
  w.replayExpiry(100, false); // fired again while observations came: the count goes on
  assert.equal(w.feed(2), true, 'the second one recovers');
  assert.equal(recovered, 1);
  w.replayExpiry(150, true);
  assert.equal(w.feed(3), false);
  w.replayExpiry(110, true); // a whole quiet timeout: the count restarts
  assert.equal(w.feed(4), false);
  assert.equal(w.feed(5), true);
  assert.deepEqual(calls, [[true, 120, true], [false, 100, false], [true, 150, true], [false, 110, true]]);
  assert.equal(w.staleEvents, 2);
});
