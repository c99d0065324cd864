// `onestep train` with a dataset, as a user runs it: bad combinations fail with one line; MeanFlowQL trains offline
// then online and exports a policy `onestep serve` takes (spec meanflowql, noise [e]); SMFP starts from its checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MujocoEnv } from '../src/sim/env.ts';
import { writeDatasetNpz } from '../src/data/index.ts';
import { Rng } from '../src/core/rng.ts';
import { readOnnxModelInfo } from '../src/format/onnx-metadata.ts';
import { SPEC_METADATA_KEY, parsePolicySpec } from '../src/format/spec.ts';
import { onestep } from './helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'train-offline-'));
const DATA = join(dir, 'two_way.npz');

/** 10 episodes of uniform random actions on two_way, with the task and observation names recorded. */
async function writeDataset(): Promise<void> {
  const env = await MujocoEnv.make('two_way');
  const rng = new Rng(1);
  const [o, d] = [env.observationSize, env.actionSize];
  const cols = { obs: [] as number[], act: [] as number[], rew: [] as number[], next: [] as number[], term: [] as number[], end: [] as number[] };
  for (let k = 0; k < 10; k++) {
    let obs = Float32Array.from(env.reset(k));
    for (;;) {
      const act = rng.fillUniform(new Float32Array(d), -1, 1);
      const r = env.step(act);
      cols.obs.push(...obs);
      cols.act.push(...act);
      cols.rew.push(r.reward);
      cols.next.push(...r.obs);
      cols.term.push(r.terminated ? 1 : 0);
      cols.end.push(r.terminated || r.truncated ? 1 : 0);
      obs = Float32Array.from(r.obs);
      if (r.terminated || r.truncated) break;
    }
  }
  const n = cols.rew.length;
  writeDatasetNpz(DATA, {
    source: DATA, size: n, observationSize: o, actionSize: d, task: 'two_way', observationNames: env.observationSpec.names,
    observations: Float32Array.from(cols.obs), actions: Float32Array.from(cols.act), rewards: Float32Array.from(cols.rew),
    nextObservations: Float32Array.from(cols.next), terminals: Float32Array.from(cols.term), masks: Float32Array.from(cols.term, (t) => 1 - t),
    episodeEnds: Float32Array.from(cols.end),
  });
  env.close();
}
await writeDataset();

const small = ['--hidden', '16,16', '--batch', '32', '--eval-every', '20', '--eval-episodes', '1', '--checkpoint-every', '20', '--progress', 'none'];

async function fails(args: string[], message: RegExp): Promise<void> {
  const r = await onestep('train', ...args);
  assert.equal(r.code, 1, `exit 1 for ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr, message);
}

test('dataset flags: wrong combinations and a bad dataset fail with one clear line', async () => {
  const out = join(dir, 'never');
  await fails(['--algo', 'meanflowql', '--task', 'two_way', '--out', out], /--algo meanflowql trains on a dataset first: pass --dataset/);
  await fails(['--algo', 'sac', '--task', 'two_way', '--init', 'x', '--out', out], /--init fine-tunes SMFP .* --algo smfp/);
  await fails(['--algo', 'smfp', '--task', 'two_way', '--offline-steps', '10', '--out', out], /--offline-steps needs an offline algorithm/);
  await fails(['--algo', 'bc', '--dataset', join(dir, 'missing.npz'), '--out', out], /missing\.npz.*does not exist/);
  await fails(['--algo', 'bc', '--dataset', DATA, '--task', 'arm_reach', '--out', out], /two_way\.npz.*observ/);
});

test('meanflowql: offline then online from a dataset, exported for serving; smfp --init continues from its checkpoint', async () => {
  const out = join(dir, 'mfql');
  const r = await onestep('train', '--algo', 'meanflowql', '--dataset', DATA, '--offline-steps', '40', '--online-steps', '50', ...small, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /trained meanflowql on two_way, seed 0: 50 environment steps, 90 updates/);
  const evals = readFileSync(join(out, 'eval.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(evals.map((e) => [e.phase, e.updates, e.env_steps]), [['offline', 20, 0], ['offline', 40, 0], ['online', 60, 20], ['online', 80, 40], ['online', 90, 50]]);
  const spec = parsePolicySpec(readOnnxModelInfo(readFileSync(join(out, 'policy.onnx'))).metadata.get(SPEC_METADATA_KEY), 'policy.onnx');
  assert.equal(spec.algorithm, 'meanflowql');
  assert.deepEqual(spec.noise.parts, [{ name: 'e', size: 2 }]);
  assert.equal(spec.trainingSteps, 90);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.dataset, DATA);
  assert.equal(config.loop.offlineSteps, 40);
  assert.equal(config.loop.warmupSteps, 0, 'no random warm-up: the dataset fills the replay');

  const tuned = join(dir, 'smfp');
  const s = await onestep('train', '--algo', 'smfp', '--init', join(out, 'checkpoints', 'last'), '--dataset', DATA, '--steps', '50', ...small, '--out', tuned);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stderr, /SMFP starts from .* \(meanflowql, 90 updates\): MeanFlow map, observation statistics, σ head at 0\.1, critics and their targets/);
  assert.ok(existsSync(join(tuned, 'policy.onnx')));
  const smfpConfig = JSON.parse(readFileSync(join(tuned, 'config.json'), 'utf8'));
  assert.deepEqual(smfpConfig.hyper.actorHidden, [16, 16]);
  assert.equal(smfpConfig.hyper.squash, 'clip');
});
