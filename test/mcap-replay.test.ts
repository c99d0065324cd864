// Recording a policy node the way `onestep serve --record` does, then: replaying the recording with the recorded
// (shipped) model gives bit-identical commands, in timer mode (launch/arm_policy.yaml, decimation and
// interpolation) and in event mode, also across a watchdog trip mid-recording (its safe actions, the recovery and
// the blend-in after it); another model shows per-joint differences; and `onestep profile` reads the recording
// (stages from the node's recorded timings).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InprocTransport } from '../src/ros/inproc.ts';
import { buildConfig } from '../src/ros/node/params.ts';
import { PolicyNode } from '../src/ros/node/policy-node.ts';
import { Logger } from '../src/ros/node/diagnostics.ts';
import { readParametersFile, type ParameterValue } from '../src/ros/node/ros-args.ts';
import { PolicyRuntime } from '../src/runtime/policy-runtime.ts';
import { nodeRecordingOptions, startRecording } from '../src/ros/mcap/session.ts';
import { Recording } from '../src/ros/mcap/reader.ts';
import { replayRecording, formatReplay } from '../src/ros/mcap/replay.ts';
import { readRecordingRun } from '../src/ros/profile/recording.ts';
import { analyze } from '../src/ros/profile/analyze.ts';
import { readModelSpec } from '../src/runtime/policy-runtime.ts';
import { armReachModel } from './helpers/arm-model.ts';
import { writeArmPolicy } from './serve-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'onestep-mcap-replay-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// the shipped arm_reach model of the launch file's layout; another model of that layout with its own weights
const SHIPPED = armReachModel();
const OTHER = join(dir, 'other.onnx');
writeArmPolicy(OTHER, { observationNames: [...(await readModelSpec(SHIPPED)).observation.names], mode: 'relative', seed: 7 });
const JOINTS = ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the node on an inproc graph with a scripted robot for `ms`, recording as serve --record does. `pause`: the
 * robot stops publishing for a while (the watchdog trips). Without one the watchdog gets 2 s, so that these runs
 * compare plain passes even when a loaded machine stalls the event loop past the launch file's 100 ms.
 */
async function recordRun(path: string, params: Map<string, ParameterValue>, ms: number, domainId: number, pause?: { atMs: number; forMs: number }): Promise<number> {
  if (!params.has('diagnostics.timings')) params.set('diagnostics.timings', true);
  params.set('watch_model', false);
  if (!pause) params.set('safety.watchdog_ms', 2000);
  const config = buildConfig(params);
  const inner = new InprocTransport({ node: { name: 'policy_node', namespace: '/' }, domainId });
  const session = await startRecording(inner, path, nodeRecordingOptions(config, '/policy_node', 'onestep serve'));
  const node = await PolicyNode.start({
    transport: session.transport, config, logger: new Logger('policy_node', 'warn', 'text', () => {}), shutdownGraceMs: 5,
    loadPolicy: (p) => PolicyRuntime.load(p, { seed: config.seed, deterministic: config.deterministic }),
  });
  const robot = new InprocTransport({ node: { name: 'robot', namespace: '/' }, domainId });
  const js = robot.advertise('/joint_states', 'sensor_msgs/msg/JointState', 'default');
  const tip = robot.advertise('/tool_tip', 'geometry_msgs/msg/PointStamped', 'default');
  const target = robot.advertise('/target', 'geometry_msgs/msg/PointStamped', 'default');
  const t0 = Date.now();
  let k = 0;
  while (Date.now() - t0 < ms) {
    const now = Date.now();
    if (pause && now - t0 >= pause.atMs && now - t0 < pause.atMs + pause.forMs) {
      await sleep(8);
      continue;
    }
    const stamp = { sec: Math.floor(now / 1000), nanosec: (now % 1000) * 1e6 + k };
    tip.publish({ header: { stamp, frame_id: 'world' }, point: { x: 0.3 + 0.001 * k, y: 0.05, z: 0.5 } });
    target.publish({ header: { stamp, frame_id: 'world' }, point: { x: 0.5, y: -0.1, z: 0.3 } });
    js.publish({ header: { stamp, frame_id: '' }, name: JOINTS, position: JOINTS.map((_, j) => 0.1 * Math.sin(0.1 * k + j)), velocity: JOINTS.map((_, j) => 0.01 * j), effort: [] });
    k++;
    await sleep(8);
  }
  await sleep(50);
  await node.shutdown('test done');
  await robot.close();
  const s = await session.finish();
  return s.messages;
}

const load = (p: string, o: { seed: number; deterministic: boolean }) => PolicyRuntime.load(p, o);

/** Timer mode with the launch file's parameters: `model` replays bit for bit; another model differs per joint. */
async function timerModeReplay(model: string, name: string, domainId: number): Promise<void> {
  const path = join(dir, `timer-${name}.mcap`);
  const params = readParametersFile('launch/arm_policy.yaml', { name: 'policy_node', namespace: '/' });
  params.set('model', model);
  params.set('safety.blend_in_steps', 5);
  const messages = await recordRun(path, params, 1200, domainId);
  assert.ok(messages > 100, `recorded ${messages} messages`);
  const rec = await Recording.open(path);
  const topics = Object.fromEntries(rec.topics.map((t) => [t.topic, t.messages]));
  assert.deepEqual(rec.attachmentNames().sort(), ['parameters.yaml', 'policy.onnx']);
  await rec.close();
  assert.ok(topics['/forward_position_controller/commands'] > 50, JSON.stringify(topics));
  assert.ok(topics['/policy_node/timings'] > 0, 'timings recorded');
  assert.ok(topics['/joint_states'] > 50);

  const same = await replayRecording(path, { loadPolicy: load });
  assert.equal(same.mode, 'timer');
  assert.equal(same.recorded, topics['/forward_position_controller/commands'] - 1, `the final safe action at shutdown is left out: ${formatReplay(same)}`);
  assert.equal(same.identical, true, formatReplay(same));
  assert.equal(same.maxAbs, 0);
  assert.deepEqual(same.joints.map((j) => j.joint), JOINTS);

  const other = await replayRecording(path, { model: OTHER, loadPolicy: load });
  assert.equal(other.identical, false);
  assert.ok(other.maxAbs > 1e-3, formatReplay(other));
  assert.ok(other.joints.some((j) => j.over > 0));
  assert.match(formatReplay(other), /DIFFERENT: max \|Δ\|/);
}

// Timer mode with the trained model (its targets saturate the rate limiter from the first command) and with the
// untrained one. Both once failed one max_step off from the second command: the replay paired recorded commands with
// the node's passes by time, with 200 µs of slack, and the first command (recorded on a cold path) or one after a
// preemption came later than that and was taken for a safe action; commands are now paired by their fingerprint.
test('timer mode (launch/arm_policy.yaml): the shipped model replays bit for bit; another model differs per joint', async () => {
  await timerModeReplay(SHIPPED, 'shipped', 91);
});

test('timer mode with the untrained model of the same layout replays bit for bit too', { skip: SHIPPED.includes('untrained') && 'the shipped model is the untrained one' }, async () => {
  await timerModeReplay('models/untrained-arm_reach/policy.onnx', 'untrained', 93);
});

test('event mode: replay with the recorded model is identical; profile reads the recording with node stages', async () => {
  const path = join(dir, 'event.mcap');
  const params = readParametersFile('launch/arm_policy.yaml', { name: 'policy_node', namespace: '/' });
  params.set('model', SHIPPED);
  params.set('mode', 'event');
  await recordRun(path, params, 800, 92);
  const same = await replayRecording(path, { model: SHIPPED, loadPolicy: load });
  assert.equal(same.mode, 'event');
  assert.equal(same.identical, true, formatReplay(same));

  const run = await readRecordingRun(path, { warmupS: 0.1, trainingPeriodMs: 50 });
  assert.equal(run.topics.command, '/forward_position_controller/commands');
  assert.equal(run.topics.observation, '/joint_states');
  assert.equal(run.topics.timings, '/policy_node/timings');
  assert.equal(run.sameClock, true);
  const a = analyze(run);
  assert.equal(a.matching, 'command-hash');
  assert.ok(a.counts.matched > 20, JSON.stringify(a.counts));
  assert.ok(a.stages.infer && a.stages.infer.count === a.counts.matched);
  assert.ok(a.e2e.p50 > a.stages.infer.p50, 'end to end inside the node covers the forward pass');
});

// A watchdog trip mid-recording: the robot goes quiet for 350 ms against the launch file's 100 ms watchdog and 5
// recovery observations. The node publishes its safe action (and, in event mode, again at every timeout; in timer
// mode at every tick), recovers after 5 fresh joint states and blends in again. The recording carries those events
// (~/safety_events) and the replay re-enacts each at the same point of the observation stream: every command,
// safe actions included, matches bit for bit.
for (const [mode, domainId] of [['event', 94], ['timer', 95]] as const) {
  test(`${mode} mode: a watchdog trip mid-recording replays bit for bit, its safe actions and the blend-in after it included`, async () => {
    const path = join(dir, `watchdog-${mode}.mcap`);
    const params = readParametersFile('launch/arm_policy.yaml', { name: 'policy_node', namespace: '/' });
    params.set('model', SHIPPED);
    params.set('mode', mode);
    params.set('safety.blend_in_steps', 5);
    await recordRun(path, params, 1300, domainId, { atMs: 500, forMs: 350 });
    const rec = await Recording.open(path);
    const kinds: number[] = [];
    for await (const m of rec.messages<{ kind: number; safe_action: string }>(['/policy_node/safety_events'])) kinds.push(m.message.kind);
    await rec.close();
    assert.equal(kinds[0], 1, `the first event is STALE: ${kinds}`);
    assert.equal(kinds.filter((k) => k === 4).length, 1, `one recovery: ${kinds}`);
    assert.ok(kinds.includes(mode === 'event' ? 2 : 3), `${mode === 'event' ? 'STALE_AGAIN' : 'STALE_TICK'} events: ${kinds}`);

    const same = await replayRecording(path, { model: SHIPPED, loadPolicy: load });
    const text = formatReplay(same);
    assert.equal(same.identical, true, text);
    assert.ok(same.safeActionsCompared >= (mode === 'event' ? 3 : 5), `safe actions compared: ${text}`);
    assert.equal(same.safeActions, 1, `only the final safe action at shutdown is left out: ${text}`);
    assert.deepEqual(same.recoveries, { recorded: 1, replayed: 1 });
    assert.equal(same.watchdogEvents, kinds.filter((k) => k !== 4).length);
    assert.match(text, /watchdog: \d+ recorded events re-enacted/);
  });
}

test('event mode without the recorded timings: the watchdog trip still replays bit for bit (every command is compared in order)', async () => {
  const path = join(dir, 'watchdog-event-no-timings.mcap');
  const params = readParametersFile('launch/arm_policy.yaml', { name: 'policy_node', namespace: '/' });
  params.set('model', SHIPPED);
  params.set('mode', 'event');
  params.set('safety.blend_in_steps', 5);
  params.set('diagnostics.timings', false);
  await recordRun(path, params, 1100, 96, { atMs: 400, forMs: 350 });
  const same = await replayRecording(path, { model: SHIPPED, loadPolicy: load });
  assert.ok(same.watchdogEvents >= 2, formatReplay(same));
  assert.deepEqual(same.recoveries, { recorded: 1, replayed: 1 });
  // without fingerprints every recorded command counts, the final safe action at shutdown too (the replay stops before it)
  assert.equal(same.recorded, same.replayed + 1, formatReplay(same));
  assert.equal(same.firstOver, -1, formatReplay(same));
});

test('replay refuses what it cannot replay, with the reason', async () => {
  const path = join(dir, 'plain.mcap');
  const { McapRecorder } = await import('../src/ros/mcap/recorder.ts');
  const r = await McapRecorder.create(path);
  await r.close();
  await assert.rejects(() => replayRecording(path, { loadPolicy: load }), /no parameters\.yaml attachment/);
  await assert.rejects(() => replayRecording(join(dir, 'nope.mcap'), { loadPolicy: load }), /cannot open the recording/);
});
