// The UDP floor under every DDS figure on this machine: a C "robot" sends a 200-byte datagram every millisecond and
// times the echo, answered by a C program (blocking recv/send), by Node through onestep's own UDP platform (node:dgram
// receive, the koffi send of src/ros/rtps/platform), or by Node waiting in poll(2) itself (a prototype executor, not
// used by onestep: the main thread blocks in poll() on the socket and libuv's own descriptor and reads with recv()).
// Each echo runs with the robot on the same CPU, on the other CPU, and where the scheduler puts them, in --rounds
// interleaved rounds; the table gives the median over rounds of each run's p50 / p90 / p99 (µs).
//
//   node --import tsx bench/udp-floor.ts [--rounds 3] [--count 4000] [--period-us 1000] [--json bench/out/udp-floor.json]
//
// Runs itself inside a private network namespace (unshare -n): no packet leaves the machine.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { NodeUdpPlatform } from '../src/ros/rtps/platform/node-udp.ts';
import { REPO_ROOT, runInNetns } from '../test/helpers/netns.ts';
import { median } from '../src/core/latency.ts';

const { values: o } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    count: { type: 'string', default: '4000' },
    'period-us': { type: 'string', default: '1000' },
    json: { type: 'string', default: 'bench/out/udp-floor.json' },
    echo: { type: 'string' }, // internal: run as the Node echo of this mode
    port: { type: 'string' },
    reply: { type: 'string' },
  },
});

type EchoKind = 'c' | 'node' | 'node-poll';

/** The Node echo: receive on `port`, send each datagram back to `reply`, exit on the robot's last datagram. */
async function nodeEcho(kind: EchoKind, port: number, reply: number): Promise<void> {
  const platform = new NodeUdpPlatform();
  // bound through onestep's platform (as the RTPS participant binds its sockets); the reply through its send path
  const answer = (bytes: Uint8Array) => {
    if (bytes.length > 12 && bytes[12] === 1) process.exit(0);
    socket.send(bytes, bytes.length, reply, '127.0.0.1');
  };
  const socket = await platform.bind({ address: '127.0.0.1', port, reuseAddr: false, onDatagram: (b) => answer(b) });
  if (kind === 'node-poll') pollExecutor(port, answer);
  process.stdout.write('READY\n');
}

/**
 * The prototype reads the datagrams of the socket the platform bound (its descriptor, found in /proc): libuv still
 * watches it, so whatever arrives while libuv waits is answered the usual way. Each turn (a setImmediate) blocks in
 * poll() on that descriptor and libuv's backend descriptor for at most 1 ms (libuv's own next timeout reads 0 inside
 * an immediate, so it cannot bound the wait), answers what arrived, and returns to libuv when libuv has work or the
 * millisecond is up.
 */
function pollExecutor(port: number, answer: (b: Uint8Array) => void): void {
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const libc = koffi.load('libc.so.6');
  const poll = libc.func('int poll(uint8_t *fds, unsigned long n, int timeout)');
  const recv = libc.func('long recv(int fd, uint8_t *buf, size_t len, int flags)');
  const self = koffi.load(null as unknown as string);
  const uvFd = self.func('int uv_backend_fd(void *loop)')(self.func('void *uv_default_loop()')());
  const MSG_DONTWAIT = 0x40;
  const fds = new Uint8Array(16);
  const view = new DataView(fds.buffer);
  const buf = new Uint8Array(65536);
  let fd = -1;
  const turn = () => {
    if (fd < 0) fd = findBoundFd(port);
    view.setInt32(0, fd, true);
    view.setInt16(4, 1, true); // POLLIN
    view.setInt32(8, uvFd, true);
    view.setInt16(12, 1, true);
    const end = performance.now() + 1;
    for (;;) {
      view.setInt16(6, 0, true);
      view.setInt16(14, 0, true);
      const r = poll(fds, 2, Math.max(0, Math.ceil(end - performance.now())));
      if (r > 0 && view.getInt16(6, true) & 1) {
        let n: number;
        while ((n = Number(recv(fd, buf, buf.length, MSG_DONTWAIT))) > 0) answer(buf.slice(0, n));
      }
      if (r <= 0 || view.getInt16(14, true) & 1 || performance.now() >= end) break;
    }
    setImmediate(turn);
  };
  setImmediate(turn);
}

/** The descriptor of this process's UDP socket bound to 127.0.0.1:port (from /proc, as node:dgram does not say). */
function findBoundFd(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inode = readFileSync('/proc/net/udp', 'utf8').split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[1] === `0100007F:${hex}`)?.[9];
  if (!inode) throw new Error(`no UDP socket on 127.0.0.1:${port}`);
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${name}`) === `socket:[${inode}]`) return Number(name);
    } catch {
      // a descriptor closed meanwhile
    }
  }
  throw new Error(`socket inode ${inode} not among this process's descriptors`);
}

function build(): string {
  const out = `${REPO_ROOT}bench/out/udp-floor`;
  mkdirSync(out, { recursive: true });
  for (const name of ['robot', 'echo']) {
    execFileSync('gcc', ['-O2', '-Wall', '-o', `${out}/${name}`, `${REPO_ROOT}bench/udp-floor/${name}.c`]);
  }
  return out;
}

interface Cell { echo: EchoKind; placement: 'same CPU' | 'other CPU' | 'unpinned'; p50: number[]; p90: number[]; p99: number[] }

async function runOnce(bin: string, cell: Cell, port: number): Promise<void> {
  const [echoCpu, robotCpu] = cell.placement === 'same CPU' ? ['0', '0'] : cell.placement === 'other CPU' ? ['0', '1'] : [null, null];
  const pinned = (cpu: string | null, argv: string[]) => (cpu === null ? argv : ['taskset', '-c', cpu, ...argv]);
  const echoArgv = cell.echo === 'c'
    ? [`${bin}/echo`, String(port), String(port + 1)]
    : [process.execPath, '--no-deprecation', ...process.execArgv, process.argv[1], '--echo', cell.echo, '--port', String(port), '--reply', String(port + 1)];
  const a = pinned(echoCpu, echoArgv);
  const echo: ChildProcess = spawn(a[0], a.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    echo.stdout!.once('data', () => resolve());
    echo.once('exit', (code) => reject(new Error(`echo (${cell.echo}) exited with ${code}`)));
  });
  const r = pinned(robotCpu, [`${bin}/robot`, String(port), String(port + 1), o.count!, o['period-us']!]);
  const out = execFileSync(r[0], r.slice(1), { encoding: 'utf8' });
  if (echo.exitCode === null) await Promise.race([once(echo, 'exit'), new Promise((res) => setTimeout(res, 1000))]);
  echo.kill();
  const [, p50, p90, p99] = out.trim().split(' ').map(Number);
  cell.p50.push(p50);
  cell.p90.push(p90);
  cell.p99.push(p99);
}

if (o.echo !== undefined) {
  await nodeEcho(o.echo as EchoKind, Number(o.port), Number(o.reply));
} else if (process.env.ONESTEP_NETNS_MULTICAST === undefined) {
  build(); // outside: the namespace run only measures
  const r = await runInNetns(['node', '--import', 'tsx', 'bench/udp-floor.ts', ...process.argv.slice(2)], { timeoutMs: 30 * 60_000 });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exit(r.code ?? 1);
} else {
  const bin = `${REPO_ROOT}bench/out/udp-floor`;
  const rounds = Number(o.rounds);
  const cells: Cell[] = [];
  for (const placement of ['same CPU', 'other CPU', 'unpinned'] as const) {
    for (const echo of ['c', 'node', 'node-poll'] as const) cells.push({ echo, placement, p50: [], p90: [], p99: [] });
  }
  let port = 47100;
  for (let k = 0; k < rounds; k++) {
    for (const cell of cells) {
      process.stderr.write(`udp-floor: round ${k + 1}/${rounds}, ${cell.echo} echo, ${cell.placement} …\n`);
      await runOnce(bin, cell, (port += 2));
    }
  }
  const lines = [
    `UDP echo round trip, 200-byte datagrams every ${o['period-us']} µs, ${o.count} per run, median of ${rounds} rounds (µs):`,
    '| placement | echo | p50 | p90 | p99 | p50 / C echo p50 |',
    '|---|---|---|---|---|---|',
  ];
  for (const cell of cells) {
    const c = cells.find((x) => x.placement === cell.placement && x.echo === 'c')!;
    lines.push(`| ${cell.placement} | ${cell.echo} | ${median(cell.p50).toFixed(1)} | ${median(cell.p90).toFixed(1)} | ${median(cell.p99).toFixed(1)} | ${(median(cell.p50) / median(c.p50)).toFixed(2)}× |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(dirname(o.json!), { recursive: true });
  writeFileSync(o.json!, JSON.stringify({ count: Number(o.count), period_us: Number(o['period-us']), rounds, cells }, null, 2));
}
