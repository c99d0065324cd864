// parsePolicySpec: every field is checked and every error names the source and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicySpecError, expectedNoiseParts, parsePolicySpec, serializePolicySpec, type PolicySpec } from '../src/format/spec.ts';

const valid: PolicySpec = {
  formatVersion: 1,
  algorithm: 'smfp',
  kind: 'meanflow',
  task: 'arm_reach',
  trainingSteps: 10,
  checkpointId: 'ckpt',
  description: '',
  observation: { names: ['a', 'b'], size: 2, mean: [0, 1], std: [1, 2] },
  action: { names: ['j1'], size: 1, scale: [2], offset: [0], low: [-2], high: [2], mode: 'absolute', squash: 'tanh' },
  network: { hiddenSizes: [256, 256], activation: 'relu', layerNorm: true },
  noise: { size: 2, parts: [{ name: 'e', size: 1 }, { name: 'xi', size: 1 }] },
};

const rejects = (spec: unknown, message: RegExp) =>
  assert.throws(() => parsePolicySpec(spec, 'm.onnx'), (err: Error) => err instanceof PolicySpecError && err.message.startsWith('m.onnx: invalid policy spec: ') && message.test(err.message));

test('a valid spec round-trips through its JSON form unchanged', () => {
  assert.deepEqual(parsePolicySpec(serializePolicySpec(valid), 'm.onnx'), valid);
  const { network: _n, ...withoutNetwork } = valid;
  assert.deepEqual(parsePolicySpec(withoutNetwork, 'm.onnx'), withoutNetwork, 'network is optional');
});

test('noise layouts: MeanFlowQL [e], SMFP [e, ξ], SAC [ξ]', () => {
  assert.deepEqual(expectedNoiseParts('meanflow', false, 3), [{ name: 'e', size: 3 }]);
  assert.deepEqual(expectedNoiseParts('meanflow', true, 3), [{ name: 'e', size: 3 }, { name: 'xi', size: 3 }]);
  assert.deepEqual(expectedNoiseParts('gaussian', true, 3), [{ name: 'xi', size: 3 }]);
});

test('rejections name the field and what was expected', () => {
  rejects('not json', /onestep\.spec is not valid JSON/);
  rejects([], /spec must be an object/);
  rejects({ ...valid, algorithm: 'ppo' }, /algorithm must be one of smfp, meanflowql, sac, bc, gaussian-bc \(got "ppo"\)/);
  rejects({ ...valid, kind: 'gaussian' }, /kind must be meanflow for algorithm smfp \(gaussian is the SAC and Gaussian-BC actor\)$/);
  rejects({ ...valid, algorithm: 'sac' }, /kind must be gaussian for algorithm sac \(got meanflow\)$/);
  rejects({ ...valid, algorithm: 'gaussian-bc' }, /kind must be gaussian for algorithm gaussian-bc \(got meanflow\)$/);
  rejects({ ...valid, algorithm: 'bc' }, /noise\.parts must be \[{"name":"e","size":1}\] for bc/);
  rejects({ ...valid, task: '' }, /task must be a non-empty string/);
  rejects({ ...valid, trainingSteps: -1 }, /trainingSteps must be an integer >= 0 \(got -1\)/);
  rejects({ ...valid, observation: { ...valid.observation, names: ['a', 'a'] } }, /observation\.names must not repeat a name/);
  rejects({ ...valid, observation: { ...valid.observation, mean: [0, null] } }, /observation\.mean\[1\] must be a finite number \(got null\)/);
  rejects({ ...valid, observation: { ...valid.observation, size: 3 } }, /observation\.names must be an array of 3 names/);
  rejects({ ...valid, action: { ...valid.action, scale: [0] } }, /action\.scale\[0\] must be a finite number > 0 \(got 0\)/);
  rejects({ ...valid, action: { ...valid.action, low: [3] } }, /action\.low\[0\] must be <= action\.high\[0\] \(3 > 2\)/);
  rejects({ ...valid, action: { ...valid.action, squash: 'sigmoid' } }, /action\.squash must be one of clip, tanh/);
  rejects({ ...valid, noise: { size: 3, parts: valid.noise.parts } }, /noise\.parts sizes must add up to noise\.size 3 \(got 2\)/);
  rejects({ ...valid, noise: { size: 1, parts: [{ name: 'e', size: 1 }] } }, /noise\.parts must be \[{"name":"e","size":1},{"name":"xi","size":1}\] for smfp/);
  rejects({ ...valid, network: { ...valid.network, hiddenSizes: [0] } }, /network\.hiddenSizes must be an array of positive integers/);
});
