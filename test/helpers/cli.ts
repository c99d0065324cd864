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
