// layerNorm(x, γ, β, ε, activation) = activation((x − mean) / √(var + ε) ⊙ γ + β) over the last axis.
// On the cpu-blas backend it is one forward kernel and one backward kernel that yields dx, dγ and dβ together
// (see kernels/layernorm.ts); elsewhere (wasm, stock cpu, tfjs-node) it is composed from TF.js ops, whose own
// gradients apply. Its forward-mode JVP (value and tangent together) is one more kernel on cpu-blas.
import * as tf from '@tensorflow/tfjs-core';
import { DENSE_LAYER_NORM_KERNEL, LAYER_NORM_ACTIVATIONS, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_JVP_KERNEL, LAYER_NORM_KERNEL, type LayerNormActivation } from './kernels/layernorm.ts';
import { dense } from './dense.ts';

export { LAYER_NORM_ACTIVATIONS, type LayerNormActivation };

export class LayerNormShapeError extends Error {
  override name = 'LayerNormShapeError';
}

/** The normalised output with the per-row statistics it used (both [..., 1]): what the JVP needs. */
export type LayerNormWithStats = { value: tf.Tensor; mean: tf.Tensor; rstd: tf.Tensor };

let gradientRegistered = false;

/** Registers the backward pass of the fused LayerNorm kernel (once per process; gradients are backend-independent). */
export function registerLayerNormGradient(): void {
  if (gradientRegistered || tf.getGradient(LAYER_NORM_KERNEL) != null) {
    gradientRegistered = true;
    return;
  }
  tf.registerGradient({
    kernelName: LAYER_NORM_KERNEL,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [true, true, true],
    gradFunc: (dys, saved, attrs) => {
      // The engine passes zeros for outputs nobody differentiated (usually mean and rstd).
      const [dy, dmean, drstd] = dys as tf.Tensor[];
      const [x, gamma, y, mean, rstd] = saved;
      // One kernel for all three now (they live until tf.grads' scope ends); TF.js then takes the ones on
      // a path to what is differentiated: the actor's loss through a critic takes dx but not the critic's dγ, dβ.
      const [dx, dgamma, dbeta] = tf.engine().runKernel(LAYER_NORM_GRAD_KERNEL, { dy, dmean, drstd, x, gamma, y, mean, rstd }, attrs) as tf.Tensor[];
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });
  gradientRegistered = true;
}

/** Checks layerNorm's arguments for an input of `x`'s shape and dtype. */
function checkShapes(x: { shape: readonly number[]; dtype: string }, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, activation: string): void {
  const n = x.shape[x.shape.length - 1];
  if (x.shape.length < 1 || !(n > 0)) throw new LayerNormShapeError(`layerNorm: input must have a non-empty last axis, got shape [${x.shape}]`);
  if (gamma.size !== n || gamma.rank !== 1) throw new LayerNormShapeError(`layerNorm: gamma must be [${n}] for input [${x.shape}], got [${gamma.shape}]`);
  if (beta.size !== n || beta.rank !== 1) throw new LayerNormShapeError(`layerNorm: beta must be [${n}] for input [${x.shape}], got [${beta.shape}]`);
  if (!(epsilon >= 0) || !Number.isFinite(epsilon)) throw new LayerNormShapeError(`layerNorm: epsilon must be a finite number ≥ 0, got ${epsilon}`);
  if (!(LAYER_NORM_ACTIVATIONS as readonly string[]).includes(activation)) {
    throw new LayerNormShapeError(`layerNorm: activation must be one of ${LAYER_NORM_ACTIVATIONS.join(', ')}, got "${activation}"`);
  }
  if (x.dtype !== 'float32' || gamma.dtype !== 'float32' || beta.dtype !== 'float32') {
    throw new LayerNormShapeError(`layerNorm: tensors must be float32, got ${x.dtype}, ${gamma.dtype}, ${beta.dtype}`);
  }
}

function activate(z: tf.Tensor, activation: LayerNormActivation): tf.Tensor {
  if (activation === 'relu') return tf.relu(z);
  if (activation === 'tanh') return tf.tanh(z);
  return z;
}

/** The fused kernel where the backend has it, else null. */
function fused(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, activation: LayerNormActivation): tf.Tensor[] | null {
  if (tf.getKernel(LAYER_NORM_KERNEL, tf.getBackend()) == null) return null;
  registerLayerNormGradient(); // before the kernel runs: the engine reads it to know what to save for backprop
  return tf.engine().runKernel(LAYER_NORM_KERNEL, { x, gamma, beta }, { epsilon, activation }) as tf.Tensor[];
}

/** LayerNorm over the last axis, then `activation`; gamma and beta are [features]. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, activation: LayerNormActivation = 'linear'): tf.Tensor {
  const { value, mean, rstd } = layerNormWithStats(x, gamma, beta, epsilon, activation);
  tf.dispose([mean, rstd]); // the tape keeps its own references for the backward pass
  return value;
}

/** layerNorm (linear) plus the mean and 1/√(var + ε) of every row it normalised with. */
export function layerNormWithStats(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, activation: LayerNormActivation = 'linear'): LayerNormWithStats {
  checkShapes(x, gamma, beta, epsilon, activation);
  const out = fused(x, gamma, beta, epsilon, activation);
  if (out) return { value: out[0], mean: out[1], rstd: out[2] };
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), epsilon));
    return { value: activate(tf.add(tf.mul(tf.mul(centred, rstd), gamma), beta), activation), mean, rstd };
  });
}

/**
 * The forward-mode JVP of layerNorm(x, γ, β, ε, activation) along ẋ: { value, tangent }. value is what layerNorm
 * returns; tangent = act'(·) ⊙ γ ⊙ (ẋ_c − x̂·mean(x̂ ⊙ ẋ_c)) / √(var + ε), ẋ_c = ẋ − mean(ẋ). One kernel on cpu-blas
 * (it has no gradient: JVPs here run outside any tape); composed ops elsewhere.
 */
export function layerNormJvp(x: tf.Tensor, xDot: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number,
  activation: LayerNormActivation = 'linear'): { value: tf.Tensor; tangent: tf.Tensor } {
  checkShapes(x, gamma, beta, epsilon, activation);
  if (xDot.rank !== x.rank || !xDot.shape.every((d, i) => d === x.shape[i]) || xDot.dtype !== 'float32') {
    throw new LayerNormShapeError(`layerNormJvp: the tangent must be float32 [${x.shape}] like the input, got ${xDot.dtype} [${xDot.shape}]`);
  }
  if (tf.getKernel(LAYER_NORM_JVP_KERNEL, tf.getBackend()) != null) {
    const [value, tangent] = tf.engine().runKernel(LAYER_NORM_JVP_KERNEL, { x, xDot, gamma, beta }, { epsilon, activation }) as tf.Tensor[];
    return { value, tangent };
  }
  return tf.tidy(() => {
    const { value, mean, rstd } = layerNormWithStats(x, gamma, beta, epsilon, activation);
    const normed = tf.mul(tf.sub(x, mean), rstd);
    const centredDot = tf.sub(xDot, tf.mean(xDot, -1, true));
    const normedDot = tf.mul(tf.sub(centredDot, tf.mul(normed, tf.mean(tf.mul(normed, centredDot), -1, true))), rstd);
    let tangent = tf.mul(normedDot, gamma);
    if (activation === 'relu') tangent = tf.mul(tf.step(value), tangent);
    else if (activation === 'tanh') tangent = tf.mul(tf.sub(1, tf.square(value)), tangent);
    return { value, tangent };
  });
}

/**
 * activation(layerNorm(x·W + b)) for x [batch, in]. On cpu-blas, while no gradient is being recorded, one kernel
 * without the intermediate x·W + b (a target critic, best-of-N candidates, acting); otherwise dense, then
 * layerNorm (their backward passes need the intermediate).
 */
export function denseLayerNorm(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number,
  activation: LayerNormActivation = 'linear'): tf.Tensor2D {
  const fusedHere = !tf.engine().isTapeOn() && tf.getKernel(DENSE_LAYER_NORM_KERNEL, tf.getBackend()) != null &&
    x.rank === 2 && W.rank === 2 && W.shape[0] === x.shape[1] && b.size === W.shape[1] && x.dtype === 'float32' && W.dtype === 'float32' && b.dtype === 'float32';
  if (!fusedHere) return tf.tidy(() => layerNorm(dense(x, W, b), gamma, beta, epsilon, activation) as tf.Tensor2D);
  checkShapes({ shape: [x.shape[0], W.shape[1]], dtype: 'float32' }, gamma, beta, epsilon, activation);
  return tf.engine().runKernel(DENSE_LAYER_NORM_KERNEL, { x, W, b, gamma, beta }, { epsilon, activation }) as tf.Tensor2D;
}
