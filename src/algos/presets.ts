// Training recipes per task, in one place: what `onestep train --task T` uses unless a flag or --set overrides it.
// The values and the reasons for them are tabled in docs/training.md; keep the two in step.
import type { CriticConfig } from './critic.ts';

/**
 * A task's training settings: budget, warm-up, batch, UTD, HER, evaluation, widths and hyper-parameters
 * (docs/training.md).
 */
export interface TaskPreset {
  /** Environment steps. */
  steps: number;
  /** Uniform random actions before learning (their statistics normalise observations). */
  warmup: number;
  batch: number;
  /** Hidden widths of actor and critics. */
  hidden: number[];
  /** Gradient updates per environment step. */
  utd: number;
  /** HER relabelled copies per transition (goal-conditioned tasks only; 0 = off). */
  her: number;
  evalEvery: number;
  evalEpisodes: number;
  /** Hyper-parameters shared by SMFP and SAC (γ, target entropy and the temperature's start and step, critic shape). */
  hyper: { gamma: number; targetEntropy: number | null; initialAlpha: number; alphaLearningRate: number; critic: CriticConfig };
}

const LAYER_NORM_CRITIC: CriticConfig = { hiddenSizes: [256, 256], activation: 'relu', layerNorm: true };

/** The recipe for tasks without one of their own: SAC's classic defaults. */
export const DEFAULT_PRESET: TaskPreset = {
  steps: 100_000,
  warmup: 5000,
  batch: 256,
  hidden: [256, 256],
  utd: 1,
  her: 0,
  evalEvery: 5000,
  evalEpisodes: 10,
  hyper: { gamma: 0.99, targetEntropy: null, initialAlpha: 1, alphaLearningRate: 3e-4, critic: LAYER_NORM_CRITIC },
};

/**
 * Reaching: short horizon (γ 0.95, as rl-zoo's FetchReach), target entropy −3·d so the served *sampled* policy
 * lands within 2 cm (at −2·d an SMFP policy that was 98 % with zero noise was 84 % sampled), HER with k = 4,
 * LayerNorm critics. The temperature starts at
 * 0.1 and steps at 1e−3: from α = 1 at 3e−4 per update, log α needs > 10k updates to reach the 0.01–0.03 that
 * rewards of order 1 per step call for, and the policy stays noisy (entropy +3.5 against −14) all that time.
 */
const REACH: TaskPreset = {
  ...DEFAULT_PRESET,
  steps: 100_000,
  warmup: 2000,
  her: 4,
  evalEvery: 2500,
  evalEpisodes: 20,
  hyper: { gamma: 0.95, targetEntropy: -21, initialAlpha: 0.1, alphaLearningRate: 1e-3, critic: LAYER_NORM_CRITIC },
};

/** The presets of the tasks that have their own. */
export const TASK_PRESETS: Readonly<Record<string, TaskPreset>> = {
  arm_reach: REACH,
  arm_push: { ...REACH, steps: 200_000, her: 0, warmup: 5000, hyper: { ...REACH.hyper, gamma: 0.97, targetEntropy: -14 } },
  two_way: { ...DEFAULT_PRESET, steps: 50_000, warmup: 2000, evalEvery: 2500, evalEpisodes: 20, hyper: { ...DEFAULT_PRESET.hyper, gamma: 0.97 } },
  pendulum: { ...DEFAULT_PRESET, steps: 15_000, warmup: 1000, evalEvery: 1000 },
  reacher: { ...DEFAULT_PRESET, steps: 50_000 },
  cheetah: { ...DEFAULT_PRESET, steps: 200_000 },
};

/** The preset of `task`, or the default preset. */
export function taskPreset(task: string): TaskPreset {
  return Object.hasOwn(TASK_PRESETS, task) ? TASK_PRESETS[task] : DEFAULT_PRESET;
}
