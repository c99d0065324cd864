// two_way: a point mass must reach a goal straight behind a wall. Around the left end or the right end is equally
// short, so the task has two separated, equally good solutions: a unimodal Gaussian policy has to commit to one,
// a generative policy can keep both. info.mode says which side the episode passed the wall on.
import { type Sim, type TaskSpec, clamp } from '../task.ts';

const WALL_HALF_LENGTH = 0.2;
/** Wall end plus agent radius plus the wall's half thickness: where the shortest paths turn. */
const CORNER_X = WALL_HALF_LENGTH + 0.025 + 0.03;
const START_Y = -0.4;
const GOAL_Y = 0.4;
const START_NOISE = 0.03;
const SUCCESS_DISTANCE = 0.05;
/** Precision kernel width (m) and the speed penalty near the goal: together they pay for arriving and stopping. */
const KERNEL_WIDTH = 0.05;
const STOP_WEIGHT = 0.5;

/** Shortest collision-free path length from p to g around the wall (the reward's distance). */
export function pathLength(px: number, py: number, gx: number, gy: number): number {
  const direct = Math.hypot(gx - px, gy - py);
  if (py * gy >= 0 || py === gy) return direct;
  // Where the straight line crosses the wall's line y = 0; blocked if that lies on the wall.
  const crossX = px + ((gx - px) * (0 - py)) / (gy - py);
  if (Math.abs(crossX) > CORNER_X) return direct;
  const viaLeft = Math.hypot(-CORNER_X - px, py) + Math.hypot(gx + CORNER_X, gy);
  const viaRight = Math.hypot(CORNER_X - px, py) + Math.hypot(gx - CORNER_X, gy);
  return Math.min(viaLeft, viaRight);
}

export const twoWay: TaskSpec = {
  name: 'two_way',
  description: 'reach a goal behind a wall, around its left or right end and stop on it (obs 8, act 2, 50 steps of 50 ms; reports info.mode)',
  mjcf: 'two_way.xml',
  frameSkip: 5,
  maxSteps: 50,
  observationNames: ['x', 'y', 'velocity_x', 'velocity_y', 'goal_x', 'goal_y', 'to_goal_x', 'to_goal_y'],
  modes: ['left', 'right'],
  successMeaning: `within ${SUCCESS_DISTANCE * 100} cm of the goal at the end`,
  createLogic() {
    let mode: string | null = null;
    let lastY = 0;
    const distance = (sim: Sim) => pathLength(sim.view.qpos[0], sim.view.qpos[1], sim.view.mocap_pos[0], sim.view.mocap_pos[1]);
    return {
      reset(sim) {
        sim.view.qpos[0] = sim.rng.uniform(-START_NOISE, START_NOISE);
        sim.view.qpos[1] = START_Y + sim.rng.uniform(-START_NOISE, START_NOISE);
        sim.view.mocap_pos[0] = sim.rng.uniform(-START_NOISE, START_NOISE);
        sim.view.mocap_pos[1] = GOAL_Y + sim.rng.uniform(-START_NOISE, START_NOISE);
        sim.view.mocap_pos[2] = 0;
        mode = null;
        lastY = sim.view.qpos[1];
      },
      observe(sim, out) {
        const { qpos, qvel, mocap_pos } = sim.view;
        out[0] = qpos[0];
        out[1] = qpos[1];
        out[2] = qvel[0];
        out[3] = qvel[1];
        out[4] = mocap_pos[0];
        out[5] = mocap_pos[1];
        out[6] = mocap_pos[0] - qpos[0];
        out[7] = mocap_pos[1] - qpos[1];
      },
      // −(path length) + a kernel for being on the goal − a speed penalty that only bites near it (so stopping pays).
      reward(sim) {
        const near = 1 - Math.tanh(distance(sim) / KERNEL_WIDTH);
        return -distance(sim) + near * (1 - STOP_WEIGHT * Math.hypot(sim.view.qvel[0], sim.view.qvel[1]));
      },
      success: (sim) => Math.hypot(sim.view.qpos[0] - sim.view.mocap_pos[0], sim.view.qpos[1] - sim.view.mocap_pos[1]) < SUCCESS_DISTANCE,
      mode(sim) {
        // The first crossing of the wall's line decides the mode.
        const y = sim.view.qpos[1];
        if (mode === null && lastY < 0 && y >= 0) mode = sim.view.qpos[0] < 0 ? 'left' : 'right';
        lastY = y;
        return mode;
      },
    };
  },
  // Go around the wall on the side the start position leans to (or the side options.mode names), then straight
  // to the goal. Left to itself the side is a function of the observation; forcing it per episode makes the
  // choice independent of the state, which is what a genuinely multimodal dataset needs.
  scripted(sim, options) {
    const action = new Float32Array(2);
    const forced = options?.mode === 'left' ? -1 : options?.mode === 'right' ? 1 : 0;
    if (options?.mode !== undefined && forced === 0) throw new RangeError(`two_way's modes are left and right, not '${options.mode}'`);
    return () => {
      const { qpos, qvel, mocap_pos } = sim.view;
      const x = qpos[0];
      const y = qpos[1];
      const side = forced !== 0 ? forced : x < 0 ? -1 : 1;
      let tx = mocap_pos[0];
      let ty = mocap_pos[1];
      if (y < 0.08) {
        tx = side * (CORNER_X + 0.06);
        ty = Math.abs(x) < CORNER_X + 0.02 ? Math.min(y, -0.08) : 0.12;
      }
      const dx = tx - x;
      const dy = ty - y;
      const d = Math.hypot(dx, dy);
      const speed = Math.min(1.2, 6 * d);
      const vx = d > 1e-9 ? (speed * dx) / d : 0;
      const vy = d > 1e-9 ? (speed * dy) / d : 0;
      action[0] = clamp(4 * (vx - qvel[0]) * 0.5 + vx * 0.5, -1, 1);
      action[1] = clamp(4 * (vy - qvel[1]) * 0.5 + vy * 0.5, -1, 1);
      return action;
    };
  },
};
