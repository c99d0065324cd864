// `onestep eval` and `onestep sim --policy model.onnx` on a real export (the foundation's exporter, real ONNX
// Runtime, real MuJoCo): sizes checked against the task, seeded and deterministic runs reproducible.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPolicySpec, exportPolicyOnnx } from '../src/export/onnx.ts';
import { createPolicy, disposePolicy, policyConfig } from '../src/nn/policy.ts';
import { loadOnnxPolicy } from '../src/cli/sim.ts';
import { PolicyRuntime } from '../src/runtime/policy-runtime.ts';
import { MujocoEnv } from '../src/sim/env.ts';
import { onestep, onestepInProcess } from './helpers/cli.ts';

await tf.setBackend('cpu');

/** An untrained SAC-style (gaussian) pendulum policy, exported with the pendulum's torque range ±2 N·m. */
function exportPendulumPolicy(dir: string, task = 'pendulum'): string {
  const policy = createPolicy(policyConfig({ kind: 'gaussian', observationSize: 3, actionSize: 1, hiddenSizes: [16, 16] }), 3);
  const spec = buildPolicySpec(policy, {
    algorithm: 'sac',
    task,
    trainingSteps: 0,
    checkpointId: 'eval-test',
    observationNames: ['cos_angle', 'sin_angle', 'angular_velocity'],
    actionNames: ['torque'],
    actionScale: [2],
    actionOffset: [0],
    actionLow: [-2],
    actionHigh: [2],
  });
  const path = join(dir, `${task}.onnx`);
  writeFileSync(path, exportPolicyOnnx(policy, spec));
  disposePolicy(policy);
  return path;
}

const dir = mkdtempSync(join(tmpdir(), 'onestep-eval-'));
const model = exportPendulumPolicy(dir);

test('onestep eval runs an export in its own task and reports return, success and steps/s', async () => {
  const text = await onestep('eval', '--model', model, '--episodes', '2', '--seed', '5');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /task pendulum: observation 3, action 1/);
  assert.match(text.stdout, /policy .*pendulum\.onnx \[UNTRAINED\]: 2 episodes, seeds 5\.\.6/);
  assert.match(text.stdout, /return -?\d+\.\d+ ± \d+\.\d+/);
  assert.match(text.stdout, /success \d+\.\d% /);
  assert.match(text.stdout, /steps\/s \d+/);

  const a = JSON.parse((await onestep('eval', '--model', model, '--task', 'pendulum', '--episodes', '3', '--json')).stdout);
  const b = JSON.parse((await onestep('eval', '--model', model, '--task', 'pendulum', '--episodes', '3', '--json')).stdout);
  assert.equal(a.task, 'pendulum');
  assert.equal(a.returns.length, 3);
  assert.ok(a.returns.every(Number.isFinite));
  assert.deepEqual(a.returns, b.returns, 'same seed, same returns (the policy noise is seeded too)');
  const d1 = JSON.parse((await onestep('eval', '--model', model, '--episodes', '3', '--deterministic', '--json')).stdout);
  const d2 = JSON.parse((await onestep('sim', '--task', 'pendulum', '--policy', model, '--episodes', '3', '--deterministic', '--json')).stdout);
  assert.deepEqual(d1.returns, d2.returns, 'eval and sim share one closed loop');
  assert.notDeepEqual(d1.returns, a.returns, 'deterministic (zero noise) differs from sampled actions');
});

test('a model whose sizes do not fit the task fails with one line naming both (in process)', async () => {
  const r = await onestepInProcess('eval', '--model', model, '--task', 'reacher', '--episodes', '1');
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim(),
    `onestep: model ${model} (trained on pendulum) takes observation size 3 and gives action size 1, but task reacher has observation size 10 and action size 2`,
  );
  const missing = await onestepInProcess('eval', '--model', join(dir, 'missing.onnx'), '--task', 'pendulum');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^onestep: cannot load policy model .*missing\.onnx: file not found\n$/);
  const foreign = exportPendulumPolicy(dir, 'real_robot');
  const noTask = await onestepInProcess('eval', '--model', foreign);
  assert.equal(noTask.code, 1);
  assert.match(noTask.stderr, /^onestep: model .*real_robot\.onnx was trained on 'real_robot', which is not a simulator task; pass --task \(one of pendulum, /);
  assert.equal((await onestepInProcess('eval', '--model', foreign, '--task', 'pendulum', '--episodes', '1')).code, 0, 'same sizes: runs with --task');
  const noModel = await onestepInProcess('eval', '--task', 'pendulum');
  assert.equal(noModel.code, 1);
  assert.match(noModel.stderr, /^onestep: give exactly one of --model \(an exported \.onnx\) and --checkpoint/);
});

test('the ONNX adapter drives each actuator with exactly the physical action the model gives', async () => {
  const env = await MujocoEnv.make('pendulum');
  const onnx = await loadOnnxPolicy(model, env, { seed: 0, deterministic: true });
  const runtime = await PolicyRuntime.load(model, { deterministic: true });
  let obs = env.reset(11);
  for (let t = 0; t < 20; t++) {
    const expected = Float32Array.from(runtime.act(obs)); // torque in N·m, within the ±2 ctrlrange
    const r = env.step(onnx.policy(obs));
    assert.ok(Math.abs(env.simulation.view.ctrl[0] - expected[0]) < 1e-6, `step ${t}: ctrl ${env.simulation.view.ctrl[0]} vs model ${expected[0]}`);
    obs = r.obs;
  }
  runtime.close();
  onnx.close();
  env.close();
});
