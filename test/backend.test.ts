// Backend selection: the best available backend with its reasons, fallbacks when OpenBLAS is missing,
// explicit requests that cannot be met, the env overrides, and `onestep doctor` end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, initBackend } from '../src/nn/backend.ts';
import { blasThreadsFromEnv, probeOpenBlas } from '../src/nn/kernels/blas.ts';

// A robot's machine may have @tensorflow/tfjs-node(-gpu) installed; CI has neither. Auto prefers them, so each
// expectation below depends on which of them loads here (imported dynamically: they are optional).
const TFJS_NODE = await (async (): Promise<'tfjs-node-gpu' | 'tfjs-node' | null> => {
  for (const name of ['tfjs-node-gpu', 'tfjs-node'] as const) {
    try {
      await import(`@tensorflow/${name}`);
      return name;
    } catch {
      // not installed, or its native library does not load: auto skips it too
    }
  }
  return null;
})();

test('auto picks tfjs-node(-gpu) when it loads, else cpu-blas (OpenBLAS is installed by scripts/setup.sh), and says why not the others', async () => {
  const info = await initBackend({ prefer: 'auto', blasPaths: undefined });
  if (TFJS_NODE) {
    assert.equal(info.backend, TFJS_NODE);
    assert.equal(tf.getBackend(), 'tensorflow');
    return;
  }
  assert.equal(info.backend, 'cpu-blas');
  assert.equal(tf.getBackend(), 'cpu-blas');
  assert.match(info.blas!.path, /libopenblas/);
  assert.equal(info.blas!.threads, 1);
  assert.ok(info.fastKernels.includes('BatchMatMul') && info.fastKernels.includes('_FusedMatMul'));
  assert.equal(info.simd, true);
  assert.deepEqual(info.notChosen.map((n) => n.backend), ['tfjs-node-gpu', 'tfjs-node']);
  for (const n of info.notChosen) assert.match(n.reason, /not installed|failed to load|did not initialise/);
});

test('a missing OpenBLAS makes auto fall back to wasm (without tfjs-node), naming the path it tried', async (t) => {
  if (TFJS_NODE) {
    t.skip(`${TFJS_NODE} loads here, so auto never gets to OpenBLAS`);
    return;
  }
  const info = await initBackend({ prefer: 'auto', blasPaths: ['/nonexistent/libopenblas.so.0'] });
  assert.equal(info.backend, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  const blas = info.notChosen.find((n) => n.backend === 'cpu-blas');
  assert.ok(blas, 'cpu-blas is listed as not chosen');
  assert.match(blas.reason, /\/nonexistent\/libopenblas\.so\.0: no such file/);
  assert.match(blas.reason, /libopenblas0-pthread/);
  // And training math still works there.
  const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 4]));
  assert.deepEqual(Array.from(y.dataSync()), new Array(8).fill(3));
});

test('asking for a backend that cannot start is a typed error with the reason', async () => {
  await assert.rejects(initBackend({ prefer: 'cpu-blas', blasPaths: ['/nonexistent/libopenblas.so.0'] }),
    (e: Error) => e instanceof BackendUnavailableError && /backend cpu-blas is unavailable .*no such file/.test(e.message));
  if (TFJS_NODE === 'tfjs-node') assert.equal((await initBackend({ prefer: 'tfjs-node' })).backend, 'tfjs-node');
  else await assert.rejects(initBackend({ prefer: 'tfjs-node' }), /backend tfjs-node is unavailable .*(not installed|failed to load|did not initialise)/);
  await assert.rejects(initBackend({ prefer: 'gpu' as never }), /backend must be auto or one of/);
});

test('ONESTEP_BACKEND chooses when no option is given, and is validated', async () => {
  const saved = process.env.ONESTEP_BACKEND;
  try {
    process.env.ONESTEP_BACKEND = 'cpu';
    const info = await initBackend();
    assert.equal(info.backend, 'cpu');
    assert.equal(info.requestedBy, 'ONESTEP_BACKEND');
    process.env.ONESTEP_BACKEND = 'tpu';
    await assert.rejects(initBackend(), /ONESTEP_BACKEND must be auto or one of .* got "tpu"/);
    // An explicit option wins over the environment.
    assert.equal((await initBackend({ prefer: 'cpu-blas' })).backend, 'cpu-blas');
  } finally {
    if (saved === undefined) delete process.env.ONESTEP_BACKEND;
    else process.env.ONESTEP_BACKEND = saved;
  }
});

test('OpenBLAS threads follow OPENBLAS_NUM_THREADS (default 1); bad values are rejected', () => {
  assert.equal(blasThreadsFromEnv({}), 1);
  assert.equal(blasThreadsFromEnv({ OPENBLAS_NUM_THREADS: '2' }), 2);
  assert.throws(() => blasThreadsFromEnv({ OPENBLAS_NUM_THREADS: 'many' }), /OPENBLAS_NUM_THREADS must be a positive integer, got "many"/);
  const two = probeOpenBlas(undefined, 2);
  assert.equal(two.blas?.info.threads, 2);
  assert.equal(probeOpenBlas(undefined, 1).blas?.info.threads, 1);
});

test('a library without cblas_sgemm is reported, not loaded as BLAS', () => {
  const probe = probeOpenBlas(['libm.so.6']);
  assert.equal(probe.blas, null);
  assert.match(probe.reason!, /libm\.so\.6: does not export cblas_sgemm/);
});

test('onestep doctor prints the backend, BLAS, versions and a passing self-test', () => {
  const out = execFileSync('node', ['bin/onestep.js', 'doctor'], { encoding: 'utf8', env: { ...process.env, ONESTEP_BACKEND: '' } });
  if (TFJS_NODE) assert.match(out, new RegExp(`^backend: ${TFJS_NODE}`, 'm'));
  else {
    assert.match(out, /^backend: cpu-blas/m);
    assert.match(out, /^blas: .*libopenblas/m);
    assert.match(out, /^simd loops: WebAssembly SIMD/m);
    assert.match(out, process.env.ONESTEP_BUFFER_POOL_MB?.trim() === '0' ? /^output buffers: fresh/m : /^output buffers: recycled from disposed tensors, up to \d+ MB/m);
    assert.match(out, /^not tfjs-node: /m);
  }
  assert.match(out, /^tfjs-core: 4\.\d+\.\d+/m);
  assert.match(out, /^onnxruntime-node: \d/m);
  assert.match(out, /^mujoco-js: \d/m);
  assert.match(out, /^self-test: matmul .* \(ok\)/m);
  assert.doesNotMatch(out, /Hi, looks like/);
});

test('onestep doctor reports an unavailable backend in one line with exit code 1', () => {
  const res = spawnSync('node', ['bin/onestep.js', 'doctor', '--backend', 'cpu-blas'], {
    encoding: 'utf8', env: { ...process.env, ONESTEP_BLAS_LIB: '/nonexistent/libopenblas.so.0' },
  });
  assert.equal(res.status, 1);
  assert.equal(res.stderr.trim().split('\n').length, 1);
  assert.match(res.stderr, /^onestep: backend cpu-blas is unavailable .*\/nonexistent\/libopenblas\.so\.0: no such file/);
});
