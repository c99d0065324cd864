// `onestep serve` as a user runs it: --help-params, one-line errors for bad flags, parameters, models and domain
// ids, the ROS command line passed through, and a clean shutdown on SIGTERM / SIGINT.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeArmPolicy } from './serve-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'onestep-serve-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, 'arm.onnx');
writeArmPolicy(model);
const params = join(dir, 'p.yaml');
writeFileSync(params, `/**:\n  ros__parameters:\n    observation:\n      sources: [joint_states, target]\n      target: {type: geometry_msgs/msg/PointStamped}\n`);

function fail(args: string[], env: NodeJS.ProcessEnv = {}): { status: number; stderr: string } {
  try {
    execFileSync('node', ['bin/onestep.js', 'serve', ...args], { stdio: 'pipe', env: { ...process.env, ...env } });
  } catch (err) {
    const e = err as { status: number; stderr: Buffer };
    return { status: e.status, stderr: e.stderr.toString() };
  }
  throw new Error(`onestep serve ${args.join(' ')} succeeded`);
}

test('--help-params lists every parameter with type and default', () => {
  const out = execFileSync('node', ['bin/onestep.js', 'serve', '--help-params'], { encoding: 'utf8' });
  for (const p of ['safety.watchdog_ms', 'safety.stale_action', 'observation.<name>.joint_names', 'action.type', 'decimation']) assert.ok(out.includes(p), p);
  assert.match(out, /safety\.watchdog_ms\s+double\s+default 100/);
});

test('bad input ends with one line naming what was wrong', () => {
  const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
    [['--bogus'], /^onestep: Unknown argument: bogus\n$/],
    [['--model', join(dir, 'missing.onnx'), '--check'], /^onestep: cannot load policy model .*missing\.onnx: file not found\n$/],
    [['--model', model, '--check', '--ros-args', '-p', 'safety.watchdg_ms:=5'], /^onestep: parameters of \/policy_node: unknown parameter "safety\.watchdg_ms" \(did you mean "safety\.watchdog_ms"\?\)\n$/],
    [['--model', model, '--check', '--ros-args', '-p', 'mode:=fast'], /"mode" = "fast" is not one of event, timer/],
    [['--model', model, '--check'], /^onestep: observation size mismatch: the model .*arm\.onnx expects 17 values .* the configured sources give 14/],
    [['--model', model, '--check', '--ros-args', '--params-file', join(dir, 'nope.yaml')], /--params-file .*nope\.yaml: cannot read \(ENOENT\)/],
    [['--model', model, '--ros-args', '--frobnicate'], /--ros-args: unknown argument "--frobnicate"/],
    [['--model', model, '--params-file', params, '--transport', 'inproc'], /ROS_DOMAIN_ID="abc" is not a valid ROS domain id/, { ROS_DOMAIN_ID: 'abc' }],
  ];
  for (const [args, re, env] of cases) {
    const r = fail(args, env);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

test('--check with a params file and ROS arguments (node name, namespace, -p) prints the plan', () => {
  const out = execFileSync('node', [
    'bin/onestep.js', 'serve', '--model', model, '--params-file', params, '--check',
    '--ros-args', '-r', '__node:=arm_policy', '-r', '__ns:=/arm', '-p', 'mode:=timer', '-p', 'control_rate_hz:=250.0',
  ], { encoding: 'utf8' });
  assert.match(out, /node \/arm\/arm_policy \(timer mode at 250 Hz, decimation 1\)/);
  assert.match(out, /observation\[14\.\.16\] ← target: geometry_msgs\/msg\/PointStamped on target/);
  assert.match(out, /\nok\n$/);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: clean shutdown, exit 0 (no final command from a node that never commanded)`, async () => {
    const child = spawn('node', ['bin/onestep.js', 'serve', '--model', model, '--params-file', params, '--transport', 'inproc', '--ros-args', '-p', 'safety.stale_action:=zero'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const deadline = Date.now() + 20_000;
    while (!stderr.includes('policy node started')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill(signal);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(code, 0, stderr);
    assert.match(stderr, new RegExp(`shutting down reason=${signal} final_safe_action=none`));
  });
}
