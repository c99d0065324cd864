// `onestep doctor`: Show which TF.js backend and BLAS are in use, and why; the runtime versions; and a
// self-test of the chosen backend's matmul against the stock TF.js cpu kernel.
import type { CommandModule } from 'yargs';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BackendPreference } from '../nn/backend.ts';

interface DoctorArgs {
  backend: string;
  'self-test': boolean;
  json: boolean;
}

/** A package's version from its package.json, without loading the package. */
function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  try {
    // Walk up from the resolved entry point to the package's own package.json.
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 6; i++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? 'unknown';
      } catch {
        // no package.json at this level
      }
    }
    return 'unknown';
  } catch {
    return 'not installed';
  }
}

interface SelfTest {
  ok: boolean;
  shape: string;
  maxAbsDiff: number;
  chosenMs: number;
  stockMs: number;
}

/** One 256×256·256×256 matmul on the chosen backend vs the stock cpu kernel: agreement and time. */
async function matmulSelfTest(chosen: string): Promise<SelfTest> {
  const tf = await import('@tensorflow/tfjs-core');
  const n = 256;
  const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.37));
  const b = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i * 0.11));
  const run = async (backend: string, reps: number) => {
    await tf.setBackend(backend);
    const [x, y] = [tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])];
    let out = tf.matMul(x, y);
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) {
      out.dispose();
      out = tf.matMul(x, y);
    }
    const values = (await out.data()) as Float32Array;
    const ms = (performance.now() - t0) / reps;
    tf.dispose([x, y, out]);
    return { values, ms };
  };
  const stock = await run('cpu', 2);
  const ours = await run(chosen, 20);
  let maxAbsDiff = 0, scale = 1;
  for (let i = 0; i < stock.values.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(stock.values[i] - ours.values[i]));
    scale = Math.max(scale, Math.abs(stock.values[i]));
  }
  await tf.setBackend(chosen);
  return { ok: maxAbsDiff <= 1e-5 * scale, shape: `${n}×${n}·${n}×${n}`, maxAbsDiff, chosenMs: ours.ms, stockMs: stock.ms };
}

const command: CommandModule<object, DoctorArgs> = {
  command: 'doctor',
  describe: 'Show which TF.js backend and BLAS are in use, and why',
  builder: (y) =>
    y
      .option('backend', {
        type: 'string',
        default: 'auto',
        describe: 'Backend to check: auto (best available; env ONESTEP_BACKEND overrides) or tfjs-node-gpu, tfjs-node, cpu-blas, cpu, wasm',
      })
      .option('self-test', { type: 'boolean', default: true, describe: 'Run a matmul on the chosen backend against the stock cpu kernel' })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object instead of text' }),
  handler: async (argv) => {
    const { initBackend, describeBackend, BACKEND_CHOICES } = await import('../nn/backend.ts');
    const { UserError } = await import('./errors.ts');
    // The default ('auto') leaves the choice to ONESTEP_BACKEND when set, as in training.
    const prefer = argv.backend === 'auto' ? undefined : argv.backend;
    if (prefer !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(prefer)) {
      throw new UserError(`--backend must be auto or one of ${BACKEND_CHOICES.join(', ')}, got "${prefer}"`);
    }
    const info = await initBackend(prefer === undefined ? {} : { prefer: prefer as BackendPreference });
    const versions = {
      node: process.versions.node,
      onestep: readOwnVersion(),
      'tfjs-core': packageVersion('@tensorflow/tfjs-core'),
      'tfjs-backend-cpu': packageVersion('@tensorflow/tfjs-backend-cpu'),
      'tfjs-backend-wasm': packageVersion('@tensorflow/tfjs-backend-wasm'),
      'onnxruntime-node': packageVersion('onnxruntime-node'),
      'mujoco-js': packageVersion('mujoco-js'),
      koffi: packageVersion('koffi'),
    };
    const selfTest = argv['self-test'] ? await matmulSelfTest(info.tfBackend) : null;
    if (argv.json) {
      process.stdout.write(`${JSON.stringify({ ...info, versions, selfTest }, null, 2)}\n`);
    } else {
      const lines = [...describeBackend(info), ...Object.entries(versions).map(([k, v]) => `${k}: ${v}`)];
      if (selfTest) {
        lines.push(`self-test: matmul ${selfTest.shape} on ${info.tfBackend} vs stock cpu: max |Δ| ${selfTest.maxAbsDiff.toExponential(1)} ` +
          `(${selfTest.ok ? 'ok' : 'MISMATCH'}), ${selfTest.chosenMs.toFixed(2)} ms vs ${selfTest.stockMs.toFixed(1)} ms (${(selfTest.stockMs / selfTest.chosenMs).toFixed(0)}× faster)`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (selfTest && !selfTest.ok) throw new Error(`self-test failed: ${info.backend} matmul differs from the stock kernel by ${selfTest.maxAbsDiff}`);
  },
};

function readOwnVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export default command;
