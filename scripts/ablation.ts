// The SMFP switch ablation as one table: runs named <task>-<variant>-s<seed> under a folder (each trained with
// one `--set` away from the defaults; `default` is the baseline), with the training-time evaluations (steps to
// 90 % success, success and return at the last evaluation) and the exported policy over fresh episodes through
// ONNX Runtime (sampled noise as served, and zero noise). The override of each run is read from its command.
//
//   node --import tsx scripts/ablation.ts [runs/abl] [--episodes 50] [--seed 10000] [--curves docs/curves/ablation]
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderCurves, type CurveSeries } from '../src/algos/plot.ts';
import { evaluateRun } from './eval-cache.ts';

interface EvalRow {
  env_steps: number;
  return_mean: number;
  success_rate: number;
}

const PALETTE = ['#000000', '#d62728', '#2ca02c', '#1f77b4', '#9467bd', '#ff7f0e', '#8c564b'];

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { episodes: { type: 'string', default: '50' }, seed: { type: 'string', default: '10000' }, curves: { type: 'string', default: 'docs/curves/ablation' } },
  });
  const root = positionals[0] ?? 'runs/abl';
  const episodes = Number(values.episodes);
  const seed = Number(values.seed);
  const lines = [
    '| variant | override | seed | steps to 90 % (training evaluations) | success, last evaluation | return, last evaluation | exported, sampled | exported, zero noise |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const series: Record<string, CurveSeries[]> = {};
  const names = readdirSync(root).filter((n) => /^[a-z_]+-[a-z-]+-s\d+$/.test(n) && existsSync(join(root, n, 'policy.onnx')));
  // The baseline first, then the variants in name order.
  names.sort((a, b) => Number(!a.includes('-default-')) - Number(!b.includes('-default-')) || a.localeCompare(b));
  names.forEach((name, i) => {
    const [, task, variant, s] = /^([a-z_]+?)-([a-z-]+)-s(\d+)$/.exec(name)!;
    const dir = join(root, name);
    const evals = readFileSync(join(dir, 'eval.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalRow);
    const command = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { command: string }).command;
    const override = [...command.matchAll(/--set (\S+)/g)].map((m) => m[1]).join(' ') || '(defaults)';
    const last = evals[evals.length - 1];
    const to90 = evals.find((e) => e.success_rate >= 0.9)?.env_steps;
    process.stderr.write(`evaluating ${name}\n`);
    const sampled = evaluateRun(dir, episodes, seed, false);
    const zero = evaluateRun(dir, episodes, seed, true);
    const pct = (x: number) => `${(100 * x).toFixed(0)} %`;
    lines.push(
      `| ${variant} | \`${override}\` | ${s} | ${to90 ?? 'not reached'} | ${pct(last.success_rate)} at ${last.env_steps} | ${last.return_mean.toFixed(1)} | ${pct(sampled.successRate)} | ${pct(zero.successRate)} |`,
    );
    (series[task] ??= []).push({ label: `${variant} (s${s})`, x: evals.map((e) => e.env_steps), y: evals.map((e) => 100 * e.success_rate), color: PALETTE[i % PALETTE.length] });
  });
  mkdirSync(values.curves!, { recursive: true });
  for (const [task, s] of Object.entries(series)) {
    writeFileSync(join(values.curves!, `${task}.svg`), renderCurves({ title: `${task}: SMFP switches (training-time evaluation success %)`, xLabel: 'environment steps', yLabel: 'success %', series: s }));
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main();
