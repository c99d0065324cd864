// Service round-trip benchmark: closed-loop std_srvs/SetBool calls (one in flight), client and server in separate
// processes, for every pairing of a onestep client or server with Cyclone DDS (rmw_cyclonedds's request header)
// and Fast DDS (rmw_fastrtps's sample identities), and the C/C++ floors Cyclone ↔ Cyclone and Fast DDS ↔ Fast DDS,
// all in the same run on the same loopback, in interleaved rounds (p50 and p99 are medians over rounds).
//
//   node --import tsx bench/service-latency.ts [--calls 2000] [--rounds 3] [--json bench/out/service-latency.json]
//
// Runs itself inside a private network namespace (unshare -n, lo with multicast): no packet leaves the machine.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { runInNetns } from '../test/helpers/netns.ts';
import { servicePeersDir } from '../test/peers/service-peers.ts';
import { median } from '../src/core/latency.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const calls = Number(opt('calls', '2000'));
const rounds = Number(opt('rounds', '3'));
const jsonOut = opt('json', 'bench/out/service-latency.json');
/** Calls made before measuring (discovery, first-touch allocations, JIT). */
const WARMUP = 50;

type Side = 'onestep' | 'cyclone' | 'fastdds';

// ---- the onestep server, as its own process --------------------------------------------------------------------
if (argv[0] === '--serve') {
  const { createTransport } = await import('../src/ros/index.ts');
  const transport = await createTransport({ kind: 'rtps', node: `bench_server_${process.pid}` });
  transport.createService<{ data: boolean }, { success: boolean; message: string }>(argv[1], 'std_srvs/srv/SetBool', (req) => ({ success: req.data, message: 'onestep' }));
  process.stdout.write('READY\n');
  process.stdin.resume();
  process.stdin.on('end', () => void transport.close().then(() => process.exit(0)));
} else if (process.env.ONESTEP_NETNS_MULTICAST === undefined) {
  servicePeersDir(); // build outside, so the namespace run only measures
  const r = await runInNetns(['node', '--import', 'tsx', 'bench/service-latency.ts', ...argv], { timeoutMs: 30 * 60_000 });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exit(r.code ?? 1);
} else {
  await main();
}

function percentile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.floor(q * (sorted.length - 1))] : NaN;
}

function waitLine(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`no ${re} within ${timeoutMs} ms`)), timeoutMs);
    child.stdout!.on('data', (d) => {
      buf += d;
      if (re.test(buf)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

async function startServer(side: Side, service: string): Promise<ChildProcess> {
  const child = side === 'onestep'
    ? spawn('node', ['--import', 'tsx', 'bench/service-latency.ts', '--serve', service], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(`${servicePeersDir()}/service_peer_${side}`, ['--role', 'server', '--type', 'SetBool', '--service', service, '--count', '0', '--timeout', '1800', '--quiet'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await waitLine(child, /READY/, 30_000);
  return child;
}

/** Round-trip times (µs) of `calls` measured calls after the warm-up. */
async function runClient(side: Side, service: string): Promise<number[]> {
  if (side === 'onestep') {
    const { createTransport } = await import('../src/ros/index.ts');
    const transport = await createTransport({ kind: 'rtps', node: `bench_client_${process.pid}` });
    try {
      const client = transport.createClient<{ data: boolean }, { success: boolean }>(service, 'std_srvs/srv/SetBool');
      if (!(await client.waitForService(20_000))) throw new Error(`no server of ${service}`);
      const rtt: number[] = [];
      for (let i = 0; i < WARMUP + calls; i++) {
        const t0 = performance.now();
        const r = await client.call({ data: i % 2 === 0 }, { timeoutMs: 5000 });
        const us = (performance.now() - t0) * 1000;
        if (r.success !== (i % 2 === 0)) throw new Error(`reply ${i} does not match its request`);
        if (i >= WARMUP) rtt.push(us);
      }
      return rtt;
    } finally {
      await transport.close();
    }
  }
  const child = spawn(`${servicePeersDir()}/service_peer_${side}`, [
    '--role', 'client', '--type', 'SetBool', '--service', service, '--count', String(WARMUP + calls), '--data', 'true', '--timeout', '600', '--call-timeout', '5',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`${side} client exited ${code}: ${out.slice(-500)}`);
  return out
    .split('\n')
    .filter((l) => l.startsWith('REPLY '))
    .map((l) => Number(l.split(' ')[2]))
    .slice(WARMUP);
}

async function main(): Promise<void> {
  const pairs: [Side, Side][] = [
    ['cyclone', 'cyclone'],
    ['cyclone', 'onestep'],
    ['onestep', 'cyclone'],
    ['fastdds', 'fastdds'],
    ['fastdds', 'onestep'],
    ['onestep', 'fastdds'],
    ['onestep', 'onestep'],
  ];
  const results = new Map<string, { p50: number; p99: number; max: number }[]>();
  let n = 0;
  for (let round = 0; round < rounds; round++) {
    for (const [client, server] of pairs) {
      const service = `/bench_${n++}`;
      const srv = await startServer(server, service);
      try {
        const rtt = (await runClient(client, service)).sort((a, b) => a - b);
        const key = `${client}>${server}`;
        results.set(key, [...(results.get(key) ?? []), { p50: percentile(rtt, 0.5), p99: percentile(rtt, 0.99), max: rtt[rtt.length - 1] }]);
        process.stderr.write(`round ${round + 1}: ${client} → ${server}: p50 ${percentile(rtt, 0.5).toFixed(0)} µs, p99 ${percentile(rtt, 0.99).toFixed(0)} µs (${rtt.length} calls)\n`);
      } finally {
        srv.stdin!.end();
        srv.kill('SIGTERM');
        await new Promise((r) => srv.on('close', r));
      }
    }
  }
  const rows = pairs.map(([client, server]) => {
    const rs = results.get(`${client}>${server}`)!;
    return { client, server, p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), max: Math.max(...rs.map((r) => r.max)) };
  });
  const floor = (vendor: Side) => rows.find((r) => r.client === vendor && r.server === vendor)!;
  const lines = ['| client → server | round trip p50 (µs) | p99 (µs) | max (µs) | p50 / floor | p99 / floor |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const vendor = r.client === 'onestep' ? (r.server === 'onestep' ? 'cyclone' : r.server) : r.client;
    const f = floor(vendor);
    const label = r.client === r.server && r.client !== 'onestep' ? `${r.client} → ${r.server} (floor)` : `${r.client} → ${r.server}`;
    lines.push(`| ${label} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.max.toFixed(0)} | ${(r.p50 / f.p50).toFixed(2)}× | ${(r.p99 / f.p99).toFixed(2)}× |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(jsonOut, JSON.stringify({ calls, rounds, warmup: WARMUP, rows, perRound: Object.fromEntries(results) }, null, 2));
  process.exit(0);
}
