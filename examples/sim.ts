// Simulate: a MuJoCo task with seeded resets, a step loop with your own controller, and closed-loop evaluation.
//   node --import tsx examples/sim.ts
import { MujocoEnv, evaluate, formatEvaluation, scriptedPolicy } from 'onestep/sim';

const env = await MujocoEnv.make('arm_reach'); // or MujocoEnv.fromMjcf('my_robot.xml')
console.log(`arm_reach: ${env.observationSize} observations (${env.observationSpec.names.slice(0, 3).join(', ')}, …), ${env.actionSize} actions`);

// Your own loop: actions are in [-1, 1] per actuator (relative to the home pose for the arm tasks).
let obs = env.reset(7);
const action = new Float32Array(env.actionSize);
let total = 0;
for (let t = 0; ; t++) {
  action.fill(Math.sin(t / 10) * 0.2);
  const step = env.step(action); // step.obs is a reused buffer: copy it to keep it
  total += step.reward;
  obs = step.obs;
  if (step.terminated || step.truncated) break;
}
console.log(`one episode of a sine controller: return ${total.toFixed(2)}, tip-to-target distance ${obs[env.observationSpec.names.indexOf('ee_to_target_distance')].toFixed(3)} m`);

// Closed-loop evaluation of a policy (obs → action), here the task's scripted controller.
const result = evaluate(env, scriptedPolicy(env), { episodes: 3, seed: 0 });
console.log(formatEvaluation(result));
env.close();
