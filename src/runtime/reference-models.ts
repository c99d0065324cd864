// Reference ONNX models the bench builds in memory to put a policy's latency in context:
//  - the identity floor: ONNX Runtime's fixed cost of one run (binding, feeds, output), no compute;
//  - a K-step Euler flow policy of the same width: what a multi-step flow/diffusion policy costs, so one-step
//    vs K-step is a ratio measured in one process. Its weights are random: only its cost matters.
import { type PlainLayer, OnnxGraphBuilder } from '../format/onnx-graph.ts';
import { Rng } from '../core/rng.ts';

/** obs [N, width] → Identity → out. */
export function identityModel(width: number): Uint8Array {
  const g = new OnnxGraphBuilder();
  g.op('Identity', [g.input('obs')], {}, 'out');
  return g.build({ inputs: [{ name: 'obs', width }], outputs: [{ name: 'out', width }], graphName: 'identity_floor' });
}

export interface FlowModelShape {
  readonly observationSize: number;
  readonly actionSize: number;
  readonly hiddenSizes: readonly number[];
  readonly activation: Extract<PlainLayer, { kind: 'activation' }>['fn'];
  readonly layerNorm: boolean;
  /** Number of Euler steps K (1 = a one-step policy of the same network). */
  readonly steps: number;
  /** Width of the time features φ(t) (sinusoidal, like the policy's). */
  readonly timeFeatures?: number;
  readonly seed?: number;
}

/**
 * A K-step Euler flow policy obs [N, O], noise [N, d] → action [N, d]: x ← noise; for t = 1, 1−1/K, …:
 * x ← x − (1/K)·v(s, x, t), v an MLP on [s, x, φ(t)]; then clip to [−1, 1]. Built the way a careful
 * exporter would: the observation projection is computed once and shared by all steps, φ(t_k) and the step size
 * are folded into constants, the steps share their weights.
 */
export function eulerFlowModel(shape: FlowModelShape): Uint8Array {
  const { observationSize: O, actionSize: d, hiddenSizes, steps } = shape;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`flow steps must be a positive integer (got ${steps})`);
  if (hiddenSizes.length === 0) throw new RangeError('the flow model needs at least one hidden layer');
  const F = shape.timeFeatures ?? 16;
  const rng = new Rng(shape.seed ?? 1);
  const uniform = (n: number, fanIn: number) => Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) / Math.sqrt(fanIn));
  const H0 = hiddenSizes[0];
  const fanIn0 = O + d + F;
  const wObs = uniform(O * H0, fanIn0);
  const wAct = uniform(d * H0, fanIn0);
  const wTime = uniform(F * H0, fanIn0);
  const b0 = uniform(H0, fanIn0);

  const rest: PlainLayer[] = [];
  const post = (i: number, h: number) => {
    if (shape.layerNorm) rest.push({ kind: 'layernorm', name: `norm${i}`, gamma: new Float32Array(h).fill(1), beta: new Float32Array(h), epsilon: 1e-5 });
    rest.push({ kind: 'activation', name: `act${i}`, fn: shape.activation });
  };
  post(0, H0);
  for (let i = 1; i < hiddenSizes.length; i++) {
    const fan = hiddenSizes[i - 1];
    rest.push({ kind: 'dense', name: `hidden${i}`, inSize: fan, outSize: hiddenSizes[i], kernel: uniform(fan * hiddenSizes[i], fan), bias: uniform(hiddenSizes[i], fan) });
    post(i, hiddenSizes[i]);
  }
  const last = hiddenSizes[hiddenSizes.length - 1];
  const dt = 1 / steps;
  // The velocity head with the Euler step size folded in: emits dt·v.
  const head: PlainLayer = { kind: 'dense', name: 'velocity', inSize: last, outSize: d, kernel: uniform(last * d, last).map((w) => w * dt), bias: uniform(d, last).map((b) => b * dt) };

  const g = new OnnxGraphBuilder();
  const obs = g.input('obs');
  let x = g.input('noise');
  const projection = g.op('Gemm', [obs, g.constant('w_obs', wObs, [O, H0]), g.constant('zero_bias', new Float32Array(H0), [H0])], {}, 'obs_projection');
  const kernelAct = g.constant('w_act', wAct, [d, H0]);
  for (let k = 0; k < steps; k++) {
    const t = 1 - k * dt;
    const bias = Float32Array.from(b0);
    const phi = flowTimeFeatures(t, F);
    for (let f = 0; f < F; f++) for (let j = 0; j < H0; j++) bias[j] += phi[f] * wTime[f * H0 + j];
    const pre = g.op('Add', [g.op('Gemm', [x, kernelAct, g.constant(`b0_step${k}`, bias, [H0])], {}, `step${k}/x_projection`), projection], {}, `step${k}/hidden0`);
    const hidden = emitShared(g, rest, pre, k);
    const velocity = g.op('Gemm', [hidden, sharedConstant(g, 'velocity/kernel', head.kernel, [last, d]), sharedConstant(g, 'velocity/bias', head.bias, [d])], {}, `step${k}/velocity`);
    x = g.op('Sub', [x, velocity], {}, `step${k}/x`);
  }
  g.op('Clip', [x, g.scalar('minus_one', -1), g.scalar('one', 1)], {}, 'action');
  return g.build({
    inputs: [
      { name: 'obs', width: O },
      { name: 'noise', width: d },
    ],
    outputs: [{ name: 'action', width: d }],
    graphName: `euler_flow_${steps}_steps`,
  });
}

// Constants shared across the K steps (one initializer each, as a real exporter would do).
const shared = new WeakMap<OnnxGraphBuilder, Map<string, string>>();
function sharedConstant(g: OnnxGraphBuilder, name: string, values: ArrayLike<number>, dims: readonly number[]): string {
  let m = shared.get(g);
  if (!m) shared.set(g, (m = new Map()));
  let id = m.get(name);
  if (id === undefined) m.set(name, (id = g.constant(name, values, dims)));
  return id;
}

function emitShared(g: OnnxGraphBuilder, layers: readonly PlainLayer[], x: string, step: number): string {
  let h = x;
  for (const layer of layers) {
    const name = `step${step}/${layer.name}`;
    if (layer.kind === 'dense') {
      h = g.op('Gemm', [h, sharedConstant(g, `${layer.name}/kernel`, layer.kernel, [layer.inSize, layer.outSize]), sharedConstant(g, `${layer.name}/bias`, layer.bias, [layer.outSize])], {}, name);
    } else if (layer.kind === 'layernorm') {
      h = g.op('LayerNormalization', [h, sharedConstant(g, `${layer.name}/gamma`, layer.gamma, [layer.gamma.length]), sharedConstant(g, `${layer.name}/beta`, layer.beta, [layer.beta.length])], { axis: -1, epsilon: { float: layer.epsilon } }, name);
    } else {
      h = g.activation(layer.fn, h, name);
    }
  }
  return h;
}

/** Sinusoidal features of t as the flow models use them (count/2 frequencies, cos then sin). */
export function flowTimeFeatures(t: number, count = 16): Float32Array {
  const half = count / 2;
  const out = new Float32Array(count);
  for (let f = 0; f < half; f++) {
    const freq = Math.exp((-Math.log(100) * f) / half);
    out[f] = Math.cos(t * freq);
    out[half + f] = Math.sin(t * freq);
  }
  return out;
}

/**
 * The velocity network alone, obs [N, O], x [N, d], phi [N, F] → velocity [N, d]: what a flow policy served
 * "one network call per integration step" runs K times (the host does the Euler update), as diffusion and flow
 * policies are commonly deployed.
 */
export function flowVelocityModel(shape: Omit<FlowModelShape, 'steps'>): Uint8Array {
  const { observationSize: O, actionSize: d, hiddenSizes } = shape;
  if (hiddenSizes.length === 0) throw new RangeError('the flow model needs at least one hidden layer');
  const F = shape.timeFeatures ?? 16;
  const rng = new Rng(shape.seed ?? 1);
  const uniform = (n: number, fanIn: number) => Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) / Math.sqrt(fanIn));
  const layers: PlainLayer[] = [];
  let width = O + d + F;
  hiddenSizes.forEach((h, i) => {
    layers.push({ kind: 'dense', name: `hidden${i}`, inSize: width, outSize: h, kernel: uniform(width * h, width), bias: uniform(h, width) });
    if (shape.layerNorm) layers.push({ kind: 'layernorm', name: `norm${i}`, gamma: new Float32Array(h).fill(1), beta: new Float32Array(h), epsilon: 1e-5 });
    layers.push({ kind: 'activation', name: `act${i}`, fn: shape.activation });
    width = h;
  });
  layers.push({ kind: 'dense', name: 'velocity_out', inSize: width, outSize: d, kernel: uniform(width * d, width), bias: uniform(d, width) });
  const g = new OnnxGraphBuilder();
  const input = g.op('Concat', [g.input('obs'), g.input('x'), g.input('phi')], { axis: 1 }, 'input');
  g.op('Identity', [g.layers(layers, input)], {}, 'velocity');
  return g.build({
    inputs: [
      { name: 'obs', width: O },
      { name: 'x', width: d },
      { name: 'phi', width: F },
    ],
    outputs: [{ name: 'velocity', width: d }],
    graphName: 'flow_velocity',
  });
}
