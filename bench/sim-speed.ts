// Simulation speed and return floors, printed as the markdown for docs/BENCHMARKS.md "## Simulation speed".
//
//   node --import tsx bench/sim-speed.ts [--repeats 3] [--episodes 50] [--tasks pendulum,reacher,...]
//
// 1. Raw physics, per task MJCF: mujoco-js 3.3.8 (wasm) and Debian's native MuJoCo 2.2.2 (`mujoco-testspeed
//    model.xml nstep 1 0.01`) run the same loop on the same file — mj_step from qpos0 with testspeed's control
//    noise (centre + 1 % of the half range × (2·Halton(i, j+2) − 1)) — interleaved `repeats` times; the ratio is
//    wasm / native steps per second, per pair, reported as the median (min–max).
// 2. Environment steps/s through MujocoEnv.step (random actions, frame skip, observation and reward included).
// 3. Random and scripted returns per task (mean ± std over episodes, seed 0), the floor for learning results.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { MujocoEnv } from '../src/sim/env.ts';
import { evaluate, randomPolicy, scriptedPolicy } from '../src/sim/evaluate.ts';
import { SIM_DIR, loadTaskModel, mujoco } from '../src/sim/mujoco.ts';
import { TASKS, TASK_NAMES } from '../src/sim/tasks/index.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const repeats = Number(arg('repeats', '3'));
const episodes = Number(arg('episodes', '50'));
const tasks = arg('tasks', TASK_NAMES.join(',')).split(',');
/** Physics steps per timed run, sized so each run takes roughly 0.3–1 s. */
const NSTEP: Record<string, number> = { pendulum: 400_000, reacher: 200_000, two_way: 200_000, arm_reach: 200_000, arm_push: 100_000, cheetah: 50_000 };

/** MuJoCo's mju_Halton (radical inverse of i in the given base), as testspeed uses it. */
function halton(index: number, base: number): number {
  let n0 = index;
  let h = 0;
  let f = 1 / base;
  while (n0 > 0) {
    h += (n0 % base) * f;
    n0 = Math.floor(n0 / base);
    f /= base;
  }
  return h;
}

async function wasmStepsPerSecond(task: string, nstep: number): Promise<Rate> {
  const mj = await mujoco();
  const model = await loadTaskModel(TASKS[task].mjcf);
  const data = new mj.MjData(model);
  const nu = model.nu;
  const range = model.actuator_ctrlrange as Float64Array;
  const limited = model.actuator_ctrllimited as Uint8Array;
  const center = new Float64Array(nu);
  const radius = new Float64Array(nu);
  for (let j = 0; j < nu; j++) {
    center[j] = limited[j] ? (range[2 * j + 1] + range[2 * j]) / 2 : 0;
    radius[j] = 0.01 * (limited[j] ? (range[2 * j + 1] - range[2 * j]) / 2 : 1);
  }
  // The control noise is precomputed so the timed loop is only ctrl writes and mj_step, as in testspeed's C loop.
  const noise = new Float64Array(nstep * nu);
  for (let i = 0; i < nstep; i++) for (let j = 0; j < nu; j++) noise[i * nu + j] = center[j] + radius[j] * (2 * halton(i, j + 2) - 1);
  const run = (steps: number): Rate => {
    mj.mj_resetData(model, data);
    const ctrl = data.ctrl as Float64Array;
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < steps; i++) {
      for (let j = 0; j < nu; j++) ctrl[j] = noise[i * nu + j];
      mj.mj_step(model, data);
    }
    const wall = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    return { wall: steps / wall, cpu: steps / ((used.user + used.system) / 1e6) };
  };
  run(Math.min(nstep, 50_000)); // warm-up: V8 tiers hot wasm functions up lazily
  const rate = run(nstep);
  data.delete();
  model.delete();
  return rate;
}

/** Steps per second of wall time, and per second of CPU time (robust to sharing the cores with other work). */
interface Rate {
  wall: number;
  cpu: number;
}

function nativeStepsPerSecond(task: string, nstep: number): Rate {
  // bash's `times` reports the child's user and system CPU time (model loading included: a few ms).
  const out = execFileSync('bash', ['-c', 'mujoco-testspeed "$1" "$2" 1 0.01; times', 'sim-speed', join(SIM_DIR, TASKS[task].mjcf), String(nstep)], { encoding: 'utf8' });
  const m = /Steps per second\s*:\s*([\d.]+)/.exec(out);
  const times = [...out.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].at(-1);
  if (!m || !times) throw new Error(`mujoco-testspeed printed no steps/s for ${task}:\n${out}`);
  const cpuSeconds = 60 * Number(times[1]) + Number(times[2]) + 60 * Number(times[3]) + Number(times[4]);
  return { wall: Number(m[1]), cpu: nstep / cpuSeconds };
}

function envStepsPerSecond(env: MujocoEnv, steps: number): Rate {
  const policy = randomPolicy(env.actionSize, 0);
  let obs = env.reset(0);
  const loop = (n: number): Rate => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const r = env.step(policy(obs));
      obs = r.terminated || r.truncated ? env.reset() : r.obs;
    }
    const used = process.cpuUsage(cpu);
    return { wall: n / ((performance.now() - start) / 1000), cpu: n / ((used.user + used.system) / 1e6) };
  };
  loop(steps); // warm-up: V8 tiers hot wasm and JS up lazily
  const runs = [loop(steps), loop(steps), loop(steps)];
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const k = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);

const nativeVersion = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libmujoco2.2.2'], { encoding: 'utf8' }).trim();
const mj = await mujoco();
console.log(`<!-- ${new Date().toISOString()} · node ${process.version} · load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} -->`);
console.log(`mujoco-js ${mj.mj_versionString()} (wasm) vs native MuJoCo ${nativeVersion} (Debian libmujoco, mujoco-testspeed), ${repeats} interleaved runs each.\n`);
console.log('| task | nq / nv / nu | steps per run | mujoco-js steps/s (CPU) | native steps/s (CPU) | **ratio wasm/native (CPU)**, median (min–max) | ratio by wall clock, median (min–max) | env steps/s, CPU (frame skip) | physics steps/s inside env, CPU |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const task of tasks) {
  const nstep = NSTEP[task] ?? 100_000;
  const wasm: Rate[] = [];
  const native: Rate[] = [];
  for (let r = 0; r < repeats; r++) {
    native.push(nativeStepsPerSecond(task, nstep));
    wasm.push(await wasmStepsPerSecond(task, nstep));
  }
  const cpuRatios = wasm.map((w, i) => w.cpu / native[i].cpu);
  const wallRatios = wasm.map((w, i) => w.wall / native[i].wall);
  const env = await MujocoEnv.make(task);
  const { nq, nv, nu } = env.simulation.model;
  const envRate = envStepsPerSecond(env, Math.max(2000, Math.round(nstep / env.task.frameSkip / 4)));
  env.close();
  const spread = (xs: number[]) => `${median(xs).toFixed(2)}× (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
  console.log(
    `| ${task} | ${nq} / ${nv} / ${nu} | ${nstep.toLocaleString('en')} | ${k(median(wasm.map((w) => w.cpu)))} | ${k(median(native.map((n) => n.cpu)))} | ` +
      `**${spread(cpuRatios)}** | ${spread(wallRatios)} | ${k(envRate.cpu)} (${env.task.frameSkip}) | ${k(envRate.cpu * env.task.frameSkip)} |`,
  );
}
console.log(`\nReturns, ${episodes} episodes from seed 0 (cheetah: ${Math.max(5, episodes / 5)}); mean ± std, success where the task defines it.\n`);
console.log('| task | episode | random return | random success | scripted return | scripted success | scripted modes |');
console.log('|---|---|---|---|---|---|---|');
for (const task of tasks) {
  const env = await MujocoEnv.make(task);
  const n = task === 'cheetah' ? Math.max(5, episodes / 5) : episodes;
  const random = evaluate(env, randomPolicy(env.actionSize, 0), { episodes: n, seed: 0 });
  const scripted = env.task.scripted ? evaluate(env, scriptedPolicy(env), { episodes: n, seed: 0 }) : null;
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(0)}%`);
  const modes = scripted?.modeCounts ? Object.entries(scripted.modeCounts).map(([m, c]) => `${m} ${c}`).join(', ') : '–';
  const opt = env.simulation.model.opt;
  const dt = (opt.timestep * env.task.frameSkip * 1000).toFixed(0);
  opt.delete();
  console.log(
    `| ${task} | ${env.task.maxSteps} × ${dt} ms | ${random.meanReturn.toFixed(1)} ± ${random.stdReturn.toFixed(1)} | ${pct(random.successRate)} | ` +
      `${scripted ? `${scripted.meanReturn.toFixed(1)} ± ${scripted.stdReturn.toFixed(1)}` : '–'} | ${pct(scripted?.successRate)} | ${modes} |`,
  );
  env.close();
}
