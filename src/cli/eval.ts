// `onestep eval`: evaluate an exported ONNX policy in a MuJoCo task, with the same closed loop as `onestep sim`.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { type EvaluationArgs, evaluationOptions, evaluationRange, loadOnnxPolicy, printReport } from './sim.ts';

interface EvalArgs extends EvaluationArgs {
  model: string;
  task?: string;
}

const command: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate an exported ONNX policy in a MuJoCo task',
  builder: (yargs: Argv) =>
    evaluationOptions(
      yargs
        .option('model', { type: 'string', demandOption: true, describe: 'exported policy (model.onnx with onestep.spec metadata)' })
        .option('task', { type: 'string', describe: 'task to evaluate in', defaultDescription: "the model's own task" }),
    ) as unknown as Argv<EvalArgs>,
  handler: async (argv: ArgumentsCamelCase<EvalArgs>) => {
    const { episodes, seed } = evaluationRange(argv);
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
        const title = `${argv.model}${argv.deterministic ? ' (deterministic)' : ''}${onnx.trainingSteps === 0 ? ' [UNTRAINED]' : ''}`;
        printReport(env, evaluate(env, onnx.policy, { episodes, seed }), seed, { json: argv.json, policyName: argv.model, title });
      } finally {
        onnx.close();
      }
    } finally {
      env.close();
    }
  },
};
export default command;
