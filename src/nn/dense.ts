// dense(x, W, b, activation) = activation(x·W + b), the building block of every MLP we train.
// On the cpu-blas backend it is one forward kernel (sgemm onto the bias, activation in SIMD) and a backward
// pass that computes dz once and then only the gradients TF.js asks for (see kernels/dense.ts); elsewhere it is
// composed from TF.js ops, with explicit transposes on wasm where transposed matMul is ~10× slower.
import * as tf from '@tensorflow/tfjs-core';
import { DENSE_ACTIVATIONS, DENSE_BIAS_GRAD_KERNEL, DENSE_GRAD_KERNEL, DENSE_KERNEL, type DenseActivation } from './kernels/dense.ts';

export { DENSE_ACTIVATIONS, type DenseActivation };

export class DenseShapeError extends Error {
  override name = 'DenseShapeError';
}

let gradientRegistered = false;

/** Registers the backward pass of the fused dense kernel (once per process; gradients are backend-independent). */
export function registerDenseGradient(): void {
  if (gradientRegistered || tf.getGradient(DENSE_KERNEL) != null) {
    gradientRegistered = true;
    return;
  }
  tf.registerGradient({
    kernelName: DENSE_KERNEL,
    inputsToSave: ['x', 'W'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, W, y] = saved;
      // dz now (it lives until tf.grads' scope ends); each parameter's gradient only if TF.js asks for it,
      // which it does only on a path to what is differentiated (an observation batch needs no dx).
      const dz = (attrs as { activation: string }).activation === 'linear'
        ? dy as tf.Tensor2D
        : tf.engine().runKernel(DENSE_GRAD_KERNEL, { dy: dy as tf.Tensor, y }, attrs) as tf.Tensor2D;
      return {
        x: () => tf.matMul(dz, W as tf.Tensor2D, false, true),
        W: () => tf.matMul(x as tf.Tensor2D, dz, true, false),
        b: () => tf.engine().runKernel(DENSE_BIAS_GRAD_KERNEL, { dz }) as tf.Tensor,
      };
    },
  });
  gradientRegistered = true;
}

function checkShapes(x: tf.Tensor, W: tf.Tensor, b: tf.Tensor, activation: string): void {
  if (x.rank !== 2) throw new DenseShapeError(`dense: input must be [batch, features], got shape [${x.shape}]`);
  if (W.rank !== 2 || W.shape[0] !== x.shape[1]) {
    throw new DenseShapeError(`dense: weight must be [${x.shape[1]}, out] for input [${x.shape}], got [${W.shape}]`);
  }
  if (b.size !== W.shape[1]) throw new DenseShapeError(`dense: bias must have ${W.shape[1]} values, got shape [${b.shape}]`);
  if (!(DENSE_ACTIVATIONS as readonly string[]).includes(activation)) {
    throw new DenseShapeError(`dense: activation must be one of ${DENSE_ACTIVATIONS.join(', ')}, got "${activation}"`);
  }
  if (x.dtype !== 'float32' || W.dtype !== 'float32' || b.dtype !== 'float32') {
    throw new DenseShapeError(`dense: tensors must be float32, got ${x.dtype}, ${W.dtype}, ${b.dtype}`);
  }
}

function activate(z: tf.Tensor2D, activation: DenseActivation): tf.Tensor2D {
  if (activation === 'relu') return tf.relu(z);
  if (activation === 'tanh') return tf.tanh(z);
  return z;
}

// wasm: the gradient with explicit transposes, because XNNPACK only has a fast non-transposed matmul.
const denseExplicitTransposes = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, W, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const z = tf.add(tf.matMul(x as tf.Tensor2D, W as tf.Tensor2D), b) as tf.Tensor2D;
  save([x, W]);
  return {
    value: z,
    gradFunc: (dy: tf.Tensor, [xs, Ws]: tf.Tensor[]) => [
      tf.matMul(dy as tf.Tensor2D, tf.transpose(Ws as tf.Tensor2D)),
      tf.matMul(tf.transpose(xs as tf.Tensor2D), dy as tf.Tensor2D),
      tf.sum(dy, 0),
    ],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** activation(x·W + b) for x [batch, in], W [in, out], b [out]. */
export function dense(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D | tf.Tensor, activation: DenseActivation = 'linear'): tf.Tensor2D {
  checkShapes(x, W, b, activation);
  const backendName = tf.getBackend();
  if (tf.getKernel(DENSE_KERNEL, backendName) != null) {
    registerDenseGradient();
    return tf.engine().runKernel(DENSE_KERNEL, { x, W, b }, { activation }) as tf.Tensor2D;
  }
  if (backendName === 'wasm') return tf.tidy(() => activate(denseExplicitTransposes(x, W, b) as tf.Tensor2D, activation));
  return tf.tidy(() => activate(tf.add(tf.matMul(x, W), b) as tf.Tensor2D, activation));
}

/**
 * dy ⊙ act'(·), read from the activation's output y (relu: [y > 0], tanh: 1 − y²): the first step of the dense
 * gradient, and the tangent through an activation in the forward-mode JVP. One kernel on cpu-blas (no gradient
 * of its own: for the JVP, which runs outside any tape); composed ops elsewhere.
 */
export function activationSlopeTimes(y: tf.Tensor, dy: tf.Tensor, activation: 'relu' | 'tanh'): tf.Tensor {
  if (!y.shape.every((d, i) => d === dy.shape[i]) || y.rank !== dy.rank) {
    throw new DenseShapeError(`activationSlopeTimes: y [${y.shape}] and dy [${dy.shape}] must have one shape`);
  }
  if (tf.getKernel(DENSE_GRAD_KERNEL, tf.getBackend()) != null && y.dtype === 'float32' && dy.dtype === 'float32') {
    return tf.engine().runKernel(DENSE_GRAD_KERNEL, { dy, y }, { activation }) as tf.Tensor;
  }
  return tf.tidy(() => tf.mul(activation === 'relu' ? tf.step(y) : tf.sub(1, tf.square(y)), dy));
}
