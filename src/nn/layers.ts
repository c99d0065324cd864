// Layers as data: each layer is a plain record over tf.Variable weights. Three interpreters walk the same list:
// the TF.js forward below (training), the tangent/JVP pass (src/nn/jvp.ts) and the ONNX exporter (src/export/onnx.ts).
import * as tf from '@tensorflow/tfjs-core';
import { dense } from './dense.ts';
import { denseLayerNorm, layerNorm } from './layernorm.ts';


export const ACTIVATIONS = ['relu', 'silu', 'gelu_tanh', 'mish', 'tanh'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** y = x·kernel + bias, kernel [in, out]. */
export interface DenseLayer {
  readonly kind: 'dense';
  readonly name: string;
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
}

/** Per-row LayerNorm over the last axis: y = (x - mean) / sqrt(var + epsilon) ⊙ gamma + beta (ONNX LayerNormalization). */
export interface LayerNormLayer {
  readonly kind: 'layernorm';
  readonly name: string;
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly epsilon: number;
}

export interface ActivationLayer {
  readonly kind: 'activation';
  readonly name: string;
  readonly fn: Activation;
}

export type Layer = DenseLayer | LayerNormLayer | ActivationLayer;

/** GELU tanh approximation constant sqrt(2/π). */
export const GELU_K = Math.sqrt(2 / Math.PI);
export const GELU_C = 0.044715;

export function applyActivation(fn: Activation, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (fn) {
      case 'relu':
        return tf.relu(x);
      case 'tanh':
        return tf.tanh(x);
      case 'silu':
        return tf.mul(x, tf.sigmoid(x));
      case 'mish':
        return tf.mul(x, tf.tanh(tf.softplus(x)));
      case 'gelu_tanh': {
        const inner = tf.mul(GELU_K, tf.add(x, tf.mul(GELU_C, tf.mul(x, tf.mul(x, x)))));
        return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
      }
    }
  });
}

export function applyLayer(layer: Layer, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (layer.kind) {
      case 'dense':
        return dense(x as tf.Tensor2D, layer.kernel as tf.Tensor2D, layer.bias);
      case 'layernorm':
        return layerNorm(x, layer.gamma, layer.beta, layer.epsilon);
      case 'activation':
        return applyActivation(layer.fn, x);
    }
  });
}

/**
 * Runs `layers` in order. `onLayer` (optional) sees every layer's input and output, e.g. to keep pre-activations
 * for a tangent pass; the tensors it receives are disposed with the surrounding tidy unless it keeps them.
 */
export function runLayers(
  layers: readonly Layer[],
  x: tf.Tensor,
  onLayer?: (index: number, layer: Layer, input: tf.Tensor, output: tf.Tensor) => void,
): tf.Tensor {
  let h = x;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    const next = layers[i + 1];
    // Dense or LayerNorm followed by relu/tanh runs as one fused kernel (one backward kernel too) when nobody
    // watches layers.
    const fusable = !onLayer && next?.kind === 'activation' && (next.fn === 'relu' || next.fn === 'tanh') ? next.fn : null;
    if (!onLayer && layer.kind === 'dense' && next?.kind === 'layernorm') {
      // Dense → LayerNorm (→ relu/tanh): without a tape, one kernel that skips the intermediate.
      const after = layers[i + 2];
      const act = after?.kind === 'activation' && (after.fn === 'relu' || after.fn === 'tanh') ? after.fn : null;
      h = denseLayerNorm(h as tf.Tensor2D, layer.kernel as tf.Tensor2D, layer.bias, next.gamma, next.beta, next.epsilon, act ?? 'linear');
      i += act ? 2 : 1;
      continue;
    }
    if (fusable && layer.kind === 'dense') {
      h = dense(h as tf.Tensor2D, layer.kernel as tf.Tensor2D, layer.bias, fusable);
      i++;
      continue;
    }
    if (fusable && layer.kind === 'layernorm') {
      h = layerNorm(h, layer.gamma, layer.beta, layer.epsilon, fusable);
      i++;
      continue;
    }
    const out = applyLayer(layer, h);
    onLayer?.(i, layer, h, out);
    h = out;
  }
  return h;
}

/** PyTorch's default Linear init U(-1/√fan_in, 1/√fan_in) (CleanRL's SAC uses it); `zero` for the MeanFlow output. */
export function denseLayer(name: string, fanIn: number, fanOut: number, init: 'uniform' | 'zero', seed: number): DenseLayer {
  const bound = 1 / Math.sqrt(fanIn);
  const kernel = init === 'zero' ? tf.zeros([fanIn, fanOut]) : tf.randomUniform([fanIn, fanOut], -bound, bound, 'float32', seed);
  const bias = init === 'zero' ? tf.zeros([fanOut]) : tf.randomUniform([fanOut], -bound, bound, 'float32', seed + 1);
  return { kind: 'dense', name, kernel: variableFrom(kernel), bias: variableFrom(bias) };
}

export function layerNormLayer(name: string, size: number, epsilon = 1e-5): LayerNormLayer {
  return {
    kind: 'layernorm',
    name,
    gamma: variableFrom(tf.ones([size])),
    beta: variableFrom(tf.zeros([size])),
    epsilon,
  };
}

/** A variable that owns `initial` (the initial tensor is released). */
export function variableFrom(initial: tf.Tensor, trainable = true): tf.Variable {
  const v = tf.variable(initial, trainable);
  initial.dispose();
  return v;
}

/**
 * The weights of a layer list keyed by stable names `<layer>/<weight>` (checkpoints and the exporter use them).
 * tf.Variable's own names are left automatic because TF.js requires them to be unique per process, and a trainer
 * holds several copies of a network (old policy, target).
 */
export function layerWeights(layers: readonly Layer[]): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const l of layers) {
    if (l.kind === 'dense') out.set(`${l.name}/kernel`, l.kernel).set(`${l.name}/bias`, l.bias);
    else if (l.kind === 'layernorm') out.set(`${l.name}/gamma`, l.gamma).set(`${l.name}/beta`, l.beta);
  }
  return out;
}
