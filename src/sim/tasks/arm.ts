// The 7-DoF arm shared by arm_reach and arm_push (sim/arm7.xml): joint names, home pose, reset noise, and a
// damped-least-squares Cartesian controller that drives the joint-position servos (used by the scripted policies).
import { objectId } from '../task.ts';
import type { Policy, Sim } from '../task.ts';

export const ARM_JOINTS = ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7'] as const;
/** Tool pointing down in front of the base, elbow up: tool tip near (0.56, 0, 0.41). */
export const ARM_HOME = [0, 0.3, 0, 1.6, 0, 1.0, 0];
export const ARM_RESET_NOISE = 0.1;

/** Set the arm to the home pose plus uniform noise (qpos addresses of joint1..7 are 0..6: the arm is included first). */
export function resetArm(sim: Sim, noise = ARM_RESET_NOISE): void {
  for (let i = 0; i < 7; i++) {
    sim.view.qpos[i] = ARM_HOME[i] + sim.rng.uniform(-noise, noise);
    sim.view.qvel[i] = 0;
    sim.view.ctrl[i] = sim.view.qpos[i];
  }
}

/** Observation layout shared by both arm tasks: 7 joint positions, 7 joint velocities, tool tip position. */
export const ARM_OBSERVATION_NAMES = [
  ...ARM_JOINTS.map((j) => `${j}_position`),
  ...ARM_JOINTS.map((j) => `${j}_velocity`),
  'ee_x', 'ee_y', 'ee_z',
];

export function observeArm(sim: Sim, eeSite: number, out: Float32Array): void {
  const { qpos, qvel, site_xpos } = sim.view;
  for (let i = 0; i < 7; i++) out[i] = qpos[i];
  for (let i = 0; i < 7; i++) out[7 + i] = qvel[i];
  out[14] = site_xpos[3 * eeSite];
  out[15] = site_xpos[3 * eeSite + 1];
  out[16] = site_xpos[3 * eeSite + 2];
}

/**
 * A scripted arm policy: each control step moves the commanded joint positions by the damped-least-squares
 * solution for the tool-tip error (integrated, so gravity sag on the servos is corrected), with a null-space
 * pull toward the home pose to stay away from joint limits. `target(out)` writes the desired tip position.
 */
export function cartesianController(sim: Sim, target: (out: Float64Array) => void, gain = 0.5, maxStep = 0.06): Policy {
  const { mj, model } = sim;
  const ee = objectId(mj, model, 'site', 'ee');
  const nv = model.nv;
  const jac = new mj.DoubleBuffer(3 * nv);
  sim.own(jac);
  const command = new Float64Array(7);
  const goal = new Float64Array(3);
  const action = new Float32Array(7);
  const z = new Float64Array(7);
  let episodeStep = -1;
  const solve3 = (a: number[], b: number[]): number[] => {
    const [a0, a1, a2, a3, a4, a5, a6, a7, a8] = a;
    const c0 = a4 * a8 - a5 * a7;
    const c1 = a5 * a6 - a3 * a8;
    const c2 = a3 * a7 - a4 * a6;
    const det = a0 * c0 + a1 * c1 + a2 * c2;
    return [
      (b[0] * c0 + b[1] * (a2 * a7 - a1 * a8) + b[2] * (a1 * a5 - a2 * a4)) / det,
      (b[0] * c1 + b[1] * (a0 * a8 - a2 * a6) + b[2] * (a2 * a3 - a0 * a5)) / det,
      (b[0] * c2 + b[1] * (a1 * a6 - a0 * a7) + b[2] * (a0 * a4 - a1 * a3)) / det,
    ];
  };
  return () => {
    const { qpos, site_xpos } = sim.view;
    if (sim.t <= episodeStep || episodeStep < 0) command.set(qpos.subarray(0, 7));
    episodeStep = sim.t;
    target(goal);
    const e = [goal[0] - site_xpos[3 * ee], goal[1] - site_xpos[3 * ee + 1], goal[2] - site_xpos[3 * ee + 2]];
    const norm = Math.hypot(e[0], e[1], e[2]);
    const k = norm * gain > maxStep ? maxStep / norm : gain;
    mj.mj_jacSite(model, sim.data, jac, null, ee);
    const J = jac.GetView() as Float64Array;
    const A = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = 0; i < 7; i++) s += J[r * nv + i] * J[c * nv + i];
        A[r * 3 + c] = s + (r === c ? 1e-3 : 0);
      }
    }
    // Task step plus null-space posture step: dq = J⁺(k e) + (I − J⁺J) z.
    for (let i = 0; i < 7; i++) z[i] = 0.05 * (ARM_HOME[i] - command[i]);
    const jz = [0, 1, 2].map((r) => {
      let s = 0;
      for (let i = 0; i < 7; i++) s += J[r * nv + i] * z[i];
      return k * e[r] - s;
    });
    const y = solve3(A, jz);
    for (let i = 0; i < 7; i++) {
      const dq = J[i] * y[0] + J[nv + i] * y[1] + J[2 * nv + i] * y[2] + z[i];
      const lo = sim.actionOffset[i] - sim.actionScale[i];
      const hi = sim.actionOffset[i] + sim.actionScale[i];
      command[i] = Math.min(hi, Math.max(lo, command[i] + dq));
      action[i] = (command[i] - sim.actionOffset[i]) / sim.actionScale[i];
    }
    return action;
  };
}

export function eeSiteId(sim: { mj: Sim['mj']; model: Sim['model'] }): number {
  return objectId(sim.mj, sim.model, 'site', 'ee');
}
