// Where a writer's one-way latency goes, seen from the kernel: runs bench/dds-latency.ts (Cyclone → Cyclone and
// onestep → Cyclone, one counted round after one warm-up round, the whole run pinned to CPU 0) under ftrace, and
// for every JointState datagram the writer sends reports, per writer run:
//   to send:  from the writer thread being switched in (woken by its timer) to entering sendto/sendmsg — the
//             stamp is taken inside this span, so only its tail (encode, RTPS framing, the call into the kernel) is
//             latency; the rest is waking up and building the message
//   send:     the syscall itself (loopback delivery and the reader's wake-up included)
//   tail:     from the syscall's return to the writer thread leaving the CPU. When it goes to sleep, the woken reader
//             has waited for it on the one CPU, so the span is in the measured latency as well; when the reader
//             preempts it (counted apart), the rest of the writer's work waits instead
// Needs root (tracefs); traces context switches and the send syscalls; dds-latency runs in a private network namespace.
//
//   node --import tsx bench/writer-trace.ts [--latency-count 3000] [--latency-rate 1000] [--keep trace.txt]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { median } from '../src/core/latency.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const count = opt('latency-count', '3000');
const rate = opt('latency-rate', '1000');
const keep = opt('keep', '');

const T = '/sys/kernel/tracing';
if (!existsSync(`${T}/trace`)) {
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', T]);
  } catch (e) {
    throw new Error(`writer-trace needs tracefs at ${T} (root, and a kernel with ftrace): ${(e as Error).message.split('\n')[0]}`);
  }
}
const put = (file: string, value: string) => writeFileSync(`${T}/${file}`, value);
const EVENTS = [
  'syscalls:sys_enter_sendto', 'syscalls:sys_exit_sendto', 'syscalls:sys_enter_sendmsg', 'syscalls:sys_exit_sendmsg',
  'sched:sched_switch',
];
put('tracing_on', '0');
put('trace', '');
put('buffer_size_kb', '65536');
put('set_event', EVENTS.join('\n') + '\n');
put('trace_clock', 'mono');
put('tracing_on', '1');
const run = spawnSync('taskset', ['-c', '0', process.execPath, '--import', 'tsx', 'bench/dds-latency.ts',
  '--pairs', 'cyclone>cyclone,onestep>cyclone', '--latency-only', '--rounds', '1', '--warmup-rounds', '1',
  '--latency-count', count, '--latency-rate', rate, '--json', '/dev/null'], { encoding: 'utf8' });
put('tracing_on', '0');
const text = readFileSync(`${T}/trace`, 'utf8');
put('set_event', '');
put('trace', '');
if (keep) writeFileSync(keep, text);
if (run.status !== 0) throw new Error(`dds-latency failed (${run.status}): ${run.stderr}`);
const measured = run.stderr.split('\n').filter((l) => l.includes('rounds:'));

interface Ev { t: number; comm: string; pid: number; name: string; rest: string }
const LINE = /^\s*(.+?)-(\d+)\s+\[\d+\]\s+\S+\s+([\d.]+):\s+(\w+):?\s*(.*)$/;
const events: Ev[] = [];
for (const line of text.split('\n')) {
  const m = LINE.exec(line);
  if (m) events.push({ comm: m[1], pid: Number(m[2]), t: Number(m[3]) * 1e6, name: m[4], rest: m[5] });
}

// JointState datagrams are 240–280 bytes here; discovery and acknowledgements are far smaller or larger
const isSample = (bytes: number) => bytes >= 200 && bytes <= 400;
interface Span { toSend: number; send: number; tail: number; preempted: boolean }
const runs: { comm: string; pid: number; lastSampleAt: number; spans: Span[] }[] = [];
const switchedIn = new Map<number, number>();
const entered = new Map<number, number>();
let open: { pid: number; comm: string; enter: number; exit: number } | null = null;
for (const e of events) {
  if (e.name === 'sched_switch') {
    const prev = Number(/prev_pid=(\d+)/.exec(e.rest)?.[1]);
    const next = Number(/next_pid=(\d+)/.exec(e.rest)?.[1]);
    const preempted = /prev_state=R/.test(e.rest);
    switchedIn.set(next, e.t);
    if (open && prev === open.pid) {
      const inAt = switchedIn.get(open.pid);
      let r = runs.at(-1);
      // a new run: another writer process, or the same (onestep's) after more than half a second of silence
      if (!r || r.pid !== open.pid || open.enter - r.lastSampleAt > 5e5) {
        r = { comm: open.comm, pid: open.pid, lastSampleAt: open.enter, spans: [] };
        runs.push(r);
      }
      r.lastSampleAt = open.enter;
      if (inAt !== undefined && inAt <= open.enter) r.spans.push({ toSend: open.enter - inAt, send: open.exit - open.enter, tail: e.t - open.exit, preempted });
      open = null;
    }
    continue;
  }
  if (e.comm !== 'node' && e.comm !== 'cyclone_peer') continue;
  if (e.name === 'sys_sendto' || e.name === 'sys_sendmsg') {
    if (!e.rest.startsWith('->')) {
      entered.set(e.pid, e.t);
      continue;
    }
    const bytes = Number.parseInt(e.rest.split(' ').pop()!, 16);
    if (!isSample(bytes)) continue;
    const enter = entered.get(e.pid);
    // two samples before one sleep (a writer catching up): the second's "to send" would not start at a wake-up
    open = enter === undefined || (open && open.pid === e.pid) ? null : { pid: e.pid, comm: e.comm, enter, exit: e.t };
  }
}

console.log(`writer-trace: ${count} JointState at ${rate} Hz per pair, pinned to CPU 0 (µs, p50 over the run's samples)`);
for (const l of measured) console.log(`  measured: ${l.trim()}`);
console.log('| run | writer | samples | to send | send | tail before sleeping | preempted by the reader |');
console.log('|---|---|---|---|---|---|---|');
runs.filter((r) => r.spans.length > 100).forEach((r, k) => {
  const m = (f: (s: Span) => number) => median(r.spans.map(f)).toFixed(0);
  const who = r.comm === 'node' ? 'onestep (node)' : 'Cyclone (C)';
  const slept = r.spans.filter((s) => !s.preempted);
  const tail = slept.length ? median(slept.map((s) => s.tail)).toFixed(0) : '–';
  const pre = ((100 * (r.spans.length - slept.length)) / r.spans.length).toFixed(0);
  console.log(`| ${k} | ${who} | ${r.spans.length} | ${m((s) => s.toSend)} | ${m((s) => s.send)} | ${tail} | ${pre} % |`);
});
