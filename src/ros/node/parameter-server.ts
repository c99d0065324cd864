// A node's parameters as ROS 2 tools see them: the six rcl_interfaces services under the node's name
// (get_parameters, get_parameter_types, set_parameters, set_parameters_atomically, list_parameters,
// describe_parameters) and /parameter_events, over any transport. Every parameter is declared with its type,
// range or choices, description and whether it may change while the node runs; a value that breaks any of it is
// refused with a reason in the service's result, and the node goes on with the value it had.
import type { Publisher, ServiceServer, Transport } from '../transport.ts';
import { ParameterError, coerceParameter, type ParameterDescriptor, type ParameterType, type ParameterValue } from './ros-args.ts';

/** A declared parameter: what ros-args declares, plus whether it may change at run time. */
export interface ParameterDeclaration extends ParameterDescriptor {
  /** Fixed once the node runs (changing it needs a restart); `set` refuses it with that reason. */
  readOnly?: boolean;
  /** Shown to tools (describe_parameters) after the range and choices, e.g. "lower ≤ upper per joint". */
  constraints?: string;
}

/** One parameter and the value it would take. */
export interface ParameterChange {
  name: string;
  value: ParameterValue;
}

/** The result of setting parameters, as rcl_interfaces/msg/SetParametersResult. */
export interface SetResult {
  successful: boolean;
  reason: string;
}

/**
 * Called before changes are applied, with the values the node would have after them. Throw (any error; its
 * message becomes the reason tools show) to refuse; may be async (a model reload). Apply side effects only once
 * nothing can fail any more: the values are committed when it returns.
 */
export type ParameterValidator = (changes: readonly ParameterChange[], next: ReadonlyMap<string, ParameterValue>) => void | Promise<void>;

// rcl_interfaces/msg/ParameterType
export const PARAMETER_TYPE = {
  NOT_SET: 0, BOOL: 1, INTEGER: 2, DOUBLE: 3, STRING: 4, BYTE_ARRAY: 5, BOOL_ARRAY: 6, INTEGER_ARRAY: 7, DOUBLE_ARRAY: 8, STRING_ARRAY: 9,
} as const;

const TYPE_CODE: Record<ParameterType, number> = {
  bool: PARAMETER_TYPE.BOOL, int: PARAMETER_TYPE.INTEGER, double: PARAMETER_TYPE.DOUBLE, string: PARAMETER_TYPE.STRING,
  'bool[]': PARAMETER_TYPE.BOOL_ARRAY, 'int[]': PARAMETER_TYPE.INTEGER_ARRAY, 'double[]': PARAMETER_TYPE.DOUBLE_ARRAY, 'string[]': PARAMETER_TYPE.STRING_ARRAY,
};
const TYPE_NAME = ['not set', 'bool', 'integer', 'double', 'string', 'byte array', 'bool array', 'integer array', 'double array', 'string array'];

/** rcl_interfaces/msg/ParameterValue as the codec reads and writes it. */
export interface ParameterValueMsg {
  type: number;
  bool_value?: boolean;
  integer_value?: bigint;
  double_value?: number;
  string_value?: string;
  byte_array_value?: Uint8Array;
  bool_array_value?: boolean[];
  integer_array_value?: BigInt64Array | bigint[];
  double_array_value?: Float64Array | number[];
  string_array_value?: string[];
}

export interface ParameterMsg {
  name: string;
  value: ParameterValueMsg;
}

/** A declared value as rcl_interfaces/msg/ParameterValue. */
export function toParameterValueMsg(type: ParameterType, value: ParameterValue): ParameterValueMsg {
  switch (type) {
    case 'bool': return { type: PARAMETER_TYPE.BOOL, bool_value: value as boolean };
    case 'int': return { type: PARAMETER_TYPE.INTEGER, integer_value: BigInt(value as number) };
    case 'double': return { type: PARAMETER_TYPE.DOUBLE, double_value: value as number };
    case 'string': return { type: PARAMETER_TYPE.STRING, string_value: value as string };
    case 'bool[]': return { type: PARAMETER_TYPE.BOOL_ARRAY, bool_array_value: value as boolean[] };
    case 'int[]': return { type: PARAMETER_TYPE.INTEGER_ARRAY, integer_array_value: (value as number[]).map((x) => BigInt(x)) };
    case 'double[]': return { type: PARAMETER_TYPE.DOUBLE_ARRAY, double_array_value: Float64Array.from(value as number[]) };
    case 'string[]': return { type: PARAMETER_TYPE.STRING_ARRAY, string_array_value: value as string[] };
  }
}

/** A plain value as a tool sends it: integers as INTEGER, other numbers as DOUBLE, arrays by their elements. */
export function plainToParameterValueMsg(value: ParameterValue): ParameterValueMsg {
  if (typeof value === 'boolean') return toParameterValueMsg('bool', value);
  if (typeof value === 'number') return Number.isInteger(value) ? toParameterValueMsg('int', value) : toParameterValueMsg('double', value);
  if (typeof value === 'string') return toParameterValueMsg('string', value);
  const arr = value as unknown[];
  if (arr.every((x) => typeof x === 'boolean')) return toParameterValueMsg('bool[]', value);
  if (arr.every((x) => typeof x === 'string')) return toParameterValueMsg('string[]', value);
  return arr.every((x) => Number.isInteger(x)) ? toParameterValueMsg('int[]', value) : toParameterValueMsg('double[]', value);
}

const toNumber = (x: bigint | number, name: string): number => {
  const n = Number(x);
  if (typeof x === 'bigint' && !Number.isSafeInteger(n)) throw new ParameterError(name, `parameter "${name}": integer ${x} is beyond ±2^53`);
  return n;
};

/** rcl_interfaces/msg/ParameterValue → a plain value, or a reason it cannot be one. */
export function fromParameterValueMsg(name: string, v: ParameterValueMsg): ParameterValue {
  switch (v.type) {
    case PARAMETER_TYPE.BOOL: return Boolean(v.bool_value);
    case PARAMETER_TYPE.INTEGER: return toNumber(v.integer_value ?? 0n, name);
    case PARAMETER_TYPE.DOUBLE: return v.double_value ?? 0;
    case PARAMETER_TYPE.STRING: return v.string_value ?? '';
    case PARAMETER_TYPE.BOOL_ARRAY: return [...(v.bool_array_value ?? [])];
    case PARAMETER_TYPE.INTEGER_ARRAY: return Array.from(v.integer_array_value ?? [], (x) => toNumber(x, name));
    case PARAMETER_TYPE.DOUBLE_ARRAY: return Array.from(v.double_array_value ?? []);
    case PARAMETER_TYPE.STRING_ARRAY: return [...(v.string_array_value ?? [])];
    case PARAMETER_TYPE.NOT_SET: throw new ParameterError(name, `parameter "${name}" cannot be unset (it is declared; give it a value)`);
    default: throw new ParameterError(name, `parameter "${name}": values of type ${TYPE_NAME[v.type] ?? v.type} are not supported`);
  }
}

/**
 * An incoming value checked against its declaration. ROS tools send "50" as an integer: a double parameter
 * takes it (and an integer array for a double array), as a YAML file would; everything else must match the type.
 */
function checkIncoming(name: string, decl: ParameterDeclaration, msg: ParameterValueMsg): ParameterValue {
  const value = fromParameterValueMsg(name, msg);
  const code = TYPE_CODE[decl.type];
  const widening = (code === PARAMETER_TYPE.DOUBLE && msg.type === PARAMETER_TYPE.INTEGER) || (code === PARAMETER_TYPE.DOUBLE_ARRAY && msg.type === PARAMETER_TYPE.INTEGER_ARRAY);
  // an empty array arrives typed by whoever sent it: accept it for any array parameter
  const emptyArray = Array.isArray(value) && value.length === 0 && decl.type.endsWith('[]');
  if (msg.type !== code && !widening && !emptyArray) {
    throw new ParameterError(name, `parameter "${name}" is of type ${TYPE_NAME[code]}, got a ${TYPE_NAME[msg.type] ?? msg.type} value`);
  }
  return coerceParameter(name, decl, value, 'set');
}

function equal(a: ParameterValue | undefined, b: ParameterValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** Options of a {@link ParameterServer}. */
export interface ParameterServerOptions {
  /** Refuses or accepts changes before they are committed (the node's cross-parameter rules and side effects). */
  validate?: ParameterValidator;
  /** Time for /parameter_events stamps (the node's clock; sim time when use_sim_time is on). */
  now?: () => { sec: number; nanosec: number };
  /** Log line for each applied or refused change. */
  log?: (level: 'info' | 'warn', message: string, fields: Record<string, string>) => void;
}

/**
 * A node's ROS 2 parameters, served as rclcpp serves them: the six rcl_interfaces parameter services under the node's
 * name and /parameter_events, so `ros2 param get|set|list|describe` work.
 */
export class ParameterServer {
  private readonly values = new Map<string, ParameterValue>();
  private readonly services: ServiceServer[] = [];
  private readonly events: Publisher;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly transport: Transport,
    readonly declarations: ReadonlyMap<string, ParameterDeclaration>,
    initial: ReadonlyMap<string, ParameterValue>,
    private readonly opts: ParameterServerOptions = {},
  ) {
    for (const [name, decl] of declarations) this.values.set(name, initial.get(name) ?? decl.default);
    this.events = transport.advertise('/parameter_events', 'rcl_interfaces/msg/ParameterEvent', 'parameter_events');
    const serve = <Req, Res>(name: string, type: string, handler: (req: Req) => Res | Promise<Res>) =>
      this.services.push(transport.createService<Req, Res>(`~/${name}`, `rcl_interfaces/srv/${type}`, handler, 'parameters'));
    serve<{ names: string[] }, { values: ParameterValueMsg[] }>('get_parameters', 'GetParameters', (req) => ({
      values: req.names.map((n) => {
        const decl = this.declarations.get(n);
        return decl ? toParameterValueMsg(decl.type, this.values.get(n)!) : { type: PARAMETER_TYPE.NOT_SET };
      }),
    }));
    serve<{ names: string[] }, { types: Uint8Array }>('get_parameter_types', 'GetParameterTypes', (req) => ({
      types: Uint8Array.from(req.names, (n) => {
        const decl = this.declarations.get(n);
        return decl ? TYPE_CODE[decl.type] : PARAMETER_TYPE.NOT_SET;
      }),
    }));
    serve<{ names: string[] }, { descriptors: object[] }>('describe_parameters', 'DescribeParameters', (req) => ({
      descriptors: req.names.map((n) => this.describe(n)),
    }));
    serve<{ prefixes: string[]; depth: bigint }, { result: { names: string[]; prefixes: string[] } }>('list_parameters', 'ListParameters', (req) => ({
      result: this.list(req.prefixes, Number(req.depth)),
    }));
    serve<{ parameters: ParameterMsg[] }, { results: SetResult[] }>('set_parameters', 'SetParameters', async (req) => ({
      results: await this.set(req.parameters, false),
    }));
    serve<{ parameters: ParameterMsg[] }, { result: SetResult }>('set_parameters_atomically', 'SetParametersAtomically', async (req) => ({
      result: (await this.set(req.parameters, true))[0] ?? { successful: true, reason: '' },
    }));
    // tools learn the node's parameters from this first event, as rclcpp sends one per declaration
    this.publishEvent([...this.values.keys()].map((name) => ({ name, value: this.values.get(name)! })), 'new');
  }

  /** The current value of a declared parameter (undefined for an undeclared name). */
  get(name: string): ParameterValue | undefined {
    return this.values.get(name);
  }

  /** A copy of every parameter's current value. */
  snapshot(): ReadonlyMap<string, ParameterValue> {
    return new Map(this.values);
  }

  /** rcl_interfaces/msg/ParameterDescriptor of one parameter (type NOT_SET for an undeclared name). */
  describe(name: string): Record<string, unknown> {
    const d = this.declarations.get(name);
    if (!d) return { name, type: PARAMETER_TYPE.NOT_SET, description: 'not declared' };
    const constraints = [
      d.choices ? `one of: ${d.choices.map((c) => (c === '' ? '""' : c)).join(', ')}` : '',
      d.type.endsWith('[]') && (d.min !== undefined || d.max !== undefined) ? 'the range applies to each element' : '',
      d.constraints ?? '',
      d.readOnly ? 'read-only while the node runs (restart to change)' : '',
    ].filter((s) => s !== '');
    const isInt = d.type === 'int' || d.type === 'int[]';
    const hasRange = d.min !== undefined || d.max !== undefined;
    return {
      name,
      type: TYPE_CODE[d.type],
      description: d.description,
      additional_constraints: constraints.join('; '),
      read_only: d.readOnly ?? false,
      dynamic_typing: false,
      floating_point_range: hasRange && !isInt ? [{ from_value: d.min ?? -Number.MAX_VALUE, to_value: d.max ?? Number.MAX_VALUE, step: 0 }] : [],
      integer_range: hasRange && isInt
        ? [{ from_value: BigInt(d.min ?? Number.MIN_SAFE_INTEGER), to_value: BigInt(d.max ?? Number.MAX_SAFE_INTEGER), step: 0n }]
        : [],
    };
  }

  /** list_parameters: names under the prefixes ("" or none = all), at most `depth` levels below them (0 = any). */
  list(prefixes: readonly string[], depth: number): { names: string[]; prefixes: string[] } {
    const names: string[] = [];
    const groups = new Set<string>();
    for (const name of this.values.keys()) {
      const under = prefixes.length === 0 ? '' : prefixes.find((p) => p === '' || name === p || name.startsWith(`${p}.`));
      if (under === undefined) continue;
      const rest = under === '' || name === under ? name : name.slice(under.length + 1);
      if (depth > 0 && rest.split('.').length > depth) continue;
      names.push(name);
      const dot = name.lastIndexOf('.');
      if (dot > 0) groups.add(name.slice(0, dot));
    }
    return { names: names.sort(), prefixes: [...groups].sort() };
  }

  /**
   * Applies changes: one by one (each with its own result), or atomically (all or none, one result). Requests are
   * handled in arrival order, one at a time.
   */
  set(parameters: readonly ParameterMsg[], atomic: boolean): Promise<SetResult[]> {
    const run = this.queue.then(() => (atomic ? this.setAtomically(parameters) : this.setEach(parameters)));
    this.queue = run.catch(() => {});
    return run;
  }

  /** Sets from plain values (the node's own code, tests), typed as a tool would send them; same checks as the services. */
  setValues(changes: readonly ParameterChange[], atomic = true): Promise<SetResult[]> {
    return this.set(changes.map((c) => ({ name: c.name, value: plainToParameterValueMsg(c.value) })), atomic);
  }

  /**
   * Records a value the node changed itself (a model reloaded on request or file change), without validation,
   * so that tools see it and /parameter_events says so.
   */
  noteChanged(name: string, value: ParameterValue): void {
    if (!this.declarations.has(name) || equal(this.values.get(name), value)) return;
    this.values.set(name, value);
    this.publishEvent([{ name, value }], 'changed');
  }

  private check(p: ParameterMsg): ParameterChange {
    const decl = this.declarations.get(p.name);
    if (!decl) throw new ParameterError(p.name, `parameter "${p.name}" is not declared by this node (list them with list_parameters)`);
    if (decl.readOnly) throw new ParameterError(p.name, `parameter "${p.name}" is read-only while the node runs (it takes effect at start: set it in the parameter file or with -p, then restart)`);
    return { name: p.name, value: checkIncoming(p.name, decl, p.value) };
  }

  private async commit(changes: ParameterChange[]): Promise<void> {
    const next = new Map(this.values);
    for (const c of changes) next.set(c.name, c.value);
    await this.opts.validate?.(changes, next);
    if (this.closed) throw new Error('the node is shutting down');
    const changed = changes.filter((c) => !equal(this.values.get(c.name), c.value));
    for (const c of changes) this.values.set(c.name, c.value);
    for (const c of changed) this.opts.log?.('info', 'parameter set', { name: c.name, value: JSON.stringify(c.value) });
    if (changed.length) this.publishEvent(changed, 'changed');
  }

  private refusal(names: string, err: unknown): SetResult {
    const reason = (err as Error)?.message ?? String(err);
    this.opts.log?.('warn', 'parameter change refused', { name: names, reason });
    return { successful: false, reason };
  }

  private async setEach(parameters: readonly ParameterMsg[]): Promise<SetResult[]> {
    const results: SetResult[] = [];
    for (const p of parameters) {
      try {
        await this.commit([this.check(p)]);
        results.push({ successful: true, reason: '' });
      } catch (err) {
        results.push(this.refusal(p.name, err));
      }
    }
    return results;
  }

  private async setAtomically(parameters: readonly ParameterMsg[]): Promise<SetResult[]> {
    try {
      const names = parameters.map((p) => p.name);
      const twice = names.find((n, i) => names.indexOf(n) !== i);
      if (twice) throw new ParameterError(twice, `parameter "${twice}" appears twice in one atomic change`);
      await this.commit(parameters.map((p) => this.check(p)));
      return [{ successful: true, reason: '' }];
    } catch (err) {
      return [this.refusal(parameters.map((p) => p.name).join(','), err)];
    }
  }

  private publishEvent(params: readonly ParameterChange[], kind: 'new' | 'changed'): void {
    const list = params.map((p) => ({ name: p.name, value: toParameterValueMsg(this.declarations.get(p.name)!.type, p.value) }));
    const t = this.transport.node;
    try {
      this.events.publish({
        stamp: this.opts.now?.() ?? { sec: 0, nanosec: 0 },
        node: t.namespace === '/' ? `/${t.name}` : `${t.namespace}/${t.name}`,
        new_parameters: kind === 'new' ? list : [],
        changed_parameters: kind === 'changed' ? list : [],
        deleted_parameters: [],
      });
    } catch (err) {
      this.opts.log?.('warn', 'cannot publish /parameter_events', { reason: (err as Error).message });
    }
  }

  /** Stops serving the parameter services and events. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.services) s.close();
    this.events.close();
  }
}
