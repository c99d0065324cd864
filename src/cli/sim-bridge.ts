// `onestep sim-bridge`: a MuJoCo task (or any MJCF) as a ROS 2 robot — joint states, clock, task points and
// episode status out, joint commands in — in real time or in lockstep with the controller (src/ros/sim-bridge/index.ts).
// Accepts `--ros-args -r from:=to -r __node:=… -r __ns:=…` like `onestep serve`, so launch files can remap it.
import type { Argv, CommandModule, Options } from 'yargs';
import type { BridgeEpisode, BridgeSummary } from '../ros/sim-bridge/index.ts';

const OPTIONS = {
  task: { type: 'string', description: 'Task to simulate: arm_reach, arm_push, reacher, pendulum, two_way, cheetah', default: 'arm_reach' },
  mjcf: { type: 'string', description: 'Your own MJCF instead of a task (joint states, actuator commands; no reward)', default: undefined as string | undefined, defaultDescription: 'none' },
  'frame-skip': { type: 'number', description: 'With --mjcf: physics steps per control step', default: undefined as number | undefined, defaultDescription: '1' },
  'max-steps': { type: 'number', description: 'With --mjcf: control steps per episode', default: undefined as number | undefined, defaultDescription: '1000' },
  clock: { type: 'string', choices: ['realtime', 'lockstep'], description: 'realtime: a control step every control period ÷ --rtf; lockstep: step k+1 when the command answering state k arrives', default: 'realtime' },
  rtf: { type: 'number', description: 'Real time: simulated seconds per wall second', default: 1 },
  seed: { type: 'number', description: 'Episode k is reset with seed + k (as onestep eval does)', default: 0 },
  episodes: { type: 'number', description: 'Stop after this many finished episodes (0: run until Ctrl-C)', default: 0 },
  'command-timeout-ms': { type: 'number', description: 'Real time: no command for this long → the watchdog action, counted (0 disables)', default: 500 },
  'watchdog-action': { type: 'string', choices: ['hold', 'zero'], description: 'Real time: what the watchdog commands (hold the command in force, or zero)', default: 'hold' },
  'lockstep-timeout-ms': { type: 'number', description: 'Lockstep: wall-clock wait for the command answering a state', default: 1000 },
  'episode-end': { type: 'string', choices: ['next', 'hold'], description: 'When an episode ends: next = publish the next episode\'s first state at once; hold = publish the terminal state and wait for a reset (~/reset_episode, ResetSimulation, ~/reset): what onestep train --env ros needs', default: 'next' },
  'missed-command': { type: 'string', choices: ['hold', 'zero', 'abort'], description: 'Lockstep: no answer within the timeout → step with the command in force, with zero, or stop with an error (counted)', default: 'hold' },
  point: { type: 'string', array: true, description: 'A point to publish as PointStamped on /NAME, NAME=site:SITE or NAME=body:BODY (replaces the task\'s points)', default: [] as string[] },
  'commands-topic': { type: 'string', description: 'Float64MultiArray commands, one per actuator in command order', default: '/forward_position_controller/commands' },
  transport: { type: 'string', choices: ['auto', 'rtps', 'rclnodejs', 'inproc'], description: 'ROS 2 transport: auto = rclnodejs on a sourced ROS 2 machine, else the embedded rtps', default: 'auto' },
  'domain-id': { type: 'number', description: 'ROS domain id', default: undefined as number | undefined, defaultDescription: '$ROS_DOMAIN_ID or 0' },
  name: { type: 'string', description: 'Node name (--ros-args -r __node:=… overrides)', default: 'sim_bridge' },
  namespace: { type: 'string', description: 'Node namespace (--ros-args -r __ns:=… overrides)', default: '/' },
  'log-level': { type: 'string', choices: ['debug', 'info', 'warn', 'error', 'fatal'], description: 'Log level (stderr)', default: 'info' },
  json: { type: 'boolean', description: 'stdout: one JSON object per finished episode, then the summary', default: false },
  record: { type: 'string', description: 'Record joint states, points, status, /clock and the commands received into this MCAP file, as rosbag2 writes it (ros2 bag, onestep profile and Foxglove read it)', default: '' },
} satisfies Record<string, Options>;

type BridgeArgs = {
  task: string;
  mjcf?: string;
  'frame-skip'?: number;
  'max-steps'?: number;
  clock: 'realtime' | 'lockstep';
  rtf: number;
  seed: number;
  episodes: number;
  'command-timeout-ms': number;
  'watchdog-action': 'hold' | 'zero';
  'lockstep-timeout-ms': number;
  'missed-command': 'hold' | 'zero' | 'abort';
  'episode-end': 'next' | 'hold';
  point: string[];
  'commands-topic': string;
  transport: string;
  'domain-id'?: number;
  name: string;
  namespace: string;
  'log-level': string;
  json: boolean;
  record: string;
};

const command: CommandModule = {
  command: 'sim-bridge',
  describe: 'Run a MuJoCo task as a ROS 2 robot: joint states, clock, task points and episode status out, joint commands in',
  builder: (y: Argv) =>
    y
      .strict(false)
      .options(OPTIONS)
      .usage(
        '$0 sim-bridge [--task arm_reach | --mjcf robot.xml] [--clock realtime|lockstep] [--ros-args ...]\n\n' +
          'Publishes /joint_states (sensor_msgs/JointState, stamp = sim time), /clock (rosgraph_msgs/Clock, once per\n' +
          'control step), the task\'s points (geometry_msgs/PointStamped: /tool_tip and /target for arm_reach) and\n' +
          '~/status (onestep_msgs/EpisodeStatus: reward, return, success, mode, episode, counters). Takes commands as\n' +
          'std_msgs/Float64MultiArray on /forward_position_controller/commands (one per actuator, in joint order) or\n' +
          'sensor_msgs/JointState on /joint_command (by name, any subset), in the actuators\' units: for arm tasks the\n' +
          'joint-position target in rad, limited to the task\'s range (home ± scale within the ctrlrange). Bad commands\n' +
          '(wrong length, NaN, unknown joint) are refused and counted. ~/reset (std_msgs/Empty), ~/pause (std_msgs/Bool)\n' +
          'and ~/step (std_msgs/UInt64, while paused) control the simulation, as do the simulation_interfaces services\n' +
          '~/reset_simulation, ~/step_simulation, ~/get_simulation_state, ~/set_simulation_state, ~/get_simulator_features.\n\n' +
          'Lockstep: state k is published, step k+1 runs when its answer arrives: a JointState command by header stamp\n' +
          '= the state\'s stamp; a Float64MultiArray (no header) by arrival order, the first one after state k. When an\n' +
          'episode ends, the next state published is the next episode\'s first (sim time restarts at 0), or with\n' +
          '--episode-end hold the terminal state, held until a reset; ~/reset_episode (onestep_msgs/ResetEpisode) resets\n' +
          'with a given seed (onestep train --env ros).',
      )
      .example('$0 sim-bridge --task arm_reach', 'arm_reach in real time on the ROS 2 graph of $ROS_DOMAIN_ID')
      .example('$0 sim-bridge --task arm_reach --clock lockstep --episodes 10 --json', 'lockstep with a controller, 10 episodes, JSON results')
      .example('$0 sim-bridge --mjcf robot.xml --frame-skip 10 --point tool=site:tcp', 'your own robot')
      .example('$0 sim-bridge --task arm_reach --clock lockstep --episode-end hold --lockstep-timeout-ms 600000', 'the robot for onestep train --env ros')
      .example('$0 sim-bridge --task arm_reach --clock lockstep --record run.mcap', 'also record every state and command (rosbag2-style MCAP)'),
  handler: async () => {
    const { hideBin } = await import('yargs/helpers');
    const { parseRosArgs } = await import('../ros/node/ros-args.ts');
    const ros = parseRosArgs(hideBin(process.argv));
    const rest = ros.rest[0] === 'sim-bridge' ? ros.rest.slice(1) : ros.rest;
    const { default: yargs } = await import('yargs');
    const args = (await yargs(rest)
      .options(OPTIONS)
      .strict()
      .help(false)
      .version(false)
      .fail((msg, err) => {
        throw err ?? new Error(msg);
      })
      .parseAsync()) as unknown as BridgeArgs & { _: (string | number)[] };
    if (args._.length > 0) throw new Error(`onestep sim-bridge takes no positional arguments (got ${args._.join(' ')}); ROS arguments go after --ros-args`);
    if (ros.params.length > 0 || ros.paramsFiles.length > 0) throw new Error('onestep sim-bridge takes flags, not ROS parameters (-p, --params-file); see --help');
    await runBridge(args, ros);
  },
};
export default command;

async function runBridge(args: BridgeArgs, ros: import('../ros/node/ros-args.ts').RosArgs): Promise<void> {
  const { positiveInteger, finiteInteger } = await import('./sim.ts');
  const seed = finiteInteger('seed', args.seed);
  const episodes = args.episodes === 0 ? 0 : positiveInteger('episodes', args.episodes);
  const { nodeIdentity, remappingsFor } = await import('../ros/node/ros-args.ts');
  const node = nodeIdentity(ros, { name: args.name, namespace: args.namespace });
  const { Logger } = await import('../ros/node/diagnostics.ts');
  const fqn = node.namespace === '/' ? `/${node.name}` : `${node.namespace}/${node.name}`;
  const log = new Logger(fqn.slice(1).replace(/\//g, '.'), ros.logLevel ?? (args['log-level'] as 'info'));

  const { SimRobot, parseRobotPoint } = await import('../sim/robot.ts');
  const points = args.point.length > 0 ? args.point.map(parseRobotPoint) : undefined;
  let robot: import('../sim/robot.ts').SimRobot;
  if (args.mjcf !== undefined) {
    robot = await SimRobot.fromMjcf(args.mjcf, {
      points,
      frameSkip: args['frame-skip'] === undefined ? undefined : positiveInteger('frame-skip', args['frame-skip']),
      maxSteps: args['max-steps'] === undefined ? undefined : positiveInteger('max-steps', args['max-steps']),
    });
  } else {
    if (args['frame-skip'] !== undefined || args['max-steps'] !== undefined) throw new Error('--frame-skip and --max-steps apply to --mjcf models only; tasks fix their own');
    robot = await SimRobot.forTask(args.task, { points });
  }

  const { createTransport } = await import('../ros/index.ts');
  const { SimBridge } = await import('../ros/sim-bridge/index.ts');
  let transport: import('../ros/transport.ts').Transport;
  try {
    transport = await createTransport({
      kind: args.transport as 'auto', node, domainId: args['domain-id'], remappings: remappingsFor(ros, node), log: (line) => log.info(line),
    });
  } catch (err) {
    robot.close();
    throw err;
  }
  // --record wraps the transport (src/ros/mcap/session.ts, as serve --record does): every message the bridge
  // publishes and every command it receives goes into the file as it passes
  let recording: import('../ros/mcap/session.ts').RecordingSession | null = null;
  if (args.record !== '') {
    const { startRecording } = await import('../ros/mcap/session.ts');
    try {
      recording = await startRecording(transport, args.record, {
        // the bridge publishes /clock itself (always, while recording): no tap
        taps: [],
        customData: { recorded_by: 'onestep sim-bridge', node: fqn, task: robot.taskName, clock: args.clock, seed: String(seed) },
      });
    } catch (err) {
      await transport.close();
      robot.close();
      throw err;
    }
    transport = recording.transport;
    log.info('recording', { file: args.record });
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const onEpisode = (e: BridgeEpisode) => {
    if (args.json) out(JSON.stringify({ event: 'episode', ...e }));
    else out(`episode ${e.episode} (seed ${e.seed}): return ${e.return.toFixed(3)}, ${e.length} steps${e.success === null ? '' : `, ${e.success ? 'success' : 'no success'}`}${e.mode ? `, mode ${e.mode}` : ''}`);
  };
  let bridge: import('../ros/sim-bridge/index.ts').SimBridge;
  try {
    bridge = SimBridge.start({
      transport, robot, clock: args.clock, seed, episodes, realTimeFactor: args.rtf,
      commandTimeoutMs: args['command-timeout-ms'], watchdogAction: args['watchdog-action'],
      lockstepTimeoutMs: args['lockstep-timeout-ms'], missedCommand: args['missed-command'], episodeEnd: args['episode-end'],
      topics: { commands: args['commands-topic'] }, logger: log, onEpisode, publishAlways: recording !== null,
    });
  } catch (err) {
    await transport.close();
    await recording?.finish();
    robot.close();
    throw err;
  }
  const keepAlive = setInterval(() => {}, 1 << 30); // inproc has no socket holding the event loop open
  let stopping = false;
  const finish = async (code: number, error?: Error) => {
    if (stopping) return;
    stopping = true;
    const summary = await bridge.close();
    if (recording) {
      // closed after the bridge and its transport, so the last messages are in
      const s = await recording.finish();
      log.info('recording closed', { file: s.path, messages: s.messages, bytes: s.bytes });
    }
    robot.close();
    clearInterval(keepAlive);
    if (args.json) out(JSON.stringify({ event: 'summary', ...summary }));
    else out(describeSummary(summary));
    if (error) log.error(error.message);
    // stdout may be a pipe: exit once everything is written
    process.stdout.write('', () => process.exit(code));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    log.info('stopping', { signal });
    void finish(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  bridge.done.then(
    () => void finish(0),
    (err: Error) => void finish(1, err),
  );
}

/** The end-of-run report: episodes, success, speed, real-time factor, counters, latency percentiles. */
export function describeSummary(s: BridgeSummary): string {
  const lines: string[] = [];
  const n = s.episodes.length;
  if (n > 0) {
    const mean = s.episodes.reduce((a, e) => a + e.return, 0) / n;
    const withSuccess = s.episodes.filter((e) => e.success !== null);
    lines.push(`${s.task}: ${n} episode${n === 1 ? '' : 's'}, return ${mean.toFixed(3)} (mean)${withSuccess.length > 0 ? `, success ${(100 * withSuccess.filter((e) => e.success).length / withSuccess.length).toFixed(1)}%` : ''}`);
  }
  lines.push(`${s.clock}: ${s.steps} steps in ${s.wallSeconds.toFixed(2)} s = ${s.stepsPerSecond.toFixed(1)} steps/s, real-time factor ${s.realTimeFactor.toFixed(3)}`);
  const c = s.counters;
  lines.push(`commands: ${c.commandsAccepted} accepted, ${c.commandsRefused} refused, ${c.commandsClamped} clamped, ${c.commandsStale} stale, ${c.commandsMissed} missed; watchdog timeouts ${c.watchdogTimeouts}`);
  const row = (name: string, l: BridgeSummary['latency']['physics']) =>
    l.count === 0 ? `  ${name.padEnd(11)} -` : `  ${name.padEnd(11)} p50 ${l.p50.toFixed(3)}  p90 ${l.p90.toFixed(3)}  p99 ${l.p99.toFixed(3)}  max ${l.max.toFixed(3)} ms  (n ${l.count})`;
  lines.push('latency:', row('physics', s.latency.physics), row('publish', s.latency.publish), row('round trip', s.latency.roundTrip), row('apply', s.latency.apply));
  return lines.join('\n');
}
