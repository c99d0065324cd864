// arm_reach: the 7-DoF arm (joint-position servos) moves its tool tip to a random 3-D target in front of it.
// Success = tool tip within 2 cm of the target at the end of the episode. The interface is the one robot learning
// uses for reaching (Isaac Lab's reach task): joint targets relative to the home pose, the tip-to-target vector and
// distance in the observation beside the last command, and a reward with a tanh precision kernel and a small
// action-rate penalty. Why each piece is there: docs/tasks.md.
import type { TaskSpec } from '../task.ts';
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

/** Target box in the base frame (m). */
export const REACH_TARGET_LOW = [0.35, -0.35, 0.15];
export const REACH_TARGET_HIGH = [0.65, 0.35, 0.6];
export const REACH_SUCCESS_DISTANCE = 0.02;
/** Width of the precision kernel (m): its slope is largest within a few centimetres of the target. */
export const REACH_KERNEL_WIDTH = 0.03;
export const REACH_ACTION_RATE_WEIGHT = 0.005;

export const REACH_OBSERVATION_NAMES = [
  ...ARM_STATE_NAMES,
  'target_x', 'target_y', 'target_z',
  'ee_to_target_x', 'ee_to_target_y', 'ee_to_target_z', 'ee_to_target_distance',
  ...ARM_COMMAND_NAMES,
];
/** Where the pieces sit in the observation (for reward recomputation, HER and the ROS node's layout). */
export const REACH_LAYOUT = { ee: 14, target: 17, toTarget: 20, distance: 23, command: 24 } as const;

/**
 * The reward of a transition from its two observation rows (the arm_reach layout, same target in both), so a
 * relabelled target gives the reward the environment would have given: −d + kernel(d) − w·(action rate)².
 */
export function reachReward(observations: ArrayLike<number>, at: number, next: ArrayLike<number>, nextAt: number): number {
  const { ee, target, command } = REACH_LAYOUT;
  const e = nextAt + ee;
  const g = nextAt + target;
  const d = Math.hypot(next[e] - next[g], next[e + 1] - next[g + 1], next[e + 2] - next[g + 2]);
  const rate = actionRate(observations, next, at + command, nextAt + command, ARM_ACTION_SCALE);
  return distanceReward(d, REACH_KERNEL_WIDTH) - REACH_ACTION_RATE_WEIGHT * rate;
}

/** Write a target (and the tip-to-target entries derived from it) into an arm_reach observation row. */
function relabelReach(observations: Float32Array, at: number, goal: ArrayLike<number>, goalAt: number): void {
  const { ee, target, toTarget, distance } = REACH_LAYOUT;
  let sq = 0;
  for (let i = 0; i < 3; i++) {
    const g = goal[goalAt + i];
    observations[at + target + i] = g;
    const v = g - observations[at + ee + i];
    observations[at + toTarget + i] = v;
    sq += v * v;
  }
  observations[at + distance] = Math.sqrt(sq);
}

export const armReach: TaskSpec = {
  name: 'arm_reach',
  description: '7-DoF arm reaching a random 3-D target, success within 2 cm (obs 31, act 7 joint targets relative to home, 50 steps of 50 ms)',
  mjcf: 'arm_reach.xml',
  frameSkip: 10,
  maxSteps: 50,
  observationNames: REACH_OBSERVATION_NAMES,
  action: ARM_ACTION,
  goal: { size: 3, achievedAt: REACH_LAYOUT.ee, relabel: relabelReach, reward: reachReward },
  successMeaning: `tool tip within ${REACH_SUCCESS_DISTANCE * 100} cm of the target at the end`,
  createLogic(model, mj) {
    const ee = eeSiteId({ mj, model });
    const distance = (v: { site_xpos: Float64Array; mocap_pos: Float64Array }) =>
      Math.hypot(v.site_xpos[3 * ee] - v.mocap_pos[0], v.site_xpos[3 * ee + 1] - v.mocap_pos[1], v.site_xpos[3 * ee + 2] - v.mocap_pos[2]);
    const previousCommand = new Float64Array(7);
    return {
      reset(sim) {
        resetArm(sim);
        previousCommand.set(sim.view.ctrl.subarray(0, 7));
        for (let i = 0; i < 3; i++) sim.view.mocap_pos[i] = sim.rng.uniform(REACH_TARGET_LOW[i], REACH_TARGET_HIGH[i]);
      },
      observe(sim, out) {
        observeArmState(sim, ee, out);
        const { site_xpos, mocap_pos } = sim.view;
        const { target, toTarget, distance: at, command } = REACH_LAYOUT;
        for (let i = 0; i < 3; i++) {
          out[target + i] = mocap_pos[i];
          out[toTarget + i] = mocap_pos[i] - site_xpos[3 * ee + i];
        }
        out[at] = distance(sim.view);
        observeArmCommand(sim, out, command);
      },
      reward(sim) {
        const ctrl = sim.view.ctrl;
        const rate = actionRate(previousCommand, ctrl, 0, 0, ARM_ACTION_SCALE);
        previousCommand.set(ctrl.subarray(0, 7));
        return distanceReward(distance(sim.view), REACH_KERNEL_WIDTH) - REACH_ACTION_RATE_WEIGHT * rate;
      },
      success: (sim) => distance(sim.view) < REACH_SUCCESS_DISTANCE,
    };
  },
  scripted: (sim) =>
    cartesianController(sim, (goal) => {
      goal[0] = sim.view.mocap_pos[0];
      goal[1] = sim.view.mocap_pos[1];
      goal[2] = sim.view.mocap_pos[2];
    }),
};
