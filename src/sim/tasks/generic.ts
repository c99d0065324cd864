// Any user MJCF as an environment: observation = (qpos, qvel) named by joint, one action per actuator mapped to
// its ctrlrange, reward 0. Lets a user bring their own robot to `onestep sim --mjcf`.
import type { MjModel, Mujoco } from '../mujoco.ts';
import type { TaskSpec } from '../task.ts';

const QPOS_PARTS: Record<number, string[]> = { 0: ['x', 'y', 'z', 'qw', 'qx', 'qy', 'qz'], 1: ['qw', 'qx', 'qy', 'qz'], 2: [''], 3: [''] };
const QVEL_PARTS: Record<number, string[]> = { 0: ['vx', 'vy', 'vz', 'wx', 'wy', 'wz'], 1: ['wx', 'wy', 'wz'], 2: [''], 3: [''] };

export function genericTask(mj: Mujoco, model: MjModel, path: string, opts: { frameSkip?: number; maxSteps?: number }): TaskSpec {
  const frameSkip = opts.frameSkip ?? 1;
  const maxSteps = opts.maxSteps ?? 1000;
  if (!Number.isInteger(frameSkip) || frameSkip < 1) throw new Error(`frame skip must be an integer >= 1 (got ${frameSkip})`);
  if (!Number.isInteger(maxSteps) || maxSteps < 1) throw new Error(`max steps must be an integer >= 1 (got ${maxSteps})`);
  const names: string[] = [];
  const types = model.jnt_type as Int32Array;
  for (const [prefix, parts] of [['qpos', QPOS_PARTS], ['qvel', QVEL_PARTS]] as const) {
    for (let j = 0; j < model.njnt; j++) {
      const joint = mj.mj_id2name(model, mj.mjtObj.mjOBJ_JOINT.value, j) || `joint${j}`;
      for (const part of parts[types[j]]) names.push(`${prefix}:${joint}${part ? `.${part}` : ''}`);
    }
  }
  const nq = model.nq;
  const nv = model.nv;
  return {
    name: `mjcf:${path}`,
    description: `user MJCF ${path}`,
    mjcf: path,
    frameSkip,
    maxSteps,
    observationNames: names,
    createLogic: () => ({
      reset: () => {},
      observe: (sim, out) => {
        const { qpos, qvel } = sim.view;
        for (let i = 0; i < nq; i++) out[i] = qpos[i];
        for (let i = 0; i < nv; i++) out[nq + i] = qvel[i];
      },
      reward: () => 0,
      // MuJoCo resets diverging simulations itself; an unusable state still ends the episode.
      terminated: (sim) => {
        for (let i = 0; i < nq; i++) if (!Number.isFinite(sim.view.qpos[i])) return true;
        return false;
      },
    }),
  };
}
