// ONNX export of a one-step policy (opset 17, IR 8), built from the TF.js weights with onnx-proto.
// Inputs obs [N, obs_dim] and noise [N, noise_dim]; output action [N, act_dim] in physical units. Everything a
// consumer would otherwise re-implement lives inside the graph: observation normalisation, the network with t = 1
// folded in as constants, the squash, scale/offset and the joint limits. The JSON spec rides in metadata_props.
//
// Graph (meanflow; SMFP adds the σ branch; gaussian feeds obs alone to the first layer):
//   Gemm(noise, W_e, C = Gemm(obs, W_obs, b)) [normalisation and φ(1) folded into W, b] → (LayerNorm → act → Gemm)* → g
//   σ branch: Gemm → bound(ℓ) → Exp (or Sigmoid → Pow) → ⊙ MatMul(noise, select ξ) → + g
//   → Clip(-1, 1) | Tanh → ⊙ scale → + offset → Max(low) → Min(high)
import { type PolicyNetwork, policyNoiseSize, timeFrequencies, timeFeatureSize } from '../nn/policy.ts';
import type { Layer } from '../nn/layers.ts';
import type { Checkpoint, CheckpointPolicyInfo } from '../nn/checkpoint.ts';
import { OnnxGraphBuilder, type PlainLayer } from '../format/onnx-graph.ts';
import { POLICY_SPEC_FORMAT_VERSION, SPEC_METADATA_KEY, expectedNoiseParts, parsePolicySpec, serializePolicySpec, type PolicySpec } from '../format/spec.ts';

/** A policy that cannot be exported as asked; the message says why. */
export class PolicyExportError extends Error {
  override name = 'PolicyExportError';
}

/** What the spec needs beyond the network itself: the checkpoint's policy info plus where the weights came from. */
export interface PolicyExportInfo extends CheckpointPolicyInfo {
  readonly trainingSteps: number;
  readonly checkpointId: string;
}

/** The metadata spec of `policy`, with its current observation statistics; validated before it is returned. */
export function buildPolicySpec(policy: PolicyNetwork, info: PolicyExportInfo): PolicySpec {
  const c = policy.config;
  const d = c.actionSize;
  const fill = (v: readonly number[] | undefined, dflt: (i: number) => number) => (v ? [...v] : Array.from({ length: d }, (_, i) => dflt(i)));
  const scale = fill(info.actionScale, () => 1);
  const offset = fill(info.actionOffset, () => 0);
  const spec = {
    formatVersion: POLICY_SPEC_FORMAT_VERSION,
    algorithm: info.algorithm,
    kind: c.kind,
    task: info.task,
    trainingSteps: info.trainingSteps,
    checkpointId: info.checkpointId,
    description: info.description ?? '',
    observation: {
      names: info.observationNames ? [...info.observationNames] : Array.from({ length: c.observationSize }, (_, i) => `obs${i}`),
      size: c.observationSize,
      mean: Array.from(policy.observationMean.dataSync()),
      std: Array.from(policy.observationStd.dataSync()),
    },
    action: {
      names: info.actionNames ? [...info.actionNames] : Array.from({ length: d }, (_, i) => `joint${i + 1}`),
      size: d,
      scale,
      offset,
      low: fill(info.actionLow, (i) => offset[i] - Math.abs(scale[i])),
      high: fill(info.actionHigh, (i) => offset[i] + Math.abs(scale[i])),
      mode: info.actionMode ?? 'absolute',
      squash: c.squash,
    },
    network: { hiddenSizes: [...c.hiddenSizes], activation: c.activation, layerNorm: c.layerNorm },
    noise: { size: policyNoiseSize(c), parts: expectedNoiseParts(c.kind, c.kind === 'meanflow' && c.logStdHead !== null, d) },
  };
  // The network and the algorithm must agree (e.g. SMFP needs the σ head): the validator says so by field.
  return parsePolicySpec(spec, `policy spec for ${info.checkpointId}`);
}

function plainLayer(layer: Layer): PlainLayer {
  switch (layer.kind) {
    case 'dense':
      return { kind: 'dense', name: layer.name, inSize: layer.kernel.shape[0] as number, outSize: layer.kernel.shape[1] as number, kernel: layer.kernel.dataSync(), bias: layer.bias.dataSync() };
    case 'layernorm':
      return { kind: 'layernorm', name: layer.name, gamma: layer.gamma.dataSync(), beta: layer.beta.dataSync(), epsilon: layer.epsilon };
    case 'activation':
      return { kind: 'activation', name: layer.name, fn: layer.fn };
  }
}

/**
 * Folds the input layout into the first dense layer (in float64): obs normalisation into W and b, φ(t=1) into b,
 * and a zero block for ξ when the SMFP noise [e, ξ] feeds the layer whole. Returns a layer on [obs, noise]
 * (meanflow) or on obs (gaussian).
 */
function foldFirstLayer(policy: PolicyNetwork, first: Extract<PlainLayer, { kind: 'dense' }>): Extract<PlainLayer, { kind: 'dense' }> {
  const c = policy.config;
  const O = c.observationSize;
  const d = c.actionSize;
  const H = first.outSize;
  const mean = policy.observationMean.dataSync();
  const std = policy.observationStd.dataSync();
  const W = first.kernel;
  const bias = Float64Array.from(first.bias);
  const inRows = c.kind === 'meanflow' ? O + policyNoiseSize(c) : O;
  const kernel = new Float64Array(inRows * H);
  for (let i = 0; i < O; i++) {
    for (let j = 0; j < H; j++) {
      const w = W[i * H + j];
      kernel[i * H + j] = w / std[i];
      bias[j] -= (mean[i] / std[i]) * w;
    }
  }
  if (c.kind === 'meanflow') {
    // a_t rows are the noise e (t = 1); ξ rows (SMFP) stay zero.
    for (let i = 0; i < d; i++) for (let j = 0; j < H; j++) kernel[(O + i) * H + j] = W[(O + i) * H + j];
    const phi = c.timeFeatures.kind === 'scalar' ? [1] : [...timeFrequencies(c).map(Math.cos), ...timeFrequencies(c).map(Math.sin)];
    if (phi.length !== timeFeatureSize(c)) throw new PolicyExportError('time feature size mismatch');
    for (let k = 0; k < phi.length; k++) for (let j = 0; j < H; j++) bias[j] += phi[k] * W[(O + d + k) * H + j];
  }
  return { kind: 'dense', name: first.name, inSize: inRows, outSize: H, kernel, bias };
}

/** Serialises `policy` with `spec` (from buildPolicySpec) into ONNX bytes. */
export function exportPolicyOnnx(policy: PolicyNetwork, spec: PolicySpec): Uint8Array {
  const c = policy.config;
  if (spec.observation.size !== c.observationSize || spec.action.size !== c.actionSize || spec.noise.size !== policyNoiseSize(c) || spec.kind !== c.kind) {
    throw new PolicyExportError('the spec does not describe this policy (observation/action/noise size or kind differ)');
  }
  if (c.hiddenSizes.length === 0) throw new PolicyExportError('export needs at least one hidden layer (hiddenSizes is empty)');
  const d = c.actionSize;
  const g = new OnnxGraphBuilder();
  const obs = g.input('obs');
  const noise = g.input('noise');

  const trunk = policy.trunk.map(plainLayer);
  const firstIndex = trunk.findIndex((l) => l.kind === 'dense');
  if (firstIndex !== 0) throw new PolicyExportError('the trunk must start with a dense layer');
  trunk[firstIndex] = foldFirstLayer(policy, trunk[firstIndex] as Extract<PlainLayer, { kind: 'dense' }>);
  let hidden: string;
  if (c.kind === 'meanflow') {
    // Two chained Gemms instead of Concat → Gemm: obs·W_obs + b, then noise·W_noise + that (Gemm's C input).
    const first = trunk[firstIndex] as Extract<PlainLayer, { kind: 'dense' }>;
    const O = c.observationSize;
    const H = first.outSize;
    const K = first.kernel as Float64Array;
    const fromObs = g.dense(obs, { ...first, inSize: O, kernel: K.subarray(0, O * H) }, `${first.name}_obs`);
    const wNoise = g.constant(`${first.name}/kernel_noise`, K.subarray(O * H), [first.inSize - O, H]);
    const h0 = g.op('Gemm', [noise, wNoise, fromObs], {}, first.name);
    hidden = g.layers(trunk.slice(firstIndex + 1), h0);
  } else {
    hidden = g.layers(trunk, obs);
  }

  let u = g.dense(hidden, plainLayer(policy.meanHead) as Extract<PlainLayer, { kind: 'dense' }>, 'mean');
  if (policy.logStdHead && c.logStdHead) {
    const { min, max, bound } = c.logStdHead;
    const head = plainLayer(policy.logStdHead) as Extract<PlainLayer, { kind: 'dense' }>;
    // σ⊙ξ is emitted as σ'⊙ξ' with a constant factor k moved from σ into ξ' = noise·(k·P), where P selects ξ from
    // the noise (a MatMul: cheaper than Slice in ORT at batch 1, and it absorbs k for free).
    let std: string;
    let k: number;
    if (bound === 'clip') {
      const raw = g.dense(hidden, head, 'log_std_raw');
      std = g.op('Exp', [g.op('Clip', [raw, g.scalar('log_std_min', min), g.scalar('log_std_max', max)], {}, 'log_std')], {}, 'std');
      k = 1;
    } else {
      // σ = exp(min + (max−min)·½(tanh ℓ + 1)) = e^min · (e^(max−min))^sigmoid(2ℓ): 2 is folded into the head,
      // e^min into ξ', leaving Sigmoid → Pow instead of Tanh → Mul → Add → Exp.
      const raw = g.dense(hidden, { ...head, kernel: Float32Array.from(head.kernel, (w) => 2 * w), bias: Float32Array.from(head.bias, (b) => 2 * b) }, 'log_std_raw2');
      std = g.op('Pow', [g.scalar('std_base', Math.exp(max - min)), g.op('Sigmoid', [raw], {}, 'log_std_unit')], {}, 'std_scaled');
      k = Math.exp(min);
    }
    const offsetRows = c.kind === 'meanflow' ? d : 0;
    const select = new Float32Array((offsetRows + d) * d);
    for (let i = 0; i < d; i++) select[(offsetRows + i) * d + i] = k;
    const xi = offsetRows === 0 && k === 1 ? noise : g.op('MatMul', [noise, g.constant('xi_select', select, [offsetRows + d, d])], {}, 'xi');
    u = g.op('Add', [u, g.op('Mul', [std, xi], {}, 'std_xi')], {}, 'pre_squash');
  }
  const squashed = c.squash === 'tanh' ? g.op('Tanh', [u], {}, 'squashed') : g.op('Clip', [u, g.scalar('minus_one', -1), g.scalar('one', 1)], {}, 'squashed');
  const { scale, offset, low, high } = spec.action;
  // Joint limits are enforced in the graph only where they can bind: a no-op clamp still costs two kernels.
  // With a ∈ [-1, 1] and float32 Mul then Add (both monotonic under rounding), the extremes of the graph's output
  // are exactly fround(fround(±scale) + offset); if those lie within [low, high] no output can leave it.
  const f = Math.fround;
  const binds = (i: number) => !(f(f(scale[i]) + f(offset[i])) <= f(high[i]) && f(f(-scale[i]) + f(offset[i])) >= f(low[i]));
  const limited = scale.some((_, i) => binds(i));
  const scaled = g.op('Mul', [squashed, g.constant('action_scale', scale, [d])], {}, 'scaled');
  const unlimited = g.op('Add', [scaled, g.constant('action_offset', offset, [d])], {}, limited ? 'unlimited' : 'action');
  if (limited) g.op('Min', [g.op('Max', [unlimited, g.constant('action_low', low, [d])], {}, 'above_low'), g.constant('action_high', high, [d])], {}, 'action');
  return g.build({
    inputs: [
      { name: 'obs', width: c.observationSize },
      { name: 'noise', width: spec.noise.size },
    ],
    outputs: [{ name: 'action', width: d }],
    metadata: { [SPEC_METADATA_KEY]: serializePolicySpec(spec) },
    docString: `onestep ${spec.algorithm} policy for ${spec.task}${spec.trainingSteps === 0 ? ' (UNTRAINED)' : ''}`,
    graphName: `onestep_${spec.algorithm}_${spec.task}`,
  });
}

/** Exports a loaded checkpoint: the spec takes its id, training steps and names from the checkpoint. */
export function exportCheckpointOnnx(checkpoint: Checkpoint, description?: string): { bytes: Uint8Array; spec: PolicySpec } {
  const info = checkpoint.info;
  const untrained = checkpoint.counters.trainingSteps === 0;
  const spec = buildPolicySpec(checkpoint.policy, {
    ...info,
    trainingSteps: checkpoint.counters.trainingSteps,
    checkpointId: checkpoint.checkpointId,
    description: description ?? info.description ?? (untrained ? 'UNTRAINED: random weights, for plumbing and latency only' : ''),
  });
  return { bytes: exportPolicyOnnx(checkpoint.policy, spec), spec };
}
