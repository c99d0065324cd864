// A profile as users read it: the JSON document (context header, counts, distributions, series, resources), a
// table for the terminal, a comparison of two runs, and budgets from a YAML file that fail a CI job when exceeded.
import { parse as parseYaml } from 'yaml';
import type { Analysis, ResourceSample, TripStage } from './analyze.ts';
import { STAGE_MEANING, TRIP_STAGES } from './analyze.ts';
import type { Distribution } from './stats.ts';

export const PROFILE_FORMAT = 'onestep-profile/1';

/** Where and how the numbers were taken: what a reader needs before trusting or comparing them. */
export interface ProfileContext {
  createdAt: string;
  source: 'live' | 'recording';
  recording?: string;
  machine: { hostname: string; cpu: string; cores: number; memoryGiB: number; os: string; loadAverage: { start: number[]; end: number[] } };
  versions: { node: string; onnxruntime: string; onestep: string };
  model?: { path: string; sha256: string; algorithm: string; task: string; checkpoint: string; trainingSteps: number };
  transport: string;
  topics: { observation: string; observationType: string; command: string; commandType: string; timings?: string };
  qos: { observation: string; command: string };
  /** What the stamps and the node's clock were: wall (system) time or simulated time from /clock. */
  clock: 'wall' | 'sim';
  /** How observations were paced: real time at a fixed rate, lockstep (next after the answer), or as tapped. */
  pacing: 'real-time' | 'lockstep' | 'tapped' | 'recorded';
  rateHz: number | null;
  warmupS: number;
  /** Whether the node's per-pass timings were read (an onestep node with diagnostics.timings). */
  nodeTimings: boolean;
  notes: string[];
}

export interface ResourceSummary {
  samples: ResourceSample[];
  profiler: { cpuPctMean: number; rssMbMax: number; eventLoopDelayUs?: Distribution };
  node?: { cpuPctMean: number; rssMbMax: number; pid: number };
  /** The node's event-loop delay (ms) from its timings batches: median of the per-batch p50s, worst p99 and max. */
  nodeEventLoopDelayMs?: { p50: number; p99: number; max: number; windows: number };
}

export interface ProfileReport extends Analysis {
  format: typeof PROFILE_FORMAT;
  context: ProfileContext;
  trainingPeriodMs: number | null;
  resources: ResourceSummary;
}

const ms = (us: number) => (Number.isFinite(us) ? (us / 1000).toFixed(3) : '–');
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)} %` : '–');

function row(name: string, d: Distribution | undefined): string {
  if (!d || d.count === 0) return `${name.padEnd(13)} ${'(no samples)'.padStart(9)}`;
  return `${name.padEnd(13)} ${String(d.count).padStart(9)} ${[d.p50, d.p90, d.p99, d.p999, d.max, d.mean].map((v) => ms(v).padStart(9)).join('')}`;
}

/** The terminal table. */
export function formatReport(r: ProfileReport): string {
  const c = r.context;
  const lines: string[] = [];
  lines.push(`onestep profile — ${c.source === 'recording' ? `recording ${c.recording}` : `live ${c.transport} graph`}, ${c.createdAt}`);
  lines.push(`  machine   ${c.machine.hostname}: ${c.machine.cpu}, ${c.machine.cores} cores, ${c.machine.memoryGiB.toFixed(0)} GiB; load ${c.machine.loadAverage.start.map((x) => x.toFixed(2)).join(' ')} → ${c.machine.loadAverage.end.map((x) => x.toFixed(2)).join(' ')}`);
  lines.push(`  software  Node ${c.versions.node}, onnxruntime-node ${c.versions.onnxruntime}, onestep ${c.versions.onestep}`);
  if (c.model) lines.push(`  model     ${c.model.path} (${c.model.algorithm}, ${c.model.task}, checkpoint ${c.model.checkpoint}, sha256 ${c.model.sha256.slice(0, 16)}…)`);
  lines.push(`  topics    ${c.topics.observation} [${c.topics.observationType}, ${c.qos.observation}] → ${c.topics.command} [${c.topics.commandType}, ${c.qos.command}]`);
  lines.push(`  loop      ${c.pacing}${c.rateHz ? ` at ${c.rateHz} Hz` : ''}, ${c.clock} clock, matched by ${r.matching}, warm-up cut ${c.warmupS} s, node timings ${c.nodeTimings ? 'read' : 'not available'}`);
  for (const n of c.notes) lines.push(`  note      ${n}`);
  lines.push('');
  lines.push(`${'ms'.padEnd(13)} ${'count'.padStart(9)}${['p50', 'p90', 'p99', 'p99.9', 'max', 'mean'].map((h) => h.padStart(9)).join('')}`);
  lines.push(row('end to end', r.e2e));
  for (const s of TRIP_STAGES) if (r.stages[s]) lines.push(row(`  ${s}`, r.stages[s]));
  if (r.publish) lines.push(row('node publish', r.publish));
  lines.push(row(r.periodOf === 'inference passes' ? 'policy period' : 'period', r.period));
  lines.push('');
  const k = r.counts;
  const t = r.thresholdsUs;
  lines.push(`observations ${k.observations} (after ${k.warmupObservations} warm-up), commands ${k.commands}, matched ${k.matched}`);
  lines.push(`late (> ${ms(t.late)} ms) ${k.late} (${pct(k.late / Math.max(1, k.matched))}), too late (> ${ms(t.tooLate)} ms) ${k.tooLate}, lost ${k.lost} (${pct(k.lost / Math.max(1, k.observations))})`);
  const j = r.jitter;
  if (j.referenceUs !== null) {
    lines.push(`period vs ${j.reference} ${ms(j.referenceUs)} ms: mean ×${j.meanRatio?.toFixed(3) ?? '–'}, |jitter| p50 ${ms(j.absDeviation?.p50 ?? NaN)} p99 ${ms(j.absDeviation?.p99 ?? NaN)} max ${ms(j.absDeviation?.max ?? NaN)} ms, ${j.offBy10Pct} periods off by > 10 %`);
  }
  if (r.trainingPeriodMs !== null && j.meanRatio !== null && Math.abs(j.meanRatio - 1) > 0.05) {
    lines.push(`WARNING: the loop runs at ${(j.meanRatio * r.trainingPeriodMs).toFixed(2)} ms, the model was trained at ${r.trainingPeriodMs} ms`);
  }
  const res = r.resources;
  const eld = res.profiler.eventLoopDelayUs;
  lines.push(`resources: profiler CPU ${res.profiler.cpuPctMean.toFixed(1)} %, RSS ${res.profiler.rssMbMax.toFixed(0)} MB${eld ? `, event-loop delay p50 ${ms(eld.p50)} p99 ${ms(eld.p99)} max ${ms(eld.max)} ms` : ''}` +
    (res.node ? `; node (pid ${res.node.pid}) CPU ${res.node.cpuPctMean.toFixed(1)} %, RSS ${res.node.rssMbMax.toFixed(0)} MB` : '') +
    (res.nodeEventLoopDelayMs ? `; node event-loop delay p50 ${res.nodeEventLoopDelayMs.p50.toFixed(3)} p99 ≤ ${res.nodeEventLoopDelayMs.p99.toFixed(3)} max ${res.nodeEventLoopDelayMs.max.toFixed(3)} ms` : ''));
  return lines.join('\n');
}

/** Two runs side by side: percentiles of every distribution both have, and the ratio b / a. */
export function compareReports(a: ProfileReport, b: ProfileReport, names: [string, string] = ['a', 'b']): string {
  const lines = [`compare ${names[0]} → ${names[1]} (ms; ratio = ${names[1]} / ${names[0]})`, ''];
  lines.push(`${'metric'.padEnd(22)}${names[0].slice(-12).padStart(13)}${names[1].slice(-12).padStart(13)}${'ratio'.padStart(9)}`);
  const add = (label: string, x: number, y: number, scale = 1000) => {
    const f = (v: number) => (Number.isFinite(v) ? (v / scale).toFixed(scale === 1 ? 0 : 3) : '–');
    const ratio = Number.isFinite(x) && Number.isFinite(y) && x !== 0 ? `${(y / x).toFixed(2)}×` : '–';
    lines.push(`${label.padEnd(22)}${f(x).padStart(13)}${f(y).padStart(13)}${ratio.padStart(9)}`);
  };
  const dists: [string, Distribution | undefined, Distribution | undefined][] = [
    ['e2e', a.e2e, b.e2e],
    ...TRIP_STAGES.map((s) => [s, a.stages[s], b.stages[s]] as [string, Distribution | undefined, Distribution | undefined]),
    ['period', a.period, b.period],
  ];
  for (const [name, x, y] of dists) {
    if (!x || !y || x.count === 0 || y.count === 0) continue;
    for (const p of ['p50', 'p99', 'p999', 'max'] as const) add(`${name} ${p === 'p999' ? 'p99.9' : p}`, x[p], y[p]);
  }
  add('late', a.counts.late, b.counts.late, 1);
  add('too late', a.counts.tooLate, b.counts.tooLate, 1);
  add('lost', a.counts.lost, b.counts.lost, 1);
  const ctx = (r: ProfileReport) => `${r.context.machine.hostname} load ${r.context.machine.loadAverage.start[0]?.toFixed(2)}, ${r.context.model?.sha256.slice(0, 12) ?? 'no model'}, ${r.context.pacing}${r.context.rateHz ? ` ${r.context.rateHz} Hz` : ''}`;
  lines.push('', `${names[0]}: ${ctx(a)}`, `${names[1]}: ${ctx(b)}`);
  return lines.join('\n');
}

/** A budget file is malformed: names the key. */
export class ThresholdsError extends Error {
  override name = 'ThresholdsError';
}

export interface ThresholdResult {
  metric: string;
  limit: number;
  actual: number;
  ok: boolean;
}

const PERCENTILE_KEYS: Record<string, keyof Distribution> = { p50_ms: 'p50', p90_ms: 'p90', p99_ms: 'p99', p999_ms: 'p999', max_ms: 'max', mean_ms: 'mean' };

/**
 * Checks a report against budgets (YAML):
 *   e2e: { p50_ms: 0.3, p99_ms: 1 }          # also period:, and stages: { infer: { p99_ms: 0.2 }, ... }
 *   counts: { lost: 0, too_late: 0, late: 10 }   # maxima
 *   late_fraction: 0.01                        # late / matched, maximum
 *   jitter: { mean_ratio_max: 1.05, off_by_10pct: 0 }
 *   resources: { node_cpu_pct: 50, node_rss_mb: 300 }
 * A budget on a metric the report lacks fails (it cannot be shown to hold).
 */
export function checkThresholds(r: ProfileReport, yamlText: string, source = 'thresholds'): ThresholdResult[] {
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (err) {
    throw new ThresholdsError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ThresholdsError(`${source}: expected a mapping of budgets (e2e:, stages:, period:, counts:, late_fraction:, jitter:, resources:)`);
  const out: ThresholdResult[] = [];
  const num = (where: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ThresholdsError(`${source}: ${where} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const check = (metric: string, limit: number, actual: number | undefined) =>
    out.push({ metric, limit, actual: actual ?? NaN, ok: actual !== undefined && Number.isFinite(actual) && actual <= limit });
  const dist = (where: string, d: Distribution | undefined, spec: unknown) => {
    if (spec === null || typeof spec !== 'object') throw new ThresholdsError(`${source}: ${where} must be a mapping like { p99_ms: 1 }`);
    for (const [k, v] of Object.entries(spec)) {
      const field = PERCENTILE_KEYS[k];
      if (!field) throw new ThresholdsError(`${source}: ${where}.${k} is not a known budget (${Object.keys(PERCENTILE_KEYS).join(', ')})`);
      const x = d && d.count > 0 ? (d[field] as number) / 1000 : undefined;
      check(`${where}.${k}`, num(`${where}.${k}`, v), x);
    }
  };
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    switch (key) {
      case 'e2e':
        dist('e2e', r.e2e, value);
        break;
      case 'period':
        dist('period', r.period, value);
        break;
      case 'stages':
        if (value === null || typeof value !== 'object') throw new ThresholdsError(`${source}: stages must be a mapping of stage names`);
        for (const [stage, spec] of Object.entries(value)) {
          if (!(TRIP_STAGES as readonly string[]).includes(stage)) throw new ThresholdsError(`${source}: stages.${stage} is not a stage (${TRIP_STAGES.join(', ')})`);
          dist(`stages.${stage}`, r.stages[stage as TripStage], spec);
        }
        break;
      case 'counts': {
        const fields: Record<string, number> = { lost: r.counts.lost, late: r.counts.late, too_late: r.counts.tooLate };
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          if (!(k in fields)) throw new ThresholdsError(`${source}: counts.${k} is not a count (lost, late, too_late)`);
          check(`counts.${k}`, num(`counts.${k}`, v), fields[k]);
        }
        break;
      }
      case 'late_fraction':
        check('late_fraction', num('late_fraction', value), (r.counts.late + r.counts.tooLate) / Math.max(1, r.counts.matched));
        break;
      case 'jitter': {
        const fields: Record<string, number | undefined> = { mean_ratio_max: r.jitter.meanRatio ?? undefined, off_by_10pct: r.jitter.offBy10Pct };
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          if (!(k in fields)) throw new ThresholdsError(`${source}: jitter.${k} is not a jitter budget (mean_ratio_max, off_by_10pct)`);
          check(`jitter.${k}`, num(`jitter.${k}`, v), fields[k]);
        }
        break;
      }
      case 'resources': {
        const fields: Record<string, number | undefined> = {
          node_cpu_pct: r.resources.node?.cpuPctMean, node_rss_mb: r.resources.node?.rssMbMax,
          profiler_cpu_pct: r.resources.profiler.cpuPctMean, profiler_rss_mb: r.resources.profiler.rssMbMax,
        };
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          if (!(k in fields)) throw new ThresholdsError(`${source}: resources.${k} is not a resource budget (${Object.keys(fields).join(', ')})`);
          check(`resources.${k}`, num(`resources.${k}`, v), fields[k]);
        }
        break;
      }
      default:
        throw new ThresholdsError(`${source}: unknown budget "${key}" (expected e2e, stages, period, counts, late_fraction, jitter, resources)`);
    }
  }
  return out;
}

export function formatThresholds(results: ThresholdResult[]): string {
  return results
    .map((t) => `${t.ok ? 'ok  ' : 'FAIL'} ${t.metric.padEnd(28)} ${Number.isFinite(t.actual) ? +t.actual.toFixed(4) : 'not measured'} ≤ ${t.limit}`)
    .join('\n');
}

/** Reads a report written by `onestep profile --json`; names what is wrong. */
export function parseReport(text: string, source: string): ProfileReport {
  let doc: ProfileReport;
  try {
    doc = JSON.parse(text) as ProfileReport;
  } catch (err) {
    throw new Error(`${source}: not JSON: ${(err as Error).message}`);
  }
  if (doc?.format !== PROFILE_FORMAT) throw new Error(`${source}: not an onestep profile (format "${String((doc as { format?: unknown })?.format)}", expected "${PROFILE_FORMAT}")`);
  return doc;
}

export { STAGE_MEANING };
