import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/nn/backend.ts';
import { createPolicy, meanflowHeads, normalizeObservation, policyConfig } from '../src/nn/policy.ts';
import { squashedGaussianLogProb } from '../src/algos/agent.ts';
import { SMFP_DEFAULTS, Smfp, advantageWeights, entropySurrogate, type SmfpConfig } from '../src/algos/smfp.ts';
import { ReplayBuffer } from '../src/algos/replay.ts';
import { Rng } from '../src/core/rng.ts';

await initBackend();

const d = 3;
const o = 4;
const LOG_2PI_E = Math.log(2 * Math.PI * Math.E);

/**
 * An SMFP policy with no hidden layers, so that g(s, e, 1) = A·e + c is affine in the noise e, and a constant
 * log σ (zero kernel, bias b): then u = A e + c + σ ⊙ ξ is exactly Gaussian with covariance AAᵀ + diag(σ²).
 */
function affinePolicy(A: number[][], logStd: number[]) {
  const policy = createPolicy(policyConfig({ kind: 'meanflow', observationSize: o, actionSize: d, hiddenSizes: [], logStdHead: { min: -5, max: 2, bound: 'clip' }, squash: 'clip' }), 1);
  // Input rows: [obs (o), e (d), φ(t) (16)]; the e block of the mean head's kernel is Aᵀ, the rest zero.
  const inSize = policy.meanHead.kernel.shape[0];
  const kernel = new Float32Array(inSize * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) kernel[(o + j) * d + i] = A[i][j];
  policy.meanHead.kernel.assign(tf.tensor2d(kernel, [inSize, d]));
  policy.meanHead.bias.assign(tf.tensor1d([0.3, -0.2, 0.1]));
  policy.logStdHead!.kernel.assign(tf.zeros([inSize, d]));
  policy.logStdHead!.bias.assign(tf.tensor1d(logStd));
  return policy;
}

function logDet3(m: number[][]): number {
  const [a, b, c] = m;
  return Math.log(a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0]));
}

test('the entropy surrogate equals the analytic Gaussian entropy when the map is affine and ignores e', () => {
  const logStd = [-0.7, 0.2, -1.5];
  const policy = affinePolicy([[0, 0, 0], [0, 0, 0], [0, 0, 0]], logStd);
  const obs = tf.randomNormal([512, o], 0, 1, 'float32', 1);
  const e = tf.randomNormal([512, d], 0, 1, 'float32', 2);
  const xi = tf.randomNormal([512, d], 0, 1, 'float32', 3);
  const { g, logStd: ls } = meanflowHeads(policy, obs, e, 1);
  const surrogate = entropySurrogate(ls!).dataSync();
  // Analytic: u ~ N(c, diag σ²) ⇒ H = Σ log σ_i + d/2·log(2πe).
  const analytic = logStd.reduce((a, b) => a + b, 0) + (d / 2) * LOG_2PI_E;
  for (const h of surrogate) assert.ok(Math.abs(h - analytic) < 1e-5, `surrogate ${h} vs analytic ${analytic}`);
  // The per-sample log-density the trainer uses is an unbiased estimate of −H (Monte Carlo, 512 samples).
  const u = tf.add(g, tf.mul(tf.exp(ls!), xi));
  const mc = -tf.mean(squashedGaussianLogProb(xi, ls!, u, false)).dataSync()[0];
  assert.ok(Math.abs(mc - analytic) < 0.15, `Monte Carlo entropy ${mc} vs analytic ${analytic}`);
});

test('with an e-dependent affine map the surrogate is the exact conditional entropy and a lower bound on the marginal', () => {
  const A = [[0.8, 0.1, 0], [0, 0.5, 0.2], [0.3, 0, 1.1]];
  const logStd = [-0.5, -0.2, -1.0];
  const policy = affinePolicy(A, logStd);
  const obs = tf.randomNormal([8, o], 0, 1, 'float32', 4);
  const e = tf.randomNormal([8, d], 0, 1, 'float32', 5);
  const surrogate = entropySurrogate(meanflowHeads(policy, obs, e, 1).logStd!).dataSync();
  const conditional = logStd.reduce((a, b) => a + b, 0) + (d / 2) * LOG_2PI_E;
  // Marginal of u: N(c, AAᵀ + diag σ²), entropy ½·log det(2πe Σ).
  const cov = A.map((row, i) => A.map((r2, j) => row.reduce((s, x, k) => s + x * r2[k], 0) + (i === j ? Math.exp(2 * logStd[i]) : 0)));
  const marginal = 0.5 * (d * LOG_2PI_E + logDet3(cov));
  for (const h of surrogate) {
    assert.ok(Math.abs(h - conditional) < 1e-5);
    assert.ok(h < marginal - 0.1, `surrogate ${h} must lower-bound the marginal entropy ${marginal}`);
  }
});

test('(Q − V)₊ weights: zero below the particle mean, mean 1 per state, invariant to the scale and offset of Q', () => {
  const q = tf.tensor2d([[1, 2, 3, 6], [5, 5, 5, 5], [-10, 0, 0, 10]]);
  const w = advantageWeights(q, 'relu', 1).arraySync() as number[][];
  assert.deepEqual(w[0].map((x) => x > 0), [false, false, false, true]);
  assert.ok(Math.abs(w[0].reduce((a, b) => a + b) / 4 - 1) < 1e-6);
  assert.deepEqual(w[1], [0, 0, 0, 0], 'tied particles carry no improvement signal');
  assert.ok(Math.abs(w[2][3] - 4) < 1e-6);
  const scaled = advantageWeights(tf.add(tf.mul(q, 1000), -77), 'relu', 1).arraySync() as number[][];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(scaled[i][j] - w[i][j]) < 1e-4);
  // exp(A/λ) weights depend on the scale of Q (the reason the paper drops them).
  const e1 = advantageWeights(q, 'exp', 1).arraySync() as number[][];
  const e2 = advantageWeights(tf.mul(q, 10), 'exp', 1).arraySync() as number[][];
  assert.ok(Math.abs(e1[0][3] - e2[0][3]) > 0.1);
});

function filledReplay(): ReplayBuffer {
  const rng = new Rng(3);
  const r = new ReplayBuffer(1000, o, d);
  for (let i = 0; i < 500; i++) {
    const s = Array.from({ length: o }, () => rng.normal());
    r.add(s, Array.from({ length: d }, () => rng.uniform() * 2 - 1), rng.normal(), s.map((x) => x + 0.1 * rng.normal()), i % 50 === 49);
  }
  return r;
}

const small: Partial<SmfpConfig> = { actorHidden: [32, 32], critic: { ...SMFP_DEFAULTS.critic, hiddenSizes: [32, 32] }, mdStates: 8, mdParticles: 4 };

test('every SMFP switch runs an update with finite losses and keeps actions in [-1, 1]', () => {
  const replay = filledReplay();
  const variants: Partial<SmfpConfig>[] = [
    {},
    { mdWeighting: 'exp' },
    { mdWeighting: 'none' },
    { qWeight: 0 },
    { klWeight: 0.5 },
    { squash: 'clip' },
    { mdCoupling: 'independent', mdParticleNoise: 0.2 },
    { adaptiveLoss: false, entropyInBackup: false, logStdBound: 'clip', actorLayerNorm: true, actorActivation: 'gelu_tanh' },
    { mdFitTarget: 'sample', mdAdvantageFloor: 0, qNormalize: false },
    { alphaMode: 'fixed', initialAlpha: 0.05, evalNoise: 'best-of-n', evalCandidates: 8 },
  ];
  for (const v of variants) {
    const agent = new Smfp(o, d, { ...SMFP_DEFAULTS, ...small, ...v }, 5);
    const rng = new Rng(1);
    for (let i = 0; i < 3; i++) {
      const out = agent.update(replay.sample(32, rng), rng);
      for (const [k, x] of Object.entries(out)) assert.ok(Number.isFinite(x), `${JSON.stringify(v)}: ${k} = ${x}`);
      if (v.mdWeighting !== 'none') assert.ok('mfi_loss' in out, 'the mirror-descent fit ran');
    }
    if (v.alphaMode === 'fixed') assert.ok(Math.abs(agent.temperature.alpha - 0.05) < 1e-7, `fixed α moved to ${agent.temperature.alpha}`);
    for (const explore of [true, false]) {
      const a = agent.act(new Float32Array([0.1, -2, 3, 0.5]), explore, rng);
      assert.equal(a.length, d);
      assert.ok(a.every((x) => x >= -1 && x <= 1));
    }
    agent.dispose();
  }
});

test('the old policy π_k is a hard copy refreshed every oldPolicyInterval updates', () => {
  const replay = filledReplay();
  const agent = new Smfp(o, d, { ...SMFP_DEFAULTS, ...small, oldPolicyInterval: 3 }, 7);
  const rng = new Rng(2);
  const same = () => tf.max(tf.abs(tf.sub(agent.policy.meanHead.kernel, agent.oldPolicy.meanHead.kernel))).dataSync()[0] === 0;
  assert.ok(same());
  agent.update(replay.sample(32, rng), rng);
  assert.ok(!same(), 'π_θ moves away from π_k between refreshes');
  agent.update(replay.sample(32, rng), rng);
  agent.update(replay.sample(32, rng), rng);
  assert.ok(same(), 'after 3 updates π_k ← π_θ');
  agent.dispose();
});

test('a wrong SMFP hyper-parameter is rejected with a typed error naming the field', () => {
  assert.throws(() => new Smfp(o, d, { ...SMFP_DEFAULTS, squash: 'sigmoid' as 'tanh' }, 1), /SMFP squash must be one of tanh, clip/);
  assert.throws(() => new Smfp(o, d, { ...SMFP_DEFAULTS, mdParticles: 0 }, 1), /mdParticles must be an integer >= 1/);
  assert.throws(() => new Smfp(o, d, { ...SMFP_DEFAULTS, tau: 2 }, 1), /tau must be in \[0, 1\]/);
});

test('(Q − V)₊ weights with a floor: states whose particles the critic cannot tell apart get uniform weights', () => {
  tf.tidy(() => {
    // Row 0: clear differences (mean rectified advantage 0.5); row 1: differences of 1e−3 (below the 0.01 floor).
    const q = tf.tensor2d([[0, 0, 2, 2], [5, 5.001, 5, 5.001]]);
    const w = advantageWeights(q, 'relu', 1, 0.01).arraySync() as number[][];
    assert.deepEqual(w[0], [0, 0, 2, 2]);
    assert.deepEqual(w[1], [1, 1, 1, 1]);
    const unfloored = advantageWeights(q, 'relu', 1, 0).arraySync() as number[][];
    assert.ok(Math.abs(unfloored[1][1] - 2) < 1e-3 && unfloored[1][0] === 0, 'without the floor the tiny differences decide');
  });
});

test('best-of-N evaluation picks, among N full samples, the one of highest min Q', () => {
  const agent = new Smfp(o, d, { ...SMFP_DEFAULTS, ...small, evalNoise: 'best-of-n', evalCandidates: 16 }, 9);
  const replay = filledReplay();
  const rng = new Rng(3);
  for (let i = 0; i < 5; i++) agent.update(replay.sample(32, rng), rng);
  const obs = new Float32Array([0.3, -1, 2, 0.1]);
  const value = (a: Float32Array) => tf.tidy(() => agent.critic.minValue(normalizeObservation(agent.policy, tf.tensor2d(obs, [1, o])), tf.tensor2d(a, [1, d])).dataSync()[0]);
  const best = value(agent.act(obs, false, new Rng(11)));
  // Single full samples (exploration draws) are never better than the best of 16, and usually worse.
  const singles = Array.from({ length: 16 }, (_, k) => value(agent.act(obs, true, new Rng(100 + k))));
  assert.ok(singles.filter((q) => q > best + 1e-6).length <= 4, `best-of-16 value ${best} vs singles ${singles}`);
  assert.ok(singles.reduce((a, b) => a + b, 0) / 16 < best, 'the chosen candidate beats the average sample');
  agent.dispose();
});
