// The `onestep` command line: one sub-command per file in this folder, registered in commands.ts.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './commands.ts';
import { reportAndExit } from './errors.ts';

process.on('unhandledRejection', (err) => reportAndExit(err));

const cli = yargs(hideBin(process.argv))
  .scriptName('onestep')
  .usage('$0 <command> [options]\n\nTrain one-step generative robot policies, export them to ONNX and serve them on ROS 2.')
  .strict()
  .demandCommand(1, 'Name a command; `onestep --help` lists them.')
  .wrap(Math.min(110, process.stdout.columns ?? 110))
  .fail((msg, err) => {
    if (err) reportAndExit(err);
    process.stderr.write(`onestep: ${msg}\nRun with --help for usage.\n`);
    process.exit(2);
  });

for (const command of commands) cli.command(command);
try {
  await cli.parseAsync();
} catch (err) {
  reportAndExit(err);
}
