// sim-bridge scenarios run inside a private network namespace (test/sim-bridge-cyclone.test.ts):
//   client: `onestep sim-bridge` (the CLI, rtps transport) driven by the Cyclone DDS controller bridge-client.c;
//   then, with `close`, a SimBridge on the rtps transport in this process, closed: what is left of it afterwards.
// Prints `RESULT <json>` last.   node --import tsx test/peers/bridge-scenario.ts '<BridgeScenario JSON>'
import { execFileSync, spawn } from 'node:child_process';
import { REPO_ROOT } from '../helpers/netns.ts';

export interface BridgeScenario {
  mode: 'f64' | 'js';
  clock: 'lockstep' | 'realtime';
  target: number[];
  states: number;
  seed: number;
  domain: number;
  /** `onestep sim-bridge --record` into this file. */
  record?: string;
  /** Afterwards, run and close a bridge in this process and report what is left. */
  close?: boolean;
}

export interface ClientResult {
  states: { i: number; sec: number; nanosec: number; q: number[] }[];
  clientDone: boolean;
  clientCode: number | null;
  clientStderr: string;
  bridgeCode: number | null;
  bridgeStdout: string;
  bridgeStderr: string;
  /** Milliseconds from SIGINT to the bridge's exit (real time runs are stopped that way). */
  stopMs?: number;
  close?: CloseResult;
}

export interface CloseResult {
  steps: number;
  /** Resource kinds alive before the bridge started, after it ran, and after it closed. */
  before: string[];
  running: string[];
  after: string[];
}

/** Builds the controller peer (once) and returns its path. */
export function bridgeClient(): string {
  return execFileSync('bash', [`${REPO_ROOT}test/peers/bridge-client-build.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
}

function collect(child: ReturnType<typeof spawn>): { out: () => string; err: () => string; exited: Promise<number | null> } {
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { out: () => out, err: () => err, exited: new Promise((r) => child.on('close', (code) => r(code))) };
}

async function runClient(s: BridgeScenario): Promise<ClientResult> {
  const bridgeArgs = [
    'bin/onestep.js', 'sim-bridge', '--task', 'arm_reach', '--transport', 'rtps', '--domain-id', String(s.domain), '--seed', String(s.seed),
    '--clock', s.clock, '--json', '--lockstep-timeout-ms', '5000', '--missed-command', 'abort',
    ...(s.clock === 'lockstep' ? ['--episodes', '1'] : ['--command-timeout-ms', '0']),
    ...(s.record ? ['--record', s.record] : []),
  ];
  const bridge = spawn('node', bridgeArgs, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const b = collect(bridge);
  const client = spawn(bridgeClient(), ['--mode', s.mode, '--target', s.target.join(','), '--states', String(s.states), '--domain', String(s.domain), '--wait-s', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const c = collect(client);
  const clientCode = await c.exited;
  let stopMs: number | undefined;
  if (s.clock === 'realtime') {
    const t0 = performance.now();
    bridge.kill('SIGINT');
    await b.exited;
    stopMs = performance.now() - t0;
  }
  const watchdog = setTimeout(() => bridge.kill('SIGKILL'), 30_000);
  const bridgeCode = await b.exited;
  clearTimeout(watchdog);
  const states = c.out().split('\n').filter((l) => l.startsWith('STATE ')).map((l) => {
    const [, i, sec, nanosec, ...q] = l.split(' ');
    return { i: Number(i), sec: Number(sec), nanosec: Number(nanosec), q: q.map(Number) };
  });
  return {
    states, clientDone: /^DONE /m.test(c.out()), clientCode, clientStderr: c.err(), bridgeCode, bridgeStdout: b.out(), bridgeStderr: b.err().slice(-4000), stopMs,
  };
}

async function runClose(domain: number): Promise<CloseResult> {
  // stdio, and the scenario's finished children, are not the bridge's
  const kinds = () => process.getActiveResourcesInfo().filter((k) => !['TTYWrap', 'PipeWrap', 'ProcessWrap'].includes(k)).sort();
  const before = kinds();
  const { createTransport } = await import('../../src/ros/index.ts');
  const { SimBridge } = await import('../../src/ros/sim-bridge/index.ts');
  const { SimRobot } = await import('../../src/sim/robot.ts');
  const { Logger } = await import('../../src/ros/node/diagnostics.ts');
  const robot = await SimRobot.forTask('arm_reach');
  const transport = await createTransport({ kind: 'rtps', node: 'sim_bridge', domainId: domain });
  const bridge = SimBridge.start({ transport, robot, clock: 'realtime', realTimeFactor: 20, seed: 0, logger: new Logger('b', 'error') });
  await new Promise((r) => setTimeout(r, 500));
  const running = kinds();
  await bridge.close();
  robot.close();
  // timers closed with the bridge and transport are gone by the next turn of the event loop
  await new Promise((r) => setImmediate(r));
  return { steps: bridge.counters.steps, before, running, after: kinds() };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const scenario = JSON.parse(process.argv[2]) as BridgeScenario;
  const r = await runClient(scenario);
  if (scenario.close) r.close = await runClose(scenario.domain + 100);
  process.stdout.write(`RESULT ${JSON.stringify(r)}\n`, () => process.exit(0));
}
