// SMFP vs SAC at equal environment steps: aggregates runs named <task>-<algo>-s<seed> under a folder into
// learning curves (return and success rate, mean ± std over seeds) as SVG, a Markdown table with the environment
// steps to 90 % success, and, for tasks with modes, the fraction of episodes taking each mode with the exported
// policies.
//
//   node --import tsx scripts/compare.ts <run folders…> [--curves docs/curves] [--mode-episodes 50]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderCurves, type CurveSeries } from '../src/algos/plot.ts';
import { mean, std } from './stats.ts';

interface EvalRow {
  env_steps: number;
  return_mean: number;
  return_std: number;
  success_rate: number;
  modes: string;
}

interface Run {
  task: string;
  algo: string;
  seed: number;
  dir: string;
  evals: EvalRow[];
  config: { loop: { totalSteps: number }; command: string };
}


function loadRuns(root: string): Run[] {
  const runs: Run[] = [];
  for (const name of readdirSync(root)) {
    const m = /^([a-z_]+)-(smfp|sac)-s(\d+)$/.exec(name);
    const dir = join(root, name);
    if (!m || !existsSync(join(dir, 'policy.onnx'))) continue; // finished runs only
    const evals = readFileSync(join(dir, 'eval.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalRow);
    runs.push({ task: m[1], algo: m[2], seed: Number(m[3]), dir, evals, config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) });
  }
  return runs;
}

function modeFractions(model: string, task: string, episodes: number, deterministic: boolean): Record<string, number> {
  const args = ['bin/onestep.js', 'eval', '--model', model, '--task', task, '--episodes', String(episodes), '--seed', '5000', '--json'];
  if (deterministic) args.push('--deterministic');
  const out = execFileSync('node', args, { encoding: 'utf8' });
  const r = JSON.parse(out) as { modeCounts: Record<string, number> | null };
  const counts = r.modeCounts ?? {};
  const total = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / total]));
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { curves: { type: 'string', default: 'docs/curves' }, 'mode-episodes': { type: 'string', default: '50' } } });
  const roots = positionals.length ? positionals : ['runs/cmp'];
  const runs = roots.flatMap(loadRuns);
  const tasks = [...new Set(runs.map((r) => r.task))].sort();
  mkdirSync(values.curves!, { recursive: true });
  const lines: string[] = [
    '| task | env steps | SMFP final | SAC final | SMFP best | SAC best | SMFP steps to 90 % success | SAC steps to 90 % success | SMFP final success | SAC final success | seeds (SMFP/SAC) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const modeLines: string[] = ['| algorithm | seed | modes, sampled noise | modes, zero noise |', '|---|---|---|---|'];
  const summary: Record<string, unknown> = {};
  for (const task of tasks) {
    const series: CurveSeries[] = [];
    const successSeries: CurveSeries[] = [];
    const cells: Record<string, { final: string; best: string; seeds: number; steps: number; to90: string; success: string }> = {};
    for (const algo of ['smfp', 'sac']) {
      const group = runs.filter((r) => r.task === task && r.algo === algo);
      if (!group.length) continue;
      // Seeds that ran longer are cut to the shortest run's evaluations, so "final" compares equal steps.
      const same = group;
      const n = Math.min(...same.map((r) => r.evals.length));
      const steps = same[0].evals[n - 1].env_steps;
      const finals = same.map((r) => r.evals[n - 1].return_mean);
      const bests = same.map((r) => Math.max(...r.evals.slice(0, n).map((e) => e.return_mean)));
      // The first evaluation at or above 90 % success (training-time evaluation policy), per seed.
      const to90 = same.map((r) => r.evals.find((e) => e.success_rate >= 0.9)?.env_steps);
      const successes = same.map((r) => r.evals[n - 1].success_rate);
      cells[algo] = {
        final: `${mean(finals).toFixed(1)} ± ${std(finals).toFixed(1)}`,
        best: `${mean(bests).toFixed(1)} ± ${std(bests).toFixed(1)}`,
        seeds: same.length,
        steps,
        to90: to90.map((x) => (x === undefined ? 'not reached' : String(x))).join(', '),
        success: successes.map((x) => `${(100 * x).toFixed(0)} %`).join(', '),
      };
      summary[`${task}/${algo}`] = { finals, bests, seeds: same.map((r) => r.seed), steps, command: same[0].config.command };
      // Curves: eval points are on the same schedule for every seed of a group.
      const x = same[0].evals.slice(0, n).map((e) => e.env_steps);
      const ys = x.map((_, i) => same.map((r) => r.evals[i].return_mean));
      const label = `${algo.toUpperCase()} (${same.length} seed${same.length > 1 ? 's' : ''})`;
      const color = algo === 'smfp' ? '#d62728' : '#1f77b4';
      series.push({ label, x, y: ys.map(mean), band: ys.map(std), color });
      const ss = x.map((_, i) => same.map((r) => 100 * r.evals[i].success_rate));
      successSeries.push({ label, x, y: ss.map(mean), band: ss.map(std), color });
      if (task === 'two_way') {
        for (const r of same) {
          const fmt = (fr: Record<string, number>) => Object.entries(fr).map(([k, v]) => `${k} ${(100 * v).toFixed(0)}%`).join(', ');
          const stochastic = modeFractions(join(r.dir, 'policy.onnx'), task, Number(values['mode-episodes']), false);
          const deterministic = modeFractions(join(r.dir, 'policy.onnx'), task, Number(values['mode-episodes']), true);
          summary[`${task}/${algo}/s${r.seed}/modes`] = { stochastic, deterministic };
          modeLines.push(`| ${algo.toUpperCase()} | ${r.seed} | ${fmt(stochastic)} | ${fmt(deterministic)} |`);
        }
      }
    }
    const steps = cells.smfp?.steps ?? cells.sac?.steps ?? 0;
    lines.push(`| ${task} | ${steps} | ${cells.smfp?.final ?? '–'} | ${cells.sac?.final ?? '–'} | ${cells.smfp?.best ?? '–'} | ${cells.sac?.best ?? '–'} | ${cells.smfp?.to90 ?? '–'} | ${cells.sac?.to90 ?? '–'} | ${cells.smfp?.success ?? '–'} | ${cells.sac?.success ?? '–'} | ${cells.smfp?.seeds ?? 0}/${cells.sac?.seeds ?? 0} |`);
    writeFileSync(join(values.curves!, `${task}-success.svg`), renderCurves({ title: `${task}: SMFP vs SAC (evaluation success rate %, mean ± std over seeds)`, xLabel: 'environment steps', yLabel: 'success %', series: successSeries }));
    writeFileSync(join(values.curves!, `${task}.svg`), renderCurves({ title: `${task}: SMFP vs SAC (evaluation return, mean ± std over seeds)`, xLabel: 'environment steps', yLabel: 'evaluation return', series }));
  }
  writeFileSync(join(values.curves!, 'smfp-vs-sac.json'), JSON.stringify(summary, null, 2) + '\n');
  process.stdout.write(lines.join('\n') + '\n\n' + modeLines.join('\n') + '\n');
}

main();
