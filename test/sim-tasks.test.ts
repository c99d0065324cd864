// Every task on real MuJoCo: 1,000 random-action steps stay finite, resets cover the stated distribution, and the
// scripted controllers reach their stated success rates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MujocoEnv } from '../src/sim/env.ts';
import { evaluate, randomPolicy, scriptedPolicy } from '../src/sim/evaluate.ts';
import { TASK_NAMES } from '../src/sim/tasks/index.ts';
import { pathLength } from '../src/sim/tasks/two-way.ts';

for (const name of TASK_NAMES) {
  test(`${name}: 1,000 random-action steps give finite observations and rewards`, async () => {
    const env = await MujocoEnv.make(name);
    const policy = randomPolicy(env.actionSize, 9);
    let obs = env.reset(0);
    let episodes = 0;
    for (let t = 0; t < 1000; t++) {
      const r = env.step(policy(obs));
      assert.equal(r.obs.length, env.observationSize);
      assert.ok(r.obs.every(Number.isFinite), `${name}: non-finite observation at step ${t}: ${r.obs}`);
      assert.ok(Number.isFinite(r.reward), `${name}: non-finite reward at step ${t}`);
      assert.equal(r.info.unstable, false, `${name}: MuJoCo reset a diverging state at step ${t}`);
      obs = r.obs;
      if (r.terminated || r.truncated) {
        episodes++;
        obs = env.reset();
      }
    }
    assert.ok(episodes >= 1000 / env.task.maxSteps - 1);
    env.close();
  });
}

/** Observations right after reset for seeds 0..n-1. */
async function resets(name: string, n: number): Promise<Float32Array[]> {
  const env = await MujocoEnv.make(name);
  const out = Array.from({ length: n }, (_, seed) => Float32Array.from(env.reset(seed)));
  env.close();
  return out;
}
const column = (rows: Float32Array[], i: number) => rows.map((r) => r[i]);
const spans = (values: number[], lo: number, hi: number, cover: number, what: string) => {
  const min = Math.min(...values);
  const max = Math.max(...values);
  assert.ok(min >= lo - 1e-6 && max <= hi + 1e-6, `${what}: [${min}, ${max}] outside [${lo}, ${hi}]`);
  assert.ok(min <= lo + cover * (hi - lo) && max >= hi - cover * (hi - lo), `${what}: [${min}, ${max}] does not cover [${lo}, ${hi}]`);
};

test('pendulum resets: angle uniform over the full circle, angular velocity in [-1, 1]', async () => {
  const rows = await resets('pendulum', 300);
  const angles = rows.map((r) => Math.atan2(r[1], r[0]));
  spans(angles, -Math.PI, Math.PI, 0.05, 'angle');
  spans(column(rows, 2), -1, 1, 0.05, 'angular velocity');
  // Roughly uniform: each quarter of the circle gets 15–35 % of the starts.
  for (let q = 0; q < 4; q++) {
    const share = angles.filter((a) => a >= -Math.PI + (q * Math.PI) / 2 && a < -Math.PI + ((q + 1) * Math.PI) / 2).length / rows.length;
    assert.ok(share > 0.15 && share < 0.35, `quarter ${q}: ${share}`);
  }
});

test('reacher resets: target radius in [0.05, 0.22] m in every direction', async () => {
  const rows = await resets('reacher', 300);
  spans(rows.map((r) => Math.hypot(r[4], r[5])), 0.05, 0.22, 0.05, 'target radius');
  spans(rows.map((r) => Math.atan2(r[5], r[4])), -Math.PI, Math.PI, 0.05, 'target heading');
  spans(rows.map((r) => Math.atan2(r[3], r[1])), -0.5, 0.5, 0.05, 'elbow angle');
});

test('arm_reach resets: target fills the box x [0.35, 0.65], y [-0.35, 0.35], z [0.15, 0.6]; joints near home', async () => {
  const rows = await resets('arm_reach', 300);
  spans(column(rows, 17), 0.35, 0.65, 0.05, 'target x');
  spans(column(rows, 18), -0.35, 0.35, 0.05, 'target y');
  spans(column(rows, 19), 0.15, 0.6, 0.05, 'target z');
  const home = [0, 0.3, 0, 1.6, 0, 1.0, 0];
  for (let j = 0; j < 7; j++) spans(column(rows, j), home[j] - 0.1, home[j] + 0.1, 0.05, `joint${j + 1}`);
  for (let j = 7; j < 14; j++) assert.ok(rows.every((r) => r[j] === 0));
});

test('arm_push resets: puck on the table in x [0.45, 0.6], y [-0.12, 0.12]; goal 8–18 cm away', async () => {
  const rows = await resets('arm_push', 300);
  spans(column(rows, 17), 0.45, 0.6, 0.05, 'puck x');
  spans(column(rows, 18), -0.12, 0.12, 0.05, 'puck y');
  assert.ok(rows.every((r) => Math.abs(r[19] - 0.02) < 0.005), 'puck rests on the table');
  spans(rows.map((r) => Math.hypot(r[22] - r[17], r[23] - r[18])), 0.08, 0.18, 0.05, 'goal distance');
  spans(rows.map((r) => Math.atan2(r[23] - r[18], r[22] - r[17])), -Math.PI, Math.PI, 0.1, 'goal heading');
});

test('cheetah resets: joints within ±0.1 of the nominal pose, torso above the floor', async () => {
  const rows = await resets('cheetah', 200);
  for (let j = 1; j < 8; j++) spans(column(rows, j), -0.1, 0.1, 0.05, `qpos[${j + 1}]`);
  assert.ok(rows.every((r) => r[0] > -0.2 && r[0] < 0.2));
});

test('two_way resets: start and goal within 3 cm of their nominal points, on both sides of the wall', async () => {
  const rows = await resets('two_way', 300);
  spans(column(rows, 0), -0.03, 0.03, 0.05, 'start x');
  spans(column(rows, 1), -0.43, -0.37, 0.05, 'start y');
  spans(column(rows, 4), -0.03, 0.03, 0.05, 'goal x');
  spans(column(rows, 5), 0.37, 0.43, 0.05, 'goal y');
  // Both detours are equally long up to the start noise (the two solutions are equally good).
  const left = pathLength(-0.001, -0.4, 0, 0.4);
  const right = pathLength(0.001, -0.4, 0, 0.4);
  assert.ok(Math.abs(left - right) < 1e-3 && left > 0.8 + 0.1);
  assert.equal(pathLength(0.5, -0.4, 0.5, 0.4), 0.8, 'an unblocked path is the straight line');
});

const SCRIPTED: { task: string; episodes: number; success?: number; minReturn?: number }[] = [
  { task: 'pendulum', episodes: 30, success: 0.9 },
  { task: 'reacher', episodes: 30, success: 0.9 },
  { task: 'arm_reach', episodes: 50, success: 0.9 },
  { task: 'arm_push', episodes: 30, success: 0.8 },
  { task: 'two_way', episodes: 30, success: 0.9 },
  { task: 'cheetah', episodes: 3, minReturn: 800 },
];

for (const s of SCRIPTED) {
  test(`${s.task}: the scripted controller ${s.success ? `succeeds in ≥ ${s.success * 100}% of ${s.episodes} episodes` : `returns ≥ ${s.minReturn}`} and beats random`, async () => {
    const env = await MujocoEnv.make(s.task);
    const scripted = evaluate(env, scriptedPolicy(env), { episodes: s.episodes, seed: 1000 });
    const random = evaluate(env, randomPolicy(env.actionSize, 0), { episodes: Math.min(s.episodes, 10), seed: 1000 });
    if (s.success !== undefined) assert.ok(scripted.successRate! >= s.success, `${s.task}: scripted success ${scripted.successRate}`);
    if (s.minReturn !== undefined) assert.ok(scripted.meanReturn >= s.minReturn, `${s.task}: scripted return ${scripted.meanReturn}`);
    assert.ok(scripted.meanReturn > random.meanReturn + 3 * random.stdReturn / Math.sqrt(10), `${s.task}: scripted ${scripted.meanReturn} vs random ${random.meanReturn}`);
    if (s.task === 'two_way') {
      // Both solutions are taken: neither side gets fewer than a quarter of the episodes.
      const { left, right, none } = scripted.modeCounts!;
      assert.equal(none, 0);
      assert.ok(left >= s.episodes / 4 && right >= s.episodes / 4, `modes left ${left} right ${right}`);
    }
    env.close();
  });
}

test('arm_reach: the goal-relative entries agree with tip and target; the goal interface recomputes rewards and relabels consistently', async () => {
  const { REACH_LAYOUT, armReach } = await import('../src/sim/tasks/arm-reach.ts');
  const goal = armReach.goal!;
  const env = await MujocoEnv.make('arm_reach');
  let obs = Float32Array.from(env.reset(5));
  const rng = randomPolicy(env.actionSize, 1);
  let worst = 0;
  for (let t = 0; t < 30; t++) {
    const r = env.step(rng(obs));
    const { ee, target, toTarget, distance } = REACH_LAYOUT;
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(r.obs[toTarget + i] - (r.obs[target + i] - r.obs[ee + i])) < 1e-5);
    assert.ok(Math.abs(r.obs[distance] - Math.hypot(r.obs[toTarget], r.obs[toTarget + 1], r.obs[toTarget + 2])) < 1e-5);
    worst = Math.max(worst, Math.abs(goal.reward(obs, 0, r.obs, 0) - r.reward));
    obs = Float32Array.from(r.obs);
  }
  // Relabelling an observation with its own target changes nothing (the derived tip-to-target entries up to float32
  // rounding: the environment subtracts in float64 before rounding, the relabel subtracts the rounded values);
  // with the tip as target the distance is 0.
  const again = Float32Array.from(obs);
  goal.relabel(again, 0, obs, REACH_LAYOUT.target);
  const derived = (i: number) => i >= REACH_LAYOUT.toTarget && i <= REACH_LAYOUT.distance;
  assert.deepEqual([...again].filter((_, i) => !derived(i)), [...obs].filter((_, i) => !derived(i)));
  for (let i = REACH_LAYOUT.toTarget; i <= REACH_LAYOUT.distance; i++) assert.ok(Math.abs(again[i] - obs[i]) < 1e-6, `entry ${i}: ${again[i]} vs ${obs[i]}`);
  goal.relabel(again, 0, obs, goal.achievedAt);
  assert.equal(again[REACH_LAYOUT.distance], 0);
  assert.deepEqual([...again.subarray(REACH_LAYOUT.target, REACH_LAYOUT.target + 3)], [...obs.subarray(REACH_LAYOUT.ee, REACH_LAYOUT.ee + 3)]);
  // float32 observations against the float64 simulation state
  assert.ok(worst < 1e-4, `largest reward difference ${worst}`);
  env.close();
});
