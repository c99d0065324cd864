// A tiny goal-conditioned control task in pure TypeScript, shared by the training-loop tests.
import { Rng } from '../../src/core/rng.ts';
import type { GoalRelabeling, TrainEnv } from '../../src/algos/trainer.ts';

/**
 * A tiny continuous-control task in pure TypeScript: a point on a line must reach a random goal. Action a ∈ [-1, 1]
 * moves it by 0.2·a per step; reward −|x − goal|; 20 steps per episode. A uniform random policy scores ≈ −16;
 * moving to the goal and staying scores ≈ −2.
 */
export class PointReach implements TrainEnv {
  readonly observationSize = 2;
  readonly actionSize = 1;
  private x = 0;
  private target = 0;
  private t = 0;
  /** x is the achieved goal, obs[1] the desired one; the reward needs only the next observation. */
  readonly goal: GoalRelabeling = {
    size: 1,
    achievedAt: 0,
    relabel: (observations, at, goal, goalAt) => {
      observations[at + 1] = goal[goalAt];
    },
    reward: (_observations, _at, next, nextAt) => -Math.abs(next[nextAt] - next[nextAt + 1]),
  };
  private readonly obs = new Float32Array(2);

  reset(seed: number): Float32Array {
    const rng = new Rng(seed);
    this.x = rng.uniform() * 2 - 1;
    this.target = rng.uniform() * 2 - 1;
    this.t = 0;
    return this.observe();
  }

  step(action: Float32Array) {
    this.x = Math.max(-1.5, Math.min(1.5, this.x + 0.2 * action[0]));
    this.t++;
    return { obs: this.observe(), reward: -Math.abs(this.x - this.target), terminated: false, truncated: this.t >= 20, info: { success: Math.abs(this.x - this.target) < 0.05 } };
  }

  private observe(): Float32Array {
    this.obs[0] = this.x;
    this.obs[1] = this.target;
    return this.obs;
  }
}
