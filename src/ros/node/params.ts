// The policy node's parameters: every one declared with type, default and description (what
// `onestep serve --help-params` prints and what launch/*.yaml may set), then turned into a typed NodeConfig.
// Observation sources are named in `observation.sources`; each name opens the `observation.<name>.*` group.
import type { ActionMode } from '../../format/spec.ts';
import type { QosProfileName } from '../transport.ts';
import { ACTION_TYPES, type ActionType } from './action.ts';
import { OBSERVATION_TYPES, SOURCE_KINDS, type ObservationType, type SourceConfig, type SourceKind } from './observation.ts';
import { ParameterError, resolveParameters, type ParameterDescriptor, type ParameterValue } from './ros-args.ts';
import type { StaleAction } from './safety.ts';

const QOS_CHOICES = ['sensor_data', 'default', 'system_default'] as const;

/** Node-wide parameters (the per-source group is declared from `observation.sources`). */
export const NODE_PARAMETERS: ReadonlyMap<string, ParameterDescriptor> = new Map<string, ParameterDescriptor>([
  ['model', { type: 'string', default: '', description: 'Path of the exported ONNX policy (the --model flag sets it too)' }],
  ['deterministic', { type: 'bool', default: false, description: 'Feed zero noise: the policy\'s mode action instead of a sample' }],
  ['seed', { type: 'int', default: 0, description: 'Seed of the policy\'s noise generator' }],
  ['mode', { type: 'string', default: 'event', choices: ['event', 'timer'], description: 'event: act on every observation of the trigger source; timer: act at control_rate_hz on the newest observation' }],
  ['control_rate_hz', { type: 'double', default: 100, min: 0.1, max: 10000, description: 'Timer mode: the command publishing rate (Node timers tick in whole milliseconds: above ~250 Hz prefer event mode)' }],
  ['decimation', { type: 'int', default: 1, min: 1, description: 'Timer mode: run the policy every N control ticks (policy rate = control_rate_hz / decimation)' }],
  ['interpolate', { type: 'bool', default: false, description: 'Timer mode with decimation: interpolate linearly between policy commands instead of holding' }],
  ['deadline_ms', { type: 'double', default: 0, min: 0, description: 'Observation-received → action-sent budget; later actions count as deadline misses (0: one control period in timer mode, off in event mode)' }],
  ['watch_model', { type: 'bool', default: true, description: 'Reload the model when its file changes (validated first; a bad model is refused and the old one keeps running)' }],
  ['observation.sources', { type: 'string[]', default: ['joint_states'], description: 'Names of the observation sources, in observation order; each has an observation.<name>.* group' }],
  ['observation.trigger', { type: 'string', default: '', description: 'Event mode: the topic source whose messages trigger an action (default: the first topic source)' }],
  ['observation.check_names', { type: 'bool', default: true, description: 'Compare the sources\' value names with the model\'s observation names at start' }],
  ['action.topic', { type: 'string', default: 'commands', description: 'Where commands are published (e.g. /forward_position_controller/commands)' }],
  ['action.type', { type: 'string', default: 'std_msgs/msg/Float64MultiArray', choices: ACTION_TYPES, description: 'Command message type' }],
  ['action.qos', { type: 'string', default: 'default', choices: QOS_CHOICES, description: 'QoS of the command publisher (reliable "default" matches ros2_control controllers)' }],
  ['action.joint_names', { type: 'string[]', default: [], description: 'Joint order the controller expects (default: the model\'s action names)' }],
  ['action.mode', { type: 'string', default: '', choices: ['', 'absolute', 'relative', 'delta'], description: 'Override the model\'s action mode (empty: from the model metadata)' }],
  ['action.scale', { type: 'double[]', default: [], description: 'Extra per-joint scale on the model\'s action (one value or one per joint; empty: 1)' }],
  ['action.offset', { type: 'double[]', default: [], description: 'Extra per-joint offset on the model\'s action (one value or one per joint; empty: 0)' }],
  ['action.time_from_start_ms', { type: 'double', default: 0, min: 0, description: 'JointTrajectory: time of the single point (0: two control periods, or 20 ms in event mode)' }],
  ['action.state_source', { type: 'string', default: '', description: 'JointState source giving the measured joint positions/velocities (blend-in, delta, damping); default: the first JointState source' }],
  ['safety.lower', { type: 'double[]', default: [], description: 'Per-joint lower command limit (one value or one per joint; default: the model\'s action.low)' }],
  ['safety.upper', { type: 'double[]', default: [], description: 'Per-joint upper command limit (default: the model\'s action.high)' }],
  ['safety.max_step', { type: 'double[]', default: [], min: 0, description: 'Largest command change between two published actions, per joint (0 or empty: no rate limit)' }],
  ['safety.blend_in_steps', { type: 'int', default: 0, min: 0, description: 'Blend from the measured position to the policy command over N actions at start and after recovery (0: off)' }],
  ['safety.watchdog_ms', { type: 'double', default: 100, min: 0, description: 'No valid observation from the trigger source for this long → safe action (0 disables)' }],
  ['safety.stale_action', { type: 'string', default: 'hold', choices: ['hold', 'zero', 'damping'], description: 'Safe action while stale and at shutdown: hold the last command, zeros, or −damping_gain·velocity' }],
  ['safety.damping_gain', { type: 'double[]', default: [1], min: 0, description: 'Damping safe action gain per joint (one value or one per joint)' }],
  ['safety.recovery_observations', { type: 'int', default: 1, min: 1, description: 'Consecutive valid observations needed to leave the stale state' }],
  ['diagnostics.rate_hz', { type: 'double', default: 1, min: 0, description: 'Rate of /diagnostics and ~/status (0 disables)' }],
  ['diagnostics.policy_io', { type: 'bool', default: false, description: 'Echo observation and action on ~/policy_io (Float64MultiArray) for every inference' }],
  ['diagnostics.timings', { type: 'bool', default: false, description: 'Publish every pass\'s clock reads (receive, decode, assemble, infer, post-process, encode, send) on ~/timings, in batches (onestep_msgs/PassTimings), for `onestep profile`' }],
  ['log_format', { type: 'string', default: 'text', choices: ['text', 'json'], description: 'Log lines as text or one JSON object per line' }],
  ['log_throttle_ms', { type: 'double', default: 1000, min: 0, description: 'Least time between two repeated warnings of one kind (dropped observations, deadline misses)' }],
  ['use_sim_time', { type: 'bool', default: false, description: 'Follow /clock (rosgraph_msgs/Clock) for stamps and timer-mode ticks instead of the system clock; watchdogs stay on the wall clock' }],
  ['autostart', { type: 'bool', default: true, description: 'Act as soon as every observation source has spoken; false: stay passive (no commands) until ~/enable' }],
]);

/**
 * Parameters a running node accepts changes to (set_parameters, `onestep param set`, `ros2 param set`); the others
 * shape the node's endpoints, observation layout or control loop and take effect at start only. Safety limits,
 * rate limit, blend-in, watchdog and its safe action, deadlines, diagnostics, logging and the clock change live;
 * `model` loads the named model (refused, with the reason, when it does not fit the running layout).
 */
export const RUNTIME_PARAMETERS: ReadonlySet<string> = new Set([
  'model', 'deadline_ms', 'use_sim_time',
  'safety.lower', 'safety.upper', 'safety.max_step', 'safety.blend_in_steps', 'safety.watchdog_ms', 'safety.stale_action',
  'safety.damping_gain', 'safety.recovery_observations',
  'diagnostics.rate_hz', 'diagnostics.policy_io', 'log_throttle_ms',
]);

/** Per-source parameters, declared as observation.<name>.<key> for every name in observation.sources. */
export const SOURCE_PARAMETERS: ReadonlyMap<string, ParameterDescriptor> = new Map<string, ParameterDescriptor>([
  ['kind', { type: 'string', default: 'topic', choices: SOURCE_KINDS, description: 'topic: read from a subscription. Derived in the node before each policy step, no subscription: difference (of: [a, b] → a − b, e.g. target − tool tip), distance (of: [a, b] → |a − b|, or [a] → |a|), last_command (the joint-position command the node last computed from the policy, rad, after the joint-limit clamp and before rate limit, interpolation and blend-in; the measured positions before the first action, after a watchdog recovery and when the trigger\'s stamps jump back, e.g. a simulator reset; names <joint>_command)' }],
  ['of', { type: 'string[]', default: [], description: 'difference / distance: the topic sources they are computed from, by name' }],
  ['topic', { type: 'string', default: '', description: 'Topic of this source (default: the source name, relative to the node namespace)' }],
  ['type', { type: 'string', default: 'sensor_msgs/msg/JointState', choices: OBSERVATION_TYPES, description: 'Message type of this source' }],
  ['fields', { type: 'string[]', default: [], description: 'JointState: position/velocity/effort (default position, velocity); PoseStamped: position/orientation (default both)' }],
  ['joint_names', { type: 'string[]', default: [], description: 'JointState and last_command: joints to read, by name (default: the model\'s action names)' }],
  ['size', { type: 'int', default: 0, min: 0, description: 'Arrays: number of values (0: what the model leaves for this source)' }],
  ['names', { type: 'string[]', default: [], description: 'Arrays: names of the values, checked against the model\'s observation names' }],
  ['qos', { type: 'string', default: 'sensor_data', choices: QOS_CHOICES, description: 'QoS of the subscription (best-effort sensor_data matches every publisher)' }],
]);

/**
 * The policy node's typed configuration, built from ROS parameters by {@link buildConfig} (every parameter: `onestep
 * serve --help-params`).
 */
export interface NodeConfig {
  model: string;
  deterministic: boolean;
  seed: number;
  mode: 'event' | 'timer';
  controlRateHz: number;
  decimation: number;
  interpolate: boolean;
  deadlineMs: number;
  watchModel: boolean;
  sources: (SourceConfig & { qos: QosProfileName })[];
  trigger: string;
  checkNames: boolean;
  action: {
    topic: string;
    type: ActionType;
    qos: QosProfileName;
    jointNames: string[];
    mode: ActionMode | '';
    scale: number[];
    offset: number[];
    timeFromStartMs: number;
    stateSource: string;
  };
  safety: {
    lower: number[];
    upper: number[];
    maxStep: number[];
    blendInSteps: number;
    watchdogMs: number;
    staleAction: StaleAction;
    dampingGain: number[];
    recoveryObservations: number;
  };
  diagnostics: { rateHz: number; policyIo: boolean; timings: boolean };
  logFormat: 'text' | 'json';
  logThrottleMs: number;
  useSimTime: boolean;
  autostart: boolean;
  /** Every declared parameter's value this configuration was built from (what the node's parameter services serve). */
  parameters?: ReadonlyMap<string, ParameterValue>;
}

/** Every declared parameter for these overrides (the source groups depend on observation.sources). */
export function declaredParameters(overrides: ReadonlyMap<string, ParameterValue>): Map<string, ParameterDescriptor> {
  const declared = new Map(NODE_PARAMETERS);
  const sources = overrides.get('observation.sources') ?? NODE_PARAMETERS.get('observation.sources')!.default;
  if (!Array.isArray(sources) || !sources.every((s) => typeof s === 'string')) {
    throw new ParameterError('observation.sources', `parameter "observation.sources" = ${JSON.stringify(sources)} is not a list of strings`);
  }
  for (const name of sources as string[]) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new ParameterError('observation.sources', `observation.sources has "${name}": a source name must be letters, digits and "_"`);
    }
    for (const [key, desc] of SOURCE_PARAMETERS) declared.set(`observation.${name}.${key}`, desc);
  }
  if (new Set(sources as string[]).size !== (sources as string[]).length) {
    throw new ParameterError('observation.sources', `observation.sources repeats a name: ${(sources as string[]).join(', ')}`);
  }
  return declared;
}

/**
 * Typed configuration from parameter overrides. `defaults.jointNames` are the model's action names, used when a
 * JointState source or the action names none.
 */
export function buildConfig(overrides: ReadonlyMap<string, ParameterValue>, where = 'parameters'): NodeConfig {
  const p = resolveParameters(declaredParameters(overrides), overrides, where);
  const str = (k: string) => p.get(k) as string;
  const num = (k: string) => p.get(k) as number;
  const bool = (k: string) => p.get(k) as boolean;
  const nums = (k: string) => p.get(k) as number[];
  const strs = (k: string) => p.get(k) as string[];
  const sourceNames = strs('observation.sources');
  if (sourceNames.length === 0) throw new ParameterError('observation.sources', 'observation.sources is empty: name at least one observation source');
  const sources = sourceNames.map((name) => {
    const g = (k: string) => `observation.${name}.${k}`;
    const type = str(g('type')) as ObservationType;
    const kind = str(g('kind')) as SourceKind;
    const fields = strs(g('fields'));
    const fromTopic = kind === 'topic';
    return {
      name,
      kind,
      of: strs(g('of')),
      topic: str(g('topic')) || name,
      type,
      fields: fields.length > 0 || !fromTopic ? fields : type === 'sensor_msgs/msg/JointState' ? ['position', 'velocity'] : type === 'geometry_msgs/msg/PoseStamped' ? ['position', 'orientation'] : [],
      jointNames: strs(g('joint_names')),
      size: num(g('size')),
      names: strs(g('names')),
      qos: str(g('qos')) as QosProfileName,
    };
  });
  const topicSources = sources.filter((s) => s.kind === 'topic').map((s) => s.name);
  const trigger = str('observation.trigger') || topicSources[0] || sourceNames[0];
  if (!topicSources.includes(trigger)) {
    throw new ParameterError('observation.trigger', `observation.trigger "${trigger}" is not one of the topic sources in observation.sources (${topicSources.join(', ') || 'none'})`);
  }
  const stateSource = str('action.state_source');
  if (stateSource !== '') {
    const s = sources.find((x) => x.name === stateSource);
    if (!s || s.kind !== 'topic' || s.type !== 'sensor_msgs/msg/JointState') {
      throw new ParameterError('action.state_source', `action.state_source "${stateSource}" must name a sensor_msgs/msg/JointState source in observation.sources`);
    }
  }
  return {
    model: str('model'),
    deterministic: bool('deterministic'),
    seed: num('seed'),
    mode: str('mode') as 'event' | 'timer',
    controlRateHz: num('control_rate_hz'),
    decimation: num('decimation'),
    interpolate: bool('interpolate'),
    deadlineMs: num('deadline_ms'),
    watchModel: bool('watch_model'),
    sources,
    trigger,
    checkNames: bool('observation.check_names'),
    action: {
      topic: str('action.topic'),
      type: str('action.type') as ActionType,
      qos: str('action.qos') as QosProfileName,
      jointNames: strs('action.joint_names'),
      mode: str('action.mode') as ActionMode | '',
      scale: nums('action.scale'),
      offset: nums('action.offset'),
      timeFromStartMs: num('action.time_from_start_ms'),
      stateSource,
    },
    safety: {
      lower: nums('safety.lower'),
      upper: nums('safety.upper'),
      maxStep: nums('safety.max_step'),
      blendInSteps: num('safety.blend_in_steps'),
      watchdogMs: num('safety.watchdog_ms'),
      staleAction: str('safety.stale_action') as StaleAction,
      dampingGain: nums('safety.damping_gain'),
      recoveryObservations: num('safety.recovery_observations'),
    },
    diagnostics: { rateHz: num('diagnostics.rate_hz'), policyIo: bool('diagnostics.policy_io'), timings: bool('diagnostics.timings') },
    logFormat: str('log_format') as 'text' | 'json',
    logThrottleMs: num('log_throttle_ms'),
    useSimTime: bool('use_sim_time'),
    autostart: bool('autostart'),
    parameters: p,
  };
}

/** The parameter reference as text (for `onestep serve --help-params` and docs). */
export function describeParameters(): string {
  const line = (name: string, d: ParameterDescriptor) =>
    `  ${name.padEnd(38)} ${d.type.padEnd(9)} default ${JSON.stringify(d.default)}${d.choices ? ` (${d.choices.filter((c) => c).join('|')})` : ''}\n      ${d.description}`;
  const out = [
    'Node parameters (ROS 2 YAML under "<node>: ros__parameters:" or -p name:=value; "(live)": may change while the node runs):',
  ];
  for (const [k, d] of NODE_PARAMETERS) out.push(line(k, RUNTIME_PARAMETERS.has(k) ? { ...d, description: `${d.description} (live)` } : d));
  out.push('', 'Per observation source <name> listed in observation.sources:');
  for (const [k, d] of SOURCE_PARAMETERS) out.push(line(`observation.<name>.${k}`, d));
  return out.join('\n');
}
