// Training throughput: the SAC-size update of research practice (actor 17→256→256→12 tanh-Gaussian, twin
// critics 23→256→256→1 with Polyak targets, batch 256, three Adams), onestep against PyTorch CPU; then the
// MeanFlowQL update of src/algos/meanflowql.ts at the same widths (ReLU + LayerNorm, best-of-5 backup, exact JVP
// target, two clipped Adams) against the same update in PyTorch (forward-mode AD for the JVP).
// PyTorch runs in a child process kept alive for the whole run; the two take turns (never at the same time),
// in short alternating blocks with the same BLAS thread count, so each ratio comes from one run on the same load.
// Then the LayerNorm rows: src/algos Sac.update and Smfp.update with LayerNorm networks, the fused LayerNorm
// kernels against the same update with them unregistered (LayerNorm composed from TF.js ops, as before them),
// again in alternating blocks.
//
//   node --import tsx bench/train-throughput.ts [--rounds 10] [--updates 50] [--warmup 50] [--threads 1]
//        [--no-torch] [--no-stock] [--no-wasm] [--no-algos] [--no-mfql | --mfql-only] [--profile] [--python /usr/bin/python3] [--json out.json]
//        [--ln-rounds 5] [--ln-updates 20] [--no-layernorm | --layernorm-only]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { median } from '../src/core/latency.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    updates: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '50' },
    threads: { type: 'string', default: process.env.OPENBLAS_NUM_THREADS ?? '1' },
    'no-torch': { type: 'boolean', default: false },
    'no-stock': { type: 'boolean', default: false },
    'no-wasm': { type: 'boolean', default: false },
    'no-algos': { type: 'boolean', default: false },
    'no-mfql': { type: 'boolean', default: false },
    'mfql-only': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'ln-rounds': { type: 'string', default: '5' },
    'ln-updates': { type: 'string', default: '20' },
    'no-layernorm': { type: 'boolean', default: false },
    'layernorm-only': { type: 'boolean', default: false },
    json: { type: 'string' },
    // Debian's python3-torch lives in the system interpreter, which pyenv/venv shims may hide.
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const rounds = Number(args.rounds), updates = Number(args.updates), warmup = Number(args.warmup), threads = Number(args.threads);
// OpenBLAS reads this when it loads: set it before anything can load it, here and in the PyTorch child.
process.env.OPENBLAS_NUM_THREADS = String(threads);

const tf = await import('@tensorflow/tfjs-core');
const { initBackend, describeBackend } = await import('../src/nn/backend.ts');
const { dense } = await import('../src/nn/dense.ts');
const { Adam, polyakUpdate, copyInto } = await import('../src/nn/optim.ts');

const OBS = 17, ACT = 12, HIDDEN = 256, BATCH = 256;
const GAMMA = 0.99, TAU = 0.005, LR = 3e-4, LOG_STD_MIN = -5, LOG_STD_MAX = 2;
type Tensor = import('@tensorflow/tfjs-core').Tensor;
type Variable = import('@tensorflow/tfjs-core').Variable;
type Tensor2D = import('@tensorflow/tfjs-core').Tensor2D;

interface Mlp { W: Variable[]; b: Variable[] }

// PyTorch's nn.Linear default init, U(±1/√fan_in), so both sides start from comparable networks.
function mlp(sizes: number[], name: string): Mlp {
  const W: Variable[] = [], b: Variable[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const bound = 1 / Math.sqrt(sizes[i]);
    W.push(tf.variable(tf.randomUniform([sizes[i], sizes[i + 1]], -bound, bound), true, `${name}/W${i}`));
    b.push(tf.variable(tf.randomUniform([sizes[i + 1]], -bound, bound), true, `${name}/b${i}`));
  }
  return { W, b };
}
const params = (net: Mlp): Variable[] => [...net.W, ...net.b];

function forward(net: Mlp, x: Tensor2D): Tensor2D {
  let h = x;
  for (let i = 0; i < net.W.length; i++) h = dense(h, net.W[i] as Tensor2D, net.b[i], i + 1 < net.W.length ? 'relu' : 'linear');
  return h;
}

/** One SAC update, the way src/algos write it: dense() layers, optim.ts Adam and Polyak. */
function makeSacUpdate() {
  const actor = mlp([OBS, HIDDEN, HIDDEN, 2 * ACT], 'actor');
  const q1 = mlp([OBS + ACT, HIDDEN, HIDDEN, 1], 'q1'), q2 = mlp([OBS + ACT, HIDDEN, HIDDEN, 1], 'q2');
  const q1t = mlp([OBS + ACT, HIDDEN, HIDDEN, 1], 'q1t'), q2t = mlp([OBS + ACT, HIDDEN, HIDDEN, 1], 'q2t');
  copyInto([...params(q1t), ...params(q2t)], [...params(q1), ...params(q2)]);
  const logAlpha = tf.variable(tf.scalar(0), true, 'log_alpha');
  const actorOpt = new Adam(params(actor), { learningRate: LR });
  const criticOpt = new Adam([...params(q1), ...params(q2)], { learningRate: LR });
  const alphaOpt = new Adam([logAlpha], { learningRate: LR });
  const targetEntropy = -ACT;

  const q = (net: Mlp, obs: Tensor, act: Tensor) => forward(net, tf.concat([obs, act], 1) as Tensor2D);
  const sample = (obs: Tensor) => {
    const out = forward(actor, obs as Tensor2D);
    const [mean, raw] = tf.split(out, 2, 1);
    const logStd = tf.add(LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN), tf.mul(0.5 * (LOG_STD_MAX - LOG_STD_MIN), tf.tanh(raw)));
    const eps = tf.randomNormal(mean.shape);
    const action = tf.tanh(tf.add(mean, tf.mul(tf.exp(logStd), eps)));
    const gaussian = tf.sub(tf.mul(-0.5, tf.square(eps)), tf.add(logStd, 0.5 * Math.log(2 * Math.PI)));
    const logProb = tf.sum(tf.sub(gaussian, tf.log(tf.add(tf.sub(1, tf.square(action)), 1e-6))), 1, true);
    return { action, logProb };
  };

  // A few fixed random batches stand in for replay sampling, which is not what this measures.
  const batches = Array.from({ length: 4 }, () => ({
    obs: tf.randomNormal([BATCH, OBS]), act: tf.randomUniform([BATCH, ACT], -1, 1), rew: tf.randomNormal([BATCH, 1]),
    next: tf.randomNormal([BATCH, OBS]), notDone: tf.onesLike(tf.randomNormal([BATCH, 1])),
  }));
  let k = 0;
  const update = () => {
    const { obs, act, rew, next, notDone } = batches[k++ % batches.length];
    const alpha = Math.exp(logAlpha.dataSync()[0]);
    const target = tf.tidy(() => {
      const { action, logProb } = sample(next);
      const qNext = tf.sub(tf.minimum(q(q1t, next, action), q(q2t, next, action)), tf.mul(alpha, logProb));
      return tf.add(rew, tf.mul(GAMMA, tf.mul(notDone, qNext)));
    });
    criticOpt.minimize(() => tf.add(tf.mean(tf.squaredDifference(q(q1, obs, act), target)), tf.mean(tf.squaredDifference(q(q2, obs, act), target))) as import('@tensorflow/tfjs-core').Scalar);
    let logProbKept: Tensor | null = null;
    actorOpt.minimize(() => {
      const { action, logProb } = sample(obs);
      logProbKept = tf.keep(logProb);
      return tf.mean(tf.sub(tf.mul(alpha, logProb), tf.minimum(q(q1, obs, action), q(q2, obs, action)))) as import('@tensorflow/tfjs-core').Scalar;
    });
    const entropyGap = tf.tidy(() => tf.add(logProbKept!, targetEntropy));
    alphaOpt.minimize(() => tf.neg(tf.mean(tf.mul(logAlpha, entropyGap))) as import('@tensorflow/tfjs-core').Scalar);
    tf.dispose([target, logProbKept!, entropyGap]);
    polyakUpdate([...params(q1t), ...params(q2t)], [...params(q1), ...params(q2)], TAU);
  };
  const dispose = () => {
    tf.dispose([...params(actor), ...params(q1), ...params(q2), ...params(q1t), ...params(q2t), logAlpha]);
    actorOpt.dispose(); criticOpt.dispose(); alphaOpt.dispose();
    for (const b of batches) tf.dispose(Object.values(b));
  };
  return { update, dispose };
}

/**
 * The real update of src/algos/sac.ts (or smfp.ts), when it is there and its API is as expected. `layerNorm`:
 * LayerNorm critics (the training presets' default), and for SMFP a LayerNorm actor as well.
 */
async function makeAlgosUpdate(algo: 'sac' | 'smfp' = 'sac', layerNorm = false): Promise<{ update: () => void; dispose: () => void } | string> {
  try {
    const { Rng } = await import('../src/core/rng.ts');
    let agent: { update(batch: never, rng: InstanceType<typeof Rng>): unknown; dispose(): void };
    if (algo === 'sac') {
      const { Sac, SAC_DEFAULTS } = await import('../src/algos/sac.ts');
      agent = new Sac(OBS, ACT, { ...SAC_DEFAULTS, critic: { ...SAC_DEFAULTS.critic, layerNorm } }, 1);
    } else {
      const { Smfp, SMFP_DEFAULTS } = await import('../src/algos/smfp.ts');
      agent = new Smfp(OBS, ACT, { ...SMFP_DEFAULTS, actorLayerNorm: layerNorm, critic: { ...SMFP_DEFAULTS.critic, layerNorm } }, 1);
    }
    const rng = new Rng(1);
    const fill = (n: number) => rng.fillNormal(new Float32Array(n));
    const batch = {
      size: BATCH, observation: fill(BATCH * OBS), action: fill(BATCH * ACT).map(Math.tanh), reward: fill(BATCH),
      nextObservation: fill(BATCH * OBS), mask: new Float32Array(BATCH).fill(1),
    };
    return { update: () => { agent.update(batch as never, rng); }, dispose: () => agent.dispose() };
  } catch (err) {
    return `src/algos/${algo}.ts not timed: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** Runs `fn` with the fused LayerNorm kernels unregistered from cpu-blas, so layerNorm() composes TF.js ops. */
async function withComposedLayerNorm<T>(fn: () => T): Promise<T> {
  // every kernel with LayerNorm inside (forward, its JVP, Dense → LayerNorm): without them layerNorm() composes
  const { LAYER_NORM_KERNEL, LAYER_NORM_JVP_KERNEL, DENSE_LAYER_NORM_KERNEL } = await import('../src/nn/kernels/layernorm.ts');
  const configs = [LAYER_NORM_KERNEL, LAYER_NORM_JVP_KERNEL, DENSE_LAYER_NORM_KERNEL].map((name) => {
    const config = tf.getKernel(name, 'cpu-blas');
    if (!config) throw new Error(`${name} is not registered on cpu-blas`);
    return config;
  });
  for (const c of configs) tf.unregisterKernel(c.kernelName, 'cpu-blas');
  try {
    return fn();
  } finally {
    for (const c of configs) tf.registerKernel(c);
  }
}

const fmt = (r: Rate) => `${r.cpu.toFixed(1)} (wall ${r.wall.toFixed(1)})`;

interface Rate { wall: number; cpu: number }

/**
 * updates/s over `n` updates after `warm` warm-up updates, by wall clock and by this process's CPU time.
 * The machine is shared, so CPU time (which other processes do not inflate) is the primary figure.
 */
function time(update: () => void, warm: number, n: number): Rate {
  for (let i = 0; i < warm; i++) update();
  const c0 = process.cpuUsage(), t0 = performance.now();
  for (let i = 0; i < n; i++) update();
  const wallS = (performance.now() - t0) / 1000, cpu = process.cpuUsage(c0);
  return { wall: n / wallS, cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

/** The PyTorch side: a long-lived child answering "run <warmup> <updates>" with one JSON line. */
function startTorch() {
  const script = fileURLToPath(new URL('./train_throughput_torch.py', import.meta.url));
  const child = spawn(args.python!, [script, '--serve', '--threads', String(threads)], { stdio: ['pipe', 'pipe', 'inherit'], env: process.env });
  const lines = createInterface({ input: child.stdout });
  const pending: ((line: string) => void)[] = [];
  lines.on('line', (line) => pending.shift()?.(line));
  const ask = (cmd: string) => new Promise<Record<string, unknown>>((resolve, reject) => {
    pending.push((line) => { try { resolve(JSON.parse(line)); } catch { reject(new Error(`PyTorch child said: ${line}`)); } });
    child.stdin.write(`${cmd}\n`);
  });
  child.stdin.on('error', () => undefined); // a dead child is reported through 'exit' below
  child.on('exit', (code) => { while (pending.length) pending.shift()!(JSON.stringify({ error: `PyTorch child exited with ${code}` })); });
  return { ask, close: () => { child.stdin.end(); } };
}

const results: Record<string, unknown> = { threads, rounds, updates, warmup, date: new Date().toISOString() };
const info = await initBackend({ prefer: 'cpu-blas' });
console.log(describeBackend(info).map((l) => `# ${l}`).join('\n'));

/**
 * Sac.update and Smfp.update with LayerNorm networks, fused LayerNorm kernels against composed TF.js ops
 * (the same update with the kernel unregistered), plus Sac.update with plain critics for scale; each round
 * runs every row once, in an order that alternates between rounds. Each block builds its agent afresh and
 * frees it after, so only one agent's tensors are alive at a time (several inflated every row's GC time).
 */
async function layerNormRows(): Promise<void> {
  const lnRounds = Number(args['ln-rounds']), lnUpdates = Number(args['ln-updates']);
  type Row = { label: string; algo: 'sac' | 'smfp'; layerNorm: boolean; composed: boolean; rates: Rate[] };
  const rows: Row[] = [];
  for (const [algo, layerNorm, composed] of [['sac', false, false], ['sac', true, true], ['sac', true, false], ['smfp', true, true], ['smfp', true, false]] as const) {
    const label = `${algo === 'sac' ? 'Sac' : 'Smfp'}.update, ${layerNorm ? `LayerNorm ${algo === 'sac' ? 'critics' : 'actor + critics'}, ${composed ? 'composed TF.js ops' : 'fused kernels'}` : 'plain critics'}`;
    const probe = await makeAlgosUpdate(algo, layerNorm);
    if (typeof probe === 'string') { console.log(`# ${probe}`); continue; }
    probe.dispose();
    rows.push({ label, algo, layerNorm, composed, rates: [] });
  }
  const timeRow = async (row: Row, warm: number): Promise<Rate | string> => {
    const made = await makeAlgosUpdate(row.algo, row.layerNorm);
    if (typeof made === 'string') return made;
    try {
      return row.composed ? await withComposedLayerNorm(() => time(made.update, warm, lnUpdates)) : time(made.update, warm, lnUpdates);
    } finally {
      made.dispose();
    }
  };
  for (let r = 0; r < lnRounds; r++) {
    const order = r % 2 === 0 ? rows : [...rows].reverse();
    for (const row of order) {
      const rate = await timeRow(row, r === 0 ? 5 : 2);
      if (typeof rate === 'string') throw new Error(rate);
      row.rates.push(rate);
    }
    console.log(`layernorm round ${r + 1}: ${rows.map((row) => `${row.label} ${fmt(row.rates[r])}`).join('; ')}`);
  }
  const out: Record<string, unknown> = {};
  for (const row of rows) {
    out[row.label] = { cpu: median(row.rates.map((x) => x.cpu)), wall: median(row.rates.map((x) => x.wall)), perRound: row.rates };
  }
  console.log(`\nLayerNorm rows (median of ${lnRounds} rounds × ${lnUpdates} updates, updates per CPU-second; wall-clock in brackets):`);
  for (const row of rows) console.log(`  ${row.label.padEnd(62)} ${median(row.rates.map((x) => x.cpu)).toFixed(1)} (${median(row.rates.map((x) => x.wall)).toFixed(1)})`);
  for (const algo of ['Sac', 'Smfp']) {
    const fusedRow = rows.find((x) => x.label.startsWith(`${algo}.update, LayerNorm`) && !x.composed);
    const composedRow = rows.find((x) => x.label.startsWith(`${algo}.update, LayerNorm`) && x.composed);
    if (!fusedRow || !composedRow) continue;
    const ratios = fusedRow.rates.map((x, i) => x.cpu / composedRow.rates[i].cpu);
    console.log(`  ${algo}.update fused / composed LayerNorm, per CPU-s: ${median(ratios).toFixed(2)} (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
    out[`${algo} speedup`] = { median: median(ratios), perRound: ratios };
  }
  results.layerNorm = out;
}

if (args['layernorm-only']) {
  await layerNormRows();
  if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2));
  process.exit(0);
}

// --- onestep on the chosen backend, interleaved with PyTorch ---
const ours = makeSacUpdate();
if (args.profile) {
  for (let i = 0; i < 10; i++) ours.update();
  const profile = await tf.profile(() => { for (let i = 0; i < 10; i++) ours.update(); });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of profile.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs) / 10; e.calls += 1 / 10; byKernel.set(k.name, e);
  }
  for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms)) console.log(`${name.padEnd(24)} ${e.ms.toFixed(3)} ms/update  ${e.calls.toFixed(0)} calls`);
}
const startTensors = tf.memory().numTensors;
const torch = args['no-torch'] ? null : startTorch();
const oursRounds: Rate[] = [], torchRounds: Rate[] = [];
let torchInfo: Record<string, unknown> | null = null;
// Order alternates (ours first, then PyTorch first) so a load trend during a round does not favour one side.
for (let r = 0; r < (args['mfql-only'] ? 0 : rounds); r++) {
  const warm = r === 0 ? warmup : 2;
  const runTorch = async () => {
    const res = await torch!.ask(`run ${warm} ${updates}`);
    if (res.error) throw new Error(String(res.error));
    torchInfo ??= res;
    return { wall: Number(res.updates_per_s), cpu: Number(res.updates_per_cpu_s) };
  };
  let theirs: Rate | null = null;
  if (torch && r % 2 === 1) theirs = await runTorch();
  const mine = time(ours.update, warm, updates);
  if (torch && r % 2 === 0) theirs = await runTorch();
  oursRounds.push(mine);
  let line = `round ${r + 1}: onestep cpu-blas ${fmt(mine)} updates/s`;
  if (theirs) {
    torchRounds.push(theirs);
    line += `, PyTorch ${fmt(theirs)} updates/s, ratio ${(mine.cpu / theirs.cpu).toFixed(2)} (wall ${(mine.wall / theirs.wall).toFixed(2)})`;
  }
  console.log(line);
}
// --- MeanFlowQL: the real src/algos update, interleaved with PyTorch's the same way ---
if (!args['no-mfql']) {
  const { MEANFLOWQL_DEFAULTS, MeanFlowQl } = await import('../src/algos/meanflowql.ts');
  const { Rng } = await import('../src/core/rng.ts');
  const mfql = new MeanFlowQl(OBS, ACT, { ...MEANFLOWQL_DEFAULTS, actorHidden: [HIDDEN, HIDDEN], critic: { ...MEANFLOWQL_DEFAULTS.critic, hiddenSizes: [HIDDEN, HIDDEN] } }, 1, { offlineSteps: 1_000_000 });
  const rng = new Rng(1);
  const fill = (n: number) => rng.fillNormal(new Float32Array(n));
  const mfqlBatches = Array.from({ length: 4 }, () => ({
    size: BATCH, observation: fill(BATCH * OBS), action: fill(BATCH * ACT).map(Math.tanh), reward: fill(BATCH),
    nextObservation: fill(BATCH * OBS), mask: new Float32Array(BATCH).fill(1),
  }));
  let k = 0;
  const mfqlUpdate = () => { mfql.update(mfqlBatches[k++ % mfqlBatches.length] as never, rng); };
  const mine: Rate[] = [], theirs: Rate[] = [];
  // Fewer updates per round: one MeanFlowQL update costs several SAC updates.
  const n = Math.max(5, Math.floor(updates / 4));
  for (let r = 0; r < rounds; r++) {
    const warm = r === 0 ? Math.max(5, Math.floor(warmup / 4)) : 1;
    const runTorch = async () => {
      const res = await torch!.ask(`run ${warm} ${n} mfql`);
      if (res.error) throw new Error(String(res.error));
      return { wall: Number(res.updates_per_s), cpu: Number(res.updates_per_cpu_s) };
    };
    let other: Rate | null = null;
    if (torch && r % 2 === 1) other = await runTorch();
    const ours = time(mfqlUpdate, warm, n);
    if (torch && r % 2 === 0) other = await runTorch();
    mine.push(ours);
    let line = `MeanFlowQL round ${r + 1}: onestep ${fmt(ours)} updates/s`;
    if (other) {
      theirs.push(other);
      line += `, PyTorch ${fmt(other)} updates/s, ratio ${(ours.cpu / other.cpu).toFixed(2)} (wall ${(ours.wall / other.wall).toFixed(2)})`;
    }
    console.log(line);
  }
  mfql.dispose();
  const summary = { cpu: median(mine.map((r) => r.cpu)), wall: median(mine.map((r) => r.wall)) };
  const mfqlResult: Record<string, unknown> = { onestep: { ...summary, perRound: mine } };
  let text = `MeanFlowQL update (2×256 ReLU + LayerNorm, best-of-5, batch 256): onestep ${summary.cpu.toFixed(1)} (${summary.wall.toFixed(1)})`;
  if (theirs.length === mine.length) {
    const ratio = { cpu: median(mine.map((r, i) => r.cpu / theirs[i].cpu)), wall: median(mine.map((r, i) => r.wall / theirs[i].wall)) };
    mfqlResult.torch = { cpu: median(theirs.map((r) => r.cpu)), wall: median(theirs.map((r) => r.wall)), perRound: theirs };
    mfqlResult.ratio = ratio;
    text += `, PyTorch ${median(theirs.map((r) => r.cpu)).toFixed(1)} (${median(theirs.map((r) => r.wall)).toFixed(1)}), ratio ${ratio.cpu.toFixed(2)} (${ratio.wall.toFixed(2)})`;
  }
  console.log(`${text} updates per CPU-second (wall)`);
  results.meanflowql = mfqlResult;
}
if (args['mfql-only']) {
  torch?.close();
  ours.dispose();
  if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2));
  process.exit(0);
}
torch?.close();
// Assigned inside the runTorch closure, which TypeScript's narrowing does not follow.
const torchMeta = torchInfo as Record<string, unknown> | null;
const leaked = tf.memory().numTensors - startTensors;
ours.dispose();
const summarize = (rs: Rate[]) => ({ cpu: median(rs.map((r) => r.cpu)), wall: median(rs.map((r) => r.wall)), perRound: rs });
results.onestep = { backend: info.backend, blas: info.blas, ...summarize(oursRounds), leakedTensors: leaked };
let ratio: { cpu: number; wall: number } | null = null;
if (torchMeta) {
  ratio = { cpu: median(oursRounds.map((r, i) => r.cpu / torchRounds[i].cpu)), wall: median(oursRounds.map((r, i) => r.wall / torchRounds[i].wall)) };
  results.torch = { version: torchMeta.torch, blas: torchMeta.blas, ...summarize(torchRounds) };
  results.ratio = ratio;
}

if (!args['no-algos']) {
  const algos = await makeAlgosUpdate();
  if (typeof algos === 'string') console.log(`# ${algos}`);
  else {
    const v = time(algos.update, 5, Math.max(10, Math.floor(updates / 4)));
    algos.dispose();
    console.log(`src/algos/sac.ts Sac.update on cpu-blas: ${fmt(v)} updates/s`);
    results.algosSac = v;
  }
}

if (!args['no-layernorm']) {
  console.log('');
  await layerNormRows();
}

// --- reference rows: stock TF.js cpu and wasm, the same update code on their fallback paths ---
for (const backend of ['cpu', 'wasm'] as const) {
  if (args[`no-${backend === 'cpu' ? 'stock' : 'wasm'}`]) continue;
  await initBackend({ prefer: backend });
  const sac = makeSacUpdate();
  const v = time(sac.update, 1, backend === 'cpu' ? 5 : 30);
  sac.dispose();
  console.log(`TF.js ${backend} (stock kernels): ${fmt(v)} updates/s`);
  results[backend] = v;
}

const ours_ = results.onestep as { cpu: number; wall: number };
console.log(`\nsummary (median over rounds, updates per CPU-second; wall-clock in brackets): onestep ${ours_.cpu.toFixed(1)} (${ours_.wall.toFixed(1)})` +
  (torchMeta && ratio ? `, PyTorch ${summarize(torchRounds).cpu.toFixed(1)} (${summarize(torchRounds).wall.toFixed(1)}) [torch ${torchMeta.torch}], ratio ${ratio.cpu.toFixed(2)} (${ratio.wall.toFixed(2)})` : '') +
  `; BLAS threads ${threads}; leaked tensors ${leaked}`);
if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2));
