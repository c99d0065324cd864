// Offline data: record transitions from a controller in simulation, save them as an .npz (the D4RL / OGBench keys),
// and load them back validated against the task, as an offline trainer would.
//   node --import tsx examples/data.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, summarizeDataset, writeDatasetNpz, type OfflineDataset } from 'onestep/data';
import { MujocoEnv, scriptedPolicy } from 'onestep/sim';

const env = await MujocoEnv.make('pendulum');
const policy = scriptedPolicy(env);
const rows = 400;
const O = env.observationSize, A = env.actionSize;
const observations = new Float32Array(rows * O), nextObservations = new Float32Array(rows * O), actions = new Float32Array(rows * A);
const rewards = new Float32Array(rows), terminals = new Float32Array(rows), episodeEnds = new Float32Array(rows);
let obs = Float32Array.from(env.reset(0));
for (let i = 0, episode = 0; i < rows; i++) {
  const a = policy(obs);
  const step = env.step(a);
  observations.set(obs, i * O);
  actions.set(a, i * A);
  nextObservations.set(step.obs, i * O);
  rewards[i] = step.reward;
  terminals[i] = step.terminated ? 1 : 0;
  episodeEnds[i] = step.terminated || step.truncated || i === rows - 1 ? 1 : 0;
  obs = Float32Array.from(episodeEnds[i] ? env.reset(++episode) : step.obs);
}
const masks = terminals.map((t) => 1 - t);
const recorded: OfflineDataset = {
  source: 'examples/data.ts', size: rows, observationSize: O, actionSize: A,
  observations, actions, rewards, nextObservations, terminals, masks, episodeEnds,
  task: 'pendulum', observationNames: env.observationSpec.names,
};

const dir = mkdtempSync(join(tmpdir(), 'onestep-example-'));
const file = join(dir, 'pendulum-scripted.npz');
writeDatasetNpz(file, recorded, { metadata: { policy: 'scripted' } });

const ds = await loadDataset(file, { task: env.task, actionSize: A }); // checks sizes, names, finiteness, action range
const summary = summarizeDataset(ds);
console.log(`${ds.source}: ${ds.size} transitions, observations ${ds.observationSize}, actions ${ds.actionSize}, task ${ds.task}`);
console.log(`episodes ${summary.episodes}; mean reward ${(ds.rewards.reduce((a, b) => a + b, 0) / ds.size).toFixed(3)}`);
rmSync(dir, { recursive: true, force: true });
env.close();
