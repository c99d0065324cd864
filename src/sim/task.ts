// What a task is: static data (MJCF file, frame skip, time limit, observation names, modes) plus a factory for
// the per-environment logic (reset distribution, observation, reward, success, mode, scripted controller).
// The task description is shared; every environment creates its own logic instance, which owns episode state.
import type { MjData, MjModel, Mujoco } from './mujoco.ts';
import type { Rng } from '../core/rng.ts';

/**
 * A policy in the closed loop: observation in, action in [-1, 1]^d out (may reuse its buffer). A Float64Array
 * action keeps double precision into ctrl (see MujocoEnv.step).
 */
export type Policy = (observation: Float32Array) => Float32Array | Float64Array;

/**
 * Typed views into the wasm heap for one MjData. The environment re-creates them when the heap grows, so task
 * code reads `sim.view.qpos` on every call instead of keeping the array.
 */
export interface SimViews {
  qpos: Float64Array;
  qvel: Float64Array;
  ctrl: Float64Array;
  xpos: Float64Array;
  site_xpos: Float64Array;
  mocap_pos: Float64Array;
}

/** What task logic sees of a running environment. */
export interface Sim {
  readonly mj: Mujoco;
  readonly model: MjModel;
  readonly data: MjData;
  readonly view: SimViews;
  /** The episode's random stream (seeded by reset(seed)). */
  readonly rng: Rng;
  /** Environment steps taken in this episode (0 right after reset). */
  readonly t: number;
  /** Actuator ctrl = offset + scale · a for a ∈ [-1, 1], then limited to [actionLow, actionHigh] (the ctrlrange). */
  readonly actionScale: Float64Array;
  readonly actionOffset: Float64Array;
  readonly actionLow: Float64Array;
  readonly actionHigh: Float64Array;
  /** Register wasm objects (buffers) a controller allocates, freed when the environment closes. */
  own(resource: { delete(): void }): void;
}

/** A task's behaviour on top of its MJCF: initial state, observation, reward, termination, success. */
export interface TaskLogic {
  /** Draw the initial state (qpos, qvel, mocap targets) after mj_resetData; the environment then runs mj_forward. */
  reset(sim: Sim): void;
  /** Write the observation (length = observationNames.length). Called after mj_forward / mj_step. */
  observe(sim: Sim, out: Float32Array): void;
  /** Reward for the step that just ran with the (clipped, normalised) action. */
  reward(sim: Sim, action: Float32Array): number;
  /** Whether the task counts as solved in the current state (the evaluation reads it at the episode's end). */
  success?(sim: Sim): boolean;
  /** Which solution the episode took so far (tasks with modes), null while undecided. */
  mode?(sim: Sim): string | null;
  /** Whether the episode ends early (a terminal state). */
  terminated?(sim: Sim): boolean;
}

/**
 * How a task's action reaches the actuators. Without one, a ∈ [-1, 1] spans each actuator's whole ctrlrange
 * (absolute targets). `relative` is the robot-learning interface (Isaac Lab's joint-position action with the
 * default offset): ctrl = home + scale ⊙ a, limited to the ctrlrange, so a = 0 holds the home pose and a
 * centimetre at the tool is a useful fraction of an action unit. The exported policy carries mode, home (as the
 * offset) and scale, so a robot driver applies it the same way.
 */
export interface TaskActionInterface {
  readonly mode: 'relative';
  /** Actuator targets at a = 0 (the home pose), one per actuator. */
  readonly home: readonly number[];
  /** Targets move by at most ±scale from home, one per actuator. */
  readonly scale: readonly number[];
}

/**
 * What hindsight relabelling (HER) needs from a goal-conditioned task whose reward is recomputable from
 * observations: where the achieved goal sits in an observation, how to write another goal into one (with every
 * goal-derived entry), and the reward of a transition from its two observations.
 */
export interface TaskGoal {
  readonly size: number;
  /** Index of the achieved goal (e.g. the tool tip) in an observation. */
  readonly achievedAt: number;
  /** Rewrite the goal and its derived entries of the observation row at `at` to `goal[goalAt ..]`. */
  relabel(observations: Float32Array, at: number, goal: ArrayLike<number>, goalAt: number): void;
  /** The environment's reward for observation row `at` → next row `nextAt` (same goal in both). */
  reward(observations: ArrayLike<number>, at: number, next: ArrayLike<number>, nextAt: number): number;
}

/** Options of a task's scripted controller. */
export interface ScriptedOptions {
  /** One of the task's modes (TaskSpec.modes) to take instead of the controller's own choice. */
  readonly mode?: string;
}

/**
 * A task: its MJCF, observation and action layout, episode length, logic, and optional scripted controller, modes and
 * goal interface.
 */
export interface TaskSpec {
  readonly name: string;
  /** One line for `--help` and listings. */
  readonly description: string;
  /** File in the repository's sim/ folder. */
  readonly mjcf: string;
  /** Physics steps per environment step. */
  readonly frameSkip: number;
  /** Environment steps per episode (time limit; the last step reports truncated). */
  readonly maxSteps: number;
  readonly observationNames: readonly string[];
  /** Goal-conditioned tasks whose reward is recomputable from observations (HER). */
  readonly goal?: TaskGoal;
  /** The action interface; absent = absolute targets over the ctrlrange. */
  readonly action?: TaskActionInterface;
  /** Names of the solutions the task can be solved by (two_way), reported in info.mode. */
  readonly modes?: readonly string[];
  /** What success means, for reports; tasks without a success notion (cheetah, user MJCF) leave it out. */
  readonly successMeaning?: string;
  createLogic(model: MjModel, mj: Mujoco): TaskLogic;
  /**
   * A scripted or heuristic controller with privileged access to the simulation (used for datasets, floors).
   * Tasks with modes take `options.mode` to force one solution (e.g. a dataset with both two_way detours).
   */
  scripted?(sim: Sim, options?: ScriptedOptions): Policy;
}

/** Look up a named object in the model, failing loudly if the MJCF and the task code disagree. */
export function objectId(mj: Mujoco, model: MjModel, type: 'body' | 'site' | 'joint' | 'actuator', name: string): number {
  const kinds = { body: mj.mjtObj.mjOBJ_BODY, site: mj.mjtObj.mjOBJ_SITE, joint: mj.mjtObj.mjOBJ_JOINT, actuator: mj.mjtObj.mjOBJ_ACTUATOR };
  const id = mj.mj_name2id(model, kinds[type].value, name);
  if (id < 0) throw new Error(`MJCF has no ${type} named '${name}'`);
  return id;
}

/** Wrap an angle to (-π, π]. */
export function wrapAngle(x: number): number {
  const twoPi = 2 * Math.PI;
  let y = x % twoPi;
  if (y > Math.PI) y -= twoPi;
  else if (y <= -Math.PI) y += twoPi;
  return y;
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
