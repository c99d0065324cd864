// The ROS 2 command line a launch file hands a node (`--ros-args -r … -p … --params-file …`), ROS 2 parameter
// YAML (`<node>: ros__parameters: …`, `/**:` wildcards, nested namespaces), and typed parameter declarations.
// Semantics follow rcl's argument parser and rcl_yaml_param_parser, so launch_ros files work unchanged.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { normalizeNamespace, parseRemapRules, validateNodeName, type Remapping } from '../names.ts';

/** A `--ros-args` section or a parameter file that does not follow the ROS 2 rules. */
export class RosArgsError extends Error {
  override name = 'RosArgsError';
}

/** A parameter that is unknown, mistyped or out of range. */
export class ParameterError extends Error {
  override name = 'ParameterError';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

/** A ROS parameter's value. */
export type ParameterValue = boolean | number | string | boolean[] | number[] | string[];
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal'];

/** The ROS part of a command line (`--ros-args …`), parsed by {@link parseRosArgs}; `rest` holds everything else. */
export interface RosArgs {
  /** `-r __node:=name` */
  nodeName?: string;
  /** `-r __ns:=/ns` (normalised, absolute) */
  namespace?: string;
  /** Topic remappings in command-line order (`-r from:=to`; `node:from:=to` kept only when it names this node). */
  remappings: Remapping[];
  /** Rules that named a node (`node:from:=to`), resolved once the node name is known. */
  nodeRemappings: { node: string; rule: string }[];
  /** `-p name:=value` in order; `node:name:=value` rules keep their node for later filtering. */
  params: { node?: string; name: string; value: ParameterValue }[];
  /** `--params-file F`, in order. */
  paramsFiles: string[];
  /** `--log-level [logger:=]level` (the node's own level; logger-specific levels kept for the node's logger). */
  logLevel?: LogLevel;
  /** `-e`/`--enclave` */
  enclave?: string;
  /** Arguments outside `--ros-args … [--]`, untouched. */
  rest: string[];
}

// Flags rcl knows that take no value and change nothing here; accepted so launch files that pass them still work.
const NO_VALUE_FLAGS = new Set([
  '--enable-rosout-logs', '--disable-rosout-logs', '--enable-stdout-logs', '--disable-stdout-logs',
  '--enable-external-lib-logs', '--disable-external-lib-logs',
]);

/**
 * Splits argv into ROS arguments and the rest. Several `--ros-args` sections may appear; each ends at `--` or at
 * the end of argv (rcl semantics). Unknown flags inside a section are an error naming the flag.
 */
export function parseRosArgs(argv: readonly string[]): RosArgs {
  const out: RosArgs = { remappings: [], nodeRemappings: [], params: [], paramsFiles: [], rest: [] };
  const remapRules: string[] = [];
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!inRos) {
      if (arg === '--ros-args') inRos = true;
      else out.rest.push(arg);
      continue;
    }
    if (arg === '--') { inRos = false; continue; }
    if (arg === '--ros-args') continue;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new RosArgsError(`--ros-args: ${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '-r': case '--remap': {
        const rule = value();
        const split = splitNodePrefix(rule);
        if (split.node !== undefined) out.nodeRemappings.push({ node: split.node, rule: split.rest });
        else remapRules.push(rule);
        break;
      }
      case '-p': case '--param': {
        const rule = value();
        const { node, rest } = splitNodePrefix(rule);
        const at = rest.indexOf(':=');
        if (at <= 0) throw new RosArgsError(`--ros-args -p "${rule}": expected name:=value`);
        out.params.push({ node, name: rest.slice(0, at), value: parseScalarOrList(rest.slice(at + 2), rest.slice(0, at)) });
        break;
      }
      case '--params-file': out.paramsFiles.push(value()); break;
      case '--log-level': {
        const raw = value();
        const at = raw.indexOf(':=');
        const level = (at >= 0 ? raw.slice(at + 2) : raw).toLowerCase();
        if (!LOG_LEVELS.includes(level as LogLevel)) {
          throw new RosArgsError(`--ros-args --log-level "${raw}": expected one of ${LOG_LEVELS.join(', ')}`);
        }
        out.logLevel = level as LogLevel;
        break;
      }
      case '-e': case '--enclave': out.enclave = value(); break;
      case '--log-config-file': case '--log-file-name': value(); break;
      default:
        if (NO_VALUE_FLAGS.has(arg)) break;
        throw new RosArgsError(
          `--ros-args: unknown argument "${arg}" (expected -r from:=to, -p name:=value, --params-file FILE, --log-level LEVEL, -e ENCLAVE or --)`,
        );
    }
  }
  try {
    const parsed = parseRemapRules(remapRules);
    out.remappings = parsed.topics;
    out.nodeName = parsed.node;
    out.namespace = parsed.namespace;
  } catch (err) {
    throw new RosArgsError(`--ros-args -r: ${(err as Error).message}`);
  }
  return out;
}

/** "node:rest:=x" → {node, rest}; a leading "/" topic or "~/x" is not a node prefix. */
function splitNodePrefix(rule: string): { node?: string; rest: string } {
  const assign = rule.indexOf(':=');
  const colon = rule.indexOf(':');
  if (colon > 0 && colon < assign && rule[colon + 1] !== '=') {
    return { node: rule.slice(0, colon), rest: rule.slice(colon + 1) };
  }
  return { rest: rule };
}

/** rcl parses `-p` values as YAML scalars or flow sequences ("[1, 2]"). */
function parseScalarOrList(text: string, name: string): ParameterValue {
  let v: unknown;
  try {
    v = parseYaml(text);
  } catch {
    v = text;
  }
  if (v === null || v === undefined) v = text;
  return toParameterValue(v, name, '-p');
}

function toParameterValue(v: unknown, name: string, where: string): ParameterValue {
  if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) {
    if (v.length === 0) return [] as string[];
    const kind = typeof v[0];
    const allNumbers = v.every((x) => typeof x === 'number');
    if (allNumbers) return v as number[];
    if (!v.every((x) => typeof x === kind) || !['boolean', 'string'].includes(kind)) {
      throw new ParameterError(name, `${where}: parameter "${name}" is a list of mixed or nested values (ROS 2 arrays hold one type)`);
    }
    return v as boolean[] | string[];
  }
  throw new ParameterError(name, `${where}: parameter "${name}" has a value of type ${v === null ? 'null' : typeof v}, expected a bool, number, string or array of one of them`);
}

// -------------------------------------------------------------------------------------------------------------
// Parameter YAML

/** The node a parameter file speaks to. */
export interface NodeFqn {
  name: string;
  namespace: string;
}

function fqnOf(node: NodeFqn): string {
  return node.namespace === '/' ? `/${node.name}` : `${node.namespace}/${node.name}`;
}

/**
 * Does a parameter-file key (e.g. "/**", "/arm/policy_node", "policy_node", "/**\/policy_node", "/arm/*")
 * address this node? "*" matches one name token, "**" any number of tokens (rcl_yaml_param_parser).
 */
export function nodeKeyMatches(key: string, node: NodeFqn): boolean {
  const pattern = key.startsWith('/') ? key : `/${key}`;
  const want = fqnOf(node).split('/').slice(1);
  const pat = pattern.split('/').slice(1);
  const match = (pi: number, wi: number): boolean => {
    if (pi === pat.length) return wi === want.length;
    if (pat[pi] === '**') {
      for (let k = wi; k <= want.length; k++) if (match(pi + 1, k)) return true;
      return false;
    }
    if (wi === want.length) return false;
    const re = new RegExp(`^${pat[pi].replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[A-Za-z0-9_]*')}$`);
    return re.test(want[wi]) && match(pi + 1, wi + 1);
  };
  return match(0, 0);
}

/**
 * Reads the parameters a YAML file holds for this node, flattened with "." (nested maps become "a.b.c").
 * Sections are applied in file order, so a later matching section overrides an earlier one.
 */
export function parametersFromYaml(text: string, node: NodeFqn, source = 'parameter file'): Map<string, ParameterValue> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new RosArgsError(`${source}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const out = new Map<string, ParameterValue>();
  if (doc === null || doc === undefined) return out;
  if (!isMap(doc)) throw new RosArgsError(`${source}: expected a map of node names to "ros__parameters" sections`);
  let sections = 0;
  const walk = (map: Record<string, unknown>, path: string[]): void => {
    for (const [key, value] of Object.entries(map)) {
      if (key === 'ros__parameters') {
        sections++;
        if (path.length === 0) throw new RosArgsError(`${source}: "ros__parameters" must be under a node name (e.g. "/**:")`);
        if (!isMap(value)) throw new RosArgsError(`${source}: "${path.join('/')}: ros__parameters" must be a map`);
        // Nested keys form the namespace: "/arm: {policy_node: ...}" addresses "/arm/policy_node".
        const nodeKey = path.map((p) => p.replace(/^\/+|\/+$/g, '')).filter((p) => p !== '').join('/');
        if (nodeKeyMatches(`/${nodeKey}`, node)) flatten(value, '', out, source);
      } else if (isMap(value)) {
        walk(value, [...path, key]);
      } else {
        throw new RosArgsError(`${source}: "${[...path, key].join('/')}" is not under a "ros__parameters" section`);
      }
    }
  };
  walk(doc, []);
  if (sections === 0) throw new RosArgsError(`${source}: no "ros__parameters" section found`);
  return out;
}

function flatten(map: Record<string, unknown>, prefix: string, out: Map<string, ParameterValue>, source: string): void {
  for (const [key, value] of Object.entries(map)) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (isMap(value)) flatten(value, name, out, source);
    else out.set(name, toParameterValue(value, name, source));
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a ROS 2 parameter YAML file (`<node>: ros__parameters:` or `/**:` sections) and returns the parameters that
 * apply to `node`, flattened to dotted names. Throws ParameterError naming the file and the problem.
 */
export function readParametersFile(path: string, node: NodeFqn): Map<string, ParameterValue> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RosArgsError(`--params-file ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parametersFromYaml(text, node, `--params-file ${path}`);
}

/**
 * All parameter overrides for this node, in rcl's order of precedence: parameter files first (in order),
 * then `-p` rules (later wins). `-p node:name:=v` applies only when node matches this node's name.
 */
export function collectParameters(args: RosArgs, node: NodeFqn, extraFiles: readonly string[] = []): Map<string, ParameterValue> {
  const out = new Map<string, ParameterValue>();
  for (const file of [...extraFiles, ...args.paramsFiles]) {
    for (const [k, v] of readParametersFile(file, node)) out.set(k, v);
  }
  for (const p of args.params) {
    if (p.node === undefined || p.node === node.name || nodeKeyMatches(p.node, node)) out.set(p.name, p.value);
  }
  return out;
}

/** The node's identity: defaults overridden by `__node`/`__ns`, validated. */
export function nodeIdentity(args: RosArgs, defaults: NodeFqn): NodeFqn {
  return {
    name: validateNodeName(args.nodeName ?? defaults.name),
    namespace: normalizeNamespace(args.namespace ?? defaults.namespace),
  };
}

/** Remappings for this node: global ones and those prefixed with its name. */
export function remappingsFor(args: RosArgs, node: NodeFqn): Remapping[] {
  const own = args.nodeRemappings.filter((r) => r.node === node.name).map((r) => r.rule);
  return [...parseRemapRules(own).topics, ...args.remappings];
}

// -------------------------------------------------------------------------------------------------------------
// Typed parameter declarations

export type ParameterType = 'bool' | 'int' | 'double' | 'string' | 'bool[]' | 'int[]' | 'double[]' | 'string[]';

export interface ParameterDescriptor {
  type: ParameterType;
  default: ParameterValue;
  description: string;
  /** For strings: the allowed values. */
  choices?: readonly string[];
  /** For numbers (and each element of numeric arrays): inclusive bounds. */
  min?: number;
  max?: number;
}

/** Checks one value against its declaration and returns it typed (ints accepted where doubles are declared). */
export function coerceParameter(name: string, desc: ParameterDescriptor, value: ParameterValue, where: string): ParameterValue {
  const fail = (expected: string): never => {
    throw new ParameterError(name, `${where}: parameter "${name}" = ${JSON.stringify(value)} is not ${expected}`);
  };
  const checkNumber = (x: number): void => {
    if (!Number.isFinite(x)) fail('a finite number');
    if (desc.type.startsWith('int') && !Number.isInteger(x)) fail('an integer');
    if (desc.min !== undefined && x < desc.min) fail(`≥ ${desc.min}`);
    if (desc.max !== undefined && x > desc.max) fail(`≤ ${desc.max}`);
  };
  switch (desc.type) {
    case 'bool':
      if (typeof value !== 'boolean') fail('a bool (true or false)');
      return value;
    case 'int': case 'double':
      if (typeof value !== 'number') fail(desc.type === 'int' ? 'an integer' : 'a number');
      checkNumber(value as number);
      return value;
    case 'string':
      if (typeof value !== 'string') fail('a string');
      if (desc.choices && !desc.choices.includes(value as string)) fail(`one of ${desc.choices.join(', ')}`);
      return value;
    case 'bool[]':
      if (!Array.isArray(value) || !value.every((x) => typeof x === 'boolean')) fail('a list of bools');
      return value;
    case 'int[]': case 'double[]':
      if (!Array.isArray(value) || !value.every((x) => typeof x === 'number')) fail('a list of numbers');
      (value as number[]).forEach(checkNumber);
      return value;
    case 'string[]':
      if (!Array.isArray(value) || !value.every((x) => typeof x === 'string')) fail('a list of strings');
      return value;
  }
}

/**
 * Resolves declared parameters from overrides. An override whose name is not declared is rejected by name,
 * with the closest declared names as a hint (a typo in a YAML file must not silently fall back to a default).
 */
export function resolveParameters(
  declared: ReadonlyMap<string, ParameterDescriptor>,
  overrides: ReadonlyMap<string, ParameterValue>,
  where = 'parameters',
): Map<string, ParameterValue> {
  const out = new Map<string, ParameterValue>();
  for (const [name, value] of overrides) {
    const desc = declared.get(name);
    if (!desc) {
      const hint = closest(name, [...declared.keys()]);
      throw new ParameterError(name, `${where}: unknown parameter "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
    out.set(name, coerceParameter(name, desc, value, where));
  }
  for (const [name, desc] of declared) if (!out.has(name)) out.set(name, desc.default);
  return out;
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestD) { bestD = d; best = c; }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}
