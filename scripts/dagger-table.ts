// The table of a DAgger recipe's rounds (scripts/dagger-arm_push.sh): for each round the learner that drove the
// round's episodes and how often it succeeded there, the aggregate's size, and the round's policy evaluated
// through ONNX Runtime on fresh seeds (sampled, as served, and with zero noise; cached beside each policy).
//
//   node --import tsx scripts/dagger-table.ts [OUT (default runs/dagger/arm_push-gaussian-bc)] [--episodes 50]
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readNpz } from '../src/data/npz.ts';
import { summarizeDataset } from '../src/data/stats.ts';
import { evaluateRun } from './eval-cache.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { episodes: { type: 'string', default: '50' } } });
const out = positionals[0] ?? 'runs/dagger/arm_push-gaussian-bc';
const episodes = Number(values.episodes);
const SEED = 10000;
const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(0)} %`);

// The learner is named by the round folder it is (a folder may be a link to the run it was first trained as).
const roundOf = new Map(readdirSync(out).filter((f) => f.startsWith('round-') && existsSync(join(out, f, 'policy.onnx'))).map((f) => [realpathSync(join(out, f)), f]));
const learnerName = (policyPath: string) => {
  const dir = realpathSync(policyPath.replace(/\/policy\.onnx$/, ''));
  return roundOf.get(dir) ?? policyPath;
};
const rows: string[] = [];
const policies = (round: string) => {
  const config = JSON.parse(readFileSync(join(out, round, 'config.json'), 'utf8')) as { hyper: { hidden: number[] }; loop: { offlineSteps: number } };
  const sampled = evaluateRun(join(out, round), episodes, SEED, false);
  const zero = evaluateRun(join(out, round), episodes, SEED, true);
  return `${config.hyper.hidden.join('×')}, ${config.loop.offlineSteps / 1000}k | **${pct(sampled.successRate)}** | ${pct(zero.successRate)} | ${sampled.meanReturn.toFixed(1)} ± ${sampled.stdReturn.toFixed(1)}`;
};
// An aggregate is the previous one plus the round's learner episodes (dataset merge), so its size is a running sum:
// only the DART start and the (small) learner files are read, not every aggregate.
let aggregate = readNpz(join(out, 'aggregate-0.npz')).size;
rows.push(`| 0 | scripted controller, DART σ 0.03 (1000 episodes) | – | ${aggregate} | ${policies('round-0')} |`);
for (let i = 1; existsSync(join(out, `round-${i}`, 'policy.onnx')); i++) {
  const learner = readNpz(join(out, `learner-${i}.npz`));
  const summary = summarizeDataset(learner);
  aggregate += learner.size;
  const driver = learnerName(String((learner.metadata?.collect as { policy: string }).policy));
  rows.push(`| ${i} | ${driver} (${summary.episodes} episodes) | ${pct(summary.successRate)} | ${aggregate} | ${policies(`round-${i}`)} |`);
  if (existsSync(join(out, `round-${i}-512`, 'policy.onnx'))) rows.push(`| ${i} (again) | – (same aggregate) | – | ${aggregate} | ${policies(`round-${i}-512`)} |`);
}
process.stdout.write(
  [
    `| round | episodes driven by | its success there | aggregate transitions | policy trained | success within 4 cm, sampled (${episodes} episodes, seeds ${SEED}+) | zero noise | return (sampled) |`,
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n') + '\n',
);
