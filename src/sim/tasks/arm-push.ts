// arm_push: the 7-DoF arm, mounted on a table, pushes a puck to a goal on the table top.
// Success = puck centre within 4 cm of the goal at the end of the episode. Same interface as arm_reach: joint
// targets relative to home, tip-to-puck and puck-to-goal vectors and the last command in the observation, a tanh
// precision kernel on the puck's distance to the goal and a small action-rate penalty.
import { type Sim, type TaskSpec, objectId } from '../task.ts';
import {
  ARM_ACTION,
  ARM_ACTION_SCALE,
  ARM_COMMAND_NAMES,
  ARM_STATE_NAMES,
  actionRate,
  cartesianController,
  distanceReward,
  eeSiteId,
  observeArmCommand,
  observeArmState,
  resetArm,
} from './arm.ts';

const PUCK_RADIUS = 0.035;
const TIP_RADIUS = 0.02;
/** Tool-tip height while pushing: the puck's mid-height, just above the table. */
const PUSH_HEIGHT = 0.022;
const TRAVEL_HEIGHT = 0.1;
const SUCCESS_DISTANCE = 0.04;
const REACH_SHAPING = 0.2;
const KERNEL_WIDTH = 0.04;
const ACTION_RATE_WEIGHT = 0.005;

export const armPush: TaskSpec = {
  name: 'arm_push',
  description: '7-DoF arm pushing a puck to a goal on a table, success within 4 cm (obs 36, act 7 joint targets relative to home, 100 steps of 50 ms)',
  mjcf: 'arm_push.xml',
  frameSkip: 10,
  maxSteps: 100,
  observationNames: [
    ...ARM_STATE_NAMES,
    'puck_x', 'puck_y', 'puck_z', 'puck_velocity_x', 'puck_velocity_y', 'goal_x', 'goal_y',
    'ee_to_puck_x', 'ee_to_puck_y', 'ee_to_puck_z', 'puck_to_goal_x', 'puck_to_goal_y',
    ...ARM_COMMAND_NAMES,
  ],
  action: ARM_ACTION,
  successMeaning: `puck within ${SUCCESS_DISTANCE * 100} cm of the goal at the end`,
  createLogic(model, mj) {
    const ee = eeSiteId({ mj, model });
    const puckQpos = (model.jnt_qposadr as Int32Array)[objectId(mj, model, 'joint', 'puck')];
    const puckDof = (model.jnt_dofadr as Int32Array)[objectId(mj, model, 'joint', 'puck')];
    const goalDistance = (sim: Sim) =>
      Math.hypot(sim.view.qpos[puckQpos] - sim.view.mocap_pos[0], sim.view.qpos[puckQpos + 1] - sim.view.mocap_pos[1]);
    const previousCommand = new Float64Array(7);
    return {
      reset(sim) {
        resetArm(sim, 0.05);
        previousCommand.set(sim.view.ctrl.subarray(0, 7));
        const { qpos, rng, mocap_pos } = { ...sim.view, rng: sim.rng };
        const px = rng.uniform(0.45, 0.6);
        const py = rng.uniform(-0.12, 0.12);
        qpos[puckQpos] = px;
        qpos[puckQpos + 1] = py;
        qpos[puckQpos + 2] = 0.02;
        // Goal 8–18 cm from the puck, in any direction that keeps it on the reachable part of the table.
        let gx = 0;
        let gy = 0;
        do {
          const heading = rng.uniform(-Math.PI, Math.PI);
          const radius = rng.uniform(0.08, 0.18);
          gx = px + radius * Math.cos(heading);
          gy = py + radius * Math.sin(heading);
        } while (gx < 0.38 || gx > 0.72 || Math.abs(gy) > 0.25);
        mocap_pos[0] = gx;
        mocap_pos[1] = gy;
        mocap_pos[2] = 0.001;
      },
      observe(sim, out) {
        observeArmState(sim, ee, out);
        const { qpos, qvel, mocap_pos, site_xpos } = sim.view;
        out[17] = qpos[puckQpos];
        out[18] = qpos[puckQpos + 1];
        out[19] = qpos[puckQpos + 2];
        out[20] = qvel[puckDof];
        out[21] = qvel[puckDof + 1];
        out[22] = mocap_pos[0];
        out[23] = mocap_pos[1];
        for (let i = 0; i < 3; i++) out[24 + i] = qpos[puckQpos + i] - site_xpos[3 * ee + i];
        out[27] = mocap_pos[0] - qpos[puckQpos];
        out[28] = mocap_pos[1] - qpos[puckQpos + 1];
        observeArmCommand(sim, out, 29);
      },
      reward(sim) {
        const { qpos, site_xpos, ctrl } = sim.view;
        const reach = Math.hypot(site_xpos[3 * ee] - qpos[puckQpos], site_xpos[3 * ee + 1] - qpos[puckQpos + 1], site_xpos[3 * ee + 2] - qpos[puckQpos + 2]);
        const rate = actionRate(previousCommand, ctrl, 0, 0, ARM_ACTION_SCALE);
        previousCommand.set(ctrl.subarray(0, 7));
        return distanceReward(goalDistance(sim), KERNEL_WIDTH) - REACH_SHAPING * reach - ACTION_RATE_WEIGHT * rate;
      },
      success: (sim) => goalDistance(sim) < SUCCESS_DISTANCE,
    };
  },
  // Get behind the puck (seen from the goal) from above, lower the tip, then push through the puck toward the goal.
  scripted(sim) {
    const { mj, model } = sim;
    const ee = eeSiteId(sim);
    const puckQpos = (model.jnt_qposadr as Int32Array)[objectId(mj, model, 'joint', 'puck')];
    return cartesianController(sim, (goal) => {
      const { qpos, site_xpos, mocap_pos } = sim.view;
      const px = qpos[puckQpos];
      const py = qpos[puckQpos + 1];
      let ux = mocap_pos[0] - px;
      let uy = mocap_pos[1] - py;
      const remaining = Math.hypot(ux, uy);
      ux /= remaining || 1;
      uy /= remaining || 1;
      if (remaining < 0.012) {
        // Close enough: lift the tip straight up, off the puck.
        goal[0] = site_xpos[3 * ee];
        goal[1] = site_xpos[3 * ee + 1];
        goal[2] = TRAVEL_HEIGHT;
        return;
      }
      const ex = site_xpos[3 * ee] - px;
      const ey = site_xpos[3 * ee + 1] - py;
      const ez = site_xpos[3 * ee + 2];
      const along = ex * ux + ey * uy;
      const across = -ex * uy + ey * ux;
      const contact = PUCK_RADIUS + TIP_RADIUS;
      const behind = along < -contact + 0.015 && along > -contact - 0.04 && Math.abs(across) < 0.015;
      if (behind && ez < PUSH_HEIGHT + 0.02) {
        // Push: move the tip a little further along the puck-to-goal line each step, slower as the puck nears the
        // goal so it does not slide past it, steering back onto the line through the puck centre.
        const step = Math.min(0.025, Math.max(0.004, 0.5 * remaining));
        goal[0] = site_xpos[3 * ee] + ux * step + uy * across * 0.5;
        goal[1] = site_xpos[3 * ee + 1] + uy * step - ux * across * 0.5;
        goal[2] = PUSH_HEIGHT;
        return;
      }
      const sx = px - ux * (contact + 0.02);
      const sy = py - uy * (contact + 0.02);
      const aligned = Math.hypot(site_xpos[3 * ee] - sx, site_xpos[3 * ee + 1] - sy) < 0.015;
      goal[0] = sx;
      goal[1] = sy;
      goal[2] = aligned || (ez < PUSH_HEIGHT + 0.02 && along < -contact) ? PUSH_HEIGHT : TRAVEL_HEIGHT;
    });
  },
};
