// Twin Q critics with Polyak-averaged targets, shared by SAC and SMFP (clipped double-Q, Fujimoto et al.).
// Each critic is a layer list over [normalised observation, action], so checkpoints name its weights the same
// way as the policy's.
import * as tf from '@tensorflow/tfjs-core';
import { type Activation, type Layer, denseLayer, layerNormLayer, layerWeights, runLayers } from '../nn/layers.ts';
import { copyInto, polyakUpdate } from '../nn/optim.ts';

/** The twin critics' network: hidden widths, activation, LayerNorm. */
export interface CriticConfig {
  hiddenSizes: number[];
  activation: Activation;
  /** LayerNorm after each hidden Dense (MeanFlowQL/FQL critics use it; CleanRL's SAC does not). */
  layerNorm: boolean;
}

/** Two hidden layers of 256, ReLU, no LayerNorm. */
export const DEFAULT_CRITIC: CriticConfig = { hiddenSizes: [256, 256], activation: 'relu', layerNorm: false };

/** How the two heads are combined: clipped double-Q takes the min (SAC, SMFP); MeanFlowQL and FQL average them. */
export type QAggregation = 'mean' | 'min' | 'max';
export const Q_AGGREGATIONS: readonly QAggregation[] = ['mean', 'min', 'max'];

export function aggregateHeads([a, b]: [tf.Tensor, tf.Tensor], how: QAggregation): tf.Tensor {
  return tf.tidy(() => (how === 'mean' ? tf.mul(0.5, tf.add(a, b)) : how === 'min' ? tf.minimum(a, b) : tf.maximum(a, b)));
}

function qNetwork(name: string, inputSize: number, config: CriticConfig, seed: number): Layer[] {
  const layers: Layer[] = [];
  let width = inputSize;
  config.hiddenSizes.forEach((h, i) => {
    layers.push(denseLayer(`${name}/hidden${i}`, width, h, 'uniform', seed + 2 * i));
    if (config.layerNorm) layers.push(layerNormLayer(`${name}/norm${i}`, h));
    layers.push({ kind: 'activation', name: `${name}/act${i}`, fn: config.activation });
    width = h;
  });
  layers.push(denseLayer(`${name}/out`, width, 1, 'uniform', seed + 100));
  return layers;
}

export class TwinCritic {
  readonly q1: Layer[];
  readonly q2: Layer[];
  readonly target1: Layer[];
  readonly target2: Layer[];

  constructor(
    readonly observationSize: number,
    readonly actionSize: number,
    readonly config: CriticConfig,
    seed: number,
  ) {
    const n = observationSize + actionSize;
    const nets: Layer[][] = [];
    // tidy frees the random initialisers; the variables themselves survive it.
    tf.tidy(() => {
      nets.push(qNetwork('q1', n, config, seed), qNetwork('q2', n, config, seed + 1000));
      nets.push(qNetwork('q1_target', n, config, seed), qNetwork('q2_target', n, config, seed + 1000));
    });
    [this.q1, this.q2, this.target1, this.target2] = nets;
    this.hardUpdateTargets();
  }

  /** Both online heads, each [B, 1]; `observation` is already normalised. */
  values(observation: tf.Tensor, action: tf.Tensor): [tf.Tensor, tf.Tensor] {
    return tf.tidy(() => {
      const x = tf.concat([observation, action], 1);
      return [runLayers(this.q1, x), runLayers(this.q2, x)] as [tf.Tensor, tf.Tensor];
    });
  }

  /** min(Q1, Q2) of the online critics, [B, 1]. */
  minValue(observation: tf.Tensor, action: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [a, b] = this.values(observation, action);
      return tf.minimum(a, b);
    });
  }

  /** Both target heads, each [B, 1]; `observation` is already normalised. */
  targetValues(observation: tf.Tensor, action: tf.Tensor): [tf.Tensor, tf.Tensor] {
    return tf.tidy(() => {
      const x = tf.concat([observation, action], 1);
      return [runLayers(this.target1, x), runLayers(this.target2, x)] as [tf.Tensor, tf.Tensor];
    });
  }

  /** min(Q̄1, Q̄2) of the target critics, [B, 1] (the clipped double-Q backup). */
  targetMinValue(observation: tf.Tensor, action: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const x = tf.concat([observation, action], 1);
      return tf.minimum(runLayers(this.target1, x), runLayers(this.target2, x));
    });
  }

  /** Trainable weights of the online critics. */
  variables(): tf.Variable[] {
    return [...layerWeights([...this.q1, ...this.q2]).values()];
  }

  /** Online and target weights by stable name (checkpoints). */
  weights(): Map<string, tf.Variable> {
    return layerWeights([...this.q1, ...this.q2, ...this.target1, ...this.target2]);
  }

  private targetPairs(): [tf.Variable[], tf.Variable[]] {
    return [[...layerWeights([...this.target1, ...this.target2]).values()], [...layerWeights([...this.q1, ...this.q2]).values()]];
  }

  hardUpdateTargets(): void {
    copyInto(...this.targetPairs());
  }

  /** θ̄ ← (1 − τ)θ̄ + τθ (in place on cpu-blas). */
  polyakUpdate(tau: number): void {
    const [target, online] = this.targetPairs();
    polyakUpdate(target, online, tau);
  }

  dispose(): void {
    for (const v of this.weights().values()) v.dispose();
  }
}
