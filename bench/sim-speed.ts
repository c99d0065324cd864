// Simulation speed and return floors, printed as the markdown for docs/BENCHMARKS.md "## Simulation speed".
//
//   node --import tsx bench/sim-speed.ts [--repeats 3] [--episodes 50] [--tasks pendulum,reacher,...]
//
// 1. Raw physics, per task MJCF: mujoco-js 3.3.8 (wasm) and Debian's native MuJoCo 2.2.2 (`mujoco-testspeed
//    model.xml nstep 1 0.01`) run the same loop on the same file — mj_step from qpos0 with testspeed's control
//    noise (centre + 1 % of the half range × (2·Halton(i, j+2) − 1)) — interleaved `repeats` times; the ratio is
//    wasm / native steps per second, per pair, reported as the median (min–max).
//    The same native library is also driven in this process through koffi (the loop of 1. in JS, calling
//    libmujoco.so.2.2.2's mj_step), so the two builds share one process and one scheduler: a wall-clock ratio
//    that a loaded machine cannot bias against the long-lived Node process.
// 2. Environment steps/s through MujocoEnv.step (random actions, frame skip, observation and reward included).
// 3. Random and scripted returns per task (mean ± std over episodes, seed 0), the floor for learning results.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { MujocoEnv } from '../src/sim/env.ts';
import { evaluate, randomPolicy, scriptedPolicy } from '../src/sim/evaluate.ts';
import { SIM_DIR, loadTaskModel, mujoco } from '../src/sim/mujoco.ts';
import { TASKS, TASK_NAMES } from '../src/sim/tasks/index.ts';
import { median } from '../src/core/latency.ts';

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

/** testspeed's control sequence for a task, precomputed so timed loops are only ctrl writes and mj_step. */
async function controlNoise(task: string, nstep: number): Promise<{ nu: number; noise: Float64Array }> {
  const model = await loadTaskModel(TASKS[task].mjcf);
  const nu = model.nu;
  const range = model.actuator_ctrlrange as Float64Array;
  const limited = model.actuator_ctrllimited as Uint8Array;
  const noise = new Float64Array(nstep * nu);
  for (let j = 0; j < nu; j++) {
    const center = limited[j] ? (range[2 * j + 1] + range[2 * j]) / 2 : 0;
    const radius = 0.01 * (limited[j] ? (range[2 * j + 1] - range[2 * j]) / 2 : 1);
    for (let i = 0; i < nstep; i++) noise[i * nu + j] = center + radius * (2 * halton(i, j + 2) - 1);
  }
  model.delete();
  return { nu, noise };
}

/**
 * One build's stepping loop over a range of the control sequence, specialised per build (a shared loop calling
 * closures would be megamorphic and cost both builds extra). `run(from, to)` continues from the current state.
 */
interface Stepper {
  reset(): void;
  run(from: number, to: number): void;
  close(): void;
}

async function wasmStepper(task: string, nu: number, noise: Float64Array): Promise<Stepper> {
  const mj = await mujoco();
  const model = await loadTaskModel(TASKS[task].mjcf);
  const data = new mj.MjData(model);
  return {
    reset: () => mj.mj_resetData(model, data),
    run(from, to) {
      const ctrl = data.ctrl as Float64Array;
      for (let i = from; i < to; i++) {
        for (let j = 0; j < nu; j++) ctrl[j] = noise[i * nu + j];
        mj.mj_step(model, data);
      }
    },
    close() {
      data.delete();
      model.delete();
    },
  };
}

/** Time one build over `nstep` steps from reset (after a warm-up pass), in wall and CPU time. */
function timeAlone(stepper: Stepper, nstep: number): Rate {
  stepper.reset();
  stepper.run(0, Math.min(nstep, 50_000)); // warm-up: V8 tiers hot wasm and JS up lazily
  stepper.reset();
  const cpu = process.cpuUsage();
  const start = performance.now();
  stepper.run(0, nstep);
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { wall: nstep / wall, cpu: nstep / ((used.user + used.system) / 1e6) };
}

/**
 * Time two builds over the same `nstep` steps, alternating in `chunks` slices, so both see the same background
 * load (on a shared machine a busy sibling hyper-thread slows whichever build runs at that moment).
 */
function timeInterleaved(a: Stepper, b: Stepper, nstep: number, chunks = 40): [Rate, Rate] {
  for (const s of [a, b]) {
    s.reset();
    s.run(0, Math.min(nstep, 50_000));
    s.reset();
  }
  const wall = [0, 0];
  const cpu = [0, 0];
  for (let c = 0; c < chunks; c++) {
    const from = Math.floor((c * nstep) / chunks);
    const to = Math.floor(((c + 1) * nstep) / chunks);
    [a, b].forEach((s, i) => {
      const u = process.cpuUsage();
      const t = performance.now();
      s.run(from, to);
      wall[i] += (performance.now() - t) / 1000;
      const used = process.cpuUsage(u);
      cpu[i] += (used.user + used.system) / 1e6;
    });
  }
  return [
    { wall: nstep / wall[0], cpu: nstep / cpu[0] },
    { wall: nstep / wall[1], cpu: nstep / cpu[1] },
  ];
}

/** libmujoco.so.2.2.2 through koffi; struct offsets of the 2.2.2 ABI (checked against nu at load). */
interface NativeMujoco {
  stepper(task: string, nu: number, noise: Float64Array): Stepper;
}
const MJMODEL_NQ = 0;
const MJMODEL_NV = 4;
const MJMODEL_NU = 8;
const MJDATA_CTRL = 40408;

async function loadNative(): Promise<NativeMujoco | string> {
  try {
    const koffi = (await import('koffi')).default;
    const lib = koffi.load('libmujoco.so.2.2.2');
    const version = lib.func('int mj_version()')();
    if (version !== 222) return `libmujoco reports version ${version}, expected 222`;
    const loadXML = lib.func('void* mj_loadXML(const char* filename, const void* vfs, _Out_ char* error, int error_sz)');
    const makeData = lib.func('void* mj_makeData(const void* m)');
    const mjStep = lib.func('void mj_step(const void* m, void* d)');
    const resetData = lib.func('void mj_resetData(const void* m, void* d)');
    const deleteData = lib.func('void mj_deleteData(void* d)');
    const deleteModel = lib.func('void mj_deleteModel(void* m)');
    return {
      stepper(task, nu, noise) {
        const error = Buffer.alloc(1000);
        const m = loadXML(join(SIM_DIR, TASKS[task].mjcf), null, error, error.length);
        if (!m) throw new Error(`native MuJoCo cannot load ${task}: ${error.toString('utf8').replace(/\0.*$/s, '')}`);
        const counts = [MJMODEL_NQ, MJMODEL_NV, MJMODEL_NU].map((o) => koffi.decode(m, o, 'int') as number);
        if (counts[2] !== nu) throw new Error(`native model layout mismatch for ${task}: nq/nv/nu read as ${counts.join('/')}`);
        const d = makeData(m);
        const ctrl = new Float64Array(koffi.view(koffi.decode(d, MJDATA_CTRL, 'void *'), nu * 8) as ArrayBuffer);
        return {
          reset: () => resetData(m, d),
          run(from, to) {
            for (let i = from; i < to; i++) {
              for (let j = 0; j < nu; j++) ctrl[j] = noise[i * nu + j];
              mjStep(m, d);
            }
          },
          close() {
            deleteData(d);
            deleteModel(m);
          },
        };
      },
    };
  } catch (err) {
    return (err as Error).message;
  }
}

/** Steps per second of wall time, and per second of CPU time (robust to sharing the cores with other work). */
interface Rate {
  wall: number;
  cpu: number;
}

function testspeedStepsPerSecond(task: string, nstep: number): Rate {
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

const k = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);

const nativeVersion = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libmujoco2.2.2'], { encoding: 'utf8' }).trim();
const mj = await mujoco();
console.log(`<!-- ${new Date().toISOString()} · node ${process.version} · load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} -->`);
console.log(`mujoco-js ${mj.mj_versionString()} (wasm) vs native MuJoCo ${nativeVersion} (Debian libmujoco, mujoco-testspeed), ${repeats} interleaved runs each.\n`);
const native = await loadNative();
if (typeof native === 'string') console.log(`(native MuJoCo in-process via koffi unavailable: ${native})\n`);
console.log(
  '| task | nq / nv / nu | steps per run | mujoco-js steps/s (CPU) | testspeed steps/s (CPU) | **wasm / testspeed (CPU)** | wasm / testspeed (wall) | ' +
    'native via koffi steps/s (CPU) | **wasm / native, same process, interleaved (CPU)** | same, wall | env steps/s, CPU (frame skip) | physics steps/s inside env, CPU |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const task of tasks) {
  const nstep = NSTEP[task] ?? 100_000;
  const { nu, noise } = await controlNoise(task, nstep);
  const wasm: Rate[] = [];
  const testspeed: Rate[] = [];
  const pairs: [Rate, Rate][] = [];
  const jsStepper = await wasmStepper(task, nu, noise);
  const nativeStepper = typeof native === 'string' ? null : native.stepper(task, nu, noise);
  for (let r = 0; r < repeats; r++) {
    testspeed.push(testspeedStepsPerSecond(task, nstep));
    wasm.push(timeAlone(jsStepper, nstep));
    if (nativeStepper) pairs.push(timeInterleaved(jsStepper, nativeStepper, nstep));
  }
  jsStepper.close();
  nativeStepper?.close();
  const spread = (xs: number[]) => `${median(xs).toFixed(2)}× (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
  const env = await MujocoEnv.make(task);
  const { nq, nv } = env.simulation.model;
  const envRate = envStepsPerSecond(env, Math.max(2000, Math.round(nstep / env.task.frameSkip / 4)));
  env.close();
  const sameProcess = pairs.length
    ? `${k(median(pairs.map(([, n]) => n.cpu)))} | **${spread(pairs.map(([w, n]) => w.cpu / n.cpu))}** | ${spread(pairs.map(([w, n]) => w.wall / n.wall))}`
    : '– | – | –';
  console.log(
    `| ${task} | ${nq} / ${nv} / ${nu} | ${nstep.toLocaleString('en')} | ${k(median(wasm.map((w) => w.cpu)))} | ${k(median(testspeed.map((n) => n.cpu)))} | ` +
      `**${spread(wasm.map((w, i) => w.cpu / testspeed[i].cpu))}** | ${spread(wasm.map((w, i) => w.wall / testspeed[i].wall))} | ` +
      `${sameProcess} | ${k(envRate.cpu)} (${env.task.frameSkip}) | ${k(envRate.cpu * env.task.frameSkip)} |`,
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
