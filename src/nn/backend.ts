// Picks the fastest TF.js backend this machine can run, best first, and records why each better one was not
// taken: tfjs-node-gpu → tfjs-node → cpu-blas (stock cpu backend + our OpenBLAS/monomorphic kernels) → wasm.
// `cpu` (stock, unaccelerated) is only used when asked for, as the reference the others are tested against.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { type BlasInfo, OPENBLAS_CANDIDATES, probeOpenBlas } from './kernels/blas.ts';
import { CPU_BLAS_BACKEND, registerCpuBlasBackend } from './kernels/index.ts';
import { simdModule } from './kernels/simd.ts';
import { bufferPoolMegabytes } from './kernels/cpu.ts';
import { registerDenseGradient } from './dense.ts';

/** The TF.js backends onestep can train on. */
export const BACKEND_CHOICES = ['tfjs-node-gpu', 'tfjs-node', 'cpu-blas', 'cpu', 'wasm'] as const;
/** One TF.js backend. */
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
/** A backend to require, or `auto` for the fastest available. */
export type BackendPreference = 'auto' | BackendChoice;

/** The order `auto` tries. */
const AUTO_ORDER: readonly BackendChoice[] = ['tfjs-node-gpu', 'tfjs-node', 'cpu-blas', 'wasm'];

/** The backend {@link initBackend} chose, and why each better one was not. */
export interface BackendInfo {
  /** What we chose. */
  readonly backend: BackendChoice;
  /** The TF.js backend name now active (tf.getBackend()). */
  readonly tfBackend: string;
  /** What was asked for and where the request came from. */
  readonly requested: BackendPreference;
  readonly requestedBy: 'option' | 'ONESTEP_BACKEND' | 'default';
  /** OpenBLAS in use (cpu-blas only). */
  readonly blas?: BlasInfo;
  /** cpu-blas only: whether ReLU, its gradient mask, Adam and LayerNorm run in WebAssembly SIMD (else JS loops). */
  readonly simd?: boolean;
  /** Kernels cpu-blas replaces or adds over the stock cpu backend. */
  readonly fastKernels: readonly string[];
  /** Each better option that was not taken, with the reason. */
  readonly notChosen: readonly { backend: BackendChoice; reason: string }[];
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  prefer?: BackendPreference;
  /** OpenBLAS files to try instead of the default locations (also ONESTEP_BLAS_LIB, colon-separated). */
  blasPaths?: readonly string[];
}

/** The requested backend cannot start here; the message says why (one line). */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

function isPreference(value: string): value is BackendPreference {
  return value === 'auto' || (BACKEND_CHOICES as readonly string[]).includes(value);
}

/** Loads @tensorflow/tfjs once: its node bundle registers the gradient of every op (tfjs-core's alone has none). */
let gradientsLoaded: Promise<void> | null = null;
export function loadGradients(): Promise<void> {
  gradientsLoaded ??= import('@tensorflow/tfjs').then(() => {
    registerDenseGradient();
    silenceStockCpu();
  });
  return gradientsLoaded;
}

/** The stock cpu backend prints an "install tfjs-node" banner on first use; doctor explains the choice instead. */
function silenceStockCpu(): void {
  const stock = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (stock && 'firstUse' in stock) stock.firstUse = false;
}

const require = createRequire(import.meta.url);

function resolvable(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

type Attempt = { ok: true; tfBackend: string; blas?: BlasInfo; fastKernels?: string[]; simd?: boolean } | { ok: false; reason: string };

async function activate(name: string): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

async function tryTfjsNode(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<Attempt> {
  if (!resolvable(pkg)) {
    return { ok: false, reason: `${pkg} is not installed (optional dependency; its install needs libtensorflow from storage.googleapis.com)` };
  }
  try {
    await import(pkg);
  } catch (err) {
    return { ok: false, reason: `${pkg} is installed but failed to load: ${(err as Error).message.split('\n')[0]}` };
  }
  if (!(await activate('tensorflow'))) return { ok: false, reason: `${pkg} loaded but its "tensorflow" backend did not initialise` };
  return { ok: true, tfBackend: 'tensorflow' };
}

async function tryCpuBlas(blasPaths: readonly string[]): Promise<Attempt> {
  const probe = probeOpenBlas(blasPaths);
  if (!probe.blas) return { ok: false, reason: `${probe.reason}; install Debian libopenblas0-pthread or libopenblas0-serial` };
  const fastKernels = registerCpuBlasBackend(probe.blas);
  if (!(await activate(CPU_BLAS_BACKEND))) return { ok: false, reason: 'the cpu-blas backend did not initialise' };
  return { ok: true, tfBackend: CPU_BLAS_BACKEND, blas: probe.blas.info, fastKernels, simd: simdModule() !== null };
}

async function tryCpu(): Promise<Attempt> {
  if (!(await activate('cpu'))) return { ok: false, reason: 'the stock cpu backend did not initialise' };
  return { ok: true, tfBackend: 'cpu' };
}

async function tryWasm(): Promise<Attempt> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-wasm failed to load: ${(err as Error).message.split('\n')[0]}` };
  }
  if (!(await activate('wasm'))) return { ok: false, reason: 'the wasm backend did not initialise' };
  return { ok: true, tfBackend: 'wasm' };
}

function attempt(choice: BackendChoice, blasPaths: readonly string[]): Promise<Attempt> {
  switch (choice) {
    case 'tfjs-node-gpu': return tryTfjsNode('@tensorflow/tfjs-node-gpu');
    case 'tfjs-node': return tryTfjsNode('@tensorflow/tfjs-node');
    case 'cpu-blas': return tryCpuBlas(blasPaths);
    case 'cpu': return tryCpu();
    case 'wasm': return tryWasm();
  }
}

/**
 * Chooses and activates the TF.js backend. `prefer` (else ONESTEP_BACKEND, else 'auto') names one backend to
 * require, or 'auto' for the best available. A named backend that cannot start throws BackendUnavailableError.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const envChoice = process.env.ONESTEP_BACKEND;
  let requested: BackendPreference = 'auto';
  let requestedBy: BackendInfo['requestedBy'] = 'default';
  if (opts.prefer !== undefined) {
    if (!isPreference(opts.prefer)) throw new BackendUnavailableError(`backend must be auto or one of ${BACKEND_CHOICES.join(', ')}, got "${opts.prefer}"`);
    requested = opts.prefer;
    requestedBy = 'option';
  } else if (envChoice) {
    if (!isPreference(envChoice)) throw new BackendUnavailableError(`ONESTEP_BACKEND must be auto or one of ${BACKEND_CHOICES.join(', ')}, got "${envChoice}"`);
    requested = envChoice;
    requestedBy = 'ONESTEP_BACKEND';
  }
  const envBlas = process.env.ONESTEP_BLAS_LIB;
  const blasPaths = opts.blasPaths ?? (envBlas ? envBlas.split(':').filter(Boolean) : OPENBLAS_CANDIDATES);

  await loadGradients();
  const order = requested === 'auto' ? AUTO_ORDER : [requested];
  const notChosen: { backend: BackendChoice; reason: string }[] = [];
  for (const choice of order) {
    const result = await attempt(choice, blasPaths);
    if (result.ok) {
      return {
        backend: choice, tfBackend: result.tfBackend, requested, requestedBy,
        blas: result.blas, simd: result.simd, fastKernels: result.fastKernels ?? [], notChosen,
      };
    }
    notChosen.push({ backend: choice, reason: result.reason });
  }
  const why = notChosen.map((n) => `${n.backend}: ${n.reason}`).join('; ');
  throw new BackendUnavailableError(requested === 'auto' ? `no TF.js backend could start (${why})` : `backend ${requested} is unavailable (${why})`);
}

/** One line per fact, for logs and `onestep doctor`. */
export function describeBackend(info: BackendInfo): string[] {
  const lines = [`backend: ${info.backend} (TF.js "${info.tfBackend}"; requested ${info.requested} by ${info.requestedBy})`];
  if (info.blas) {
    lines.push(`blas: ${info.blas.path}`);
    lines.push(`blas threads: ${info.blas.threads} (OPENBLAS_NUM_THREADS, default 1)`);
    if (info.blas.coreType) lines.push(`blas core type: ${info.blas.coreType}`);
    if (info.blas.config) lines.push(`blas config: ${info.blas.config}`);
  }
  if (info.simd !== undefined) {
    lines.push(`simd loops: ${info.simd ? 'WebAssembly SIMD (ReLU, ReLU gradient, Adam, LayerNorm and its gradient and JVP)' : 'off, JS loops (ONESTEP_SIMD=0 or no WebAssembly SIMD)'}`);
  }
  if (info.backend === 'cpu-blas') {
    const mb = bufferPoolMegabytes();
    lines.push(`output buffers: ${mb > 0 ? `recycled from disposed tensors, up to ${mb} MB` : 'fresh for every output'} (ONESTEP_BUFFER_POOL_MB)`);
  }
  if (info.fastKernels.length) lines.push(`fast kernels: ${info.fastKernels.join(', ')}`);
  for (const n of info.notChosen) lines.push(`not ${n.backend}: ${n.reason}`);
  return lines;
}
