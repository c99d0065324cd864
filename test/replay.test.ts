import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayBuffer, ReplayError } from '../src/algos/replay.ts';
import { Rng } from '../src/core/rng.ts';

function filled(capacity: number, n: number): ReplayBuffer {
  const r = new ReplayBuffer(capacity, 3, 2);
  for (let i = 0; i < n; i++) r.add([i, i + 0.5, -i], [i / 10, -i / 10], i * 2, [i + 1, i + 1.5, -i - 1], i % 7 === 0);
  return r;
}

test('the ring overwrites the oldest transitions and samples consistent rows', () => {
  const r = filled(10, 25);
  assert.equal(r.size, 10);
  const b = r.sample(64, new Rng(1));
  for (let j = 0; j < 64; j++) {
    const i = b.observation[j * 3];
    assert.ok(i >= 15 && i < 25, `sampled transition ${i} should be among the last 10`);
    assert.equal(b.reward[j], 2 * i);
    assert.equal(b.nextObservation[j * 3], i + 1);
    assert.equal(b.mask[j], i % 7 === 0 ? 0 : 1);
    assert.ok(Math.abs(b.action[j * 2] - i / 10) < 1e-6);
  }
});

test('sampling is seeded and reuses its batch arrays', () => {
  const r = filled(100, 100);
  const a = Array.from(r.sample(32, new Rng(7)).observation);
  const b1 = r.sample(32, new Rng(7));
  assert.deepEqual(Array.from(b1.observation), a);
  const b2 = r.sample(32, new Rng(8));
  assert.equal(b2.observation, b1.observation, 'the batch buffer is reused, not reallocated');
  assert.notDeepEqual(Array.from(b2.observation), a);
});

test('save/load round-trips the data and the write position', () => {
  const dir = mkdtempSync(join(tmpdir(), 'replay-'));
  const r = filled(10, 13);
  r.save(join(dir, 'replay.bin'));
  const q = ReplayBuffer.load(join(dir, 'replay.bin'));
  assert.equal(q.size, r.size);
  assert.deepEqual(q.observation, r.observation);
  assert.deepEqual(q.mask, r.mask);
  r.add([1, 2, 3], [0, 0], 5, [1, 2, 3], false);
  q.add([1, 2, 3], [0, 0], 5, [1, 2, 3], false);
  assert.deepEqual(q.reward, r.reward, 'both continue writing at the same slot');
  assert.deepEqual(Array.from(q.sample(16, new Rng(3)).action), Array.from(r.sample(16, new Rng(3)).action));
});

test('bad input is rejected with a typed error naming the problem', () => {
  const r = new ReplayBuffer(4, 3, 2);
  assert.throws(() => r.add([1, 2], [0, 0], 0, [1, 2, 3], false), (e: Error) => e instanceof ReplayError && /expected 3/.test(e.message));
  assert.throws(() => r.add([1, 2, 3], [0], 0, [1, 2, 3], false), /action has 1 values, expected 2/);
  assert.throws(() => r.add([1, 2, 3], [0, 0], NaN, [1, 2, 3], false), /reward is NaN/);
  assert.throws(() => r.sample(4, new Rng(0)), /empty/);
  const dir = mkdtempSync(join(tmpdir(), 'replay-'));
  writeFileSync(join(dir, 'bad.bin'), 'hello\nworld');
  assert.throws(() => ReplayBuffer.load(join(dir, 'bad.bin')), /not an onestep replay file/);
  filled(10, 5).save(join(dir, 'ok.bin'));
  const whole = readFileSync(join(dir, 'ok.bin'));
  writeFileSync(join(dir, 'cut.bin'), whole.subarray(0, whole.length - 8));
  assert.throws(() => ReplayBuffer.load(join(dir, 'cut.bin')), /truncated or corrupt/);
  assert.throws(() => ReplayBuffer.load(join(dir, 'missing.bin')), /cannot read/);
});

test('grow keeps transitions in their slots (unwrapped) or oldest-first (wrapped), and sampling continues', () => {
  const r = filled(10, 6);
  const g = r.grow(20);
  assert.equal(g.capacity, 20);
  assert.equal(g.size, 6);
  assert.deepEqual(g.observation.subarray(0, 18), r.observation.subarray(0, 18));
  assert.deepEqual(Array.from(g.sample(8, new Rng(5)).reward), Array.from(r.sample(8, new Rng(5)).reward));
  const wrapped = filled(4, 6).grow(8);
  assert.deepEqual(Array.from(wrapped.reward.subarray(0, 4)), [4, 6, 8, 10], 'oldest first');
  assert.throws(() => r.grow(5), /cannot shrink/);
});
