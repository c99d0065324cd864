// Every example in examples/ runs as a user runs it (`node --import tsx examples/<area>.ts`, importing 'onestep',
// 'onestep/ros', … by package name) and prints what it claims: one per library area.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { REPO_ROOT } from './helpers/netns.ts';

/** The example's output: stdout, then stderr (where the policy node logs). */
async function run(name: string): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)('node', ['--import', 'tsx', `examples/${name}.ts`], { cwd: REPO_ROOT, encoding: 'utf8' });
  return `${stdout}\n${stderr}`;
}

test('examples/ holds one example per library entry', () => {
  assert.deepEqual(readdirSync(`${REPO_ROOT}/examples`).filter((f) => f.endsWith('.ts')).sort(), ['data.ts', 'ros.ts', 'runtime.ts', 'sim.ts', 'train.ts']);
});

test('runtime: reads the spec, acts, times act', async () => {
  const out = await run('runtime');
  assert.match(out, /^smfp policy for arm_reach: 31 observations → 7 actions \(relative\)$/m);
  assert.match(out, /^action: \[(-?\d+\.\d{3}, ){6}-?\d+\.\d{3}\]$/m);
  assert.match(out, /^act latency: p50 \d+\.\d µs, p99 \d+\.\d µs over 2000 calls$/m);
});

test('ros: the policy node answers a fake robot with finite commands and shuts down', async () => {
  const out = await run('ros');
  const m = /^(\d+) commands received; last: \[((?:-?\d+\.\d{3}(?:, )?){7})\]$/m.exec(out);
  assert.ok(m, out);
  assert.ok(Number(m[1]) >= 5, `${m[1]} commands`);
  const counters = JSON.parse(/^counters: (.*)$/m.exec(out)![1]) as { actionsPublished: number; observationsDropped: number };
  assert.ok(counters.actionsPublished >= Number(m[1]));
  assert.equal(counters.observationsDropped, 0);
  assert.match(out, /decodes back: true$/m);
  assert.match(out, /shutting down reason="example done"/);
});

test('sim: a hand-written loop and a scripted evaluation', async () => {
  const out = await run('sim');
  assert.match(out, /^arm_reach: 31 observations \(joint1_position, /m);
  assert.match(out, /^one episode of a sine controller: return -\d+\.\d\d, tip-to-target distance \d\.\d{3} m$/m);
  assert.match(out, /^return -?\d+\.\d\d ± \d+\.\d\d over 3 episodes, success 100\.0%/m);
});

test('data: records, writes and loads back a validated dataset', async () => {
  const out = await run('data');
  assert.match(out, /pendulum-scripted\.npz: 400 transitions, observations 3, actions 1, task pendulum$/m);
  assert.match(out, /^episodes \d+; mean reward -?\d+\.\d{3}$/m);
});

test('train: trains, exports and acts with the exported policy', async () => {
  const out = await run('train');
  assert.match(out, /^trained 600 environment steps; last evaluation return -?\d+\.\d$/m);
  assert.match(out, /^exported sac for pendulum \(201 updates\) to policy\.onnx; its action on a fresh episode: -?\d\.\d{3}$/m);
});
