// Turns any error into one clear line on stderr (no stack trace unless ONESTEP_DEBUG=1).
export class UserError extends Error {
  override name = 'UserError';
}

export function reportAndExit(err: unknown, code = 1): never {
  const e = err instanceof Error ? err : new Error(String(err));
  if (process.env.ONESTEP_DEBUG === '1') process.stderr.write(`${e.stack ?? e.message}\n`);
  else process.stderr.write(`onestep: ${e.message}\n`);
  process.exit(code);
}
