// `onestep topic`: poke a ROS 2 graph by hand, as `ros2 topic` does: list, echo, pub, hz. Works over any
// transport (the embedded rtps participant by default, so no ROS install is needed).
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { QosProfile, Transport } from '../ros/transport.ts';
import type { MessageCodec } from '../ros/msgs/index.ts';
import { UserError } from './errors.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CommonArgs, commandGroup, common, discoverType, fromUserValues, listCommand, parseUserYaml, untilInterrupted, withTransport, yamlPrinter } from './ros-common.ts';

interface QosArgs {
  qos: 'auto' | 'default' | 'sensor_data' | 'system_default';
  reliability?: 'reliable' | 'best_effort';
  durability?: 'volatile' | 'transient_local';
  depth?: number;
}

const qosOptions = (y: Argv, auto: string) =>
  y
    .option('qos', {
      choices: ['auto', 'default', 'sensor_data', 'system_default'] as const,
      default: 'auto' as const,
      describe: `QoS profile (auto: ${auto})`,
    })
    .option('reliability', { choices: ['reliable', 'best_effort'] as const, describe: 'override the profile reliability', defaultDescription: 'from --qos' })
    .option('durability', { choices: ['volatile', 'transient_local'] as const, describe: 'override the profile durability', defaultDescription: 'from --qos' })
    .option('depth', { type: 'number', describe: 'override the profile history depth (keep-last)', defaultDescription: 'from --qos' });

/** What echo and hz take: a topic, its type (discovered when not given) and a QoS that matches every publisher. */
interface SubscriberArgs extends CommonArgs, QosArgs {
  topic: string;
  type?: string;
  wait: number;
}

const subscriberOptions = (y: Argv) =>
  qosOptions(common(y), 'best-effort, volatile, depth 10: matches every publisher')
    .positional('topic', { type: 'string', describe: 'topic name, e.g. /joint_states' })
    .positional('type', { type: 'string', describe: 'message type, e.g. sensor_msgs/msg/JointState (default: discovered)' })
    .option('wait', { type: 'number', default: 5, describe: 'seconds to wait for a publisher when the type must be discovered' });

async function qosFrom(args: QosArgs, autoProfile: QosProfile): Promise<QosProfile> {
  const { resolveQos } = await import('../ros/transport.ts');
  const base = args.qos === 'auto' ? { ...autoProfile } : resolveQos(args.qos);
  if (args.reliability) base.reliability = args.reliability;
  if (args.durability) base.durability = args.durability;
  if (args.depth !== undefined) {
    if (!Number.isInteger(args.depth) || args.depth < 1) throw new UserError(`--depth must be a positive integer, got ${args.depth}`);
    base.depth = args.depth;
  }
  return base;
}

const BEST_AVAILABLE: QosProfile = { reliability: 'best_effort', durability: 'volatile', history: 'keep_last', depth: 10 };

/** What echo and hz subscribe with: the topic's type (as given, else discovered) and the subscriber QoS. */
async function subscriberSetup(transport: Transport, args: SubscriberArgs): Promise<{ type: string; qos: QosProfile }> {
  const type = args.type ?? (await discoverType(transport, 'topic', args.topic, args.wait));
  const { getMessageCodec } = await import('../ros/msgs/index.ts');
  getMessageCodec(type); // fail fast on an unknown type
  return { type, qos: await qosFrom(args, BEST_AVAILABLE) };
}

// ---- sub-commands --------------------------------------------------------------------------------------------

interface EchoArgs extends SubscriberArgs {
  once: boolean;
  count?: number;
  noArr: boolean;
  raw: boolean;
  field?: string;
  timeout?: number;
}

const echo: CommandModule<object, EchoArgs> = {
  command: 'echo <topic> [type]',
  describe: 'print the messages published on a topic',
  builder: (y) =>
    subscriberOptions(y)
      .option('once', { type: 'boolean', default: false, describe: 'print one message and exit' })
      .option('count', { type: 'number', describe: 'exit after this many messages', defaultDescription: 'unlimited' })
      .option('no-arr', { type: 'boolean', default: false, describe: 'do not print array contents, only their lengths' })
      .option('raw', { type: 'boolean', default: false, describe: 'print the serialized CDR bytes (hex) instead' })
      .option('field', { type: 'string', describe: 'print only this field, e.g. header.stamp', defaultDescription: 'the whole message' })
      .option('timeout', { type: 'number', describe: 'exit with an error if nothing arrives within this many seconds', defaultDescription: 'wait forever' }) as unknown as Argv<EchoArgs>,
  handler: async (args: ArgumentsCamelCase<EchoArgs>) => {
    const show = await yamlPrinter(args.noArr);
    await withTransport(args, async (transport) => {
      const { stopped, stop } = untilInterrupted();
      const { type, qos } = await subscriberSetup(transport, args);
      const limit = args.once ? 1 : args.count;
      let printed = 0;
      const path = args.field?.split('.') ?? [];
      transport.subscribe(args.topic, type, qos, (msg, info) => {
        if (limit !== undefined && printed >= limit) return;
        printed++;
        if (args.raw) process.stdout.write(`${Buffer.from(info.cdr).toString('hex')}\n---\n`);
        else {
          let value: unknown = msg;
          for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
          if (args.field && value === undefined) {
            process.stderr.write(`onestep: ${type} has no field ${args.field}\n`);
            process.exitCode = 1;
            return stop();
          }
          process.stdout.write(`${show(value)}\n---\n`);
        }
        if (limit !== undefined && printed >= limit) stop();
      });
      let timer: NodeJS.Timeout | undefined;
      if (args.timeout !== undefined) {
        timer = setTimeout(() => {
          if (printed === 0) {
            process.exitCode = 1;
            process.stderr.write(`onestep: no message on ${args.topic} within ${args.timeout} s\n`);
          }
          stop();
        }, args.timeout * 1000);
      }
      await stopped;
      clearTimeout(timer);
    });
  },
};

interface PubArgs extends CommonArgs, QosArgs {
  topic: string;
  type: string;
  values?: string;
  rate: number;
  once: boolean;
  times?: number;
  waitMatchingSubscriptions?: number;
  wait: number;
  print: boolean;
}

const pub: CommandModule<object, PubArgs> = {
  command: 'pub <topic> <type> [values]',
  describe: 'publish a message, given as YAML, once or at a rate',
  builder: (y) =>
    qosOptions(common(y), 'the ROS default: reliable, volatile, depth 10')
      .positional('topic', { type: 'string', describe: 'topic name, e.g. /chatter' })
      .positional('type', { type: 'string', describe: 'message type, e.g. std_msgs/msg/String' })
      .positional('values', { type: 'string', describe: "field values as YAML, e.g. '{data: hello}'; 'now' for a time, 'auto' for a Header (default: all fields zero)" })
      .option('rate', { alias: 'r', type: 'number', default: 1, describe: 'publishing rate, Hz' })
      .option('once', { alias: '1', type: 'boolean', default: false, describe: 'publish one message and exit' })
      .option('times', { alias: 't', type: 'number', describe: 'publish this many messages and exit', defaultDescription: 'until Ctrl-C' })
      .option('wait-matching-subscriptions', { alias: 'w', type: 'number', describe: 'wait for this many matched subscriptions before publishing', defaultDescription: '1 with --once/--times, else 0' })
      .option('wait', { type: 'number', default: 5, describe: 'seconds to wait for those subscriptions' })
      .option('print', { type: 'boolean', default: true, describe: 'print each published message' }) as unknown as Argv<PubArgs>,
  handler: async (args: ArgumentsCamelCase<PubArgs>) => {
    if (!(args.rate > 0)) throw new UserError(`--rate must be a positive number of Hz, got ${args.rate}`);
    const { getMessageCodec } = await import('../ros/msgs/index.ts');
    const codec = getMessageCodec(args.type);
    const parsed = await parseUserYaml(args.values);
    const show = await yamlPrinter();
    const message = fromUserValues(codec as MessageCodec<unknown>, parsed);
    codec.encode(message); // type errors surface before anything is advertised
    const times = args.once ? 1 : args.times;
    await withTransport(args, async (transport) => {
      const { stopped, stop } = untilInterrupted();
      const qos = await qosFrom(args, { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 });
      const publisher = transport.advertise(args.topic, codec.type, qos);
      const needed = args.waitMatchingSubscriptions ?? (times !== undefined ? 1 : 0);
      const deadline = Date.now() + args.wait * 1000;
      while (publisher.matchedSubscriptions() < needed && Date.now() < deadline) await sleep(50);
      if (publisher.matchedSubscriptions() < needed) {
        process.stderr.write(`onestep: ${publisher.matchedSubscriptions()}/${needed} subscriptions matched ${publisher.topic} after ${args.wait} s; publishing anyway\n`);
      }
      let sent = 0;
      const period = 1000 / args.rate;
      const start = performance.now();
      const text = show(message);
      const tick = () => {
        const fresh = fromUserValues(codec as MessageCodec<unknown>, parsed); // 'now' is re-read per message
        publisher.publish(fresh);
        sent++;
        if (args.print) process.stdout.write(`publishing #${sent}:${text.includes('\n') ? `\n${text}` : ` ${text}`}\n`);
        if (times !== undefined && sent >= times) return stop();
        timer = setTimeout(tick, Math.max(0, start + sent * period - performance.now()));
      };
      let timer = setTimeout(tick, 0);
      await stopped;
      clearTimeout(timer);
      if (qos.reliability === 'reliable') await sleep(300); // let reliable resends of the last sample go out
    });
  },
};

interface HzArgs extends SubscriberArgs {
  window: number;
  duration?: number;
}

const hz: CommandModule<object, HzArgs> = {
  command: 'hz <topic> [type]',
  describe: 'print the rate at which messages arrive on a topic',
  builder: (y) =>
    subscriberOptions(y)
      .option('window', { alias: 'w', type: 'number', default: 10000, describe: 'messages the statistics are computed over' })
      .option('duration', { type: 'number', describe: 'stop after this many seconds', defaultDescription: 'until Ctrl-C' }) as unknown as Argv<HzArgs>,
  handler: async (args: ArgumentsCamelCase<HzArgs>) => {
    if (!Number.isInteger(args.window) || args.window < 2) throw new UserError(`--window must be an integer ≥ 2, got ${args.window}`);
    await withTransport(args, async (transport) => {
      const { stopped, stop } = untilInterrupted();
      const { type, qos } = await subscriberSetup(transport, args);
      // a ring of arrival times (ns), preallocated: one write per message
      const arrivals = new Float64Array(args.window);
      let n = 0;
      transport.subscribe(args.topic, type, qos, (_msg, info) => {
        arrivals[n % args.window] = Number(info.receivedAt);
        n++;
      });
      const report = setInterval(() => {
        const k = Math.min(n, args.window);
        if (k < 2) return void process.stdout.write(n === 0 ? 'no new messages\n' : 'waiting for a second message\n');
        const first = n - k;
        let min = Infinity;
        let max = 0;
        let sum = 0;
        let sumSq = 0;
        for (let i = first + 1; i < n; i++) {
          const dt = (arrivals[i % args.window] - arrivals[(i - 1) % args.window]) / 1e9;
          min = Math.min(min, dt);
          max = Math.max(max, dt);
          sum += dt;
          sumSq += dt * dt;
        }
        const mean = sum / (k - 1);
        const std = Math.sqrt(Math.max(0, sumSq / (k - 1) - mean * mean));
        process.stdout.write(`average rate: ${(1 / mean).toFixed(3)}\n\tmin: ${min.toFixed(6)}s max: ${max.toFixed(6)}s std dev: ${std.toFixed(5)}s window: ${k}\n`);
      }, 1000);
      const end = args.duration !== undefined ? setTimeout(stop, args.duration * 1000) : undefined;
      await stopped;
      clearInterval(report);
      clearTimeout(end);
    });
  },
};

export default commandGroup('topic', 'Inspect and poke a ROS 2 graph: echo, pub, list, hz', [listCommand('topic'), echo, pub, hz]);
