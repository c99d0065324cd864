// How a policy node lays one model against its parameters: the observation sources against the model's observation
// names, the model's actions onto the output joints, and the safety limits — the plan a node runs, built at start
// and again for a reloaded model.
import type { PolicySpec } from '../../format/spec.ts';
import type { NodeConfig } from './params.ts';
import { ActionMapper } from './action.ts';
import { ObservationAssembler, isDerived, layoutSources } from './observation.ts';
import { makeLimits } from './safety.ts';

/** What the node needs from a loaded policy (PolicyRuntime satisfies it). */
export interface Policy {
  readonly spec: PolicySpec;
  readonly observationSize: number;
  readonly actionSize: number;
  act(observation: Float32Array): Float32Array;
  close(): void;
}

/** Loads the model at `path` (e.g. `(p) => PolicyRuntime.load(p)`); used at start and for every reload. */
export type PolicyLoader = (path: string) => Promise<Policy>;

/** The node cannot start or reload as configured; the message names both sides of the mismatch. */
export class PolicyNodeError extends Error {
  override name = 'PolicyNodeError';
}

/** One model laid against the node's parameters. */
export interface Plan {
  assembler: ObservationAssembler;
  mapper: ActionMapper;
  limits: ReturnType<typeof makeLimits>;
  /** What the model can command (output order): offset ± scale within its limits. */
  commandRange: { lower: Float64Array; upper: Float64Array };
  triggerIndex: number;
  stateIndex: number;
  stateJoints: readonly string[];
}

/**
 * Lays the configured sources and outputs against one model's metadata. Throws PolicyNodeError naming what the
 * model says and what the parameters say.
 */
export function planFor(spec: PolicySpec, config: NodeConfig, source: string): Plan {
  try {
    const actionNames = spec.action.names;
    const sources = config.sources.map((s) =>
      (s.kind === 'last_command' || (!isDerived(s) && s.type === 'sensor_msgs/msg/JointState')) && s.jointNames.length === 0
        ? { ...s, jointNames: [...actionNames] }
        : s,
    );
    const layouts = layoutSources(sources, { names: spec.observation.names, size: spec.observation.size, source }, config.checkNames);
    const mapper = new ActionMapper({
      policyNames: actionNames,
      outputNames: config.action.jointNames,
      mode: config.action.mode || spec.action.mode,
      scale: config.action.scale,
      offset: config.action.offset,
      source,
    });
    const assembler = new ObservationAssembler(layouts, spec.observation.size, mapper.names);
    // The model's own limits are in policy order; the command is in output order.
    const reorder = (v: readonly number[]) => mapper.names.map((n) => v[actionNames.indexOf(n)]);
    const limits = makeLimits(
      mapper.size,
      {
        lower: config.safety.lower.length > 0 ? config.safety.lower : mapper.mode === 'delta' ? [] : reorder(spec.action.low),
        upper: config.safety.upper.length > 0 ? config.safety.upper : mapper.mode === 'delta' ? [] : reorder(spec.action.high),
        maxStep: config.safety.maxStep,
        blendInSteps: config.safety.blendInSteps,
      },
      mapper.names,
    );
    const triggerIndex = sources.findIndex((s) => s.name === config.trigger);
    const stateName = config.action.stateSource || sources.find((s) => !isDerived(s) && s.type === 'sensor_msgs/msg/JointState')?.name;
    const stateIndex = stateName === undefined ? -1 : sources.findIndex((s) => s.name === stateName);
    if (mapper.mode === 'delta' && stateIndex < 0) {
      throw new PolicyNodeError(`the model ${source} acts in delta mode, which needs a sensor_msgs/msg/JointState source for the measured positions`);
    }
    if (assembler.usesCommand && stateIndex < 0) {
      throw new PolicyNodeError('a last_command observation source starts from the measured joint positions: configure a sensor_msgs/msg/JointState source');
    }
    // offset ± scale bounds what a ∈ [-1, 1] can mean; a float32 output may round a hair past it
    const { offset, scale, low, high } = spec.action;
    const commandRange = mapper.range(
      offset.map((o, k) => Math.max(low[k], o - Math.abs(scale[k]))),
      offset.map((o, k) => Math.min(high[k], o + Math.abs(scale[k]))),
    );
    return { assembler, mapper, limits, commandRange, triggerIndex, stateIndex, stateJoints: mapper.names };
  } catch (err) {
    if (err instanceof PolicyNodeError) throw err;
    throw new PolicyNodeError((err as Error).message);
  }
}
