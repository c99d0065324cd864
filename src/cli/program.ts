// The yargs program of `onestep`: every command, strict parsing. main.ts runs it as the CLI (a failure becomes one
// line on stderr and an exit code); tests run the same program in process to check the line a bad input gets.
import yargs, { type Argv } from 'yargs';
import { commands } from './commands.ts';

export const USAGE = '$0 <command> [options]\n\nTrain one-step generative robot policies, export them to ONNX and serve them on ROS 2.';

/** The program for `args` (the words after `onestep`); the caller adds how failures end. */
export function createProgram(args: string[]): Argv {
  const cli = yargs(args)
    .scriptName('onestep')
    .usage(USAGE)
    .strict()
    .demandCommand(1, 'Name a command; `onestep --help` lists them.')
    .wrap(Math.min(110, process.stdout.columns ?? 110));
  for (const command of commands) cli.command(command);
  return cli;
}
