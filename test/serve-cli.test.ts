// `onestep serve` as a user runs it: --help-params, one-line errors for bad flags, parameters, models and domain
// ids, the ROS command line passed through, and a clean shutdown on SIGTERM / SIGINT.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onestepInProcess } from './helpers/cli.ts';
import { writeArmPolicy } from './serve-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'onestep-serve-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, 'arm.onnx');
writeArmPolicy(model);
const params = join(dir, 'p.yaml');
writeFileSync(params, `/**:\n  ros__parameters:\n    observation:\n      sources: [joint_states, target]\n      target: {type: geometry_msgs/msg/PointStamped}\n`);

test('--help-params lists every parameter with type and default', async () => {
  const { code, stdout: out } = await onestepInProcess('serve', '--help-params');
  assert.equal(code, 0);
  for (const p of ['safety.watchdog_ms', 'safety.stale_action', 'observation.<name>.joint_names', 'action.type', 'decimation']) assert.ok(out.includes(p), p);
  assert.match(out, /safety\.watchdog_ms\s+double\s+default 100/);
});

// In process: the path main.ts takes for serve (no yargs) and the CLI's error formatting, without a process per case.
test('bad input ends with one line naming what was wrong', async () => {
  const cases: [string[], RegExp][] = [
    [['--bogus'], /^onestep: Unknown argument: bogus\n$/],
    [['--model', join(dir, 'missing.onnx'), '--check'], /^onestep: cannot load policy model .*missing\.onnx: file not found\n$/],
    [['--model', model, '--check', '--ros-args', '-p', 'safety.watchdg_ms:=5'], /^onestep: parameters of \/policy_node: unknown parameter "safety\.watchdg_ms" \(did you mean "safety\.watchdog_ms"\?\)\n$/],
    [['--model', model, '--check', '--ros-args', '-p', 'mode:=fast'], /"mode" = "fast" is not one of event, timer/],
    [['--model', model, '--check'], /^onestep: observation size mismatch: the model .*arm\.onnx expects 17 values .* the configured sources give 14/],
    [['--model', model, '--check', '--ros-args', '--params-file', join(dir, 'nope.yaml')], /--params-file .*nope\.yaml: cannot read \(ENOENT\)/],
    [['--model', model, '--ros-args', '--frobnicate'], /--ros-args: unknown argument "--frobnicate"/],
  ];
  for (const [args, re] of cases) {
    const r = await onestepInProcess('serve', ...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

// One real process: bin/onestep.js → main.ts → serve, its exit status and the one line on stderr.
test('as a process: a bad ROS_DOMAIN_ID exits 1 with one line', () => {
  let result: { status: number; stderr: string } | undefined;
  try {
    execFileSync('node', ['bin/onestep.js', 'serve', '--model', model, '--params-file', params, '--transport', 'inproc'], { stdio: 'pipe', env: { ...process.env, ROS_DOMAIN_ID: 'abc' } });
  } catch (err) {
    const e = err as { status: number; stderr: Buffer };
    result = { status: e.status, stderr: e.stderr.toString() };
  }
  assert.ok(result, 'onestep serve with ROS_DOMAIN_ID=abc succeeded');
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^onestep: .*ROS_DOMAIN_ID="abc" is not a valid ROS domain id/);
  assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
});

test('--check with a params file and ROS arguments (node name, namespace, -p) prints the plan', async () => {
  const { code, stdout: out, stderr } = await onestepInProcess(
    'serve', '--model', model, '--params-file', params, '--check',
    '--ros-args', '-r', '__node:=arm_policy', '-r', '__ns:=/arm', '-p', 'mode:=timer', '-p', 'control_rate_hz:=250.0',
  );
  assert.equal(code, 0, stderr);
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
