// `onestep profile` as a library: raw samples (live or from a recording) → a report → table, JSON, HTML, budgets.
import { analyze, type RawRun } from './analyze.ts';
import { summarizeResources } from './context.ts';
import { PROFILE_FORMAT, type ProfileContext, type ProfileReport } from './report.ts';

export function makeReport(raw: RawRun, context: ProfileContext, nodePid?: number): ProfileReport {
  const analysis = analyze(raw);
  const res = summarizeResources(raw.resources, nodePid);
  return {
    format: PROFILE_FORMAT,
    context,
    trainingPeriodMs: raw.trainingPeriodMs,
    ...analysis,
    resources: {
      samples: raw.resources, profiler: { ...res.profiler, eventLoopDelayUs: raw.eventLoopDelay }, node: res.node,
      nodeEventLoopDelayMs: nodeLoopSummary(raw.nodeEventLoopDelay),
    },
  };
}

function nodeLoopSummary(w: RawRun['nodeEventLoopDelay']): ProfileReport['resources']['nodeEventLoopDelayMs'] {
  if (!w || w.length === 0) return undefined;
  const p50s = w.map((x) => x.p50).sort((a, b) => a - b);
  return { p50: p50s[p50s.length >> 1], p99: Math.max(...w.map((x) => x.p99)), max: Math.max(...w.map((x) => x.max)), windows: w.length };
}

export * from './analyze.ts';
export * from './report.ts';
export { renderHtml } from './html.ts';
export { runLiveProfile, ProfileError, type LiveProfileOptions, type ExtraSource, type TopicSpec } from './live.ts';
export { machineContext, modelContext, versionsContext, ResourceSampler } from './context.ts';
