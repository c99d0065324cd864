// The trained models in models/ against the tasks of this tree: a change to a task's observation or action
// interface, or to the export, that would leave a shipped model silently wrong fails here — its spec no longer
// matches the task, or it no longer does the job with zero noise on a few fresh episodes (the cards'
// deterministic rows are 92–100 % over 50 episodes; a task without a success criterion must beat random by far).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PolicyRuntime } from '../src/runtime/policy-runtime.ts';
import { MujocoEnv } from '../src/sim/env.ts';
import { getTask } from '../src/sim/tasks/index.ts';
import { onestep } from './helpers/cli.ts';
import { REPO_ROOT } from './helpers/netns.ts';

const MODELS = join(REPO_ROOT, 'models');
const trained = readdirSync(MODELS).filter((d) => !d.startsWith('untrained') && existsSync(join(MODELS, d, 'policy.onnx')));

test('models/ holds the trained arm_reach, arm_push, two_way, pendulum and cheetah policies', () => {
  for (const task of ['arm_reach', 'arm_push', 'two_way', 'pendulum', 'cheetah']) assert.ok(trained.includes(task), `models/${task}/policy.onnx`);
});

for (const task of trained) {
  test(`models/${task}: spec matches the task; zero noise does the job on 5 fresh episodes`, async () => {
    const file = join(MODELS, task, 'policy.onnx');
    const policy = await PolicyRuntime.load(file, { deterministic: true });
    const env = await MujocoEnv.make(getTask(task));
    try {
      const { spec } = policy;
      assert.equal(spec.task, task);
      assert.deepEqual(spec.observation.names, [...env.observationSpec.names]);
      assert.equal(spec.action.size, env.actionSpec.size);
      for (let j = 0; j < env.actionSpec.size; j++) {
        assert.ok(Math.abs(spec.action.offset[j] - env.actionSpec.offset[j]) < 1e-6, `${task} action offset ${j}`);
        assert.ok(Math.abs(spec.action.scale[j] - env.actionSpec.scale[j]) < 1e-6, `${task} action scale ${j}`);
      }
    } finally {
      policy.close();
      env.close();
    }
    const r = await onestep('eval', '--model', file, '--episodes', '5', '--seed', '20000', '--deterministic', '--json');
    assert.equal(r.code, 0, r.stderr);
    const { successRate, meanReturn } = JSON.parse(r.stdout) as { successRate: number | null; meanReturn: number };
    if (successRate !== null) assert.ok(successRate >= 0.8, `${task}: ${successRate * 100} % of 5 episodes`);
    else {
      // a task without a success criterion (cheetah): the model must beat uniform random actions by far
      const random = await onestep('sim', '--task', task, '--policy', 'random', '--episodes', '5', '--seed', '20000', '--json');
      assert.equal(random.code, 0, random.stderr);
      const floor = (JSON.parse(random.stdout) as { meanReturn: number }).meanReturn;
      assert.ok(meanReturn > floor + 500, `${task}: return ${meanReturn} against random ${floor}`);
    }
  });
}
