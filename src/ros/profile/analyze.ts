// From raw samples to a profile: commands matched to the observations they answer, end-to-end latency and its
// stages, the loop period against the training control period, late / too-late / lost counted as iRobot's
// ros2-performance counts them, after a warm-up cut. Every time here is CLOCK_MONOTONIC in nanoseconds (as a
// number: exact to well below a microsecond for any uptime under 100 days).
import { type Distribution, distributionOf } from './stats.ts';

/** One trigger observation the profiler published (or saw, when tapping). */
export interface ObservationSample {
  /** header.stamp as "sec.nanosec": what a command or a pass refers back to. */
  key: string;
  /** Published (or received, when tapping) at, monotonic ns. */
  atNs: number;
}

/** One command received. */
export interface CommandSample {
  atNs: number;
  /** The observation stamp it echoes (onestep_msgs/Action), else undefined: matched by pass times or arrival order. */
  key?: string;
  /** FNV-1a of its serialized bytes (see PassTimings.command_hash). */
  hash?: number;
}

/** One pass of an onestep node (onestep_msgs/PassTimings), monotonic ns on the node's host. */
export interface PassSample {
  key: string;
  received: number;
  entered: number;
  assembled: number;
  inferred: number;
  filtered: number;
  encoded: number;
  sent: number;
  /** The pass ran the policy (false: a timer tick between inferences). */
  ran: boolean;
  /** FNV-1a of the command it published (nodes that report it). */
  hash?: number;
}

export interface ResourceSample {
  /** s since the run started */
  t: number;
  profilerCpuPct: number;
  profilerRssMb: number;
  nodeCpuPct?: number;
  nodeRssMb?: number;
}

export interface RawRun {
  observations: ObservationSample[];
  commands: CommandSample[];
  passes: PassSample[];
  /** The passes' clock is the profiler's (same host and boot): stages across processes are meaningful. */
  sameClock: boolean;
  /** Period the observations were sent at (ms), null when tapping an unknown rate. */
  nominalPeriodMs: number | null;
  /** The model's training control period (ms), null when unknown. */
  trainingPeriodMs: number | null;
  /** Seconds cut from the start. */
  warmupS: number;
  resources: ResourceSample[];
  /** The profiler's own event-loop delay (µs), when measured. */
  eventLoopDelay?: Distribution;
  /** The node's event-loop delay per timings batch (ms), from PassTimings. */
  nodeEventLoopDelay?: { p50: number; p99: number; max: number }[];
}

/**
 * The stages of one observation → command trip, in order; they add up to the end-to-end time. The node's publish
 * call is not one of them: its sendmsg hands the datagram to the reader inside the call, so the command can be
 * received before the call returns (`publish` is reported beside the stages).
 */
export const TRIP_STAGES = ['wire_in', 'decode', 'assemble', 'infer', 'postprocess', 'encode', 'wire_out'] as const;
export type TripStage = (typeof TRIP_STAGES)[number];

export const STAGE_MEANING: Record<TripStage, string> = {
  wire_in: 'observation published → node transport received it (serialize, UDP, RTPS receive path)',
  decode: 'node: receive stamp → callback (CDR decode, dispatch)',
  assemble: 'node: observation vector assembled and checked',
  infer: 'node: policy forward pass',
  postprocess: 'node: action mapping, limits, rate limit, blend-in',
  encode: 'node: command serialized',
  wire_out: 'node: RTPS write and sendmsg → command received here (UDP, RTPS receive)',
};

export type Matching = 'stamp' | 'command-hash' | 'pass-times' | 'arrival-order';

export interface Analysis {
  matching: Matching;
  counts: {
    observations: number;
    commands: number;
    matched: number;
    /** iRobot: latency over min(0.2·period, 5 ms) but not too late */
    late: number;
    /** iRobot: latency over min(period, 50 ms) */
    tooLate: number;
    /** observations no command answered */
    lost: number;
    /** observations and commands cut as warm-up */
    warmupObservations: number;
  };
  thresholdsUs: { late: number; tooLate: number; periodUs: number | null };
  e2e: Distribution;
  stages: Partial<Record<TripStage, Distribution>>;
  /** The node's publish call (RTPS write to every reader, sendmsg included); overlaps wire_out. */
  publish: Distribution | null;
  /** Per-stage p50 (µs), for the stacked bar. */
  stageP50: Partial<Record<TripStage, number>>;
  period: Distribution;
  /** What the period is measured between: every command, or the commands of inference passes (decimation). */
  periodOf: 'commands' | 'inference passes';
  jitter: {
    /** The period the loop is meant to keep (training control period, else the send period), µs. */
    referenceUs: number | null;
    reference: 'training control period' | 'send period' | 'none';
    /** Mean measured period / reference. */
    meanRatio: number | null;
    /** |period − reference| distribution (µs). */
    absDeviation: Distribution | null;
    /** Periods more than 10 % away from the reference. */
    offBy10Pct: number;
  };
  /** Time series for plots: s since the first observation; at most `maxPoints` per series (spikes kept). */
  series: { latency: [number, number][]; period: [number, number][] };
  durationS: number;
}

const key = (sec: number, nanosec: number) => `${sec}.${nanosec}`;
export const stampKey = key;

export function analyze(run: RawRun, maxPoints = 20000): Analysis {
  const obs = [...run.observations].sort((a, b) => a.atNs - b.atNs);
  const cmds = [...run.commands].sort((a, b) => a.atNs - b.atNs);
  const t0 = obs.length > 0 ? obs[0].atNs : cmds.length > 0 ? cmds[0].atNs : 0;
  const cut = t0 + run.warmupS * 1e9;
  const byKey = new Map<string, ObservationSample>();
  for (const o of obs) byKey.set(o.key, o);

  // command index → observation, and → pass (when known)
  const answered = new Map<ObservationSample, { cmd: CommandSample; pass?: PassSample }>();
  const passForCommand = new Map<CommandSample, PassSample>();
  let matching: Matching;
  if (cmds.length > 0 && cmds.every((c) => c.key !== undefined)) {
    matching = 'stamp';
    const passByKey = new Map<string, PassSample>();
    for (const p of run.passes) if (p.ran) passByKey.set(p.key, p);
    for (const c of cmds) {
      const o = byKey.get(c.key as string);
      if (o && !answered.has(o)) answered.set(o, { cmd: c, pass: passByKey.get(c.key as string) });
    }
  } else if (run.passes.length > 0 && run.passes.every((p) => p.hash !== undefined) && cmds.length > 0 && cmds.every((c) => c.hash !== undefined)) {
    // exact: each command carries the fingerprint of the pass that published it; both run in order, so the next
    // pass with that fingerprint (within a window: identical commands repeat) is the one. Commands without a pass
    // (safe actions, or sent before the node's timings reached us) match none.
    matching = 'command-hash';
    const passes = [...run.passes].sort((a, b) => a.encoded - b.encoded);
    // on one clock a command cannot arrive before its pass serialized it (20 µs of slack for the clock conversion)
    const possible = (p: PassSample, c: CommandSample) => !run.sameClock || p.encoded <= c.atNs + 20e3;
    let i = -1;
    for (const c of cmds) {
      let k: number;
      if (i < 0) {
        // the first command: the node may have reported passes from before this profiler listened, and a held or
        // saturated command repeats the same bytes; take the latest pass with its fingerprint that could have sent it
        k = -1;
        for (let j = 0; j < passes.length && possible(passes[j], c); j++) if (passes[j].hash === c.hash) k = j;
        if (k < 0) continue;
      } else {
        k = i;
        while (k < passes.length && k < i + 256 && passes[k].hash !== c.hash) k++;
        if (k >= passes.length || k >= i + 256 || !possible(passes[k], c)) continue;
      }
      const p = passes[k];
      i = k + 1;
      passForCommand.set(c, p);
      if (!p.ran) continue;
      const o = byKey.get(p.key);
      if (o && !answered.has(o)) answered.set(o, { cmd: c, pass: p });
    }
  } else if (run.passes.length > 0 && run.sameClock) {
    matching = 'pass-times';
    // Passes and commands are both in order. A command comes from a pass that had serialized it before it arrived
    // (not necessarily after the pass's publish call returned: the kernel may deliver the datagram before sendmsg
    // returns). The first command aligns with the latest such pass (passes before this profiler listened have no
    // command here); after that, each command takes the next pass, unless that pass is much older than the recent
    // delays say and a later one fits: its command never arrived here (best effort). Commands before any pass
    // (safe actions) are skipped. The node's stamps reach this clock through performance.now() and an offset:
    // 20 µs of slack.
    const passes = [...run.passes].sort((a, b) => a.encoded - b.encoded);
    const slack = 20e3;
    const recent: number[] = [];
    let i = -1;
    for (const c of cmds) {
      const limit = c.atNs + slack;
      if (i < 0) {
        let k = 0;
        while (k + 1 < passes.length && passes[k + 1].encoded <= limit) k++;
        if (passes.length === 0 || passes[k].encoded > limit) continue;
        i = k;
      } else {
        if (i >= passes.length || passes[i].encoded > limit) continue;
        if (recent.length >= 8) {
          const typical = [...recent].sort((a, b) => a - b)[recent.length >> 1];
          while (i + 1 < passes.length && passes[i + 1].encoded <= limit && c.atNs - passes[i].encoded > 3 * typical + 200e3) i++;
        }
      }
      const p = passes[i++];
      recent.push(c.atNs - p.encoded);
      if (recent.length > 64) recent.shift();
      passForCommand.set(c, p);
      if (!p.ran) continue;
      const o = byKey.get(p.key);
      if (o && !answered.has(o)) answered.set(o, { cmd: c, pass: p });
    }
  } else {
    // in order: each command answers the oldest unanswered observation sent before it
    matching = 'arrival-order';
    let i = 0;
    for (const c of cmds) {
      if (i >= obs.length || obs[i].atNs > c.atNs) continue;
      answered.set(obs[i++], { cmd: c });
    }
  }

  const periodUsRef = run.trainingPeriodMs ?? run.nominalPeriodMs;
  const periodNs = periodUsRef === null ? null : periodUsRef * 1e6;
  const lateUs = periodNs === null ? 5000 : Math.min(0.2 * periodNs, 5e6) / 1000;
  const tooLateUs = periodNs === null ? 50000 : Math.min(periodNs, 50e6) / 1000;

  const e2e: number[] = [];
  const stageValues: Record<TripStage, number[]> = Object.fromEntries(TRIP_STAGES.map((s) => [s, []])) as unknown as Record<TripStage, number[]>;
  const latencySeries: [number, number][] = [];
  const publish: number[] = [];
  let late = 0, tooLate = 0, lost = 0, warm = 0, matched = 0;
  for (const o of obs) {
    if (o.atNs < cut) {
      warm++;
      continue;
    }
    const a = answered.get(o);
    if (!a) {
      lost++;
      continue;
    }
    matched++;
    const p = a.pass;
    // the trip starts when the observation was published, or, tapping, when it first arrived on this host (the
    // profiler or the node, whichever read it first)
    const start = p && run.sameClock ? Math.min(o.atNs, p.received) : o.atNs;
    const us = (a.cmd.atNs - start) / 1000;
    e2e.push(us);
    latencySeries.push([(o.atNs - t0) / 1e9, us]);
    if (us > tooLateUs) tooLate++;
    else if (us > lateUs) late++;
    if (p) {
      const v = stageValues;
      if (run.sameClock) v.wire_in.push((p.received - start) / 1000);
      v.decode.push((p.entered - p.received) / 1000);
      v.assemble.push((p.assembled - p.entered) / 1000);
      v.infer.push((p.inferred - p.assembled) / 1000);
      v.postprocess.push((p.filtered - p.inferred) / 1000);
      v.encode.push((p.encoded - p.filtered) / 1000);
      publish.push((p.sent - p.encoded) / 1000);
      if (run.sameClock) v.wire_out.push((a.cmd.atNs - p.encoded) / 1000);
    }
  }
  const stages: Partial<Record<TripStage, Distribution>> = {};
  const stageP50: Partial<Record<TripStage, number>> = {};
  for (const s of TRIP_STAGES) {
    if (stageValues[s].length === 0) continue;
    stages[s] = distributionOf(stageValues[s]);
    stageP50[s] = stages[s]!.p50;
  }

  // loop period: between consecutive commands after the warm-up; when the node also sends commands between
  // inferences (timer mode with decimation), between the commands of inference passes: the policy's own period
  const policyOnly = run.passes.some((p) => !p.ran) && passForCommand.size > 0;
  // commands after the observations stopped (watchdog safe actions, shutdown) are not the loop's period
  const lastObservation = obs.length > 0 ? obs[obs.length - 1].atNs : Infinity;
  const grace = Math.max(2 * (run.nominalPeriodMs ?? run.trainingPeriodMs ?? 0) * 1e6, 20e6);
  const after = cmds.filter((c) => c.atNs >= cut && c.atNs <= lastObservation + grace && (!policyOnly || passForCommand.get(c)?.ran === true));
  const periods: number[] = [];
  const periodSeries: [number, number][] = [];
  for (let k = 1; k < after.length; k++) {
    const us = (after[k].atNs - after[k - 1].atNs) / 1000;
    periods.push(us);
    periodSeries.push([(after[k].atNs - t0) / 1e9, us]);
  }
  const reference = run.trainingPeriodMs !== null ? 'training control period' : run.nominalPeriodMs !== null ? 'send period' : 'none';
  const refUs = periodUsRef === null ? null : periodUsRef * 1000;
  let absDeviation: Distribution | null = null;
  let offBy10Pct = 0;
  let meanRatio: number | null = null;
  if (refUs !== null && periods.length > 0) {
    absDeviation = distributionOf(periods.map((p) => Math.abs(p - refUs)));
    offBy10Pct = periods.filter((p) => Math.abs(p - refUs) > 0.1 * refUs).length;
    meanRatio = periods.reduce((a, b) => a + b, 0) / periods.length / refUs;
  }
  const last = Math.max(obs.length ? obs[obs.length - 1].atNs : 0, cmds.length ? cmds[cmds.length - 1].atNs : 0);
  return {
    matching,
    counts: { observations: obs.length - warm, commands: after.length, matched, late, tooLate, lost, warmupObservations: warm },
    thresholdsUs: { late: lateUs, tooLate: tooLateUs, periodUs: refUs },
    e2e: distributionOf(e2e),
    stages,
    publish: publish.length > 0 ? distributionOf(publish) : null,
    stageP50,
    period: distributionOf(periods),
    periodOf: policyOnly ? 'inference passes' : 'commands',
    jitter: { referenceUs: refUs, reference, meanRatio, absDeviation, offBy10Pct },
    series: { latency: decimate(latencySeries, maxPoints), period: decimate(periodSeries, maxPoints) },
    durationS: (last - t0) / 1e9,
  };
}

/** At most `max` points: in each bucket of consecutive points, the largest value survives (spikes are the story). */
export function decimate(points: [number, number][], max: number): [number, number][] {
  if (points.length <= max) return points;
  const k = Math.ceil(points.length / max);
  const out: [number, number][] = [];
  for (let i = 0; i < points.length; i += k) {
    let best = points[i];
    for (let j = i + 1; j < Math.min(points.length, i + k); j++) if (points[j][1] > best[1]) best = points[j];
    out.push([+best[0].toFixed(6), +best[1].toFixed(2)]);
  }
  return out;
}
