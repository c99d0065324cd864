// One policy-node run against the Cyclone DDS robot peer (serve-robot.c), inside a private network namespace:
// `onestep serve`'s node on the rtps transport, the peer publishing JointState and recording commands.
// Prints `RESULT <json>` last.   node --import tsx test/peers/serve-scenario.ts '<ServeScenario JSON>'
import { execFileSync, spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createTransport } from '../../src/ros/index.ts';
import { PolicyRuntime } from '../../src/runtime/policy-runtime.ts';
import { buildConfig } from '../../src/ros/node/params.ts';
import { PolicyNode } from '../../src/ros/node/policy-node.ts';
import { Logger } from '../../src/ros/node/diagnostics.ts';
import type { ParameterValue } from '../../src/ros/node/ros-args.ts';
import { REPO_ROOT } from '../helpers/netns.ts';

export interface ServeScenario {
  model: string;
  params: [string, ParameterValue][];
  count: number;
  rate: number;
  domain?: number;
  gapAt?: number;
  gapMs?: number;
  nanAt?: number[];
  missingAt?: number[];
  lingerMs?: number;
  /** The peer also publishes a Float64MultiArray of `size` task values every `every` joint states. */
  extra?: { topic: string; size: number; every: number };
  /** Only the peer's summary line (soak / long benchmarks). */
  quiet?: boolean;
  /** Sample this process's RSS every N ms (soak). */
  rssEveryMs?: number;
  latencyCapacity?: number;
}

export interface ServeScenarioResult {
  ok: boolean;
  error?: string;
  sent: { i: number; t: number }[];
  commands: { t: number; v: number[] }[];
  summary: Record<string, number>;
  counters: Record<string, number>;
  latency: Record<string, { p50: number; p99: number; max: number; n: number }>;
  staleEvents: { atMs: number; delayMs: number }[];
  rss: { t: number; rss: number }[];
  /** Event-loop delay of this process over the run (ms): how late any timer could be on this machine. */
  loopDelayMs: { p50: number; p99: number; max: number };
  log: string[];
}

/** Builds the robot peer (once) and returns its path. */
export function robotPeer(): string {
  return execFileSync('bash', [`${REPO_ROOT}test/peers/serve-robot-build.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
}

export async function runServeScenario(s: ServeScenario): Promise<ServeScenarioResult> {
  const result: ServeScenarioResult = { ok: false, sent: [], commands: [], summary: {}, counters: {}, latency: {}, staleEvents: [], rss: [], loopDelayMs: { p50: 0, p99: 0, max: 0 }, log: [] };
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const domain = s.domain ?? 0;
  const config = buildConfig(new Map<string, ParameterValue>([['model', s.model], ...s.params]));
  const logger = new Logger('policy_node', 'info', 'text', (l) => { if (result.log.length < 200) result.log.push(l); });
  const transport = await createTransport({ kind: 'rtps', node: { name: 'policy_node', namespace: '/' }, domainId: domain });
  const node = await PolicyNode.start({
    transport, config, logger, latencyCapacity: s.latencyCapacity ?? 200_000,
    loadPolicy: (p) => PolicyRuntime.load(p, { deterministic: config.deterministic, seed: config.seed }),
  });
  const rssTimer = s.rssEveryMs ? setInterval(() => result.rss.push({ t: performance.now(), rss: process.memoryUsage().rss }), s.rssEveryMs) : null;
  try {
    const args = [
      '--count', String(s.count), '--rate', String(s.rate), '--domain', String(domain),
      '--js-topic', `rt${config.sources[0].topic.startsWith('/') ? '' : '/'}${config.sources[0].topic}`,
      '--cmd-topic', `rt${config.action.topic.startsWith('/') ? '' : '/'}${config.action.topic}`,
      '--linger-ms', String(s.lingerMs ?? 300),
    ];
    if (s.gapAt !== undefined) args.push('--gap-at', String(s.gapAt), '--gap-ms', String(s.gapMs ?? 100));
    if (s.nanAt?.length) args.push('--nan-at', s.nanAt.join(','));
    if (s.missingAt?.length) args.push('--missing-at', s.missingAt.join(','));
    if (s.quiet) args.push('--quiet');
    if (s.extra) args.push('--extra-topic', `rt${s.extra.topic}`, '--extra-size', String(s.extra.size), '--extra-every', String(s.extra.every));
    const peer = spawn(robotPeer(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    peer.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    peer.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const code = await new Promise<number | null>((resolve) => peer.on('close', resolve));
    if (code !== 0) throw new Error(`robot peer exited with ${code}: ${err.trim()}`);
    for (const line of out.split('\n')) {
      if (line.startsWith('SENT ')) {
        const [, i, t] = line.split(' ');
        result.sent.push({ i: Number(i), t: Number(t) });
      } else if (line.startsWith('CMD ')) {
        const [, t, ...v] = line.split(' ');
        result.commands.push({ t: Number(t), v: v.map(Number) });
      } else if (line.startsWith('DONE ')) {
        for (const kv of line.split(' ').slice(1)) {
          const [k, v] = kv.split('=');
          result.summary[k] = Number(v);
        }
      }
    }
    result.ok = true;
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    if (rssTimer) clearInterval(rssTimer);
    loop.disable();
    result.loopDelayMs = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
    result.counters = { ...node.counters };
    result.latency = node.latency.summary();
    result.staleEvents = [...node.staleEvents];
    await node.shutdown('scenario end');
  }
  return result;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const scenario = JSON.parse(process.argv[2]) as ServeScenario;
  const r = await runServeScenario(scenario);
  // stdout is a pipe (asynchronous): exit only once the whole line is written
  process.stdout.write(`RESULT ${JSON.stringify(r)}\n`, () => process.exit(0));
}
