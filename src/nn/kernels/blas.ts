// OpenBLAS found at run time and called through koffi: one sgemm entry point, its thread count and core type.
// Nothing here is compiled at install time; a machine without OpenBLAS simply gets `null` and a reason.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

/** Row-major single-precision GEMM: C = alpha·op(A)·op(B) + beta·C, with op = transpose when the flag is set. */
export type Sgemm = (
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: Float32Array, lda: number, b: Float32Array, ldb: number,
  beta: number, c: Float32Array, ldc: number,
) => void;

export interface BlasInfo {
  /** The file koffi loaded (a path or a soname the dynamic linker resolved). */
  readonly path: string;
  /** Threads OpenBLAS uses for one sgemm (OPENBLAS_NUM_THREADS, default 1). */
  readonly threads: number;
  /** openblas_get_corename(), e.g. "Haswell" or "SkylakeX", when the library exports it. */
  readonly coreType?: string;
  /** openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64". */
  readonly config?: string;
}

/** y = alpha·op(A)·x + beta·y for a row-major A [m, n] (op = transpose when `trans`); unit strides. */
export type Sgemv = (trans: boolean, m: number, n: number, alpha: number, a: Float32Array, lda: number, x: Float32Array, beta: number, y: Float32Array) => void;
/** y += alpha·x (unit strides). */
export type Saxpy = (n: number, alpha: number, x: Float32Array, y: Float32Array) => void;
/** x *= alpha (unit stride). */
export type Sscal = (n: number, alpha: number, x: Float32Array) => void;

/** x·y (unit strides). */
export type Sdot = (n: number, x: Float32Array, y: Float32Array) => number;

export interface Blas {
  readonly info: BlasInfo;
  readonly sdot: Sdot;
  readonly sgemm: Sgemm;
  readonly sgemv: Sgemv;
  readonly saxpy: Saxpy;
  readonly sscal: Sscal;
}

/** Where Debian/Ubuntu put OpenBLAS (pthread and serial flavours), then whatever the dynamic linker finds. */
export const OPENBLAS_CANDIDATES: readonly string[] = [
  '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0',
  '/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0',
  '/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0',
  '/usr/lib/aarch64-linux-gnu/openblas-serial/libopenblas.so.0',
  'libopenblas.so.0',
  'libopenblas.so',
];

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

/** The thread count to ask OpenBLAS for: OPENBLAS_NUM_THREADS when set to a positive integer, else 1. */
export function blasThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.OPENBLAS_NUM_THREADS;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`OPENBLAS_NUM_THREADS must be a positive integer, got "${raw}"`);
  return n;
}

export type BlasProbe = { blas: Blas; reason?: undefined } | { blas: null; reason: string };

interface LoadedBlas { blas: Blas; setThreads(n: number): void }
const loaded = new Map<string, LoadedBlas>();

/**
 * Loads OpenBLAS from the first candidate that opens and exports cblas_sgemm. `paths` replaces the default list
 * (e.g. ONESTEP_BLAS_LIB). Returns the reason instead of throwing when none works.
 */
export function probeOpenBlas(paths: readonly string[] = OPENBLAS_CANDIDATES, threads = blasThreadsFromEnv()): BlasProbe {
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi');
  } catch (err) {
    return { blas: null, reason: `koffi could not be loaded (${(err as Error).message.split('\n')[0]})` };
  }
  const failures: string[] = [];
  for (const path of paths) {
    const cached = loaded.get(path);
    if (cached) {
      cached.setThreads(threads);
      return { blas: cached.blas };
    }
    // An absolute path that does not exist is reported as such rather than as a dlopen message.
    if (path.startsWith('/') && !existsSync(path)) {
      failures.push(`${path}: no such file`);
      continue;
    }
    let lib: ReturnType<typeof koffi.load>;
    try {
      lib = koffi.load(path);
    } catch (err) {
      failures.push(`${path}: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    let cblasSgemm: (...args: unknown[]) => void;
    try {
      cblasSgemm = lib.func(
        'void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)',
      );
    } catch {
      failures.push(`${path}: does not export cblas_sgemm`);
      continue;
    }
    let cblasSgemv: (...args: unknown[]) => void, cblasSaxpy: (...args: unknown[]) => void, cblasSscal: (...args: unknown[]) => void;
    let cblasSdot: (...args: unknown[]) => number;
    try {
      cblasSdot = lib.func('float cblas_sdot(int n, const float *x, int incx, const float *y, int incy)');
      cblasSgemv = lib.func('void cblas_sgemv(int order, int trans, int m, int n, float alpha, const float *a, int lda, const float *x, int incx, float beta, float *y, int incy)');
      cblasSaxpy = lib.func('void cblas_saxpy(int n, float alpha, const float *x, int incx, float *y, int incy)');
      cblasSscal = lib.func('void cblas_sscal(int n, float alpha, float *x, int incx)');
    } catch {
      failures.push(`${path}: does not export cblas_sdot/sgemv/saxpy/sscal`);
      continue;
    }
    const optional = <T>(decl: string): T | undefined => {
      try {
        return lib.func(decl) as T;
      } catch {
        return undefined;
      }
    };
    const setNumThreads = optional<(n: number) => void>('void openblas_set_num_threads(int n)');
    const getNumThreads = optional<() => number>('int openblas_get_num_threads()');
    const getCorename = optional<() => string>('const char *openblas_get_corename()');
    const getConfig = optional<() => string>('const char *openblas_get_config()');

    const sgemm: Sgemm = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =>
      cblasSgemm(CBLAS_ROW_MAJOR, transA ? CBLAS_TRANS : CBLAS_NO_TRANS, transB ? CBLAS_TRANS : CBLAS_NO_TRANS,
        m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    const sgemv: Sgemv = (trans, m, n, alpha, a, lda, x, beta, y) =>
      cblasSgemv(CBLAS_ROW_MAJOR, trans ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, alpha, a, lda, x, 1, beta, y, 1);
    const saxpy: Saxpy = (n, alpha, x, y) => cblasSaxpy(n, alpha, x, 1, y, 1);
    const sscal: Sscal = (n, alpha, x) => cblasSscal(n, alpha, x, 1);
    const sdot: Sdot = (n, x, y) => cblasSdot(n, x, 1, y, 1);
    const makeBlas = (): Blas => ({
      sgemm, sgemv, saxpy, sscal, sdot,
      info: {
        path,
        threads: getNumThreads ? getNumThreads() : threads,
        coreType: getCorename?.()?.trim() || undefined,
        config: getConfig?.()?.trim() || undefined,
      },
    });
    const entry: LoadedBlas = {
      blas: makeBlas(),
      setThreads(n: number) {
        setNumThreads?.(n);
        this.blas = makeBlas();
      },
    };
    entry.setThreads(threads);
    loaded.set(path, entry);
    return { blas: entry.blas };
  }
  return { blas: null, reason: `OpenBLAS not found (${failures.join('; ')})` };
}
