// `onestep bench`: Time single-observation policy latency (PolicyRuntime.act vs raw session.run vs an identity floor).
import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { ProgressDisplay, progressOption } from './progress.ts';

/** The shipped UNTRAINED model, resolved from the package so `onestep bench` works from any directory. */
const DEFAULT_MODEL = fileURLToPath(new URL('../../models/untrained-arm_reach/policy.onnx', import.meta.url));

interface BenchArgs {
  model: string;
  n: number;
  json: string;
  'flow-steps': number;
  seed: number;
  warmup: number;
  rounds: number;
  'period-ms': number;
  'period-n': number;
  histogram: boolean;
  progress: string;
}

const command: CommandModule<object, BenchArgs> = {
  command: 'bench',
  describe: 'Time single-observation policy latency (PolicyRuntime.act vs raw session.run vs an identity floor)',
  builder: (y: Argv) =>
    y
      .option('model', { type: 'string', description: 'Exported ONNX policy', default: DEFAULT_MODEL, defaultDescription: 'models/untrained-arm_reach/policy.onnx (UNTRAINED)' })
      .option('n', { type: 'number', description: 'Timed calls per case', default: 20000 })
      .option('json', { type: 'string', description: 'Also write the results as JSON to this file', default: '', defaultDescription: 'none' })
      .option('flow-steps', { type: 'number', description: 'Also time a K-step Euler flow policy of the same width (0 = skip)', default: 10 })
      .option('seed', { type: 'number', description: 'Noise seed', default: 0 })
      .option('warmup', { type: 'number', description: 'Untimed calls per case first', default: 2000 })
      .option('rounds', { type: 'number', description: 'Interleaving rounds the calls are split into', default: 10 })
      .option('period-ms', { type: 'number', description: 'Also time act once per control period of this many ms, sleeping in between as a node does (0 = skip)', default: 1 })
      .option('period-n', { type: 'number', description: 'Timed calls at that period', default: 1000 })
      .option('histogram', { type: 'boolean', description: 'Print the latency histogram of PolicyRuntime.act', default: true })
      .option('progress', progressOption)
      .example('$0 bench', 'the shipped untrained 2×256 policy')
      .example('$0 bench --model models/arm_reach/policy.onnx --n 50000 --json bench/out/latency.json', '') as unknown as Argv<BenchArgs>,
  handler: async (args) => {
    for (const k of ['n', 'flow-steps', 'warmup', 'rounds', 'seed'] as const) {
      if (!Number.isInteger(args[k]) || (args[k] < 0 && k !== 'seed')) throw new Error(`--${k} must be a non-negative integer (got ${args[k]})`);
    }
    if (args.n < 1) throw new Error(`--n must be at least 1 (got ${args.n})`);
    if (!Number.isInteger(args['period-n']) || args['period-n'] < 0) throw new Error(`--period-n must be a non-negative integer (got ${args['period-n']})`);
    if (!Number.isFinite(args['period-ms']) || args['period-ms'] < 0) throw new Error(`--period-ms must be a number of milliseconds >= 0 (got ${args['period-ms']})`);
    const { runLatencyBench } = await import('../runtime/bench.ts');
    const { formatLatencyTable, formatHistogram, formatMicros } = await import('../core/latency.ts');
    const progress = new ProgressDisplay(args.progress);
    const result = await runLatencyBench({
      model: args.model,
      n: args.n,
      seed: args.seed,
      flowSteps: args['flow-steps'],
      warmup: args.warmup,
      rounds: args.rounds,
      periodMs: args['period-ms'],
      periodN: args['period-n'],
      onProgress: (fraction) => progress.update(fraction, `measuring… ${Math.floor(100 * fraction)}%`),
    });
    progress.finish(true);
    const p = result.policy;
    const out: string[] = [];
    out.push(
      `onestep bench: ${result.model}`,
      `  ${p.algorithm} ${p.kind} policy for ${p.task}${p.trainingSteps === 0 ? ' (UNTRAINED)' : ''}: obs ${p.observationSize} → action ${p.actionSize}, noise ${p.noiseSize}, hidden ${p.hiddenSizes.join('×') || '?'}`,
      `  n = ${result.n} per case, interleaved; onnxruntime-node ${result.environment.onnxruntime}, 1 intra-op thread; ${result.environment.cpus}× ${result.environment.cpu}; load ${result.environment.loadavgStart[0].toFixed(2)} → ${result.environment.loadavgEnd[0].toFixed(2)}`,
      '',
      formatLatencyTable(result.cases),
      '',
    );
    const load = Math.max(result.environment.loadavgStart[0], result.environment.loadavgEnd[0]);
    if (load > result.environment.cpus) {
      out.push(`  note: load average ${load.toFixed(1)} on ${result.environment.cpus} CPUs: other processes preempt this one, so p99 and above measure the scheduler; compare the ratios.`, '');
    }
    const r = result.ratios;
    const act = result.cases.find((c) => c.key === 'act')!.summary;
    const verdict = (ok: boolean) => (ok ? 'meets goal' : 'MISSES goal');
    out.push(`  cold start: PolicyRuntime.load ${result.coldStart.loadMs.toFixed(1)} ms, then the first act ${formatMicros(result.coldStart.firstActUs)} µs`);
    out.push(`  act p50 / raw session.run p50 (same model)     ${r.actOverRun.toFixed(3)}   goal ≤ 1.2: ${verdict(r.actOverRun <= 1.2)}`);
    out.push(`  act p50 / public await session.run p50         ${r.actOverPublicRun.toFixed(3)}`);
    if (r.periodOverBackToBack !== null) {
      out.push(`  act once per ${result.periodMs} ms p50 / act back to back p50    ${r.periodOverBackToBack.toFixed(2)}×   (the pass a node pays at that loop rate: back to back, weights and code stay in cache)`);
    }
    out.push(`  act p99                                         ${formatMicros(act.p99)} µs   goal ≤ 30 µs: ${verdict(act.p99 <= 30)}`);
    if (r.flowOverPolicy !== null) {
      out.push(`  ${result.flowSteps}-step flow (one graph) p50 / this policy's run p50   ${r.flowOverPolicy.toFixed(2)}×   goal ≥ 8×: ${verdict(r.flowOverPolicy >= 8)}`);
      if (r.flowLoopOverPolicy !== null) out.push(`  ${result.flowSteps}-step flow (${result.flowSteps} runs) p50 / this policy's run p50    ${r.flowLoopOverPolicy.toFixed(2)}×   goal ≥ 8×: ${verdict(r.flowLoopOverPolicy >= 8)}`);
      out.push(`  ${result.flowSteps}-step flow (one graph) p50 / 1-step flow p50        ${r.flowOverOneStep!.toFixed(2)}×  (above the identity floor: ${r.flowOverOneStepAboveFloor!.toFixed(2)}×)`);
    }
    if (args.histogram) out.push('', '  PolicyRuntime.act latency histogram:', formatHistogram(result.cases.find((c) => c.key === 'act')!.histogram));
    process.stdout.write(`${out.join('\n')}\n`);
    if (args.json) {
      const { writeFile, mkdir } = await import('node:fs/promises');
      const { dirname } = await import('node:path');
      await mkdir(dirname(args.json), { recursive: true });
      await writeFile(args.json, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(`wrote ${args.json}\n`);
    }
  },
};
export default command;
