// Profiling a live graph: publish the trigger observation at a rate (real time, or lockstep: the next one once the
// previous is answered) or tap the one a robot or simulator publishes, collect the commands and, from an onestep
// node with diagnostics.timings, its per-pass clock reads; stamp everything on this process's monotonic clock.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Publisher, QosProfile, QosProfileName, Subscription, Transport } from '../transport.ts';
import { wallTimeNs } from '../mcap/recorder.ts';
import type { CommandSample, ObservationSample, PassSample, RawRun } from './analyze.ts';
import { stampKey } from './analyze.ts';
import { ResourceSampler } from './context.ts';
import { fnv1a32, monotonicClockId } from '../node/timings.ts';

export class ProfileError extends Error {
  override name = 'ProfileError';
}

export interface TopicSpec {
  topic: string;
  type: string;
  qos: QosProfile | QosProfileName;
}

/** Another observation source the node needs before it acts (published before each trigger, every `every`-th step). */
export interface ExtraSource extends TopicSpec {
  every: number;
  make: (step: number, stamp: { sec: number; nanosec: number }) => Record<string, unknown>;
}

export interface LiveProfileOptions {
  transport: Transport;
  observation: TopicSpec;
  command: TopicSpec;
  /** The node's ~/timings topic (onestep_msgs/PassTimings), fully qualified; null: do not read timings. */
  timingsTopic: string | null;
  /** publish: we are the robot; tap: someone else publishes the observations. */
  mode: 'publish' | 'tap';
  /** publish mode: the trigger observation of step k with the given header stamp. */
  makeObservation?: (step: number, stamp: { sec: number; nanosec: number }) => Record<string, unknown>;
  extra?: ExtraSource[];
  rateHz: number;
  lockstep: boolean;
  durationS: number;
  warmupS: number;
  /** Wait this long after the last observation for late commands (ms). */
  lingerMs?: number;
  /** Give up when the graph has not matched within this long (ms). */
  discoveryTimeoutMs?: number;
  nodePid?: number;
  trainingPeriodMs: number | null;
  /**
   * Tapping an onestep node with timings: take each observation's arrival and each command's departure from the
   * node's own stamps instead of subscribing to either topic. A second reader costs the robot's writer (and the
   * node's) one more datagram per message, and a profiler woken twice per loop competes for the CPU with the loop it
   * measures. The trip then runs from the node's receipt to its publish returning (no wire times).
   */
  observationsFromTimings?: boolean;
  log?: (line: string) => void;
}

export interface LiveRun extends RawRun {
  /** What was published or seen, for the report's notes. */
  published: number;
  timingsBatches: number;
}


interface PassTimingsMessage {
  clock_id: string;
  observation_stamp: { sec: number; nanosec: number }[];
  received_ns: ArrayLike<bigint>;
  entered_ns: ArrayLike<bigint>;
  assembled_ns: ArrayLike<bigint>;
  inferred_ns: ArrayLike<bigint>;
  filtered_ns: ArrayLike<bigint>;
  encoded_ns: ArrayLike<bigint>;
  sent_ns: ArrayLike<bigint>;
  inferred: ArrayLike<number>;
  command_hash?: ArrayLike<number>;
  event_loop_delay_p50_ms?: number;
  event_loop_delay_p99_ms?: number;
  event_loop_delay_max_ms?: number;
}

export async function runLiveProfile(o: LiveProfileOptions): Promise<LiveRun> {
  const log = o.log ?? (() => {});
  const t = o.transport;
  const observations: ObservationSample[] = [];
  const commands: CommandSample[] = [];
  const passes: PassSample[] = [];
  const nodeLoop: { p50: number; p99: number; max: number }[] = [];
  const myClock = monotonicClockId();
  let sameClock = true;
  let timingsBatches = 0;
  let waitingKey: string | null = null;
  let answered: (() => void) | null = null;
  const subs: Subscription[] = [];
  const pubs: Publisher[] = [];

  // tapping an onestep node with timings, the node's own stamps stand for both ends (no subscription to either)
  const fromTimings = o.mode === 'tap' && o.observationsFromTimings === true && o.timingsTopic !== null;
  const commandSub = fromTimings
    ? null
    : t.subscribe<Record<string, unknown>>(o.command.topic, o.command.type, o.command.qos, (m, info) => {
        const stamp = m.observation_stamp as { sec: number; nanosec: number } | undefined;
        const key = stamp ? stampKey(stamp.sec, stamp.nanosec) : undefined;
        commands.push({ atNs: Number(info.receivedAt), key, hash: fnv1a32(info.cdr) });
        if (answered && (key === undefined || key === waitingKey)) answered();
      });
  if (commandSub) subs.push(commandSub);
  let timingsSub: Subscription | null = null;
  if (o.timingsTopic) {
    subs.push(
      timingsSub = t.subscribe<PassTimingsMessage>(o.timingsTopic, 'onestep_msgs/msg/PassTimings', { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 100 }, (m) => {
        timingsBatches++;
        if (m.clock_id !== myClock) sameClock = false;
        if (m.event_loop_delay_max_ms !== undefined && m.event_loop_delay_max_ms > 0) {
          nodeLoop.push({ p50: m.event_loop_delay_p50_ms ?? 0, p99: m.event_loop_delay_p99_ms ?? 0, max: m.event_loop_delay_max_ms });
        }
        for (let k = 0; k < m.observation_stamp.length; k++) {
          const s = m.observation_stamp[k];
          passes.push({
            key: stampKey(s.sec, s.nanosec),
            received: Number(m.received_ns[k]), entered: Number(m.entered_ns[k]), assembled: Number(m.assembled_ns[k]),
            inferred: Number(m.inferred_ns[k]), filtered: Number(m.filtered_ns[k]), encoded: Number(m.encoded_ns[k]),
            sent: Number(m.sent_ns[k]), ran: m.inferred[k] === 1, hash: m.command_hash?.[k],
          });
        }
      }),
    );
  }

  let observationPub: Publisher | null = null;
  const extraPubs: { source: ExtraSource; pub: Publisher }[] = [];
  if (o.mode === 'publish') {
    if (!o.makeObservation) throw new ProfileError('publish mode needs an observation to send');
    observationPub = t.advertise(o.observation.topic, o.observation.type, o.observation.qos);
    pubs.push(observationPub);
    for (const source of o.extra ?? []) {
      const pub = t.advertise(source.topic, source.type, source.qos);
      pubs.push(pub);
      extraPubs.push({ source, pub });
    }
  } else if (!o.observationsFromTimings) {
    subs.push(
      t.subscribe<Record<string, unknown>>(o.observation.topic, o.observation.type, o.observation.qos, (m, info) => {
        const h = m.header as { stamp: { sec: number; nanosec: number } } | undefined;
        observations.push({ key: h ? stampKey(h.stamp.sec, h.stamp.nanosec) : `#${observations.length}`, atNs: Number(info.receivedAt) });
      }),
    );
  }

  // discovery: the node must subscribe to what we publish and publish what we listen to
  const deadline = Date.now() + (o.discoveryTimeoutMs ?? 10000);
  const listened = commandSub ?? (timingsSub as Subscription);
  const ready = () => listened.matchedPublishers() > 0 && (observationPub === null || observationPub.matchedSubscriptions() > 0) && extraPubs.every((e) => e.pub.matchedSubscriptions() > 0);
  while (!ready()) {
    if (Date.now() > deadline) {
      for (const s of subs) s.close();
      for (const p of pubs) p.close();
      const missing = [
        listened.matchedPublishers() === 0 ? `nobody publishes ${listened.topic}` : '',
        observationPub && observationPub.matchedSubscriptions() === 0 ? `nobody subscribes to ${o.observation.topic}` : '',
        ...extraPubs.filter((e) => e.pub.matchedSubscriptions() === 0).map((e) => `nobody subscribes to ${e.source.topic}`),
      ].filter(Boolean);
      throw new ProfileError(`the graph did not match within ${o.discoveryTimeoutMs ?? 10000} ms: ${missing.join('; ')} (is the node running on this ROS_DOMAIN_ID with matching QoS?)`);
    }
    await sleep(20);
  }
  // a moment for the reverse direction of reliable matches (acknowledgements) and the node's timings reader
  await sleep(300);

  // 10 ms resolution: a 1 ms timer would wake this process 1000 times a second beside the loop it measures
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const sampler = new ResourceSampler(o.nodePid);
  const periodMs = 1000 / o.rateHz;
  let published = 0;
  const startWall = performance.now();
  if (observationPub && o.makeObservation) {
    log(`publishing ${o.observation.topic} at ${o.rateHz} Hz${o.lockstep ? ' (lockstep)' : ''} for ${o.durationS} s`);
    const steps = Math.round(o.durationS * o.rateHz);
    let next = performance.now();
    const answerTimeoutMs = Math.max(100, 10 * periodMs);
    for (let k = 0; k < steps; k++) {
      const wait = next - performance.now();
      if (wait > 0.5) await sleep(wait - 0.3);
      while (performance.now() < next) {
        // the last fraction of a millisecond spins: timers are coarser than a 1 kHz period
      }
      const wall = wallTimeNs();
      const stamp = { sec: Number(wall / 1_000_000_000n), nanosec: Number(wall % 1_000_000_000n) };
      for (const e of extraPubs) if (k % e.source.every === 0) e.pub.publish(e.source.make(k, stamp));
      const message = o.makeObservation(k, stamp);
      const key = stampKey(stamp.sec, stamp.nanosec);
      const atNs = Number(process.hrtime.bigint());
      observationPub.publish(message);
      observations.push({ key, atNs });
      published++;
      if (o.lockstep) {
        waitingKey = key;
        const got = new Promise<void>((r) => (answered = r));
        await Promise.race([got, sleep(answerTimeoutMs)]);
        answered = null;
        next = Math.max(next + periodMs, performance.now());
      } else {
        next += periodMs;
        // a schedule more than a second behind restarts from now instead of bursting to catch up
        if (performance.now() - next > 1000) next = performance.now();
      }
    }
  } else {
    log(`tapping ${o.observation.topic} and ${o.command.topic} for ${o.durationS} s`);
    await sleep(o.durationS * 1000);
    published = observations.length;
  }
  await sleep(o.lingerMs ?? 500);
  loop.disable();
  const resources = sampler.stop();
  if (fromTimings) {
    const seen = new Set<string>();
    for (const p of passes) {
      // every pass published a command when its publish call returned; the ones that ran the policy answered an
      // observation, received when the pass says
      commands.push({ atNs: p.sent, key: p.key });
      if (!p.ran || seen.has(p.key)) continue;
      seen.add(p.key);
      observations.push({ key: p.key, atNs: p.received });
    }
    published = observations.length;
  }
  for (const s of subs) s.close();
  for (const p of pubs) p.close();
  // perf_hooks' histogram is in ns; keep its percentiles
  const eventLoopDelay = {
    count: loop.count,
    min: loop.min / 1000, mean: loop.mean / 1000, stddev: loop.stddev / 1000,
    p50: loop.percentile(50) / 1000, p90: loop.percentile(90) / 1000, p99: loop.percentile(99) / 1000, p999: loop.percentile(99.9) / 1000,
    max: loop.max / 1000, curve: [] as [number, number][], hdr: '',
  };
  log(`profiled ${((performance.now() - startWall) / 1000).toFixed(1)} s: ${published} observations, ${commands.length} commands, ${passes.length} node passes`);
  return {
    observations, commands, passes, sameClock: sameClock && passes.length > 0,
    nominalPeriodMs: o.mode === 'publish' ? periodMs : null,
    trainingPeriodMs: o.trainingPeriodMs,
    warmupS: o.warmupS,
    resources,
    eventLoopDelay,
    nodeEventLoopDelay: nodeLoop,
    published,
    timingsBatches,
  };
}
