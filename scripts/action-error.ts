// How closely an exported policy reproduces a dataset's action labels, per action dimension, in the policy's
// normalised units [-1, 1]: the RMS error of its zero-noise action, of one sampled action, and the spread of
// sampled actions around the zero-noise one (how much of its noise input reaches the action). Run through ONNX
// Runtime, as the policy is served. Used for the imitation-precision figures in docs/BENCHMARKS.md.
//
//   node --import tsx scripts/action-error.ts MODEL.onnx DATA.npz [--last N] [--every K]
//     --last N   only the dataset's last N rows (e.g. the newest DAgger round); default all
//     --every K  every K-th row of those (default 13)
import { parseArgs } from 'node:util';
import { readNpz } from '../src/data/npz.ts';
import { PolicyRuntime } from '../src/runtime/policy-runtime.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { last: { type: 'string' }, every: { type: 'string', default: '13' } } });
const count = (name: string, text: string) => {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be an integer >= 1`);
  return v;
};
const every = count('every', values.every);
const last = values.last === undefined ? Number.MAX_SAFE_INTEGER : count('last', values.last);
const [model, data] = positionals;
if (!model?.endsWith('.onnx') || !data?.endsWith('.npz')) {
  console.error('usage: node --import tsx scripts/action-error.ts MODEL.onnx DATA.npz [--last N] [--every K]');
  process.exit(2);
}
const ds = readNpz(data);
const zero = await PolicyRuntime.load(model, { deterministic: true });
const sampled = await PolicyRuntime.load(model, { seed: 1 });
const { offset, scale } = zero.spec.action;
const n = ds.actionSize;
if (zero.spec.observation.size !== ds.observationSize || zero.spec.action.size !== n) {
  throw new Error(`${model} takes ${zero.spec.observation.size} observations and gives ${zero.spec.action.size} actions; ${data} has ${ds.observationSize} and ${n}`);
}
const sums = { label: new Float64Array(n), zero: new Float64Array(n), sampled: new Float64Array(n), spread: new Float64Array(n) };
let rows = 0;
const normalised = (physical: ArrayLike<number>, j: number) => (physical[j] - offset[j]) / scale[j];
for (let i = Math.max(0, ds.size - last); i < ds.size; i += every) {
  const obs = ds.observations.subarray(i * ds.observationSize, (i + 1) * ds.observationSize);
  const a = Float32Array.from(zero.act(obs));
  const b = Float32Array.from(sampled.act(obs));
  for (let j = 0; j < n; j++) {
    const label = ds.actions[i * n + j];
    const [az, as] = [normalised(a, j), normalised(b, j)];
    sums.label[j] += label * label;
    sums.zero[j] += (az - label) ** 2;
    sums.sampled[j] += (as - label) ** 2;
    sums.spread[j] += (as - az) ** 2;
  }
  rows++;
}
const rms = (s: Float64Array) => Array.from(s, (x) => Math.sqrt(x / rows).toFixed(4).padStart(7)).join(' ');
console.log(`${model} on ${rows} rows of ${data} (RMS per action dimension, normalised units)`);
console.log(`label             ${rms(sums.label)}`);
console.log(`zero-noise error  ${rms(sums.zero)}`);
console.log(`sampled error     ${rms(sums.sampled)}`);
console.log(`sample spread     ${rms(sums.spread)}`);
zero.close();
sampled.close();
