// A seeded MuJoCo environment: reset(seed) → observation; step(action in [-1, 1]^d) → {obs, reward, terminated,
// truncated, info}. The model (MjModel + task description) is shared data; an environment owns its MjData,
// its random stream and its episode counters. step() allocates nothing: it returns the same result object and
// observation buffer every call (copy the observation if you keep it).
import { ActionError, EnvUsageError } from './errors.ts';
import { type MjData, type MjModel, type Mujoco, loadTaskModel, loadUserModel, mujoco } from './mujoco.ts';
import { Rng } from '../core/rng.ts';
import type { Sim, SimViews, TaskGoal, TaskLogic, TaskSpec } from './task.ts';
import { getTask } from './tasks/index.ts';
import { genericTask } from './tasks/generic.ts';

/** An environment's observation: its entries' names, in order. */
export interface ObservationSpec {
  readonly names: readonly string[];
  readonly size: number;
}

/**
 * An environment's action: actuator names, limits, and how a normalised action in [-1, 1] maps to the command
 * (`offset + scale ⊙ a`, absolute or relative to a home pose).
 */
export interface ActionSpec {
  /** Actuator names in action order (joint names for the arm tasks, so policies map onto JointState). */
  readonly names: readonly string[];
  readonly size: number;
  /** Each actuator's ctrlrange: the limits every command is clamped to. */
  readonly low: Float64Array;
  readonly high: Float64Array;
  /** ctrl = offset + scale ⊙ a, clamped to [low, high]: absolute spans the ctrlrange, relative is home ± scale. */
  readonly mode: 'absolute' | 'relative';
  readonly scale: Float64Array;
  readonly offset: Float64Array;
}

/** Per-step facts beside the reward: success and, for tasks with modes, the mode the episode took. */
export interface StepInfo {
  /** Whether the task's success condition holds now. */
  success: boolean;
  /** For tasks with modes: the solution this episode took (null while undecided); undefined otherwise. */
  mode: string | null | undefined;
  /** Environment steps taken in this episode. */
  t: number;
  /** MuJoCo found the state diverging (bad accelerations) and reset it during this step; the episode ends (terminated). */
  unstable: boolean;
}

/** What `step` returns (a reused object: copy what you keep). */
export interface StepResult {
  obs: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: StepInfo;
}

/** A loaded task model shared by environments (each owns its MjData; the MjModel is freed with its last user). */
export class SharedModel {
  private users = 0;
  readonly actionScale: Float64Array;
  readonly actionOffset: Float64Array;
  readonly actionSpec: ActionSpec;
  readonly observationSpec: ObservationSpec;
  /** Physics time step (s). */
  readonly timestep: number;

  constructor(
    readonly mj: Mujoco,
    readonly model: MjModel,
    readonly task: TaskSpec,
  ) {
    const nu = model.nu;
    const range = model.actuator_ctrlrange as Float64Array;
    const limited = model.actuator_ctrllimited as Uint8Array;
    const low = new Float64Array(nu);
    const high = new Float64Array(nu);
    this.actionScale = new Float64Array(nu);
    this.actionOffset = new Float64Array(nu);
    for (let i = 0; i < nu; i++) {
      // An actuator without a ctrlrange takes the action as its raw control (scale 1).
      const lo = limited[i] ? range[2 * i] : -1;
      const hi = limited[i] ? range[2 * i + 1] : 1;
      low[i] = lo;
      high[i] = hi;
      this.actionScale[i] = (hi - lo) / 2;
      this.actionOffset[i] = (hi + lo) / 2;
    }
    const names: string[] = [];
    for (let i = 0; i < nu; i++) names.push(mj.mj_id2name(model, mj.mjtObj.mjOBJ_ACTUATOR.value, i) || `actuator${i}`);
    const relative = task.action;
    if (relative) {
      if (relative.home.length !== nu || relative.scale.length !== nu) {
        throw new Error(`task ${task.name}: action home and scale need ${nu} entries (one per actuator), got ${relative.home.length} and ${relative.scale.length}`);
      }
      this.actionOffset.set(relative.home);
      this.actionScale.set(relative.scale);
    }
    this.actionSpec = { names, size: nu, low, high, mode: relative ? 'relative' : 'absolute', scale: this.actionScale, offset: this.actionOffset };
    this.observationSpec = { names: task.observationNames, size: task.observationNames.length };
    const opt = model.opt;
    this.timestep = opt.timestep;
    opt.delete();
  }

  /** Loads a task's MJCF once, for environments to share. */
  static async load(task: string | TaskSpec): Promise<SharedModel> {
    const spec = typeof task === 'string' ? getTask(task) : task;
    const mj = await mujoco();
    return new SharedModel(mj, await loadTaskModel(spec.mjcf), spec);
  }

  /** A user's MJCF with the generic joint-space observation (qpos, qvel) and actuator actions. */
  static async loadMjcf(path: string, opts: { frameSkip?: number; maxSteps?: number } = {}): Promise<SharedModel> {
    const mj = await mujoco();
    const model = await loadUserModel(path);
    try {
      return new SharedModel(mj, model, genericTask(mj, model, path, opts));
    } catch (err) {
      model.delete();
      throw err;
    }
  }

  /** Counts one more environment using the model (released with `release`). */
  retain(): void {
    this.users++;
  }

  /** Frees the MjModel when its last environment closes. */
  release(): void {
    if (--this.users === 0) this.model.delete();
  }
}

/**
 * One seeded MuJoCo environment (mujoco-js): `reset(seed)` → observation, `step(action in [-1, 1])` → observation,
 * reward, terminated, truncated and info. Make one with {@link MujocoEnv.make} (a task) or {@link MujocoEnv.fromMjcf}
 * (your MJCF); free it with `close`.
 */
export class MujocoEnv {
  readonly task: TaskSpec;
  readonly observationSpec: ObservationSpec;
  readonly actionSpec: ActionSpec;
  readonly observationSize: number;
  readonly actionSize: number;
  /** The task's goal interface (HER) for goal-conditioned tasks. */
  readonly goal: TaskGoal | undefined;
  private readonly mj: Mujoco;
  private readonly model: MjModel;
  private data: MjData | null;
  private readonly logic: TaskLogic;
  private readonly sim: SimState;
  private readonly rng = new Rng(0);
  private readonly action: Float32Array;
  private readonly result: StepResult;
  private episodeOver = true;
  private readonly owned: { delete(): void }[] = [];

  /** Create an environment for a registered task (see TASKS) or a TaskSpec. */
  static async make(task: string | TaskSpec): Promise<MujocoEnv> {
    return new MujocoEnv(await SharedModel.load(task));
  }

  /** Create an environment for any MJCF file (observation qpos, qvel; one action per actuator). */
  static async fromMjcf(path: string, opts: { frameSkip?: number; maxSteps?: number } = {}): Promise<MujocoEnv> {
    return new MujocoEnv(await SharedModel.loadMjcf(path, opts));
  }

  constructor(private readonly shared: SharedModel) {
    shared.retain();
    this.mj = shared.mj;
    this.model = shared.model;
    this.task = shared.task;
    this.observationSpec = shared.observationSpec;
    this.actionSpec = shared.actionSpec;
    this.observationSize = shared.observationSpec.size;
    this.actionSize = shared.actionSpec.size;
    this.goal = this.task.goal;
    let data: MjData | null = null;
    try {
      data = new this.mj.MjData(this.model);
      this.logic = this.task.createLogic(this.model, this.mj);
    } catch (err) {
      data?.delete();
      shared.release();
      throw err;
    }
    this.data = data;
    this.action = new Float32Array(this.actionSize);
    const obs = new Float32Array(this.observationSize);
    this.result = { obs, reward: 0, terminated: false, truncated: false, info: { success: false, mode: undefined, t: 0, unstable: false } };
    this.sim = new SimState(this.mj, this.model, data, this.rng, shared.actionSpec, this.owned);
  }

  /** The simulation handle task code and scripted controllers use (privileged access). */
  get simulation(): Sim {
    this.liveData();
    return this.sim;
  }

  /**
   * Start an episode. With a seed the environment's random stream restarts, so the same seed gives a
   * bit-identical trajectory for the same actions; without one the stream continues.
   */
  reset(seed?: number): Float32Array {
    const data = this.liveData();
    if (seed !== undefined) {
      if (!Number.isFinite(seed)) throw new EnvUsageError(`reset seed must be a finite number (got ${seed})`);
      this.rng.seed(seed);
    }
    this.mj.mj_resetData(this.model, data);
    this.sim.t = 0;
    this.logic.reset(this.sim);
    this.mj.mj_forward(this.model, data);
    this.logic.observe(this.sim, this.result.obs);
    this.episodeOver = false;
    return this.result.obs;
  }

  /** Advance one environment step (frameSkip physics steps) with an action in [-1, 1]^d (clipped). */
  step(action: ArrayLike<number>): StepResult {
    if (action == null || action.length !== this.actionSize) {
      throw new ActionError(
        `${this.task.name}: action must have ${this.actionSize} entries (${this.actionSpec.names.join(', ')}), got ${action == null ? action : action.length}`,
      );
    }
    return this.stepRow(action, 0);
  }

  /** step() with the action read from `actions[offset .. offset + actionSize)` (a row of a batch; no copy). */
  stepRow(actions: ArrayLike<number>, offset: number): StepResult {
    const data = this.liveData();
    if (this.episodeOver) throw new EnvUsageError(`${this.task.name}: step() called before reset() or after the episode ended; call reset() first`);
    // Validate the whole action before touching mjData, so a bad action leaves the state as it was.
    const nu = this.actionSize;
    if (actions.length < offset + nu) throw new ActionError(`${this.task.name}: action row at ${offset} needs ${nu} entries, the batch has ${actions.length}`);
    for (let i = 0; i < nu; i++) {
      const a = actions[offset + i];
      if (typeof a !== 'number' || !Number.isFinite(a)) {
        throw new ActionError(`${this.task.name}: action[${i}] (${this.actionSpec.names[i]}) must be a finite number in [-1, 1], got ${a}`);
      }
    }
    const a = this.action;
    const ctrl = this.sim.view.ctrl;
    const { low, high } = this.actionSpec;
    for (let i = 0; i < nu; i++) {
      const x = actions[offset + i];
      const clipped = x > 1 ? 1 : x < -1 ? -1 : x;
      a[i] = clipped;
      // ctrl from the caller's value, not its float32 copy: a physical command (a joint target in rad) turned into
      // a = (command − offset) / scale in double precision comes back as the same ctrl (to double rounding)
      const c = this.shared.actionOffset[i] + this.shared.actionScale[i] * clipped;
      ctrl[i] = c < low[i] ? low[i] : c > high[i] ? high[i] : c;
    }
    const frameSkip = this.task.frameSkip;
    const before = data.time;
    for (let k = 0; k < frameSkip; k++) this.mj.mj_step(this.model, data);
    // MuJoCo resets a diverging simulation itself (time restarts at 0): report it instead of hiding a jump.
    const unstable = data.time < before + (frameSkip - 0.5) * this.shared.timestep;
    this.sim.t++;
    const r = this.result;
    this.logic.observe(this.sim, r.obs);
    r.reward = this.logic.reward(this.sim, a);
    r.terminated = unstable || (this.logic.terminated?.(this.sim) ?? false);
    r.truncated = !r.terminated && this.sim.t >= this.task.maxSteps;
    r.info.success = this.logic.success ? this.logic.success(this.sim) : false;
    r.info.mode = this.logic.mode ? this.logic.mode(this.sim) : undefined;
    r.info.t = this.sim.t;
    r.info.unstable = unstable;
    this.episodeOver = r.terminated || r.truncated;
    return r;
  }

  /** Frees this environment's MjData (and the model when no other environment uses it). Idempotent. */
  close(): void {
    if (!this.data) return;
    for (const resource of this.owned.splice(0)) resource.delete();
    this.data.delete();
    this.data = null;
    this.shared.release();
  }

  /** True after `close`. */
  get closed(): boolean {
    return this.data === null;
  }

  private liveData(): MjData {
    const data = this.data;
    if (!data) throw new EnvUsageError(`${this.task.name}: environment is closed`);
    return data;
  }
}

/** The Sim handle of one environment: its MjData and heap views, kept valid across wasm memory growth. */
class SimState implements Sim {
  t = 0;
  private views: SimViews;

  constructor(
    readonly mj: Mujoco,
    readonly model: MjModel,
    readonly data: MjData,
    readonly rng: Rng,
    action: ActionSpec,
    private readonly owned: { delete(): void }[],
  ) {
    this.views = makeViews(data);
    this.actionScale = action.scale;
    this.actionOffset = action.offset;
    this.actionLow = action.low;
    this.actionHigh = action.high;
  }

  readonly actionScale: Float64Array;
  readonly actionOffset: Float64Array;
  readonly actionLow: Float64Array;
  readonly actionHigh: Float64Array;

  /** Heap views detach when the wasm memory grows (any allocation: another env, a buffer): re-create them then. */
  get view(): SimViews {
    if (this.views.qpos.buffer.byteLength === 0) this.views = makeViews(this.data);
    return this.views;
  }

  own(resource: { delete(): void }): void {
    this.owned.push(resource);
  }
}

function makeViews(data: MjData): SimViews {
  return {
    qpos: data.qpos,
    qvel: data.qvel,
    ctrl: data.ctrl,
    xpos: data.xpos,
    site_xpos: data.site_xpos,
    mocap_pos: data.mocap_pos,
  };
}
