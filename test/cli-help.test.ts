// `onestep --help` is printed without yargs (src/cli/help.ts, for start time): it must be exactly what yargs would
// print for the full program, at any terminal width, and load none of yargs. Every command's own --help still
// comes from yargs and must list the command's description and every option its builder declares.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { createProgram } from '../src/cli/program.ts';
import { commands } from '../src/cli/commands.ts';
import { commandManifest, topLevelHelp } from '../src/cli/help.ts';
import { onestepInProcess } from './helpers/cli.ts';
import { moduleRecorder } from './helpers/modules.ts';
import { REPO_ROOT } from './helpers/netns.ts';

const dir = mkdtempSync(join(tmpdir(), 'onestep-help-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the top-level help equals yargs\' rendering of the full program at every width (wrapping, columns, hints)', async () => {
  for (const width of [110, 100, 80, 64, 50, 40, 30, 24]) {
    const expected = `${await createProgram([]).wrap(width).getHelp()}\n`;
    assert.equal(topLevelHelp(commands, width), expected, `width ${width}`);
  }
});

test('the command list the build stores for the compiled CLI gives the same help', () => {
  const manifest = JSON.parse(commandManifest(commands)) as Parameters<typeof topLevelHelp>[0];
  assert.equal(manifest.length, commands.length);
  for (const width of [110, 60]) assert.equal(topLevelHelp(manifest, width), topLevelHelp(commands, width));
});

test('onestep --help prints that text without loading yargs; --version prints the package version', () => {
  const recorder = moduleRecorder(dir);
  const help = execFileSync('node', ['--import', recorder.hook, 'bin/onestep.js', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(help, topLevelHelp(commands, 110));
  for (const command of commands) assert.match(help, new RegExp(`\\n  onestep ${String(command.command).split(' ')[0]} `), `${command.command} listed`);
  const loaded = recorder.modules().filter((m) => /node_modules\/(yargs|yargs-parser|cliui|string-width|y18n)\//.test(m));
  assert.deepEqual(loaded, [], 'onestep --help loaded yargs');
  const version = execFileSync('node', ['bin/onestep.js', '--version'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(version, `${(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
});

/** The options a command's builder declares (for a command group: those of each sub-command, by name). */
function declaredOptions(command: CommandModule): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const visit = (module: CommandModule, path: string) => {
    const y = yargs([]);
    const subcommands: CommandModule[] = [];
    const command = y.command.bind(y);
    // a group's builder registers its sub-commands: note them instead of descending through yargs' internals
    (y as unknown as { command: (m: CommandModule) => Argv }).command = (m: CommandModule) => {
      subcommands.push(m);
      return y;
    };
    if (typeof module.builder === 'function') module.builder(y);
    y.command = command;
    // getOptions() is yargs' own (untyped) record of what the builder declared
    const keys = Object.keys((y as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key).filter((k) => k !== 'help' && k !== 'version' && k !== '$0');
    if (subcommands.length === 0) out.set(path, keys);
    for (const sub of subcommands) visit(sub, `${path} ${String(sub.command).split(' ')[0]}`);
  };
  visit(command, String(command.command).split(' ')[0]);
  return out;
}

test('every command\'s --help (each sub-command\'s too) shows its description and every option it declares', async () => {
  const squash = (s: string) => s.replace(/\s+/g, ' ');
  for (const command of commands) {
    const name = String(command.command).split(' ')[0];
    const top = await onestepInProcess(name, '--help');
    assert.equal(top.code, 0, `${name} --help: ${top.stderr}`);
    // sim-bridge's usage text is a longer description of its topics and services in place of the one-liner
    if (name !== 'sim-bridge') assert.ok(squash(top.stdout).includes(squash(String(command.describe))), `${name} --help shows its description`);
    for (const [path, options] of declaredOptions(command)) {
      const help = path === name ? top : await onestepInProcess(...path.split(' '), '--help');
      assert.equal(help.code, 0, `${path} --help: ${help.stderr}`);
      for (const option of options) {
        // an option's row ("  -t, --show-types  …", "      --wait  …", "  -n  …") or a positional's ("  names  …")
        const escaped = option.replace(/[-]/g, '\\-');
        const row = new RegExp(`^ +((-\\w, )?--?${escaped}[ ,]|${escaped} )`, 'm');
        assert.match(help.stdout, row, `onestep ${path} --help lists ${option}`);
      }
    }
  }
});

test('in a checkout, --help and --version take dist/ only while no file of src/ changed since the build read it', () => {
  // a checkout in miniature: the real bin/onestep.js, a src/ and a dist/ whose main modules say which one ran
  const root = join(dir, 'checkout');
  mkdirSync(join(root, 'src/cli'), { recursive: true });
  mkdirSync(join(root, 'dist/cli'), { recursive: true });
  cpSync(join(REPO_ROOT, 'bin'), join(root, 'bin'), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  writeFileSync(join(root, 'package.json'), '{"type": "module"}');
  writeFileSync(join(root, 'src/cli/main.ts'), "const ran: string = 'src';\nconsole.log(ran);\n");
  writeFileSync(join(root, 'src/cli/other.ts'), 'export {};\n');
  writeFileSync(join(root, 'dist/cli/main.js'), "console.log('dist');\n");
  const ran = (...args: string[]) => execFileSync('node', [join(root, 'bin/onestep.js'), ...args], { encoding: 'utf8' }).trim();
  const past = new Date(Date.now() - 60_000);
  for (const p of ['src/cli/main.ts', 'src/cli/other.ts', 'src/cli', 'src']) utimesSync(join(root, p), past, past);

  assert.equal(ran('--help'), 'src', 'no build stamp: the sources');
  writeFileSync(join(root, 'dist/.build-started'), `${Date.now() - 30_000}\n`);
  assert.equal(ran('--help'), 'dist', 'built after the last change: dist/');
  assert.equal(ran('--version'), 'dist');
  assert.equal(ran('serve', '--help'), 'src', 'any other command: the sources');
  assert.equal(ran('--help', '--help'), 'src');
  utimesSync(join(root, 'src/cli/other.ts'), new Date(), new Date());
  assert.equal(ran('--help'), 'src', 'a source edited since the build: the sources');
  utimesSync(join(root, 'src/cli/other.ts'), past, past);
  rmSync(join(root, 'src/cli/other.ts'));
  assert.equal(ran('--help'), 'src', 'a source removed since the build (its folder changed): the sources');
});
