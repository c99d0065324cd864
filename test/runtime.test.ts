// PolicyRuntime on real ONNX Runtime: the shipped model, seeded noise, the synchronous path, and every rejection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../src/format/onnx-graph.ts';
import { readOnnxModelInfo } from '../src/format/onnx-metadata.ts';
import { SPEC_METADATA_KEY, parsePolicySpec, type PolicySpec } from '../src/format/spec.ts';
import { ModelLoadError, NonFiniteActionError, NonFiniteObservationError, ObservationSizeError } from '../src/runtime/errors.ts';
import { PolicyRuntime } from '../src/runtime/policy-runtime.ts';
import { Rng } from '../src/core/rng.ts';

const MODEL = 'models/untrained-arm_reach/policy.onnx';
const tmp = await mkdtemp(join(tmpdir(), 'onestep-runtime-'));
const shippedSpec: PolicySpec = parsePolicySpec(readOnnxModelInfo(await readFile(MODEL)).metadata.get(SPEC_METADATA_KEY), MODEL);
const observation = Float32Array.from({ length: 31 }, (_, i) => 0.1 * i - 0.5);

/** A model file with the given spec whose action is Log(obs[0..7)) (so a negative observation gives NaN). */
async function writeModel(name: string, spec: unknown, opts: { obsWidth?: number; metadata?: boolean } = {}): Promise<string> {
  const g = new OnnxGraphBuilder();
  const obs = g.input('obs');
  g.input('noise');
  const first = g.op('Slice', [obs, g.int64('s', [0]), g.int64('e', [7]), g.int64('a', [1])], {}, 'first');
  g.op('Log', [first], {}, 'action');
  const bytes = g.build({
    inputs: [
      { name: 'obs', width: opts.obsWidth ?? 31 },
      { name: 'noise', width: 14 },
    ],
    outputs: [{ name: 'action', width: 7 }],
    metadata: opts.metadata === false ? {} : { [SPEC_METADATA_KEY]: typeof spec === 'string' ? spec : JSON.stringify(spec) },
  });
  const path = join(tmp, name);
  await writeFile(path, bytes);
  return path;
}

async function assertLoadError(path: string, message: RegExp): Promise<void> {
  await assert.rejects(PolicyRuntime.load(path), (err: Error) => {
    assert.ok(err instanceof ModelLoadError, `expected ModelLoadError, got ${err.name}: ${err.message}`);
    assert.match(err.message, message);
    assert.ok(err.message.includes(path), 'the message names the file');
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

test('loads the shipped model: spec, sizes, synchronous binding', async () => {
  const rt = await PolicyRuntime.load(MODEL);
  assert.equal(rt.synchronous, true);
  assert.equal(rt.observationSize, 31);
  assert.equal(rt.actionSize, 7);
  assert.equal(rt.spec.trainingSteps, 0);
  assert.match(rt.spec.description, /UNTRAINED/);
  assert.deepEqual(rt.spec.action.names, ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7']);
  const a = rt.act(observation);
  assert.equal(a.length, 7);
  a.forEach((v, i) => assert.ok(Number.isFinite(v) && v >= rt.spec.action.low[i] && v <= rt.spec.action.high[i], `action[${i}] = ${v}`));
  assert.equal(rt.act(observation), a, 'act returns the runtime-owned buffer');
  rt.close();
});

test('seeded noise: same seed same actions, other seed other actions, deterministic = zero noise', async () => {
  const run = async (opts: { seed?: number; deterministic?: boolean }) => {
    const rt = await PolicyRuntime.load(MODEL, opts);
    const out = Array.from({ length: 5 }, () => Array.from(rt.act(observation)));
    rt.close();
    return out;
  };
  const a = await run({ seed: 3 });
  assert.deepEqual(await run({ seed: 3 }), a);
  assert.notDeepEqual(await run({ seed: 4 }), a);
  assert.notDeepEqual(a[0], a[1], 'fresh noise each call');
  const det = await run({ deterministic: true });
  // Untrained SMFP: zero MeanFlow head and ξ = 0 give tanh(0) = 0, i.e. the offset (the home pose), every call.
  const probe = await PolicyRuntime.load(MODEL);
  const home = probe.spec.action.offset.map((x) => Math.fround(x));
  probe.close();
  for (const row of det) assert.deepEqual(row, home);
});

test('act equals ONNX Runtime public session.run fed the same noise; actAsync equals act', async () => {
  const rt = await PolicyRuntime.load(MODEL, { seed: 11 });
  const rng = new Rng(11);
  const session = await ort.InferenceSession.create(MODEL);
  for (let k = 0; k < 3; k++) {
    const noise = new Float32Array(14);
    rng.fillNormal(noise);
    const out = await session.run({ obs: new ort.Tensor('float32', observation, [1, 31]), noise: new ort.Tensor('float32', noise, [1, 14]) });
    assert.deepEqual(Array.from(rt.act(observation)), Array.from(out.action.data as Float32Array));
  }
  const viaAsync = Array.from(await (await PolicyRuntime.load(MODEL, { seed: 5 })).actAsync(observation));
  assert.deepEqual(viaAsync, Array.from((await PolicyRuntime.load(MODEL, { seed: 5 })).act(observation)));
  await session.release();
  rt.close();
});

test('rejects a wrong-length observation, naming the expected size', async () => {
  const rt = await PolicyRuntime.load(MODEL);
  assert.throws(() => rt.act(new Float32Array(30)), (err: Error) => err instanceof ObservationSizeError && /observation has 30 values, expected 31/.test(err.message));
  assert.throws(() => rt.act(new Float32Array(32)), ObservationSizeError);
  rt.close();
});

test('rejects non-finite observations, naming the index and field', async () => {
  const rt = await PolicyRuntime.load(MODEL);
  for (const [index, value] of [
    [3, NaN],
    [0, Infinity],
    [30, -Infinity],
    [7, 1e39], // finite as a double, Infinity as float32
  ] as const) {
    const obs = Float32Array.from(observation) as Float32Array | number[];
    const input = value === 1e39 ? Array.from(obs) : obs;
    input[index] = value;
    assert.throws(
      () => rt.act(input),
      (err: Error) => err instanceof NonFiniteObservationError && err.message === `observation[${index}] (${shippedSpec.observation.names[index]}) is ${value}, expected a finite number`,
    );
  }
  // The runtime stays usable after a rejection.
  assert.equal(rt.act(observation).length, 7);
  rt.close();
});

test('never returns a non-finite action', async () => {
  const path = await writeModel('nan-action.onnx', shippedSpec);
  const rt = await PolicyRuntime.load(path);
  const ok = Float32Array.from({ length: 31 }, () => 1);
  const last = rt.act(ok);
  assert.deepEqual(Array.from(last), [0, 0, 0, 0, 0, 0, 0]);
  const bad = Float32Array.from(ok);
  bad[2] = -1; // log(-1) = NaN in action[2]
  assert.throws(() => rt.act(bad), (err: Error) => err instanceof NonFiniteActionError && /action\[2\] \(joint3\) = NaN; refusing to return a non-finite action/.test(err.message));
  assert.deepEqual(Array.from(last), [0, 0, 0, 0, 0, 0, 0], 'the returned buffer still holds the last good action');
  await assert.rejects(rt.actAsync(bad), NonFiniteActionError);
  rt.close();
});

test('ModelLoadError: missing file, directory, corrupt bytes, truncated model', async () => {
  await assertLoadError(join(tmp, 'nope.onnx'), /file not found/);
  await assertLoadError(tmp, /is a directory/);
  const garbage = join(tmp, 'garbage.onnx');
  await writeFile(garbage, Buffer.from('this is not an onnx model at all, just text\n'));
  await assertLoadError(garbage, /not a valid ONNX model|no 'onestep.spec' metadata/);
  const truncated = join(tmp, 'truncated.onnx');
  await writeFile(truncated, (await readFile(MODEL)).subarray(0, 100_000));
  await assertLoadError(truncated, /not a valid ONNX model/);
});

test('ModelLoadError: missing metadata, invalid spec, spec disagreeing with the graph', async () => {
  await assertLoadError(await writeModel('no-meta.onnx', null, { metadata: false }), /no 'onestep\.spec' metadata; export the policy with `onestep export`/);
  await assertLoadError(await writeModel('bad-json.onnx', '{"formatVersion": 1,'), /invalid 'onestep\.spec' metadata: onestep\.spec is not valid JSON/);
  await assertLoadError(await writeModel('bad-version.onnx', { ...shippedSpec, formatVersion: 99 }), /formatVersion must be 1 \(got 99\)/);
  await assertLoadError(
    await writeModel('bad-std.onnx', { ...shippedSpec, observation: { ...shippedSpec.observation, std: shippedSpec.observation.std.map((s, i) => (i === 4 ? 0 : s)) } }),
    /observation\.std\[4\] must be a finite number > 0 \(got 0\)/,
  );
  await assertLoadError(await writeModel('bad-names.onnx', { ...shippedSpec, action: { ...shippedSpec.action, names: ['a'] } }), /action\.names must be an array of 7 names/);
  await assertLoadError(await writeModel('bad-mode.onnx', { ...shippedSpec, action: { ...shippedSpec.action, mode: 'velocity' } }), /action\.mode must be one of absolute, relative, delta/);
  await assertLoadError(await writeModel('bad-noise.onnx', { ...shippedSpec, noise: { size: 7, parts: [{ name: 'e', size: 7 }] } }), /noise\.parts must be/);
  await assertLoadError(await writeModel('bad-width.onnx', shippedSpec, { obsWidth: 32 }), /input 'obs' must be float32 \[N, 31\] as the spec says \(got float32 \[N, 32\]\)/);
});

test('ModelLoadError: a model ONNX Runtime cannot run', async () => {
  const g = new OnnxGraphBuilder();
  const obs = g.input('obs');
  g.input('noise');
  // Reshaping 31 values into 3 columns fails when the model runs, not when it is parsed.
  g.op('Reshape', [obs, g.int64('shape', [-1, 3])], {}, 'action');
  const bytes = g.build({ inputs: [{ name: 'obs', width: 31 }, { name: 'noise', width: 14 }], outputs: [{ name: 'action', width: 7 }], metadata: { [SPEC_METADATA_KEY]: JSON.stringify(shippedSpec) } });
  const path = join(tmp, 'fails-to-run.onnx');
  await writeFile(path, bytes);
  await assertLoadError(path, /ONNX Runtime (failed to run|rejected) the model/);
});

test('the CLI reports a bad model in one line without a stack trace', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('node', ['bin/onestep.js', 'bench', '--model', join(tmp, 'nope.onnx'), '--n', '10'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `onestep: cannot load policy model ${join(tmp, 'nope.onnx')}: file not found\n`);
});
