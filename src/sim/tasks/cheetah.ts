// cheetah: a planar two-legged runner (HalfCheetah-like: nq 9, nu 6, obs 17) for locomotion comparisons.
// Reward = forward speed − 0.1·|a|², 1000 steps of 50 ms, no early termination, as in the Gym benchmark.
import type { TaskSpec } from '../task.ts';

const CONTROL_COST = 0.1;
const RESET_POSITION_NOISE = 0.1;
const RESET_VELOCITY_NOISE = 0.1;
const JOINTS = ['bthigh', 'bshin', 'bfoot', 'fthigh', 'fshin', 'ffoot'];

export const cheetah: TaskSpec = {
  name: 'cheetah',
  description: 'planar 6-actuator runner, reward = forward speed (obs 17, act 6, 1000 steps of 50 ms)',
  mjcf: 'cheetah.xml',
  frameSkip: 5,
  maxSteps: 1000,
  observationNames: [
    'rootz', 'rooty', ...JOINTS.map((j) => `${j}_angle`),
    'rootx_velocity', 'rootz_velocity', 'rooty_velocity', ...JOINTS.map((j) => `${j}_velocity`),
  ],
  createLogic(model) {
    const nq = model.nq;
    const nv = model.nv;
    let lastX = 0;
    let lastTime = 0;
    return {
      reset(sim) {
        for (let i = 0; i < nq; i++) sim.view.qpos[i] += sim.rng.uniform(-RESET_POSITION_NOISE, RESET_POSITION_NOISE);
        for (let i = 0; i < nv; i++) sim.view.qvel[i] = RESET_VELOCITY_NOISE * sim.rng.normal();
        lastX = sim.view.qpos[0];
        lastTime = sim.data.time;
      },
      observe(sim, out) {
        // The x position is left out so the policy cannot depend on how far it has run.
        for (let i = 1; i < nq; i++) out[i - 1] = sim.view.qpos[i];
        for (let i = 0; i < nv; i++) out[nq - 1 + i] = sim.view.qvel[i];
      },
      reward(sim, action) {
        const x = sim.view.qpos[0];
        const time = sim.data.time;
        const speed = (x - lastX) / (time - lastTime);
        lastX = x;
        lastTime = time;
        let cost = 0;
        for (let i = 0; i < action.length; i++) cost += action[i] * action[i];
        return speed - CONTROL_COST * cost;
      },
    };
  },
  // An open-loop gait: each joint follows a (clipped) sine at 1.36 Hz; amplitudes and phases were found by a
  // short random search on this model (about 1.3 m/s).
  scripted(sim) {
    const action = new Float32Array(6);
    const amplitude = [1.25, 0.66, 0.49, 0.48, 0.5, 1.61];
    const phase = [0.25, 1.09, 4.57, 3.14, 1.15, 6.44];
    const omega = 2 * Math.PI * 1.36;
    return () => {
      const t = sim.data.time;
      for (let i = 0; i < 6; i++) action[i] = Math.max(-1, Math.min(1, amplitude[i] * Math.sin(omega * t + phase[i])));
      return action;
    };
  },
};
