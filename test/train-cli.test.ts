import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tiny = ['--task', 'pendulum', '--hidden', '16,16', '--batch', '16', '--warmup', '200', '--eval-every', '200', '--eval-episodes', '1', '--checkpoint-every', '200', '--progress', 'lines'];

function fail(args: string[]): string {
  try {
    execFileSync('node', ['bin/onestep.js', 'train', ...args], { stdio: 'pipe' });
  } catch (err) {
    const stderr = (err as { stderr: Buffer }).stderr.toString();
    assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
    return stderr;
  }
  throw new Error('expected onestep train to fail');
}

test('onestep train rejects bad flags with one clear line', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'train-cli-')), 'run');
  assert.match(fail(['--task', 'nope', '--out', out]), /unknown task 'nope' \(expected one of .*pendulum/);
  assert.match(fail([...tiny, '--set', 'mdParticles=lots', '--out', out]), /mdParticles' must be a number/);
  assert.match(fail([...tiny, '--set', 'noSuchThing=1', '--out', out]), /unknown hyper-parameter 'noSuchThing'/);
  assert.match(fail([...tiny, '--steps', '0', '--out', out]), /--steps must be an integer >= 1/);
  assert.match(fail([...tiny, '--resume', '--out', join(out, 'missing')]), /--resume: .*config.json not found/);
});

test('onestep train writes config, metrics, curve, checkpoints and ONNX; Ctrl-C saves and --resume finishes', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'train-cli-')), 'run');
  // Start a run long enough to interrupt, and press Ctrl-C once learning has started.
  const child = spawn('node', ['bin/onestep.js', 'train', '--algo', 'sac', '--steps', '100000', '--seed', '1', ...tiny, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // Press Ctrl-C once the first checkpoint exists, i.e. while learning.
  const poll = setInterval(() => {
    if (existsSync(join(out, 'checkpoints', 'last', 'checkpoint.json')) && !child.killed) child.kill('SIGINT');
  }, 50);
  const code = await new Promise<number | null>((res) => child.on('close', res));
  clearInterval(poll);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /Ctrl-C, saving a checkpoint/);
  assert.match(stdout, /stopped at \d+ environment steps; checkpoint in .*--resume/);
  assert.ok(existsSync(join(out, 'checkpoints', 'last', 'checkpoint.json')));
  assert.ok(!existsSync(join(out, 'policy.onnx')), 'an interrupted run exports nothing final');

  const stoppedAt = Number(/stopped at (\d+)/.exec(stdout)![1]);
  assert.ok(stoppedAt >= 200 && stoppedAt < 100_000);
  // --resume with --steps also shortens or extends a run: finish 200 steps after the interruption.
  const total = stoppedAt + 200;
  const resumed = execFileSync('node', ['bin/onestep.js', 'train', '--algo', 'sac', '--task', 'pendulum', '--out', out, '--resume', '--steps', String(total), '--progress', 'none'], { encoding: 'utf8' });
  assert.match(resumed, new RegExp(`trained sac on pendulum, seed 1: ${total} environment steps`));
  for (const f of ['config.json', 'metrics.jsonl', 'metrics.csv', 'eval.jsonl', 'eval.csv', 'learning-curve.svg', 'policy.onnx', 'policy-best.onnx']) {
    assert.ok(existsSync(join(out, f)), `${f} written`);
  }
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.algo, 'sac');
  assert.equal(config.loop.totalSteps, total, 'config.json records the new length');
  assert.match(config.command, new RegExp(`--resume --steps ${total}$`));
  // The exported policy runs in the simulator through ONNX Runtime.
  const evaluation = JSON.parse(execFileSync('node', ['bin/onestep.js', 'eval', '--model', join(out, 'policy.onnx'), '--episodes', '1', '--json'], { encoding: 'utf8' }));
  assert.equal(evaluation.task, 'pendulum');
  assert.ok(Number.isFinite(evaluation.meanReturn));
  assert.match(fail(['--algo', 'sac', ...tiny, '--steps', '300', '--out', out]), /already holds a run; pass --resume/);
});
