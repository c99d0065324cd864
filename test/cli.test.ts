import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const run = (...args: string[]) => execFileSync('node', ['bin/onestep.js', ...args], { encoding: 'utf8' });

test('onestep --help lists every command with a description', () => {
  const help = run('--help');
  for (const name of ['bench', 'doctor', 'eval', 'export', 'serve', 'sim', 'topic', 'train']) {
    assert.match(help, new RegExp(`onestep ${name}\\s+\\S`), `missing command ${name}`);
  }
});

test('an unknown command fails with a one-line message and exit code 2', () => {
  assert.throws(() => execFileSync('node', ['bin/onestep.js', 'nope'], { stdio: 'pipe' }), (err: { status: number; stderr: Buffer }) => {
    assert.equal(err.status, 2);
    assert.match(err.stderr.toString(), /Unknown argument: nope/);
    return true;
  });
});
