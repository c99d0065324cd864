// MeanFlowQL and its BC baselines: the MeanFlow target against its closed forms, the learning-rate schedule,
// multimodality on a 2-D toy dataset (the one-step policy keeps both modes, Gaussian BC averages them), and
// best-of-N selection under the target critic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/nn/backend.ts';
import { createPolicy, policyConfig, policyWeights, type PolicyNetwork } from '../src/nn/policy.ts';
import { adaptiveWeight, conditionalPath, meanflowTarget, flowTimes } from '../src/algos/meanflow.ts';
import { MEANFLOWQL_DEFAULTS, MeanFlowQl, MeanFlowQlConfigError, actorLearningRate, type MeanFlowQlConfig } from '../src/algos/meanflowql.ts';
import { GAUSSIAN_BC_DEFAULTS, GaussianBc, MEANFLOW_BC_DEFAULTS, MeanFlowBc } from '../src/algos/bc.ts';
import { ReplayBuffer } from '../src/algos/replay.ts';
import { Rng } from '../src/core/rng.ts';

await initBackend();

const O = 2;
const D = 2;

/**
 * A MeanFlow policy with no hidden layer and scalar time feature: g(s, z, t) = s·Wₛ + z·A + t·c + b, so its
 * total derivative along a path is known in closed form: dg/dt = v·A + c.
 */
function affineMap(A: number[][], c: number[], b: number[]): PolicyNetwork {
  const policy = createPolicy(policyConfig({ kind: 'meanflow', observationSize: O, actionSize: D, hiddenSizes: [], timeFeatures: { kind: 'scalar' }, squash: 'clip' }), 1);
  // Input rows: [obs (O), z (D), t (1)].
  const kernel = new Float32Array((O + D + 1) * D);
  for (let i = 0; i < D; i++) {
    kernel[0 * D + i] = 0.3 * (i + 1); // some observation dependence (its tangent is 0)
    for (let j = 0; j < D; j++) kernel[(O + j) * D + i] = A[j][i];
    kernel[(O + D) * D + i] = c[i];
  }
  policy.meanHead.kernel.assign(tf.tensor2d(kernel, [O + D + 1, D]));
  policy.meanHead.bias.assign(tf.tensor1d(b));
  return policy;
}

function close(actual: tf.Tensor, expected: tf.Tensor, tol: number, what: string) {
  const err = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0];
  assert.ok(err < tol, `${what}: max |Δ| = ${err}`);
}

test('fixed point: a translation flow g(z, t) = z − v₀ is its own MeanFlow target on straight paths with velocity v₀', () => {
  // Every noise e = a + v₀: each conditional path is straight with v = v₀, the exact average velocity is u ≡ v₀,
  // so g = a_t − v₀ and dg/dt = v₀, and g_tgt = a_t + (t − 1)v₀ − t·v₀ = a_t − v₀ = g.
  const v0 = [0.7, -0.4];
  const policy = affineMap([[1, 0], [0, 1]], [0, 0], v0.map((x) => -x));
  policy.meanHead.kernel.assign(tf.concat([tf.zeros([O, D]), tf.eye(D), tf.zeros([1, D])], 0));
  const B = 64;
  const a = tf.randomUniform([B, D], -1, 1, 'float32', 3);
  const e = tf.add(a, tf.tensor1d(v0));
  const t = tf.randomUniform([B, 1], 0, 1, 'float32', 4);
  const obs = tf.randomNormal([B, O], 0, 1, 'float32', 5);
  const { actionT, velocity } = conditionalPath(a, e, t);
  const { g, target } = meanflowTarget(policy, obs, actionT, t, velocity, 5);
  close(target, g, 1e-5, 'g_tgt vs g');
  close(g, tf.sub(actionT, tf.tensor1d(v0)), 1e-5, 'g vs a_t − v₀');
  // At t = 1 the map sends the noise to the data point: g(s, e, 1) = a.
  const { g: g1 } = meanflowTarget(policy, obs, e, tf.onesLike(t), velocity, 5);
  close(g1, a, 1e-5, 'g(e, 1) vs a');
});

test('the target equals its closed form a_t + (t − 1)v − t·(v·A + c), including ∂g/∂t, and is clipped', () => {
  const A = [[0.5, -0.2], [0.1, 0.8]];
  const c = [0.9, -1.3];
  const policy = affineMap(A, c, [0.05, -0.1]);
  const B = 128;
  const a = tf.randomUniform([B, D], -1, 1, 'float32', 6);
  const e = tf.randomNormal([B, D], 0, 1, 'float32', 7);
  const t = flowTimes(B, 10_000, new Rng(1));
  const obs = tf.randomNormal([B, O], 0, 1, 'float32', 8);
  const { actionT, velocity } = conditionalPath(a, e, t);
  const { target } = meanflowTarget(policy, obs, actionT, t, velocity, 100);
  const dgdt = tf.add(tf.matMul(velocity, tf.tensor2d(A)), tf.tensor1d(c));
  const closed = tf.sub(tf.add(actionT, tf.mul(tf.sub(t, 1), velocity)), tf.mul(t, dgdt));
  close(target, closed, 1e-5, 'target vs closed form');
  // Without the ∂g/∂t term the target would be off by t·c: the test above would catch that (|t·c| is large).
  assert.ok(tf.max(tf.abs(tf.mul(t, tf.tensor1d(c)))).dataSync()[0] > 0.5);
  const { target: clipped } = meanflowTarget(policy, obs, tf.mul(actionT, 20), t, tf.mul(velocity, 20), 5);
  assert.ok(tf.max(tf.abs(clipped)).dataSync()[0] <= 5, 'target clipped to ±5');
});

test('adaptive weight 1/(δ² + c)^(1 − γ) and the flow-time grid', () => {
  const w = adaptiveWeight(tf.tensor2d([[0], [1], [1e9]]), 0.8, 1e-4).dataSync();
  assert.ok(Math.abs(w[0] - 1e-4 ** -0.2) < 1e-2);
  assert.ok(Math.abs(w[1] - (1 + 1e-4) ** -0.2) < 1e-5);
  assert.ok(Math.abs(w[2] - 1e9 ** -0.2) < 1e-6);
  const grid = flowTimes(2000, 50, new Rng(2)).dataSync();
  assert.ok(grid.every((x) => x > 0 && x <= 1 && Math.abs(x * 50 - Math.round(x * 50)) < 1e-4), 'T = 50: t on {1/50, …, 1}');
  assert.ok(new Set(grid).size === 50, 'every grid point is drawn');
  const cont = flowTimes(2000, 10_000, new Rng(3)).dataSync();
  assert.ok(new Set(cont).size > 1900, 'T > 1000: continuous t');
});

test('actor schedule: warm-up, cosine to lr·0.1 at the end of the offline phase, constant online', () => {
  const c = MEANFLOWQL_DEFAULTS;
  const lr = (s: number) => actorLearningRate(c, 1000, s);
  assert.ok(Math.abs(lr(25) - 0.5e-4) < 1e-12, 'half-way through the 50-update warm-up');
  assert.ok(Math.abs(lr(50) - 1e-4) < 1e-12);
  assert.ok(Math.abs(lr(525) - 0.55e-4) < 1e-9, 'cosine mid-point (lr + floor)/2');
  assert.ok(Math.abs(lr(1000) - 1e-5) < 1e-12);
  assert.equal(lr(1001), 1e-5);
  assert.equal(actorLearningRate({ ...c, onlineActorLearningRate: 3e-5 }, 1000, 5000), 3e-5);
  assert.equal(actorLearningRate(c, 0, 1), 1e-5, 'online only: constant from the start');
});

test('a wrong MeanFlowQL hyper-parameter is rejected with a typed error naming the field', () => {
  const bad: [Partial<MeanFlowQlConfig>, RegExp][] = [
    [{ numCandidates: 0 }, /numCandidates must be an integer >= 1/],
    [{ qAggregation: 'median' as never }, /qAggregation must be one of mean, min, max/],
    [{ actionSelection: 'argmax' as never }, /actionSelection must be one of best, mean, single/],
    [{ alpha: -1 }, /alpha must be > 0/],
    [{ tau: 2 }, /tau must be in \[0, 1\]/],
  ];
  for (const [v, re] of bad) assert.throws(() => new MeanFlowQl(O, D, { ...MEANFLOWQL_DEFAULTS, ...v }, 0), (e: Error) => e instanceof MeanFlowQlConfigError && re.test(e.message));
});

// --- a 2-D bimodal toy dataset: at every state the demonstrator goes left or right, never in between -------------

const MODE = [0.6, 0.3]; // modes at (±0.6, 0.3)
function bimodalReplay(n: number, seed: number): ReplayBuffer {
  const rng = new Rng(seed);
  const r = new ReplayBuffer(n, O, D);
  for (let i = 0; i < n; i++) {
    const s = [rng.uniform() * 2 - 1, rng.uniform() * 2 - 1];
    const side = rng.uniform() < 0.5 ? -1 : 1;
    r.add(s, [side * MODE[0] + 0.05 * rng.normal(), MODE[1] + 0.05 * rng.normal()], 1, s, true);
  }
  return r;
}

/** Fraction of actions per mode (x < 0 / x > 0) and each mode's mean, from `samples` actions at fixed states. */
function modeStatistics(act: (obs: Float32Array, rng: Rng) => Float32Array, samples: number) {
  const rng = new Rng(11);
  const sides = { left: [] as number[][], right: [] as number[][] };
  for (let k = 0; k < samples; k++) {
    const a = act(Float32Array.from([rng.uniform() * 2 - 1, rng.uniform() * 2 - 1]), rng);
    (a[0] < 0 ? sides.left : sides.right).push([a[0], a[1]]);
  }
  const mean = (xs: number[][]) => [0, 1].map((j) => xs.reduce((s, x) => s + x[j], 0) / Math.max(xs.length, 1));
  return { left: sides.left.length / samples, right: sides.right.length / samples, leftMean: mean(sides.left), rightMean: mean(sides.right), mean: mean([...sides.left, ...sides.right]) };
}

// ReLU MLPs (fused dense kernels) keep the toy fast; the algorithm, not the activation, is under test.
const toyActor = { actorHidden: [64, 64], actorActivation: 'relu' as const, actorLearningRate: 1e-3 };

for (const name of ['MeanFlowQL', 'MeanFlow BC'] as const) {
  test(`${name}: the one-step policy reproduces both modes of a bimodal dataset (fractions and per-mode means)`, () => {
    const replay = bimodalReplay(2048, 1);
    const steps = 1000;
    const agent =
      name === 'MeanFlowQL'
        ? new MeanFlowQl(O, D, { ...MEANFLOWQL_DEFAULTS, ...toyActor, critic: { hiddenSizes: [32, 32], activation: 'relu', layerNorm: false }, numCandidates: 2, actionSelection: 'single' }, 3, { offlineSteps: steps })
        : new MeanFlowBc(O, D, { ...MEANFLOW_BC_DEFAULTS, ...toyActor }, 3, { offlineSteps: steps });
    const rng = new Rng(5);
    for (let i = 0; i < steps; i++) agent.update(replay.sample(128, rng), rng);
    const stats = modeStatistics((obs, r) => agent.act(obs, false, r), 600);
    assert.ok(stats.left > 0.3 && stats.right > 0.3, `both modes sampled: left ${stats.left}, right ${stats.right}`);
    for (const [m, sign] of [[stats.leftMean, -1], [stats.rightMean, 1]] as const) {
      assert.ok(Math.abs(m[0] - sign * MODE[0]) < 0.12 && Math.abs(m[1] - MODE[1]) < 0.12, `mode mean ${m.map((x) => x.toFixed(3))} vs (${sign * MODE[0]}, ${MODE[1]})`);
    }
    agent.dispose();
  });
}

test('Gaussian BC on the same data averages the modes: its action sits between them, far from both', () => {
  const replay = bimodalReplay(2048, 1);
  const agent = new GaussianBc(O, D, { ...GAUSSIAN_BC_DEFAULTS, hidden: [64, 64], activation: 'relu', learningRate: 1e-3 }, 3);
  const rng = new Rng(5);
  for (let i = 0; i < 600; i++) agent.update(replay.sample(128, rng), rng);
  const stats = modeStatistics((obs, r) => agent.act(obs, false, r), 200);
  assert.ok(Math.abs(stats.mean[0]) < 0.2, `mean x ${stats.mean[0]} lies between the modes at ±${MODE[0]}`);
  assert.ok(Math.abs(stats.mean[1] - MODE[1]) < 0.1, `y ${stats.mean[1]} fits the unimodal coordinate`);
  const far = Math.min(Math.abs(stats.leftMean[0] + MODE[0]), Math.abs(stats.rightMean[0] - MODE[0]));
  assert.ok(far > 0.35, `its actions stay ${far.toFixed(2)} away from either mode`);
  agent.dispose();
});

for (const name of ['MeanFlow BC', 'Gaussian BC'] as const) {
  test(`${name}: a restart from getState and the policy weights continues the run bit for bit (Adam moments, step, update count)`, () => {
    const make = () =>
      name === 'MeanFlow BC'
        ? new MeanFlowBc(O, D, { ...MEANFLOW_BC_DEFAULTS, actorHidden: [16], actorActivation: 'relu' }, 3, { offlineSteps: 20 })
        : new GaussianBc(O, D, { ...GAUSSIAN_BC_DEFAULTS, hidden: [16], activation: 'relu' }, 3);
    const replay = bimodalReplay(256, 1);
    const run = make();
    const rng = new Rng(5);
    for (let i = 0; i < 4; i++) run.update(replay.sample(32, rng), rng);
    const resumed = make();
    resumed.update(replay.sample(32, new Rng(99)), new Rng(99)); // a different history, overwritten by the restore
    for (const [key, v] of policyWeights(resumed.policy)) v.assign(policyWeights(run.policy).get(key)!);
    resumed.setState(run.getState());
    assert.deepEqual(resumed.getState().json, run.getState().json);
    const batch = replay.sample(32, new Rng(7));
    const a = run.update(batch, new Rng(8));
    const b = resumed.update(batch, new Rng(8));
    assert.deepEqual(b, a, 'the next update after the restore');
    for (const [key, v] of policyWeights(run.policy)) assert.deepEqual(policyWeights(resumed.policy).get(key)!.dataSync(), v.dataSync(), key);
    run.dispose();
    resumed.dispose();
  });
}

test('best-of-N picks, per state, the candidate the target critic values most; mean and single as documented', () => {
  // g(s, z, t) = z (no hidden layer, identity on z), so the candidates are the noises themselves.
  const agent = new MeanFlowQl(O, D, { ...MEANFLOWQL_DEFAULTS, actorHidden: [], timeFeatures: { kind: 'scalar' }, critic: { hiddenSizes: [4], activation: 'relu', layerNorm: false } }, 2);
  agent.policy.meanHead.kernel.assign(tf.concat([tf.zeros([O, D]), tf.eye(D), tf.zeros([1, D])], 0));
  // Target critics Q̄(s, a) = relu(a_x + 1): increasing in the first action coordinate over [−1, 1].
  for (const q of [agent.critic.target1, agent.critic.target2]) {
    const [hidden, out] = [q[0], q[q.length - 1]];
    if (hidden.kind !== 'dense' || out.kind !== 'dense') throw new Error('unexpected critic layout');
    const k = new Float32Array((O + D) * 4);
    k[O * 4 + 0] = 1; // a_x → unit 0
    hidden.kernel.assign(tf.tensor2d(k, [O + D, 4]));
    hidden.bias.assign(tf.tensor1d([1, 0, 0, 0]));
    out.kernel.assign(tf.tensor2d([1, 0, 0, 0], [4, 1]));
    out.bias.assign(tf.zeros([1]));
  }
  const B = 3, N = 4;
  const obs = tf.randomNormal([B, O], 0, 1, 'float32', 1);
  const noise = tf.randomUniform([B * N, D], -0.9, 0.9, 'float32', 2);
  const rows = noise.arraySync() as number[][];
  const best = agent.selectAction(obs, noise, 'best').arraySync() as number[][];
  const mean = agent.selectAction(obs, noise, 'mean').arraySync() as number[][];
  for (let b = 0; b < B; b++) {
    const cands = rows.slice(b * N, b * N + N);
    const top = cands.reduce((x, y) => (y[0] > x[0] ? y : x));
    assert.deepEqual(best[b].map((x) => x.toFixed(6)), top.map((x) => x.toFixed(6)), `state ${b}: best candidate`);
    for (let j = 0; j < D; j++) assert.ok(Math.abs(mean[b][j] - cands.reduce((s, c) => s + c[j], 0) / N) < 1e-6);
  }
  const single = agent.selectAction(obs, tf.slice(noise, [0, 0], [B, D]), 'single');
  close(single, tf.slice(noise, [0, 0], [B, D]), 1e-6, 'single sample');
  agent.dispose();
});
