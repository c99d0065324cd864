// What the ROS graph commands (topic, service, param) share: the transport options and lifecycle, Ctrl-C handling,
// the command group they are, discovering a topic's or service's type and listing them, and turning messages into
// printable YAML and user YAML into messages.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Transport } from '../ros/transport.ts';
import type { MessageCodec } from '../ros/msgs/index.ts';
import { UserError } from './errors.ts';

export interface CommonArgs {
  transport: 'auto' | 'rtps' | 'rclnodejs' | 'inproc';
  domain?: number;
  nodeName: string;
}

/** --transport, --domain and --node-name (default onestep_<command>_<pid>). */
export const common = (y: Argv, command = 'topic') =>
  y
    .option('transport', {
      choices: ['auto', 'rtps', 'rclnodejs', 'inproc'] as const,
      default: 'auto' as const,
      describe: 'ROS 2 transport: auto = rclnodejs on a sourced ROS 2 with rclnodejs installed, else the embedded rtps',
    })
    .option('domain', { type: 'number', describe: 'ROS domain id', defaultDescription: 'ROS_DOMAIN_ID, else 0' })
    .option('node-name', {
      type: 'string',
      default: `onestep_${command}_${process.pid}`,
      defaultDescription: `onestep_${command}_<pid>`,
      describe: 'name of the node this command runs as',
    });

/** Opens the transport the options name, runs `body` with it, and closes it however `body` ends. */
export async function withTransport(args: CommonArgs, body: (transport: Transport) => Promise<void>): Promise<void> {
  const { createTransport } = await import('../ros/index.ts');
  const transport = await createTransport({ kind: args.transport, node: args.nodeName, domainId: args.domain });
  try {
    await body(transport);
  } finally {
    await transport.close();
  }
}

/** `stopped` resolves on Ctrl-C / SIGTERM or when the command calls stop(). */
export function untilInterrupted(): { stopped: Promise<void>; stop: () => void } {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = () => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  void stopped.then(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  return { stopped, stop };
}

/** `onestep <group> <command>`: the sub-commands, and the line a missing sub-command gets. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function commandGroup(command: string, describe: string, subcommands: CommandModule<object, any>[]): CommandModule {
  const names = subcommands.map((c) => String(c.command).split(' ')[0]);
  const choice = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names[0];
  return {
    command: `${command} <command>`,
    describe,
    builder: (y: Argv) => {
      for (const c of subcommands) y.command(c as CommandModule);
      return y.demandCommand(1, `name a ${command} command: ${choice}`);
    },
    handler: () => {},
  };
}

// ---- the graph: topics and services ----------------------------------------------------------------------------

export type GraphKind = 'topic' | 'service';

interface GraphEntry {
  name: string;
  types: string[];
  /** Endpoint counts as `list --verbose` prints them ('' where the transport cannot count them). */
  counts: string;
}

const GRAPH: Record<GraphKind, { entries: (t: Transport) => GraphEntry[]; endpoints: string; example: string }> = {
  topic: {
    entries: (t) => t.topics().map((x) => ({ name: x.topic, types: x.types, counts: `${x.publishers} publisher(s), ${x.subscribers} subscriber(s)` })),
    endpoints: 'publisher',
    example: 'std_msgs/msg/String',
  },
  service: {
    entries: (t) => t.services().map((x) => ({ name: x.service, types: x.types, counts: x.servers >= 0 ? `${x.servers} server(s), ${x.clients} client(s)` : '' })),
    endpoints: 'server or client',
    example: 'std_srvs/srv/Trigger',
  },
};

/** The type of topic or service `name` as discovered in the graph, waiting up to `waitS` seconds. */
export async function discoverType(transport: Transport, kind: GraphKind, name: string, waitS: number): Promise<string> {
  const { resolveTopicName } = await import('../ros/names.ts');
  const fqn = resolveTopicName(name, transport.node);
  const { entries, endpoints, example } = GRAPH[kind];
  const deadline = Date.now() + waitS * 1000;
  for (;;) {
    const info = entries(transport).find((e) => e.name === fqn);
    if (info && info.types.length === 1) return info.types[0];
    if (info && info.types.length > 1) throw new UserError(`${kind} ${fqn} has several types (${info.types.join(', ')}): name one as TYPE`);
    if (Date.now() >= deadline) throw new UserError(`no ${endpoints} of ${fqn} was discovered within ${waitS} s: name its TYPE (e.g. ${example}) or raise --wait`);
    await sleep(100);
  }
}

interface ListArgs extends CommonArgs {
  showTypes: boolean;
  verbose: boolean;
  wait: number;
}

/** `onestep topic list` / `onestep service list`, as `ros2 topic list` / `ros2 service list` print them. */
export function listCommand(kind: GraphKind): CommandModule<object, ListArgs> {
  const counted = kind === 'topic' ? 'publisher and subscriber' : 'server and client';
  return {
    command: 'list',
    describe: `list the ${kind}s in the graph`,
    builder: (y) =>
      common(y, kind)
        .option('show-types', { alias: 't', type: 'boolean', default: false, describe: `show each ${kind}'s type` })
        .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: `show ${counted} counts` })
        .option('wait', { type: 'number', default: 2, describe: 'seconds of discovery before listing' }) as unknown as Argv<ListArgs>,
    handler: (args: ArgumentsCamelCase<ListArgs>) =>
      withTransport(args, async (transport) => {
        if (transport.kind !== 'inproc') await sleep(args.wait * 1000);
        for (const e of GRAPH[kind].entries(transport)) {
          const types = args.showTypes || args.verbose ? ` [${e.types.join(', ')}]` : '';
          const counts = args.verbose && e.counts ? ` ${e.counts}` : '';
          process.stdout.write(`${e.name}${types}${counts}\n`);
        }
      }),
  };
}


// ---- message ↔ YAML ------------------------------------------------------------------------------------------

/** A printable plain object: typed arrays → arrays, bigints → numbers when exact, else strings. */
export function toPlain(value: unknown, noArrays: boolean): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (ArrayBuffer.isView(value)) return noArrays ? `<array of length ${(value as unknown as ArrayLike<unknown>).length}>` : Array.from(value as unknown as ArrayLike<number | bigint>, (v) => toPlain(v, noArrays));
  if (Array.isArray(value)) return noArrays ? `<sequence of length ${value.length}>` : value.map((v) => toPlain(v, noArrays));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlain(v, noArrays);
    return out;
  }
  return value;
}

/** "pkg/Type" (how definitions name message types) → "pkg/msg/Type"; service parts are already "pkg/srv/Name_Request". */
const longType = (t: string) => (t.split('/').length === 2 ? t.replace('/', '/msg/') : t);

/**
 * Turns user YAML into a message of `codec`'s type: checks field names (a typo is an error, not a silent default),
 * and expands `now` for time fields and `auto` for std_msgs/Header fields, as `ros2 topic pub` does.
 */
export function fromUserValues(codec: MessageCodec<unknown>, values: unknown): Record<string, unknown> {
  const defs = new Map(codec.definitions.map((d) => [d.name!, d.definitions]));
  const root = codec.definitions[0].name!;
  const now = () => {
    const ms = Date.now();
    return { sec: Math.floor(ms / 1000), nanosec: (ms % 1000) * 1_000_000 };
  };
  const walk = (type: string, v: unknown, path: string): unknown => {
    const fields = (defs.get(type) ?? []).filter((f) => !f.isConstant);
    if (type === 'std_msgs/Header' && v === 'auto') return { stamp: now(), frame_id: '' };
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw new UserError(`${path || 'message'}: expected a mapping of ${longType(type)} fields, got ${JSON.stringify(v)}`);
    const out: Record<string, unknown> = {};
    for (const [k, fv] of Object.entries(v as Record<string, unknown>)) {
      const f = fields.find((x) => x.name === k);
      const here = path ? `${path}.${k}` : k;
      if (!f) throw new UserError(`${here}: no such field in ${longType(type)} (fields: ${fields.map((x) => x.name).join(', ') || 'none'})`);
      if (f.type === 'time' && fv === 'now') out[k] = now();
      else if (f.isComplex && f.isArray && Array.isArray(fv)) out[k] = fv.map((e, i) => walk(f.type, e, `${here}[${i}]`));
      else if (f.isComplex && !f.isArray) out[k] = walk(f.type, fv, here);
      else out[k] = fv;
    }
    return out;
  };
  return walk(root, values ?? {}, '') as Record<string, unknown>;
}

/** Parses the YAML a user typed for a message ("{data: true}"); an empty text is an empty message. */
export async function parseUserYaml(text: string | undefined, what = 'values'): Promise<unknown> {
  if (text === undefined) return {};
  const { parse } = await import('yaml');
  try {
    return parse(text, { intAsBigInt: false }) ?? {};
  } catch (err) {
    throw new UserError(`${what} are not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** A message (or a field of one) as the graph commands print it: YAML for structures, the bare value otherwise. */
export async function yamlPrinter(noArrays = false): Promise<(value: unknown) => string> {
  const { stringify } = await import('yaml');
  return (value) => {
    const plain = toPlain(value, noArrays);
    return typeof plain === 'object' && plain !== null ? stringify(plain).trimEnd() : String(plain);
  };
}
