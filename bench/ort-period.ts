// How long one forward pass takes as a function of the time since the previous one. The round-trip goal's
// reference is ONNX Runtime run back to back (every run finds the weights and ORT's code in cache); a policy node
// runs once per control period, and in between its caches are shared with everything else on the host. This
// measures that cost alone, in one process: each run of the same model (sync binding, one thread) follows the
// previous one after a gap spent busy-waiting on the clock (the CPU stays awake and this process touches no memory,
// so whatever the run loses was evicted by something else), or after a sleep (setTimeout, as a node's event loop
// sleeps between observations: --sleeps in ms). Rounds interleave the cases.
//
//   node --import tsx bench/ort-period.ts [--models a.onnx,b.onnx] [--gaps 0,20,100,200,500,1000] [--sleeps 1] [--n 2000] [--rounds 3]
//        [--json bench/out/ort-period.json]
//   taskset -c 0 node --import tsx bench/ort-period.ts     (the placement the other latency benchmarks use)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadavg } from 'node:os';
import { PolicySession, float32Tensor } from '../src/runtime/ort-session.ts';
import { median, summarize } from '../src/core/latency.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const models = opt('models', 'models/untrained-arm_reach/policy.onnx,models/arm_reach/policy.onnx').split(',');
const gaps = opt('gaps', '0,20,100,200,500,1000').split(',').map(Number);
const sleeps = opt('sleeps', '1').split(',').filter((x) => x !== '').map(Number);
const n = Number(opt('n', '2000'));
const rounds = Number(opt('rounds', '3'));
const jsonOut = opt('json', 'bench/out/ort-period.json');
for (const g of gaps) if (!(g >= 0)) throw new Error(`--gaps takes non-negative µs values (got ${opt('gaps', '')})`);
for (const m of sleeps) if (!(m >= 1)) throw new Error(`--sleeps takes ms values of at least 1 (got ${opt('sleeps', '')})`);
if (!Number.isInteger(n) || n < 10) throw new Error(`--n must be an integer of at least 10 (got ${opt('n', '')})`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer (got ${opt('rounds', '')})`);

const nowUs = () => performance.now() * 1000;
/** Busy-waits `us` microseconds: the CPU stays busy, and no memory beyond a few registers is touched. */
function spin(us: number): void {
  const until = nowUs() + us;
  while (nowUs() < until);
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

console.log(`ort-period: p50 µs of one forward pass by the time since the previous one (${rounds} rounds × ${n} runs, load ${loadavg()[0].toFixed(2)})`);
const result: Record<string, Record<string, { p50: number; p90: number; rounds: number[] }>> = {};
for (const path of models) {
  const bytes = readFileSync(path);
  const session = await PolicySession.open(new Uint8Array(bytes));
  const dims = (d: readonly number[]) => d.map((x) => (x < 0 ? 1 : x));
  const feeds = Object.fromEntries(session.inputs.map((i) => [i.name, float32Tensor(dims(i.dims))]));
  const fetches = Object.fromEntries(session.outputs.map((o) => [o.name, float32Tensor(dims(o.dims))]));
  const runUs = () => {
    const t0 = nowUs();
    session.runSync(feeds, fetches);
    return nowUs() - t0;
  };
  for (let i = 0; i < 2000; i++) runUs(); // warm: V8 and ORT's first runs
  // what precedes each timed run; a busy-wait returns nothing, so nothing is awaited between it and the run
  const cases: { label: string; before: () => void | Promise<void>; samples: number[]; roundP50s: number[] }[] = [
    ...gaps.map((g) => ({ label: `spin ${g} µs`, before: () => spin(g), samples: [], roundP50s: [] })),
    ...sleeps.map((m) => ({ label: `sleep ${m} ms`, before: () => sleep(m), samples: [], roundP50s: [] })),
  ];
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const waiting = c.before();
        if (waiting) await waiting;
        xs.push(runUs());
      }
      c.samples.push(...xs);
      c.roundP50s.push(median(xs));
    }
  }
  console.log(`\n${path} (${(bytes.length / 1024).toFixed(0)} KiB)`);
  console.log('| before each run | p50 µs | p90 µs | p50 by round |');
  console.log('|---|---|---|---|');
  result[path] = {};
  for (const c of cases) {
    const { p50, p90 } = summarize(c.samples);
    result[path][c.label] = { p50, p90, rounds: c.roundP50s };
    console.log(`| ${c.label} | ${p50.toFixed(1)} | ${p90.toFixed(1)} | ${c.roundP50s.map((x) => x.toFixed(1)).join(', ')} |`);
  }
  session.dispose();
}
mkdirSync(dirname(jsonOut), { recursive: true });
writeFileSync(jsonOut, JSON.stringify({ rounds, n, models: result }, null, 2) + '\n');
console.log(`\nort-period: wrote ${jsonOut}`);
