// The `onestep` command line: one sub-command per file in this folder, registered in commands.ts.
// `onestep serve` (not its --help) starts without yargs or the other commands: a serving node stays small.
import { reportAndExit } from './errors.ts';

process.on('unhandledRejection', (err) => reportAndExit(err));

const words = process.argv.slice(2);
const rosArgsAt = words.indexOf('--ros-args');
const ownWords = rosArgsAt < 0 ? words : words.slice(0, rosArgsAt);
if (words[0] === 'serve' && !ownWords.some((w) => w === '--help' || w === '-h' || w === '--version')) {
  const { runServe } = await import('./serve.ts');
  try {
    await runServe();
  } catch (err) {
    reportAndExit(err);
  }
} else {
  await runYargs();
}

async function runYargs(): Promise<void> {
  const { default: yargs } = await import('yargs');
  const { hideBin } = await import('yargs/helpers');
  const { commands } = await import('./commands.ts');

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
}
