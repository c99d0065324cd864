// `onestep eval --checkpoint`: a training checkpoint evaluated through TF.js with its critic (best-of-N), and the
// flag combinations that make no sense refused with one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const onestep = (...args: string[]) => execFileSync('node', ['bin/onestep.js', ...args], { encoding: 'utf8', stdio: 'pipe' });
function failure(...args: string[]): string {
  try {
    onestep(...args);
  } catch (err) {
    const stderr = (err as { stderr: string }).stderr;
    assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
    return stderr;
  }
  throw new Error(`expected onestep ${args.join(' ')} to fail`);
}

test('onestep eval --checkpoint evaluates a run through TF.js, --best-of N picks among samples with the critic', () => {
  const root = mkdtempSync(join(tmpdir(), 'eval-ckpt-'));
  const tiny = ['--task', 'pendulum', '--steps', '300', '--hidden', '16,16', '--batch', '16', '--warmup', '200', '--eval-every', '300', '--eval-episodes', '1', '--progress', 'none'];
  onestep('train', '--algo', 'smfp', ...tiny, '--set', 'mdStates=4', '--out', join(root, 'smfp'));
  onestep('train', '--algo', 'sac', ...tiny, '--out', join(root, 'sac'));

  const plain = JSON.parse(onestep('eval', '--checkpoint', join(root, 'smfp'), '--episodes', '2', '--seed', '5', '--json'));
  const best = JSON.parse(onestep('eval', '--checkpoint', join(root, 'smfp', 'checkpoints', 'last'), '--episodes', '2', '--seed', '5', '--best-of', '4', '--json'));
  for (const r of [plain, best]) {
    assert.equal(r.task, 'pendulum');
    assert.equal(r.episodes, 2);
    assert.ok(Number.isFinite(r.meanReturn));
  }
  assert.match(best.policy, /\(best of 4\)$/);
  assert.notEqual(best.meanReturn, plain.meanReturn, 'choosing among samples changes the actions');

  assert.match(failure('eval', '--checkpoint', join(root, 'sac'), '--best-of', '4'), /--best-of: sac has no best-of-N action selection/);
  assert.match(failure('eval', '--model', 'models/pendulum/policy.onnx', '--best-of', '4'), /--best-of needs --checkpoint/);
  assert.match(failure('eval', '--model', 'models/pendulum/policy.onnx', '--checkpoint', join(root, 'smfp')), /give exactly one of --model .* and --checkpoint/);
  assert.match(failure('eval', '--checkpoint', root), /no checkpoint.json there or in its checkpoints\/last/);
});
