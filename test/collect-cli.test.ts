// `onestep collect` and `onestep dataset info` end to end: a noisy, mode-mixed two_way dataset (DART labels vs
// executed labels from the same seed), what the file records, the info report, and bad input as one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assignModes, parseMix } from '../src/cli/collect.ts';
import { readNpz, writeNpz } from '../src/data/index.ts';
import { Rng } from '../src/core/rng.ts';
import { onestep, onestepInProcess } from './helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'onestep-collect-'));

test('--mix shares become exact per-episode counts in a seeded order', () => {
  const shares = parseMix('left=3,right=1', 'two_way', ['left', 'right']);
  assert.deepEqual([...shares], [['left', 0.75], ['right', 0.25]]);
  assert.deepEqual([...parseMix('left,right', 'two_way', ['left', 'right']).values()], [0.5, 0.5]);
  const order = assignModes(shares, 10, new Rng(1));
  // 7.5 / 2.5: the largest remainder goes to the first mode on a tie
  assert.equal(order.filter((m) => m === 'left').length, 8);
  assert.equal(order.length, 10);
  assert.deepEqual(assignModes(shares, 10, new Rng(1)), order);
  assert.notDeepEqual(assignModes(shares, 10, new Rng(2)), order, 'the order is shuffled by the seed');
  assert.throws(() => parseMix('up', 'two_way', ['left', 'right']), /'up' is not MODE or MODE=SHARE/);
  assert.throws(() => parseMix('left', 'arm_reach', undefined), /needs a task with modes/);
});

test('onestep collect: noisy mixed two_way with clean (DART) or executed labels, then dataset info', async () => {
  const clean = join(dir, 'clean.npz');
  const executed = join(dir, 'executed.npz');
  const common = ['collect', '--task', 'two_way', '--episodes', '8', '--mix', 'left=0.75,right=0.25', '--noise', '0.3', '--seed', '5', '--progress', 'none'];
  const [a, b] = [await onestep(...common, '--out', clean, '--json'), await onestep(...common, '--label', 'executed', '--out', executed)];
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const summary = JSON.parse(a.stdout);
  assert.deepEqual(summary.modeCounts, { left: 6, right: 2 });
  assert.equal(summary.transitions, 400);
  assert.match(b.stdout, /^wrote .*executed\.npz: 8 episodes, 400 transitions of two_way \(observation 8, action 2\)/m);
  assert.match(b.stdout, /^policy scripted, noise σ 0\.3 \(stored action: executed\), modes forced left 75% \/ right 25%$/m);

  const ds = readNpz(clean);
  const ex = readNpz(executed);
  assert.equal(ds.task, 'two_way');
  assert.deepEqual(ds.observationNames, ['x', 'y', 'velocity_x', 'velocity_y', 'goal_x', 'goal_y', 'to_goal_x', 'to_goal_y']);
  assert.deepEqual((ds.metadata?.collect as { mix: object }).mix, { left: 0.75, right: 0.25 });
  const modes = ds.metadata?.episodeModes as string[];
  assert.equal(modes.filter((m) => m === 'left').length, 6);
  assert.equal(ds.episodeEnds.reduce((s, e) => s + e, 0), 8);
  assert.equal(ds.success?.length, 400);
  // Same seed, same noise: the same episodes; only the stored action differs, by the injected noise.
  assert.deepEqual(ex.observations, ds.observations);
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < ds.actions.length; i++) {
    const delta = ex.actions[i] - ds.actions[i];
    sum += delta;
    squares += delta * delta;
  }
  const mean = sum / ds.actions.length;
  const std = Math.sqrt(squares / ds.actions.length - mean * mean);
  assert.ok(Math.abs(mean) < 0.05, `noise mean ${mean}`);
  assert.ok(std > 0.15 && std < 0.31, `noise std ${std} (σ 0.3, less where clipped to [-1, 1])`);

  const info = await onestep('dataset', 'info', clean);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^task two_way: observation 8, action 2$/m);
  assert.match(info.stdout, /^transitions 400 in 8 episodes \(length mean 50\.0, min 50, max 50\); 0 end in a terminal state$/m);
  assert.match(info.stdout, new RegExp(`^return ${summary.returnMean.toFixed(2)} ± ${summary.returnStd.toFixed(2)} `, 'm'));
  assert.match(info.stdout, /^success \d+\.\d% \(within 5 cm of the goal at the end\)$/m);
  assert.match(info.stdout, /^modes left 6, right 2$/m);
  assert.match(info.stdout, /^ {2}to_goal_y +-?\d/m);
  const json = JSON.parse((await onestep('dataset', 'info', clean, '--json')).stdout);
  assert.equal(json.transitions, 400);
  assert.equal(json.successRate, summary.successRate);
  assert.ok(json.actions.min.every((x: number) => x >= -1) && json.actions.max.every((x: number) => x <= 1));
});

test('bad input: one line naming what was wrong, no stack trace', async () => {
  const nan = join(dir, 'nan.npz');
  const obs = new Float32Array(6).fill(0.5);
  obs[4] = Number.NaN;
  writeNpz(nan, {
    observations: { data: obs, shape: [3, 2] },
    actions: { data: new Float32Array(3), shape: [3, 1] },
    rewards: { data: new Float32Array(3), shape: [3] },
    next_observations: { data: new Float32Array(6), shape: [3, 2] },
    terminals: { data: new Float32Array(3), shape: [3] },
  });
  const cases: [string[], RegExp][] = [
    [['dataset', 'info', nan], /^onestep: .*nan\.npz: key 'observations' row 2 column 0: value NaN is not finite/],
    [['dataset', 'info', join(dir, 'missing.npz')], /^onestep: .*missing\.npz: does not exist$/],
    [['collect', '--task', 'arm_reach', '--episodes', '1', '--mix', 'left', '--out', join(dir, 'x.npz')], /^onestep: --mix needs a task with modes \(two_way\); arm_reach has none$/],
    [['collect', '--task', 'two_way', '--episodes', '1', '--noise', '-1', '--out', join(dir, 'x.npz')], /^onestep: --noise must be a number >= 0/],
    [['collect', '--task', 'two_way', '--episodes', '1', '--out', join(dir, 'x.csv')], /^onestep: --out must name an \.npz file/],
  ];
  for (const [args, message] of cases) {
    const r = await onestepInProcess(...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr.trim(), message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  writeFileSync(join(dir, 'notes.txt'), 'hello');
  const r = await onestep('dataset', 'info', join(dir, 'notes.txt'));
  assert.match(r.stderr, /is not a dataset onestep reads: give an \.npz file, a Minari dataset folder or its main_data\.hdf5/);
});

test('DAgger: --label scripted stores the controller\'s action at the states another policy reached; dataset merge joins rounds', async () => {
  const driven = join(dir, 'random-relabelled.npz');
  const expert = join(dir, 'scripted.npz');
  const common = ['--task', 'arm_reach', '--episodes', '2', '--seed', '3', '--progress', 'none'];
  const a = await onestep('collect', ...common, '--policy', 'random', '--label', 'scripted', '--out', driven);
  const b = await onestep('collect', ...common, '--out', expert);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.match(a.stdout, /^policy random \(stored action: scripted\)$/m);
  const ds = readNpz(driven);
  const ref = readNpz(expert);
  const rows = ds.size / 2;
  const { observationSize: d, actionSize: n } = ds;
  const commandAt = ds.observationNames!.indexOf('joint1_command');
  assert.ok(commandAt > 0);
  for (const start of [0, rows]) {
    // the same reset state: the label there is the scripted controller's own first action
    assert.deepEqual(ds.observations.subarray(start * d, (start + 1) * d), ref.observations.subarray(start * d, (start + 1) * d));
    assert.deepEqual(ds.actions.subarray(start * n, (start + 1) * n), ref.actions.subarray(start * n, (start + 1) * n));
  }
  // …but the random policy drove: the joint commands in force after the steps are not the stored labels' (which
  // would move by at most the controller's small Cartesian step), so the episodes part from the scripted ones.
  let apart = 0;
  for (let i = 0; i < 7; i++) apart = Math.max(apart, Math.abs(ds.observations[(rows - 1) * d + commandAt + i] - ref.observations[(rows - 1) * d + commandAt + i]));
  assert.ok(apart > 0.05, `last commands differ by ${apart} rad`);

  const merged = join(dir, 'merged.npz');
  const m = await onestep('dataset', 'merge', expert, driven, '--out', merged);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, new RegExp(`^wrote .*merged\\.npz: ${2 * ds.size} transitions in 4 episodes from 2 datasets \\(${ds.size} \\+ ${ds.size}\\)`));
  const all = readNpz(merged);
  assert.equal(all.size, 2 * ds.size);
  assert.deepEqual(all.actions.subarray(0, ref.actions.length), ref.actions);
  assert.deepEqual(all.actions.subarray(ref.actions.length), ds.actions);
  assert.deepEqual(all.nextObservations.subarray(ref.nextObservations.length), ds.nextObservations);
  assert.equal(all.episodeEnds.reduce((s, e) => s + e, 0), 4);
  assert.deepEqual((all.metadata?.merged as { transitions: number }[]).map((p) => p.transitions), [ds.size, ds.size]);

  const other = join(dir, 'two-way.npz');
  assert.equal((await onestep('collect', '--task', 'two_way', '--episodes', '1', '--out', other, '--progress', 'none')).code, 0);
  const cases: [string[], RegExp][] = [
    [['dataset', 'merge', expert, other, '--out', join(dir, 'bad.npz')], /^onestep: .*two-way\.npz: key 'observations': observation size 8 differs from 31 in .*scripted\.npz$/],
    [['collect', '--task', 'arm_reach', '--episodes', '1', '--label', 'scripted', '--out', join(dir, 'x.npz')], /^onestep: --label scripted relabels the episodes of another policy/],
  ];
  for (const [args, message] of cases) {
    const r = await onestepInProcess(...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr.trim(), message);
  }
});
