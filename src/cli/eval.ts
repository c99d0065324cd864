// `onestep eval`: evaluate an exported ONNX policy in a MuJoCo task, with the same closed loop as `onestep sim` —
// or a training checkpoint through TF.js with its critic, which is what best-of-N action selection needs.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { type EvaluationArgs, evaluationOptions, evaluationRange, loadOnnxPolicy, positiveInteger, printReport } from './sim.ts';

interface EvalArgs extends EvaluationArgs {
  model?: string;
  checkpoint?: string;
  bestOf?: number;
  task?: string;
}

const command: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate an exported ONNX policy (or a training checkpoint, e.g. with best-of-N) in a MuJoCo task',
  builder: (yargs: Argv) =>
    evaluationOptions(
      yargs
        .option('model', { type: 'string', describe: 'exported policy (model.onnx with onestep.spec metadata)' })
        .option('checkpoint', { type: 'string', describe: 'instead of --model: a run folder (its checkpoints/last) or a training checkpoint folder, evaluated through TF.js' })
        .option('best-of', { type: 'number', describe: 'with --checkpoint: act with the best of N sampled actions under the critic (SMFP, MeanFlowQL)' })
        .option('task', { type: 'string', describe: 'task to evaluate in', defaultDescription: "the model's own task" }),
    ) as unknown as Argv<EvalArgs>,
  handler: async (argv: ArgumentsCamelCase<EvalArgs>) => {
    const { episodes, seed } = evaluationRange(argv);
    if ((argv.model === undefined) === (argv.checkpoint === undefined)) throw new Error('give exactly one of --model (an exported .onnx) and --checkpoint (a training run or checkpoint folder)');
    if (argv.bestOf !== undefined && argv.checkpoint === undefined) throw new Error('--best-of needs --checkpoint: choosing among samples needs the critic, which the exported policy does not carry');
    if (argv.checkpoint !== undefined) return evaluateCheckpoint(argv.checkpoint, argv, episodes, seed);
    const { MujocoEnv } = await import('../sim/env.ts');
    const { evaluate } = await import('../sim/evaluate.ts');
    let task = argv.task;
    if (task === undefined) {
      // Without --task, evaluate where the model was trained (its spec names the task).
      const { PolicyRuntime } = await import('../runtime/policy-runtime.ts');
      const probe = await PolicyRuntime.load(argv.model!);
      task = probe.spec.task;
      probe.close();
      const { TASK_NAMES } = await import('../sim/tasks/index.ts');
      if (!TASK_NAMES.includes(task)) {
        throw new Error(`model ${argv.model} was trained on '${task}', which is not a simulator task; pass --task (one of ${TASK_NAMES.join(', ')})`);
      }
    }
    const env = await MujocoEnv.make(task);
    try {
      const onnx = await loadOnnxPolicy(argv.model!, env, { seed, deterministic: argv.deterministic });
      try {
        const title = `${argv.model}${argv.deterministic ? ' (deterministic)' : ''}${onnx.trainingSteps === 0 ? ' [UNTRAINED]' : ''}`;
        printReport(env, evaluate(env, onnx.policy, { episodes, seed }), seed, { json: argv.json, policyName: argv.model!, title });
      } finally {
        onnx.close();
      }
    } finally {
      env.close();
    }
  },
};
/**
 * A training checkpoint through TF.js: the agent is rebuilt from the run's config.json and restored with its
 * critics, then acts as in training-time evaluation — or, with --best-of N, picks the best of N samples.
 */
async function evaluateCheckpoint(path: string, argv: EvalArgs, episodes: number, seed: number): Promise<void> {
  const { existsSync, readFileSync } = await import('node:fs');
  const { dirname, join, resolve } = await import('node:path');
  const dir = existsSync(join(path, 'checkpoint.json')) ? path : join(path, 'checkpoints', 'last');
  const configPath = [join(dir, '..', '..', 'config.json'), join(path, 'config.json')].find((p) => existsSync(p));
  if (!existsSync(join(dir, 'checkpoint.json'))) throw new Error(`--checkpoint ${path}: no checkpoint.json there or in its checkpoints/last`);
  if (!configPath) throw new Error(`--checkpoint ${path}: the run's config.json is not beside it (expected ${resolve(dirname(dir), '..', 'config.json')})`);
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { algo: import('../algos/agent.ts').AlgorithmName; task: string; seed: number; hyper: Record<string, unknown> };
  const hyper = { ...config.hyper };
  if (argv.bestOf !== undefined) {
    const n = positiveInteger('best-of', argv.bestOf);
    if (config.algo === 'smfp') Object.assign(hyper, { evalNoise: 'best-of-n', evalCandidates: n });
    else if (config.algo === 'meanflowql') Object.assign(hyper, { actionSelection: 'best', numCandidates: n });
    else throw new Error(`--best-of: ${config.algo} has no best-of-N action selection (SMFP and MeanFlowQL do)`);
  }
  const { initBackend } = await import('../nn/backend.ts');
  await initBackend();
  const { MujocoEnv } = await import('../sim/env.ts');
  const { evaluate } = await import('../sim/evaluate.ts');
  const { createAgent, restoreAgentFrom } = await import('../algos/agents.ts');
  const { Rng } = await import('../core/rng.ts');
  const env = await MujocoEnv.make(argv.task ?? config.task);
  const agent = createAgent(config.algo, env.observationSize, env.actionSize, hyper, config.seed);
  try {
    const checkpoint = await restoreAgentFrom(agent, dir);
    const rng = new Rng(seed);
    const name = `${dir}${argv.bestOf !== undefined ? ` (best of ${argv.bestOf})` : ''}`;
    printReport(env, evaluate(env, (obs) => agent.act(obs, false, rng), { episodes, seed }), seed, { json: argv.json, policyName: name, title: `${name}, ${checkpoint.counters.trainingSteps} updates` });
  } finally {
    agent.dispose();
    env.close();
  }
}

export default command;
