// `onestep sim` end to end: tasks with random / zero / scripted policies, a user MJCF, and bad input as one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TASK_NAMES } from '../src/sim/tasks/index.ts';
import { onestep, onestepInProcess } from './helpers/cli.ts';

test('onestep sim prints mean ± std return, success rate and steps/s', async () => {
  const r = await onestep('sim', '--task', 'arm_reach', '--policy', 'scripted', '--episodes', '4', '--seed', '3');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^task arm_reach: observation 31, action 7, 50 steps × 10 physics steps$/m);
  assert.match(r.stdout, /^policy scripted: 4 episodes, seeds 3\.\.6$/m);
  assert.match(r.stdout, /^return -?\d+\.\d\d ± \d+\.\d\d \(mean ± std; min/m);
  assert.match(r.stdout, /^success 100\.0% \(tool tip within 2 cm of the target at the end\)$/m);
  assert.match(r.stdout, /^steps\/s \d+ \(200 environment steps in/m);
});

test('onestep sim reports mode counts for two_way, and --json gives the same numbers as text', async () => {
  const text = await onestep('sim', '--task', 'two_way', '--policy', 'scripted', '--episodes', '8');
  assert.equal(text.code, 0, text.stderr);
  const modes = /^modes left (\d+), right (\d+), none (\d+)$/m.exec(text.stdout);
  assert.ok(modes, text.stdout);
  assert.equal(Number(modes[1]) + Number(modes[2]), 8);
  const json = JSON.parse((await onestep('sim', '--task', 'two_way', '--policy', 'scripted', '--episodes', '8', '--json')).stdout);
  assert.deepEqual(json.modeCounts, { left: Number(modes[1]), right: Number(modes[2]), none: 0 });
  assert.equal(json.modes.length, 8);
  assert.match(text.stdout, new RegExp(`^return ${json.meanReturn.toFixed(2)} ± ${json.stdReturn.toFixed(2)} `, 'm'));
  // Random and zero policies run everywhere; a task without success (cheetah) prints none.
  const zero = await onestep('sim', '--task', 'cheetah', '--policy', 'zero', '--episodes', '1');
  assert.equal(zero.code, 0, zero.stderr);
  assert.doesNotMatch(zero.stdout, /success/);
  const random = JSON.parse((await onestep('sim', '--task', 'reacher', '--episodes', '2', '--seed', '9', '--json')).stdout);
  const again = JSON.parse((await onestep('sim', '--task', 'reacher', '--episodes', '2', '--seed', '9', '--json')).stdout);
  assert.deepEqual(random.returns, again.returns);
});

test('onestep sim --mjcf runs a user model with the generic joint-space observation', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onestep-sim-cli-'));
  const file = join(dir, 'double_pendulum.xml');
  writeFileSync(
    file,
    `<mujoco><worldbody><body><joint name="a" type="hinge" axis="0 1 0"/><geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.02"/>
     <body pos="0 0 -0.4"><joint name="b" type="hinge" axis="0 1 0"/><geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.02"/></body></body></worldbody>
     <actuator><motor joint="a" ctrllimited="true" ctrlrange="-1 1"/><motor joint="b" ctrllimited="true" ctrlrange="-1 1"/></actuator></mujoco>`,
  );
  const r = await onestep('sim', '--mjcf', file, '--episodes', '2', '--max-steps', '50', '--frame-skip', '4');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /observation 4, action 2, 50 steps × 4 physics steps/);
  assert.match(r.stdout, /steps\/s \d+ \(100 environment steps/);
  const scripted = await onestep('sim', '--mjcf', file, '--policy', 'scripted');
  assert.equal(scripted.code, 1);
  assert.match(scripted.stderr, /has no scripted controller; use --policy random, zero or a model\.onnx/);
});

test('bad input: one line naming what was wrong, no stack trace (in process; one case through the CLI)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onestep-sim-bad-'));
  const bad = join(dir, 'bad.xml');
  writeFileSync(bad, '<mujoco><worldbody><body><geom type="sphere"/><frobnicate/></body></worldbody></mujoco>');
  const cases: [string[], number, RegExp][] = [
    [['sim', '--task', 'nope'], 1, /^onestep: unknown task 'nope'; known tasks: pendulum, reacher, arm_reach, arm_push, cheetah, two_way$/],
    [['sim', '--mjcf', bad], 1, /^onestep: cannot load MJCF .*bad\.xml: mjXError: XML Error: Schema violation: unrecognized element; Element 'frobnicate', line 1$/],
    [['sim', '--mjcf', join(dir, 'none.xml')], 1, /^onestep: cannot load MJCF .*none\.xml: file not found$/],
    [['sim', '--policy', 'greedy'], 1, /^onestep: --policy must be random, zero, scripted or a path ending in \.onnx \(got 'greedy'\)$/],
    [['sim', '--episodes', '0'], 1, /^onestep: --episodes must be an integer >= 1 \(got 0\)$/],
    [['sim', '--seed', '1.5'], 1, /^onestep: --seed must be an integer \(got 1\.5\)$/],
    [['sim', '--task', 'pendulum', '--frame-skip', '3'], 1, /^onestep: --frame-skip and --max-steps apply to --mjcf models only/],
    [['sim', '--policy', join(dir, 'missing.onnx')], 1, /^onestep: cannot load policy model .*missing\.onnx: file not found$/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = await onestepInProcess(...args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim(), pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: more than one line: ${r.stderr}`);
  }
});

test('the CLI itself prints the one line and exits 1 for bad sim input', async () => {
  const r = await onestep('sim', '--task', 'nope');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "onestep: unknown task 'nope'; known tasks: pendulum, reacher, arm_reach, arm_push, cheetah, two_way\n");
});

test('onestep sim --help names every registered task (the list is written out to keep --help fast)', async () => {
  const help = await onestep('sim', '--help');
  assert.equal(help.code, 0);
  const line = /--task\s+task: ([^(]+)\(/.exec(help.stdout.replace(/\s+/g, ' '));
  assert.ok(line, help.stdout);
  assert.deepEqual(line[1].trim().split(/,\s*/), [...TASK_NAMES]);
});
