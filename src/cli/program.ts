// The yargs program of `onestep`: every command, strict parsing. main.ts runs it as the CLI (a failure becomes one
// line on stderr and an exit code); tests run the same program in process to check the line a bad input gets.
import yargs, { type Argv } from 'yargs';
import { commands } from './commands.ts';
import { USAGE, helpWidth } from './help.ts';

/** The program for `args` (the words after `onestep`); the caller adds how failures end. */
export function createProgram(args: string[]): Argv {
  const cli = yargs(args)
    .scriptName('onestep')
    .usage(USAGE)
    .strict()
    .demandCommand(1, 'Name a command; `onestep --help` lists them.')
    .wrap(helpWidth());
  for (const command of commands) cli.command(command);
  return cli;
}
