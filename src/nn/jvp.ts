// Exact forward-mode JVP through a layer list: walks the same `Layer[]` as the TF.js forward and carries a
// tangent beside every activation (rules in docs/algorithms/meanflowql.md, The forward-mode JVP). TF.js only has reverse mode, and the
// MeanFlow target is stop-gradient, so this runs outside any gradient tape at about 2× a forward pass.
import * as tf from '@tensorflow/tfjs-core';
import { activationSlopeTimes, dense } from './dense.ts';
import { layerNormJvp } from './layernorm.ts';
import { GELU_C, GELU_K, type Activation, type Layer } from './layers.ts';
import { meanflowInput, timeFeaturesDerivative, type PolicyNetwork } from './policy.ts';

// A type alias (not an interface) so tf.tidy accepts it as a tensor container.
export type Dual = {
  /** The primal output. */
  value: tf.Tensor;
  /** d(value) along the input tangent. */
  tangent: tf.Tensor;
};

/** Pushes (x, ẋ) through one layer. */
export function layerJvp(layer: Layer, x: tf.Tensor, xDot: tf.Tensor): Dual {
  return tf.tidy(() => {
    switch (layer.kind) {
      case 'dense': {
        // y = xW + b  →  ẏ = ẋW (the bias is constant).
        const value = dense(x as tf.Tensor2D, layer.kernel as tf.Tensor2D, layer.bias);
        const tangent = tf.matMul(xDot as tf.Tensor2D, layer.kernel as tf.Tensor2D);
        return { value, tangent };
      }
      case 'layernorm':
        // y₀ = x_c / s, s = sqrt(var + ε)  →  ẏ₀ = (ẋ_c − y₀·mean(y₀ ⊙ ẋ_c)) / s; the affine part scales by γ. The
        // primal comes from the same code as the forward pass (one fused kernel with the tangent, where available).
        return layerNormJvp(x, xDot, layer.gamma, layer.beta, layer.epsilon);
      case 'activation': {
        if (layer.fn === 'relu' || layer.fn === 'tanh') {
          // Both slopes can be read from the output: one pass (one kernel on cpu-blas) instead of slope, then product.
          const value = layer.fn === 'relu' ? tf.relu(x) : tf.tanh(x);
          return { value, tangent: activationSlopeTimes(value, xDot, layer.fn) };
        }
        const [value, slope] = activationWithSlope(layer.fn, x);
        return { value, tangent: tf.mul(slope, xDot) };
      }
    }
  });
}

/** The activation and its element-wise derivative at x. */
function activationWithSlope(fn: Activation, x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  switch (fn) {
    case 'relu':
      return [tf.relu(x), tf.step(x)];
    case 'tanh': {
      const y = tf.tanh(x);
      return [y, tf.sub(1, tf.square(y))];
    }
    case 'silu': {
      // d/dx x·σ(x) = σ(x)(1 + x(1 − σ(x)))
      const s = tf.sigmoid(x);
      return [tf.mul(x, s), tf.mul(s, tf.add(1, tf.mul(x, tf.sub(1, s))))];
    }
    case 'mish': {
      // y = x·tanh(softplus(x))  →  y' = tanh(sp) + x(1 − tanh²(sp))σ(x)
      const t = tf.tanh(tf.softplus(x));
      return [tf.mul(x, t), tf.add(t, tf.mul(tf.mul(x, tf.sub(1, tf.square(t))), tf.sigmoid(x)))];
    }
    case 'gelu_tanh': {
      // y = ½x(1 + T), T = tanh(k(x + c·x³))  →  y' = ½(1 + T) + ½x(1 − T²)·k(1 + 3c·x²)
      const x2 = tf.square(x);
      const T = tf.tanh(tf.mul(GELU_K, tf.add(x, tf.mul(GELU_C, tf.mul(x2, x)))));
      const y = tf.mul(tf.mul(0.5, x), tf.add(1, T));
      const dInner = tf.mul(GELU_K, tf.add(1, tf.mul(3 * GELU_C, x2)));
      const slope = tf.add(tf.mul(0.5, tf.add(1, T)), tf.mul(tf.mul(tf.mul(0.5, x), tf.sub(1, tf.square(T))), dInner));
      return [y, slope];
    }
  }
}

/** Pushes (x, ẋ) through a whole layer list; returns the network output and its directional derivative. */
export function layersJvp(layers: readonly Layer[], x: tf.Tensor, xDot: tf.Tensor): Dual {
  return tf.tidy(() => {
    let h: Dual = { value: x, tangent: xDot };
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i];
      const next = layers[i + 1];
      const fusable = next?.kind === 'activation' && (next.fn === 'relu' || next.fn === 'tanh') ? next.fn : null;
      if (layer.kind === 'dense' && fusable) {
        // Dense + relu/tanh as the fused kernel; the slope is read from its output.
        const value = dense(h.value as tf.Tensor2D, layer.kernel as tf.Tensor2D, layer.bias, fusable);
        const tangent = activationSlopeTimes(value, tf.matMul(h.tangent as tf.Tensor2D, layer.kernel as tf.Tensor2D), fusable);
        h = { value, tangent };
        i++;
        continue;
      }
      if (layer.kind === 'layernorm' && fusable) {
        // LayerNorm + relu/tanh: value and tangent from one kernel, as runLayers fuses the forward.
        h = layerNormJvp(h.value, h.tangent, layer.gamma, layer.beta, layer.epsilon, fusable);
        i++;
        continue;
      }
      h = layerJvp(layer, h.value, h.tangent);
    }
    return h;
  });
}

/**
 * The MeanFlow map and its total time derivative along the conditional path, dg/dt = (∂g/∂a_t)·v + ∂g/∂t:
 * the JVP of g(s, ·, ·) at (a_t, t) with input tangents 0 for the observation, v for a_t and 1 for t (which
 * enters through φ'(t)). `t` is [B, 1]. Returns { value: g, tangent: dg/dt }, both [B, actionSize].
 */
export function meanflowJvp(policy: PolicyNetwork, observation: tf.Tensor, actionT: tf.Tensor, t: tf.Tensor, velocity: tf.Tensor): Dual {
  return tf.tidy(() => {
    const input = meanflowInput(policy, observation, actionT, t);
    const inputDot = tf.concat([tf.zerosLike(observation), velocity, timeFeaturesDerivative(policy.config, t)], 1);
    const hidden = layersJvp(policy.trunk, input, inputDot);
    return layerJvp(policy.meanHead, hidden.value, hidden.tangent);
  });
}
