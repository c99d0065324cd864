// Optimiser API the algorithms use: Adam (PyTorch's formulation: bias correction, epsilon outside the square
// root, optional decoupled weight decay, global-norm clipping and a learning-rate schedule) and Polyak/hard
// target updates. On the cpu-blas backend they write the parameters' buffers in place: Adam as one fused
// WebAssembly SIMD pass per parameter (a JS loop without SIMD), Polyak as OpenBLAS sscal + saxpy; on any other
// backend the same arithmetic runs as TF.js ops.
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { CPU_BLAS_BACKEND, cpuBlas } from './kernels/index.ts';
import { SimdArena, round4, simdModule } from './kernels/simd.ts';

export class OptimizerError extends Error {
  override name = 'OptimizerError';
}

export interface AdamOptions {
  /** A constant, or a schedule of the 1-based update count. */
  learningRate: number | ((step: number) => number);
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Rescale all gradients together so their global L2 norm is at most this (off when undefined). */
  clipGlobalNorm?: number;
  /** Decoupled weight decay (AdamW); 0 = plain Adam. */
  weightDecay?: number;
}

export interface AdamStepInfo {
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number;
  /** Learning rate used for this update. */
  learningRate: number;
}

/** Serializable optimiser state, for checkpoints. */
export interface AdamState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

type CpuRecord = { values: Float32Array; refCount: number };

/** True when in-place updates can write the parameters' cpu-backend buffers directly. */
function inPlaceAvailable(): boolean {
  return tf.getBackend() === CPU_BLAS_BACKEND;
}

function cpuBackend(): MathBackendCPU {
  return tf.engine().backend as unknown as MathBackendCPU;
}

// The buffer each variable had when we last made it private. A different dataId means the variable was
// assigned since (from a tensor or array someone else may still hold), so it gets a private copy again.
const ownedData = new WeakMap<tf.Variable, object>();

/**
 * The buffer behind a variable, safe to write in place: the first time we write a variable, and whenever it
 * was assigned since or another tensor shares its data (a clone, a reshape), it is first given a private copy,
 * so the write reaches nothing else. Caveat: on the cpu backends `dataSync()` returns this buffer itself, so a
 * parameter's `dataSync()` array is live; `.slice()` it to keep a snapshot.
 */
export function writableValues(v: tf.Variable): Float32Array {
  const backend = cpuBackend();
  let record = backend.data.get(v.dataId) as unknown as CpuRecord;
  if (record.refCount > 1 || ownedData.get(v) !== v.dataId) {
    const own = tf.tensor(record.values.slice(), v.shape, 'float32');
    v.assign(own);
    own.dispose();
    ownedData.set(v, v.dataId);
    record = backend.data.get(v.dataId) as unknown as CpuRecord;
  }
  return record.values;
}

function readValues(t: tf.Tensor): Float32Array {
  return (cpuBackend().data.get(t.dataId) as unknown as CpuRecord).values;
}

function checkVariables(params: readonly tf.Variable[], what: string): void {
  if (params.length === 0) throw new OptimizerError(`${what}: no variables given`);
  for (const p of params) {
    if (p.dtype !== 'float32') throw new OptimizerError(`${what}: variable ${p.name} must be float32, got ${p.dtype}`);
  }
}

export class Adam {
  readonly params: readonly tf.Variable[];
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly clipGlobalNorm: number | undefined;
  private readonly weightDecay: number;
  private readonly schedule: (step: number) => number;
  private readonly inPlace: boolean;
  private readonly backendName: string;
  private t = 0;
  // In-place path: moments as views into this optimiser's SIMD arena (or plain arrays without SIMD),
  // plus two staging regions for a parameter and its gradient. TF.js path: moments as variables.
  private readonly arena: SimdArena | null = null;
  private readonly mAt: number[] = [];
  private readonly vAt: number[] = [];
  private stageP = 0;
  private stageG = 0;
  private readonly m: Float32Array[] = [];
  private readonly v: Float32Array[] = [];
  private readonly mVar: tf.Variable[] = [];
  private readonly vVar: tf.Variable[] = [];

  constructor(params: readonly tf.Variable[], opts: AdamOptions) {
    checkVariables(params, 'Adam');
    this.params = [...params];
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-8;
    this.clipGlobalNorm = opts.clipGlobalNorm;
    this.weightDecay = opts.weightDecay ?? 0;
    const lr = opts.learningRate;
    this.schedule = typeof lr === 'function' ? lr : () => lr;
    if (!(this.beta1 >= 0 && this.beta1 < 1) || !(this.beta2 >= 0 && this.beta2 < 1)) {
      throw new OptimizerError(`Adam: beta1 and beta2 must be in [0, 1), got ${this.beta1}, ${this.beta2}`);
    }
    if (!(this.epsilon > 0)) throw new OptimizerError(`Adam: epsilon must be > 0, got ${this.epsilon}`);
    if (this.clipGlobalNorm !== undefined && !(this.clipGlobalNorm > 0)) {
      throw new OptimizerError(`Adam: clipGlobalNorm must be > 0, got ${this.clipGlobalNorm}`);
    }
    this.inPlace = inPlaceAvailable();
    this.backendName = tf.getBackend();
    const module = this.inPlace ? simdModule() : null;
    if (module) {
      this.arena = new SimdArena(module);
      let at = 0;
      for (const p of this.params) {
        this.mAt.push(at);
        this.vAt.push(at + round4(p.size));
        at += 2 * round4(p.size);
      }
      const largest = round4(Math.max(...this.params.map((p) => p.size)));
      [this.stageP, this.stageG] = [at, at + largest];
      this.arena.reserve(at + 2 * largest); // once: the views below stay valid
    }
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      if (this.arena) {
        this.m.push(this.arena.region(this.mAt[i], p.size));
        this.v.push(this.arena.region(this.vAt[i], p.size));
      } else if (this.inPlace) {
        this.m.push(new Float32Array(p.size));
        this.v.push(new Float32Array(p.size));
      } else {
        this.mVar.push(tf.variable(tf.zeros(p.shape), false));
        this.vVar.push(tf.variable(tf.zeros(p.shape), false));
      }
    }
  }

  /** Number of updates applied so far. */
  get step(): number {
    return this.t;
  }

  /** Applies one update from gradients aligned with `params` (an array, or a map keyed by variable name). */
  apply(grads: readonly tf.Tensor[] | tf.NamedTensorMap): AdamStepInfo {
    const list = Array.isArray(grads) ? (grads as readonly tf.Tensor[]) : this.params.map((p) => (grads as tf.NamedTensorMap)[p.name]);
    if (list.length !== this.params.length) {
      throw new OptimizerError(`Adam: expected ${this.params.length} gradients, got ${list.length}`);
    }
    for (let i = 0; i < list.length; i++) {
      const g = list[i];
      if (g == null) throw new OptimizerError(`Adam: no gradient for variable ${this.params[i].name}`);
      if (g.size !== this.params[i].size) {
        throw new OptimizerError(`Adam: gradient for ${this.params[i].name} has shape [${g.shape}], expected [${this.params[i].shape}]`);
      }
    }
    if (tf.getBackend() !== this.backendName) {
      throw new OptimizerError(`Adam was created on backend ${this.backendName} but ${tf.getBackend()} is active; create optimisers after initBackend()`);
    }
    const learningRate = this.schedule(this.t + 1);
    if (!Number.isFinite(learningRate) || learningRate < 0) {
      throw new OptimizerError(`Adam: learning rate must be a finite number >= 0, got ${learningRate} at step ${this.t + 1}`);
    }
    this.t += 1;
    return this.inPlace ? this.applyInPlace(list, learningRate) : this.applyOps(list, learningRate);
  }

  /** Computes the gradients of `loss` w.r.t. the parameters, applies them, and returns the loss value. */
  minimize(loss: () => tf.Scalar): number {
    const { value, grads } = tf.variableGrads(loss, this.params as tf.Variable[]);
    try {
      this.apply(grads);
      return value.dataSync()[0];
    } finally {
      value.dispose();
      tf.dispose(grads);
    }
  }

  private applyInPlace(grads: readonly tf.Tensor[], lr: number): AdamStepInfo {
    const gv = grads.map(readValues);
    const blas = cpuBlas();
    let sq = 0;
    for (const g of gv) {
      if (blas) sq += blas.sdot(g.length, g, g);
      else for (let j = 0; j < g.length; j++) sq += g[j] * g[j];
    }
    const gradNorm = Math.sqrt(sq);
    if (!Number.isFinite(gradNorm)) throw new OptimizerError(`Adam: non-finite gradient (global norm ${gradNorm}); parameters left unchanged`);
    const scale = this.clipGlobalNorm !== undefined && gradNorm > this.clipGlobalNorm ? this.clipGlobalNorm / gradNorm : 1;
    const b1 = this.beta1, b2 = this.beta2, eps = this.epsilon;
    const stepSize = lr / (1 - b1 ** this.t);
    const invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** this.t);
    const decay = 1 - lr * this.weightDecay;
    if (this.arena) {
      const arena = this.arena;
      for (let i = 0; i < this.params.length; i++) {
        const p = writableValues(this.params[i] as tf.Variable), n = p.length;
        const staged = arena.region(this.stageP, n);
        staged.set(p);
        arena.region(this.stageG, n).set(gv[i]);
        arena.adam(this.stageP, this.stageG, this.mAt[i], this.vAt[i], n, b1, b2, stepSize, invSqrtBc2, eps, scale, decay);
        p.set(staged);
      }
      return { gradNorm, learningRate: lr };
    }
    for (let i = 0; i < this.params.length; i++) {
      const p = writableValues(this.params[i] as tf.Variable), g = gv[i], m = this.m[i], v = this.v[i];
      for (let j = 0; j < p.length; j++) {
        const gj = g[j] * scale;
        const mj = b1 * m[j] + (1 - b1) * gj;
        const vj = b2 * v[j] + (1 - b2) * gj * gj;
        m[j] = mj;
        v[j] = vj;
        p[j] = p[j] * decay - stepSize * mj / (Math.sqrt(vj) * invSqrtBc2 + eps);
      }
    }
    return { gradNorm, learningRate: lr };
  }

  private applyOps(grads: readonly tf.Tensor[], lr: number): AdamStepInfo {
    const b1 = this.beta1, b2 = this.beta2, eps = this.epsilon;
    const stepSize = lr / (1 - b1 ** this.t);
    const sqrtBc2 = Math.sqrt(1 - b2 ** this.t);
    const gradNorm = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))).dataSync()[0]);
    if (!Number.isFinite(gradNorm)) throw new OptimizerError(`Adam: non-finite gradient (global norm ${gradNorm}); parameters left unchanged`);
    const scale = this.clipGlobalNorm !== undefined && gradNorm > this.clipGlobalNorm ? this.clipGlobalNorm / gradNorm : 1;
    tf.tidy(() => {
      for (let i = 0; i < this.params.length; i++) {
        const p = this.params[i] as tf.Variable, g = tf.mul(grads[i].reshape(p.shape), scale);
        const m = tf.add(tf.mul(this.mVar[i], b1), tf.mul(g, 1 - b1));
        const v = tf.add(tf.mul(this.vVar[i], b2), tf.mul(tf.square(g), 1 - b2));
        this.mVar[i].assign(m);
        this.vVar[i].assign(v);
        const decayed = this.weightDecay ? tf.mul(p, 1 - lr * this.weightDecay) : p;
        p.assign(tf.sub(decayed, tf.div(tf.mul(m, stepSize), tf.add(tf.div(tf.sqrt(v), sqrtBc2), eps))));
      }
    });
    return { gradNorm, learningRate: lr };
  }

  /** A copy of the step count and moments (for checkpoints). */
  getState(): AdamState {
    return {
      step: this.t,
      m: this.inPlace ? this.m.map((a) => a.slice()) : this.mVar.map((a) => a.dataSync().slice() as Float32Array),
      v: this.inPlace ? this.v.map((a) => a.slice()) : this.vVar.map((a) => a.dataSync().slice() as Float32Array),
    };
  }

  /** Restores a state from getState(); sizes must match the parameters. */
  setState(state: AdamState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new OptimizerError(`Adam state: step must be an integer >= 0, got ${state.step}`);
    if (state.m.length !== this.params.length || state.v.length !== this.params.length) {
      throw new OptimizerError(`Adam state: expected moments for ${this.params.length} variables, got ${state.m.length} and ${state.v.length}`);
    }
    for (let i = 0; i < this.params.length; i++) {
      if (state.m[i].length !== this.params[i].size || state.v[i].length !== this.params[i].size) {
        throw new OptimizerError(`Adam state: moments of ${this.params[i].name} must have ${this.params[i].size} values`);
      }
    }
    this.t = state.step;
    for (let i = 0; i < this.params.length; i++) {
      if (this.inPlace) {
        this.m[i].set(state.m[i]);
        this.v[i].set(state.v[i]);
      } else {
        tf.tidy(() => {
          this.mVar[i].assign(tf.tensor(state.m[i], this.params[i].shape));
          this.vVar[i].assign(tf.tensor(state.v[i], this.params[i].shape));
        });
      }
    }
  }

  dispose(): void {
    tf.dispose([...this.mVar, ...this.vVar]);
  }
}

function checkPairs(target: readonly tf.Variable[], source: readonly tf.Tensor[], what: string): void {
  if (target.length !== source.length) throw new OptimizerError(`${what}: ${target.length} targets but ${source.length} sources`);
  for (let i = 0; i < target.length; i++) {
    if (target[i].size !== source[i].size) {
      throw new OptimizerError(`${what}: target ${target[i].name} has shape [${target[i].shape}], source has [${source[i].shape}]`);
    }
  }
}

/** target ← (1 − tau)·target + tau·source, in place on cpu-blas. */
export function polyakUpdate(target: readonly tf.Variable[], source: readonly tf.Tensor[], tau: number): void {
  if (!(tau >= 0 && tau <= 1)) throw new OptimizerError(`polyakUpdate: tau must be in [0, 1], got ${tau}`);
  checkPairs(target, source, 'polyakUpdate');
  const blas = cpuBlas();
  if (inPlaceAvailable() && blas) {
    // Two SIMD BLAS passes (t *= 1 − tau; t += tau·s) beat one JS loop by ~3×.
    for (let i = 0; i < target.length; i++) {
      const t = writableValues(target[i]), s = readValues(source[i]);
      blas.sscal(t.length, 1 - tau, t);
      blas.saxpy(t.length, tau, s, t);
    }
    return;
  }
  tf.tidy(() => {
    for (let i = 0; i < target.length; i++) target[i].assign(tf.add(tf.mul(target[i], 1 - tau), tf.mul(source[i].reshape(target[i].shape), tau)));
  });
}

/** target ← source (a real copy: later in-place updates of either never reach the other). */
export function copyInto(target: readonly tf.Variable[], source: readonly tf.Tensor[]): void {
  checkPairs(target, source, 'copyInto');
  if (inPlaceAvailable()) {
    for (let i = 0; i < target.length; i++) writableValues(target[i]).set(readValues(source[i]));
    return;
  }
  tf.tidy(() => {
    for (let i = 0; i < target.length; i++) target[i].assign(tf.add(source[i].reshape(target[i].shape), 0));
  });
}
