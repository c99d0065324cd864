// `onestep train` with a dataset, as a user runs it: bad combinations fail with one line; MeanFlowQL trains offline
// then online and exports a policy `onestep serve` takes (spec meanflowql, noise [e]); SMFP starts from its checkpoint,
// SAC from a Gaussian BC checkpoint (its actor exactly: the first deterministic action is the BC's mean action).
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
import { initBackend } from '../src/nn/backend.ts';
import { loadCheckpoint } from '../src/nn/checkpoint.ts';
import { disposePolicy, policyAction, policyWeights } from '../src/nn/policy.ts';
import { SAC_DEFAULTS, Sac } from '../src/algos/sac.ts';
import { initHyperFrom, initSacFromOffline } from '../src/algos/offline-init.ts';
import * as tf from '@tensorflow/tfjs-core';

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
  await fails(['--algo', 'bc', '--dataset', DATA, '--init', 'x', '--out', out], /--init fine-tunes SMFP .* or SAC .* --algo smfp or --algo sac/);
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

test('sac --init: a Gaussian BC checkpoint\'s actor carries over exactly; a checkpoint of another kind or a mismatched width fails in one line', async () => {
  const bc = join(dir, 'gbc');
  const r = await onestep('train', '--algo', 'gaussian-bc', '--dataset', DATA, '--offline-steps', '40', ...small, '--out', bc);
  assert.equal(r.code, 0, r.stderr);
  const ckptDir = join(bc, 'checkpoints', 'last');

  // In process: SAC built with the hyper-parameters --init fixes, then loaded, acts (ξ = 0) as the BC's mean action.
  await initBackend();
  const ckpt = await loadCheckpoint(ckptDir);
  const hyper = { ...SAC_DEFAULTS, ...initHyperFrom('sac', ckpt), critic: { ...SAC_DEFAULTS.critic, hiddenSizes: [16, 16] } };
  assert.deepEqual([hyper.actorHidden, hyper.actorActivation, hyper.actorLayerNorm], [[16, 16], 'relu', true], 'the Gaussian BC actor is ReLU + LayerNorm');
  const sac = new Sac(8, 2, hyper, 7);
  const obs = Float32Array.from([0.3, -1.2, 0.5, 2.0, -0.7, 0.1, 1.5, -0.4]);
  const bcMean = tf.tidy(() => policyAction(ckpt.policy, tf.tensor2d(obs, [1, 8]), tf.zeros([1, 2])).dataSync() as Float32Array);
  const before = sac.act(obs, false, new Rng(0));
  assert.ok(Math.abs(before[0] - bcMean[0]) + Math.abs(before[1] - bcMean[1]) > 1e-3, 'a fresh SAC actor acts differently');
  const carried = initSacFromOffline(sac, ckpt);
  assert.deepEqual(carried, ['tanh-Gaussian actor (mean and log-σ heads)', 'observation statistics', 'fresh critics', 'α at 1']);
  const after = sac.act(obs, false, new Rng(0));
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(after[i] - bcMean[i]) < 1e-6, `action ${i}: ${after[i]} vs the BC's ${bcMean[i]}`);
  const sacWeights = policyWeights(sac.policy);
  for (const [name, v] of policyWeights(ckpt.policy)) assert.deepEqual(sacWeights.get(name)!.dataSync(), v.dataSync(), name);
  const narrow = new Sac(8, 2, { ...hyper, actorHidden: [8, 8] }, 7);
  assert.throws(() => initSacFromOffline(narrow, ckpt), /gaussian-bc checkpoint's actor has hidden widths \[16, 16\], SAC's has \[8, 8\]/);
  assert.throws(() => initHyperFrom('smfp', ckpt), /a gaussian-bc checkpoint has no plain MeanFlow map .* \(use a meanflowql or bc checkpoint\)/);
  for (const agent of [sac, narrow]) agent.dispose();
  disposePolicy(ckpt.policy);

  // As a user runs it: the actor's shape follows the checkpoint (here 16×16 LayerNorm), critics start fresh.
  const tuned = join(dir, 'sac-init');
  const s = await onestep('train', '--algo', 'sac', '--init', ckptDir, '--dataset', DATA, '--steps', '50', ...small, '--out', tuned);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stderr, /SAC starts from .* \(gaussian-bc, 40 updates\): tanh-Gaussian actor \(mean and log-σ heads\), observation statistics, fresh critics, α at 1\n/);
  const config = JSON.parse(readFileSync(join(tuned, 'config.json'), 'utf8'));
  assert.equal(config.init, ckptDir);
  assert.deepEqual([config.hyper.actorHidden, config.hyper.actorLayerNorm], [[16, 16], true]);
  assert.ok(existsSync(join(tuned, 'policy.onnx')));
  await fails(['--algo', 'sac', '--init', ckptDir, '--dataset', DATA, '--steps', '50', ...small, '--set', 'actorHidden=[8,8]', '--out', join(dir, 'sac-narrow')],
    /--init .*: the checkpoint's actor has actorHidden \[16,16\], --config\/--set asks for \[8,8\]/);
  await fails(['--algo', 'sac', '--init', join(dir, 'mfql', 'checkpoints', 'last'), '--dataset', DATA, '--steps', '50', ...small, '--out', join(dir, 'sac-from-mfql')],
    /--init .*: a meanflowql checkpoint has no tanh-Gaussian actor to start SAC from \(use a gaussian-bc checkpoint\)/);
});
