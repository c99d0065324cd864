// Export round trip through the CLI: checkpoint → `onestep export` → PolicyRuntime.load → the metadata read back
// equals what was written, and the runtime acts like the TF.js policy.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPolicySpec } from '../src/export/onnx.ts';
import { saveCheckpoint } from '../src/nn/checkpoint.ts';
import { createPolicy, physicalAction, policyAction, policyConfig, policyWeights, setObservationNormalization } from '../src/nn/policy.ts';
import { PolicyRuntime } from '../src/runtime/policy-runtime.ts';

await tf.setBackend('cpu');
tf.env().set('PROD', true);
const root = await mkdtemp(join(tmpdir(), 'onestep-export-'));

test('onestep export → PolicyRuntime.load: metadata equal to what was written, actions equal to TF.js', async () => {
  const policy = createPolicy(policyConfig({ kind: 'gaussian', observationSize: 5, actionSize: 3, hiddenSizes: [32, 32] }), 1);
  setObservationNormalization(policy, [0.1, 0.2, 0.3, 0.4, 0.5], [1, 2, 3, 4, 5]);
  const info = {
    algorithm: 'sac',
    task: 'pendulum_like',
    description: 'round trip',
    observationNames: ['cos', 'sin', 'vel', 'x', 'y'],
    actionNames: ['shoulder', 'elbow', 'wrist'],
    actionScale: [2, 1, 0.5],
    actionOffset: [0, 0.5, -0.25],
    actionLow: [-1.5, -0.5, -0.75],
    actionHigh: [1.5, 1.5, 0.25],
    actionMode: 'delta',
  } as const;
  const dir = join(root, 'ckpt');
  const { checkpointId } = await saveCheckpoint(dir, { policy, info, counters: { trainingSteps: 4321 } });
  const out = join(root, 'policy.onnx');
  const stdout = execFileSync('node', ['bin/onestep.js', 'export', '--checkpoint', dir, '--out', out], { encoding: 'utf8' });
  assert.match(stdout, new RegExp(`^wrote ${out} \\(.* KiB\\): sac gaussian policy for pendulum_like, obs 5 → action 3, noise 3, 4321 training steps, checkpoint ${checkpointId}\\n$`));

  const runtime = await PolicyRuntime.load(out, { deterministic: true });
  const written = buildPolicySpec(policy, { ...info, trainingSteps: 4321, checkpointId });
  assert.deepEqual(runtime.spec, written);
  assert.equal(runtime.spec.checkpointId, checkpointId);
  assert.deepEqual(runtime.spec.action.mode, 'delta');
  assert.deepEqual(runtime.spec.observation.std, [1, 2, 3, 4, 5]);

  // Deterministic act = the TF.js policy with zero noise, in physical units.
  const obs = [0.3, -1, 2, 0.5, 4];
  const expected = tf.tidy(() => physicalAction(policyAction(policy, tf.tensor2d([obs]), tf.zeros([1, 3])), runtime.spec.action).dataSync());
  const actual = runtime.act(Float32Array.from(obs));
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= 1e-5, `action[${i}] ${a} vs ${expected[i]}`));
  runtime.close();
  for (const v of policyWeights(policy).values()) v.dispose();
});

test('onestep export reports a missing checkpoint in one line', () => {
  const r = spawnSync('node', ['bin/onestep.js', 'export', '--checkpoint', join(root, 'none'), '--out', join(root, 'x.onnx')], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `onestep: checkpoint ${join(root, 'none')}: no checkpoint.json (expected a checkpoint directory written by onestep train)\n`);
});

test('onestep export requires --checkpoint', () => {
  const r = spawnSync('node', ['bin/onestep.js', 'export'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Missing required argument: checkpoint/);
});

test('models/untrained-arm_reach/policy.onnx is exactly what its generator produces', async () => {
  const { readFile } = await import('node:fs/promises');
  const { buildUntrainedArmReach, UNTRAINED_MODEL_DIR } = await import('../src/export/untrained.ts');
  const { bytes, spec } = await buildUntrainedArmReach();
  assert.ok(Buffer.from(bytes).equals(await readFile(join(UNTRAINED_MODEL_DIR, 'policy.onnx'))), 'regenerate with: node --import tsx src/export/untrained.ts');
  assert.equal(spec.trainingSteps, 0);
  assert.match(spec.description, /^UNTRAINED/);
  assert.ok(bytes.byteLength < 1024 * 1024);
  // the generator restates arm_reach's interface (export may not import sim): it must be the task's
  const { MujocoEnv } = await import('../src/sim/env.ts');
  const env = await MujocoEnv.make('arm_reach');
  try {
    assert.deepEqual(spec.observation.names, env.observationSpec.names);
    assert.deepEqual(spec.action.names, env.actionSpec.names);
    assert.equal(spec.action.mode, env.actionSpec.mode);
    assert.deepEqual(spec.action.offset, [...env.actionSpec.offset]);
    assert.deepEqual(spec.action.scale, [...env.actionSpec.scale]);
    assert.deepEqual([spec.action.low, spec.action.high], [[...env.actionSpec.low], [...env.actionSpec.high]]);
  } finally {
    env.close();
  }
});
