// PolicyRuntime: an exported onestep policy (ONNX + `onestep.spec` metadata) behind one synchronous call,
// `act(observation) → action` in physical units. Everything is configured and allocated at load; `act` writes the
// observation and the noise into tensors allocated once, runs ONNX Runtime synchronously into a pre-allocated
// output and checks it. Allocates nothing per call.
import { readFile } from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import { readOnnxModelInfo } from '../format/onnx-metadata.ts';
import { PolicySpecError, SPEC_METADATA_KEY, parsePolicySpec, type PolicySpec } from '../format/spec.ts';
import { ModelLoadError, NonFiniteActionError, NonFiniteObservationError, ObservationSizeError, OnnxRuntimeUnavailableError } from './errors.ts';
import { PolicySession, float32Tensor, requireSynchronousBinding } from './ort-session.ts';
import { Rng } from '../core/rng.ts';

/** Options of {@link PolicyRuntime.load}. */
export interface PolicyRuntimeOptions {
  /** Seed of the runtime's Gaussian noise generator (default 0). */
  seed?: number;
  /** Feed zero noise: the policy's deterministic (mode) action. */
  deterministic?: boolean;
  /** Model runs at load, before the first `act` (default 50; 0 = none). */
  warmupRuns?: number;
  /**
   * Accept an onnxruntime-node without the synchronous binding: `act` then throws and `actAsync` must be used.
   * Default false: `load` fails (OnnxRuntimeUnavailableError) rather than the first `act`.
   */
  allowAsyncOnly?: boolean;
}

/**
 * An exported onestep policy (an ONNX file carrying its `onestep.spec`) ready to act: one synchronous
 * `act(observation) → action` per control step, in the units and order the spec names. Load with
 * {@link PolicyRuntime.load}; free with {@link PolicyRuntime.close}.
 */
export class PolicyRuntime {
  /** Values `act` takes: `spec.observation.size`, in the order of `spec.observation.names`. */
  readonly observationSize: number;
  /** Values `act` returns: `spec.action.size`, in the order of `spec.action.names`. */
  readonly actionSize: number;
  /** Width of the noise input the runtime draws per call (0 for a deterministic policy graph). */
  readonly noiseSize: number;

  private readonly observation: ort.Tensor;
  private readonly noise: ort.Tensor;
  private readonly action: ort.Tensor;
  private readonly observationData: Float32Array;
  private readonly noiseData: Float32Array;
  private readonly actionData: Float32Array;
  /** What `act` returns: copied from ORT's output only once checked, so it always holds a finite action. */
  private readonly result: Float32Array;
  private readonly feeds: Record<string, ort.Tensor>;
  private readonly fetches: Record<string, ort.Tensor>;
  private rng: Rng;
  private closed = false;

  private constructor(
    /** The .onnx file this runtime was loaded from. */
    readonly path: string,
    /** The model's metadata: names, normalisation, action mode, scale and limits, provenance. */
    readonly spec: PolicySpec,
    private readonly session: PolicySession,
    /** True when the runtime feeds zero noise (the policy's mode action). */
    readonly deterministic: boolean,
    seed: number,
  ) {
    this.observationSize = spec.observation.size;
    this.actionSize = spec.action.size;
    this.noiseSize = spec.noise.size;
    this.observation = float32Tensor([1, this.observationSize]);
    this.noise = float32Tensor([1, this.noiseSize]);
    this.action = float32Tensor([1, this.actionSize]);
    this.observationData = this.observation.data as Float32Array;
    this.noiseData = this.noise.data as Float32Array;
    this.actionData = this.action.data as Float32Array;
    this.result = new Float32Array(this.actionSize);
    this.feeds = { obs: this.observation, noise: this.noise };
    this.fetches = { action: this.action };
    this.rng = new Rng(seed);
  }

  /**
   * Loads an exported policy. Throws ModelLoadError (naming the file) when it is missing, not an ONNX model,
   * lacks or has invalid `onestep.spec` metadata, or its inputs/outputs disagree with the spec; and
   * OnnxRuntimeUnavailableError when ONNX Runtime (or, unless `allowAsyncOnly`, its synchronous binding) cannot be
   * loaded on this machine. Every message is one line.
   *
   * @example
   * const policy = await PolicyRuntime.load('models/arm_reach/policy.onnx', { deterministic: true });
   * const action = policy.act(observation); // Float32Array of policy.actionSize, reused by the next call
   */
  static async load(path: string, opts: PolicyRuntimeOptions = {}): Promise<PolicyRuntime> {
    const seed = opts.seed ?? 0;
    if (!Number.isFinite(seed)) throw new ModelLoadError(path, `seed must be a finite number (got ${seed})`);
    const bytes = await readModelFile(path);
    const spec = readSpec(path, bytes);
    if (opts.allowAsyncOnly !== true) requireSynchronousBinding();
    let session: PolicySession;
    try {
      session = await PolicySession.open(bytes);
    } catch (err) {
      if (err instanceof OnnxRuntimeUnavailableError) throw err;
      throw new ModelLoadError(path, `ONNX Runtime rejected the model: ${firstLine((err as Error).message)}`);
    }
    try {
      checkSignature(path, session, spec);
    } catch (err) {
      session.dispose();
      throw err;
    }
    const runtime = new PolicyRuntime(path, spec, session, opts.deterministic ?? false, seed);
    try {
      await runtime.warmUp(opts.warmupRuns ?? 50);
    } catch (err) {
      runtime.close();
      throw new ModelLoadError(path, `ONNX Runtime failed to run the model: ${firstLine((err as Error).message)}`);
    }
    return runtime;
  }

  /**
   * Runs the whole `act` path on the mean observation before the first real call, so ORT's first-run allocations
   * and V8's compilation (≈ 0.5 ms here) do not land on the robot's first action. Uses a scratch noise
   * generator: the seeded noise stream is untouched, so seeded runs stay reproducible.
   */
  private async warmUp(runs: number): Promise<void> {
    const seeded = this.rng;
    this.rng = new Rng(0x5eed);
    const mean = Float32Array.from(this.spec.observation.mean);
    try {
      for (let i = 0; i < runs; i++) {
        try {
          if (this.session.synchronous) this.act(mean);
          else await this.actAsync(mean);
        } catch (err) {
          // A model that cannot act on its own mean observation still loads; `act` reports it on real input.
          if (!(err instanceof NonFiniteActionError)) throw err;
        }
      }
    } finally {
      this.rng = seeded;
      this.noiseData.fill(0);
    }
  }

  /** True when `act` runs synchronously through ONNX Runtime's native binding (the normal case). */
  get synchronous(): boolean {
    return this.session.synchronous;
  }

  /**
   * One action for one observation, in physical units (the spec's action names and order).
   * Returns a buffer owned by the runtime and overwritten by the next successful call: copy it to keep it.
   * A failed call (typed error) leaves it holding the last good action, never a non-finite one.
   */
  act(observation: Float32Array | ArrayLike<number>): Float32Array {
    this.prepare(observation);
    this.session.runSync(this.feeds, this.fetches);
    return this.checkedAction();
  }

  /** The same as `act`, for onnxruntime-node builds without the synchronous binding. */
  async actAsync(observation: Float32Array | ArrayLike<number>): Promise<Float32Array> {
    this.prepare(observation);
    await this.session.run(this.feeds, this.fetches);
    return this.checkedAction();
  }

  /** Frees the ONNX Runtime session; `act` throws afterwards. Calling it twice is harmless. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.session.dispose();
  }

  private prepare(observation: Float32Array | ArrayLike<number>): void {
    if (this.closed) throw new Error(`policy runtime for ${this.path} is closed`);
    if (observation.length !== this.observationSize) throw new ObservationSizeError(this.observationSize, observation.length);
    const obs = this.observationData;
    for (let i = 0; i < obs.length; i++) {
      obs[i] = observation[i];
      // Checked after the float32 store, so a double too large for float32 (→ Infinity) is rejected too.
      if (!Number.isFinite(obs[i])) throw new NonFiniteObservationError(i, observation[i], this.spec.observation.names[i]);
    }
    if (!this.deterministic) this.rng.fillNormal(this.noiseData);
  }

  private checkedAction(): Float32Array {
    const a = this.actionData;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) throw new NonFiniteActionError(i, a[i], this.spec.action.names[i]);
    }
    this.result.set(a);
    return this.result;
  }
}

/**
 * The spec an exported policy carries (observation and action names, sizes, normalisation, action mode, scale and
 * limits, provenance), read from the ONNX file's metadata without starting ONNX Runtime. Throws ModelLoadError
 * (naming the file) when it is missing, not an ONNX model, or lacks valid `onestep.spec` metadata.
 */
export async function readModelSpec(path: string): Promise<PolicySpec> {
  return readSpec(path, await readModelFile(path));
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelLoadError(path, code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, expected an .onnx file' : (err as Error).message);
  }
}

function readSpec(path: string, bytes: Uint8Array): PolicySpec {
  let metadata: ReadonlyMap<string, string>;
  try {
    metadata = readOnnxModelInfo(bytes).metadata;
  } catch (err) {
    throw new ModelLoadError(path, `not a valid ONNX model (${firstLine((err as Error).message)})`);
  }
  const json = metadata.get(SPEC_METADATA_KEY);
  if (json === undefined) {
    throw new ModelLoadError(path, `no '${SPEC_METADATA_KEY}' metadata; export the policy with \`onestep export\``);
  }
  try {
    return parsePolicySpec(json, path);
  } catch (err) {
    if (err instanceof PolicySpecError) throw new ModelLoadError(path, `invalid '${SPEC_METADATA_KEY}' metadata: ${err.detail}`);
    throw err;
  }
}

/**
 * The graph must take obs [N|1, obs] and noise [N|1, noise] and give action [N|1, act], all float32. A symbolic
 * width is accepted here; the warm-up runs at load then prove the real shapes.
 */
function checkSignature(path: string, session: PolicySession, spec: PolicySpec): void {
  const want = (list: typeof session.inputs, name: string, width: number, what: string) => {
    const v = list.find((x) => x.name === name);
    const ok = v && v.elementType === 'float32' && v.dims.length === 2 && (v.dims[0] === -1 || v.dims[0] === 1) && (v.dims[1] === width || v.dims[1] === -1);
    if (!ok) {
      const got = v ? `${v.elementType} [${v.dims.map((d) => (d < 0 ? 'N' : d)).join(', ')}]` : 'missing';
      throw new ModelLoadError(path, `${what} '${name}' must be float32 [N, ${width}] as the spec says (got ${got})`);
    }
  };
  want(session.inputs, 'obs', spec.observation.size, 'input');
  want(session.inputs, 'noise', spec.noise.size, 'input');
  want(session.outputs, 'action', spec.action.size, 'output');
  if (session.inputs.length !== 2) throw new ModelLoadError(path, `expected exactly the inputs obs and noise (got ${session.inputs.map((i) => i.name).join(', ')})`);
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}
