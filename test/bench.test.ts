// `onestep bench` smoke test on a tiny n: real ONNX Runtime, the shipped model, table and JSON written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LatencyRecorder, histogram, median, percentile, summarize } from '../src/core/latency.ts';

test('onestep bench prints the latency table and ratios and writes JSON', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'onestep-bench-'));
  const json = join(dir, 'out', 'bench.json');
  const stdout = execFileSync('node', ['bin/onestep.js', 'bench', '--n', '200', '--warmup', '20', '--flow-steps', '3', '--period-ms', '2', '--period-n', '30', '--json', json], { encoding: 'utf8' });
  for (const row of ['PolicyRuntime.act', 'PolicyRuntime.act, once per 2 ms', 'session.run (sync binding)', 'session.run (public API, await)', 'identity floor (sync binding)', '1-step Euler flow', '3-step Euler flow']) {
    assert.match(stdout, new RegExp(`^${row.replace(/[()]/g, '\\$&')}[^\\n]*\\s\\d`, 'm'), `missing row ${row}`);
  }
  assert.match(stdout, /act p50 \/ raw session.run p50 \(same model\)\s+\d+\.\d+/);
  assert.match(stdout, /UNTRAINED/);
  const result = JSON.parse(await readFile(json, 'utf8'));
  assert.equal(result.n, 200);
  assert.equal(result.synchronous, true);
  const act = result.cases.find((c: { key: string }) => c.key === 'act');
  assert.equal(act.summary.count, 200);
  assert.ok(act.summary.p50 > 0 && act.summary.p50 <= act.summary.p99 && act.summary.p99 <= act.summary.max);
  assert.ok(result.ratios.flowOverOneStep > 1, 'a 3-step flow costs more than a 1-step one');
  assert.ok(result.coldStart.loadMs > 0 && result.coldStart.firstActUs > 0);
  // the once-per-period case: its own sample count, and the ratio printed from the same figures
  const periodic = result.cases.find((c: { key: string }) => c.key === 'act_period');
  assert.equal(periodic.summary.count, 30);
  assert.equal(result.periodMs, 2);
  assert.ok(Math.abs(result.ratios.periodOverBackToBack - periodic.summary.p50 / act.summary.p50) < 1e-9);
  assert.match(stdout, new RegExp(`act once per 2 ms p50 / act back to back p50\\s+${result.ratios.periodOverBackToBack.toFixed(2)}×`));
  assert.match(stdout, /cold start: PolicyRuntime.load [\d.]+ ms, then the first act [\d.]+ µs/);
});

test('onestep bench rejects bad flags in one line', () => {
  assert.throws(
    () => execFileSync('node', ['bin/onestep.js', 'bench', '--n', '0'], { stdio: 'pipe' }),
    (err: { status: number; stderr: Buffer }) => err.status === 1 && err.stderr.toString() === 'onestep: --n must be at least 1 (got 0)\n',
  );
  assert.throws(
    () => execFileSync('node', ['bin/onestep.js', 'bench', '--period-ms', '-1'], { stdio: 'pipe' }),
    (err: { status: number; stderr: Buffer }) => err.status === 1 && err.stderr.toString() === 'onestep: --period-ms must be a number of milliseconds >= 0 (got -1)\n',
  );
});

test('onestep bench --period-ms 0 skips the once-per-period case', () => {
  const stdout = execFileSync('node', ['bin/onestep.js', 'bench', '--n', '50', '--warmup', '5', '--flow-steps', '0', '--period-ms', '0', '--histogram', 'false'], { encoding: 'utf8' });
  assert.match(stdout, /^PolicyRuntime\.act\s+\d/m);
  assert.doesNotMatch(stdout, /once per/);
});

test('latency statistics: nearest-rank percentiles, ring window, histogram', () => {
  const sorted = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 0.5), 500);
  assert.equal(percentile(sorted, 0.99), 990);
  assert.equal(percentile(sorted, 0.999), 999);
  const s = summarize([5, 1, 3]);
  assert.deepEqual([s.min, s.p50, s.max, s.mean, s.count], [1, 3, 5, 3, 3]);
  const rec = new LatencyRecorder(4);
  for (const v of [100, 1, 2, 3, 4]) rec.record(v);
  assert.equal(rec.recorded, 5);
  assert.deepEqual(Array.from(rec.values()).sort((a, b) => a - b), [1, 2, 3, 4], 'the oldest sample left the window');
  const h = histogram([0.5, 3, 3, 7, 1e9], [1, 5, 10]);
  assert.deepEqual(h.counts, [1, 2, 1, 1]);
  // the benchmarks' median over rounds; unsorted input left as it was
  const rounds = [9, 2, 7, 4];
  assert.equal(median(rounds), 5.5, 'even count: the mean of the two middle values');
  assert.equal(median([3, 1, 2]), 2);
  assert.deepEqual(rounds, [9, 2, 7, 4]);
  assert.ok(Number.isNaN(median([])));
});
