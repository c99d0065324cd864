// Policy node latency: observation received → action sent, per stage (decode, assemble, infer, encode, send), and
// the peer-to-peer round trip seen by a Cyclone DDS robot (JointState out → command back), at several rates, with
// drops; the same round trip through a C echo node (Cyclone, no policy) is the DDS floor measured in the same run.
// Optionally a soak: RSS of the node process sampled over N minutes at --soak-rate Hz (500 by default).
//
//   node --import tsx bench/serve-latency.ts [--rates 100,500,1000] [--seconds 60] [--soak-minutes 10] [--soak-rate 500]
//        [--model models/untrained-arm_reach/policy.onnx] [--json bench/out/serve-latency.json]
//        [--profiler-rounds 3] [--rounds 1] [--warmup-seconds 1]
//
// Also measured in the same run: the raw ONNX Runtime run of the same model (sync binding), so the robot round
// trip can be set against "C echo round trip + forward pass" — back to back (the goal's reference) and, to show what
// the node's forward pass meets, once per period at each rate with a sleep before every run (cache-cold on shared
// cores, as between two observations); and, with --profiler-rounds N, the overhead of
// `onestep profile` on the loop it measures: N interleaved pairs of runs at the first rate, without and with the
// node's per-pass timings on and `onestep profile --tap` watching (its own process), compared on the robot's
// round trip.
//
// Round trips of the first --warmup-seconds of every run are not counted (the node's and the C echo's alike): the
// node is JavaScript that V8 compiles while it runs. The node's own stage timings are not cut.
// With --rounds N (N > 1), each rate runs N interleaved rounds of (C echo, node, ORT once per period), and the
// round-trip ratios are reported per round and as the median of the rounds: the C echo's own p50 moves between
// runs by more than the effects measured here, so one pair of runs is not enough to call a ratio.
//
// Runs itself inside a private network namespace (unshare -n, lo with multicast): no packet leaves the machine.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PolicyRuntime } from '../src/runtime/policy-runtime.ts';
import { PolicySession, float32Tensor } from '../src/runtime/ort-session.ts';
import type { ParameterValue } from '../src/ros/node/ros-args.ts';
import { cycloneConfig } from '../test/helpers/netns.ts';
import { robotPeer, runServeScenario, type ServeScenarioResult } from '../test/peers/serve-scenario.ts';
import { median, percentile } from '../src/core/latency.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const rates = opt('rates', '100,500,1000').split(',').filter((x) => x !== '' && x !== 'none').map(Number);
const seconds = Number(opt('seconds', '60'));
const soakMinutes = Number(opt('soak-minutes', '0'));
const soakRate = Number(opt('soak-rate', '500'));
const model = opt('model', 'models/untrained-arm_reach/policy.onnx');
const jsonOut = opt('json', 'bench/out/serve-latency.json');
const profilerRounds = Number(opt('profiler-rounds', '0'));
const rounds = Number(opt('rounds', '1'));
const warmupSeconds = Number(opt('warmup-seconds', '1'));
if (!(warmupSeconds >= 0) || warmupSeconds >= seconds) throw new Error(`--warmup-seconds must be at least 0 and less than --seconds (got ${opt('warmup-seconds', '1')})`);
/** Observations at the start of a run at `rate` whose round trips are warm-up (not counted). */
const warmupObservations = (rate: number) => Math.round(rate * warmupSeconds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer (got ${opt('rounds', '1')})`);

interface Stats { p50: number; p99: number; max: number; n: number }
function stats(xs: number[]): Stats {
  if (xs.length === 0) return { p50: NaN, p99: NaN, max: NaN, n: 0 };
  const s = Float64Array.from(xs).sort();
  return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s[s.length - 1], n: s.length };
}


/**
 * Round trips: the k-th command answers the oldest observation not yet answered that was written before it
 * arrived (the node acts once per observation, in order). A lost observation makes the next command count
 * against an earlier write, so losses can only overstate the round trip.
 */
function roundTrips(sent: { i: number; t: number }[], commands: { t: number; v: number[] }[], skip = 0): { rtt: number[]; answered: number } {
  const rtt: number[] = [];
  let next = 0;
  for (const c of commands) {
    if (next >= sent.length || sent[next].t > c.t) continue; // a command with no observation before it (safe action)
    if (next >= skip) rtt.push((c.t - sent[next].t) / 1e6); // the first `skip` observations are warm-up
    next++;
  }
  return { rtt, answered: next };
}

async function runEcho(rate: number, count: number, domain: number): Promise<{ rtt: Stats; drops: number; late: number }> {
  const peer = robotPeer();
  const topics = ['--domain', String(domain), '--js-topic', 'rt/joint_states', '--cmd-topic', 'rt/arm_controller/commands'];
  const echo = spawn(peer, ['--echo', ...topics], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => echo.stdout.once('data', () => resolve()));
  const robot = spawn(peer, ['--count', String(count), '--rate', String(rate), '--linger-ms', '500', ...topics], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  robot.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve) => robot.on('close', resolve));
  echo.kill('SIGTERM');
  if (code !== 0) throw new Error(`robot peer exited with ${code}`);
  const sent: { i: number; t: number }[] = [];
  const commands: { t: number; v: number[] }[] = [];
  let late = 0;
  for (const line of out.split('\n')) {
    const p = line.split(' ');
    if (p[0] === 'SENT') sent.push({ i: Number(p[1]), t: Number(p[2]) });
    else if (p[0] === 'CMD') commands.push({ t: Number(p[1]), v: p.slice(2).map(Number) });
    else if (p[0] === 'DONE') late = Number(line.match(/late_max_us=(\d+)/)?.[1] ?? 0);
  }
  const { rtt, answered } = roundTrips(sent, commands, warmupObservations(rate));
  return { rtt: stats(rtt), drops: count - answered, late };
}

/**
 * The raw synchronous ONNX Runtime run (inputs pre-filled, as the back-to-back reference runs it), `n` times with a
 * sleep of at least one period at `rateHz` (setTimeout) before each: what the forward pass costs when it runs once
 * per control period, the code and weights having gone cold in between. Measured after the node's runs, not
 * interleaved with them. p50 in ms.
 */
async function ortRunAtRate(model: string, sizes: { obs: number; noise: number; action: number }, rateHz: number, n: number): Promise<number> {
  const session = await PolicySession.open(readFileSync(model));
  try {
    const feeds = { obs: float32Tensor([1, sizes.obs]), noise: float32Tensor([1, sizes.noise]) };
    const fetches = { action: float32Tensor([1, sizes.action]) };
    for (let i = 0; i < 200; i++) session.runSync(feeds, fetches);
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000 / rateHz));
      const t0 = performance.now();
      session.runSync(feeds, fetches);
      ms.push(performance.now() - t0);
    }
    return stats(ms).p50;
  } finally {
    session.dispose();
  }
}

async function main(): Promise<void> {
  // fails early, with the runtime's one-line message, on a missing or bad model
  const direct = await PolicyRuntime.load(model, { deterministic: true });
  const sizes = { obs: direct.observationSize, noise: direct.noiseSize, action: direct.actionSize };
  const every = 10; // task values (tool tip, target, tip-to-target vector and distance) at 1/10 of the joint-state rate
  const params: [string, ParameterValue][] = [
    ['observation.sources', ['joint_states', 'task', 'command']],
    ['observation.joint_states.topic', '/joint_states'],
    ['observation.task.topic', '/task_state'],
    ['observation.task.type', 'std_msgs/msg/Float64MultiArray'],
    ['observation.task.names', ['ee_x', 'ee_y', 'ee_z', 'target_x', 'target_y', 'target_z', 'ee_to_target_x', 'ee_to_target_y', 'ee_to_target_z', 'ee_to_target_distance']],
    ['observation.command.kind', 'last_command'],
    ['action.topic', '/arm_controller/commands'],
    ['deterministic', true],
    ['watch_model', false],
    ['diagnostics.rate_hz', 0],
    ['safety.watchdog_ms', 100],
    ['deadline_ms', 1], // e2e over 1 ms counts as a deadline miss
  ];
  const rows: Record<string, unknown>[] = [];
  let domain = 40;
  const perRound: { rate_hz: number; round: number; rtt_p50_ms: number; echo_p50_ms: number; ort_at_rate_p50_ms: number; ratio?: number; ratio_at_rate?: number }[] = [];
  for (const rate of rates) {
    const count = Math.round(rate * seconds);
    let ref!: Awaited<ReturnType<typeof runEcho>>;
    let r!: ServeScenarioResult;
    let trips!: ReturnType<typeof roundTrips>;
    let firstOrtAtRate: number | undefined; // round 1's, with --rounds N > 1: the main table is round 1's
    for (let k = 0; k < rounds; k++) {
      const of = rounds > 1 ? `, round ${k + 1}/${rounds}` : '';
      process.stderr.write(`serve-latency: ${rate} Hz × ${seconds} s${of}: C echo reference …\n`);
      const refK = await runEcho(rate, count, domain++);
      process.stderr.write(`serve-latency: ${rate} Hz × ${seconds} s${of}: onestep serve node …\n`);
      const rK: ServeScenarioResult = await runServeScenario({
        model, params, count, rate, domain: domain++, lingerMs: 500, latencyCapacity: count + 1000,
        extra: { topic: '/task_state', size: 10, every },
      });
      if (!rK.ok) throw new Error(rK.error);
      const tripsK = roundTrips(rK.sent, rK.commands, warmupObservations(rate));
      if (k === 0) [ref, r, trips] = [refK, rK, tripsK]; // the first round's full tables; later rounds add their p50s
      if (rounds > 1) {
        const ortAtRate = await ortRunAtRate(model, sizes, rate, Math.min(3000, rate * 3));
        if (k === 0) firstOrtAtRate = ortAtRate;
        perRound.push({ rate_hz: rate, round: k + 1, rtt_p50_ms: stats(tripsK.rtt).p50, echo_p50_ms: refK.rtt.p50, ort_at_rate_p50_ms: ortAtRate });
      }
    }
    const { rtt, answered } = trips;
    const rttStats = stats(rtt);
    const row = {
      rate_hz: rate, seconds, warmup_seconds: warmupSeconds, sent: count,
      node_received: r.counters.observationsReceived, node_dropped: r.counters.observationsDropped,
      actions: r.counters.actionsPublished, commands_at_robot: r.commands.length, answered,
      drops: count - Math.min(answered, r.commands.length), deadline_misses: r.counters.deadlineMisses,
      stages_ms: r.latency, rtt_ms: rttStats, reference_rtt_ms: ref.rtt, reference_drops: ref.drops,
      rtt_p50_ratio_vs_c_echo: rttStats.p50 / ref.rtt.p50,
      loop_delay_ms: r.loopDelayMs, schedule_late_max_us: r.summary.late_max_us,
      ort_run_at_rate_p50_ms: firstOrtAtRate,
    };
    rows.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }

  let soak: Record<string, unknown> | undefined;
  if (soakMinutes > 0) {
    const rate = soakRate;
    process.stderr.write(`serve-latency: soak ${soakMinutes} min at ${rate} Hz …\n`);
    const r = await runServeScenario({
      model, params, count: Math.round(rate * 60 * soakMinutes), rate, domain: domain++, quiet: true, rssEveryMs: 5000,
      latencyCapacity: 4096, extra: { topic: '/task_state', size: 10, every },
    });
    if (!r.ok) throw new Error(r.error);
    const mb = (b: number) => b / 2 ** 20;
    const afterWarmup = r.rss.find((s) => s.t - r.rss[0].t >= 60_000) ?? r.rss[0];
    const last = r.rss[r.rss.length - 1];
    soak = {
      minutes: soakMinutes, rate_hz: rate, sent: r.summary.sent, commands_at_robot: r.summary.cmds,
      actions: r.counters.actionsPublished, node_dropped: r.counters.observationsDropped,
      // commands at the robot beyond the actions: the safe action (hold) of each stale-watchdog event, and at shutdown
      safe_actions: r.counters.safeActionsPublished, stale_events: r.counters.staleEvents, deadline_misses: r.counters.deadlineMisses,
      rss_first_mb: mb(r.rss[0].rss), rss_after_1min_mb: mb(afterWarmup.rss), rss_last_mb: mb(last.rss),
      rss_max_mb: mb(Math.max(...r.rss.map((s) => s.rss))),
      rss_growth_after_warmup_mb: mb(last.rss - afterWarmup.rss), samples: r.rss.length,
      // RSS every tenth of the soak (a slow leak shows as a trend, start-up settling does not)
      rss_by_tenth_mb: Array.from({ length: 11 }, (_, k) => mb(r.rss[Math.min(r.rss.length - 1, Math.round((k * (r.rss.length - 1)) / 10))].rss)),
    };
    process.stderr.write(`${JSON.stringify(soak)}\n`);
  }
  direct.close();

  // the forward pass alone, as ONNX Runtime runs it (sync binding, inputs pre-filled): the round-trip reference
  const { runLatencyBench } = await import('../src/runtime/bench.ts');
  const ort = await runLatencyBench({ model, n: 5000, seed: 0, flowSteps: 0, warmup: 200, rounds: 5 });
  const rawRun = ort.cases.find((c) => c.key === 'run') ?? ort.cases.find((c) => c.key === 'act')!;
  const ortP50Ms = rawRun.summary.p50 / 1000;
  for (const row of rows as any[]) {
    row.ort_run_p50_ms = ortP50Ms;
    row.rtt_p50_ratio_vs_echo_plus_ort = row.rtt_ms.p50 / (row.reference_rtt_ms.p50 + ortP50Ms);
    // measured here unless the interleaved rounds measured it already, beside round 1
    row.ort_run_at_rate_p50_ms ??= await ortRunAtRate(model, sizes, row.rate_hz, Math.min(3000, row.rate_hz * 3));
    row.rtt_p50_ratio_vs_echo_plus_ort_at_rate = row.rtt_ms.p50 / (row.reference_rtt_ms.p50 + row.ort_run_at_rate_p50_ms);
  }

  // profiler overhead: pairs of runs without / with the timings and a tapping profiler, interleaved
  let overhead: Record<string, unknown> | undefined;
  if (profilerRounds > 0 && rates.length > 0) {
    const rate = rates[0];
    const count = Math.round(rate * seconds);
    const without: number[] = [];
    const withProfiler: number[] = [];
    const profiled: number[] = [];
    for (let k = 0; k < profilerRounds; k++) {
      for (const on of [false, true]) {
        const d = domain++;
        process.stderr.write(`serve-latency: profiler overhead, round ${k + 1}/${profilerRounds}, ${on ? 'with' : 'without'} the profiler …\n`);
        // the profiler starts (a Node process loading and compiling its modules: seconds of CPU) before the loop, and
        // the loop starts once it waits for the node, so what is measured is the profiler running, not starting
        const profiler = on ? startProfiler(d, seconds + 4) : null;
        if (profiler) await profiler.listening;
        const r = await runServeScenario({
          model, params: [...params, ['diagnostics.timings', on]], count, rate, domain: d, lingerMs: 500, latencyCapacity: count + 1000,
          extra: { topic: '/task_state', size: 10, every },
        });
        if (!r.ok) throw new Error(r.error);
        const p50 = stats(roundTrips(r.sent, r.commands, warmupObservations(rate)).rtt).p50;
        (on ? withProfiler : without).push(p50);
        if (profiler) {
          const report = await profiler.report;
          if (report) profiled.push(report.e2e?.p50 / 1000);
        }
      }
    }
    overhead = {
      rate_hz: rate, rounds: profilerRounds, rtt_p50_ms_without: without, rtt_p50_ms_with: withProfiler,
      profiler_e2e_p50_ms: profiled, overhead_p50: median(withProfiler) / median(without) - 1,
    };
    process.stderr.write(`${JSON.stringify(overhead)}\n`);
  }

  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
  const lines = [
    '| rate | stage | p50 ms | p99 ms | max ms |',
    '|---|---|---|---|---|',
  ];
  for (const row of rows as any[]) {
    for (const stage of ['decode', 'assemble', 'infer', 'postprocess', 'encode', 'send', 'e2e']) {
      const s = row.stages_ms[stage];
      lines.push(`| ${row.rate_hz} Hz | ${stage === 'e2e' ? '**node e2e** (received → sent)' : stage} | ${f(s.p50)} | ${f(s.p99)} | ${f(s.max)} |`);
    }
    lines.push(`| ${row.rate_hz} Hz | **robot round trip** (JointState written → command received) | ${f(row.rtt_ms.p50)} | ${f(row.rtt_ms.p99)} | ${f(row.rtt_ms.max)} |`);
    lines.push(`| ${row.rate_hz} Hz | reference: C echo node round trip (Cyclone, no policy) | ${f(row.reference_rtt_ms.p50)} | ${f(row.reference_rtt_ms.p99)} | ${f(row.reference_rtt_ms.max)} |`);
  }
  lines.push('', '| rate | sent | answered | drops | node dropped | e2e > 1 ms | RTT p50 / C echo p50 |', '|---|---|---|---|---|---|---|');
  for (const row of rows as any[]) {
    lines.push(`| ${row.rate_hz} Hz | ${row.sent} | ${row.answered} | ${row.drops} | ${row.node_dropped} | ${row.deadline_misses} | ${row.rtt_p50_ratio_vs_c_echo.toFixed(2)}× |`);
  }
  lines.push(
    '', `raw ONNX Runtime run of the model (sync binding): p50 ${ortP50Ms.toFixed(3)} ms back to back`,
    '| rate | RTT p50 | C echo p50 + ORT p50 | ratio | ORT p50, one run per period | RTT / (C echo + that) |', '|---|---|---|---|---|---|',
  );
  for (const row of rows as any[]) {
    lines.push(`| ${row.rate_hz} Hz | ${f(row.rtt_ms.p50)} | ${f(row.reference_rtt_ms.p50 + ortP50Ms)} | ${row.rtt_p50_ratio_vs_echo_plus_ort.toFixed(2)}× | ${f(row.ort_run_at_rate_p50_ms)} | ${row.rtt_p50_ratio_vs_echo_plus_ort_at_rate.toFixed(2)}× |`);
  }
  if (perRound.length > 0) {
    lines.push('', `interleaved rounds (ms; back-to-back ORT p50 ${ortP50Ms.toFixed(3)} ms):`,
      '| rate | round | RTT p50 | C echo p50 | ORT p50, one run per period | RTT / (C echo + back-to-back ORT) | RTT / (C echo + ORT once per period) |',
      '|---|---|---|---|---|---|---|');
    for (const q of perRound) {
      q.ratio = q.rtt_p50_ms / (q.echo_p50_ms + ortP50Ms);
      q.ratio_at_rate = q.rtt_p50_ms / (q.echo_p50_ms + q.ort_at_rate_p50_ms);
      lines.push(`| ${q.rate_hz} Hz | ${q.round} | ${f(q.rtt_p50_ms)} | ${f(q.echo_p50_ms)} | ${f(q.ort_at_rate_p50_ms)} | ${q.ratio.toFixed(2)}× | ${q.ratio_at_rate.toFixed(2)}× |`);
    }
    for (const rate of rates) {
      const qs = perRound.filter((q) => q.rate_hz === rate);
      lines.push(`| ${rate} Hz | **median** | ${f(median(qs.map((q) => q.rtt_p50_ms)))} | ${f(median(qs.map((q) => q.echo_p50_ms)))} | ${f(median(qs.map((q) => q.ort_at_rate_p50_ms)))} | **${median(qs.map((q) => q.ratio!)).toFixed(2)}×** | **${median(qs.map((q) => q.ratio_at_rate!)).toFixed(2)}×** |`);
    }
  }
  if (overhead) lines.push('', `profiler overhead at ${overhead.rate_hz} Hz (robot RTT p50, median of ${overhead.rounds} interleaved pairs): ${(100 * (overhead.overhead_p50 as number)).toFixed(1)} %`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (soak) process.stdout.write(`\nsoak: ${JSON.stringify(soak)}\n`);
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(jsonOut, JSON.stringify({ model, rates: rows, rounds: perRound, soak, ort_run_p50_ms: ortP50Ms, profiler_overhead: overhead }, null, 2));
  process.stderr.write(`serve-latency: wrote ${jsonOut}\n`);
}

/**
 * `onestep profile --tap` on the benchmark's topics, in its own process: `listening` once it is loaded and waits
 * for the node (it prints "waiting … for /policy_node/timings"), `report` its JSON report when it is done.
 */
function startProfiler(domain: number, durationS: number): { listening: Promise<void>; report: Promise<Record<string, any> | null> } {
  const out = `bench/out/profile-overhead-${domain}.json`;
  const child = spawn(process.execPath, [
    ...process.execArgv, 'src/cli/main.ts', 'profile', '--tap', '--domain-id', String(domain), '--node', '/policy_node',
    '--observation-topic', '/joint_states', '--command-topic', '/arm_controller/commands', '--duration', String(durationS), '--warmup', '1',
    '--json', out,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const listening = new Promise<void>((resolve) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (/profile: waiting/.test(stderr)) resolve();
    });
    child.on('close', () => resolve());
  });
  const report = new Promise<Record<string, any> | null>((resolve) => child.on('close', (code) => {
    if (code !== 0) process.stderr.write(stderr);
    try {
      resolve(code === 0 ? JSON.parse(readFileSync(out, 'utf8')) : null);
    } catch {
      resolve(null);
    }
  }));
  return { listening, report };
}

if (process.env.ONESTEP_NETNS_MULTICAST === undefined) {
  // re-run inside a private network namespace
  const child = spawn(
    'unshare',
    ['-n', 'sh', '-c', 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec "$@"', 'sh', process.execPath, ...process.execArgv, process.argv[1], ...argv],
    { stdio: 'inherit', env: { ...process.env, ONESTEP_NETNS_MULTICAST: '1', CYCLONEDDS_URI: cycloneConfig(true), ROS_DOMAIN_ID: undefined } },
  );
  child.on('close', (code) => process.exit(code ?? 1));
} else {
  await main();
}
