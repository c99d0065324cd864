// Ships a trained run as a model: copies <run>/<policy>.onnx to <dest>/policy.onnx with the learning curve, and
// writes the model card (<dest>/README.md) from measurements of the shipped file, each with the command that
// reproduces it: the exported policy through ONNX Runtime sampled (as `onestep serve` runs it by default) and with
// zero noise, best-of-N under the run's critic (TF.js, `onestep eval --checkpoint`), and the task's floors.
//
//   node --import tsx scripts/model-card.ts <run folder> <dest folder> [--policy policy|policy-best] [--episodes 50] [--best-of 16]
//     [--recipe scripts/X.sh]   the script that made the run's dataset and the run (e.g. a DAgger recipe): the card's
//                               "Reproduce" runs it instead of the run's own train command
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface EvalJson {
  meanReturn: number;
  stdReturn: number;
  successRate: number | null;
  modeCounts: Record<string, number> | null;
  episodes: number;
}

interface Measured {
  label: string;
  command: string;
  result: EvalJson;
}

const SEED = 10000;

function onestep(args: string[]): EvalJson {
  return JSON.parse(execFileSync('node', ['bin/onestep.js', ...args, '--json'], { encoding: 'utf8' })) as EvalJson;
}

function measure(label: string, args: string[]): Measured {
  process.stderr.write(`model-card: ${label}: onestep ${args.join(' ')}\n`);
  return { label, command: `onestep ${args.join(' ')}`, result: onestep(args) };
}

function row(m: Measured): string {
  const r = m.result;
  const modes = r.modeCounts ? Object.entries(r.modeCounts).map(([k, v]) => `${k} ${v}`).join(', ') : '–';
  const success = r.successRate === null ? '–' : `**${(100 * r.successRate).toFixed(0)} %**`;
  return `| ${m.label} | ${r.meanReturn.toFixed(2)} ± ${r.stdReturn.toFixed(2)} | ${success} | ${modes} | \`${m.command}\` |`;
}

const ALGORITHM_TEXT: Record<string, string> = {
  smfp: 'SMFP (one-step stochastic MeanFlow policy; a reconstruction, choices in docs/algorithms/smfp.md)',
  sac: 'SAC (tanh-Gaussian baseline)',
  meanflowql: 'MeanFlowQL (one-step MeanFlow policy with Q-learning; docs/algorithms/meanflowql.md)',
  bc: 'MeanFlow behaviour cloning',
  'gaussian-bc': 'Gaussian behaviour cloning',
};

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { policy: { type: 'string', default: 'policy' }, episodes: { type: 'string', default: '50' }, 'best-of': { type: 'string', default: '16' }, recipe: { type: 'string' } },
  });
  const [run, dest] = positionals;
  if (!run || !dest) throw new Error('usage: model-card.ts <run folder> <dest folder> [--policy policy|policy-best] [--episodes N] [--best-of N] [--recipe FILE.sh]');
  const episodes = String(Number(values.episodes));
  const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as { algo: string; task: string; seed: number; dataset?: string; loop: { totalSteps: number; warmupSteps: number; batchSize: number; herRelabels?: number }; hyper: Record<string, unknown>; command: string };
  const evals = readFileSync(join(run, 'eval.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { env_steps: number; return_mean: number; return_std: number; success_rate: number });
  const final = values.policy === 'policy';
  const ckpt = JSON.parse(readFileSync(join(run, 'checkpoints', final ? 'last' : 'best', 'checkpoint.json'), 'utf8')) as { checkpointId: string; counters: { trainingSteps: number; envSteps: number } };
  mkdirSync(dest, { recursive: true });
  const model = join(dest, 'policy.onnx');
  copyFileSync(join(run, `${values.policy}.onnx`), model);
  copyFileSync(join(run, 'learning-curve.svg'), join(dest, 'learning-curve.svg'));
  const common = ['--episodes', episodes, '--seed', String(SEED)];
  const rows: Measured[] = [
    measure('sampled (as served, noise drawn)', ['eval', '--model', model, ...common]),
    measure('deterministic (zero noise)', ['eval', '--model', model, ...common, '--deterministic']),
  ];
  // Best-of-N needs the critic, which only the final checkpoint of the run holds beside this policy, and an
  // algorithm that selects among samples (`onestep eval --best-of` refuses SAC).
  const hasCritic = config.algo === 'smfp' || config.algo === 'meanflowql' || config.algo === 'sac';
  const bestOfN = config.algo === 'smfp' || config.algo === 'meanflowql';
  if (final && bestOfN) {
    rows.push(measure(`best of ${values['best-of']} under the critic (TF.js)`, ['eval', '--checkpoint', run, ...common, '--best-of', String(values['best-of'])]));
  }
  rows.push(measure('*floor: uniform random actions*', ['sim', '--task', config.task, '--policy', 'random', ...common]));
  rows.push(measure('*reference: scripted controller (privileged state)*', ['sim', '--task', config.task, '--policy', 'scripted', ...common]));
  const last = evals[evals.length - 1];
  const hidden = (config.hyper.actorHidden as number[] | undefined ?? config.hyper.hidden as number[]).join('×');
  const recipe = values.recipe;
  const steps = recipe ? [`bash ${recipe}`] : config.command.split(' && ').map((c, i) => `node bin/onestep.js ${c.replace(/^onestep /, '').replace(' --out OUT', ` --out ${run}`)}${i === 0 ? ` --out ${run}` : ''}`);
  const text = `# ${config.task}: ${config.algo.toUpperCase()} policy

| | |
|---|---|
| task | \`${config.task}\` (MuJoCo, mujoco-js); the interface is in docs/tasks.md |
| algorithm | ${ALGORITHM_TEXT[config.algo] ?? config.algo} |
| environment steps | ${ckpt.counters.envSteps === 0 ? `none: trained offline, ${ckpt.counters.trainingSteps} gradient updates on the dataset` : `${ckpt.counters.envSteps}${final ? '' : ` (the best evaluation of a ${config.loop.totalSteps}-step run)`}, of which ${config.loop.warmupSteps} random warm-up; gradient updates ${ckpt.counters.trainingSteps}`} |
| seed | ${config.seed} |
| network | ${hasCritic ? 'actor and critics' : 'policy (no critic)'} ${hidden}, batch ${config.loop.batchSize}${config.loop.herRelabels ? `, HER k = ${config.loop.herRelabels}` : ''} |${config.dataset ? `\n| dataset | \`${config.dataset}\`${recipe ? ` (made by \`${recipe}\`)` : ''} |` : ''}
| checkpoint | \`${ckpt.checkpointId}\` (${final ? 'final' : 'best evaluation during training'}) |

## Evaluation of this file

${episodes} episodes on fresh seeds (episode k reset with seed ${SEED} + k; training never uses these). "sampled" draws
the policy's noise as \`onestep serve\` does unless \`deterministic: true\` is set; "deterministic" feeds zero noise.

| policy | return (mean ± std) | success | modes | command |
|---|---|---|---|---|
${rows.map(row).join('\n')}
${hasCritic ? '' : `\nBest-of-N picks among N samples by a critic's value; a behaviour-cloned ${config.algo} policy has no critic, so there is no best-of-N row.\n`}${hasCritic && !bestOfN ? `\n\`onestep eval --best-of\` has no best-of-N selection for ${config.algo}, so there is no best-of-N row.\n` : ''}
During training (${evals.length} evaluations of the training-time evaluation policy) the last one, ${last.env_steps === 0 ? `after ${ckpt.counters.trainingSteps} offline updates` : `at ${last.env_steps} steps`}, returned
${last.return_mean.toFixed(2)} ± ${last.return_std.toFixed(2)}${rows[0].result.successRate === null ? '' : ` with ${(100 * last.success_rate).toFixed(0)} % success`}; the curve is [learning-curve.svg](learning-curve.svg).

## Reproduce

\`\`\`sh
${steps.join('\n')}
node --import tsx scripts/model-card.ts ${run} ${dest}${final ? '' : ' --policy policy-best'}${episodes === '50' ? '' : ` --episodes ${episodes}`}${recipe ? ` --recipe ${recipe}` : ''}
\`\`\`

Trained on the project machine (2 shared vCPUs, TF.js cpu-blas backend with OpenBLAS); the budget was set by the
time available, not by convergence. Training is seeded (networks, exploration, replay sampling, episodes).
`;
  writeFileSync(join(dest, 'README.md'), text);
  process.stdout.write(rows.map((m) => `${m.label}: ${m.result.successRate === null ? '' : `${(100 * m.result.successRate).toFixed(0)} % success, `}return ${m.result.meanReturn.toFixed(2)}`).join('\n') + '\n');
}

main();
