// `onestep serve`: Serve an ONNX policy as a ROS 2 node: observations in, actions out.
// Accepts the ROS command line launch files append (`--ros-args -r __node:=… -p k:=v --params-file F`): yargs sees
// those sections but ignores them here; the handler re-reads argv, splits the ROS sections off and parses the rest
// strictly, so a typo in a onestep flag is still an error while ROS arguments pass through untouched.
import type { Argv, CommandModule, Options } from 'yargs';

const OPTIONS = {
  model: { type: 'string', description: 'Exported ONNX policy (sets the "model" parameter)', default: '', defaultDescription: 'the "model" parameter' },
  'params-file': { type: 'string', array: true, description: 'ROS 2 parameter YAML ("<node>: ros__parameters:" or "/**:"), applied before --ros-args ones', default: [] as string[] },
  transport: { type: 'string', choices: ['auto', 'rtps', 'rclnodejs', 'inproc'], description: 'ROS 2 transport: auto = rclnodejs on a sourced ROS 2 machine, else the embedded rtps', default: 'auto' },
  'domain-id': { type: 'number', description: 'ROS domain id', default: undefined as number | undefined, defaultDescription: '$ROS_DOMAIN_ID or 0' },
  name: { type: 'string', description: 'Node name (--ros-args -r __node:=… overrides)', default: 'policy_node' },
  namespace: { type: 'string', description: 'Node namespace (--ros-args -r __ns:=… overrides)', default: '/' },
  'log-level': { type: 'string', choices: ['debug', 'info', 'warn', 'error', 'fatal'], description: 'Log level (--ros-args --log-level overrides)', default: 'info' },
  deterministic: { type: 'boolean', description: 'Zero noise: the policy\'s mode action (sets the "deterministic" parameter)', default: undefined as boolean | undefined, defaultDescription: 'the parameter (false)' },
  check: { type: 'boolean', description: 'Load the model and parameters, check the mapping, print it and exit without opening the network', default: false },
  record: { type: 'string', description: 'Record observations, commands, status, safety events (watchdog; onestep replay re-enacts them), /clock and per-pass timings (diagnostics.timings turns on) into this MCAP file, as rosbag2 writes it; the model and parameters are attached', default: '' },
  'help-params': { type: 'boolean', description: 'List every node parameter with its type, default and meaning, and exit', default: false },
} satisfies Record<string, Options>;

type ServeArgs = {
  model: string;
  'params-file': string[];
  transport: string;
  'domain-id'?: number;
  name: string;
  namespace: string;
  'log-level': string;
  deterministic?: boolean;
  check: boolean;
  record: string;
  'help-params': boolean;
};

const DESCRIBE = 'Serve an ONNX policy as a ROS 2 node: observations in, actions out';

const command: CommandModule = {
  command: 'serve',
  describe: DESCRIBE,
  builder: (y: Argv) =>
    y
      .strict(false)
      .options(OPTIONS)
      .usage(`$0 serve --model m.onnx [--params-file p.yaml] [--transport rtps|rclnodejs|inproc|auto] [--ros-args ...]\n\n${DESCRIBE}`)
      .example('$0 serve --model models/arm_reach/policy.onnx --params-file launch/arm_policy.yaml', 'serve on the ROS 2 graph of $ROS_DOMAIN_ID')
      .example('$0 serve --model m.onnx --ros-args -r __ns:=/arm -p action.topic:=/arm/commands', 'what a launch file runs')
      .example('$0 serve --model m.onnx --record run.mcap', 'also record what goes in and out (ros2 bag / onestep replay / onestep profile read it)')
      .example('$0 serve --help-params', 'every parameter'),
  // main.ts does not come here (see runsWithoutYargs): this is for a program run another way.
  handler: () => runServe(process.argv.slice(2)),
};
export default command;

/**
 * Whether `onestep <words>` is served by runServe without yargs: `serve` with no --help, -h or --version among its
 * own words (those before --ros-args); help and version go to yargs, which prints them from the declarations.
 */
export function runsWithoutYargs(words: string[]): boolean {
  const rosArgsAt = words.indexOf('--ros-args');
  const ownWords = rosArgsAt < 0 ? words : words.slice(0, rosArgsAt);
  return words[0] === 'serve' && !ownWords.some((w) => w === '--help' || w === '-h' || w === '--version');
}

/**
 * `onestep serve` from the words after `onestep` (main.ts passes process.argv's). main.ts calls it directly, without
 * loading yargs (a serving process stays small); the options are parsed strictly by the same declarations yargs
 * shows in --help.
 */
export async function runServe(words: string[]): Promise<void> {
  const { parseRosArgs } = await import('../ros/node/ros-args.ts');
  const ros = parseRosArgs(words);
  const rest = ros.rest[0] === 'serve' ? ros.rest.slice(1) : ros.rest;
  const { parseCommandOptions } = await import('./options.ts');
  const args = parseCommandOptions(rest, OPTIONS) as unknown as ServeArgs & { _: string[] };
  if (args._.length > 0) throw new Error(`onestep serve takes no positional arguments (got ${args._.join(' ')}); ROS arguments go after --ros-args`);
  await serve(args, ros);
}

async function serve(args: ServeArgs, ros: import('../ros/node/ros-args.ts').RosArgs): Promise<void> {
  const { collectParameters, nodeIdentity, remappingsFor } = await import('../ros/node/ros-args.ts');
  const { buildConfig, describeParameters } = await import('../ros/node/params.ts');
  if (args['help-params']) {
    process.stdout.write(`${describeParameters()}\n`);
    return;
  }
  const node = nodeIdentity(ros, { name: args.name, namespace: args.namespace });
  const overrides = collectParameters(ros, node, args['params-file']);
  if (args.model !== '') overrides.set('model', args.model);
  if (args.deterministic !== undefined) overrides.set('deterministic', args.deterministic);
  // a recording carries the node's per-pass timings unless the parameters say otherwise
  if (args.record !== '' && !overrides.has('diagnostics.timings')) overrides.set('diagnostics.timings', true);
  const config = buildConfig(overrides, `parameters of ${node.namespace === '/' ? '' : node.namespace}/${node.name}`);
  const { Logger } = await import('../ros/node/diagnostics.ts');
  const fqn = node.namespace === '/' ? `/${node.name}` : `${node.namespace}/${node.name}`;
  const log = new Logger(fqn.slice(1).replace(/\//g, '.'), ros.logLevel ?? (args['log-level'] as 'info'), config.logFormat);
  const { PolicyRuntime } = await import('../runtime/policy-runtime.ts');
  const loadPolicy = (path: string) => PolicyRuntime.load(path, { seed: config.seed, deterministic: config.deterministic });

  if (args.check) {
    const { planFor } = await import('../ros/node/policy-node.ts');
    const { describeOrigin } = await import('../ros/node/observation.ts');
    if (config.model === '') throw new Error('no model: pass --model m.onnx or set the "model" parameter');
    const policy = await loadPolicy(config.model);
    try {
      const plan = planFor(policy.spec, config, config.model);
      const lines = [
        `model ${config.model}: ${policy.spec.algorithm} for ${policy.spec.task}, checkpoint ${policy.spec.checkpointId}, ${policy.spec.trainingSteps} training steps`,
        `node ${fqn} (${config.mode} mode${config.mode === 'timer' ? ` at ${config.controlRateHz} Hz, decimation ${config.decimation}` : ''})`,
        ...plan.assembler.sources.map((s) => `  observation[${s.layout.offset}..${s.layout.offset + s.layout.width - 1}] ← ${s.name}: ${describeOrigin(s.layout.config)}`),
        `  action (${plan.mapper.mode}) → ${config.action.type} on ${config.action.topic}: ${plan.mapper.names.join(', ')}`,
        `  limits [${[...plan.limits.lower].join(', ')}] .. [${[...plan.limits.upper].join(', ')}], blend-in ${plan.limits.blendInSteps}, watchdog ${config.safety.watchdogMs} ms → ${config.safety.staleAction}`,
      ];
      process.stdout.write(`${lines.join('\n')}\nok\n`);
    } finally {
      policy.close();
    }
    return;
  }

  const { createTransport } = await import('../ros/index.ts');
  const { PolicyNode } = await import('../ros/node/policy-node.ts');
  const network = await createTransport({
    kind: args.transport as 'auto',
    node,
    domainId: args['domain-id'],
    remappings: remappingsFor(ros, node),
    log: (line) => log.info(line),
  });
  let recording: import('../ros/mcap/session.ts').RecordingSession | null = null;
  if (args.record !== '') {
    const { nodeRecordingOptions, startRecording } = await import('../ros/mcap/session.ts');
    try {
      recording = await startRecording(network, args.record, nodeRecordingOptions(config, fqn, 'onestep serve'));
    } catch (err) {
      await network.close();
      throw err;
    }
    log.info('recording', { file: args.record });
  }
  const transport = recording?.transport ?? network;
  const finishRecording = async () => {
    if (!recording) return;
    const s = await recording.finish();
    log.info('recording closed', { file: s.path, messages: s.messages, bytes: s.bytes });
  };
  // Signal handlers go in before the node starts, so a signal during start-up still ends in a clean shutdown.
  let policyNode: import('../ros/node/policy-node.ts').PolicyNode | undefined;
  let pending: NodeJS.Signals | undefined;
  let stopping = false;
  const keepAlive = setInterval(() => {}, 1 << 30); // holds the event loop open on transports without sockets (inproc)
  const stop = (signal: NodeJS.Signals) => {
    if (!policyNode) {
      pending = signal;
      return;
    }
    if (stopping) {
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    const node = policyNode;
    node
      .shutdown(signal)
      .then(() => {
        logLatency(log, node.latency.summary());
        return finishRecording();
      })
      .then(() => {
        clearInterval(keepAlive);
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error('shutdown failed', { reason: (err as Error).message });
        process.exit(1);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', () => void policyNode?.reload());
  try {
    policyNode = await PolicyNode.start({ transport, config, loadPolicy, logger: log });
  } catch (err) {
    clearInterval(keepAlive);
    await transport.close();
    await finishRecording();
    throw err;
  }
  if (pending) stop(pending);
}

/**
 * The node's latency window per stage at exit (since the last diagnostics report, or over the last 4096 actions
 * with diagnostics.rate_hz 0), as one log line: `onestep demo` reads it.
 */
function logLatency(log: import('../ros/node/diagnostics.ts').Logger, summary: Record<string, { p50: number; p99: number; max: number; n: number }>): void {
  const fields: Record<string, number> = {};
  for (const [stage, l] of Object.entries(summary)) {
    if (l.n === 0) continue;
    fields[`${stage}_p50_ms`] = +l.p50.toFixed(4);
    fields[`${stage}_p99_ms`] = +l.p99.toFixed(4);
    fields[`${stage}_max_ms`] = +l.max.toFixed(4);
  }
  log.info('latency per stage', { samples: summary.e2e?.n ?? 0, ...fields });
}
