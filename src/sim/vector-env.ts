// N environments of one task stepped together for data collection. They share one MjModel; each owns its
// MjData. Batched arrays are row-major [N × size]. Episodes that end are reset automatically (Gym's
// "next-step" convention is NOT used: the returned observation row is already the new episode's first one,
// and the last observation of the finished episode is in `finalObs`, for bootstrapping on truncation).
import { MujocoEnv, SharedModel, type ActionSpec, type ObservationSpec } from './env.ts';
import { EnvUsageError } from './errors.ts';
import type { TaskSpec } from './task.ts';

/** What `VectorEnv.step` returns: rows per environment (reused arrays: copy what you keep). */
export interface VectorStepResult {
  /** [N × observationSize] observations to act on next (a new episode's first where `done`). */
  obs: Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** Rows valid where terminated or truncated: the finished episode's last observation. */
  finalObs: Float32Array;
  /** Rows valid where an episode ended: its success at the last step (1/0). */
  success: Uint8Array;
}

/**
 * N environments of one task stepped together (one shared MjModel), with automatic resets; batched arrays are row-
 * major [N × size].
 */
export class VectorEnv {
  readonly envs: readonly MujocoEnv[];
  readonly task: TaskSpec;
  readonly observationSpec: ObservationSpec;
  readonly actionSpec: ActionSpec;
  readonly observationSize: number;
  readonly actionSize: number;
  private readonly result: VectorStepResult;
  private started = false;

  /** Makes `count` environments of `task`. */
  static async make(task: string | TaskSpec, count: number): Promise<VectorEnv> {
    if (!Number.isInteger(count) || count < 1) throw new EnvUsageError(`vector env size must be an integer >= 1 (got ${count})`);
    const shared = await SharedModel.load(task);
    shared.retain(); // held while the environments are created, so a failure cannot free it early
    const envs: MujocoEnv[] = [];
    try {
      for (let i = 0; i < count; i++) envs.push(new MujocoEnv(shared));
    } catch (err) {
      for (const env of envs) env.close();
      throw err;
    } finally {
      shared.release();
    }
    return new VectorEnv(envs);
  }

  private constructor(envs: MujocoEnv[]) {
    this.envs = envs;
    const first = envs[0];
    this.task = first.task;
    this.observationSpec = first.observationSpec;
    this.actionSpec = first.actionSpec;
    this.observationSize = first.observationSize;
    this.actionSize = first.actionSize;
    const n = envs.length;
    this.result = {
      obs: new Float32Array(n * this.observationSize),
      rewards: new Float32Array(n),
      terminated: new Uint8Array(n),
      truncated: new Uint8Array(n),
      finalObs: new Float32Array(n * this.observationSize),
      success: new Uint8Array(n),
    };
  }

  /** The number of environments. */
  get count(): number {
    return this.envs.length;
  }

  /** Reset all environments; environment i gets seed + i. Returns the [N × observationSize] observations. */
  reset(seed: number): Float32Array {
    const o = this.observationSize;
    this.envs.forEach((env, i) => this.result.obs.set(env.reset(seed + i), i * o));
    this.started = true;
    return this.result.obs;
  }

  /** Step every environment with its row of `actions` ([N × actionSize], each in [-1, 1]). */
  step(actions: Float32Array): VectorStepResult {
    if (!this.started) throw new EnvUsageError(`${this.task.name}: vector step() called before reset(seed)`);
    const n = this.envs.length;
    const d = this.actionSize;
    const o = this.observationSize;
    if (actions.length !== n * d) throw new EnvUsageError(`${this.task.name}: vector actions must have ${n} × ${d} = ${n * d} entries, got ${actions.length}`);
    const r = this.result;
    for (let i = 0; i < n; i++) {
      const env = this.envs[i];
      const s = env.stepRow(actions, i * d);
      r.rewards[i] = s.reward;
      r.terminated[i] = s.terminated ? 1 : 0;
      r.truncated[i] = s.truncated ? 1 : 0;
      if (s.terminated || s.truncated) {
        r.finalObs.set(s.obs, i * o);
        r.success[i] = s.info.success ? 1 : 0;
        // Continue the environment's own random stream: the whole run stays determined by the first seed.
        r.obs.set(env.reset(), i * o);
      } else {
        r.obs.set(s.obs, i * o);
      }
    }
    return r;
  }

  /** Closes every environment (and frees the shared model). */
  close(): void {
    for (const env of this.envs) env.close();
  }
}
