// One exported policy's evaluation through `onestep eval` (ONNX Runtime), cached beside it as eval-sampled.json /
// eval-zero.json so the tables built from runs can be regenerated without re-running episodes.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EvalResult {
  successRate: number;
  meanReturn: number;
  stdReturn: number;
  modeCounts: Record<string, number> | null;
}

export function evaluateRun(dir: string, episodes: number, seed: number, deterministic: boolean): EvalResult {
  const cache = join(dir, deterministic ? 'eval-zero.json' : 'eval-sampled.json');
  if (existsSync(cache)) {
    const cached = JSON.parse(readFileSync(cache, 'utf8')) as EvalResult & { episodes: number; seed: number };
    if (cached.episodes === episodes && cached.seed === seed) return cached;
  }
  const args = ['bin/onestep.js', 'eval', '--model', join(dir, 'policy.onnx'), '--episodes', String(episodes), '--seed', String(seed), '--json'];
  if (deterministic) args.push('--deterministic');
  const out = execFileSync('node', args, { encoding: 'utf8' });
  writeFileSync(cache, out);
  return JSON.parse(out) as EvalResult;
}
