// `onestep replay`: re-run a policy on a recording's observations and compare its commands with the recorded ones.
import type { Argv, CommandModule } from 'yargs';

interface ReplayArgs {
  recording: string;
  model?: string;
  tolerance: number;
  json?: string;
}

const command: CommandModule<object, ReplayArgs> = {
  command: 'replay <recording>',
  describe: 'Re-run a policy node on a recorded run (serve --record) and report per-joint command differences (exit 1 when they differ)',
  builder: (y: Argv) =>
    (y
      .positional('recording', { type: 'string', describe: 'MCAP file written by `onestep serve --record`', demandOption: true })
      .option('model', { type: 'string', description: 'The model to replay (default: the recorded one, attached to the file)' })
      .option('tolerance', { type: 'number', description: 'Largest per-joint difference counted as equal', default: 0 })
      .option('json', { type: 'string', description: 'Write the comparison as JSON' })
      .example('$0 replay run.mcap --model new.onnx', 'what the new model would have commanded on the recorded observations')
      .example('$0 replay run.mcap', 'the recorded model again: zero difference expected')) as unknown as Argv<ReplayArgs>,
  handler: async (args) => {
    if (!(args.tolerance >= 0)) throw new Error(`--tolerance must be ≥ 0 (got ${args.tolerance})`);
    const { replayRecording, formatReplay } = await import('../ros/mcap/replay.ts');
    const { PolicyRuntime } = await import('../runtime/policy-runtime.ts');
    const result = await replayRecording(args.recording, {
      model: args.model,
      tolerance: args.tolerance,
      loadPolicy: (path, options) => PolicyRuntime.load(path, options),
      log: (line) => process.stderr.write(`replay: ${line}\n`),
    });
    process.stdout.write(`${formatReplay(result)}\n`);
    if (args.json) (await import('node:fs')).writeFileSync(args.json, `${JSON.stringify(result, null, 1)}\n`);
    if (!result.identical) process.exitCode = 1;
  },
};
export default command;
