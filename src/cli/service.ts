// `onestep service`: list, inspect and call ROS 2 services by hand, as `ros2 service` does. Works over any
// transport; on the embedded rtps transport a call speaks the request convention of the server's rmw
// (rmw_cyclonedds or rmw_fastrtps), so the same command calls either.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { Transport } from '../ros/transport.ts';
import type { MessageCodec } from '../ros/msgs/index.ts';
import { UserError } from './errors.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CommonArgs, common, fromUserValues, parseUserYaml, toPlain, withTransport } from './ros-common.ts';

/** The type of service `name` as discovered in the graph, waiting up to `waitS` seconds. */
export async function discoverServiceType(transport: Transport, name: string, waitS: number): Promise<string> {
  const { resolveTopicName } = await import('../ros/names.ts');
  const fqn = resolveTopicName(name, transport.node);
  const deadline = Date.now() + waitS * 1000;
  for (;;) {
    const info = transport.services().find((s) => s.service === fqn);
    if (info && info.types.length === 1) return info.types[0];
    if (info && info.types.length > 1) throw new UserError(`service ${fqn} has several types (${info.types.join(', ')}): name one as TYPE`);
    if (Date.now() >= deadline) throw new UserError(`no server or client of ${fqn} was discovered within ${waitS} s: name its TYPE (e.g. std_srvs/srv/Trigger) or raise --wait`);
    await sleep(100);
  }
}

interface ListArgs extends CommonArgs {
  showTypes: boolean;
  verbose: boolean;
  wait: number;
}

const list: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'list the services in the graph',
  builder: (y) =>
    common(y, 'service')
      .option('show-types', { alias: 't', type: 'boolean', default: false, describe: 'show each service\'s type' })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'show server and client counts' })
      .option('wait', { type: 'number', default: 2, describe: 'seconds of discovery before listing' }) as unknown as Argv<ListArgs>,
  handler: (args: ArgumentsCamelCase<ListArgs>) =>
    withTransport(args, async (transport) => {
      if (transport.kind !== 'inproc') await sleep(args.wait * 1000);
      for (const s of transport.services()) {
        const types = args.showTypes || args.verbose ? ` [${s.types.join(', ')}]` : '';
        const counts = args.verbose && s.servers >= 0 ? ` ${s.servers} server(s), ${s.clients} client(s)` : '';
        process.stdout.write(`${s.service}${types}${counts}\n`);
      }
    }),
};

interface TypeArgs extends CommonArgs {
  service: string;
  wait: number;
}

const type: CommandModule<object, TypeArgs> = {
  command: 'type <service>',
  describe: 'print the type of a service',
  builder: (y) =>
    common(y, 'service')
      .positional('service', { type: 'string', describe: 'service name, e.g. /policy_node/reload' })
      .option('wait', { type: 'number', default: 5, describe: 'seconds to wait for the service to be discovered' }) as unknown as Argv<TypeArgs>,
  handler: (args: ArgumentsCamelCase<TypeArgs>) =>
    withTransport(args, async (transport) => {
      process.stdout.write(`${await discoverServiceType(transport, args.service, args.wait)}\n`);
    }),
};

interface CallArgs extends CommonArgs {
  service: string;
  type?: string;
  values?: string;
  timeout: number;
  wait: number;
  rate?: number;
}

const call: CommandModule<object, CallArgs> = {
  command: 'call <service> [type] [values]',
  describe: 'call a service with a request given as YAML and print the response',
  builder: (y) =>
    common(y, 'service')
      .positional('service', { type: 'string', describe: 'service name, e.g. /policy_node/reload' })
      .positional('type', { type: 'string', describe: 'service type, e.g. std_srvs/srv/Trigger (default: discovered)' })
      .positional('values', { type: 'string', describe: "request fields as YAML, e.g. '{data: true}' (default: all fields zero)" })
      .option('timeout', { type: 'number', default: 10, describe: 'seconds to wait for a server and its reply' })
      .option('wait', { type: 'number', default: 5, describe: 'seconds to wait for the service to be discovered when TYPE is not given' })
      .option('rate', { alias: 'r', type: 'number', describe: 'repeat the call at this rate (Hz) until Ctrl-C', defaultDescription: 'call once' }) as unknown as Argv<CallArgs>,
  handler: async (args: ArgumentsCamelCase<CallArgs>) => {
    if (!(args.timeout > 0)) throw new UserError(`--timeout must be a positive number of seconds, got ${args.timeout}`);
    if (args.rate !== undefined && !(args.rate > 0)) throw new UserError(`--rate must be a positive number of Hz, got ${args.rate}`);
    const { getServiceCodec } = await import('../ros/msgs/index.ts');
    const { ServiceCallError } = await import('../ros/services/errors.ts');
    const { stringify } = await import('yaml');
    await withTransport(args, async (transport) => {
      const typeName = args.type ?? (await discoverServiceType(transport, args.service, args.wait));
      const codec = getServiceCodec(typeName);
      const request = fromUserValues(codec.request as MessageCodec<unknown>, await parseUserYaml(args.values, 'request values'));
      codec.request.encode(request); // type errors surface before anything is sent
      const client = transport.createClient(args.service, codec.type);
      const show = (v: unknown) => stringify(toPlain(v, false)).trimEnd();
      let interrupted = false;
      const onSignal = () => (interrupted = true);
      process.once('SIGINT', onSignal);
      try {
        for (;;) {
          process.stdout.write(`requester: making request: ${codec.type}\n${show(request)}\n\n`);
          const t0 = performance.now();
          try {
            const response = await client.call(request, { timeoutMs: args.timeout * 1000 });
            process.stdout.write(`response (${(performance.now() - t0).toFixed(2)} ms):\n${show(response)}\n`);
          } catch (err) {
            if (err instanceof ServiceCallError) throw new UserError(err.message);
            throw err;
          }
          if (args.rate === undefined || interrupted) break;
          await sleep(Math.max(0, 1000 / args.rate - (performance.now() - t0)));
          if (interrupted) break;
        }
      } finally {
        process.off('SIGINT', onSignal);
        client.close();
      }
    });
  },
};

const command: CommandModule = {
  command: 'service <command>',
  describe: 'List, inspect and call ROS 2 services: list, type, call',
  builder: (y: Argv) =>
    y
      .command(list as unknown as CommandModule)
      .command(type as unknown as CommandModule)
      .command(call as unknown as CommandModule)
      .demandCommand(1, 'name a service command: list, type or call'),
  handler: () => {},
};
export default command;
