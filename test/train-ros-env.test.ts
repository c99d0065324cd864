// `onestep train --env ros`: SMFP on arm_reach trained through `onestep sim-bridge` (lockstep, episode end held)
// equals the same run in process — training and evaluation rows, the checkpoint's weights and replay, the exported
// ONNX — and so does offline → online (MeanFlowQL on a dataset, then fine-tuned through the bridge), with the observation assembled from /joint_states, /tool_tip, /target and the derived entries by the
// params file the policy is served with (launch/arm_policy.yaml), actions sent as Float64MultiArray commands,
// resets through ~/reset_episode. The 200-step comparison runs both as the real CLI in this process, the bridge
// and the trainer talking over the in-process transport (real CDR on every message): two processes would add a
// TF.js start-up and DDS discovery to every run. A shorter run (100 steps) then does it as users do — `onestep
// sim-bridge` and `onestep train --env ros` as two processes over rtps in a private network namespace — and
// equals the in-process run too. Also: the environment's own checks — a bridge that steps on its own (a missed
// command) or starts the next episode by itself is refused with an error that says so.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InprocTransport } from '../src/ros/inproc.ts';
import { Logger } from '../src/ros/node/diagnostics.ts';
import { SimBridge, type SimBridgeOptions } from '../src/ros/sim-bridge/index.ts';
import { RosEnv } from '../src/ros/train-env.ts';
import { buildConfig } from '../src/ros/node/params.ts';
import { readParametersFile } from '../src/ros/node/ros-args.ts';
import { MujocoEnv } from '../src/sim/env.ts';
import { SimRobot } from '../src/sim/robot.ts';
import { onestepInProcess } from './helpers/cli.ts';
import { writeDatasetNpz } from '../src/data/index.ts';
import { Rng } from '../src/core/rng.ts';
import { REPO_ROOT, netnsSkipReason, runInNetns } from './helpers/netns.ts';

const dir = mkdtempSync(join(tmpdir(), 'train-ros-env-'));
const cleanup: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const c of cleanup) await c();
  rmSync(dir, { recursive: true, force: true });
});

async function startBridge(domain: number, opts: Partial<SimBridgeOptions> = {}) {
  const robot = await SimRobot.forTask('arm_reach');
  const logs: string[] = [];
  const bridge = SimBridge.start({
    transport: new InprocTransport({ node: { name: 'sim_bridge', namespace: '/' }, domainId: domain }),
    robot, clock: 'lockstep', episodeEnd: 'hold', lockstepTimeoutMs: 600_000, seed: 0,
    logger: new Logger('sim_bridge', 'warn', 'text', (l) => logs.push(l)), ...opts,
  });
  cleanup.push(async () => {
    await bridge.close();
    robot.close();
  });
  return { bridge, robot, logs };
}

const TINY = ['--algo', 'smfp', '--task', 'arm_reach', '--steps', '200', '--seed', '3', '--hidden', '16,16', '--warmup', '100', '--batch', '32',
  '--eval-every', '100', '--eval-episodes', '2', '--checkpoint-every', '200', '--progress', 'none'];
const TIMING = new Set(['env_steps_per_s', 'updates_per_s']);
const rows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => Object.fromEntries(Object.entries(JSON.parse(l)).filter(([k]) => !TIMING.has(k))));

test('SMFP over the bridge (lockstep, fixed seeds) is the in-process run: metrics, evaluations, checkpoint, ONNX', { timeout: 300_000 }, async () => {
  const domain = 231;
  const { bridge } = await startBridge(domain);
  const inProcess = join(dir, 'sim');
  const overRos = join(dir, 'ros');
  const a = await onestepInProcess('train', ...TINY, '--out', inProcess);
  assert.equal(a.code, 0, a.stderr);
  const b = await onestepInProcess('train', ...TINY, '--out', overRos, '--env', 'ros', '--params-file', 'launch/arm_policy.yaml', '--transport', 'inproc', '--domain-id', String(domain));
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /trained smfp on arm_reach, seed 3: 200 environment steps/);

  const trainA = rows(join(inProcess, 'metrics.jsonl'));
  assert.equal(trainA.length, 4, 'four 50-step training episodes');
  assert.deepEqual(rows(join(overRos, 'metrics.jsonl')), trainA, 'training rows (returns, losses) equal');
  const evalA = rows(join(inProcess, 'eval.jsonl'));
  assert.equal(evalA.length, 2);
  assert.deepEqual(rows(join(overRos, 'eval.jsonl')), evalA, 'evaluation rows equal');
  // the bridge ran every step of it: 200 training steps and 2 evaluations × 2 episodes × 50 steps
  assert.equal(bridge.counters.steps, 200 + 200);
  assert.equal(bridge.counters.commandsMissed, 0);
  assert.equal(bridge.counters.commandsRefused, 0);

  // the checkpoint: every file but the one that records when and how it was made
  const last = (run: string) => join(run, 'checkpoints', 'last');
  const files = readdirSync(last(inProcess)).sort();
  assert.deepEqual(readdirSync(last(overRos)).sort(), files);
  for (const f of files.filter((f) => f !== 'checkpoint.json')) {
    assert.ok(readFileSync(join(last(inProcess), f)).equals(readFileSync(join(last(overRos), f))), `checkpoints/last/${f} identical`);
  }
  const meta = (run: string) => JSON.parse(readFileSync(join(last(run), 'checkpoint.json'), 'utf8'));
  assert.deepEqual(meta(overRos).counters, meta(inProcess).counters);
  assert.deepEqual(meta(overRos).state, meta(inProcess).state);
  assert.ok(readFileSync(join(overRos, 'policy.onnx')).equals(readFileSync(join(inProcess, 'policy.onnx'))), 'the exported policy is the same file');
});

/** A RosEnv on arm_reach wired by launch/arm_policy.yaml. */
async function rosEnv(domain: number) {
  const task = await MujocoEnv.make('arm_reach');
  const config = buildConfig(readParametersFile('launch/arm_policy.yaml', { name: 'onestep_train', namespace: '/' }));
  const transport = new InprocTransport({ node: { name: 'onestep_train', namespace: '/' }, domainId: domain });
  const env = new RosEnv({
    transport, sources: config.sources, observationNames: task.observationSpec.names, commands: { topic: config.action.topic, jointNames: config.action.jointNames },
    action: task.actionSpec, bridge: '/sim_bridge', timeoutMs: 2000,
  });
  cleanup.push(async () => {
    env.close();
    await transport.close();
    task.close();
  });
  return { env, task };
}

test('the observation over ROS is the task\'s own, bit for bit, from the first state to the held terminal one', async () => {
  const domain = 232;
  await startBridge(domain);
  const { env, task } = await rosEnv(domain);
  await env.connect();
  const local = await MujocoEnv.make('arm_reach');
  cleanup.push(() => local.close());
  assert.deepEqual([...(await env.reset(42))], [...local.reset(42)]);
  const action = new Float32Array(7);
  for (let k = 0; k < 50; k++) {
    for (let i = 0; i < 7; i++) action[i] = Math.fround(Math.sin(k * 0.3 + i));
    const r = await env.step(action);
    const l = local.step(action);
    assert.deepEqual([...r.obs], [...l.obs], `observation after step ${k}`);
    assert.equal(r.reward, l.reward);
    assert.equal(r.terminated, l.terminated);
    assert.equal(r.truncated, l.truncated);
    if (k === 49) assert.ok(r.truncated, 'the time limit ends the episode: its terminal state arrives');
  }
  await assert.rejects(env.step(action), /after the episode ended: call reset/);
  assert.equal(task.observationSize, env.observationSize);
});

test('a bridge that does not hold the episode end, or steps without the environment, is refused with a reason', async () => {
  const domain = 233;
  await startBridge(domain, { episodeEnd: 'next' });
  const { env } = await rosEnv(domain);
  await env.connect();
  await env.reset(1);
  const action = new Float32Array(7);
  for (let k = 0; k < 49; k++) await env.step(action);
  await assert.rejects(env.step(action), /published episode \d+ step 0 while this environment waited for episode \d+ step 50: it must run --clock lockstep --episode-end hold/);

  const domain2 = 234;
  await startBridge(domain2, { lockstepTimeoutMs: 50 });
  const { env: env2 } = await rosEnv(domain2);
  await env2.connect();
  await env2.reset(1);
  await new Promise((r) => setTimeout(r, 200)); // the trainer pauses longer than the bridge waits
  await assert.rejects(env2.step(action), /stepped without a command .* longer --lockstep-timeout-ms/);
});

const skip = netnsSkipReason();

test('two processes over rtps (network namespace): onestep sim-bridge and onestep train --env ros give the in-process run', { skip, timeout: 300_000 }, async () => {
  const short = ['--algo', 'smfp', '--task', 'arm_reach', '--steps', '100', '--seed', '5', '--hidden', '16,16', '--warmup', '50', '--batch', '32',
    '--eval-every', '100', '--eval-episodes', '1', '--checkpoint-every', '100', '--progress', 'none'];
  const work = join(REPO_ROOT, '.test-out', `train-ros-env-${process.pid}`);
  cleanup.push(() => rmSync(work, { recursive: true, force: true }));
  const overRos = join(work, 'ros');
  const script = [
    'node bin/onestep.js sim-bridge --task arm_reach --clock lockstep --episode-end hold --lockstep-timeout-ms 600000 --transport rtps --json > ' + join(work, 'bridge.log') + ' 2>&1 &',
    'bridge=$!',
    `node bin/onestep.js train ${short.join(' ')} --env ros --params-file launch/arm_policy.yaml --transport rtps --out ${overRos} 2>&1; echo "train exit=$?"`,
    'kill -INT $bridge; wait $bridge; echo "bridge exit=$?"',
  ].join('\n');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(work, { recursive: true });
  const r = await runInNetns(['bash', '-c', script], { timeoutMs: 280_000 });
  assert.match(r.stdout, /train exit=0/, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /bridge exit=0/, readFileSync(join(work, 'bridge.log'), 'utf8'));
  const summary = JSON.parse(readFileSync(join(work, 'bridge.log'), 'utf8').split('\n').find((l) => l.startsWith('{"event":"summary"'))!);
  assert.equal(summary.steps, 100 + 50, '100 training steps and one 50-step evaluation episode, all on the bridge');
  assert.equal(summary.counters.commandsMissed, 0);

  const inProcess = join(dir, 'sim-short');
  const a = await onestepInProcess('train', ...short, '--out', inProcess);
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(rows(join(overRos, 'metrics.jsonl')), rows(join(inProcess, 'metrics.jsonl')));
  assert.deepEqual(rows(join(overRos, 'eval.jsonl')), rows(join(inProcess, 'eval.jsonl')));
  assert.ok(readFileSync(join(overRos, 'policy.onnx')).equals(readFileSync(join(inProcess, 'policy.onnx'))), 'the same policy');
});

test('--env ros: missing or misplaced flags and an absent robot get one clear line', async () => {
  let r = await onestepInProcess('train', ...TINY, '--out', join(dir, 'bad1'), '--env', 'ros');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--env ros needs --params-file/);
  r = await onestepInProcess('train', ...TINY, '--out', join(dir, 'bad2'), '--params-file', 'launch/arm_policy.yaml');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--params-file wires a robot on ROS 2: use it with --env ros/);
  r = await onestepInProcess('train', ...TINY, '--out', join(dir, 'bad3'), '--env', 'ros', '--params-file', 'launch/arm_policy.yaml', '--transport', 'inproc', '--domain-id', '229', '--ros-timeout-ms', '300');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no \/sim_bridge\/reset_episode service within 300 ms: is `onestep sim-bridge --clock lockstep --episode-end hold` running/);
});

test('offline → online through the bridge: MeanFlowQL on a dataset, then fine-tuned over ROS, is the in-process run', { timeout: 300_000 }, async () => {
  // 4 episodes of uniform random actions on arm_reach
  const data = join(dir, 'arm_reach.npz');
  const env = await MujocoEnv.make('arm_reach');
  const rng = new Rng(7);
  const [o, d] = [env.observationSize, env.actionSize];
  const cols = { obs: [] as number[], act: [] as number[], rew: [] as number[], next: [] as number[], term: [] as number[], end: [] as number[] };
  for (let k = 0; k < 4; k++) {
    let obs = Float32Array.from(env.reset(k));
    for (;;) {
      const act = rng.fillUniform(new Float32Array(d), -1, 1);
      const r = env.step(act);
      cols.obs.push(...obs); cols.act.push(...act); cols.rew.push(r.reward); cols.next.push(...r.obs);
      cols.term.push(r.terminated ? 1 : 0); cols.end.push(r.terminated || r.truncated ? 1 : 0);
      obs = Float32Array.from(r.obs);
      if (r.terminated || r.truncated) break;
    }
  }
  writeDatasetNpz(data, {
    source: data, size: cols.rew.length, observationSize: o, actionSize: d, task: 'arm_reach', observationNames: env.observationSpec.names,
    observations: Float32Array.from(cols.obs), actions: Float32Array.from(cols.act), rewards: Float32Array.from(cols.rew),
    nextObservations: Float32Array.from(cols.next), terminals: Float32Array.from(cols.term), masks: Float32Array.from(cols.term, (t) => 1 - t),
    episodeEnds: Float32Array.from(cols.end),
  });
  env.close();

  const domain = 230;
  const { bridge } = await startBridge(domain);
  const flags = ['--algo', 'meanflowql', '--dataset', data, '--offline-steps', '40', '--online-steps', '100', '--seed', '2', '--hidden', '16,16', '--batch', '32',
    '--eval-every', '50', '--eval-episodes', '1', '--checkpoint-every', '100', '--progress', 'none'];
  const inProcess = join(dir, 'mfql-sim');
  const overRos = join(dir, 'mfql-ros');
  const a = await onestepInProcess('train', ...flags, '--out', inProcess);
  assert.equal(a.code, 0, a.stderr);
  const b = await onestepInProcess('train', ...flags, '--out', overRos, '--env', 'ros', '--params-file', 'launch/arm_policy.yaml', '--transport', 'inproc', '--domain-id', String(domain));
  assert.equal(b.code, 0, b.stderr);
  const evalA = rows(join(inProcess, 'eval.jsonl'));
  assert.deepEqual(evalA.map((e) => [e.phase, e.env_steps]), [['offline', 0], ['online', 50], ['online', 100]]);
  assert.deepEqual(rows(join(overRos, 'eval.jsonl')), evalA, 'offline and online evaluations equal');
  assert.deepEqual(rows(join(overRos, 'metrics.jsonl')), rows(join(inProcess, 'metrics.jsonl')), 'offline and online training rows equal');
  assert.ok(readFileSync(join(overRos, 'policy.onnx')).equals(readFileSync(join(inProcess, 'policy.onnx'))), 'the same policy');
  // the offline phase's evaluation ran on the bridge too: 3 evaluation episodes and 100 online steps
  assert.equal(bridge.counters.steps, 100 + 3 * 50);
});
