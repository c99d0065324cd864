// The offline grid: aggregates runs named <task>-<dataset>-<algo>-s<seed> (algo meanflowql, bc or gaussian-bc)
// under a folder into a Markdown table of the exported policies' success over fresh episodes (sampled noise as
// served, and zero noise), the modes each seed takes on tasks that have them, and success curves over offline
// updates (the training-time evaluations) as SVG. Each policy is evaluated once through `onestep eval` (ONNX
// Runtime); the result is cached beside it as eval-sampled.json / eval-zero.json.
//
//   node --import tsx scripts/offline-grid.ts [runs/off] [--curves docs/curves] [--episodes 50] [--seed 10000]
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderCurves, type CurveSeries } from '../src/algos/plot.ts';
import { evaluateRun as evaluate, type EvalResult } from './eval-cache.ts';
import { mean, std } from './stats.ts';

const ALGOS = ['meanflowql', 'bc', 'gaussian-bc'] as const;
const LABEL: Record<string, string> = { meanflowql: 'MeanFlowQL', bc: 'MeanFlow BC', 'gaussian-bc': 'Gaussian BC' };
const COLOR: Record<string, string> = { meanflowql: '#d62728', bc: '#2ca02c', 'gaussian-bc': '#1f77b4' };

interface EvalRow {
  updates: number;
  success_rate: number;
  return_mean: number;
  phase?: string;
}

interface Run {
  task: string;
  dataset: string;
  algo: string;
  seed: number;
  dir: string;
  curve: EvalRow[];
  sampled: EvalResult;
  zero: EvalResult;
}

const pct = (x: number) => `${(100 * x).toFixed(0)} %`;

function loadRuns(root: string, episodes: number, seed: number): Run[] {
  const runs: Run[] = [];
  for (const name of readdirSync(root).sort()) {
    const m = /^([a-z_]+?)-([a-z0-9]+)-(meanflowql|bc|gaussian-bc)-s(\d+)$/.exec(name);
    const dir = join(root, name);
    if (!m || !existsSync(join(dir, 'policy.onnx'))) continue; // finished runs only
    const curve = readFileSync(join(dir, 'eval.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalRow).filter((r) => r.phase !== 'online');
    process.stderr.write(`evaluating ${name}\n`);
    runs.push({ task: m[1], dataset: m[2], algo: m[3], seed: Number(m[4]), dir, curve, sampled: evaluate(dir, episodes, seed, false), zero: evaluate(dir, episodes, seed, true) });
  }
  return runs;
}

function modes(r: EvalResult): string {
  if (!r.modeCounts) return '';
  return Object.entries(r.modeCounts).map(([k, v]) => `${k} ${v}`).join(' / ');
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { curves: { type: 'string', default: 'docs/curves' }, episodes: { type: 'string', default: '50' }, seed: { type: 'string', default: '10000' } },
  });
  const root = positionals[0] ?? 'runs/off';
  const runs = loadRuns(root, Number(values.episodes), Number(values.seed));
  mkdirSync(values.curves!, { recursive: true });
  const lines = [
    '| task / dataset | algorithm | seeds | success, sampled (per seed) | mean ± std | success, zero noise (per seed) | modes per seed, sampled | return, sampled |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const summary: Record<string, unknown> = {};
  const groups = [...new Set(runs.map((r) => `${r.task}-${r.dataset}`))];
  for (const group of groups) {
    const series: CurveSeries[] = [];
    for (const algo of ALGOS) {
      const same = runs.filter((r) => `${r.task}-${r.dataset}` === group && r.algo === algo);
      if (!same.length) continue;
      const sampled = same.map((r) => r.sampled.successRate);
      const returns = same.map((r) => r.sampled.meanReturn);
      lines.push(
        `| ${group} | ${LABEL[algo]} | ${same.map((r) => r.seed).join(', ')} | ${sampled.map(pct).join(', ')} | ${pct(mean(sampled))} ± ${(100 * std(sampled)).toFixed(0)} | ` +
          `${same.map((r) => pct(r.zero.successRate)).join(', ')} | ${same.map((r) => modes(r.sampled)).filter(Boolean).join('; ')} | ${mean(returns).toFixed(1)} ± ${std(returns).toFixed(1)} |`,
      );
      summary[`${group}/${algo}`] = same.map((r) => ({ seed: r.seed, sampled: r.sampled.successRate, zero: r.zero.successRate, modes: r.sampled.modeCounts, return: r.sampled.meanReturn }));
      // Training-time evaluations share one schedule across seeds; cut to the shortest.
      const n = Math.min(...same.map((r) => r.curve.length));
      const x = same[0].curve.slice(0, n).map((e) => e.updates);
      const ys = x.map((_, i) => same.map((r) => 100 * r.curve[i].success_rate));
      series.push({ label: `${LABEL[algo]} (${same.length} seed${same.length > 1 ? 's' : ''})`, x, y: ys.map(mean), band: ys.map(std), color: COLOR[algo] });
    }
    writeFileSync(
      join(values.curves!, `offline-${group}.svg`),
      renderCurves({ title: `${group}: offline training (evaluation success %, mean ± std over seeds)`, xLabel: 'offline updates', yLabel: 'success %', series }),
    );
  }
  writeFileSync(join(values.curves!, 'offline-grid.json'), JSON.stringify(summary, null, 2) + '\n');
  process.stdout.write(lines.join('\n') + '\n');
}

main();
