import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsLog } from '../src/algos/metrics.ts';
import { renderCurves } from '../src/algos/plot.ts';

test('the metrics log writes JSONL and CSV rows and cuts both back to the checkpoint step on resume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'metrics-'));
  const log = new MetricsLog(join(dir, 'm.jsonl'), join(dir, 'm.csv'), ['env_steps', 'return', 'note']);
  log.open(null);
  for (const s of [100, 200, 300]) log.write({ env_steps: s, return: s / 7, note: s === 200 ? 'a,"b"' : 'x' });
  assert.equal(readFileSync(join(dir, 'm.csv'), 'utf8').split('\n')[2], '200,28.5714,"a,""b"""');
  const resumed = new MetricsLog(join(dir, 'm.jsonl'), join(dir, 'm.csv'), ['env_steps', 'return', 'note']);
  resumed.open(200);
  resumed.write({ env_steps: 250, return: 1, note: 'y' });
  assert.deepEqual(resumed.rows().map((r) => r.env_steps), [100, 200, 250]);
  assert.deepEqual(readFileSync(join(dir, 'm.csv'), 'utf8').trim().split('\n').map((l) => l.split(',')[0]), ['env_steps', '100', '200', '250']);
});

test('the learning-curve SVG is well-formed, draws each series and its band, and escapes labels', () => {
  const svg = renderCurves({
    title: 'a < b & c',
    xLabel: 'environment steps',
    yLabel: 'return',
    series: [
      { label: 'SMFP', x: [0, 1000, 2000], y: [-100, -50, -10], band: [5, 5, 5] },
      { label: 'SAC', x: [0, 1000, 2000], y: [-120, -60, NaN] },
    ],
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
  assert.equal((svg.match(/<polygon /g) ?? []).length, 1);
  assert.ok(svg.includes('a &lt; b &amp; c'));
  assert.ok(!svg.includes('NaN'), 'non-finite points are skipped');
  // Tick labels cover the data range.
  assert.ok(svg.includes('>2000<') || svg.includes('>2k<'));
});
