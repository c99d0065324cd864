// DDS transport benchmark: one-way latency (p50/p99/max) and sustained rate of reliable small messages for
// onestep ↔ Cyclone DDS, onestep ↔ Fast DDS, and the C/C++ floors Cyclone ↔ Cyclone and Fast DDS ↔ Fast DDS,
// all measured in the same run on the same loopback.
//
//   node --import tsx bench/dds-latency.ts [--latency-count 3000] [--latency-rate 500] [--rounds 3] [--warmup-rounds 1]
//        [--burst-count 20000] [--json bench/out/dds-latency.json]
//
// Latency: sensor_msgs/JointState (6 joints, 350 B), reliable/volatile (the ROS default), at --latency-rate, in
// --rounds interleaved rounds (p50 and p99 are medians over rounds, max the largest) after --warmup-rounds
// uncounted ones; pinning the whole run to one CPU (`taskset -c 0 node …`) gives every pair the same placement,
// where otherwise the scheduler's choice of one CPU or two moves even Cyclone → Cyclone between ~37 and ~90 µs here;
// the writer stamps header.stamp with CLOCK_MONOTONIC right before encoding and the reader subtracts it after
// decoding, so each figure covers encode + send + loopback + receive + decode.
// Rate: std_msgs/String (~10 B), reliable, 10,000 messages at 5 kHz with keep-last 100 and 1000; then the writer
// sends --burst-count messages as fast as it can (keep-last as deep as the burst, so reliable delivery has no
// excuse to drop one), and the reader's receive rate and the loss are reported.
//
// Runs itself inside a private network namespace (unshare -n, lo with multicast): no packet leaves the machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { peersDir, runInNetns } from '../test/helpers/netns.ts';
import { type Scenario, type ScenarioResult, type Side, runScenario } from '../test/peers/scenario.ts';
import { median } from '../src/core/latency.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const latencyCount = Number(opt('latency-count', '3000'));
const latencyRate = Number(opt('latency-rate', '500'));
const burstCount = Number(opt('burst-count', '20000'));
const jsonOut = opt('json', 'bench/out/dds-latency.json');

if (process.env.ONESTEP_NETNS_MULTICAST === undefined) {
  peersDir(); // build outside, so the namespace run only measures
  const r = await runInNetns(['node', '--import', 'tsx', 'bench/dds-latency.ts', ...argv], { timeoutMs: 20 * 60_000 });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exit(r.code ?? 1);
}

const ALL_PAIRS: [Side, Side][] = [
  ['cyclone', 'cyclone'],
  ['onestep', 'cyclone'],
  ['cyclone', 'onestep'],
  ['fastdds', 'fastdds'],
  ['onestep', 'fastdds'],
  ['fastdds', 'onestep'],
];
// --pairs cyclone>cyclone,onestep>cyclone: a subset (e.g. to iterate on one path); --latency-only skips the rate runs
const pairs: [Side, Side][] = opt('pairs', '') === '' ? ALL_PAIRS : opt('pairs', '').split(',').map((p) => p.split('>') as [Side, Side]);
const latencyOnly = argv.includes('--latency-only');

interface Row {
  writer: Side;
  reader: Side;
  latency: ScenarioResult;
  at5k: ScenarioResult;
  at5kDeep: ScenarioResult;
  burst: ScenarioResult;
}

let topic = 0;
async function run(s: Omit<Scenario, 'topic'>): Promise<ScenarioResult> {
  const r = await runScenario({ topic: `/bench_${topic++}`, quiet: true, timeoutMs: 30_000, ...s });
  if (!r.ok) process.stderr.write(`${s.writer} → ${s.reader}: ${r.error}\n${r.peerLog}\n`);
  return r;
}

// latency in interleaved rounds, so a burst of load from elsewhere on the machine hits every pair alike;
// each figure is the median over rounds
const rounds = Number(opt('rounds', '3'));
// warm-up: whole rounds of every pair run first and are not counted. onestep's writer and reader are JavaScript that
// V8 compiles while they run, and the first few thousand messages of a process pay for it (e.g. 70 µs in the first
// round against 44 µs in the fifth, writer side); the C and C++ peers have nothing to warm, and run the round too.
const warmupRounds = Number(opt('warmup-rounds', '1'));
const perRound = new Map<string, ScenarioResult[]>();
for (let round = -warmupRounds; round < rounds; round++) {
  for (const [writer, reader] of pairs) {
    const r = await run({ writer, reader, type: 'JointState', count: Math.ceil(latencyCount / rounds), rate: latencyRate, depth: 100 });
    if (round < 0) continue;
    const key = `${writer}>${reader}`;
    perRound.set(key, [...(perRound.get(key) ?? []), r]);
  }
}
function medianLatency(results: ScenarioResult[]): ScenarioResult {
  const ok = results.filter((r) => r.latencyUs);
  const merged: ScenarioResult = { ...results[0], received: results.reduce((a, r) => a + r.received, 0) };
  if (ok.length) {
    merged.latencyUs = {
      p50: median(ok.map((r) => r.latencyUs!.p50)),
      p99: median(ok.map((r) => r.latencyUs!.p99)),
      max: Math.max(...ok.map((r) => r.latencyUs!.max)),
    };
  }
  return merged;
}

const rows: Row[] = [];
for (const [writer, reader] of pairs) {
  const latency = medianLatency(perRound.get(`${writer}>${reader}`)!);
  if (latencyOnly) {
    const l = latency.latencyUs;
    process.stderr.write(`${writer} → ${reader}: p50 ${l?.p50.toFixed(0)} µs, p99 ${l?.p99.toFixed(0)} µs (rounds: ${perRound.get(`${writer}>${reader}`)!.map((r) => r.latencyUs?.p50.toFixed(0)).join(', ')})
`);
    rows.push({ writer, reader, latency, at5k: latency, at5kDeep: latency, burst: latency });
    continue;
  }
  const at5k = await run({ writer, reader, type: 'String', count: 10_000, rate: 5000, depth: 100, timeoutMs: 15_000 });
  // a reader history of 200 ms at 5 kHz absorbs a scheduling hiccup of either process
  const at5kDeep = await run({ writer, reader, type: 'String', count: 10_000, rate: 5000, depth: 1000, timeoutMs: 15_000 });
  // keep-last as deep as the burst: reliable delivery may then never drop a sample, whatever the pace
  const burst = await run({ writer, reader, type: 'String', count: burstCount, rate: 0, depth: burstCount, timeoutMs: 20_000 });
  rows.push({ writer, reader, latency, at5k, at5kDeep, burst });
  const l = latency.latencyUs;
  process.stderr.write(
    `${writer} → ${reader}: p50 ${l?.p50.toFixed(0)} µs, p99 ${l?.p99.toFixed(0)} µs; 5 kHz ${at5k.unique}/10000 (depth 100), ` +
      `${at5kDeep.unique}/10000 (depth 1000); ` +
      `burst ${burst.unique}/${burstCount} at ${burst.rateHz?.toFixed(0)} Hz\n`,
  );
}

const floor = (vendor: Side) => rows.find((r) => r.writer === vendor && r.reader === vendor)?.latency.latencyUs?.p50 ?? NaN;
const received = (r: ScenarioResult) => (r.unique === 10_000 && r.bad === 0 ? '10000 (all)' : `${r.unique}`);
const fmt = (x: number | undefined, digits = 0) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));
const lines = [
  `| writer → reader | one-way p50 (µs) | p99 (µs) | max (µs) | p50 / floor | 5 kHz, keep-last 100 | 5 kHz, keep-last 1000 | burst: received / ${burstCount} | burst receive rate (msg/s) |`,
  '|---|---|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const vendor = r.writer === 'onestep' ? r.reader : r.writer;
  const l = r.latency.latencyUs;
  const ratio = l ? l.p50 / floor(vendor) : NaN;
  lines.push(
    `| ${r.writer} → ${r.reader} | ${fmt(l?.p50)} | ${fmt(l?.p99)} | ${fmt(l?.max)} | ${fmt(ratio, 2)}× | ` +
      `${received(r.at5k)} | ${received(r.at5kDeep)} | ${r.burst.unique} | ${fmt(r.burst.rateHz)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
mkdirSync(dirname(jsonOut), { recursive: true });
writeFileSync(jsonOut, JSON.stringify({ latencyCount, latencyRate, burstCount, rows }, null, 2));
process.exit(0);
