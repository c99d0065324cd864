// Turns any error into one clear line on stderr (no stack trace unless ONESTEP_DEBUG=1).
export class UserError extends Error {
  override name = 'UserError';
}

/** What stderr gets for an error: one line, or the stack with ONESTEP_DEBUG=1. */
export function formatError(err: unknown, debug = process.env.ONESTEP_DEBUG === '1'): string {
  const e = err instanceof Error ? err : new Error(String(err));
  return debug ? `${e.stack ?? e.message}\n` : `onestep: ${e.message}\n`;
}

/** What stderr gets for a command line yargs rejects (exit code 2). */
export function formatUsageError(message: string): string {
  return `onestep: ${message}\nRun with --help for usage.\n`;
}

export function reportAndExit(err: unknown, code = 1): never {
  process.stderr.write(formatError(err));
  process.exit(code);
}
