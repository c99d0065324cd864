// Ships a trained run as a model: copies <run>/<policy>.onnx to <dest>/policy.onnx and writes the model card
// (<dest>/README.md) with the exported policy's own evaluation (ONNX Runtime, `onestep eval`).
//
//   node --import tsx src/algos/model-card.ts <run folder> <dest folder> [--policy policy|policy-best] [--episodes 50]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SAC_DEFAULTS } from './sac.ts';
import { SMFP_DEFAULTS } from './smfp.ts';

interface EvalJson {
  meanReturn: number;
  stdReturn: number;
  successRate: number | null;
  modeCounts: Record<string, number> | null;
  episodes: number;
}

function evaluate(model: string, episodes: number, deterministic: boolean): EvalJson {
  const args = ['bin/onestep.js', 'eval', '--model', model, '--episodes', String(episodes), '--seed', '10000', '--json'];
  if (deterministic) args.push('--deterministic');
  return JSON.parse(execFileSync('node', args, { encoding: 'utf8' })) as EvalJson;
}

/** The task's floors from `onestep sim`: a uniform random policy and the task's scripted controller. */
function baseline(task: string, policy: 'random' | 'scripted', episodes: number): EvalJson {
  return JSON.parse(execFileSync('node', ['bin/onestep.js', 'sim', '--task', task, '--policy', policy, '--episodes', String(episodes), '--seed', '10000', '--json'], { encoding: 'utf8' })) as EvalJson;
}

function row(label: string, r: EvalJson): string {
  const modes = r.modeCounts ? Object.entries(r.modeCounts).map(([k, v]) => `${k} ${v}`).join(', ') : '–';
  const success = r.successRate === null ? '–' : `${(100 * r.successRate).toFixed(0)}%`;
  return `| ${label} | ${r.meanReturn.toFixed(2)} ± ${r.stdReturn.toFixed(2)} | ${success} | ${modes} |`;
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { policy: { type: 'string', default: 'policy' }, episodes: { type: 'string', default: '50' } } });
  const [run, dest] = positionals;
  if (!run || !dest) throw new Error('usage: model-card.ts <run folder> <dest folder> [--policy policy|policy-best] [--episodes N]');
  const episodes = Number(values.episodes);
  const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as { algo: string; task: string; seed: number; loop: { totalSteps: number; warmupSteps: number; batchSize: number }; hyper: Record<string, unknown>; command: string };
  const evals = readFileSync(join(run, 'eval.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { env_steps: number; return_mean: number; return_std: number });
  const ckpt = JSON.parse(readFileSync(join(run, 'checkpoints', values.policy === 'policy' ? 'last' : 'best', 'checkpoint.json'), 'utf8')) as { checkpointId: string; counters: { trainingSteps: number; envSteps: number } };
  mkdirSync(dest, { recursive: true });
  const model = join(dest, 'policy.onnx');
  copyFileSync(join(run, `${values.policy}.onnx`), model);
  copyFileSync(join(run, 'learning-curve.svg'), join(dest, 'learning-curve.svg'));
  const stochastic = evaluate(model, episodes, false);
  const deterministic = evaluate(model, episodes, true);
  const random = baseline(config.task, 'random', episodes);
  const scripted = baseline(config.task, 'scripted', episodes);
  const last = evals[evals.length - 1];
  const hidden = (config.hyper.actorHidden as number[]).join('×');
  // Hyper-parameters that differ from today's defaults go into the command as --set (the widths are in --hidden).
  const defaults = (config.algo === 'smfp' ? SMFP_DEFAULTS : SAC_DEFAULTS) as unknown as Record<string, unknown>;
  const sets = Object.entries(config.hyper)
    .filter(([k, v]) => k !== 'actorHidden' && k !== 'critic' && JSON.stringify(v) !== JSON.stringify(defaults[k]) && !config.command.includes(`--set ${k}=`))
    .map(([k, v]) => ` --set ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('');
  const text = `# ${config.task}: ${config.algo.toUpperCase()} policy

| | |
|---|---|
| task | \`${config.task}\` (MuJoCo, mujoco-js) |
| algorithm | ${config.algo.toUpperCase()}${config.algo === 'smfp' ? ' (one-step stochastic MeanFlow policy; choices in docs/algorithms/smfp.md)' : ' (tanh-Gaussian SAC)'} |
| environment steps | ${ckpt.counters.envSteps}${values.policy === 'policy' ? '' : ` (the best evaluation of a ${config.loop.totalSteps}-step run)`}, of which ${config.loop.warmupSteps} random warm-up; gradient updates ${ckpt.counters.trainingSteps} |
| seed | ${config.seed} |
| network | actor and twin critics ${hidden}, batch ${config.loop.batchSize} |
| checkpoint | \`${ckpt.checkpointId}\` (${values.policy === 'policy' ? 'final' : 'best evaluation during training'}) |

## Evaluation of this file

\`onestep eval --model models/${config.task}/policy.onnx --episodes ${episodes} --seed 10000\` (ONNX Runtime; episode k
reset with seed 10000 + k). "stochastic" samples the policy's noise; "deterministic" feeds zero noise (\`--deterministic\`).

| policy | return (mean ± std over ${episodes} episodes) | success | modes |
|---|---|---|---|
${row('stochastic', stochastic)}
${row('deterministic', deterministic)}
${row('*floor: uniform random actions*', random)}
${row('*reference: scripted controller (privileged state)*', scripted)}

During training (every ${evals[0].env_steps} steps, ${evals.length} evaluations of 5 episodes, e sampled and ξ = 0 for SMFP,
mean action for SAC) the last evaluation at ${last.env_steps} steps returned ${last.return_mean.toFixed(2)} ± ${last.return_std.toFixed(2)};
the curve is [learning-curve.svg](learning-curve.svg).

## Reproduce

\`\`\`sh
node bin/onestep.js train ${config.command.replace(/^onestep train /, '').replace(/ && onestep train .*$/, '')}${sets} --eval-every ${Math.round(evals[0].env_steps)} --eval-episodes 5 --out runs/${config.task}-${config.algo}${[...config.command.matchAll(/ && onestep train .*? --resume --steps (\d+)/g)].map((m) => `\nnode bin/onestep.js train --algo ${config.algo} --task ${config.task} --out runs/${config.task}-${config.algo} --resume --steps ${m[1]}`).join('')}
node --import tsx src/algos/model-card.ts runs/${config.task}-${config.algo} models/${config.task}
\`\`\`

Trained on the project machine (2 shared vCPUs, TF.js cpu-blas backend with OpenBLAS); the budget was set by
the time available, not by convergence. Training is seeded (networks, exploration, replay sampling, episodes).
`;
  writeFileSync(join(dest, 'README.md'), text);
  process.stdout.write(`${model}: stochastic ${stochastic.meanReturn.toFixed(2)} ± ${stochastic.stdReturn.toFixed(2)}, deterministic ${deterministic.meanReturn.toFixed(2)} ± ${deterministic.stdReturn.toFixed(2)}\n`);
}

main();
