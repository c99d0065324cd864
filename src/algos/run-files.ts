// The files a training run leaves in its folder (where each is, the columns of its logs) and its learning curve
// (the ONNX export lives in src/cli/train.ts: algos may not depend on export).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCurves, type CurveSeries } from './plot.ts';

/** Where a run keeps its files. */
export function runPaths(out: string) {
  return {
    config: join(out, 'config.json'),
    metricsJsonl: join(out, 'metrics.jsonl'),
    metricsCsv: join(out, 'metrics.csv'),
    evalJsonl: join(out, 'eval.jsonl'),
    evalCsv: join(out, 'eval.csv'),
    curve: join(out, 'learning-curve.svg'),
    last: join(out, 'checkpoints', 'last'),
    finalOnnx: join(out, 'policy.onnx'),
    bestOnnx: join(out, 'policy-best.onnx'),
    best: join(out, 'checkpoints', 'best'),
  };
}

/** Columns of metrics.csv (one row per training episode). */
export const TRAIN_COLUMNS = ['env_steps', 'updates', 'episode_return', 'episode_length', 'critic_loss', 'actor_loss', 'alpha', 'entropy', 'env_steps_per_s', 'updates_per_s', 'mfi_loss', 'q_mean', 'phase'];
/** Columns of eval.csv (one row per evaluation). */
export const EVAL_COLUMNS = ['env_steps', 'return_mean', 'return_std', 'success_rate', 'episodes', 'modes', 'updates', 'phase'];

function readJsonl(path: string): Record<string, number | string>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

/**
 * learning-curve.svg: evaluation return (mean ± std over episodes) and the training episode returns. A run with an
 * offline phase plots it left of 0, in updates (offline update k of K at x = k − K), then online environment steps.
 */
export function writeLearningCurve(out: string, title: string): void {
  const evals = readJsonl(runPaths(out).evalJsonl);
  const episodes = readJsonl(runPaths(out).metricsJsonl).filter((r) => r.episode_return !== undefined);
  const offlineUpdates = Math.max(0, ...evals.filter((r) => r.phase === 'offline').map((r) => Number(r.updates)));
  const xOf = (r: Record<string, number | string>) => (r.phase === 'offline' ? Number(r.updates) - offlineUpdates : Number(r.env_steps));
  const series: CurveSeries[] = [];
  if (episodes.length) {
    series.push({ label: 'training episodes', x: episodes.map((r) => Number(r.env_steps)), y: episodes.map((r) => Number(r.episode_return)), color: '#bbbbbb' });
  }
  if (evals.length) {
    series.push({
      label: 'evaluation (mean ± std)',
      x: evals.map(xOf),
      y: evals.map((r) => Number(r.return_mean)),
      band: evals.map((r) => Number(r.return_std)),
      color: '#1f77b4',
    });
  }
  const xLabel = offlineUpdates > 0 ? 'environment steps (offline updates left of 0)' : 'environment steps';
  writeFileSync(runPaths(out).curve, renderCurves({ title, xLabel, yLabel: 'episode return', series }));
}
