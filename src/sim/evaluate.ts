// Closed-loop evaluation: run a policy for K episodes (episode k reset with seed + k) and report returns,
// success rate, the modes taken and steps/s. Takes a plain `(obs) => action` function so the CLI (random,
// zero, scripted, ONNX policies) and the training loops share it.
import type { MujocoEnv } from './env.ts';
import { Rng } from '../core/rng.ts';
import type { Policy, ScriptedOptions } from './task.ts';

/** Options of {@link evaluate}. */
export interface EvaluationOptions {
  episodes: number;
  seed: number;
  /** Called after each episode (progress output). */
  onEpisode?: (episode: EpisodeResult, index: number) => void;
}

/** One evaluated episode. */
export interface EpisodeResult {
  seed: number;
  return: number;
  length: number;
  /** The task's success condition at the last step (null for tasks without one). */
  success: boolean | null;
  /** The solution the episode took (tasks with modes; null if it never committed). */
  mode: string | null | undefined;
}

/** What {@link evaluate} returns: per-episode results and their summary. */
export interface EvaluationResult {
  task: string;
  episodes: EpisodeResult[];
  meanReturn: number;
  stdReturn: number;
  /** Fraction of episodes that ended in success; null when the task has no success notion. */
  successRate: number | null;
  /** Episodes per mode ('none' for those that never committed); null when the task has no modes. */
  modeCounts: Record<string, number> | null;
  /** Environment steps and their rate, policy time included (physics steps = steps × frameSkip). */
  steps: number;
  stepsPerSecond: number;
  seconds: number;
}

/**
 * Runs `policy` closed-loop for `options.episodes` episodes with seeds `options.seed`, `seed + 1`, …, and reports
 * returns, success rate, modes and steps/s.
 */
export function evaluate(env: MujocoEnv, policy: Policy, options: EvaluationOptions): EvaluationResult {
  const { episodes, seed } = options;
  if (!Number.isInteger(episodes) || episodes < 1) throw new RangeError(`episodes must be an integer >= 1 (got ${episodes})`);
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number (got ${seed})`);
  const hasSuccess = env.task.successMeaning !== undefined;
  const results: EpisodeResult[] = [];
  let steps = 0;
  const start = performance.now();
  for (let k = 0; k < episodes; k++) {
    let obs = env.reset(seed + k);
    let total = 0;
    let length = 0;
    for (;;) {
      const r = env.step(policy(obs));
      total += r.reward;
      length++;
      obs = r.obs;
      if (r.terminated || r.truncated) {
        results.push({ seed: seed + k, return: total, length, success: hasSuccess ? r.info.success : null, mode: r.info.mode });
        break;
      }
    }
    steps += length;
    options.onEpisode?.(results[k], k);
  }
  const seconds = (performance.now() - start) / 1000;
  const returns = results.map((e) => e.return);
  const meanReturn = returns.reduce((a, b) => a + b, 0) / episodes;
  const stdReturn = Math.sqrt(returns.reduce((a, b) => a + (b - meanReturn) ** 2, 0) / episodes);
  let modeCounts: Record<string, number> | null = null;
  if (env.task.modes) {
    modeCounts = Object.fromEntries([...env.task.modes, 'none'].map((m) => [m, 0]));
    for (const e of results) modeCounts[e.mode ?? 'none']++;
  }
  return {
    task: env.task.name,
    episodes: results,
    meanReturn,
    stdReturn,
    successRate: hasSuccess ? results.filter((e) => e.success).length / episodes : null,
    modeCounts,
    steps,
    stepsPerSecond: steps / seconds,
    seconds,
  };
}

/** Uniform random actions in [-1, 1]^d from a seeded stream. */
export function randomPolicy(actionSize: number, seed: number): Policy {
  const rng = new Rng(seed);
  const action = new Float32Array(actionSize);
  return () => {
    for (let i = 0; i < actionSize; i++) action[i] = rng.uniform(-1, 1);
    return action;
  };
}

/** All-zero actions (each actuator at the middle of its ctrlrange). */
export function zeroPolicy(actionSize: number): Policy {
  const action = new Float32Array(actionSize);
  return () => action;
}

/** The task's scripted controller bound to this environment (forced into `options.mode`); throws if the task has none. */
export function scriptedPolicy(env: MujocoEnv, options?: ScriptedOptions): Policy {
  if (!env.task.scripted) throw new RangeError(`task ${env.task.name} has no scripted controller`);
  if (options?.mode !== undefined && !env.task.modes?.includes(options.mode)) {
    throw new RangeError(`task ${env.task.name} has ${env.task.modes ? `modes ${env.task.modes.join(', ')}` : 'no modes'}, not '${options.mode}'`);
  }
  return env.task.scripted(env.simulation, options);
}

/** One line: "return -123.4 ± 5.6, success 90.0%, modes left 5 / right 5, 12345 steps/s". */
export function formatEvaluation(r: EvaluationResult): string {
  const parts = [`return ${r.meanReturn.toFixed(2)} ± ${r.stdReturn.toFixed(2)} over ${r.episodes.length} episodes`];
  if (r.successRate !== null) parts.push(`success ${(100 * r.successRate).toFixed(1)}%`);
  if (r.modeCounts) parts.push(`modes ${Object.entries(r.modeCounts).map(([m, n]) => `${m} ${n}`).join(' / ')}`);
  parts.push(`${Math.round(r.stepsPerSecond)} steps/s`);
  return parts.join(', ');
}
