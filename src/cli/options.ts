// A strict parser for one command's long options, declared in yargs' Options form (type, array, choices, default),
// for the commands that must start without yargs: `onestep serve` runs beside a robot for as long as it does, and
// yargs (with its locale, terminal-width and emoji tables) is ~5 MB of a ~100 MB process. Same spelling as yargs
// accepts: --name value, --name=value, --no-flag, kebab-case or camelCase names, arrays as following values;
// unknown options and positional words fail with yargs' "Unknown argument" message (words after "--" are kept in
// `_`), bad choices with one line naming the allowed ones.
import type { Options } from 'yargs';

/** Parsed options by their declared (kebab-case) name, plus positional arguments in `_`. */
export type ParsedOptions = Record<string, unknown> & { _: string[] };

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
/** A token that is a value, not an option: anything not starting with "-", a lone "-", or a negative number. */
const isValue = (token: string | undefined): boolean => token !== undefined && (!token.startsWith('-') || token === '-' || /^-\d/.test(token));

export function parseCommandOptions(args: readonly string[], options: Readonly<Record<string, Options>>): ParsedOptions {
  const byName = new Map<string, string>();
  for (const name of Object.keys(options)) {
    byName.set(name, name);
    byName.set(camel(name), name);
  }
  const out: ParsedOptions = { _: [] };
  const unknown: string[] = [];
  const set = (name: string, raw: string | boolean) => {
    const spec = options[name];
    let value: unknown = raw;
    if (spec.type === 'number') value = typeof raw === 'boolean' ? NaN : Number(raw);
    if (spec.type === 'boolean' && typeof raw === 'string') value = raw !== 'false';
    if (spec.choices && !(spec.choices as unknown[]).includes(value)) {
      throw new Error(`--${name} must be one of ${(spec.choices as unknown[]).join(', ')} (got "${String(raw)}")`);
    }
    if (spec.array) out[name] = [...((out[name] as unknown[] | undefined) ?? []), value];
    else out[name] = value;
  };
  for (let i = 0; i < args.length; i++) {
    const token = args[i];
    if (token === '--') {
      out._.push(...args.slice(i + 1));
      break;
    }
    if (!token.startsWith('--')) {
      // a positional word or a short flag: strict yargs (no positional arguments declared) rejects both
      unknown.push(token.startsWith('-') && !isValue(token) ? token.replace(/^-+/, '') : token);
      continue;
    }
    const eq = token.indexOf('=');
    let key = token.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : token.slice(eq + 1);
    let negated = false;
    if (!byName.has(key) && key.startsWith('no-') && options[byName.get(key.slice(3)) ?? '']?.type === 'boolean') {
      key = key.slice(3);
      negated = true;
    }
    const name = byName.get(key);
    if (name === undefined) {
      unknown.push(key);
      if (inline === undefined && isValue(args[i + 1])) i++; // its value goes with it, as yargs reads it
      continue;
    }
    const spec = options[name];
    if (spec.type === 'boolean') {
      if (negated) set(name, false);
      else if (inline !== undefined) set(name, inline);
      else if (args[i + 1] === 'true' || args[i + 1] === 'false') set(name, args[++i]);
      else set(name, true);
    } else if (inline !== undefined) {
      set(name, inline);
    } else if (spec.array) {
      while (isValue(args[i + 1])) set(name, args[++i]);
    } else {
      set(name, isValue(args[i + 1]) ? args[++i] : '');
    }
  }
  if (unknown.length > 0) throw new Error(`Unknown argument${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
  for (const [name, spec] of Object.entries(options)) if (!(name in out)) out[name] = spec.default;
  return out;
}
