import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../src/nn/backend.ts';
import { ReplayBuffer } from '../src/algos/replay.ts';
import { Rng } from '../src/core/rng.ts';
import { SAC_DEFAULTS, Sac } from '../src/algos/sac.ts';
import { policyWeights } from '../src/nn/policy.ts';

await initBackend();

/** `n` transitions of random 5-d states and 2-d actions in [-1, 1], random rewards (s' = s). */
function randomReplay(rng: Rng, capacity: number, n: number): ReplayBuffer {
  const replay = new ReplayBuffer(capacity, 5, 2);
  for (let i = 0; i < n; i++) {
    const s = Array.from({ length: 5 }, () => rng.normal());
    replay.add(s, [rng.uniform() * 2 - 1, rng.uniform() * 2 - 1], rng.normal(), s, false);
  }
  return replay;
}

test('SAC updates give finite losses, tune α toward the target entropy, and act in [-1, 1]', () => {
  const rng = new Rng(1);
  const replay = randomReplay(rng, 1000, 300);
  const agent = new Sac(5, 2, { ...SAC_DEFAULTS, actorHidden: [32, 32], critic: { ...SAC_DEFAULTS.critic, hiddenSizes: [32, 32] }, policyDelay: 2 }, 3);
  let out: Record<string, number> = {};
  const alphas: number[] = [];
  for (let i = 0; i < 20; i++) {
    out = agent.update(replay.sample(32, rng), rng);
    for (const [k, v] of Object.entries(out)) assert.ok(Number.isFinite(v), `${k} = ${v}`);
    alphas.push(agent.temperature.alpha);
    // policyDelay 2: the actor and temperature update on every other critic update.
    assert.equal('actor_loss' in out, i % 2 === 0);
  }
  // The initial policy's entropy is far above the target −d, so α must fall.
  assert.ok(alphas[alphas.length - 1] < alphas[0], `α ${alphas[0]} → ${alphas[alphas.length - 1]}`);
  const a = agent.act(new Float32Array(5).fill(0.3), true, rng);
  assert.ok(a.every((x) => x > -1 && x < 1));
  const mean = Array.from(agent.act(new Float32Array(5).fill(0.3), false, rng));
  assert.deepEqual(Array.from(agent.act(new Float32Array(5).fill(0.3), false, rng)), mean, 'evaluation acts with the mean: repeatable');
  agent.dispose();
});

test('a wrong SAC hyper-parameter is rejected with a typed error naming the field', () => {
  assert.throws(() => new Sac(3, 1, { ...SAC_DEFAULTS, gamma: 1.5 }, 1), /SAC gamma must be in \[0, 1\]/);
  assert.throws(() => new Sac(3, 1, { ...SAC_DEFAULTS, policyDelay: 0 }, 1), /policyDelay must be an integer >= 1/);
  assert.throws(() => new Sac(3, 1, { ...SAC_DEFAULTS, actorFreezeUpdates: -1 }, 1), /actorFreezeUpdates must be an integer >= 0/);
});

test('actorFreezeUpdates: the actor and α stay put for the first updates while the critics learn, then train', () => {
  const rng = new Rng(2);
  const replay = randomReplay(rng, 500, 200);
  const agent = new Sac(5, 2, { ...SAC_DEFAULTS, actorHidden: [16, 16], critic: { ...SAC_DEFAULTS.critic, hiddenSizes: [16, 16] }, actorFreezeUpdates: 4 }, 5);
  const snapshot = () => [...policyWeights(agent.policy).values()].map((v) => Array.from(v.dataSync()));
  const actor0 = snapshot();
  const critic0 = Array.from(agent.critic.variables()[0].dataSync());
  const alpha0 = agent.temperature.alpha;
  for (let i = 0; i < 4; i++) assert.ok(!('actor_loss' in agent.update(replay.sample(32, rng), rng)), `update ${i}: no actor step`);
  assert.deepEqual(snapshot(), actor0, 'actor unchanged while frozen');
  assert.notDeepEqual(Array.from(agent.critic.variables()[0].dataSync()), critic0, 'critics learn');
  assert.equal(agent.temperature.alpha, alpha0, 'α held with the actor');
  assert.ok('actor_loss' in agent.update(replay.sample(32, rng), rng));
  assert.notDeepEqual(snapshot(), actor0, 'the actor trains after the freeze');
  assert.notEqual(agent.temperature.alpha, alpha0, 'and α with it');
  agent.dispose();
});

test('bcWeight pulls the actor toward the batch\'s actions (plain SAC does not)', () => {
  const rng = new Rng(4);
  const replay = new ReplayBuffer(300, 3, 1);
  for (let i = 0; i < 200; i++) {
    const s = Array.from({ length: 3 }, () => rng.normal());
    replay.add(s, [0.6], 0, s, false); // zero reward: the critic offers no direction, the data does
  }
  const distance = (bcWeight: number) => {
    const agent = new Sac(3, 1, { ...SAC_DEFAULTS, actorHidden: [16, 16], critic: { ...SAC_DEFAULTS.critic, hiddenSizes: [16, 16] }, actorLearningRate: 3e-3, initialAlpha: 0.01, bcWeight }, 9);
    const r = new Rng(5);
    for (let i = 0; i < 200; i++) agent.update(replay.sample(32, r), r);
    const obs = new Float32Array([0.2, -0.4, 1.0]);
    const d = Math.abs(agent.act(obs, false, r)[0] - 0.6);
    agent.dispose();
    return d;
  };
  const plain = distance(0);
  const cloned = distance(5);
  assert.ok(cloned < 0.1 && cloned < plain / 2, `mean action's distance to the data: ${cloned} with the BC term, ${plain} without`);
  assert.throws(() => new Sac(3, 1, { ...SAC_DEFAULTS, bcWeight: -1 }, 1), /bcWeight must be >= 0/);
});
