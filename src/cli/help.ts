// `onestep --help` and `onestep --version` without yargs. Importing yargs costs ~0.2 s on a loaded 2-core machine
// (most of it string-width's emoji tables, which cliui pulls in), as much again as Node's own start, and the
// command list needs none of it: main.ts answers these two from here and hands everything else to yargs.
// `topLevelHelp` lays the text out the way yargs does (cliui's columns, word wrap and right-aligned type
// hints); test/cli-help.test.ts checks it is identical to yargs' own rendering at several terminal widths.
// The compiled package carries the command list as dist/cli/commands.json (written by the build from the command
// modules themselves), so that its --help reads one small file instead of loading twenty modules.
import { readFileSync } from 'node:fs';

/** The program's usage line and description (`$0` is the script name), shared with the yargs program. */
export const USAGE = '$0 <command> [options]\n\nTrain one-step generative robot policies, export them to ONNX and serve them on ROS 2.';

/** How wide yargs lays help out: the terminal, at most 110 columns (110 when not a terminal). */
export function helpWidth(): number {
  return Math.min(110, process.stdout.columns ?? 110);
}

/** What the command list needs of a command module. */
export interface CommandSummary {
  command?: string | readonly string[];
  describe?: string | false;
}

const width = (s: string) => [...s].length;

/**
 * Word wrap at `columns` as cliui asks wrap-ansi for it (hard: true, trim): greedy, and a word longer than a
 * line starts on the current line when that costs no extra break, then fills whole lines.
 */
function wrap(text: string, columns: number): string[] {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    const rows = [''];
    const last = () => rows[rows.length - 1];
    paragraph.split(' ').forEach((word, index) => {
      rows[rows.length - 1] = last().trimStart();
      let rowLength = width(last());
      if (index !== 0 && rowLength > 0) {
        rows[rows.length - 1] += ' ';
        rowLength++;
      }
      const length = width(word);
      if (length > columns) {
        const breaksStartingThisLine = 1 + Math.floor((length - (columns - rowLength) - 1) / columns);
        const breaksStartingNextLine = Math.floor((length - 1) / columns);
        if (breaksStartingNextLine < breaksStartingThisLine) rows.push('');
        let visible = width(last());
        const characters = [...word];
        characters.forEach((character, k) => {
          if (visible + 1 <= columns) rows[rows.length - 1] += character;
          else {
            rows.push(character);
            visible = 0;
          }
          visible++;
          if (visible === columns && k < characters.length - 1) {
            rows.push('');
            visible = 0;
          }
        });
        return;
      }
      if (rowLength + length > columns && rowLength > 0 && length > 0) rows.push('');
      rows[rows.length - 1] += word;
    });
    out.push(...rows.map((row) => row.trimEnd()));
  }
  return out;
}

/** Two columns: `left` in a column `leftWidth` wide (2 spaces of padding each side), `right` wrapped beside it. */
function twoColumns(left: string, right: string, leftWidth: number, total: number): string[] {
  const leftLines = wrap(left, leftWidth - 4);
  const rightLines = wrap(right, total - leftWidth);
  const lines: string[] = [];
  for (let i = 0; i < Math.max(leftLines.length, rightLines.length); i++) {
    const l = leftLines[i] ?? '';
    lines.push(`  ${l}${' '.repeat(leftWidth - 4 - width(l))}  ${rightLines[i] ?? ''}`.trimEnd());
  }
  return lines;
}

/** A right-aligned hint ("[boolean]") on a row's last line when it fits there (cliui's inline span), else its own line. */
function withHint(lines: string[], hint: string, total: number): string[] {
  const at = total - width(hint);
  const end = lines.length - 1;
  if (width(lines[end]) <= at) lines[end] = lines[end] + ' '.repeat(at - width(lines[end])) + hint;
  else lines.push(' '.repeat(at) + hint);
  return lines;
}

/** `onestep --help`: usage, every command with its description, and the two global options. */
export function topLevelHelp(commands: readonly CommandSummary[], columns = helpWidth(), scriptName = 'onestep'): string {
  const lines: string[] = [];
  for (const text of USAGE.replace(/\$0/g, scriptName).split('\n')) lines.push(...wrap(text, columns));
  lines.push('', 'Commands:');
  const rows = commands
    .filter((c) => c.describe !== false)
    .map((c) => [`${scriptName} ${Array.isArray(c.command) ? c.command[0] : c.command}`, String(c.describe ?? '')]);
  const commandWidth = Math.min(Math.max(...rows.map(([name]) => width(name))), Math.floor(columns * 0.5)) + 4;
  for (const [name, describe] of rows) lines.push(...twoColumns(name, describe, commandWidth, columns));
  lines.push('', 'Options:');
  const options = [['--help', 'Show help'], ['--version', 'Show version number']];
  const optionWidth = Math.min(Math.max(...options.map(([name]) => width(name))), Math.floor(columns * 0.5)) + 4;
  for (const [name, describe] of options) lines.push(...withHint(twoColumns(name, describe, optionWidth, columns), '[boolean]', columns));
  return `${lines.join('\n')}\n`;
}

/** The package's version (what `--version` prints), from the package.json above this folder (src/ or dist/). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The command list as the build stores it beside the compiled modules (dist/cli/commands.json). */
export function commandManifest(commands: readonly CommandSummary[]): string {
  return `${JSON.stringify(commands.map(({ command, describe }) => ({ command, describe })))}\n`;
}

/** The command list: the build's manifest when running compiled, else (sources) the command modules. */
export async function commandSummaries(): Promise<CommandSummary[]> {
  try {
    return JSON.parse(readFileSync(new URL('./commands.json', import.meta.url), 'utf8')) as CommandSummary[];
  } catch {
    return (await import('./commands.ts')).commands;
  }
}
