// One ONNX Runtime session configured for single-observation control: one intra-op and one inter-op thread
// (a second spinning thread only steals the core the simulator or the DDS stack needs), full graph optimisation,
// sequential execution.
//
// onnxruntime-node's public `InferenceSession.run` is async only because it defers the call with setImmediate;
// the native binding underneath (`dist/binding.js`, `InferenceSession.run(feeds, fetches, options)`) is
// synchronous. We call the binding directly so `PolicyRuntime.act` is synchronous and pays no event-loop hop,
// and fall back to the public API (async only) when the binding's layout differs in another ORT version.
//
// onnxruntime-node loads its native addon when it is imported, so it is required here on first use, not imported
// at the top: importing onestep never fails, and a machine where the addon cannot load gets one line naming it
// from `PolicySession.open` (hence `PolicyRuntime.load`) instead of a stack trace at import.
import { createRequire } from 'node:module';
import type * as ort from 'onnxruntime-node';
import { OnnxRuntimeUnavailableError } from './errors.ts';

const require = createRequire(import.meta.url);

export const POLICY_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
};

type Feeds = Record<string, ort.Tensor>;
type Fetches = Record<string, ort.Tensor | null>;

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: ort.InferenceSession.SessionOptions): void;
  readonly inputMetadata: { name: string; isTensor: boolean; type: number; shape: number[]; symbolicDimensions: string[] }[];
  readonly outputMetadata: { name: string; isTensor: boolean; type: number; shape: number[]; symbolicDimensions: string[] }[];
  run(feeds: Feeds, fetches: Fetches, options: object): Record<string, ort.Tensor>;
  dispose(): void;
}
interface NativeBinding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt: () => void;
}

let ortModule: typeof ort | undefined;
/**
 * onnxruntime-node, loaded on first use. Throws OnnxRuntimeUnavailableError (one line) when the package or its
 * native addon cannot be loaded (not installed, no prebuilt binary for this platform, libonnxruntime missing).
 */
export function onnxRuntime(): typeof ort {
  if (ortModule === undefined) {
    let loaded: typeof ort;
    try {
      loaded = require('onnxruntime-node') as typeof ort;
    } catch (err) {
      throw new OnnxRuntimeUnavailableError(
        'onnxruntime-node',
        `ONNX Runtime (onnxruntime-node) could not be loaded on ${process.platform}-${process.arch}: ${firstLine(err)}`,
      );
    }
    // ORT's own logger prints multi-line errors to stderr; ours carry the message as one line. ONESTEP_DEBUG=1 keeps them.
    if (process.env.ONESTEP_DEBUG !== '1') loaded.env.logLevel = 'fatal';
    ortModule = loaded;
  }
  return ortModule;
}

/** The installed onnxruntime-node version (from its package.json), for messages. */
function ortVersion(): string {
  try {
    return (require('onnxruntime-node/package.json') as { version?: string }).version ?? 'unknown';
  } catch {
    return onnxRuntime().env.versions?.node ?? 'unknown';
  }
}

let native: NativeBinding | null | undefined;
/** Why the synchronous binding was not found (for the error PolicyRuntime.load raises), when it was not. */
let nativeMissing = '';
function nativeBinding(): NativeBinding | null {
  if (native === undefined) {
    onnxRuntime(); // the package itself first: its failure is the one to report
    try {
      const b = require('onnxruntime-node/dist/binding.js') as NativeBinding;
      native = typeof b?.initOrt === 'function' && typeof b.binding?.InferenceSession === 'function' ? b : null;
      if (!native) nativeMissing = 'dist/binding.js has another layout';
    } catch (err) {
      native = null;
      nativeMissing = firstLine(err);
    }
  }
  return native;
}

/**
 * Throws OnnxRuntimeUnavailableError (one line) unless the synchronous binding `PolicySession.runSync` (and so
 * `PolicyRuntime.act`) needs is available in the installed onnxruntime-node.
 */
export function requireSynchronousBinding(): void {
  if (nativeBinding()) return;
  throw new OnnxRuntimeUnavailableError(
    'synchronous binding',
    `ONNX Runtime's synchronous binding (onnxruntime-node/dist/binding.js) is unavailable in onnxruntime-node ${ortVersion()} (${nativeMissing}): ` +
      'PolicyRuntime.act needs it; install the onnxruntime-node version onestep depends on, or load with { allowAsyncOnly: true } and call actAsync',
  );
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
}

/** Shape of a model input or output as the runtime sees it: numbers, or -1 for a symbolic (batch) dimension. */
export interface ValueShape {
  readonly name: string;
  readonly elementType: 'float32' | 'other';
  readonly dims: readonly number[];
}

export class PolicySession {
  private constructor(
    private readonly nativeSession: NativeSession | null,
    private readonly publicSession: ort.InferenceSession | null,
    readonly inputs: readonly ValueShape[],
    readonly outputs: readonly ValueShape[],
  ) {}

  /** True when `runSync` is available (the native binding was found). */
  get synchronous(): boolean {
    return this.nativeSession !== null;
  }

  static async open(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions = POLICY_SESSION_OPTIONS): Promise<PolicySession> {
    const b = nativeBinding();
    if (b) {
      b.initOrt();
      const s = new b.binding.InferenceSession();
      s.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, options);
      const shape = (m: NativeSession['inputMetadata'][number]): ValueShape => ({
        name: m.name,
        elementType: m.isTensor && m.type === 1 ? 'float32' : 'other',
        dims: m.shape,
      });
      return new PolicySession(s, null, s.inputMetadata.map(shape), s.outputMetadata.map(shape));
    }
    const s = await onnxRuntime().InferenceSession.create(bytes, options);
    const shape = (m: ort.InferenceSession.ValueMetadata): ValueShape => ({
      name: m.name,
      elementType: m.isTensor && m.type === 'float32' ? 'float32' : 'other',
      dims: m.isTensor ? m.shape.map((d) => (typeof d === 'number' ? d : -1)) : [],
    });
    return new PolicySession(null, s, s.inputMetadata.map(shape), s.outputMetadata.map(shape));
  }

  /** Synchronous run; outputs land in the pre-allocated tensors of `fetches`. Only when `synchronous`. */
  runSync(feeds: Feeds, fetches: Fetches): void {
    if (!this.nativeSession) throw new Error('synchronous ONNX Runtime binding unavailable in this onnxruntime-node version; use the async path');
    this.nativeSession.run(feeds, fetches, EMPTY_RUN_OPTIONS);
  }

  /** The public async path (also used to time raw `session.run` in the bench). */
  async run(feeds: Feeds, fetches: Fetches): Promise<void> {
    if (this.nativeSession) {
      this.nativeSession.run(feeds, fetches, EMPTY_RUN_OPTIONS);
      return;
    }
    const out = await this.publicSession!.run(feeds, fetches as ort.InferenceSession.FetchesType);
    for (const [name, t] of Object.entries(fetches)) {
      if (t && out[name] && out[name].data !== t.data) (t.data as Float32Array).set(out[name].data as Float32Array);
    }
  }

  dispose(): void {
    this.nativeSession?.dispose();
    void this.publicSession?.release();
  }
}

const EMPTY_RUN_OPTIONS = Object.freeze({});

/** A float32 tensor over a fresh buffer, allocated once and reused for every run. */
export function float32Tensor(dims: readonly number[]): ort.Tensor {
  return new (onnxRuntime().Tensor)('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
}
