// `onestep eval`: evaluate an exported ONNX policy in a MuJoCo task, with the same closed loop as `onestep sim`.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { evaluationJson, finiteInteger, loadOnnxPolicy, positiveInteger, printEvaluation } from './sim.ts';

interface EvalArgs {
  model: string;
  task?: string;
  episodes: number;
  seed: number;
  deterministic: boolean;
  json: boolean;
}

const command: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate an exported ONNX policy in a MuJoCo task',
  builder: (yargs: Argv) =>
    yargs
      .option('model', { type: 'string', demandOption: true, describe: 'exported policy (model.onnx with onestep.spec metadata)' })
      .option('task', { type: 'string', describe: 'task to evaluate in', defaultDescription: "the model's own task" })
      .option('episodes', { type: 'number', default: 10, describe: 'episodes to run (episode k is reset with seed + k)' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the first episode and of the policy noise' })
      .option('deterministic', { type: 'boolean', default: false, describe: 'feed zero noise (the mode action)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object instead of text' }) as unknown as Argv<EvalArgs>,
  handler: async (argv: ArgumentsCamelCase<EvalArgs>) => {
    const episodes = positiveInteger('episodes', argv.episodes);
    const seed = finiteInteger('seed', argv.seed);
    const { MujocoEnv } = await import('../sim/env.ts');
    const { evaluate } = await import('../sim/evaluate.ts');
    let task = argv.task;
    if (task === undefined) {
      // Without --task, evaluate where the model was trained (its spec names the task).
      const { PolicyRuntime } = await import('../runtime/policy-runtime.ts');
      const probe = await PolicyRuntime.load(argv.model);
      task = probe.spec.task;
      probe.close();
      const { TASK_NAMES } = await import('../sim/tasks/index.ts');
      if (!TASK_NAMES.includes(task)) {
        throw new Error(`model ${argv.model} was trained on '${task}', which is not a simulator task; pass --task (one of ${TASK_NAMES.join(', ')})`);
      }
    }
    const env = await MujocoEnv.make(task);
    try {
      const onnx = await loadOnnxPolicy(argv.model, env, { seed, deterministic: argv.deterministic });
      try {
        const name = `${argv.model}${argv.deterministic ? ' (deterministic)' : ''}${onnx.trainingSteps === 0 ? ' [UNTRAINED]' : ''}`;
        const result = evaluate(env, onnx.policy, { episodes, seed });
        if (argv.json) process.stdout.write(`${evaluationJson(env, argv.model, result, seed)}\n`);
        else printEvaluation(env, name, result, seed);
      } finally {
        onnx.close();
      }
    } finally {
      env.close();
    }
  },
};
export default command;
