// The policy latency benchmark behind `onestep bench`. Everything is measured in one process, interleaved in
// rounds (each round runs every case in turn), so load from other processes on a shared machine hits every case
// alike and the ratios stay meaningful even when the absolute numbers move.
import { cpus, loadavg } from 'node:os';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { LatencyRecorder, histogram, type Histogram, type LatencySummary } from '../core/latency.ts';
import { PolicyRuntime } from './policy-runtime.ts';
import { POLICY_SESSION_OPTIONS, PolicySession, float32Tensor } from './ort-session.ts';
import { eulerFlowModel, flowTimeFeatures, flowVelocityModel, identityModel } from './reference-models.ts';
import { Rng } from '../core/rng.ts';

export interface BenchOptions {
  readonly model: string;
  /** Timed calls per case. */
  readonly n: number;
  readonly seed: number;
  /** K of the Euler flow reference (0 = skip it). */
  readonly flowSteps: number;
  /** Untimed calls per case before timing. */
  readonly warmup: number;
  /** Interleaving rounds the n calls are split into. */
  readonly rounds: number;
  /**
   * Also time `act` once per control period of this many ms, sleeping in between as a node's event loop does (0 =
   * skip): back-to-back calls find the weights and ORT's code in cache, one call per period does not. Runs after the
   * interleaved rounds, not within them (its cost is the sleep, not load from elsewhere).
   */
  readonly periodMs?: number;
  /** Timed calls at that period. */
  readonly periodN?: number;
  /** Called with the fraction done after every chunk (never inside a timed loop). */
  readonly onProgress?: (fraction: number) => void;
}

export interface BenchCase {
  readonly key: string;
  readonly name: string;
  readonly summary: LatencySummary;
  readonly histogram: Histogram;
}

export interface BenchResult {
  readonly model: string;
  readonly policy: { algorithm: string; kind: string; task: string; observationSize: number; actionSize: number; noiseSize: number; hiddenSizes: readonly number[]; trainingSteps: number };
  readonly n: number;
  readonly flowSteps: number;
  readonly synchronous: boolean;
  /** PolicyRuntime.load wall time (ms) and the first act after it (µs). */
  readonly coldStart: { readonly loadMs: number; readonly firstActUs: number };
  readonly environment: { node: string; onnxruntime: string; cpu: string; cpus: number; loadavgStart: number[]; loadavgEnd: number[]; sessionOptions: typeof POLICY_SESSION_OPTIONS; date: string };
  readonly cases: readonly BenchCase[];
  readonly ratios: {
    /** PolicyRuntime.act p50 / raw synchronous session.run p50 of the same model (goal ≤ 1.2). */
    readonly actOverRun: number;
    /** PolicyRuntime.act p50 / public `await session.run` p50 of the same model. */
    readonly actOverPublicRun: number;
    /** K-step flow p50 / this policy's raw session.run p50 (goal ≥ 8 for K = 10). */
    readonly flowOverPolicy: number | null;
    /** K-step flow p50 / 1-step flow p50 (same builder, same width). */
    readonly flowOverOneStep: number | null;
    /** The same ratio after subtracting the identity floor from both (compute only). */
    readonly flowOverOneStepAboveFloor: number | null;
    /** K velocity-network runs with host Euler steps, p50 / this policy's raw session.run p50. */
    readonly flowLoopOverPolicy: number | null;
    /** act once per control period p50 / act back to back p50 (null when not measured). */
    readonly periodOverBackToBack: number | null;
  };
  /** The control period of the once-per-period case (ms), null when it was skipped. */
  readonly periodMs: number | null;
}

interface Case {
  key: string;
  name: string;
  call: () => unknown;
  async: boolean;
  recorder: LatencyRecorder;
}

export async function runLatencyBench(opts: BenchOptions): Promise<BenchResult> {
  if (!Number.isInteger(opts.n) || opts.n < 1) throw new RangeError(`--n must be a positive integer (got ${opts.n})`);
  if (!Number.isInteger(opts.flowSteps) || opts.flowSteps < 0) throw new RangeError(`--flow-steps must be an integer >= 0 (got ${opts.flowSteps})`);
  const periodMs = opts.periodMs ?? 0;
  const periodN = opts.periodN ?? 0;
  if (!(periodMs >= 0) || !Number.isFinite(periodMs)) throw new RangeError(`--period-ms must be a number >= 0 (got ${opts.periodMs})`);
  if (!Number.isInteger(periodN) || periodN < 0) throw new RangeError(`--period-n must be an integer >= 0 (got ${opts.periodN})`);
  const timePeriodic = periodMs > 0 && periodN > 0;
  const loadavgStart = loadavg();
  // Cold start as a robot sees it: load (including the runtime's own warm-up), then the first action.
  const loadStart = performance.now();
  const runtime = await PolicyRuntime.load(opts.model, { seed: opts.seed });
  const loadMs = performance.now() - loadStart;
  const spec = runtime.spec;
  const O = spec.observation.size;
  const d = spec.action.size;
  const bytes = await readFile(opts.model);
  const rng = new Rng(opts.seed + 1);

  // Observations spread like the training data (mean ± std from the spec), cycled through by `act`.
  const observations = Array.from({ length: 64 }, () => Float32Array.from({ length: O }, (_, i) => spec.observation.mean[i] + spec.observation.std[i] * rng.normal()));
  let next = 0;
  const firstStart = performance.now();
  runtime.act(observations[63]);
  const firstActUs = (performance.now() - firstStart) * 1000;

  const cases: Case[] = [];
  const add = (key: string, name: string, call: () => unknown, isAsync = false) => cases.push({ key, name, call, async: isAsync, recorder: new LatencyRecorder(opts.n) });
  const sessions: PolicySession[] = [];
  const publicSessions: ort.InferenceSession[] = [];

  add('act', 'PolicyRuntime.act', () => runtime.act(observations[next++ & 63]));

  // The same model through the raw session: inputs filled once, no noise generation, no checks.
  const policySession = await PolicySession.open(bytes);
  sessions.push(policySession);
  const obs = float32Tensor([1, O]);
  (obs.data as Float32Array).set(observations[0]);
  const noise = float32Tensor([1, spec.noise.size]);
  rng.fillNormal(noise.data as Float32Array);
  const policyFeeds = { obs, noise };
  const policyFetches = { action: float32Tensor([1, d]) };
  if (policySession.synchronous) add('run', 'session.run (sync binding)', () => policySession.runSync(policyFeeds, policyFetches));

  const publicPolicy = await ort.InferenceSession.create(bytes, POLICY_SESSION_OPTIONS);
  publicSessions.push(publicPolicy);
  add('run_public', 'session.run (public API, await)', () => publicPolicy.run(policyFeeds), true);

  const identityBytes = identityModel(O);
  const identity = await PolicySession.open(identityBytes);
  sessions.push(identity);
  const identityFeeds = { obs };
  const identityFetches = { out: float32Tensor([1, O]) };
  if (identity.synchronous) add('identity', 'identity floor (sync binding)', () => identity.runSync(identityFeeds, identityFetches));
  const publicIdentity = await ort.InferenceSession.create(identityBytes, POLICY_SESSION_OPTIONS);
  publicSessions.push(publicIdentity);
  add('identity_public', 'identity floor (public API, await)', () => publicIdentity.run(identityFeeds), true);

  if (opts.flowSteps > 0) {
    const activations = ['relu', 'silu', 'gelu_tanh', 'mish', 'tanh'] as const;
    const named = activations.find((a) => a === spec.network?.activation);
    const activation = named ?? 'relu';
    const shape = { observationSize: O, actionSize: d, hiddenSizes: spec.network?.hiddenSizes ?? [256, 256], activation, layerNorm: spec.network?.layerNorm ?? true, seed: opts.seed };
    const flowNoise = float32Tensor([1, d]);
    rng.fillNormal(flowNoise.data as Float32Array);
    for (const steps of opts.flowSteps === 1 ? [1] : [1, opts.flowSteps]) {
      const flow = await PolicySession.open(eulerFlowModel({ ...shape, steps }));
      sessions.push(flow);
      const feeds = { obs, noise: flowNoise };
      const fetches = { action: float32Tensor([1, d]) };
      const key = steps === 1 ? 'flow1' : 'flow';
      const name = `${steps}-step Euler flow (sync binding)`;
      if (flow.synchronous) add(key, name, () => flow.runSync(feeds, fetches));
      else add(key, name, () => flow.run(feeds, fetches), true);
    }
    // The same K-step flow served as K calls of its velocity network, the Euler update in the host.
    const velocity = await PolicySession.open(flowVelocityModel(shape));
    sessions.push(velocity);
    if (velocity.synchronous && opts.flowSteps > 1) {
      const K = opts.flowSteps;
      const x = float32Tensor([1, d]);
      const xData = x.data as Float32Array;
      const noiseData = flowNoise.data as Float32Array;
      const feedsPerStep = Array.from({ length: K }, (_, k) => ({ obs, x, phi: new ort.Tensor('float32', flowTimeFeatures(1 - k / K), [1, 16]) }));
      const out = float32Tensor([1, d]);
      const v = out.data as Float32Array;
      const fetches = { velocity: out };
      add('flow_loop', `${K}× velocity-network run + host Euler step`, () => {
        xData.set(noiseData);
        for (let k = 0; k < K; k++) {
          velocity.runSync(feedsPerStep[k], fetches);
          for (let i = 0; i < d; i++) xData[i] -= v[i] / K;
        }
      });
    }
  }

  // Warm-up: first runs allocate ORT arenas and let V8 optimise the call paths.
  for (const c of cases) for (let i = 0; i < opts.warmup; i++) await callOnce(c);

  const rounds = Math.max(1, Math.min(opts.rounds, opts.n));
  // the once-per-period case is mostly sleeping and its length is not comparable with the others': it gets the
  // second half of the progress bar
  const periodicShare = timePeriodic ? 0.5 : 0;
  let done = 0;
  for (let r = 0; r < rounds; r++) {
    const count = Math.floor(opts.n / rounds) + (r < opts.n % rounds ? 1 : 0);
    for (const c of cases) {
      if (c.async) await timeAsync(c, count);
      else timeSync(c, count);
      done++;
      opts.onProgress?.((1 - periodicShare) * (done / (rounds * cases.length)));
    }
  }

  // One act per control period, sleeping in between: what a node's forward pass costs at its loop rate.
  let periodic: BenchCase | null = null;
  if (timePeriodic) {
    const recorder = new LatencyRecorder(periodN);
    for (let i = 0; i < periodN; i++) {
      await new Promise<void>((resolve) => setTimeout(resolve, periodMs));
      const t0 = performance.now();
      runtime.act(observations[next++ & 63]);
      recorder.record((performance.now() - t0) * 1000);
      if ((i & 63) === 63) opts.onProgress?.(1 - periodicShare + periodicShare * ((i + 1) / periodN));
    }
    periodic = { key: 'act_period', name: `PolicyRuntime.act, once per ${periodMs} ms`, summary: recorder.summary(), histogram: histogram(recorder.values()) };
  }

  const result = cases.map((c): BenchCase => ({ key: c.key, name: c.name, summary: c.recorder.summary(), histogram: histogram(c.recorder.values()) }));
  if (periodic) result.splice(1, 0, periodic);
  const p50 = (key: string) => result.find((c) => c.key === key)?.summary.p50 ?? NaN;
  const runP50 = policySession.synchronous ? p50('run') : p50('run_public');
  const hasFlow = opts.flowSteps > 1;
  const floor = p50('identity');

  runtime.close();
  for (const s of sessions) s.dispose();
  for (const s of publicSessions) await s.release();

  return {
    model: opts.model,
    policy: {
      algorithm: spec.algorithm,
      kind: spec.kind,
      task: spec.task,
      observationSize: O,
      actionSize: d,
      noiseSize: spec.noise.size,
      hiddenSizes: spec.network?.hiddenSizes ?? [],
      trainingSteps: spec.trainingSteps,
    },
    n: opts.n,
    flowSteps: opts.flowSteps,
    synchronous: runtime.synchronous,
    coldStart: { loadMs, firstActUs },
    environment: {
      node: process.version,
      onnxruntime: ort.env.versions?.node ?? 'unknown',
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      loadavgStart,
      loadavgEnd: loadavg(),
      sessionOptions: POLICY_SESSION_OPTIONS,
      date: new Date().toISOString(),
    },
    cases: result,
    ratios: {
      actOverRun: p50('act') / runP50,
      actOverPublicRun: p50('act') / p50('run_public'),
      flowOverPolicy: hasFlow ? p50('flow') / runP50 : null,
      flowOverOneStep: hasFlow ? p50('flow') / p50('flow1') : null,
      flowOverOneStepAboveFloor: hasFlow ? (p50('flow') - floor) / (p50('flow1') - floor) : null,
      flowLoopOverPolicy: hasFlow ? p50('flow_loop') / runP50 : null,
      periodOverBackToBack: periodic ? periodic.summary.p50 / p50('act') : null,
    },
    periodMs: periodic ? periodMs : null,
  };
}

async function callOnce(c: Case): Promise<void> {
  if (c.async) await c.call();
  else c.call();
}

function timeSync(c: Case, count: number): void {
  const { call, recorder } = c;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    call();
    recorder.record((performance.now() - t0) * 1000);
  }
}

async function timeAsync(c: Case, count: number): Promise<void> {
  const { call, recorder } = c;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await call();
    recorder.record((performance.now() - t0) * 1000);
  }
}
