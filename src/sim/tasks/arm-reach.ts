// arm_reach: the 7-DoF arm (joint-position servos) moves its tool tip to a random 3-D target in front of it.
// Success = tool tip within 2 cm of the target at the end of the episode.
import type { TaskSpec } from '../task.ts';
import { ARM_OBSERVATION_NAMES, cartesianController, eeSiteId, observeArm, resetArm } from './arm.ts';

/** Target box in the base frame (m). */
export const REACH_TARGET_LOW = [0.35, -0.35, 0.15];
export const REACH_TARGET_HIGH = [0.65, 0.35, 0.6];
const SUCCESS_DISTANCE = 0.02;

export const armReach: TaskSpec = {
  name: 'arm_reach',
  description: '7-DoF arm reaching a random 3-D target, success within 2 cm (obs 20, act 7 joint targets, 100 steps of 50 ms)',
  mjcf: 'arm_reach.xml',
  frameSkip: 10,
  maxSteps: 100,
  observationNames: [...ARM_OBSERVATION_NAMES, 'target_x', 'target_y', 'target_z'],
  successMeaning: `tool tip within ${SUCCESS_DISTANCE * 100} cm of the target at the end`,
  createLogic(model, mj) {
    const ee = eeSiteId({ mj, model });
    const distance = (v: { site_xpos: Float64Array; mocap_pos: Float64Array }) =>
      Math.hypot(v.site_xpos[3 * ee] - v.mocap_pos[0], v.site_xpos[3 * ee + 1] - v.mocap_pos[1], v.site_xpos[3 * ee + 2] - v.mocap_pos[2]);
    return {
      reset(sim) {
        resetArm(sim);
        for (let i = 0; i < 3; i++) sim.view.mocap_pos[i] = sim.rng.uniform(REACH_TARGET_LOW[i], REACH_TARGET_HIGH[i]);
      },
      observe(sim, out) {
        observeArm(sim, ee, out);
        out[17] = sim.view.mocap_pos[0];
        out[18] = sim.view.mocap_pos[1];
        out[19] = sim.view.mocap_pos[2];
      },
      reward: (sim) => -distance(sim.view),
      success: (sim) => distance(sim.view) < SUCCESS_DISTANCE,
    };
  },
  scripted: (sim) =>
    cartesianController(sim, (goal) => {
      goal[0] = sim.view.mocap_pos[0];
      goal[1] = sim.view.mocap_pos[1];
      goal[2] = sim.view.mocap_pos[2];
    }),
};
