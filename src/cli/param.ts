// `onestep param`: read and change a running node's parameters through its rcl_interfaces services, as
// `ros2 param` does: list, get, set, describe, dump. Works with any ROS 2 node (rclcpp, rclpy, onestep serve) over
// any transport.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { ServiceClient, Transport } from '../ros/transport.ts';
import type { ParameterValueMsg } from '../ros/node/parameter-server.ts';
import { UserError } from './errors.ts';
import { type CommonArgs, commandGroup, common, parseUserYaml, withTransport } from './ros-common.ts';

interface NodeArgs extends CommonArgs {
  node: string;
  timeout: number;
}

const nodeOptions = (y: Argv) =>
  common(y, 'param')
    .positional('node', { type: 'string', describe: 'the node, e.g. /policy_node' })
    .option('timeout', { type: 'number', default: 10, describe: 'seconds to wait for the node\'s parameter services and their reply' });

/** "/ns/node" or "node" → the absolute node name its services live under. */
function nodePath(node: string): string {
  const n = node.startsWith('/') ? node : `/${node}`;
  if (!/^(\/[A-Za-z_][A-Za-z0-9_]*)+$/.test(n)) throw new UserError(`"${node}" is not a node name (e.g. /policy_node or /arm/policy_node)`);
  return n;
}

/** Calls one of the node's parameter services; a missing node or a timeout is one clear line. */
async function callParam<Res>(transport: Transport, args: NodeArgs, service: string, request: object): Promise<Res> {
  const { ServiceCallError } = await import('../ros/services/errors.ts');
  const name = `${nodePath(args.node)}/${service}`;
  const type = `rcl_interfaces/srv/${service.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`;
  const client: ServiceClient<object, Res> = transport.createClient(name, type, 'parameters');
  try {
    return await client.call(request, { timeoutMs: args.timeout * 1000 });
  } catch (err) {
    if (err instanceof ServiceCallError && err.kind === 'timeout' && /no server/.test(err.message)) {
      throw new UserError(`node ${nodePath(args.node)} not found: no ${name} service within ${args.timeout} s (is the node running, on this ROS_DOMAIN_ID?)`);
    }
    if (err instanceof ServiceCallError) throw new UserError(err.message);
    throw err;
  } finally {
    client.close();
  }
}

const TYPE_WORD = ['Parameter not set', 'Boolean', 'Integer', 'Double', 'String', 'Byte values', 'Boolean values', 'Integer values', 'Double values', 'String values'];

/** The value as plain data (bigints as numbers when exact), or undefined for NOT_SET. */
function plainValue(v: ParameterValueMsg): unknown {
  const int = (x: bigint) => (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString());
  switch (v.type) {
    case 1: return v.bool_value;
    case 2: return int(v.integer_value ?? 0n);
    case 3: return v.double_value;
    case 4: return v.string_value;
    case 5: return Array.from(v.byte_array_value ?? []);
    case 6: return [...(v.bool_array_value ?? [])];
    case 7: return Array.from(v.integer_array_value ?? [], (x) => int(BigInt(x)));
    case 8: return Array.from(v.double_array_value ?? []);
    case 9: return [...(v.string_array_value ?? [])];
    default: return undefined;
  }
}

async function listNames(transport: Transport, args: NodeArgs, prefixes: string[] = []): Promise<string[]> {
  const r = await callParam<{ result: { names: string[] } }>(transport, args, 'list_parameters', { prefixes, depth: 0n });
  return [...r.result.names].sort();
}

interface ListArgs extends NodeArgs {
  paramType: boolean;
  filter?: string;
}

const list: CommandModule<object, ListArgs> = {
  command: 'list <node>',
  describe: 'list the parameters of a node',
  builder: (y) =>
    nodeOptions(y)
      .option('param-type', { alias: 't', type: 'boolean', default: false, describe: 'show each parameter\'s type' })
      .option('filter', { type: 'string', describe: 'only names matching this regular expression' }) as unknown as Argv<ListArgs>,
  handler: (args: ArgumentsCamelCase<ListArgs>) =>
    withTransport(args, async (transport) => {
      let names = await listNames(transport, args);
      if (args.filter !== undefined) {
        let re: RegExp;
        try {
          re = new RegExp(args.filter);
        } catch (err) {
          throw new UserError(`--filter: ${(err as Error).message}`);
        }
        names = names.filter((n) => re.test(n));
      }
      let types: number[] = [];
      if (args.paramType) types = [...(await callParam<{ types: Uint8Array }>(transport, args, 'get_parameter_types', { names })).types];
      process.stdout.write(`${nodePath(args.node)}:\n`);
      names.forEach((n, i) => process.stdout.write(`  ${n}${args.paramType ? ` (type: ${TYPE_WORD[types[i]]?.toLowerCase() ?? types[i]})` : ''}\n`));
    }),
};

interface GetArgs extends NodeArgs {
  name: string;
  hideType: boolean;
}

const get: CommandModule<object, GetArgs> = {
  command: 'get <node> <name>',
  describe: 'print the value of one parameter',
  builder: (y) =>
    nodeOptions(y)
      .positional('name', { type: 'string', describe: 'parameter name, e.g. safety.watchdog_ms' })
      .option('hide-type', { type: 'boolean', default: false, describe: 'print only the value' }) as unknown as Argv<GetArgs>,
  handler: (args: ArgumentsCamelCase<GetArgs>) =>
    withTransport(args, async (transport) => {
      const r = await callParam<{ values: ParameterValueMsg[] }>(transport, args, 'get_parameters', { names: [args.name] });
      const v = r.values[0];
      if (!v || v.type === 0) throw new UserError(`parameter ${args.name} is not set on ${nodePath(args.node)} (list them with onestep param list ${nodePath(args.node)})`);
      const value = JSON.stringify(plainValue(v));
      process.stdout.write(args.hideType ? `${value}\n` : `${TYPE_WORD[v.type]} value is: ${value}\n`);
    }),
};

interface SetArgs extends NodeArgs {
  name: string;
  value: string;
}

/** A value typed on the command line as ROS tools type it: YAML, integers as INTEGER, other numbers as DOUBLE. */
async function valueFromText(text: string): Promise<ParameterValueMsg> {
  const { plainToParameterValueMsg } = await import('../ros/node/parameter-server.ts');
  const v = await parseUserYaml(text, 'the value');
  const ok = (x: unknown) => typeof x === 'boolean' || typeof x === 'number' || typeof x === 'string';
  if (ok(v)) return plainToParameterValueMsg(v as boolean | number | string);
  if (Array.isArray(v) && v.every(ok) && new Set(v.map((x) => typeof x)).size <= 1) return plainToParameterValueMsg(v as number[]);
  throw new UserError(`the value ${text} is not a bool, number, string or a list of one of them`);
}

const set: CommandModule<object, SetArgs> = {
  command: 'set <node> <name> <value>',
  describe: 'set a parameter (a YAML value: 0.05, true, "text", [1, 2])',
  builder: (y) =>
    nodeOptions(y)
      .positional('name', { type: 'string', describe: 'parameter name, e.g. safety.max_step' })
      .positional('value', { type: 'string', describe: 'the new value as YAML' }) as unknown as Argv<SetArgs>,
  handler: (args: ArgumentsCamelCase<SetArgs>) =>
    withTransport(args, async (transport) => {
      const value = await valueFromText(String(args.value));
      const r = await callParam<{ results: { successful: boolean; reason: string }[] }>(transport, args, 'set_parameters', {
        parameters: [{ name: args.name, value }],
      });
      const result = r.results[0];
      if (!result?.successful) throw new UserError(`setting parameter ${args.name} failed: ${result?.reason || 'no reason given'}`);
      process.stdout.write('Set parameter successful\n');
    }),
};

interface DescribeArgs extends NodeArgs {
  names: string[];
}

type Descriptor = {
  name: string; type: number; description: string; additional_constraints: string; read_only: boolean;
  floating_point_range: { from_value: number; to_value: number; step: number }[];
  integer_range: { from_value: bigint; to_value: bigint; step: bigint }[];
};

const describe: CommandModule<object, DescribeArgs> = {
  command: 'describe <node> <names..>',
  describe: 'print the type, description, range and constraints of parameters',
  builder: (y) => nodeOptions(y).positional('names', { type: 'string', array: true, describe: 'parameter names' }) as unknown as Argv<DescribeArgs>,
  handler: (args: ArgumentsCamelCase<DescribeArgs>) =>
    withTransport(args, async (transport) => {
      const r = await callParam<{ descriptors: Descriptor[] }>(transport, args, 'describe_parameters', { names: args.names });
      for (const d of r.descriptors) {
        const lines = [`Parameter name: ${d.name}`, `  Type: ${TYPE_WORD[d.type]?.toLowerCase() ?? d.type}`];
        if (d.description) lines.push(`  Description: ${d.description}`);
        lines.push('  Constraints:');
        if (d.read_only) lines.push('    Read only: true');
        for (const r of d.floating_point_range) lines.push(`    Min value: ${r.from_value}`, `    Max value: ${r.to_value}`);
        for (const r of d.integer_range) lines.push(`    Min value: ${r.from_value}`, `    Max value: ${r.to_value}`);
        if (d.additional_constraints) lines.push(`    ${d.additional_constraints}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
    }),
};

interface DumpArgs extends NodeArgs {
  output?: string;
}

const dump: CommandModule<object, DumpArgs> = {
  command: 'dump <node>',
  describe: 'print every parameter as a ROS 2 parameter file (YAML that --params-file and launch files read)',
  builder: (y) => nodeOptions(y).option('output', { alias: 'o', type: 'string', describe: 'write the YAML to this file instead of stdout' }) as unknown as Argv<DumpArgs>,
  handler: (args: ArgumentsCamelCase<DumpArgs>) =>
    withTransport(args, async (transport) => {
      const names = await listNames(transport, args);
      const r = await callParam<{ values: ParameterValueMsg[] }>(transport, args, 'get_parameters', { names });
      // dotted names nest, as ros2 param dump writes them
      const params: Record<string, unknown> = {};
      names.forEach((name, i) => {
        const value = plainValue(r.values[i]);
        if (value === undefined) return;
        const parts = name.split('.');
        let at = params;
        for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
        at[parts[parts.length - 1]] = value;
      });
      const { stringify } = await import('yaml');
      const text = stringify({ [nodePath(args.node)]: { ros__parameters: params } });
      if (args.output) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(args.output, text);
        process.stdout.write(`wrote ${names.length} parameters of ${nodePath(args.node)} to ${args.output}\n`);
      } else process.stdout.write(text);
    }),
};

export default commandGroup('param', 'Read and change a running node\'s parameters: list, get, set, describe, dump', [list, get, set, describe, dump]);
