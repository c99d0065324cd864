// The observation's configuration side, checked once at start: which sources there are (topic + type + field
// mapping, or derived in the node: a difference, a distance, the last command), what each contributes and under
// which names, and how they lay out against the model's observation (sizes, and names where both sides have
// them). Every mistake is an ObservationLayoutError naming the parameter. The per-message side is
// observation.ts; reading joints by name is joint-state.ts.

export const OBSERVATION_TYPES = [
  'sensor_msgs/msg/JointState',
  'std_msgs/msg/Float32MultiArray',
  'std_msgs/msg/Float64MultiArray',
  'geometry_msgs/msg/PoseStamped',
  'geometry_msgs/msg/PointStamped',
  'onestep_msgs/msg/Observation',
] as const;
export type ObservationType = (typeof OBSERVATION_TYPES)[number];

/**
 * Where a source's values come from: `topic` (a subscription), or derived in the node just before each policy
 * step: `difference` (of: [a, b] → a − b, element-wise), `distance` (of: [a, b] → |a − b|, or of: [a] → |a|)
 * and `last_command` (the joint-position command the node last computed from the policy, see PolicyNode).
 */
export const SOURCE_KINDS = ['topic', 'difference', 'distance', 'last_command'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const JOINT_FIELDS = ['position', 'velocity', 'effort'] as const;
export type JointField = (typeof JOINT_FIELDS)[number];
export const POSE_FIELDS = ['position', 'orientation'] as const;

export interface SourceConfig {
  /** The source's name in the parameters (`observation.<name>.*`). */
  name: string;
  topic: string;
  type: ObservationType;
  /** JointState: position/velocity/effort (field-major: all positions, then all velocities…); PoseStamped: position/orientation. */
  fields: string[];
  /** JointState: joints in observation order, matched by name in each message. */
  jointNames: string[];
  /** Arrays: the number of values (0: whatever the model leaves for this source). */
  size: number;
  /** Arrays: optional names of the values, compared with the model's observation names. */
  names: string[];
  /** Default `topic`; the other kinds are computed in the node (no subscription). */
  kind?: SourceKind;
  /** difference / distance: the sources they are computed from (topic sources, by name). */
  of?: string[];
}

export const kindOf = (c: SourceConfig): SourceKind => c.kind ?? 'topic';
export const isDerived = (c: SourceConfig): boolean => kindOf(c) !== 'topic';

/** The sources do not add up to what the model expects; names both sides. */
export class ObservationLayoutError extends Error {
  override name = 'ObservationLayoutError';
}

/** One source's place in the observation vector: its slice, the names of its values, its operands. */
export interface SourceLayout {
  config: SourceConfig;
  offset: number;
  width: number;
  names: (string | undefined)[];
  /** difference / distance: the indices of the sources in `of`. */
  operands: number[];
}

/**
 * The names a source contributes, in order (undefined where it has no meaningful name). The convention is the
 * one the sim tasks use: `<joint>_position`, `<source>_x`, quaternions `<source>_qx … _qw`.
 */
export function sourceNames(c: SourceConfig, width: number): (string | undefined)[] {
  switch (kindOf(c)) {
    case 'difference':
      return width === 3 ? ['x', 'y', 'z'].map((a) => `${c.name}_${a}`) : Array.from({ length: width }, (_, k) => `${c.name}_${k}`);
    case 'distance':
      return [c.name];
    case 'last_command':
      return c.jointNames.map((j) => `${j}_command`);
    default:
  }
  switch (c.type) {
    case 'sensor_msgs/msg/JointState':
      return c.fields.flatMap((f) => c.jointNames.map((j) => `${j}_${f}`));
    case 'geometry_msgs/msg/PoseStamped':
      return c.fields.flatMap((f) =>
        f === 'position' ? ['x', 'y', 'z'].map((a) => `${c.name}_${a}`) : ['qx', 'qy', 'qz', 'qw'].map((a) => `${c.name}_${a}`),
      );
    case 'geometry_msgs/msg/PointStamped':
      return ['x', 'y', 'z'].map((a) => `${c.name}_${a}`);
    default:
      return c.names.length > 0 ? [...c.names] : new Array<string | undefined>(width).fill(undefined);
  }
}

function fixedWidth(c: SourceConfig): number | undefined {
  switch (kindOf(c)) {
    case 'difference': return undefined; // the operands' width, filled in by layoutSources
    case 'distance': return 1;
    case 'last_command': return c.jointNames.length;
    default:
  }
  switch (c.type) {
    case 'sensor_msgs/msg/JointState': return c.fields.length * c.jointNames.length;
    case 'geometry_msgs/msg/PoseStamped': return c.fields.reduce((s, f) => s + (f === 'position' ? 3 : 4), 0);
    case 'geometry_msgs/msg/PointStamped': return 3;
    default: return c.size > 0 ? c.size : c.names.length > 0 ? c.names.length : undefined;
  }
}

/** Checks each source's own configuration (fields, joint names) and returns a message naming the parameter. */
export function validateSource(c: SourceConfig): void {
  const p = `observation.${c.name}`;
  const kind = kindOf(c);
  const of = c.of ?? [];
  if (kind === 'difference' || kind === 'distance') {
    const want = kind === 'difference' ? 'two sources [a, b] (a − b)' : 'one or two sources ([a]: |a|, [a, b]: |a − b|)';
    if (of.length < (kind === 'difference' ? 2 : 1) || of.length > 2) throw new ObservationLayoutError(`${p}.of has ${of.length} entries: a ${kind} source takes ${want}`);
    return;
  }
  if (of.length > 0) throw new ObservationLayoutError(`${p}.of is set, but only difference and distance sources take operands (kind is ${kind})`);
  if (kind === 'last_command') {
    if (c.jointNames.length === 0) throw new ObservationLayoutError(`${p}.joint_names is empty: name the commanded joints`);
    if (new Set(c.jointNames).size !== c.jointNames.length) throw new ObservationLayoutError(`${p}.joint_names repeats a joint`);
    return;
  }
  if (c.type === 'sensor_msgs/msg/JointState') {
    if (c.jointNames.length === 0) throw new ObservationLayoutError(`${p}.joint_names is empty: name the joints to read from ${c.topic}`);
    if (new Set(c.jointNames).size !== c.jointNames.length) throw new ObservationLayoutError(`${p}.joint_names repeats a joint`);
    if (c.fields.length === 0) throw new ObservationLayoutError(`${p}.fields is empty (expected some of ${JOINT_FIELDS.join(', ')})`);
    for (const f of c.fields) {
      if (!(JOINT_FIELDS as readonly string[]).includes(f)) throw new ObservationLayoutError(`${p}.fields has "${f}", expected some of ${JOINT_FIELDS.join(', ')}`);
    }
  } else if (c.type === 'geometry_msgs/msg/PoseStamped') {
    if (c.fields.length === 0) throw new ObservationLayoutError(`${p}.fields is empty (expected some of ${POSE_FIELDS.join(', ')})`);
    for (const f of c.fields) {
      if (!(POSE_FIELDS as readonly string[]).includes(f)) throw new ObservationLayoutError(`${p}.fields has "${f}", expected some of ${POSE_FIELDS.join(', ')}`);
    }
  } else if (c.names.length > 0 && c.size > 0 && c.names.length !== c.size) {
    throw new ObservationLayoutError(`${p}.names has ${c.names.length} entries but ${p}.size is ${c.size}`);
  }
}

/** Where a source's values come from, for messages: "sensor_msgs/msg/JointState on /joint_states", "target − ee". */
export function describeOrigin(c: SourceConfig): string {
  const of = c.of ?? [];
  switch (kindOf(c)) {
    case 'difference': return `${of[0]} − ${of[1]} (derived)`;
    case 'distance': return of.length === 1 ? `|${of[0]}| (derived)` : `|${of[0]} − ${of[1]}| (derived)`;
    case 'last_command': return 'the node\'s last command (derived)';
    default: return `${c.type} on ${c.topic}`;
  }
}

/**
 * Lays the sources out against the model's observation (size and, where both sides name a value, names).
 * At most one array source may leave its size open; it takes what the model has left.
 */
export function layoutSources(
  sources: readonly SourceConfig[],
  model: { names: readonly string[]; size: number; source: string },
  checkNames = true,
): SourceLayout[] {
  if (sources.length === 0) throw new ObservationLayoutError('observation.sources is empty: configure at least one observation source');
  sources.forEach(validateSource);
  if (sources.every(isDerived)) throw new ObservationLayoutError('every observation source is derived: at least one must read a topic');
  const widths = sources.map(fixedWidth);
  // Operands: topic sources of a fixed width, the same width for both sides of a difference.
  const operands = sources.map((c) => (c.of ?? []).map((name) => {
    const p = `observation.${c.name}.of`;
    const k = sources.findIndex((s) => s.name === name);
    if (k < 0) throw new ObservationLayoutError(`${p} names "${name}", which is not in observation.sources (${sources.map((s) => s.name).join(', ')})`);
    if (isDerived(sources[k])) throw new ObservationLayoutError(`${p} names "${name}", a derived source: operands must be topic sources`);
    if (widths[k] === undefined) throw new ObservationLayoutError(`${p} names "${name}", whose size is open: set observation.${name}.size`);
    return k;
  }));
  sources.forEach((c, i) => {
    const ops = operands[i];
    if (ops.length === 2 && widths[ops[0]] !== widths[ops[1]]) {
      throw new ObservationLayoutError(`observation.${c.name}.of: "${sources[ops[0]].name}" has ${widths[ops[0]]} values, "${sources[ops[1]].name}" ${widths[ops[1]]}: they must match`);
    }
    if (kindOf(c) === 'difference') widths[i] = widths[ops[0]];
  });
  const open = widths.filter((w) => w === undefined).length;
  if (open > 1) {
    const names = sources.filter((_, i) => widths[i] === undefined).map((s) => `observation.${s.name}.size`);
    throw new ObservationLayoutError(`only one array source may leave its size open; set ${names.join(', ')}`);
  }
  const known = widths.reduce<number>((s, w) => s + (w ?? 0), 0);
  const describe = () =>
    sources.map((s, i) => `${s.name} (${describeOrigin(s)}: ${widths[i] ?? 'open'})`).join(' + ');
  if (open === 1) {
    const rest = model.size - known;
    if (rest <= 0) {
      throw new ObservationLayoutError(
        `observation size mismatch: the model ${model.source} expects ${model.size} values, the sources already give ${known} without the open-sized one: ${describe()}`,
      );
    }
    widths[widths.indexOf(undefined)] = rest;
  } else if (known !== model.size) {
    throw new ObservationLayoutError(
      `observation size mismatch: the model ${model.source} expects ${model.size} values [${model.names.join(', ')}], the configured sources give ${known}: ${describe()}`,
    );
  }
  const layouts: SourceLayout[] = [];
  let offset = 0;
  sources.forEach((config, i) => {
    const width = widths[i] as number;
    layouts.push({ config, offset, width, names: sourceNames(config, width), operands: operands[i] });
    offset += width;
  });
  if (checkNames && model.names.length === model.size) {
    const diffs: string[] = [];
    for (const l of layouts) {
      for (let k = 0; k < l.width; k++) {
        const mine = l.names[k];
        const theirs = model.names[l.offset + k];
        if (mine !== undefined && mine !== theirs) diffs.push(`[${l.offset + k}] model "${theirs}" vs source ${l.config.name} "${mine}"`);
      }
    }
    if (diffs.length > 0) {
      throw new ObservationLayoutError(
        `observation names do not match the model ${model.source}: ${diffs.slice(0, 6).join('; ')}${diffs.length > 6 ? `; … ${diffs.length - 6} more` : ''}` +
          ' (fix the sources, or set observation.check_names: false to match by position only)',
      );
    }
  }
  return layouts;
}
