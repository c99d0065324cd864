// Reliability under hostile input, as a benchmark (too long for CI; the tests run 100,000 packets):
//  1. RTPS: N mutated packets (default 10⁶) through a participant's whole receive path — the packets a Cyclone-like
//     peer sends to announce itself and publish (SPDP, SEDP, DATA, DATA_FRAG, HEARTBEAT(_FRAG), GAP, ACKNACK,
//     NACK_FRAG), 1–4 mutations each (test/helpers/rtps-fuzz.ts). A crash is any exception out of receive().
//  2. CDR: M mutants (default 10⁵) of valid samples of every message type a onestep policy node decodes (its six
//     observation types, /clock, the ~/reload topic, and the requests of its services: ~/reload, ~/enable,
//     ~/disable and the six parameter services). A crash is any exception other than CdrDecodeError (the typed error
//     the transport reports and drops).
// Memory: RSS and V8 heap sampled as the run goes; "bounded" = the growth after the first tenth stays small.
// Afterwards the participant must still discover a peer and deliver its sample.
//
//   node --import tsx bench/reliability-fuzz.ts [--packets 1000000] [--mutants 100000] [--json bench/out/reliability-fuzz.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CdrDecodeError } from '../src/ros/msgs/cdr/plan.ts';
import { getMessageCodec, getServiceCodec, type MessageCodec } from '../src/ros/msgs/registry.ts';
import { OBSERVATION_TYPES } from '../src/ros/node/observation.ts';
import { buildSpdpDisposeMessage } from '../src/ros/rtps/discovery/spdp.ts';
import { REMOTE, fuzzRandom, fuzzTarget, mutate, peerPackets } from '../test/helpers/rtps-fuzz.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const PACKETS = Number(opt('packets', '1000000'));
const MUTANTS = Number(opt('mutants', '100000'));
const jsonOut = opt('json', 'bench/out/reliability-fuzz.json');
const MB = 2 ** 20;

interface MemorySample { at: number; rssMB: number; heapMB: number }
const memory = (at: number): MemorySample => {
  const m = process.memoryUsage();
  return { at, rssMB: m.rss / MB, heapMB: m.heapUsed / MB };
};
/** Growth from the sample at 10 % of the run to the end, and the peak: a leak shows as growth after warm-up. */
function memorySummary(samples: MemorySample[]) {
  const warm = samples[Math.max(1, Math.floor(samples.length / 10))] ?? samples[0];
  const last = samples[samples.length - 1];
  return {
    rss_start_mb: +samples[0].rssMB.toFixed(1),
    rss_after_warmup_mb: +warm.rssMB.toFixed(1),
    rss_end_mb: +last.rssMB.toFixed(1),
    rss_max_mb: +Math.max(...samples.map((s) => s.rssMB)).toFixed(1),
    heap_after_warmup_mb: +warm.heapMB.toFixed(1),
    heap_end_mb: +last.heapMB.toFixed(1),
    rss_growth_after_warmup_mb: +(last.rssMB - warm.rssMB).toFixed(1),
  };
}

// ---------------------------------------------------------------------------------------------- 1. RTPS packets

async function fuzzRtps() {
  const { p, got, net } = await fuzzTarget(64);
  net.dropFilter = () => true; // what the participant answers goes nowhere: the receive path is under test
  const pk = peerPackets(7411);
  p.receive(pk.spdp);
  p.receive(pk.sedp);
  const corpus = Object.values(pk);
  const rand = fuzzRandom(20261207);
  const scratch = new Uint8Array(70000);
  const crashes: string[] = [];
  const samples: MemorySample[] = [memory(0)];
  let maxReassembly = 0;
  let maxParticipants = 0;
  const t0 = performance.now();
  for (let i = 0; i < PACKETS; i++) {
    const len = mutate(corpus, rand, scratch);
    try {
      p.receive(scratch.slice(0, len));
    } catch (err) {
      if (crashes.length < 5) crashes.push(`packet ${i}: ${(err as Error).stack?.split('\n').slice(0, 3).join(' | ')}`);
      else crashes.push('');
    }
    if (i % 2000 === 1999) {
      // a real socket delivers between event-loop turns: timers (heartbeats, leases) run now and then
      await new Promise((r) => setImmediate(r));
      maxReassembly = Math.max(maxReassembly, p.stats().reassemblyBytes);
      maxParticipants = Math.max(maxParticipants, p.remote.size);
    }
    if (i % 50_000 === 49_999) samples.push(memory(i + 1));
  }
  const seconds = (performance.now() - t0) / 1000;
  const stats = p.stats();
  // still working: the peer leaves (disposal) and comes back; its fresh conversation is delivered
  const before = got.length;
  p.receive(buildSpdpDisposeMessage(REMOTE, 99));
  p.receive(pk.spdp);
  p.receive(pk.sedp);
  p.receive(pk.data);
  const stillDelivers = got.length === before + 1;
  await p.close();
  return {
    packets: PACKETS,
    seconds: +seconds.toFixed(1),
    packets_per_s: Math.round(PACKETS / seconds),
    crashes: crashes.length,
    first_crashes: crashes.filter((c) => c !== ''),
    malformed: stats.malformed,
    unknown_submessages: stats.unknownSubmessages,
    max_reassembly_bytes: maxReassembly,
    reassembly_budget_bytes: 8 << 20,
    max_participants: maxParticipants,
    participant_cap: 64,
    still_delivers: stillDelivers,
    memory: memorySummary(samples),
  };
}

// ---------------------------------------------------------------------------------------------- 2. CDR samples

/** Every message type a policy node decodes off the wire. */
function acceptedTypes(): { name: string; codec: MessageCodec<Record<string, unknown>> }[] {
  const messages = [...OBSERVATION_TYPES, 'rosgraph_msgs/msg/Clock', 'std_msgs/msg/String'];
  const services = ['std_srvs/srv/Trigger', 'std_srvs/srv/SetBool', ...['GetParameters', 'SetParameters', 'SetParametersAtomically', 'ListParameters', 'DescribeParameters', 'GetParameterTypes'].map((s) => `rcl_interfaces/srv/${s}`)];
  return [
    ...messages.map((t) => ({ name: t, codec: getMessageCodec(t) })),
    ...services.map((t) => ({ name: `${t} request`, codec: getServiceCodec(t).request })),
  ];
}

/** A message with every field filled (strings, 3-element sequences, nested structs), from the type's definitions. */
function filledMessage(codec: MessageCodec<Record<string, unknown>>): Record<string, unknown> {
  const defs = new Map(codec.definitions.map((d) => [d.name, d]));
  const fill = (typeName: string | undefined, depth: number): Record<string, unknown> => {
    const def = typeName === undefined ? codec.definitions[0] : defs.get(typeName) ?? [...defs.values()].find((d) => d.name?.endsWith(`/${typeName.split('/').pop()}`));
    const out: Record<string, unknown> = {};
    if (!def || depth > 6) return out;
    for (const f of def.definitions) {
      if (f.isConstant) continue;
      const one = (): unknown => {
        if (f.isComplex) return fill(f.type, depth + 1);
        if (f.type === 'string' || f.type === 'wstring') return 'joint_a';
        if (f.type === 'bool') return true;
        if (f.type === 'int64' || f.type === 'uint64') return 3n;
        if (f.type === 'time' || f.type === 'duration') return { sec: 1, nanosec: 2 };
        return f.type.startsWith('float') ? 0.5 : 3;
      };
      if (!f.isArray) out[f.name] = one();
      else {
        const n = Math.min(f.arrayLength ?? 3, f.arrayUpperBound ?? 3, 3);
        const values = Array.from({ length: f.arrayLength ?? n }, one);
        out[f.name] = values;
      }
    }
    return out;
  };
  return fill(undefined, 0);
}

function fuzzCdr() {
  const rand = fuzzRandom(20261208);
  const scratch = new Uint8Array(70000);
  const rows: Record<string, unknown>[] = [];
  const samples: MemorySample[] = [memory(0)];
  let total = 0;
  const t0 = performance.now();
  for (const { name, codec } of acceptedTypes()) {
    const corpus: Uint8Array[] = [codec.encode(codec.create())];
    try {
      corpus.push(codec.encode(filledMessage(codec)));
    } catch (err) {
      process.stderr.write(`reliability-fuzz: ${name}: no filled sample (${(err as Error).message}); zeros only\n`);
    }
    // a big-endian copy of each: decoders must honour the encapsulation
    for (const c of [...corpus]) {
      const be = c.slice();
      be[1] = 0;
      corpus.push(be);
    }
    let decoded = 0;
    let refused = 0;
    const crashes: string[] = [];
    for (let i = 0; i < MUTANTS; i++) {
      const len = mutate(corpus, rand, scratch, 0);
      try {
        codec.decode(scratch.slice(0, len));
        decoded++;
      } catch (err) {
        if (err instanceof CdrDecodeError) refused++;
        else if (crashes.length < 3) crashes.push(`${(err as Error).name}: ${(err as Error).message}`);
        else crashes.push('');
      }
      total++;
      if (total % 100_000 === 0) samples.push(memory(total));
    }
    rows.push({ type: name, mutants: MUTANTS, decoded, refused_cdr_decode_error: refused, crashes: crashes.length, first_crashes: crashes.filter((c) => c !== '') });
  }
  const seconds = (performance.now() - t0) / 1000;
  return { types: rows.length, mutants: total, seconds: +seconds.toFixed(1), crashes: rows.reduce((s, r) => s + (r.crashes as number), 0), rows, memory: memorySummary(samples) };
}

const rtps = await fuzzRtps();
process.stderr.write(`${JSON.stringify({ rtps: { ...rtps, first_crashes: undefined } })}\n`);
const cdr = fuzzCdr();

const lines = [
  `RTPS: ${rtps.packets.toLocaleString('en')} mutated packets in ${rtps.seconds} s (${rtps.packets_per_s.toLocaleString('en')}/s): ${rtps.crashes} crashes, ` +
    `${rtps.malformed.toLocaleString('en')} dropped as malformed, reassembly ≤ ${(rtps.max_reassembly_bytes / 1024).toFixed(0)} KiB of the ${rtps.reassembly_budget_bytes / MB} MiB budget, ` +
    `participants ≤ ${rtps.max_participants} of ${rtps.participant_cap}; still delivers afterwards: ${rtps.still_delivers ? 'yes' : 'NO'}`,
  `  memory: RSS ${rtps.memory.rss_start_mb} → ${rtps.memory.rss_after_warmup_mb} MB after 10 % → ${rtps.memory.rss_end_mb} MB at the end (max ${rtps.memory.rss_max_mb}); heap ${rtps.memory.heap_after_warmup_mb} → ${rtps.memory.heap_end_mb} MB`,
  `CDR: ${cdr.mutants.toLocaleString('en')} mutants of ${cdr.types} message types in ${cdr.seconds} s: ${cdr.crashes} crashes`,
  ...cdr.rows.map((r) => `  ${String(r.type).padEnd(52)} decoded ${String(r.decoded).padStart(7)}  refused (CdrDecodeError) ${String(r.refused_cdr_decode_error).padStart(7)}  crashes ${r.crashes}${(r.first_crashes as string[]).length ? `: ${(r.first_crashes as string[]).join('; ')}` : ''}`),
  `  memory: RSS ${cdr.memory.rss_start_mb} → ${cdr.memory.rss_after_warmup_mb} MB after 10 % → ${cdr.memory.rss_end_mb} MB at the end (max ${cdr.memory.rss_max_mb}); heap ${cdr.memory.heap_after_warmup_mb} → ${cdr.memory.heap_end_mb} MB`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (rtps.first_crashes.length) process.stdout.write(`RTPS crashes: ${rtps.first_crashes.join('\n')}\n`);
mkdirSync(dirname(jsonOut), { recursive: true });
writeFileSync(jsonOut, JSON.stringify({ rtps, cdr, node: process.version, date: new Date().toISOString() }, null, 2));
process.exitCode = rtps.crashes + cdr.crashes > 0 || !rtps.still_delivers ? 1 : 0;
