// A profile from an MCAP recording (`onestep serve --record`, `sim-bridge --record`, `profile --record`): the trigger
// observations and the commands at their log times (when the recording process received or sent them), and the
// node's per-pass timings brought onto the log-time axis with the offset the recorder stores.
import { CLOCK_ID_KEY, MONOTONIC_TO_WALL_KEY } from '../mcap/recorder.ts';
import { Recording } from '../mcap/reader.ts';
import type { CommandSample, ObservationSample, PassSample, RawRun } from './analyze.ts';
import { stampKey } from './analyze.ts';
import { ProfileError } from './live.ts';
import { fnv1a32 } from '../node/timings.ts';

const COMMAND_TYPES = ['onestep_msgs/msg/Action', 'std_msgs/msg/Float64MultiArray', 'trajectory_msgs/msg/JointTrajectory'];

export interface RecordingTopics {
  observation?: string;
  command?: string;
  timings?: string;
}

export interface RecordingRun extends RawRun {
  topics: { observation: string; observationType: string; command: string; commandType: string; timings: string | null };
  /** /clock was recorded with messages: the graph ran on simulated time. */
  simTime: boolean;
  recordedBy: string;
}

function pick(rec: Recording, want: string | undefined, types: string[], what: string, flag: string): { topic: string; type: string } {
  const topics = rec.topics;
  if (want) {
    const t = topics.find((x) => x.topic === want);
    if (!t) throw new ProfileError(`${rec.path} has no topic ${want} (it has ${topics.map((x) => x.topic).join(', ')})`);
    return { topic: t.topic, type: t.type };
  }
  const candidates = topics.filter((t) => types.includes(t.type) && t.messages > 0);
  if (candidates.length === 1) return { topic: candidates[0].topic, type: candidates[0].type };
  if (candidates.length === 0) throw new ProfileError(`${rec.path} has no ${what} topic (${types.join(' or ')} with messages); name it with ${flag}`);
  throw new ProfileError(`${rec.path} has several ${what} topics (${candidates.map((c) => c.topic).join(', ')}); choose one with ${flag}`);
}

export async function readRecordingRun(path: string, o: RecordingTopics & { warmupS: number; trainingPeriodMs: number | null }): Promise<RecordingRun> {
  const rec = await Recording.open(path);
  try {
    const command = pick(rec, o.command, COMMAND_TYPES, 'command', '--command-topic');
    const observation = pick(rec, o.observation, ['sensor_msgs/msg/JointState', 'onestep_msgs/msg/Observation'], 'observation', '--observation-topic');
    const timingsTopic = o.timings ?? rec.topics.find((t) => t.type === 'onestep_msgs/msg/PassTimings' && t.messages > 0)?.topic ?? null;
    const custom = await rec.customData();
    const offset = custom[MONOTONIC_TO_WALL_KEY] !== undefined ? Number(custom[MONOTONIC_TO_WALL_KEY]) : null;
    const observations: ObservationSample[] = [];
    const commands: CommandSample[] = [];
    const passes: PassSample[] = [];
    let clockMessages = 0;
    const nodeLoop: { p50: number; p99: number; max: number }[] = [];
    let foreignClock = false;
    const topics = [observation.topic, command.topic, ...(timingsTopic ? [timingsTopic] : []), '/clock'];
    // log times are wall ns; the analysis works in ns on one axis, so they are used as they are (as numbers)
    for await (const m of rec.messages<Record<string, any>>(topics.filter((t) => rec.topic(t)))) {
      const at = Number(m.logTime);
      if (m.topic === observation.topic) {
        const s = m.message.header?.stamp;
        observations.push({ key: s ? stampKey(s.sec, s.nanosec) : `#${observations.length}`, atNs: at });
      } else if (m.topic === command.topic) {
        const s = m.message.observation_stamp;
        commands.push({ atNs: at, key: s ? stampKey(s.sec, s.nanosec) : undefined, hash: fnv1a32(m.cdr) });
      } else if (m.topic === timingsTopic) {
        if (offset === null) continue;
        const t = m.message;
        if (t.clock_id !== custom[CLOCK_ID_KEY]) foreignClock = true;
        if (t.event_loop_delay_max_ms > 0) nodeLoop.push({ p50: t.event_loop_delay_p50_ms, p99: t.event_loop_delay_p99_ms, max: t.event_loop_delay_max_ms });
        for (let k = 0; k < t.observation_stamp.length; k++) {
          const s = t.observation_stamp[k];
          const w = (x: bigint) => Number(x) + offset;
          passes.push({
            key: stampKey(s.sec, s.nanosec), received: w(t.received_ns[k]), entered: w(t.entered_ns[k]), assembled: w(t.assembled_ns[k]),
            inferred: w(t.inferred_ns[k]), filtered: w(t.filtered_ns[k]), encoded: w(t.encoded_ns[k]), sent: w(t.sent_ns[k]), ran: t.inferred[k] === 1, hash: t.command_hash?.[k],
          });
        }
      } else if (m.topic === '/clock') {
        clockMessages++;
      }
    }
    // the node's monotonic stamps share the log-time axis when the recording process ran on the same host and boot
    const recordedBy = custom.recorded_by ?? 'unknown';
    const sameClock = passes.length > 0 && !foreignClock;
    let nominal: number | null = null;
    if (observations.length > 2) {
      const span = (observations[observations.length - 1].atNs - observations[0].atNs) / 1e6;
      nominal = span / (observations.length - 1);
    }
    return {
      observations, commands, passes: sameClock ? passes : [], sameClock,
      nominalPeriodMs: nominal, trainingPeriodMs: o.trainingPeriodMs, warmupS: o.warmupS, resources: [],
      topics: { observation: observation.topic, observationType: observation.type, command: command.topic, commandType: command.type, timings: timingsTopic },
      simTime: clockMessages > 0,
      nodeEventLoopDelay: nodeLoop,
      recordedBy,
    };
  } finally {
    await rec.close();
  }
}
