// The closed loop over ROS 2: `onestep sim-bridge` and `onestep serve` as two processes on the embedded rtps
// transport, against the same evaluation in-process.
//   lockstep:  env steps/s of the two-process loop vs `onestep eval` in-process, in the same run (`onestep demo`
//              runs both, one after the other, so they do not share the cores), R rounds; goal ≥ 0.5×.
//   real time: the bridge at the task's control rate (arm_reach: 20 Hz, real-time factor 1) with the node in event
//              mode: state published → command back at the bridge (round trip), the node's stages, and the
//              real-time factor achieved.
//
//   node --import tsx bench/sim-loop.ts [--model models/untrained-arm_reach/policy.onnx] [--episodes 20]
//        [--rounds 3] [--realtime-seconds 60] [--json bench/out/sim-loop.json]
//
// Runs itself inside a private network namespace (unshare -n, lo with multicast): no packet leaves the machine.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { REPO_ROOT, runInNetns } from '../test/helpers/netns.ts';
import { DEMO_OVERRIDES } from '../src/cli/demo.ts';
import { median } from '../src/core/latency.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const model = opt('model', 'models/untrained-arm_reach/policy.onnx');
const episodes = Number(opt('episodes', '20'));
const rounds = Number(opt('rounds', '3'));
const realtimeSeconds = Number(opt('realtime-seconds', '60'));
const jsonOut = opt('json', 'bench/out/sim-loop.json');

interface Percentiles { p50: number; p90?: number; p99: number; max: number; count?: number }

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('node', ['bin/onestep.js', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function lockstepRound(k: number): Promise<{ ros: number; inProcess: number; identical: boolean; roundTrip: Percentiles; node: Record<string, number> | null }> {
  const r = await run(['demo', '--model', model, '--episodes', String(episodes), '--seed', String(1000 * k), '--no-deterministic', '--domain-id', String(20 + k), '--json']);
  if (r.code !== 0) throw new Error(`demo round ${k} failed (${r.code}): ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { ros: out.ros.stepsPerSecond, inProcess: out.inProcess.stepsPerSecond, identical: out.identical, roundTrip: out.latencyMs.bridge.roundTrip, node: out.latencyMs.node };
}

/** The bridge in real time at the control rate, the node in event mode (acting on every state). */
async function realtime(): Promise<{ summary: any; node: Record<string, number> | null }> {
  const domain = 30;
  const env = { ...process.env, ROS_LOCALHOST_ONLY: '1' };
  const eps = Math.max(1, Math.round(realtimeSeconds / 2.5));
  const common = ['--transport', 'rtps', '--domain-id', String(domain)];
  // the node's own watchdog stays on here (real time: observations arrive whether or not it answers)
  const params = DEMO_OVERRIDES.filter(([k]) => k !== 'safety.watchdog_ms');
  const serve = spawn('node', ['bin/onestep.js', 'serve', '--model', model, '--params-file', 'launch/arm_policy.yaml', ...common, '--ros-args',
    ...params.flatMap(([k, v]) => ['-p', `${k}:=${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`]), '-p', 'deterministic:=false'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let serveErr = '';
  serve.stderr.setEncoding('utf8').on('data', (d: string) => (serveErr += d));
  const serveExit = new Promise((r) => serve.on('close', r));
  // give the node its start-up (model load, warm-up) before the clock starts
  await new Promise((r) => setTimeout(r, 3000));
  const b = await run(['sim-bridge', '--task', 'arm_reach', '--clock', 'realtime', '--rtf', '1', '--episodes', String(eps), '--json', '--log-level', 'warn', ...common], env);
  serve.kill('SIGINT');
  await serveExit;
  if (b.code !== 0) throw new Error(`sim-bridge failed (${b.code}): ${b.stderr.slice(-2000)}`);
  const summary = JSON.parse(b.stdout.trim().split('\n').pop()!);
  let node: Record<string, number> | null = null;
  for (const line of serveErr.split('\n')) {
    try {
      const e = JSON.parse(line);
      if (e.message === 'latency per stage') node = e;
    } catch {
      // not JSON
    }
  }
  return { summary, node };
}

async function inside(): Promise<void> {
  const lock = [];
  for (let k = 0; k < rounds; k++) {
    process.stderr.write(`sim-loop: lockstep round ${k + 1}/${rounds} (${episodes} episodes) …\n`);
    lock.push(await lockstepRound(k));
  }
  process.stderr.write(`sim-loop: real time at 20 Hz for ${realtimeSeconds} s …\n`);
  const rt = await realtime();
  process.stdout.write(`RESULT ${JSON.stringify({ lock, rt })}\n`);
}

async function main(): Promise<void> {
  const r = await runInNetns(['node', '--import', 'tsx', 'bench/sim-loop.ts', '--inside', ...argv], { timeoutMs: 3_600_000 });
  process.stderr.write(r.stderr.split('\n').filter((l) => l.startsWith('sim-loop:')).join('\n') + '\n');
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no result (exit ${r.code ?? r.signal}): ${r.stderr.slice(-3000)}`);
  const { lock, rt } = JSON.parse(line.slice(7));
  const ratios = lock.map((l: { ros: number; inProcess: number }) => l.ros / l.inProcess);
  const s = rt.summary;
  const report = {
    model, episodes, rounds, commit: process.env.GIT_COMMIT ?? '',
    lockstep: {
      rosStepsPerSecond: lock.map((l: { ros: number }) => l.ros), inProcessStepsPerSecond: lock.map((l: { inProcess: number }) => l.inProcess),
      ratios, medianRatio: median(ratios), identical: lock.map((l: { identical: boolean }) => l.identical), roundTrip: lock.map((l: { roundTrip: Percentiles }) => l.roundTrip),
    },
    realtime: {
      steps: s.steps, wallSeconds: s.wallSeconds, realTimeFactor: s.realTimeFactor, roundTrip: s.latency.roundTrip, apply: s.latency.apply,
      physics: s.latency.physics, publish: s.latency.publish, node: rt.node, counters: s.counters,
    },
  };
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
  const f = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : '-');
  const lines = [
    '| round | two processes over DDS, steps/s | in-process, steps/s | ratio | identical |',
    '|---|---|---|---|---|',
    ...lock.map((l: { ros: number; inProcess: number; identical: boolean }, k: number) => `| ${k + 1} | ${l.ros.toFixed(0)} | ${l.inProcess.toFixed(0)} | ${(l.ros / l.inProcess).toFixed(2)} | ${l.identical ? 'yes' : 'no'} |`),
    `| median | | | **${median(ratios).toFixed(2)}** | |`,
    '',
    `real time: ${s.steps} steps in ${s.wallSeconds.toFixed(1)} s, real-time factor ${s.realTimeFactor.toFixed(4)}; commands ${s.counters.commandsAccepted}, watchdog timeouts ${s.counters.watchdogTimeouts}`,
    '| stage | p50 ms | p90 ms | p99 ms | max ms |',
    '|---|---|---|---|---|',
    `| bridge: physics | ${f(s.latency.physics.p50)} | ${f(s.latency.physics.p90)} | ${f(s.latency.physics.p99)} | ${f(s.latency.physics.max)} |`,
    `| bridge: publish a state | ${f(s.latency.publish.p50)} | ${f(s.latency.publish.p90)} | ${f(s.latency.publish.p99)} | ${f(s.latency.publish.max)} |`,
    `| **state published → command back** (e2e at the bridge) | ${f(s.latency.roundTrip.p50)} | ${f(s.latency.roundTrip.p90)} | ${f(s.latency.roundTrip.p99)} | ${f(s.latency.roundTrip.max)} |`,
    `| command back → applied (next tick) | ${f(s.latency.apply.p50)} | ${f(s.latency.apply.p90)} | ${f(s.latency.apply.p99)} | ${f(s.latency.apply.max)} |`,
    ...(rt.node ? ['decode', 'assemble', 'infer', 'encode', 'send', 'e2e'].map((k) => `| serve: ${k} | ${f(rt.node[`${k}_p50_ms`])} | | ${f(rt.node[`${k}_p99_ms`])} | ${f(rt.node[`${k}_max_ms`])} |`) : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (argv.includes('--inside')) await inside();
else await main();
