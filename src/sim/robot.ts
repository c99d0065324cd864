// A simulated robot as a robot driver sees it: named joints to report (positions, velocities, actuator efforts),
// actuators commanded in their own units (a joint-position target in rad for a position servo), named points
// (tool tip, target) and the episode around them. `onestep sim-bridge` puts one on ROS 2 (src/ros/sim-bridge/index.ts);
// this file is plain typed arrays in and out, like the rest of sim/.
//
// A command reaches MuJoCo through the task's own action interface, so a bridged episode is the same episode as
// an in-process one: the command is turned into the task's action a = (command − offset) / scale, which the
// environment clips to [-1, 1] and maps back, ctrl = offset + scale · a, clamped to the ctrlrange. For a relative
// (home-pose) task the command is the joint target in rad, limited to home ± scale; for an absolute task or a
// user MJCF it is the actuator's ctrl, limited to its ctrlrange.
import { MujocoEnv, type StepResult } from './env.ts';
import type { Sim } from './task.ts';

/** A point the robot reports, e.g. `tool_tip` = the site `ee`, `target` = the body `target`. */
export interface RobotPoint {
  readonly name: string;
  readonly kind: 'site' | 'body';
  readonly object: string;
}

/**
 * Points each task reports beside its joints: what its observation reads from the simulation other than joint
 * state (site positions, the target's mocap body, a free-moving object).
 */
export const TASK_POINTS: Readonly<Record<string, readonly RobotPoint[]>> = {
  arm_reach: [{ name: 'tool_tip', kind: 'site', object: 'ee' }, { name: 'target', kind: 'body', object: 'target' }],
  arm_push: [
    { name: 'tool_tip', kind: 'site', object: 'ee' },
    { name: 'puck', kind: 'body', object: 'puck' },
    { name: 'goal', kind: 'body', object: 'goal' },
  ],
  reacher: [{ name: 'fingertip', kind: 'site', object: 'fingertip' }, { name: 'target', kind: 'body', object: 'target' }],
  two_way: [{ name: 'goal', kind: 'body', object: 'goal' }],
  pendulum: [{ name: 'tip', kind: 'site', object: 'tip' }],
};

/** "tool_tip=site:ee" → { name: 'tool_tip', kind: 'site', object: 'ee' }. */
export function parseRobotPoint(text: string): RobotPoint {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=(site|body):(.+)$/.exec(text.trim());
  if (!m) throw new RangeError(`point "${text}" must look like NAME=site:SITE or NAME=body:BODY (e.g. tool_tip=site:ee)`);
  return { name: m[1], kind: m[2] as 'site' | 'body', object: m[3] };
}

const JOINT_FREE = 0;
const JOINT_SLIDE = 2;
const JOINT_HINGE = 3;
const TRN_JOINT = 0;

/** Where a point's position is read: site_xpos, mocap_pos, a free joint's qpos, or xpos. */
const enum PointSource {
  Site,
  Mocap,
  FreeJoint,
  Body,
}

export interface SimRobotOptions {
  /** Points to report; default: the task's TASK_POINTS (none for a user MJCF). */
  points?: readonly RobotPoint[];
}

export class SimRobot {
  /** Hinge and slide joints, in model order (free and ball joints have no single position to report). */
  readonly jointNames: readonly string[];
  /** One per actuator, in actuator order: the joint it drives (a ROS command names joints), else its own name. */
  readonly commandNames: readonly string[];
  /** The range a command is clamped to, per actuator: the ctrlrange, within offset ± scale of the task's interface. */
  readonly commandLow: Float64Array;
  readonly commandHigh: Float64Array;
  readonly points: readonly RobotPoint[];
  /** Seconds of simulated time per control step (frame skip × physics time step). */
  readonly controlPeriod: number;
  readonly maxSteps: number;
  /** The task's success notion, for reports; undefined when it has none. */
  readonly successMeaning: string | undefined;
  private readonly qposAdr: Int32Array;
  private readonly dofAdr: Int32Array;
  private readonly pointSource: Int32Array;
  private readonly pointIndex: Int32Array;
  private readonly action: Float64Array;
  private readonly offset: Float64Array;
  private readonly scale: Float64Array;
  private effortView: Float64Array | null = null;
  private lastObservation: Float32Array;

  private constructor(readonly env: MujocoEnv, opts: SimRobotOptions) {
    const sim = env.simulation;
    const { mj, model } = sim;
    const name = (kind: 'joint' | 'actuator' | 'body' | 'site', i: number) =>
      mj.mj_id2name(model, { joint: mj.mjtObj.mjOBJ_JOINT, actuator: mj.mjtObj.mjOBJ_ACTUATOR, body: mj.mjtObj.mjOBJ_BODY, site: mj.mjtObj.mjOBJ_SITE }[kind].value, i);
    const types = model.jnt_type as Int32Array;
    const qposAdr = model.jnt_qposadr as Int32Array;
    const dofAdr = model.jnt_dofadr as Int32Array;
    const joints: number[] = [];
    for (let j = 0; j < model.njnt; j++) if (types[j] === JOINT_HINGE || types[j] === JOINT_SLIDE) joints.push(j);
    this.jointNames = joints.map((j) => name('joint', j) || `joint${j}`);
    this.qposAdr = Int32Array.from(joints, (j) => qposAdr[j]);
    this.dofAdr = Int32Array.from(joints, (j) => dofAdr[j]);

    const trnType = model.actuator_trntype as Int32Array;
    const trnId = model.actuator_trnid as Int32Array;
    const nu = model.nu;
    this.commandNames = Array.from({ length: nu }, (_, i) => {
      const own = env.actionSpec.names[i];
      if (trnType[i] !== TRN_JOINT) return own;
      return name('joint', trnId[2 * i]) || own;
    });
    if (new Set(this.commandNames).size !== nu) {
      throw new RangeError(`${env.task.name}: two actuators drive the same joint (${this.commandNames.join(', ')}); commands by joint name would be ambiguous`);
    }
    const { low, high, offset, scale } = env.actionSpec;
    this.offset = offset;
    this.scale = scale;
    this.commandLow = Float64Array.from({ length: nu }, (_, i) => Math.max(low[i], offset[i] - scale[i]));
    this.commandHigh = Float64Array.from({ length: nu }, (_, i) => Math.min(high[i], offset[i] + scale[i]));
    this.action = new Float64Array(nu);

    this.points = [...(opts.points ?? TASK_POINTS[env.task.name] ?? [])];
    if (new Set(this.points.map((p) => p.name)).size !== this.points.length) throw new RangeError(`two points share a name: ${this.points.map((p) => p.name).join(', ')}`);
    const mocapId = model.body_mocapid as Int32Array;
    const bodyJntAdr = model.body_jntadr as Int32Array;
    const bodyJntNum = model.body_jntnum as Int32Array;
    this.pointSource = new Int32Array(this.points.length);
    this.pointIndex = new Int32Array(this.points.length);
    this.points.forEach((p, k) => {
      const type = p.kind === 'site' ? mj.mjtObj.mjOBJ_SITE : mj.mjtObj.mjOBJ_BODY;
      const id = mj.mj_name2id(model, type.value, p.object);
      if (id < 0) throw new RangeError(`point ${p.name}: the model has no ${p.kind} named "${p.object}"`);
      if (p.kind === 'site') {
        this.pointSource[k] = PointSource.Site;
        this.pointIndex[k] = id;
      } else if (mocapId[id] >= 0) {
        this.pointSource[k] = PointSource.Mocap;
        this.pointIndex[k] = mocapId[id];
      } else if (bodyJntNum[id] === 1 && types[bodyJntAdr[id]] === JOINT_FREE) {
        // a free body's position is its joint's qpos (xpos lags one physics step behind it after mj_step)
        this.pointSource[k] = PointSource.FreeJoint;
        this.pointIndex[k] = qposAdr[bodyJntAdr[id]];
      } else {
        this.pointSource[k] = PointSource.Body;
        this.pointIndex[k] = id;
      }
    });
    const opt = model.opt;
    this.controlPeriod = env.task.frameSkip * opt.timestep;
    opt.delete();
    this.maxSteps = env.task.maxSteps;
    this.successMeaning = env.task.successMeaning;
    this.lastObservation = new Float32Array(env.observationSize);
  }

  static async forTask(task: string, opts: SimRobotOptions = {}): Promise<SimRobot> {
    return SimRobot.wrap(await MujocoEnv.make(task), opts);
  }

  static async fromMjcf(path: string, opts: SimRobotOptions & { frameSkip?: number; maxSteps?: number } = {}): Promise<SimRobot> {
    return SimRobot.wrap(await MujocoEnv.fromMjcf(path, { frameSkip: opts.frameSkip, maxSteps: opts.maxSteps }), opts);
  }

  private static wrap(env: MujocoEnv, opts: SimRobotOptions): SimRobot {
    try {
      return new SimRobot(env, opts);
    } catch (err) {
      env.close();
      throw err;
    }
  }

  get taskName(): string {
    return this.env.task.name;
  }

  get modes(): readonly string[] | undefined {
    return this.env.task.modes;
  }

  private get sim(): Sim {
    return this.env.simulation;
  }

  /** Simulated time of the current state (s); it restarts at 0 with every reset. */
  get time(): number {
    return this.sim.data.time;
  }

  /** Control steps taken in this episode. */
  get stepIndex(): number {
    return this.sim.t;
  }

  /** The task's observation of the current state (what an in-process policy would see); reused buffer. */
  get observation(): Float32Array {
    return this.lastObservation;
  }

  /** Starts an episode (the environment's seeded reset). */
  reset(seed: number): void {
    this.lastObservation = this.env.reset(seed);
  }

  /**
   * One control step with `command` (actuator order, actuator units), through the task's action interface.
   * The caller has checked it is finite; out-of-range values are clamped by the interface.
   */
  step(command: Float64Array): StepResult {
    const a = this.action;
    for (let i = 0; i < a.length; i++) a[i] = (command[i] - this.offset[i]) / this.scale[i];
    const r = this.env.step(a);
    this.lastObservation = r.obs;
    return r;
  }

  /** Joint positions, velocities and actuator efforts (joint space) of the reported joints. */
  readJoints(position: Float64Array, velocity: Float64Array, effort: Float64Array): void {
    const { qpos, qvel } = this.sim.view;
    const force = this.effort();
    for (let j = 0; j < this.qposAdr.length; j++) {
      position[j] = qpos[this.qposAdr[j]];
      velocity[j] = qvel[this.dofAdr[j]];
      effort[j] = force[this.dofAdr[j]];
    }
  }

  /** Point k's position into out[at..at+3]. */
  readPoint(k: number, out: Float64Array, at = 0): void {
    const v = this.sim.view;
    const i = this.pointIndex[k];
    let src: Float64Array;
    let base: number;
    switch (this.pointSource[k]) {
      case PointSource.Site: src = v.site_xpos; base = 3 * i; break;
      case PointSource.Mocap: src = v.mocap_pos; base = 3 * i; break;
      case PointSource.FreeJoint: src = v.qpos; base = i; break;
      default: src = v.xpos; base = 3 * i;
    }
    out[at] = src[base];
    out[at + 1] = src[base + 1];
    out[at + 2] = src[base + 2];
  }

  /** The command in force: each actuator's ctrl. */
  readCommand(out: Float64Array): void {
    const ctrl = this.sim.view.ctrl;
    for (let i = 0; i < out.length; i++) out[i] = ctrl[i];
  }

  close(): void {
    this.env.close();
  }

  /** qfrc_actuator, re-viewed when the wasm heap grows (as the environment does for its own views). */
  private effort(): Float64Array {
    if (this.effortView === null || this.effortView.buffer.byteLength === 0) this.effortView = this.sim.data.qfrc_actuator as Float64Array;
    return this.effortView;
  }
}
