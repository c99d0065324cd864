// Offline datasets: .npz files written by numpy (np.savez stores, np.savez_compressed deflates) and Minari-shaped
// HDF5 written by h5py round-trip through the readers in each layout (FQL/D4RL transitions, D4RL raw with
// timeouts, OGBench trajectories, Minari episodes incl. Dict observations), numpy reads what writeDatasetNpz
// writes, and every bad dataset gets its named error naming file, key and row. The fixtures are written at test
// time by the real Python writers (python3-numpy, python3-h5py: scripts/setup.sh installs them), in one Python run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetError, type DatasetErrorCode, type OfflineDataset, loadDataset, readNpz, summarizeDataset, writeDatasetNpz } from '../src/data/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'onestep-data-'));

/** A Python 3 with numpy and h5py: `python3` on PATH, else Debian's (a pyenv shim may shadow it). */
function python(): string {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(candidate, ['-c', 'import numpy, h5py'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error('the dataset tests need Python 3 with numpy and h5py: run scripts/setup.sh (python3-numpy, python3-h5py)');
}
const PYTHON = python();
const py = (script: string) => execFileSync(PYTHON, ['-c', script], { cwd: dir, encoding: 'utf8' });

// The source data: two episodes of 3 and 2 steps, observation 3, action 2 (values chosen to be exact in float32).
const N = 5;
const obs = Array.from({ length: N }, (_, i) => [i, 10 + i, -0.5 * i + 0]); // + 0: no -0, which JSON cannot carry
const nextObs = [obs[1], obs[2], [2.5, 12.5, -1.25], obs[4], [9, 9, 9]];
const actions = Array.from({ length: N }, (_, i) => [0.25 * (i - 2), -0.125 * i + 0]);
const rewards = [1, 2, 3, 4, 5];

// One Python run writes every fixture (Python start-up with numpy and h5py is the slow part).
py(`
import json, os, numpy as np, h5py
obs = np.array(${JSON.stringify(obs)}, dtype=np.float32)
nxt = np.array(${JSON.stringify(nextObs)}, dtype=np.float32)
act = np.array(${JSON.stringify(actions)})           # float64, as D4RL stores them
rew = np.array(${JSON.stringify(rewards)}, dtype=np.float32)
# FQL keys: terminals = episode end, masks = bootstrap (episode 2 ends in a true terminal)
fql = dict(observations=obs, actions=act, rewards=rew, next_observations=nxt,
           terminals=np.array([0, 0, 1, 0, 1], dtype=np.float32), masks=np.array([1, 1, 1, 1, 0], dtype=np.float32),
           metadata=json.dumps({'task': 'toy', 'observationNames': ['a', 'b', 'c'], 'note': 'hi'}))
np.savez('fql.npz', **fql)
np.savez_compressed('fql-deflated.npz', **fql)
# D4RL qlearning form: terminals = true terminal (uint8), no masks; episode ends found from next_observations
np.savez('d4rl-q.npz', observations=obs, actions=act, rewards=rew, next_observations=nxt, terminals=np.array([0, 0, 0, 0, 1], dtype=np.uint8))
# D4RL raw: 7 rows, no next_observations; row 2 times out (dropped), row 5 is terminal (kept, mask 0), row 6 starts an episode cut at the file's end
raw_obs = np.arange(21, dtype=np.float64).reshape(7, 3)
np.savez('d4rl-raw.npz', observations=raw_obs, actions=np.zeros((7, 2), dtype=np.float32), rewards=np.arange(7.0),
         terminals=np.array([0, 0, 0, 0, 0, 1, 0], dtype=bool), timeouts=np.array([0, 0, 1, 0, 0, 0, 0], dtype=bool))
# OGBench trajectories: 3 + 1 and 2 + 1 rows, the marked rows hold only the final observation
og_obs = np.arange(14, dtype=np.float32).reshape(7, 2)
np.savez('ogbench.npz', observations=og_obs, actions=np.full((7, 1), 0.5, dtype=np.float32), rewards=-np.ones(7, dtype=np.float32),
         terminals=np.array([0, 0, 0, 1, 0, 0, 1], dtype=np.float32), qpos=np.zeros((7, 4)))
np.savez('ogbench-raw.npz', observations=og_obs, actions=np.zeros((7, 1), dtype=np.float32), terminals=np.array([0, 0, 0, 1, 0, 0, 1], dtype=np.float32))

# Bad datasets, one fault each
def bad(name, **over):
    arrays = dict(observations=obs, actions=act, rewards=rew, next_observations=nxt, terminals=np.zeros(5, dtype=bool))
    arrays.update(over)
    np.savez(name, **{k: v for k, v in arrays.items() if v is not None})
bad('missing-actions.npz', actions=None)
bad('short-rewards.npz', rewards=rew[:4])
o = obs.copy(); o[3, 1] = np.nan
bad('nan.npz', observations=o)
a = act.copy(); a[2, 0] = 1.5
bad('out-of-range.npz', actions=a)
a = act.copy(); a[1, 1] = 1.0004
bad('within-tolerance.npz', actions=a)
bad('fortran.npz', observations=np.asfortranarray(obs))
bad('big-endian.npz', observations=obs.astype('>f4'))
bad('pickled.npz', observations=np.array([{'x': 1}] * 5, dtype=object))
bad('image.npz', observations=np.zeros((5, 2, 2), dtype=np.float32))
bad('wrong-task.npz', metadata=json.dumps({'task': 'other', 'observationNames': ['a', 'b', 'c']}))
bad('empty.npz', observations=obs[:1], actions=act[:1], rewards=rew[:1], next_observations=None, terminals=np.ones(1, dtype=bool))
with open('not-a-zip.npz', 'wb') as f: f.write(b'PK not really a zip')

# Minari: DATASET/data/{metadata.json, main_data.hdf5}, written the way Minari's HDF5 storage writes episodes
def minari(root, episodes, meta_over={}, dict_obs=False):
    os.makedirs(os.path.join(root, 'data'), exist_ok=True)
    with h5py.File(os.path.join(root, 'data', 'main_data.hdf5'), 'w', track_order=True) as f:
        for i, ep in enumerate(episodes):
            g = f.create_group(f'episode_{i}')
            g.attrs['id'] = i; g.attrs['total_steps'] = len(ep['rewards']); g.attrs['seed'] = 100 + i
            kw = dict(chunks=True, compression='gzip', shuffle=True)
            if dict_obs:
                og = g.create_group('observations')
                for k, v in ep['observations'].items():
                    og.create_dataset(k, data=v, maxshape=(None, *v.shape[1:]), **kw)
            else:
                g.create_dataset('observations', data=ep['observations'], maxshape=(None, ep['observations'].shape[1]), **kw)
            for k in ('actions', 'rewards', 'terminations', 'truncations'):
                v = ep[k]
                g.create_dataset(k, data=v, maxshape=(None, *v.shape[1:]), **kw)
            infos = g.create_dataset('infos', (len(ep['rewards']) + 1,), dtype=h5py.special_dtype(vlen=str))
            infos[:] = [json.dumps({'success': bool(s)}) for s in ep['success']]
    meta = {'total_episodes': len(episodes), 'total_steps': int(sum(len(e['rewards']) for e in episodes)), 'data_format': 'hdf5',
            'dataset_id': 'toy/expert-v0',
            'action_space': json.dumps({'type': 'Box', 'dtype': 'float32', 'shape': [2], 'low': [-1, -1], 'high': [1, 1]})}
    meta.update(meta_over)
    json.dump(meta, open(os.path.join(root, 'data', 'metadata.json'), 'w'))

def episode(t, start, terminal=False, success_at_end=False):
    o = (start + np.arange((t + 1) * 3).reshape(t + 1, 3)).astype(np.float64)
    return dict(observations=o, actions=np.linspace(-1, 1, t * 2).reshape(t, 2).astype(np.float32),
                rewards=np.arange(t, dtype=np.float64) + start, terminations=np.array([False] * (t - 1) + [terminal]),
                truncations=np.array([False] * (t - 1) + [not terminal]),
                success=[False] * t + [success_at_end])
eps = [episode(3, 0), episode(2, 100, terminal=True, success_at_end=True)]
minari('minari', eps)
dict_eps = [dict(e, observations={'observation': e['observations'][:, :2], 'desired_goal': e['observations'][:, 2:]}) for e in eps]
minari('minari-dict', dict_eps, dict_obs=True)
short = [dict(eps[0]), dict(eps[1], observations=eps[1]['observations'][:2])]
minari('minari-short-obs', short)
minari('minari-count', eps, {'total_episodes': 3})
minari('minari-arrow', eps, {'data_format': 'arrow'})
nan = [eps[0], dict(eps[1], rewards=np.array([0.0, np.inf]))]
minari('minari-nan', nan)
wide = [eps[0], dict(eps[1], actions=eps[1]['actions'] * 3)]
minari('minari-wide', wide, {'action_space': json.dumps({'type': 'Box', 'dtype': 'float32', 'shape': [2], 'low': [-3, -3], 'high': [3, 3]})})
`);

const path = (name: string) => join(dir, name);
const rowsOf = (values: Float32Array, columns: number) => Array.from({ length: values.length / columns }, (_, i) => Array.from(values.subarray(i * columns, (i + 1) * columns)));

/** Asserts that `load` fails with a DatasetError of `code` whose message names `file` and each of `mentions`. */
async function rejectsWith(load: () => unknown, code: DatasetErrorCode, file: string, mentions: RegExp[] = []): Promise<DatasetError> {
  let error: unknown;
  try {
    await load();
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof DatasetError, `expected a DatasetError '${code}', got ${error}`);
  assert.equal(error.code, code, error.message);
  assert.ok(error.message.includes(file), `message names the file: ${error.message}`);
  for (const m of mentions) assert.match(error.message, m);
  return error;
}

test('FQL-keyed .npz from np.savez (stored) and np.savez_compressed (deflated) read the same, values exact', async () => {
  for (const name of ['fql.npz', 'fql-deflated.npz']) {
    const ds = await loadDataset(path(name));
    assert.equal(ds.size, N);
    assert.equal(ds.observationSize, 3);
    assert.equal(ds.actionSize, 2);
    assert.deepEqual(rowsOf(ds.observations, 3), obs);
    assert.deepEqual(rowsOf(ds.nextObservations, 3), nextObs);
    assert.deepEqual(rowsOf(ds.actions, 2), actions); // float64 in the file, converted
    assert.deepEqual(Array.from(ds.rewards), rewards);
    // masks carry the bootstrap; terminals (any episode end) and masks together give the episode ends
    assert.deepEqual(Array.from(ds.terminals), [0, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(ds.masks), [1, 1, 1, 1, 0]);
    assert.deepEqual(Array.from(ds.episodeEnds), [0, 0, 1, 0, 1]);
    assert.equal(ds.task, 'toy');
    assert.deepEqual(ds.observationNames, ['a', 'b', 'c']);
    assert.deepEqual(ds.metadata, { note: 'hi' });
  }
});

test('D4RL qlearning .npz: terminals are terminal states, episode ends come from next_observations jumps', async () => {
  const ds = await loadDataset(path('d4rl-q.npz'));
  assert.deepEqual(Array.from(ds.terminals), [0, 0, 0, 0, 1]);
  // row 2's s' (2.5, 12.5, -1.25) is not row 3's s: an episode boundary
  assert.deepEqual(Array.from(ds.episodeEnds), [0, 0, 1, 0, 1]);
});

test('D4RL raw .npz (timeouts, no next_observations): timeout rows dropped, terminal rows kept with mask 0', async () => {
  const ds = await loadDataset(path('d4rl-raw.npz'));
  // kept file rows 0, 1, 3, 4, 5 (row 2 timed out, row 6 has no successor)
  assert.equal(ds.size, 5);
  assert.deepEqual(Array.from(ds.rewards), [0, 1, 3, 4, 5]);
  assert.deepEqual(rowsOf(ds.nextObservations, 3).map((r) => r[0]), [3, 6, 12, 15, 15]);
  assert.deepEqual(Array.from(ds.masks), [1, 1, 1, 1, 0]);
  assert.deepEqual(Array.from(ds.episodeEnds), [0, 1, 0, 0, 1]);
});

test('OGBench trajectory .npz: next observations derived within trajectories, the final-observation rows dropped', async () => {
  const ds = await loadDataset(path('ogbench.npz'));
  assert.equal(ds.size, 5);
  assert.deepEqual(rowsOf(ds.observations, 2), [[0, 1], [2, 3], [4, 5], [8, 9], [10, 11]]);
  assert.deepEqual(rowsOf(ds.nextObservations, 2), [[2, 3], [4, 5], [6, 7], [10, 11], [12, 13]]);
  assert.deepEqual(Array.from(ds.episodeEnds), [0, 0, 1, 0, 1]);
  assert.deepEqual(Array.from(ds.masks), [1, 1, 1, 1, 1]);
  const summary = summarizeDataset(ds);
  assert.equal(summary.episodes, 2);
  assert.deepEqual(Array.from(summary.lengths), [3, 2]);
  assert.deepEqual(Array.from(summary.returns), [-3, -2]);
  // OGBench's raw files have no rewards: the error says so instead of inventing them
  await rejectsWith(() => loadDataset(path('ogbench-raw.npz')), 'missing-key', 'ogbench-raw.npz', [/key 'rewards'/, /OGBench/]);
});

test('Minari dataset from h5py (track_order, gzip chunks, JSON infos): episodes become transitions with success', async () => {
  for (const where of ['minari', 'minari/data', 'minari/data/main_data.hdf5']) {
    const ds = await loadDataset(path(where));
    assert.equal(ds.size, 5);
    assert.equal(ds.observationSize, 3);
    // episode 0: observations 0..11 in 4 rows, episode 1: 100..108 in 3 rows
    assert.deepEqual(rowsOf(ds.observations, 3).map((r) => r[0]), [0, 3, 6, 100, 103]);
    assert.deepEqual(rowsOf(ds.nextObservations, 3).map((r) => r[0]), [3, 6, 9, 103, 106]);
    assert.deepEqual(Array.from(ds.rewards), [0, 1, 2, 100, 101]);
    assert.deepEqual(Array.from(ds.terminals), [0, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(ds.episodeEnds), [0, 0, 1, 0, 1]);
    assert.deepEqual(Array.from(ds.success!), [0, 0, 0, 0, 1]);
    assert.equal((ds.metadata?.minari as { dataset_id: string }).dataset_id, 'toy/expert-v0');
    assert.equal(summarizeDataset(ds).successRate, 0.5);
  }
  const dict = await loadDataset(path('minari-dict'));
  // Dict observations flattened in sorted key order: desired_goal (1 column) then observation (2 columns)
  assert.deepEqual(dict.observationNames, ['desired_goal', 'observation[0]', 'observation[1]']);
  assert.deepEqual(rowsOf(dict.observations, 3)[1], [5, 3, 4]);
});

test('numpy reads what writeDatasetNpz writes, and it reads back identically', async () => {
  const source = await loadDataset(path('fql.npz'));
  const ds: OfflineDataset = { ...source, success: Float32Array.from([0, 0, 1, 0, 0]) };
  for (const compress of [false, true]) {
    const out = path(`written-${compress}.npz`);
    writeDatasetNpz(out, ds, { compress, metadata: { collectedBy: 'test' } });
    const report = JSON.parse(
      py(`
import json, numpy as np, zipfile
d = np.load(${JSON.stringify(out)})
methods = sorted({i.compress_type for i in zipfile.ZipFile(${JSON.stringify(out)}).infolist()})
print(json.dumps({k: [str(d[k].dtype), list(d[k].shape)] for k in d.files} | {
  'obs': d['observations'].tolist(), 'terminal_values': d['terminals'].tolist(), 'timeout_values': d['timeouts'].tolist(),
  'meta': json.loads(d['metadata'].item()), 'methods': methods}))
`),
    );
    assert.deepEqual(report.observations, ['float32', [5, 3]]);
    assert.deepEqual(report.actions, ['float32', [5, 2]]);
    assert.deepEqual(report.rewards, ['float32', [5]]);
    assert.deepEqual(report.terminals, ['bool', [5]]);
    assert.deepEqual(report.obs, obs);
    // true terminals and time-limit ends are separate keys, as D4RL keeps them
    assert.deepEqual(report.terminal_values, [false, false, false, false, true]);
    assert.deepEqual(report.timeout_values, [false, false, true, false, false]);
    assert.deepEqual(report.meta, { note: 'hi', collectedBy: 'test', task: 'toy', observationNames: ['a', 'b', 'c'] });
    assert.deepEqual(report.methods, compress ? [8] : [0]); // deflated / stored
    const back = readNpz(out);
    for (const key of ['observations', 'actions', 'rewards', 'nextObservations', 'terminals', 'masks', 'episodeEnds', 'success'] as const) {
      assert.deepEqual(back[key], ds[key], key);
    }
    assert.equal(back.task, 'toy');
  }
});

test('bad .npz files: each fault gets its named error with file, key and row', async () => {
  await rejectsWith(() => loadDataset(path('missing-actions.npz')), 'missing-key', 'missing-actions.npz', [/key 'actions'/]);
  await rejectsWith(() => loadDataset(path('short-rewards.npz')), 'length-mismatch', 'short-rewards.npz', [/key 'rewards'/, /4 rows, 'observations' has 5/]);
  const nan = await rejectsWith(() => loadDataset(path('nan.npz')), 'non-finite', 'nan.npz', [/key 'observations' row 3 column 1/]);
  assert.equal(nan.row, 3);
  await rejectsWith(() => loadDataset(path('out-of-range.npz')), 'action-out-of-range', 'out-of-range.npz', [/key 'actions' row 2 column 0/, /1\.5/]);
  await rejectsWith(() => loadDataset(path('fortran.npz')), 'fortran-order', 'fortran.npz', [/key 'observations'/]);
  await rejectsWith(() => loadDataset(path('big-endian.npz')), 'big-endian', 'big-endian.npz', [/>f4/]);
  await rejectsWith(() => loadDataset(path('pickled.npz')), 'pickled-object', 'pickled.npz', [/key 'observations'/]);
  await rejectsWith(() => loadDataset(path('image.npz')), 'bad-shape', 'image.npz', [/shape \(5, 2, 2\)/]);
  await rejectsWith(() => loadDataset(path('empty.npz')), 'empty', 'empty.npz');
  await rejectsWith(() => loadDataset(path('not-a-zip.npz')), 'bad-archive', 'not-a-zip.npz');
  await rejectsWith(() => loadDataset(path('nothing-here.npz')), 'not-found', 'nothing-here.npz');
  writeFileSync(path('data.csv'), '1,2,3\n');
  await rejectsWith(() => loadDataset(path('data.csv')), 'unknown-format', 'data.csv');
  // within the tolerance an action is clipped onto the range, not refused
  const clipped = await loadDataset(path('within-tolerance.npz'));
  assert.equal(clipped.actions[3], 1);
});

test('a dataset is checked against the task it is loaded for', async () => {
  const toy = { name: 'toy', observationNames: ['a', 'b', 'c'] };
  const ds = await loadDataset(path('fql.npz'), { task: toy, actionSize: 2 });
  assert.equal(ds.size, N);
  await rejectsWith(() => loadDataset(path('fql.npz'), { task: { name: 'toy', observationNames: ['a', 'b', 'c', 'd'] } }), 'observation-size', 'fql.npz', [/3 columns, task toy observes 4/]);
  await rejectsWith(() => loadDataset(path('fql.npz'), { task: { name: 'toy', observationNames: ['a', 'x', 'c'] } }), 'task-mismatch', 'fql.npz', [/column 1 is 'b' in the file but 'x'/]);
  await rejectsWith(() => loadDataset(path('wrong-task.npz'), { task: toy }), 'task-mismatch', 'wrong-task.npz', [/collected on task other, not toy/]);
  await rejectsWith(() => loadDataset(path('fql.npz'), { actionSize: 7 }), 'action-size', 'fql.npz', [/actions have 2 columns, the environment takes 7/]);
  // files without metadata (D4RL, Minari) are checked on their sizes only
  await loadDataset(path('d4rl-q.npz'), { task: { name: 'anything', observationNames: ['1', '2', '3'] } });
});

test('bad Minari datasets: each fault gets its named error with the episode key and row', async () => {
  await rejectsWith(() => loadDataset(path('minari-short-obs')), 'length-mismatch', 'main_data.hdf5', [/key 'episode_1\/observations'/, /one more observation than actions/]);
  await rejectsWith(() => loadDataset(path('minari-count')), 'bad-metadata', 'metadata.json', [/total_episodes 3/, /2 episode groups/]);
  await rejectsWith(() => loadDataset(path('minari-arrow')), 'unknown-format', 'metadata.json', [/arrow/]);
  await rejectsWith(() => loadDataset(path('minari-nan')), 'non-finite', 'main_data.hdf5', [/key 'episode_1\/rewards' row 1/]);
  await rejectsWith(() => loadDataset(path('minari-wide')), 'action-out-of-range', 'main_data.hdf5', [/key 'episode_1\/actions' row 0 column 0/, /Box\(low \[-3, -3\]/]);
  mkdirSync(path('not-minari'));
  await rejectsWith(() => loadDataset(path('not-minari')), 'unknown-format', 'not-minari', [/no main_data\.hdf5/]);
  writeFileSync(path('fake.hdf5'), 'not hdf5 at all');
  await rejectsWith(() => loadDataset(path('fake.hdf5')), 'bad-archive', 'fake.hdf5', [/not an HDF5 file/]);
});
