// `onestep replay`: re-runs a policy node on a recording (`onestep serve --record`) and compares its commands, one by
// one and joint by joint, with the commands recorded — a regression check for a new model, or proof that a model
// replays bit for bit. The node is the real PolicyNode with the recorded parameters (the attachment), driven
// synchronously by a transport that delivers the recorded messages in log-time order; in timer mode each recorded
// command marks one control tick, which a simulated /clock replays. The node's recorded safety events (~/safety_events:
// the watchdog fired, fired again, held a tick while stale) are put back at the same point of the observation stream
// (after the same number of observations), so the safe actions and the blend-in after the recovery replay too.
import { parse as parseYaml } from 'yaml';
import type {
  MessageHandler, NodeIdentity, Publisher, QosProfile, QosProfileName, ServiceClient, ServiceServer, Subscription, Transport,
} from '../transport.ts';
import { resolveEndpoint } from '../endpoints.ts';
import { getMessageCodec } from '../msgs/registry.ts';
import { buildConfig, type NodeConfig } from '../node/params.ts';
import { Logger } from '../node/diagnostics.ts';
import { PolicyNode, type PolicyLoader } from '../node/policy-node.ts';
import type { ParameterValue } from '../node/ros-args.ts';
import { Recording } from './reader.ts';
import { MONOTONIC_TO_WALL_KEY } from './recorder.ts';
import { fnv1a32 } from '../node/timings.ts';
import { SAFETY_EVENT } from '../node/safety.ts';

export class ReplayError extends Error {
  override name = 'ReplayError';
}

/** A Transport driven by the caller: deliver() hands a recorded message to the node's subscription at once. */
class ReplayTransport implements Transport {
  readonly kind = 'inproc' as const;
  private readonly handlers = new Map<string, { decode: (b: Uint8Array) => unknown; handler: MessageHandler<unknown> }[]>();
  readonly published = new Map<string, Uint8Array[]>();

  constructor(readonly node: NodeIdentity) {}

  advertise<T = unknown>(topic: string, type: string, qos?: QosProfile | QosProfileName): Publisher<T> {
    const e = resolveEndpoint<T>(this.node, [], topic, type, qos);
    const out = this.published.get(e.topic) ?? [];
    this.published.set(e.topic, out);
    return {
      topic: e.topic, type: e.type, qos: e.qos,
      publish: (m: T) => out.push(e.codec.encode(m)),
      publishRaw: (cdr: Uint8Array) => out.push(cdr.slice()),
      matchedSubscriptions: () => 1,
      close: () => {},
    };
  }

  subscribe<T = unknown>(topic: string, type: string, qos: QosProfile | QosProfileName | undefined, onMessage: MessageHandler<T>): Subscription {
    const e = resolveEndpoint<T>(this.node, [], topic, type, qos);
    const list = this.handlers.get(e.topic) ?? [];
    const entry = { decode: (b: Uint8Array) => e.codec.decode(b), handler: onMessage as MessageHandler<unknown> };
    list.push(entry);
    this.handlers.set(e.topic, list);
    return {
      topic: e.topic, type: e.type, qos: e.qos, matchedPublishers: () => 1,
      close: () => {
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }

  subscribed(topic: string): boolean {
    return (this.handlers.get(topic)?.length ?? 0) > 0;
  }

  deliver(topic: string, cdr: Uint8Array, receivedAt: bigint): void {
    for (const h of this.handlers.get(topic) ?? []) h.handler(h.decode(cdr), { receivedAt, cdr });
  }

  topics(): ReturnType<Transport['topics']> {
    return [];
  }

  createService(name: string, type: string): ServiceServer {
    // services are not part of a replay: offered, never called
    return { name, type, close: () => {} };
  }

  createClient<Req, Res>(name: string): ServiceClient<Req, Res> {
    throw new ReplayError(`a replayed node cannot call services (${name})`);
  }

  services(): ReturnType<Transport['services']> {
    return [];
  }

  async close(): Promise<void> {}
}

export interface JointDifference {
  joint: string;
  maxAbs: number;
  meanAbs: number;
  rms: number;
  /** Commands where this joint differs by more than the tolerance. */
  over: number;
}

export interface ReplayResult {
  recording: string;
  model: string;
  recordedModelSha256?: string;
  commandTopic: string;
  mode: 'event' | 'timer';
  recorded: number;
  replayed: number;
  compared: number;
  tolerance: number;
  joints: JointDifference[];
  maxAbs: number;
  /** Index of the first command over the tolerance (−1: none). */
  firstOver: number;
  /** Recorded commands that answered no pass and no recorded safety event (the final safe action at shutdown, a
   * ~/disable hold, or a recording without ~/safety_events): not compared. */
  safeActions: number;
  /** Watchdog events of the recording re-enacted in the replay (fired, fired again, stale ticks), and recoveries. */
  watchdogEvents: number;
  recoveries: { recorded: number; replayed: number };
  /** Recorded safe actions paired with a recorded safety event and compared like any command. */
  safeActionsCompared: number;
  identical: boolean;
}

/** The recorded parameters (the parameters.yaml attachment) as name → value. */
function recordedParameters(text: string, source: string): { node: string; params: Map<string, ParameterValue> } {
  const doc = parseYaml(text) as Record<string, { ros__parameters?: Record<string, ParameterValue> }> | null;
  const [node, section] = Object.entries(doc ?? {})[0] ?? [];
  if (!node || !section?.ros__parameters) throw new ReplayError(`${source}: parameters.yaml has no "<node>: ros__parameters:" section`);
  return { node, params: new Map(Object.entries(section.ros__parameters)) };
}

function commandValues(type: string, m: Record<string, any>): ArrayLike<number> {
  if (type === 'trajectory_msgs/msg/JointTrajectory') return m.points?.[0]?.positions ?? [];
  return m.data ?? [];
}

export type ReplayPolicyLoader = (path: string, options: { seed: number; deterministic: boolean }) => ReturnType<PolicyLoader>;

export async function replayRecording(path: string, o: { model?: string; loadPolicy: ReplayPolicyLoader; tolerance?: number; log?: (line: string) => void }): Promise<ReplayResult> {
  const rec = await Recording.open(path);
  try {
    const paramsBytes = await rec.attachment('parameters.yaml');
    if (!paramsBytes) throw new ReplayError(`${path} has no parameters.yaml attachment: only recordings made with \`onestep serve --record\` replay`);
    const { node: fqn, params } = recordedParameters(new TextDecoder().decode(paramsBytes), path);
    let modelPath = o.model;
    if (!modelPath) {
      const bytes = await rec.attachment('policy.onnx');
      if (!bytes) throw new ReplayError(`${path} carries no model: pass --model`);
      const { mkdtempSync, writeFileSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      modelPath = join(mkdtempSync(join(tmpdir(), 'onestep-replay-')), 'recorded-policy.onnx');
      writeFileSync(modelPath, bytes);
    }
    const recordedMode = params.get('mode') === 'timer' ? 'timer' : 'event';
    const overrides = new Map<string, ParameterValue>([
      ...params,
      ['model', modelPath],
      ['watch_model', false],
      ['diagnostics.rate_hz', 0],
      ['diagnostics.timings', false],
      ['diagnostics.policy_io', false],
      // control ticks replay on a simulated clock, one per recorded command
      ['use_sim_time', recordedMode === 'timer'],
      // the replay runs faster than real time: no wall-clock watchdog in between
      ['safety.watchdog_ms', 0],
    ]);
    let config: NodeConfig;
    try {
      config = buildConfig(overrides, `recorded parameters of ${fqn}`);
    } catch (err) {
      throw new ReplayError(`${path}: ${(err as Error).message}`);
    }
    const at = fqn.lastIndexOf('/');
    const identity = { name: fqn.slice(at + 1), namespace: at <= 0 ? '/' : fqn.slice(0, at) };
    const transport = new ReplayTransport(identity);
    const logs: string[] = [];
    const loadPolicy: PolicyLoader = (p) => o.loadPolicy(p, { seed: config.seed, deterministic: config.deterministic });
    const node = await PolicyNode.start({ transport, config, loadPolicy, logger: new Logger(fqn, 'warn', 'text', (l) => logs.push(l)), shutdownGraceMs: 0 });
    const commandTopic = resolveEndpoint(identity, [], config.action.topic, config.action.type, 'default').topic;
    const commandType = config.action.type;
    const codec = getMessageCodec(commandType);
    const recorded: ArrayLike<number>[] = [];
    // the node's passes (its recorded ~/timings, on the log-time axis): when each control tick started and when its
    // command went out; a recorded command without a pass is a safe action (watchdog, shutdown), not compared
    const custom = await rec.customData();
    const offsetText = custom[MONOTONIC_TO_WALL_KEY];
    const timingsTopic = `${fqn === '/' ? '' : fqn}/timings`;
    const passes: { entered: bigint; encoded: bigint; sent: bigint; hash: number | undefined }[] = [];
    if (offsetText !== undefined && rec.topic(timingsTopic)) {
      const offset = BigInt(offsetText);
      type Timings = { entered_ns: ArrayLike<bigint>; encoded_ns: ArrayLike<bigint>; sent_ns: ArrayLike<bigint>; command_hash?: ArrayLike<number> };
      for await (const m of rec.messages<Timings>([timingsTopic])) {
        const t = m.message;
        for (let k = 0; k < t.sent_ns.length; k++) {
          passes.push({ entered: BigInt(t.entered_ns[k]) + offset, encoded: BigInt(t.encoded_ns[k]) + offset, sent: BigInt(t.sent_ns[k]) + offset, hash: t.command_hash?.[k] });
        }
      }
      passes.sort((a, b) => (a.sent < b.sent ? -1 : a.sent > b.sent ? 1 : 0));
    }
    const byPass = passes.length > 0;
    // the node's safety events, each with the number of observations the node had received when it happened
    type SafetyEvent = { kind: number; observations_received: bigint | number; idle_ms: number; recovery_restarted: boolean; safe_action: string; command_hash: number };
    const eventsTopic = `${fqn === '/' ? '' : fqn}/safety_events`;
    const events: (SafetyEvent & { logTime: bigint })[] = [];
    // (timer mode needs the passes to tell a stale tick's safe action from a pass's command; without the recorded
    // timings each recorded command is one tick, as before, and the events are left aside)
    if (rec.topic(eventsTopic) && (byPass || recordedMode === 'event')) {
      for await (const m of rec.messages<SafetyEvent>([eventsTopic])) events.push({ ...m.message, logTime: m.logTime });
    }
    let nextEvent = 0;
    let watchdogEvents = 0;
    let safeActionsCompared = 0;
    const recoveries = { recorded: events.filter((e) => e.kind === SAFETY_EVENT.RECOVERED).length, replayed: 0 };
    /** Fingerprints of the safe actions the re-enacted events published, oldest first, until their recorded commands come. */
    const expectedSafe: number[] = [];
    let safeActions = 0;
    const periodNs = BigInt(Math.round(1e9 / config.controlRateHz));
    let simNs = 1_000_000_000n;
    const clockCodec = getMessageCodec('rosgraph_msgs/msg/Clock');
    const tick = () => {
      simNs += periodNs;
      transport.deliver('/clock', clockCodec.encode({ clock: { sec: Number(simNs / 1_000_000_000n), nanosec: Number(simNs % 1_000_000_000n) } }), process.hrtime.bigint());
    };
    if (recordedMode === 'timer') {
      // the first /clock message starts the simulated timer; each later step of one period is one tick
      simNs -= periodNs;
      tick();
    }
    /**
     * Whether the next recorded event is due: the node has received as many observations as when it happened, and
     * (`by`, timer mode, where control ticks fall between observations) it was logged no later than `by`.
     */
    const eventDue = (by?: bigint) => {
      const e = events[nextEvent];
      return e !== undefined && Number(e.observations_received) <= node.counters.observationsReceived && (by === undefined || e.logTime <= by);
    };
    const replayEvent = () => {
      const e = events[nextEvent++];
      const published = node.counters.safeActionsPublished;
      if (e.kind === SAFETY_EVENT.STALE || e.kind === SAFETY_EVENT.STALE_AGAIN) node.replayWatchdogExpiry(e.idle_ms, e.recovery_restarted);
      else if (e.kind === SAFETY_EVENT.STALE_TICK && recordedMode === 'timer') tick();
      else return; // RECOVERED: the recorded observations recover the replayed node by themselves
      watchdogEvents++;
      if (e.safe_action !== '') expectedSafe.push(e.command_hash);
      if ((node.counters.safeActionsPublished > published) !== (e.safe_action !== '')) {
        o.log?.(`safety event ${watchdogEvents} (kind ${e.kind}): the recording ${e.safe_action !== '' ? 'published' : 'did not publish'} a safe action, the replay ${node.counters.safeActionsPublished > published ? 'did' : 'did not'}`);
      }
    };
    let nextTick = 0;
    let nextPass = 0;
    try {
      for await (const m of rec.messages()) {
        if (m.topic === '/clock' || m.topic === timingsTopic || m.topic === eventsTopic) continue;
        if (recordedMode === 'timer' && byPass) {
          // control ticks (the passes) and recorded events up to this message, in the order they happened
          for (;;) {
            const tickDue = nextTick < passes.length && passes[nextTick].entered <= m.logTime;
            if (eventDue(m.logTime) && (!tickDue || events[nextEvent].logTime <= passes[nextTick].entered)) replayEvent();
            else if (tickDue) {
              tick();
              nextTick++;
            } else break;
          }
        } else {
          while (eventDue()) replayEvent();
        }
        if (m.topic === commandTopic) {
          if (byPass) {
            // A command is the next pass's when it carries that pass's fingerprint (exact; a safe action repeats the
            // last command's bytes, which the next pass rarely does) and was serialized before it was logged. Older
            // recordings without fingerprints: logged no later than 2 ms after the pass's publish call returned
            // (recording the command runs inside that call; a cold first call or a preemption can take that long).
            const p = passes[nextPass];
            const hash = p?.hash === undefined ? undefined : fnv1a32(m.cdr);
            const ours = p !== undefined && (hash !== undefined ? p.hash === hash && p.encoded <= m.logTime + 50_000n : p.sent <= m.logTime + 2_000_000n);
            if (ours) nextPass++;
            else {
              const safeHash = fnv1a32(m.cdr);
              // A safe action is logged just before its event (the node publishes the command first, then the event,
              // in one callback): when the next event is this command's, re-enact it now.
              const e = events[nextEvent];
              if (expectedSafe.length === 0 && eventDue() && e.safe_action !== '' && e.command_hash === safeHash) replayEvent();
              if (expectedSafe.length > 0 && expectedSafe[0] === safeHash) {
                // the replayed node published its own safe action at the same point
                expectedSafe.shift();
                safeActionsCompared++;
              } else {
                safeActions++;
                continue;
              }
            }
          } else if (recordedMode === 'timer') {
            tick();
          }
          recorded.push(commandValues(commandType, m.message));
        } else if (transport.subscribed(m.topic)) {
          transport.deliver(m.topic, m.cdr, process.hrtime.bigint());
        }
      }
      for (;;) {
        const tickDue = recordedMode === 'timer' && byPass && nextTick < passes.length;
        if (eventDue() && (!tickDue || events[nextEvent].logTime <= passes[nextTick].entered)) replayEvent();
        else if (tickDue) {
          tick();
          nextTick++;
        } else break;
      }
    } finally {
      // what the node published before its shutdown (which adds a final safe action)
      const replayedBytes = [...(transport.published.get(commandTopic) ?? [])];
      await node.shutdown('replay finished');
      transport.published.set(commandTopic, replayedBytes);
    }
    const replayed = (transport.published.get(commandTopic) ?? []).map((b) => commandValues(commandType, codec.decode(b) as Record<string, any>));
    const eventCodec = getMessageCodec('onestep_msgs/msg/SafetyEvent');
    recoveries.replayed = (transport.published.get(eventsTopic) ?? []).filter((b) => (eventCodec.decode(b) as { kind: number }).kind === SAFETY_EVENT.RECOVERED).length;
    const names = node.actionNames;
    const tolerance = o.tolerance ?? 0;
    const n = Math.min(recorded.length, replayed.length);
    const joints: JointDifference[] = names.map((joint) => ({ joint, maxAbs: 0, meanAbs: 0, rms: 0, over: 0 }));
    let firstOver = -1;
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < names.length; j++) {
        const d = Math.abs(Number(replayed[k][j]) - Number(recorded[k][j]));
        const s = joints[j];
        if (!(d <= s.maxAbs)) s.maxAbs = d; // NaN sticks
        s.meanAbs += d;
        s.rms += d * d;
        if (!(d <= tolerance)) {
          s.over++;
          if (firstOver < 0) firstOver = k;
        }
      }
    }
    for (const s of joints) {
      s.meanAbs = n ? s.meanAbs / n : NaN;
      s.rms = n ? Math.sqrt(s.rms / n) : NaN;
    }
    const maxAbs = Math.max(0, ...joints.map((j) => j.maxAbs));
    if (recorded.length !== replayed.length) o.log?.(`the recording has ${recorded.length} commands, the replay produced ${replayed.length}: compared the first ${n}`);
    for (const l of logs) o.log?.(l);
    return {
      recording: path, model: o.model ?? '(the recorded model)', commandTopic, mode: recordedMode,
      recorded: recorded.length, replayed: replayed.length, compared: n, tolerance, joints, maxAbs, firstOver, safeActions,
      watchdogEvents, recoveries, safeActionsCompared,
      identical: n > 0 && recorded.length === replayed.length && firstOver < 0 && recoveries.recorded === recoveries.replayed,
    };
  } finally {
    await rec.close();
  }
}

export function formatReplay(r: ReplayResult): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toExponential(3) : String(x));
  const lines = [
    `replay of ${r.recording} with ${r.model} (${r.mode} mode, commands on ${r.commandTopic})`,
    `commands: recorded ${r.recorded}, replayed ${r.replayed}, compared ${r.compared}; tolerance ${r.tolerance}` +
      (r.safeActions > 0 ? `; ${r.safeActions} recorded safe action${r.safeActions > 1 ? 's' : ''} not compared (no recorded safety event explains ${r.safeActions > 1 ? 'them' : 'it'}: the final one at shutdown, a ~/disable hold)` : ''),
    ...(r.watchdogEvents > 0 || r.recoveries.recorded > 0
      ? [`watchdog: ${r.watchdogEvents} recorded event${r.watchdogEvents === 1 ? '' : 's'} re-enacted at the same point of the observation stream, ${r.safeActionsCompared} safe action${r.safeActionsCompared === 1 ? '' : 's'} compared; recoveries recorded ${r.recoveries.recorded}, replayed ${r.recoveries.replayed}`]
      : []),
    '',
    `${'joint'.padEnd(16)}${'max |Δ|'.padStart(12)}${'mean |Δ|'.padStart(12)}${'rms'.padStart(12)}${'> tol'.padStart(8)}`,
    ...r.joints.map((j) => `${j.joint.padEnd(16)}${f(j.maxAbs).padStart(12)}${f(j.meanAbs).padStart(12)}${f(j.rms).padStart(12)}${String(j.over).padStart(8)}`),
    '',
    r.identical ? 'identical: every command matches within the tolerance' : `DIFFERENT: max |Δ| ${f(r.maxAbs)}${r.firstOver >= 0 ? `, first at command ${r.firstOver}` : ''}${r.recorded !== r.replayed ? ', command counts differ' : ''}${r.recoveries.recorded !== r.recoveries.replayed ? ', watchdog recoveries differ' : ''}`,
  ];
  return lines.join('\n');
}
