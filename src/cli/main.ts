// The `onestep` command line: one sub-command per file in this folder, registered in commands.ts.
// `onestep serve` (not its --help) starts without yargs or the other commands: a serving node stays small.
// `onestep --help` and `--version` are answered without yargs too (help.ts): importing yargs would double the
// start time of the command people run first.
import { formatUsageError, reportAndExit } from './errors.ts';

process.on('unhandledRejection', (err) => reportAndExit(err));

const words = process.argv.slice(2);
const serve = words[0] === 'serve' ? await import('./serve.ts') : null;
if (words.length === 1 && (words[0] === '--help' || words[0] === '--version')) {
  const { commandSummaries, packageVersion, topLevelHelp } = await import('./help.ts');
  if (words[0] === '--version') process.stdout.write(`${packageVersion()}\n`);
  else process.stdout.write(topLevelHelp(await commandSummaries()));
} else if (serve?.runsWithoutYargs(words)) {
  try {
    await serve.runServe(words);
  } catch (err) {
    reportAndExit(err);
  }
} else {
  await runYargs();
}

async function runYargs(): Promise<void> {
  const { hideBin } = await import('yargs/helpers');
  const { createProgram } = await import('./program.ts');
  const cli = createProgram(hideBin(process.argv)).fail((msg, err) => {
    if (err) reportAndExit(err);
    process.stderr.write(formatUsageError(msg));
    process.exit(2);
  });
  try {
    await cli.parseAsync();
  } catch (err) {
    reportAndExit(err);
  }
}
