import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';

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

test('--help examples name only files that exist in the package (models/, launch/, sim/, msgs/)', async () => {
  const { readdirSync, readFileSync, existsSync } = await import('node:fs');
  const missing: string[] = [];
  for (const file of readdirSync('src/cli').filter((f) => f.endsWith('.ts'))) {
    for (const m of readFileSync(`src/cli/${file}`, 'utf8').matchAll(/\.example\('([^']*)'/g)) {
      for (const token of m[1].split(/\s+/)) if (/^(models|launch|sim|msgs)\//.test(token) && !existsSync(token)) missing.push(`${file}: ${token}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('npx onestep --help prints no warning (npm, Node or ours) on stderr', () => {
  const r = spawnSync('npx', ['--no-install', 'onestep', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
});
