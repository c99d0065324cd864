// The optional native parts onestep loads at run time — ONNX Runtime's addon and its synchronous binding, koffi
// (OpenBLAS), the mujoco-js WebAssembly build — taken away one at a time in a child process, the way a machine
// without them would be: importing onestep still works, and the part's first use fails with one line naming it
// (PolicyRuntime.load at load, not at the first act), never a stack trace. The preload scripts make Node's own
// module loader fail for that one file, with the error Node gives for a missing file or a failed dlopen.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/netns.ts';

const dir = mkdtempSync(join(tmpdir(), 'onestep-native-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MODEL = join(REPO_ROOT, 'models/untrained-arm_reach/policy.onnx');

/** A CommonJS preload that makes `require(request)` fail as if the file were not there. */
function withoutModule(name: string, request: RegExp): string {
  const file = join(dir, `without-${name}.cjs`);
  writeFileSync(file, `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (${request}.test(request)) { const e = new Error("Cannot find module '" + request + "'"); e.code = 'MODULE_NOT_FOUND'; throw e; }
  return resolve.call(this, request, ...rest);
};\n`);
  return file;
}

/** A CommonJS preload that makes loading ONNX Runtime's native addon fail as dlopen does without libonnxruntime. */
function withoutOrtAddon(): string {
  const file = join(dir, 'without-ort-addon.cjs');
  writeFileSync(file, `const Module = require('node:module');
const load = Module._extensions['.node'];
Module._extensions['.node'] = function (module, filename) {
  if (/onnxruntime_binding\\.node$/.test(filename)) throw new Error('libonnxruntime.so.1: cannot open shared object file: No such file or directory');
  return load.call(this, module, filename);
};\n`);
  return file;
}

/** An ESM preload registering a resolve hook that fails for `specifier` (what a missing package gives). */
function withoutEsmPackage(specifier: string): string {
  const file = join(dir, `without-${specifier}.mjs`);
  const hook = `export async function resolve(s, c, next) { if (s === ${JSON.stringify(specifier)}) { const e = new Error("Cannot find package '" + s + "' imported from " + c.parentURL); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }`;
  writeFileSync(file, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));\n`);
  return file;
}

function node(preload: string[], args: string[]): { status: number | null; stdout: string; stderr: string } {
  const flags = preload.flatMap((p) => (p.endsWith('.cjs') ? ['--require', p] : ['--import', p]));
  const r = spawnSync('node', [...flags, ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ONESTEP_DEBUG: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a library script (ESM; `from 'onestep'` stands for the library entry's source) in a child process with the preloads. */
function script(preload: string[], body: string): { status: number | null; stdout: string; stderr: string } {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, body.replace("from 'onestep'", `from ${JSON.stringify(join(REPO_ROOT, 'src/api/index.ts'))}`));
  return node(preload, ['--import', 'tsx', file]);
}

const oneLine = (s: string) => {
  assert.equal(s.trim().split('\n').length, 1, `one line expected:\n${s}`);
  assert.doesNotMatch(s, /^\s+at /m, 'no stack trace');
};

test('ONNX Runtime addon missing: importing onestep works; PolicyRuntime.load and onestep serve fail in one line naming onnxruntime-node', () => {
  const r = script([withoutOrtAddon()], `
import { PolicyRuntime, OnnxRuntimeUnavailableError, readModelSpec } from 'onestep';
const spec = await readModelSpec(${JSON.stringify(MODEL)}); // needs no ONNX Runtime
try { await PolicyRuntime.load(${JSON.stringify(MODEL)}); console.log('loaded'); }
catch (err) { console.log(spec.task, err instanceof OnnxRuntimeUnavailableError, err.part, err.message); }
`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^arm_reach true onnxruntime-node ONNX Runtime \(onnxruntime-node\) could not be loaded on linux-\w+: libonnxruntime\.so\.1: cannot open shared object file/);
  const serve = node([withoutOrtAddon()], ['bin/onestep.js', 'serve', '--model', MODEL, '--params-file', 'launch/arm_policy.yaml', '--check']);
  assert.equal(serve.status, 1);
  oneLine(serve.stderr);
  assert.match(serve.stderr, /^onestep: ONNX Runtime \(onnxruntime-node\) could not be loaded .*libonnxruntime\.so\.1/);
});

test('synchronous binding missing: PolicyRuntime.load fails at load naming it; allowAsyncOnly loads and actAsync acts', () => {
  const r = script([withoutModule('ort-binding', /^onnxruntime-node\/dist\/binding\.js$/)], `
import { PolicyRuntime } from 'onestep';
try { await PolicyRuntime.load(${JSON.stringify(MODEL)}); console.log('loaded'); } catch (err) { console.log(err.name, err.part, '|', err.message); }
const policy = await PolicyRuntime.load(${JSON.stringify(MODEL)}, { allowAsyncOnly: true, deterministic: true });
const action = await policy.actAsync(Float32Array.from(policy.spec.observation.mean));
let sync = 'acted';
try { policy.act(Float32Array.from(policy.spec.observation.mean)); } catch (err) { sync = err.message; }
console.log(policy.synchronous, action.length, Array.from(action).every(Number.isFinite), sync);
`);
  assert.equal(r.status, 0, r.stderr);
  const [first, second] = r.stdout.trim().split('\n');
  assert.match(first, /^OnnxRuntimeUnavailableError synchronous binding \| ONNX Runtime's synchronous binding \(onnxruntime-node\/dist\/binding\.js\) is unavailable in onnxruntime-node \d+\.\d+\.\d+ \(Cannot find module .*\): PolicyRuntime\.act needs it/);
  assert.match(second, /^false 7 true synchronous ONNX Runtime binding unavailable/);
});

test('mujoco-js missing: onestep sim fails in one line naming mujoco-js', () => {
  const r = node([withoutEsmPackage('mujoco-js')], ['--import', 'tsx', 'src/cli/main.ts', 'sim', '--task', 'pendulum', '--episodes', '1']);
  assert.equal(r.status, 1, r.stdout);
  oneLine(r.stderr);
  assert.match(r.stderr, /^onestep: MuJoCo \(mujoco-js WebAssembly\) could not be loaded: Cannot find package 'mujoco-js'/);
});

test('koffi missing: the cpu-blas training backend is unavailable, in one line naming koffi', () => {
  const r = node([withoutModule('koffi', /^koffi$/)], ['bin/onestep.js', 'doctor', '--backend', 'cpu-blas']);
  assert.equal(r.status, 1, r.stdout);
  oneLine(r.stderr);
  assert.match(r.stderr, /^onestep: backend cpu-blas is unavailable \(cpu-blas: koffi could not be loaded \(Cannot find module 'koffi'\)/);
});
