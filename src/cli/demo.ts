// `onestep demo`: the policy on a simulated robot over ROS 2, end to end, with nothing but this checkout. Starts
// `onestep sim-bridge` (lockstep) and `onestep serve` (launch/arm_policy.yaml) as two processes talking over the
// embedded rtps transport on loopback, runs K episodes, then runs the same evaluation in-process (`onestep eval`)
// and prints both, whether they are identical, and the latency of each stage. Nothing is left running after, also
// on Ctrl-C.
import { type ChildProcess, spawn } from 'node:child_process';
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { BridgeEpisode, BridgeSummary } from '../ros/sim-bridge/index.ts';
import type { ParameterValue } from '../ros/node/ros-args.ts';

const ONESTEP = fileURLToPath(new URL('../../bin/onestep.js', import.meta.url));
const DEFAULT_MODEL = fileURLToPath(new URL('../../models/arm_reach/policy.onnx', import.meta.url));
const UNTRAINED_MODEL = fileURLToPath(new URL('../../models/untrained-arm_reach/policy.onnx', import.meta.url));
const DEFAULT_PARAMS = fileURLToPath(new URL('../../launch/arm_policy.yaml', import.meta.url));

/**
 * What a closed-loop evaluation in lockstep changes in the deployment parameters: act on every joint state (the
 * simulator's control period is the policy's), no blend-in or rate limit (each episode starts at rest and the
 * evaluation in-process has neither), no observation watchdog (in lockstep the simulator waits for the node, so a
 * gap in observations is the simulator's pause, and its own missed-command timeout is the watchdog; a safe
 * action published then would be taken for an answer), the full latency window, JSON logs for this command.
 */
export const DEMO_OVERRIDES: readonly [string, ParameterValue][] = [
  ['mode', 'event'],
  ['safety.blend_in_steps', 0],
  ['safety.max_step', []],
  ['safety.watchdog_ms', 0],
  ['watch_model', false],
  ['diagnostics.rate_hz', 0],
  ['log_format', 'json'],
];

interface DemoArgs {
  model?: string;
  episodes: number;
  seed: number;
  paramsFile: string;
  deterministic?: boolean;
  domainId?: number;
  json: boolean;
}

interface NodeLatency { [key: string]: number }

const command: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'Run the arm_reach policy on the simulated arm over ROS 2 (sim-bridge ⇄ serve, two processes) and compare with the in-process evaluation',
  builder: (yargs: Argv) =>
    yargs
      .option('model', { type: 'string', defaultDescription: 'models/arm_reach/policy.onnx (the untrained model of the same layout while the shipped one predates the task)', describe: 'exported policy to serve' })
      .option('episodes', { type: 'number', default: 20, describe: 'episodes to run (episode k is reset with seed + k)' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the first episode and of the policy noise' })
      .option('params-file', { type: 'string', default: DEFAULT_PARAMS, defaultDescription: 'launch/arm_policy.yaml', describe: 'the policy node\'s parameters (the demo runs it in event mode, without blend-in, rate limit or observation watchdog)' })
      .option('deterministic', { type: 'boolean', describe: 'zero noise (the policy\'s mode action)', defaultDescription: 'the params file\'s' })
      .option('domain-id', { type: 'number', describe: 'ROS domain id of the two processes', defaultDescription: 'one in 50–99 from the process id' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object instead of text' })
      .example('$0 demo', 'the shipped arm_reach policy, 20 episodes')
      .example('$0 demo --model models/untrained-arm_reach/policy.onnx --episodes 3', 'the plumbing with the untrained model') as unknown as Argv<DemoArgs>,
  handler: async (argv: ArgumentsCamelCase<DemoArgs>) => runDemo(argv),
};
export default command;

async function runDemo(argv: DemoArgs): Promise<void> {
  const { positiveInteger, finiteInteger, loadOnnxPolicy } = await import('./sim.ts');
  const episodes = positiveInteger('episodes', argv.episodes);
  const seed = finiteInteger('seed', argv.seed);
  const domainId = argv.domainId ?? 50 + ((process.pid * 7919) % 50);

  // Everything that can be wrong is found here, before any process starts.
  const { readParametersFile } = await import('../ros/node/ros-args.ts');
  const { buildConfig } = await import('../ros/node/params.ts');
  const { planFor } = await import('../ros/node/policy-node.ts');
  const { PolicyRuntime } = await import('../runtime/policy-runtime.ts');
  const fileParams = readParametersFile(argv.paramsFile, { name: 'policy_node', namespace: '/' });
  const configFor = (model: string) => {
    const overrides = new Map<string, ParameterValue>([...fileParams, ...DEMO_OVERRIDES, ['model', model], ['seed', seed]]);
    if (argv.deterministic !== undefined) overrides.set('deterministic', argv.deterministic);
    return buildConfig(overrides, argv.paramsFile);
  };
  /** The model's spec, or the reason it does not fit the parameters. */
  const check = async (model: string) => {
    const probe = await PolicyRuntime.load(model);
    const spec = probe.spec;
    probe.close();
    try {
      planFor(spec, configFor(model), model);
      return { spec, misfit: null };
    } catch (err) {
      return { spec, misfit: (err as Error).message };
    }
  };
  let model = argv.model ?? DEFAULT_MODEL;
  let { spec, misfit } = await check(model);
  if (misfit !== null && argv.model === undefined) {
    // a fresh clone whose shipped policy was trained on an earlier version of the task still runs the loop
    process.stderr.write(`onestep demo: the shipped ${spec.task} policy does not fit the current task's observation (${misfit.split(':')[0]}); running the UNTRAINED model of the current layout instead (plumbing only)\n`);
    model = UNTRAINED_MODEL;
    ({ spec, misfit } = await check(model));
  }
  if (misfit !== null) {
    throw new Error(`${misfit}\n(the model does not fit ${argv.paramsFile}; a model trained before the current ${spec.task} task needs re-training)`);
  }
  const config = configFor(model);
  const shown = isAbsolute(model) && !relative(process.cwd(), model).startsWith('..') ? relative(process.cwd(), model) : model;
  const { TASK_NAMES } = await import('../sim/tasks/index.ts');
  if (!TASK_NAMES.includes(spec.task)) throw new Error(`model ${model} was trained on '${spec.task}', which is not a simulator task`);
  const task = spec.task;
  const noise = config.deterministic ? 'mode actions (zero noise)' : 'sampled actions';
  const say = (line: string) => {
    if (!argv.json) process.stdout.write(`${line}\n`);
  };
  say(`onestep demo: ${task}, ${episodes} episode${episodes === 1 ? '' : 's'} (seeds ${seed}..${seed + episodes - 1}), ${shown} (${spec.algorithm}, ${spec.trainingSteps === 0 ? 'UNTRAINED' : `${spec.trainingSteps} training steps`}), ${noise}`);
  say(`  sim-bridge (lockstep) and serve: two processes over the embedded rtps transport, loopback only, ROS domain ${domainId}`);

  // ---- the two processes
  const env = { ...process.env, ROS_LOCALHOST_ONLY: '1', ROS_STATIC_PEERS: '', ROS_AUTOMATIC_DISCOVERY_RANGE: 'LOCALHOST' };
  const common = ['--transport', 'rtps', '--domain-id', String(domainId)];
  const children: Child[] = [];
  const bridge = start('sim-bridge', [
    'sim-bridge', '--task', task, '--clock', 'lockstep', '--episodes', String(episodes), '--seed', String(seed), '--json',
    '--lockstep-timeout-ms', '2000', '--missed-command', 'hold', '--log-level', 'warn', ...common,
  ], env, children);
  const rosParams = [...DEMO_OVERRIDES, ['seed', seed], ...(argv.deterministic === undefined ? [] : [['deterministic', argv.deterministic]])] as [string, ParameterValue][];
  const serve = start('serve', [
    'serve', '--model', model, '--params-file', argv.paramsFile, ...common, '--ros-args',
    ...rosParams.flatMap(([k, v]) => ['-p', `${k}:=${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`]),
  ], env, children);

  process.stderr.write(`onestep demo: sim-bridge pid ${bridge.pid}, serve pid ${serve.pid}\n`);
  let interrupted: NodeJS.Signals | null = null;
  const stopAll = async () => {
    await Promise.all(children.map((c) => c.stop()));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = signal;
    if (!argv.json && process.stderr.isTTY) process.stderr.write('\n');
    process.stderr.write(`onestep demo: ${signal}: stopping sim-bridge and serve …\n`);
    void stopAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // last resort: a demo that dies leaves nothing behind
  process.on('exit', () => children.forEach((c) => c.kill()));

  // ---- progress, from the bridge's episode lines
  const done: BridgeEpisode[] = [];
  let summary: BridgeSummary | undefined;
  const t0 = performance.now();
  let firstEpisodeAt = 0;
  bridge.onLine((line) => {
    let event: { event?: string } & Record<string, unknown>;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (event.event === 'summary') summary = event as unknown as BridgeSummary;
    if (event.event !== 'episode') return;
    done.push(event as unknown as BridgeEpisode);
    if (argv.json) return;
    const successes = done.filter((e) => e.success).length;
    const mean = done.reduce((a, e) => a + e.return, 0) / done.length;
    const now = performance.now();
    const elapsed = (now - t0) / 1000;
    if (done.length === 1) firstEpisodeAt = now;
    // the rate from the episodes after the first (the first one includes start-up and discovery)
    const eta = done.length > 1 ? ((now - firstEpisodeAt) / 1000 / (done.length - 1)) * (episodes - done.length) : NaN;
    const text = `  episode ${done.length}/${episodes} · success ${successes}/${done.length} · return ${mean.toFixed(3)} · ${elapsed.toFixed(1)} s${done.length < episodes && Number.isFinite(eta) ? ` · about ${eta.toFixed(0)} s left` : ''}`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${text}`);
    else if (done.length === 1 || done.length === episodes || done.length % Math.max(1, Math.round(episodes / 10)) === 0) process.stderr.write(`${text}\n`);
  });
  let nodeLatency: NodeLatency | undefined;
  serve.onErrLine((line) => {
    try {
      const entry = JSON.parse(line) as { message?: string } & NodeLatency;
      if (entry.message === 'latency per stage') nodeLatency = entry;
    } catch {
      // not a log line of ours
    }
  });

  // The bridge ends the run (after K episodes); serve ending first is a failure.
  const first = await Promise.race([bridge.exited.then((code) => ({ who: bridge, code })), serve.exited.then((code) => ({ who: serve, code }))]);
  if (process.stderr.isTTY && !argv.json && done.length > 0) process.stderr.write('\n');
  if (first.who === serve && !interrupted) {
    await stopAll();
    throw new Error(`onestep serve exited (${first.code}) before the episodes were done:\n${serve.tail()}`);
  }
  await serve.stop();
  await bridge.exited;
  if (interrupted) {
    process.stderr.write(`onestep demo: interrupted after ${done.length} of ${episodes} episodes; sim-bridge and serve stopped\n`);
    process.exit(130);
  }
  if (first.code !== 0 || summary === undefined) throw new Error(`onestep sim-bridge exited (${first.code}):\n${bridge.tail()}`);

  // ---- the same evaluation in-process (after the processes are gone: the timings do not share the cores)
  const { MujocoEnv } = await import('../sim/env.ts');
  const { evaluate } = await import('../sim/evaluate.ts');
  const simEnv = await MujocoEnv.make(task);
  let local: import('../sim/evaluate.ts').EvaluationResult;
  try {
    const onnx = await loadOnnxPolicy(model, simEnv, { seed, deterministic: config.deterministic });
    try {
      local = evaluate(simEnv, onnx.policy, { episodes, seed });
    } finally {
      onnx.close();
    }
  } finally {
    simEnv.close();
  }

  const ros = summary.episodes;
  const identical = summary.counters.commandsMissed === 0 && ros.length === local.episodes.length && ros.every((e, k) => Object.is(e.return, local.episodes[k].return) && e.success === local.episodes[k].success);
  const maxDiff = Math.max(0, ...ros.map((e, k) => Math.abs(e.return - (local.episodes[k]?.return ?? NaN))));
  const stats = (returns: number[]) => {
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    return { mean, std: Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / returns.length) };
  };
  const rosStats = stats(ros.map((e) => e.return));
  const localStats = stats(local.episodes.map((e) => e.return));
  const rosSuccess = ros.filter((e) => e.success).length / ros.length;
  const result = {
    task, model: model, trainingSteps: spec.trainingSteps, episodes, seed, deterministic: config.deterministic, domainId,
    ros: { successRate: rosSuccess, meanReturn: rosStats.mean, stdReturn: rosStats.std, stepsPerSecond: summary.stepsPerSecond, returns: ros.map((e) => e.return), successes: ros.map((e) => e.success), counters: summary.counters },
    inProcess: { successRate: local.successRate, meanReturn: localStats.mean, stdReturn: localStats.std, stepsPerSecond: local.stepsPerSecond, returns: local.episodes.map((e) => e.return), successes: local.episodes.map((e) => e.success) },
    identical, maxReturnDifference: maxDiff,
    latencyMs: { bridge: summary.latency, node: nodeLatency ?? null },
    pids: { bridge: bridge.pid, serve: serve.pid },
  };
  if (argv.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
  const row = (name: string, success: number | null, s: { mean: number; std: number }, sps: number) =>
    `  ${name.padEnd(28)}${pct(success).padStart(8)}   ${`${s.mean.toFixed(3)} ± ${s.std.toFixed(3)}`.padStart(18)}   ${sps.toFixed(0).padStart(10)}`;
  const lines = [
    '',
    `  ${''.padEnd(28)}${'success'.padStart(8)}   ${'return mean ± std'.padStart(18)}   ${'env steps/s'.padStart(10)}`,
    row('ROS 2, two processes', rosSuccess, rosStats, summary.stepsPerSecond),
    row('in-process (onestep eval)', local.successRate, localStats, local.stepsPerSecond),
    identical
      ? `  lockstep: identical — every episode's return bit for bit and its success (${ros.length}/${ros.length})`
      : `  lockstep: NOT identical — largest return difference ${maxDiff.toExponential(2)}; ${summary.counters.commandsMissed} missed commands`,
    '',
    `  ${'latency, ms'.padEnd(40)}${'p50'.padStart(9)}${'p99'.padStart(9)}${'max'.padStart(9)}${'n'.padStart(8)}`,
  ];
  const lat = (name: string, p50: number | undefined, p99: number | undefined, max: number | undefined, n: number | undefined) =>
    `  ${name.padEnd(40)}${(p50 ?? NaN).toFixed(3).padStart(9)}${(p99 ?? NaN).toFixed(3).padStart(9)}${(max ?? NaN).toFixed(3).padStart(9)}${String(n ?? '-').padStart(8)}`;
  const b = summary.latency;
  lines.push(lat('sim-bridge: physics (one control step)', b.physics.p50, b.physics.p99, b.physics.max, b.physics.count));
  lines.push(lat('sim-bridge: publish a state', b.publish.p50, b.publish.p99, b.publish.max, b.publish.count));
  lines.push(lat('sim-bridge: state sent → command back', b.roundTrip.p50, b.roundTrip.p99, b.roundTrip.max, b.roundTrip.count));
  if (nodeLatency) {
    const n = nodeLatency.samples;
    for (const [stage, label] of [['decode', 'receive → decoded'], ['assemble', 'assemble the observation'], ['infer', 'policy forward pass'], ['encode', 'encode the command'], ['send', 'send'], ['e2e', 'received → command sent']]) {
      lines.push(lat(`serve: ${label}`, nodeLatency[`${stage}_p50_ms`], nodeLatency[`${stage}_p99_ms`], nodeLatency[`${stage}_max_ms`], n));
    }
  } else {
    lines.push('  serve: no latency report (see its log)');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

interface Child {
  readonly pid: number | undefined;
  readonly exited: Promise<number | null>;
  onLine(f: (line: string) => void): void;
  onErrLine(f: (line: string) => void): void;
  /** SIGINT, then SIGKILL after 5 s; resolves when it has exited. */
  stop(): Promise<void>;
  kill(): void;
  /** The last lines it wrote on stderr, for error messages. */
  tail(): string;
}

/** Starts `onestep <args>` in its own process group (a terminal's Ctrl-C reaches the demo, which stops it once). */
function start(name: string, args: string[], env: NodeJS.ProcessEnv, children: Child[]): Child {
  const proc: ChildProcess = spawn(process.execPath, [ONESTEP, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let alive = true;
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => {
    alive = false;
    resolve(code);
  }));
  proc.on('error', () => {
    alive = false;
  });
  const stderrLines: string[] = [];
  const outHandlers: ((l: string) => void)[] = [];
  const errHandlers: ((l: string) => void)[] = [];
  const lines = (stream: NodeJS.ReadableStream, handlers: ((l: string) => void)[], keep: boolean) => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const l of parts) {
        if (keep) {
          stderrLines.push(l);
          if (stderrLines.length > 30) stderrLines.shift();
        }
        for (const h of handlers) h(l);
      }
    });
  };
  lines(proc.stdout!, outHandlers, false);
  lines(proc.stderr!, errHandlers, true);
  let stopping: Promise<void> | null = null;
  const child: Child = {
    pid: proc.pid,
    exited,
    onLine: (f) => outHandlers.push(f),
    onErrLine: (f) => errHandlers.push(f),
    stop: () => {
      stopping ??= (async () => {
        if (!alive) return;
        proc.kill('SIGINT');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      })();
      return stopping;
    },
    kill: () => {
      if (alive) proc.kill('SIGKILL');
    },
    tail: () => `${name}: ${stderrLines.slice(-12).join(`\n${name}: `)}`,
  };
  children.push(child);
  return child;
}
