// Train in your own program, as `onestep train` does: pick the TF.js backend, make an agent, run the training
// loop in a MuJoCo task, export the checkpoint to ONNX and act with it. Tiny budget here (a few seconds); the
// task presets (`taskPreset`) hold the real ones.
//   node --import tsx examples/train.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyRuntime } from 'onestep';
import { MujocoEnv } from 'onestep/sim';
import { LOOP_DEFAULTS, SAC_DEFAULTS, Sac, Trainer, exportCheckpointOnnx, initBackend, loadCheckpoint, runPaths } from 'onestep/train';

const backend = await initBackend(); // the fastest this machine runs: tfjs-node, cpu + OpenBLAS, or wasm
console.log(`TF.js backend: ${backend.backend}`);

const task = 'pendulum';
const [env, evalEnv] = [await MujocoEnv.make(task), await MujocoEnv.make(task)];
const hidden = [32, 32];
const agent = new Sac(env.observationSize, env.actionSize, { ...SAC_DEFAULTS, actorHidden: hidden, critic: { ...SAC_DEFAULTS.critic, hiddenSizes: hidden } }, 0);
const out = mkdtempSync(join(tmpdir(), 'onestep-train-'));
const loop = { ...LOOP_DEFAULTS, totalSteps: 600, warmupSteps: 400, batchSize: 32, replayCapacity: 600, evalEvery: 600, evalEpisodes: 1, checkpointEvery: 600, seed: 0 };
const { names, scale, offset, low, high, mode } = env.actionSpec;
const trainer = new Trainer(agent, env, evalEnv, loop, out, {
  algorithm: 'sac', task, observationNames: [...env.observationSpec.names], actionNames: [...names],
  actionScale: Array.from(scale), actionOffset: Array.from(offset), actionLow: Array.from(low), actionHigh: Array.from(high), actionMode: mode,
}, false);
await trainer.init();
await trainer.run();
console.log(`trained ${trainer.envSteps} environment steps; last evaluation return ${trainer.lastEval?.returnMean.toFixed(1)}`);

const { bytes, spec } = exportCheckpointOnnx(await loadCheckpoint(runPaths(out).last));
const model = join(out, 'policy.onnx');
writeFileSync(model, bytes);
const policy = await PolicyRuntime.load(model, { deterministic: true });
const action = policy.act(env.reset(1));
console.log(`exported ${spec.algorithm} for ${spec.task} (${spec.trainingSteps} updates) to policy.onnx; its action on a fresh episode: ${Array.from(action, (a) => a.toFixed(3)).join(', ')}`);
policy.close();
agent.dispose();
env.close();
evalEnv.close();
rmSync(out, { recursive: true, force: true });
