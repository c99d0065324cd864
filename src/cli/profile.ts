// `onestep profile`: observation → command latency of a policy node on a live ROS 2 graph (or from a recording),
// per stage when the node is onestep's, against the model's training control period; table, JSON, HTML, budgets.
import type { Argv, CommandModule, Options } from 'yargs';

const OPTIONS = {
  model: { type: 'string', description: 'The model the node runs: its hash and task go in the report; its task gives the training control period; its action names the joints', default: '' },
  'params-file': { type: 'string', array: true, description: 'The node\'s parameter YAML: topics, types and observation sources are taken from it (an onestep node)', default: [] as string[] },
  node: { type: 'string', description: 'Fully-qualified name of the node under test (parameters section; its ~/timings topic)', default: '/policy_node' },
  'observation-topic': { type: 'string', description: 'Trigger observation topic (default: from the parameters, else /joint_states)' },
  'observation-type': { type: 'string', description: 'Its type', default: 'sensor_msgs/msg/JointState' },
  'command-topic': { type: 'string', description: 'Command topic (default: from the parameters, else /forward_position_controller/commands)' },
  'command-type': { type: 'string', description: 'Its type (onestep_msgs/msg/Action commands are matched by the observation stamp they echo)', default: 'std_msgs/msg/Float64MultiArray' },
  joints: { type: 'string', description: 'Comma-separated joint names for the JointState observations (default: the parameters\', else the model\'s)' },
  timings: { type: 'boolean', description: 'Read the node\'s per-pass timings from <node>/timings (an onestep node with diagnostics.timings:=true)', default: true },
  tap: { type: 'boolean', description: 'Do not publish: tap the observations a robot or simulator publishes', default: false },
  lockstep: { type: 'boolean', description: 'Publish the next observation only once the previous one is answered (or its period passed, whichever is later)', default: false },
  rate: { type: 'number', description: 'Observation rate (Hz) when publishing', defaultDescription: 'the training control rate, else 50' },
  duration: { type: 'number', description: 'Seconds to measure (warm-up included)', default: 10 },
  warmup: { type: 'number', description: 'Seconds cut from the start (JIT, first ORT runs, discovery)', default: 1 },
  'control-period-ms': { type: 'number', description: 'The training control period (default: the model\'s task, e.g. 50 ms for arm_reach)' },
  pid: { type: 'number', description: 'The node\'s process id: its CPU and RSS are sampled every 500 ms (Linux)' },
  transport: { type: 'string', choices: ['auto', 'rtps', 'rclnodejs'], description: 'ROS 2 transport', default: 'rtps' },
  'domain-id': { type: 'number', description: 'ROS domain id', defaultDescription: '$ROS_DOMAIN_ID or 0' },
  json: { type: 'string', description: 'Write the full report (raw distributions, series, context) as JSON' },
  html: { type: 'string', description: 'Write a self-contained HTML report (charts; opens from file://)' },
  record: { type: 'string', description: 'Record what the profiler publishes and receives (and the node\'s timings) into an MCAP file' },
  thresholds: { type: 'string', description: 'Budgets (YAML); exit status 1 when one is exceeded' },
  compare: { type: 'string', array: true, description: 'Compare two reports written with --json: --compare a.json b.json' },
  quiet: { type: 'boolean', description: 'Only the table', default: false },
} satisfies Record<string, Options>;

interface ProfileArgs {
  recording?: string;
  model: string;
  'params-file': string[];
  node: string;
  'observation-topic'?: string;
  'observation-type': string;
  'command-topic'?: string;
  'command-type': string;
  joints?: string;
  timings: boolean;
  tap: boolean;
  lockstep: boolean;
  rate?: number;
  duration: number;
  warmup: number;
  'control-period-ms'?: number;
  pid?: number;
  transport: string;
  'domain-id'?: number;
  json?: string;
  html?: string;
  record?: string;
  thresholds?: string;
  compare?: string[];
  quiet: boolean;
}

const command: CommandModule<object, ProfileArgs> = {
  command: 'profile [recording]',
  describe: 'Measure a policy node\'s observation → command latency per stage on a live graph or from a recording',
  builder: (y: Argv) =>
    (y
      .positional('recording', { type: 'string', describe: 'An MCAP recording (serve/sim-bridge/profile --record) to report from instead of a live graph' })
      .options(OPTIONS)
      .example('$0 profile --model models/arm_reach/policy.onnx --params-file launch/arm_policy.yaml --html report.html', 'be the robot for a running `onestep serve` and report')
      .example('$0 profile --tap --command-topic /forward_position_controller/commands --duration 30', 'watch a running robot and any policy node')
      .example('$0 profile run.mcap --html run.html', 'report from a recording')
      .example('$0 profile ... --json new.json --thresholds budgets.yaml', 'fail a CI job on a budget')
      .example('$0 profile --compare old.json new.json', 'two runs side by side')) as unknown as Argv<ProfileArgs>,
  handler: async (args) => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const profile = await import('../ros/profile/index.ts');
    if (args.compare !== undefined) {
      if (args.compare.length !== 2) throw new Error(`--compare takes two report files, got ${args.compare.length}`);
      const [a, b] = args.compare.map((p) => profile.parseReport(readFileSync(p, 'utf8'), p));
      process.stdout.write(`${profile.compareReports(a, b, args.compare as [string, string])}\n`);
      return;
    }
    for (const [flag, v] of [['duration', args.duration], ['warmup', args.warmup]] as const) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`--${flag} must be a number of seconds ≥ 0 (got ${v})`);
    }
    if (args.warmup >= args.duration && args.recording === undefined) throw new Error(`--warmup (${args.warmup} s) must be shorter than --duration (${args.duration} s)`);
    const log = (line: string) => {
      if (!args.quiet) process.stderr.write(`profile: ${line}\n`);
    };
    const model = args.model !== '' ? await profile.modelContext(args.model) : undefined;
    const trainingPeriodMs = args['control-period-ms'] ?? (model ? await taskControlPeriodMs(model.task, log) : null);
    const machine = profile.machineContext();
    const notes: string[] = [];
    let report: import('../ros/profile/report.ts').ProfileReport;

    if (args.recording !== undefined) {
      const { readRecordingRun } = await import('../ros/profile/recording.ts');
      const run = await readRecordingRun(args.recording, {
        observation: args['observation-topic'], command: args['command-topic'], warmupS: args.warmup, trainingPeriodMs,
      });
      if (run.passes.length === 0) notes.push(run.topics.timings ? 'the node\'s timings were recorded on another host: no stages' : 'no node timings in the recording (diagnostics.timings)');
      notes.push(`recorded by ${run.recordedBy}: latencies are between that process's receive and send times`);
      report = profile.makeReport(run, {
        createdAt: new Date().toISOString(), source: 'recording', recording: args.recording, machine, versions: profile.versionsContext(), model,
        transport: 'recording', topics: { ...run.topics, timings: run.topics.timings ?? undefined },
        qos: { observation: '(recorded)', command: '(recorded)' }, clock: run.simTime ? 'sim' : 'wall', pacing: 'recorded',
        rateHz: run.nominalPeriodMs ? +(1000 / run.nominalPeriodMs).toFixed(2) : null, warmupS: args.warmup, nodeTimings: run.passes.length > 0, notes,
      });
    } else {
      report = await profileLive(args, { model, trainingPeriodMs, machine, notes, log });
    }
    report.context.machine.loadAverage.end = (await import('node:os')).loadavg();

    process.stdout.write(`${profile.formatReport(report)}\n`);
    if (args.json) {
      writeFileSync(args.json, `${JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1)}\n`);
      log(`wrote ${args.json}`);
    }
    if (args.html) {
      writeFileSync(args.html, profile.renderHtml(report));
      log(`wrote ${args.html}`);
    }
    if (args.thresholds) {
      const results = profile.checkThresholds(report, readFileSync(args.thresholds, 'utf8'), args.thresholds);
      process.stdout.write(`\nbudgets (${args.thresholds}):\n${profile.formatThresholds(results)}\n`);
      const failed = results.filter((r) => !r.ok);
      if (failed.length > 0) {
        process.stderr.write(`profile: ${failed.length} budget${failed.length > 1 ? 's' : ''} exceeded: ${failed.map((f) => f.metric).join(', ')}\n`);
        process.exitCode = 1;
      }
    }
  },
};
export default command;

/** The task's control period: frame skip × physics time step of its MuJoCo model (null when the task is unknown). */
async function taskControlPeriodMs(task: string, log: (line: string) => void): Promise<number | null> {
  try {
    const { SharedModel, TASK_NAMES } = await import('../sim/index.ts');
    if (!TASK_NAMES.includes(task)) {
      log(`task ${task} is not a built-in task: pass --control-period-ms for the training control period`);
      return null;
    }
    const shared = await SharedModel.load(task);
    return +(shared.task.frameSkip * shared.timestep * 1000).toFixed(6);
  } catch (err) {
    log(`cannot read the control period of task ${task} (${(err as Error).message}): pass --control-period-ms`);
    return null;
  }
}

interface LiveContext {
  model: import('../ros/profile/report.ts').ProfileContext['model'];
  trainingPeriodMs: number | null;
  machine: import('../ros/profile/report.ts').ProfileContext['machine'];
  notes: string[];
  log: (line: string) => void;
}

async function profileLive(args: ProfileArgs, c: LiveContext): Promise<import('../ros/profile/report.ts').ProfileReport> {
  const profile = await import('../ros/profile/index.ts');
  const { createTransport } = await import('../ros/index.ts');
  const { getMessageCodec } = await import('../ros/msgs/registry.ts');
  const { resolveTopicName } = await import('../ros/names.ts');
  const nodeFqn = args.node.startsWith('/') ? args.node : `/${args.node}`;
  const at = nodeFqn.lastIndexOf('/');
  const nodeId = { name: nodeFqn.slice(at + 1), namespace: at <= 0 ? '/' : nodeFqn.slice(0, at) };

  // what the node listens to and publishes: its parameter file when given (onestep node), else the flags
  let config: import('../ros/node/params.ts').NodeConfig | null = null;
  if (args['params-file'].length > 0) {
    const { readParametersFile } = await import('../ros/node/ros-args.ts');
    const { buildConfig } = await import('../ros/node/params.ts');
    const overrides = new Map<string, import('../ros/node/ros-args.ts').ParameterValue>();
    for (const f of args['params-file']) for (const [k, v] of readParametersFile(f, nodeId)) overrides.set(k, v);
    if (!overrides.has('model') && args.model !== '') overrides.set('model', args.model);
    config = buildConfig(overrides, `parameters of ${nodeFqn} in ${args['params-file'].join(', ')}`);
  }
  const trigger = config?.sources.find((s) => s.name === config!.trigger);
  const resolve = (topic: string) => resolveTopicName(topic, nodeId);
  const observationTopic = args['observation-topic'] ?? (trigger ? resolve(trigger.topic) : '/joint_states');
  const observationType = args['observation-topic'] === undefined && trigger ? trigger.type : args['observation-type'];
  const commandTopic = args['command-topic'] ?? (config ? resolve(config.action.topic) : '/forward_position_controller/commands');
  const commandType = args['command-topic'] === undefined && config ? config.action.type : args['command-type'];
  // tapping, the profiler must not slow the loop or see retransmission delays of its own: best effort; as the robot,
  // it subscribes as the controller does (reliable by default)
  const commandQos = args.tap ? 'sensor_data' : (config?.action.qos ?? 'default');
  getMessageCodec(observationType);
  getMessageCodec(commandType);

  const rateHz = args.rate ?? (c.trainingPeriodMs ? 1000 / c.trainingPeriodMs : 50);
  if (!(rateHz > 0 && rateHz <= 10000)) throw new Error(`--rate must be in (0, 10000] Hz (got ${rateHz})`);
  let modelSpec: import('../format/spec.ts').PolicySpec | undefined;
  if (args.model !== '') modelSpec = await (await import('../runtime/policy-runtime.ts')).readModelSpec(args.model);
  const joints = args.joints?.split(',').map((s) => s.trim()).filter(Boolean) ?? (trigger?.jointNames.length ? trigger.jointNames : modelSpec?.action.names ?? []);

  const makeFor = (type: string, source?: import('../ros/node/observation.ts').SourceConfig) => {
    if (type === 'sensor_msgs/msg/JointState') {
      if (joints.length === 0) throw new Error('no joint names for the JointState observations: pass --joints, --model or --params-file');
      const home = joints.map((j) => {
        const k = modelSpec?.action.names.indexOf(j) ?? -1;
        return k >= 0 && modelSpec!.action.mode !== 'delta' ? modelSpec!.action.offset[k] : 0;
      });
      return (k: number, stamp: { sec: number; nanosec: number }) => ({
        header: { stamp, frame_id: '' }, name: joints,
        position: home.map((h, j) => h + 0.05 * Math.sin(0.05 * k + j)), velocity: joints.map((_, j) => 0.0025 * Math.cos(0.05 * k + j)), effort: [],
      });
    }
    if (type === 'geometry_msgs/msg/PointStamped') {
      return (k: number, stamp: { sec: number; nanosec: number }) => ({ header: { stamp, frame_id: 'world' }, point: { x: 0.4 + 0.05 * Math.cos(0.01 * k), y: 0.05 * Math.sin(0.01 * k), z: 0.4 } });
    }
    if (type === 'std_msgs/msg/Float64MultiArray' || type === 'std_msgs/msg/Float32MultiArray') {
      const n = source ? source.size || source.names.length : 0;
      if (n === 0) throw new Error(`cannot synthesise ${source?.topic ?? type}: set observation.${source?.name ?? '<name>'}.size or names`);
      return () => ({ layout: { dim: [], data_offset: 0 }, data: Array.from({ length: n }, () => 0) });
    }
    const codec = getMessageCodec(type);
    return (_k: number, stamp: { sec: number; nanosec: number }) => {
      const m = codec.create() as Record<string, unknown>;
      if ('header' in m) m.header = { stamp, frame_id: '' };
      if (type === 'onestep_msgs/msg/Observation' && modelSpec) m.data = new Array(modelSpec.observation.size).fill(0);
      return m;
    };
  };
  const extra = (config?.sources ?? [])
    .filter((s) => s.name !== config!.trigger && (s.kind ?? 'topic') === 'topic')
    .map((s) => ({ topic: resolve(s.topic), type: s.type, qos: 'default' as const, every: 1, make: makeFor(s.type, s) }));

  const transport = await createTransport({ kind: args.transport as 'rtps', node: { name: 'onestep_profile', namespace: '/' }, domainId: args['domain-id'], log: c.log });
  let session: import('../ros/mcap/session.ts').RecordingSession | null = null;
  if (args.record) {
    const { startRecording } = await import('../ros/mcap/session.ts');
    session = await startRecording(transport, args.record, {
      customData: { recorded_by: 'onestep profile', node: nodeFqn },
      attachments: args.model !== '' ? [{ name: 'policy.onnx', mediaType: 'application/x-onnx', path: args.model }] : [],
    });
  }
  const timingsTopic = args.timings ? `${nodeFqn}/timings` : null;
  // tapping an onestep node that publishes its timings: its receive stamps stand for the observations' arrival
  let observationsFromTimings = false;
  if (args.tap && timingsTopic) {
    c.log(`waiting up to 10 s for ${timingsTopic} (an onestep node with diagnostics.timings)`);
    const end = Date.now() + 10000;
    while (Date.now() < end && !transport.topics().some((x) => x.topic === timingsTopic && x.publishers > 0)) await new Promise((r) => setTimeout(r, 50));
    observationsFromTimings = transport.topics().some((x) => x.topic === timingsTopic && x.publishers > 0);
    if (observationsFromTimings) c.notes.push('tapping an onestep node with timings: the trip runs from the node\'s receipt to its publish returning, from the node\'s own stamps (no subscription to observations or commands, so nobody sends anything extra); no wire times');
  }
  try {
    const run = await profile.runLiveProfile({
      transport: session?.transport ?? transport,
      observation: { topic: observationTopic, type: observationType, qos: args.tap ? 'sensor_data' : 'default' },
      command: { topic: commandTopic, type: commandType, qos: commandQos },
      timingsTopic,
      mode: args.tap ? 'tap' : 'publish',
      makeObservation: args.tap ? undefined : makeFor(observationType, trigger),
      extra: args.tap ? [] : extra,
      rateHz, lockstep: args.lockstep, durationS: args.duration, warmupS: args.warmup,
      nodePid: args.pid, trainingPeriodMs: c.trainingPeriodMs, log: c.log, observationsFromTimings,
    });
    if (timingsTopic && run.passes.length === 0) c.notes.push(`no per-pass timings on ${timingsTopic} (an onestep node needs diagnostics.timings:=true): end to end only`);
    if (run.passes.length > 0 && !run.sameClock) c.notes.push('the node runs on another host or boot: stages inside the node only, no wire times');
    if (config?.mode === 'timer') c.notes.push(`timer mode (${config.controlRateHz} Hz, decimation ${config.decimation}): wire_in includes the wait for the next inference tick, and an observation superseded before it counts as lost`);
    if (c.trainingPeriodMs === null) c.notes.push('training control period unknown (--model of a built-in task, or --control-period-ms)');
    return profile.makeReport(run, {
      createdAt: new Date().toISOString(), source: 'live', machine: c.machine, versions: profile.versionsContext(), model: c.model,
      transport: transport.kind,
      topics: { observation: observationTopic, observationType, command: commandTopic, commandType, timings: timingsTopic ?? undefined },
      qos: { observation: args.tap ? 'sensor_data' : 'default', command: commandQos },
      clock: config?.useSimTime ? 'sim' : 'wall',
      pacing: args.tap ? 'tapped' : args.lockstep ? 'lockstep' : 'real-time',
      rateHz: args.tap ? null : rateHz, warmupS: args.warmup, nodeTimings: run.passes.length > 0, notes: c.notes,
    }, args.pid);
  } finally {
    await transport.close();
    if (session) {
      const s = await session.finish();
      c.log(`recorded ${s.messages} messages into ${s.path}`);
    }
  }
}
