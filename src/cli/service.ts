// `onestep service`: list, inspect and call ROS 2 services by hand, as `ros2 service` does. Works over any
// transport; on the embedded rtps transport a call speaks the request convention of the server's rmw
// (rmw_cyclonedds or rmw_fastrtps), so the same command calls either.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { MessageCodec } from '../ros/msgs/index.ts';
import { UserError } from './errors.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CommonArgs, commandGroup, common, discoverType, fromUserValues, listCommand, parseUserYaml, withTransport, yamlPrinter } from './ros-common.ts';

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
      process.stdout.write(`${await discoverType(transport, 'service', args.service, args.wait)}\n`);
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
    const show = await yamlPrinter();
    await withTransport(args, async (transport) => {
      const typeName = args.type ?? (await discoverType(transport, 'service', args.service, args.wait));
      const codec = getServiceCodec(typeName);
      const request = fromUserValues(codec.request as MessageCodec<unknown>, await parseUserYaml(args.values, 'request values'));
      codec.request.encode(request); // type errors surface before anything is sent
      const client = transport.createClient(args.service, codec.type);
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

export default commandGroup('service', 'List, inspect and call ROS 2 services: list, type, call', [listCommand('service'), type, call]);
