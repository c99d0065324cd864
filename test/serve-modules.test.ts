// What `onestep serve` loads: every module a running policy node resolved (ESM resolve hook + CommonJS loader,
// recorded from a preload), checked after it started acting on a ROS graph: ONNX Runtime and the node's own
// modules, and nothing of TensorFlow.js, MuJoCo (mujoco-js), the ONNX protobuf library, the dataset readers, the
// prebuilt table of every standard ROS message, or yargs and the other commands — a serving process pays for none
// of them. The architecture test proves the TF.js / MuJoCo part statically for the library entries.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/netns.ts';
import { moduleRecorder } from './helpers/modules.ts';

const dir = mkdtempSync(join(tmpdir(), 'onestep-modules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a serving policy node loads ONNX Runtime, and no TF.js, mujoco-js, protobuf library, dataset reader or yargs', async () => {
  const { hook, modules: recorded } = moduleRecorder(dir);
  const child = spawn('node', ['--import', hook, 'bin/onestep.js', 'serve', '--model', 'models/untrained-arm_reach/policy.onnx',
    '--params-file', 'launch/arm_policy.yaml', '--transport', 'inproc', '--ros-args', '-p', 'watch_model:=false'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const started = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 60_000);
    child.stderr.on('data', () => {
      if (/policy node started/.test(stderr)) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.on('close', () => resolve(false));
  });
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('close', resolve)));
  assert.ok(started, `serve did not start: ${stderr}`);
  assert.equal(code, 0, stderr);
  const modules = recorded();
  // the record sees what is there: ONNX Runtime's addon package and the node itself
  assert.ok(modules.some((m) => /node_modules\/onnxruntime-node\//.test(m)), 'onnxruntime-node recorded');
  assert.ok(modules.some((m) => /src\/ros\/node\/policy-node\.ts$/.test(m)), 'policy-node recorded');
  const heavy = modules.filter((m) =>
    /node_modules\/(@tensorflow\/|mujoco-js\/|onnx-proto\/|protobufjs\/|h5wasm\/|koffi\/|@foxglove\/rosmsg-msgs-common\/dist|yargs\/|yargs-parser\/)|\/src\/(nn|algos|sim|data)\/|\/src\/cli\/(commands|train|sim|bench|topic)\.ts$/.test(m));
  assert.deepEqual(heavy, []);
});
