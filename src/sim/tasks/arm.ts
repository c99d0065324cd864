// The 7-DoF arm shared by arm_reach and arm_push (sim/arm7.xml): joint names, home pose, reset noise, and a
// damped-least-squares Cartesian controller that drives the joint-position servos (used by the scripted policies).
import { objectId } from '../task.ts';
import type { Policy, Sim } from '../task.ts';

export const ARM_JOINTS = ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7'] as const;
/** Tool pointing down in front of the base, elbow up: tool tip near (0.56, 0, 0.41). */
export const ARM_HOME = [0, 0.3, 0, 1.6, 0, 1.0, 0];
export const ARM_RESET_NOISE = 0.1;
/**
 * Relative action interface (rad from home per action unit): sized to the joint motion the scripted controller
 * needs over both tasks' workspaces (at most 0.41, 0.85, 0.38, 0.45, 0.19, 0.43, 0.09 rad) with a margin, so
 * 2 cm at the tool is 0.05–0.1 action units rather than the 0.012–0.045 of absolute targets. joint7 turns the
 * tool about its own axis and cannot move the tip: it keeps a small range.
 */
export const ARM_ACTION_SCALE = [0.6, 1.0, 0.6, 0.6, 0.4, 0.6, 0.15];
export const ARM_ACTION = { mode: 'relative', home: ARM_HOME, scale: ARM_ACTION_SCALE } as const;

/** Set the arm to the home pose plus uniform noise (qpos addresses of joint1..7 are 0..6: the arm is included first). */
export function resetArm(sim: Sim, noise = ARM_RESET_NOISE): void {
  for (let i = 0; i < 7; i++) {
    sim.view.qpos[i] = ARM_HOME[i] + sim.rng.uniform(-noise, noise);
    sim.view.qvel[i] = 0;
    sim.view.ctrl[i] = sim.view.qpos[i];
  }
}

/** Joint state and tool tip, the first 17 entries of both arm tasks' observations. */
export const ARM_STATE_NAMES = [
  ...ARM_JOINTS.map((j) => `${j}_position`),
  ...ARM_JOINTS.map((j) => `${j}_velocity`),
  'ee_x', 'ee_y', 'ee_z',
];
/**
 * The joint-position command in force (rad, after the ctrlrange clamp): the policy's last action in the units a
 * robot driver sees, and what the action-rate penalty compares against. At reset it is the measured pose.
 */
export const ARM_COMMAND_NAMES = ARM_JOINTS.map((j) => `${j}_command`);

export function observeArmState(sim: Sim, eeSite: number, out: Float32Array): void {
  const { qpos, qvel, site_xpos } = sim.view;
  for (let i = 0; i < 7; i++) out[i] = qpos[i];
  for (let i = 0; i < 7; i++) out[7 + i] = qvel[i];
  out[14] = site_xpos[3 * eeSite];
  out[15] = site_xpos[3 * eeSite + 1];
  out[16] = site_xpos[3 * eeSite + 2];
}

export function observeArmCommand(sim: Sim, out: Float32Array, at: number): void {
  const ctrl = sim.view.ctrl;
  for (let i = 0; i < 7; i++) out[at + i] = ctrl[i];
}

/**
 * Isaac-Lab-style shaping around a distance d: −d everywhere, plus a tanh kernel (1 − tanh(d/width)) whose slope
 * near the goal is large enough for a critic to resolve centimetres.
 */
export function distanceReward(d: number, width: number, kernelWeight = 1): number {
  return -d + kernelWeight * (1 - Math.tanh(d / width));
}

/**
 * Action-rate penalty on the change of the commanded targets in action units (ctrl difference / scale): computed
 * from two observations' command entries, so relabelled transitions can recompute it.
 */
export function actionRate(previousCommand: ArrayLike<number>, command: ArrayLike<number>, previousAt: number, at: number, scale: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < 7; i++) {
    const u = (command[at + i] - previousCommand[previousAt + i]) / scale[i];
    s += u * u;
  }
  return s;
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
  const posture = new Float64Array(7);
  const error = new Float64Array(3);
  const rhs = new Float64Array(3);
  const jjt = new Float64Array(9);
  const y = new Float64Array(3);
  // Called once per control step: everything it needs is allocated above (the Jacobian view excepted).
  return () => {
    // Integrate on the command in force (the actuators' ctrl, which the observation reports), not on a private
    // copy: the controller is then a function of the state, so noisy execution (DART datasets) gets labels that
    // correct from where the arm was actually sent. At reset ctrl is the measured pose.
    const { site_xpos, ctrl } = sim.view;
    command.set(ctrl.subarray(0, 7));
    target(goal);
    for (let r = 0; r < 3; r++) error[r] = goal[r] - site_xpos[3 * ee + r];
    const norm = Math.hypot(error[0], error[1], error[2]);
    const k = norm * gain > maxStep ? maxStep / norm : gain;
    mj.mj_jacSite(model, sim.data, jac, null, ee);
    const J = jac.GetView() as Float64Array;
    // J Jᵀ + λ²I, with λ = 0.03 m keeping the step bounded near singular poses.
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = 0; i < 7; i++) s += J[r * nv + i] * J[c * nv + i];
        jjt[r * 3 + c] = s + (r === c ? 1e-3 : 0);
      }
    }
    // Task step plus null-space posture step: dq = J⁺(k e) + (I − J⁺J) z = z + Jᵀ (J Jᵀ + λ²I)⁻¹ (k e − J z).
    for (let i = 0; i < 7; i++) posture[i] = 0.05 * (ARM_HOME[i] - command[i]);
    for (let r = 0; r < 3; r++) {
      let s = 0;
      for (let i = 0; i < 7; i++) s += J[r * nv + i] * posture[i];
      rhs[r] = k * error[r] - s;
    }
    solve3(jjt, rhs, y);
    for (let i = 0; i < 7; i++) {
      const dq = J[i] * y[0] + J[nv + i] * y[1] + J[2 * nv + i] * y[2] + posture[i];
      const lo = Math.max(sim.actionOffset[i] - sim.actionScale[i], sim.actionLow[i]);
      const hi = Math.min(sim.actionOffset[i] + sim.actionScale[i], sim.actionHigh[i]);
      command[i] = Math.min(hi, Math.max(lo, command[i] + dq));
      action[i] = (command[i] - sim.actionOffset[i]) / sim.actionScale[i];
    }
    return action;
  };
}

/** Solve the 3×3 system a·x = b (Cramer's rule; a is symmetric positive definite here). */
function solve3(a: Float64Array, b: Float64Array, x: Float64Array): void {
  const c0 = a[4] * a[8] - a[5] * a[7];
  const c1 = a[5] * a[6] - a[3] * a[8];
  const c2 = a[3] * a[7] - a[4] * a[6];
  const det = a[0] * c0 + a[1] * c1 + a[2] * c2;
  x[0] = (b[0] * c0 + b[1] * (a[2] * a[7] - a[1] * a[8]) + b[2] * (a[1] * a[5] - a[2] * a[4])) / det;
  x[1] = (b[0] * c1 + b[1] * (a[0] * a[8] - a[2] * a[6]) + b[2] * (a[2] * a[3] - a[0] * a[5])) / det;
  x[2] = (b[0] * c2 + b[1] * (a[1] * a[6] - a[0] * a[7]) + b[2] * (a[0] * a[4] - a[1] * a[3])) / det;
}

export function eeSiteId(sim: { mj: Sim['mj']; model: Sim['model'] }): number {
  return objectId(sim.mj, sim.model, 'site', 'ee');
}
