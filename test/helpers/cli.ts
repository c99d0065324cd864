// Running the onestep CLI as a user does (node bin/onestep.js …, from the repository root), for the CLI tests.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from './netns.ts';

const execFileAsync = promisify(execFile);

export interface CliResult {
  /** Exit status: 0 on success, 1 for a reported error, 2 for a usage error. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `onestep <args>`; resolves with its exit code and output whether it succeeds or fails. */
export async function onestep(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync('node', ['bin/onestep.js', ...args], { encoding: 'utf8', cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * Runs `onestep <args>` in this process — the same yargs program (or, for `onestep serve`, the same direct path
 * main.ts takes) and the same error formatting as the CLI, without a process start per case (tsx and yargs cost
 * about a second each). For the one-line errors of bad input; keep one real subprocess per command to prove the
 * wiring. stdout is captured, not printed. Not for a serve that would start a node: it would keep running here.
 */
export async function onestepInProcess(...args: string[]): Promise<CliResult> {
  const { createProgram } = await import('../../src/cli/program.ts');
  const { formatError, formatUsageError } = await import('../../src/cli/errors.ts');
  const { runServe, runsWithoutYargs } = await import('../../src/cli/serve.ts');
  let stdout = '';
  const write = process.stdout.write;
  // Text only: the test runner reports to the parent over this process's stdout in binary chunks, which must go
  // through (swallowed, a test's result would vanish from the run); the CLI writes strings.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  let usage: string | undefined;
  try {
    if (runsWithoutYargs(args)) {
      await runServe(args);
      return { code: 0, stdout, stderr: '' };
    }
    await createProgram(args)
      .exitProcess(false)
      .fail((msg, err) => {
        if (err) throw err;
        usage = msg;
        throw new Error(msg);
      })
      .parseAsync();
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    return usage !== undefined ? { code: 2, stdout, stderr: formatUsageError(usage) } : { code: 1, stdout, stderr: formatError(err, false) };
  } finally {
    process.stdout.write = write;
  }
}
