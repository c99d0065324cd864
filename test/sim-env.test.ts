// The environment API on real MuJoCo (mujoco-js): determinism, bad input, memory, vector envs, user MJCF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MujocoEnv } from '../src/sim/env.ts';
import { ActionError, EnvUsageError, MjcfError, UnknownTaskError } from '../src/sim/errors.ts';
import { randomPolicy } from '../src/sim/evaluate.ts';
import { loadModelFromString, wasmHeapBytes } from '../src/sim/mujoco.ts';
import { TASK_NAMES } from '../src/sim/tasks/index.ts';
import { ARM_HOME } from '../src/sim/tasks/arm.ts';

/** Run `steps` steps with actions from a seeded random stream; returns every observation, concatenated. */
function rollout(env: MujocoEnv, seed: number, steps: number): Float32Array {
  const out = new Float32Array((steps + 1) * env.observationSize);
  const policy = randomPolicy(env.actionSize, 1234);
  let obs = env.reset(seed);
  out.set(obs, 0);
  for (let t = 1; t <= steps; t++) {
    const r = env.step(policy(obs));
    obs = r.obs;
    out.set(obs, t * env.observationSize);
    if (r.terminated || r.truncated) obs = env.reset();
  }
  return out;
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('same seed and same actions give bit-identical observations, on the same and on a fresh environment', async () => {
  for (const name of TASK_NAMES) {
    const a = await MujocoEnv.make(name);
    const b = await MujocoEnv.make(name);
    const first = rollout(a, 42, 150);
    rollout(a, 7, 30); // a different episode in between must not leak into the next one
    const again = rollout(a, 42, 150);
    const fresh = rollout(b, 42, 150);
    assert.ok(bits(first).equals(bits(again)), `${name}: re-run on the same env differs`);
    assert.ok(bits(first).equals(bits(fresh)), `${name}: run on a fresh env differs`);
    const other = rollout(b, 43, 5);
    assert.ok(!bits(first.subarray(0, other.length)).equals(bits(other)), `${name}: seed 43 gives the same start as seed 42`);
    a.close();
    b.close();
  }
});

test('specs name every observation and action; arm actions are joint1..joint7 relative to home, clamped to their ctrlrange', async () => {
  for (const name of TASK_NAMES) {
    const env = await MujocoEnv.make(name);
    assert.equal(env.observationSpec.names.length, env.observationSize);
    assert.equal(env.actionSpec.names.length, env.actionSize);
    assert.equal(new Set(env.observationSpec.names).size, env.observationSize, `${name}: duplicate observation names`);
    for (let i = 0; i < env.actionSize; i++) assert.ok(env.actionSpec.low[i] < env.actionSpec.high[i]);
    env.close();
  }
  const arm = await MujocoEnv.make('arm_reach');
  const { names, mode, offset, scale, low, high } = arm.actionSpec;
  assert.deepEqual(names, ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7']);
  assert.equal(mode, 'relative');
  assert.deepEqual([...offset], ARM_HOME);
  arm.reset(0);
  // a = 0 commands the home pose; the command entries of the observation report it
  arm.step(new Float32Array(7));
  const ctrl = arm.simulation.view.ctrl;
  assert.deepEqual([...ctrl.subarray(0, 7)], ARM_HOME);
  const command = arm.observationSpec.names.indexOf('joint1_command');
  assert.deepEqual([...arm.step(new Float32Array(7)).obs.subarray(command, command + 7)].map((x) => Math.fround(x)), ARM_HOME.map((x) => Math.fround(x)));
  const action = new Float32Array(7).fill(1);
  action[1] = -1;
  action[3] = 0.5;
  arm.step(action);
  assert.ok(Math.abs(ctrl[0] - (offset[0] + scale[0])) < 1e-12);
  assert.ok(Math.abs(ctrl[1] - (offset[1] - scale[1])) < 1e-12);
  assert.ok(Math.abs(ctrl[3] - (offset[3] + 0.5 * scale[3])) < 1e-12);
  arm.step(new Float32Array(7).fill(5)); // out of range: the action is clipped to [-1, 1], the command to the ctrlrange
  assert.ok(Math.abs(ctrl[2] - Math.min(offset[2] + scale[2], high[2])) < 1e-12);
  assert.ok(ctrl.subarray(0, 7).every((c, i) => c >= low[i] && c <= high[i]));
  arm.close();
  const cheetah = await MujocoEnv.make('cheetah');
  assert.equal(cheetah.observationSize, 17);
  assert.equal(cheetah.actionSize, 6);
  cheetah.close();
});

test('bad actions throw ActionError before touching the state; the next step is as if they never happened', async () => {
  const env = await MujocoEnv.make('reacher');
  const twin = await MujocoEnv.make('reacher');
  env.reset(3);
  twin.reset(3);
  const good = new Float32Array([0.3, -0.7]);
  env.step(good);
  twin.step(good);
  const before = Float64Array.from(env.simulation.view.qpos);
  const bad: unknown[] = [new Float32Array(1), new Float32Array(3), [0.1, Number.NaN], [Number.POSITIVE_INFINITY, 0], [0, Number.NEGATIVE_INFINITY], null, ['0.1', 0]];
  for (const action of bad) {
    assert.throws(() => env.step(action as ArrayLike<number>), (err: Error) => err instanceof ActionError && /action/.test(err.message) && /reacher/.test(err.message));
  }
  assert.throws(() => env.step([Number.NaN, 0]), /action\[0\] \(shoulder\) must be a finite number/);
  assert.throws(() => env.step([0.5]), /must have 2 entries \(shoulder, elbow\), got 1/);
  assert.deepEqual(Float64Array.from(env.simulation.view.qpos), before);
  const a = env.step(good);
  const b = twin.step(good);
  assert.ok(bits(a.obs).equals(bits(b.obs)));
  assert.equal(a.reward, b.reward);
  env.close();
  twin.close();
});

test('using an environment wrongly gives EnvUsageError: step before reset, after the episode ended, after close', async () => {
  const env = await MujocoEnv.make('pendulum');
  assert.throws(() => env.step([0]), EnvUsageError);
  env.reset(0);
  let r = env.step([0]);
  while (!r.truncated) r = env.step([0]);
  assert.equal(r.info.t, env.task.maxSteps);
  assert.throws(() => env.step([0]), /after the episode ended; call reset\(\) first/);
  assert.throws(() => env.reset(Number.NaN), EnvUsageError);
  env.close();
  env.close(); // idempotent
  assert.throws(() => env.reset(0), /environment is closed/);
});

test('unknown task names list the known ones', async () => {
  await assert.rejects(MujocoEnv.make('cartpole'), (err: Error) => {
    assert.ok(err instanceof UnknownTaskError);
    assert.match(err.message, /unknown task 'cartpole'; known tasks: pendulum, reacher, arm_reach, arm_push, cheetah, two_way/);
    return true;
  });
  await assert.rejects(MujocoEnv.make('toString'), UnknownTaskError);
});

test('invalid MJCF names the file and carries MuJoCo\'s own message; the process keeps working', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onestep-sim-'));
  const cases: [string, string, RegExp][] = [
    ['schema.xml', '<mujoco><worldbody><foo/></worldbody></mujoco>', /schema\.xml: mjXError: XML Error: Schema violation: unrecognized element; Element 'foo', line 1/],
    ['compile.xml', '<mujoco><worldbody><body><joint/><geom size="0.1"/></body></worldbody><actuator><motor joint="nope"/></actuator></mujoco>', /compile\.xml: mjCError: Error: unknown transmission target 'nope'/],
    ['syntax.xml', '<mujoco><worldbody', /syntax\.xml: XML parse error/],
    ['empty.xml', '', /empty\.xml: /],
  ];
  for (const [file, xml, pattern] of cases) {
    writeFileSync(join(dir, file), xml);
    await assert.rejects(MujocoEnv.fromMjcf(join(dir, file)), (err: Error) => {
      assert.ok(err instanceof MjcfError, `${file}: ${err}`);
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes('\n'), 'one line');
      return true;
    });
  }
  await assert.rejects(MujocoEnv.fromMjcf(join(dir, 'missing.xml')), /cannot load MJCF .*missing\.xml: file not found/);
  await assert.rejects(MujocoEnv.fromMjcf(dir), /is not a file/);
  await assert.rejects(loadModelFromString('<mujoco><bad/></mujoco>', 'inline.xml'), /inline\.xml: mjXError/);
  // Still usable afterwards.
  const env = await MujocoEnv.make('pendulum');
  assert.equal(env.reset(0).length, 3);
  env.close();
});

test('a user MJCF runs with the generic (qpos, qvel) observation, including files it includes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onestep-mjcf-'));
  writeFileSync(
    join(dir, 'body.xml'),
    '<mujoco><body name="arm"><joint name="shoulder" type="hinge" axis="0 1 0"/><geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.02"/></body>' +
      '<body name="ball" pos="0.5 0 0"><freejoint name="ball"/><geom type="sphere" size="0.05"/><geom type="mesh" mesh="tetra"/></body></mujoco>',
  );
  // A mesh in the compiler's meshdir, referenced from the included file: both must reach MuJoCo.
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'tetra.obj'), 'v 0 0 0\nv 0.1 0 0\nv 0 0.1 0\nv 0 0 0.1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n');
  writeFileSync(join(dir, 'unrelated.xml'), '<not mujoco>');
  writeFileSync(
    join(dir, 'robot.xml'),
    '<mujoco><compiler meshdir="assets"/><asset><mesh name="tetra" file="tetra.obj"/></asset>' +
      '<worldbody><include file="body.xml"/></worldbody><actuator><motor name="shoulder" joint="shoulder" ctrllimited="true" ctrlrange="-3 3"/></actuator></mujoco>',
  );
  const env = await MujocoEnv.fromMjcf(join(dir, 'robot.xml'), { frameSkip: 2, maxSteps: 20 });
  assert.equal(env.observationSize, 1 + 7 + 1 + 6);
  assert.deepEqual(env.observationSpec.names.slice(0, 4), ['qpos:shoulder', 'qpos:ball.x', 'qpos:ball.y', 'qpos:ball.z']);
  assert.deepEqual(env.actionSpec.names, ['shoulder']);
  assert.deepEqual([...env.actionSpec.low, ...env.actionSpec.high], [-3, 3]);
  let obs = env.reset(0);
  let steps = 0;
  for (;;) {
    const r = env.step([1]);
    obs = r.obs;
    steps++;
    if (r.truncated) break;
  }
  assert.equal(steps, 20);
  assert.ok(obs[0] !== 0 && obs.every(Number.isFinite));
  env.close();
  await assert.rejects(MujocoEnv.fromMjcf(join(dir, 'robot.xml'), { frameSkip: 0 }), /frame skip must be an integer >= 1/);
});

test('no MuJoCo memory growth over 10,000 resets, nor over 300 environments created and closed', async () => {
  const env = await MujocoEnv.make('arm_push');
  for (let i = 0; i < 100; i++) env.reset(i);
  const heap = await wasmHeapBytes();
  for (let i = 0; i < 10_000; i++) env.reset(i);
  assert.equal(await wasmHeapBytes(), heap, 'wasm heap grew over 10,000 resets');
  env.close();
  // Each arm_push environment holds an MjModel and an MjData (its arena alone is hundreds of kB): leaking either
  // over 300 cycles grows the heap by tens of MB (checked: commenting out the MjData delete fails this test).
  const cycle = async () => {
    const e = await MujocoEnv.make('arm_push');
    e.task.scripted!(e.simulation)(e.reset(0));
    e.close();
  };
  for (let i = 0; i < 30; i++) await cycle();
  const settled = await wasmHeapBytes();
  for (let i = 0; i < 300; i++) await cycle();
  assert.equal(await wasmHeapBytes(), settled, 'wasm heap grew over 300 create/close cycles');
});

test('heap views stay valid when the wasm memory grows between calls (other environments allocated)', async () => {
  const env = await MujocoEnv.make('arm_reach');
  const policy = env.task.scripted!(env.simulation);
  const obs = Float32Array.from(env.reset(1));
  const heap = await wasmHeapBytes();
  const others: MujocoEnv[] = [];
  while ((await wasmHeapBytes()) === heap) others.push(await MujocoEnv.make('arm_push'));
  // The controller reads qpos / site_xpos through the handle after the heap moved: still the real state.
  const action = policy(obs);
  assert.ok(action.every(Number.isFinite) && action.some((a) => a !== 0), `${action}`);
  assert.deepEqual(Array.from(env.simulation.view.qpos.subarray(0, 7), Math.fround), Array.from(obs.subarray(0, 7)));
  const r = env.step(action);
  assert.ok(r.obs.every(Number.isFinite));
  for (const other of others) other.close();
  env.close();
});

test('a diverging simulation (MuJoCo resets it) ends the episode with info.unstable instead of a silent jump', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onestep-unstable-'));
  const file = join(dir, 'blowup.xml');
  // A 1 mg slider pushed by a 1e12 N motor: the accelerations exceed MuJoCo's limit on the first step.
  writeFileSync(
    file,
    '<mujoco><option timestep="0.01"/><worldbody><body><joint name="x" type="slide" axis="1 0 0"/><geom type="sphere" size="0.01" mass="1e-6"/></body></worldbody>' +
      '<actuator><motor joint="x" gear="1e12" ctrllimited="true" ctrlrange="-1 1"/></actuator></mujoco>',
  );
  const env = await MujocoEnv.fromMjcf(file, { frameSkip: 3 });
  env.reset(0);
  const quiet = env.step([0]);
  assert.equal(quiet.info.unstable, false);
  assert.equal(quiet.terminated, false);
  const r = env.step([1]);
  assert.equal(r.info.unstable, true);
  assert.equal(r.terminated, true);
  assert.ok(r.obs.every(Number.isFinite));
  assert.throws(() => env.step([0]), EnvUsageError);
  env.reset(0);
  env.close();
});
