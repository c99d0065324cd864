// pendulum: swing a 1 m, 1 kg pole up from any angle and balance it; the 2 N·m motor is weaker than gravity's
// 4.9 N·m, so the policy has to pump energy first. The smoke test a trainer solves in minutes on a CPU.
import { type TaskSpec, clamp, objectId, wrapAngle } from '../task.ts';

/** Reward weights (Gym Pendulum's cost, on the normalised action). */
const ANGLE_COST = 1;
const VELOCITY_COST = 0.1;
const ACTION_COST = 0.001;
/** Upright within 0.2 rad and nearly still at the end of the episode counts as balanced. */
const SUCCESS_ANGLE = 0.2;
const SUCCESS_VELOCITY = 1.0;

export const pendulum: TaskSpec = {
  name: 'pendulum',
  description: 'swing up and balance a torque-limited pole (obs 3, act 1, 200 steps of 50 ms)',
  mjcf: 'pendulum.xml',
  frameSkip: 5,
  maxSteps: 200,
  observationNames: ['cos_angle', 'sin_angle', 'angular_velocity'],
  successMeaning: `upright within ${SUCCESS_ANGLE} rad and slower than ${SUCCESS_VELOCITY} rad/s at the end`,
  createLogic: () => ({
    reset(sim) {
      sim.view.qpos[0] = sim.rng.uniform(-Math.PI, Math.PI);
      sim.view.qvel[0] = sim.rng.uniform(-1, 1);
    },
    observe(sim, out) {
      const angle = sim.view.qpos[0];
      out[0] = Math.cos(angle);
      out[1] = Math.sin(angle);
      out[2] = sim.view.qvel[0];
    },
    reward(sim, action) {
      const angle = wrapAngle(sim.view.qpos[0]);
      const velocity = sim.view.qvel[0];
      return -(ANGLE_COST * angle * angle + VELOCITY_COST * velocity * velocity + ACTION_COST * action[0] * action[0]);
    },
    success(sim) {
      return Math.abs(wrapAngle(sim.view.qpos[0])) < SUCCESS_ANGLE && Math.abs(sim.view.qvel[0]) < SUCCESS_VELOCITY;
    },
  }),
  // Energy pumping until the pole is near the top, then a PD balance controller.
  scripted(sim) {
    const action = new Float32Array(1);
    // The pole's physics, read from the model rather than restated: mass and centre-of-mass distance (the gravity
    // torque), the inertia about the hinge (MuJoCo's joint-space inertia at qpos0), the motor's torque limit.
    const { mj, model } = sim;
    const pole = objectId(mj, model, 'body', 'pole');
    const ipos = model.body_ipos as Float64Array;
    const comDistance = Math.hypot(ipos[3 * pole], ipos[3 * pole + 1], ipos[3 * pole + 2]);
    const opt = model.opt;
    const gravity = -opt.gravity[2];
    opt.delete();
    const inertia = (model.dof_M0 as Float64Array)[0];
    const torqueLimit = (model.actuator_ctrlrange as Float64Array)[1];
    const uprightEnergy = (model.body_mass as Float64Array)[pole] * gravity * comDistance;
    return () => {
      const angle = wrapAngle(sim.view.qpos[0]);
      const velocity = sim.view.qvel[0];
      let torque: number;
      if (Math.abs(angle) < 0.5) torque = -(25 * angle + 5 * velocity);
      else {
        const energy = 0.5 * inertia * velocity * velocity + uprightEnergy * Math.cos(angle);
        const push = velocity === 0 ? 1 : Math.sign(velocity);
        torque = 10 * (uprightEnergy - energy) * push;
      }
      action[0] = clamp(torque / torqueLimit, -1, 1);
      return action;
    };
  },
};
