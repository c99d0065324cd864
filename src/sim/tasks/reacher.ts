// reacher: a planar two-link arm (2 × 0.12 m) brings its fingertip to a random target on the plane.
import { type TaskSpec, clamp, objectId, wrapAngle } from '../task.ts';

const LINK = 0.12;
const TARGET_MIN_RADIUS = 0.05;
const TARGET_MAX_RADIUS = 0.22;
const CONTROL_COST = 0.05;
const SUCCESS_DISTANCE = 0.02;
/** Motor gear (N·m at |a| = 1) in reacher.xml. */
const GEAR = 0.5;

export const reacher: TaskSpec = {
  name: 'reacher',
  description: 'planar 2-link arm reaching a random target (obs 10, act 2, 50 steps of 20 ms)',
  mjcf: 'reacher.xml',
  frameSkip: 2,
  maxSteps: 50,
  observationNames: [
    'cos_shoulder', 'cos_elbow', 'sin_shoulder', 'sin_elbow', 'target_x', 'target_y',
    'shoulder_velocity', 'elbow_velocity', 'fingertip_to_target_x', 'fingertip_to_target_y',
  ],
  successMeaning: `fingertip within ${SUCCESS_DISTANCE * 100} cm of the target at the end`,
  createLogic(model, mj) {
    const tip = objectId(mj, model, 'site', 'fingertip');
    const distance = (sim: { view: { site_xpos: Float64Array; mocap_pos: Float64Array } }) => {
      const dx = sim.view.site_xpos[3 * tip] - sim.view.mocap_pos[0];
      const dy = sim.view.site_xpos[3 * tip + 1] - sim.view.mocap_pos[1];
      return Math.hypot(dx, dy);
    };
    return {
      reset(sim) {
        sim.view.qpos[0] = sim.rng.uniform(-Math.PI, Math.PI);
        sim.view.qpos[1] = sim.rng.uniform(-0.5, 0.5);
        const radius = Math.sqrt(sim.rng.uniform(TARGET_MIN_RADIUS ** 2, TARGET_MAX_RADIUS ** 2));
        const heading = sim.rng.uniform(-Math.PI, Math.PI);
        sim.view.mocap_pos[0] = radius * Math.cos(heading);
        sim.view.mocap_pos[1] = radius * Math.sin(heading);
        sim.view.mocap_pos[2] = 0;
      },
      observe(sim, out) {
        const { qpos, qvel, site_xpos, mocap_pos } = sim.view;
        out[0] = Math.cos(qpos[0]);
        out[1] = Math.cos(qpos[1]);
        out[2] = Math.sin(qpos[0]);
        out[3] = Math.sin(qpos[1]);
        out[4] = mocap_pos[0];
        out[5] = mocap_pos[1];
        out[6] = qvel[0];
        out[7] = qvel[1];
        out[8] = site_xpos[3 * tip] - mocap_pos[0];
        out[9] = site_xpos[3 * tip + 1] - mocap_pos[1];
      },
      reward(sim, action) {
        return -distance(sim) - CONTROL_COST * (action[0] * action[0] + action[1] * action[1]);
      },
      success: (sim) => distance(sim) < SUCCESS_DISTANCE,
    };
  },
  // Analytic inverse kinematics (the elbow branch nearer the current pose) and a joint PD controller.
  scripted(sim) {
    const action = new Float32Array(2);
    return () => {
      const { qpos, qvel, mocap_pos } = sim.view;
      const x = mocap_pos[0];
      const y = mocap_pos[1];
      const c2 = clamp((x * x + y * y - 2 * LINK * LINK) / (2 * LINK * LINK), -1, 1);
      let elbow = Math.acos(c2);
      if (qpos[1] < 0) elbow = -elbow;
      const shoulder = Math.atan2(y, x) - Math.atan2(LINK * Math.sin(elbow), LINK + LINK * Math.cos(elbow));
      const e0 = wrapAngle(shoulder - qpos[0]);
      const e1 = elbow - qpos[1];
      action[0] = clamp((2.0 * e0 - 0.12 * qvel[0]) / GEAR, -1, 1);
      action[1] = clamp((1.0 * e1 - 0.06 * qvel[1]) / GEAR, -1, 1);
      return action;
    };
  },
};
