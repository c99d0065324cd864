// Running DDS scenarios inside a private network namespace, so no packet leaves the machine: `unshare -n` (as root;
// `unshare -rn` through an unprivileged user namespace otherwise) gives a
// fresh namespace whose only interface is `lo`; the multicast variant flags it multicast-capable and routes
// 224.0.0.0/4 to it (what DDS discovery expects), the other leaves it unicast-only (the unicast fallback).
// Also: building the peers once, and a handle on a running peer that parses its output protocol (peer_common.h).

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SETUP_MULTICAST = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';
const SETUP_UNICAST = 'ip link set lo up';

let netnsCheck: { ok: boolean; reason: string; flags: string[] } | undefined;

/**
 * Whether private network namespaces work here, and how: `unshare -n` as root, else `unshare -rn` (an
 * unprivileged user namespace, where the caller is root of its own network namespace); the reason when neither does.
 */
export function netnsAvailable(): { ok: boolean; reason: string; flags: string[] } {
  if (netnsCheck) return netnsCheck;
  const errors: string[] = [];
  for (const flags of [['-n'], ['-r', '-n']]) {
    const r = spawnSync('unshare', [...flags, 'sh', '-c', SETUP_MULTICAST], { encoding: 'utf8' });
    if (r.status === 0) return (netnsCheck = { ok: true, reason: '', flags });
    errors.push(`unshare ${flags.join(' ')}: ${(r.error?.message ?? r.stderr ?? '').trim() || `exit ${r.status}`}`);
  }
  return (netnsCheck = { ok: false, reason: `cannot create a private network namespace (${errors.join('; ')})`, flags: [] });
}

/**
 * Why the tests that need a private network namespace cannot run here, or undefined when they can. A developer's
 * machine without namespaces skips them; under CI=true that is an error instead, so CI never passes with the ROS 2
 * interop tests silently skipped.
 */
export function netnsSkipReason(env: NodeJS.ProcessEnv = process.env, ns = netnsAvailable()): string | undefined {
  if (ns.ok) return undefined;
  if (env.CI === 'true') {
    throw new Error(`CI=true but ${ns.reason}: the network-namespace tests (ROS 2 interop) must run in CI — run them as root or enable unprivileged user namespaces`);
  }
  return ns.reason;
}

/** Cyclone DDS configuration bound to `lo`, with or without multicast (inline XML for CYCLONEDDS_URI). */
export function cycloneConfig(multicast: boolean): string {
  const general = `<General><Interfaces><NetworkInterface name="lo" multicast="${multicast}"/></Interfaces><AllowMulticast>${multicast}</AllowMulticast></General>`;
  const discovery = multicast
    ? ''
    : '<Discovery><ParticipantIndex>auto</ParticipantIndex><Peers><Peer Address="127.0.0.1"/></Peers></Discovery>';
  return `<CycloneDDS><Domain Id="any">${general}${discovery}</Domain></CycloneDDS>`;
}

export interface NetnsOptions {
  /** lo multicast-capable (default) or unicast only. */
  multicast?: boolean;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export interface NetnsResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts `argv` inside a new network namespace and returns the process (stdin, stdout and stderr piped). Inside,
 * ONESTEP_NETNS_MULTICAST says which variant it is, and CYCLONEDDS_URI binds Cyclone to lo accordingly.
 */
export function spawnInNetns(argv: string[], opts: NetnsOptions = {}): ChildProcess {
  const multicast = opts.multicast ?? true;
  const setup = multicast ? SETUP_MULTICAST : SETUP_UNICAST;
  const flags = netnsAvailable().ok ? netnsAvailable().flags : ['-n'];
  return spawn('unshare', [...flags, 'sh', '-c', `${setup} && exec "$@"`, 'sh', ...argv], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ROS_DOMAIN_ID: undefined,
      ROS_LOCALHOST_ONLY: undefined,
      ROS_AUTOMATIC_DISCOVERY_RANGE: undefined,
      ROS_STATIC_PEERS: undefined,
      ...opts.env,
      ONESTEP_NETNS_MULTICAST: multicast ? '1' : '0',
      CYCLONEDDS_URI: cycloneConfig(multicast),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs `argv` inside a new network namespace (see spawnInNetns) and collects its output. */
export function runInNetns(argv: string[], opts: NetnsOptions = {}): Promise<NetnsResult> {
  const child = spawnInNetns(argv, opts);
  child.stdin!.end();
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

let builtPeers: string | undefined;

/** Builds the peers (test/peers/build.sh, cached under .test-out/peers) and returns their directory. */
export function peersDir(): string {
  builtPeers ??= execFileSync('bash', [`${REPO_ROOT}test/peers/build.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop()!;
  return builtPeers;
}

export type PeerVendor = 'cyclone' | 'fastdds';

export interface PeerSummary {
  [key: string]: number;
}

/** A running peer process and what it has printed so far. */
export class Peer {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  stderr = '';
  private waiters: (() => void)[] = [];
  private exitCode: number | null | undefined;

  private constructor(
    readonly vendor: PeerVendor,
    readonly child: ChildProcess,
  ) {
    let partial = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const line of parts) this.lines.push(line);
      this.wake();
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    this.exited = new Promise((resolve) =>
      child.on('close', (code) => {
        this.exitCode = code;
        this.wake();
        resolve(code);
      }),
    );
  }

  /** Starts `<vendor>_peer` with peer_common.h arguments; adds the unicast peer in a namespace without multicast. */
  static start(vendor: PeerVendor, args: string[]): Peer {
    const extra = process.env.ONESTEP_NETNS_MULTICAST === '0' && vendor === 'fastdds' ? ['--peer', '127.0.0.1'] : [];
    const child = spawn(`${peersDir()}/${vendor}_peer`, [...args, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new Peer(vendor, child);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the first line (already printed or to come) matching `re`; rejects on exit or timeout. */
  async waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = 0; ; ) {
      for (; seen < this.lines.length; seen++) {
        const m = re.exec(this.lines[seen]);
        if (m) return m;
      }
      if (this.exitCode !== undefined) throw new Error(`${this.vendor} peer exited (${this.exitCode}) before printing ${re}: ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.vendor} peer did not print ${re} within ${timeoutMs} ms: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for exit and returns the exit code with the DONE line's key=value pairs. */
  async done(timeoutMs: number): Promise<{ code: number | null; summary: PeerSummary }> {
    const t = setTimeout(() => this.child.kill('SIGTERM'), timeoutMs);
    const code = await this.exited;
    clearTimeout(t);
    return { code, summary: parseDone(this.lines) };
  }

  /** RECV lines as { i, ok, latencyUs }. */
  received(): { i: number; ok: boolean; latencyUs: number }[] {
    return this.lines
      .filter((l) => l.startsWith('RECV '))
      .map((l) => {
        const [, i, ok, lat] = l.split(' ');
        return { i: Number(i), ok: ok === '1', latencyUs: Number(lat) };
      });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exitCode === undefined) this.child.kill(signal);
  }

  describe(): string {
    return `stdout=[${this.lines.slice(-8).join(' | ')}] stderr=[${this.stderr.trim().split('\n').slice(-4).join(' | ')}]`;
  }
}

export function parseDone(lines: readonly string[]): PeerSummary {
  const line = [...lines].reverse().find((l) => l.startsWith('DONE'));
  const out: PeerSummary = {};
  if (!line) return out;
  for (const kv of line.split(' ').slice(1)) {
    const [k, v] = kv.split('=');
    out[k] = Number(v);
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
