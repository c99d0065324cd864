// `npm run build` (and `npm pack`, through prepack): compiles src/ into dist/ — ESM JavaScript and .d.ts files in
// the same folder layout, `.ts` import specifiers rewritten to `.js` — with the project's TypeScript, type
// checking included. Incremental: an unchanged tree rebuilds in a few seconds. Files of src/ that are not
// TypeScript (e.g. a worker .mjs) are copied as they are, and outputs whose source is gone are removed, so dist/
// holds exactly the current sources.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const started = performance.now();
// When this build read src/: bin/onestep.js, in a checkout, trusts dist/ for `--help` only if no file of src/
// changed since (an edit made while tsc ran counts as a change).
const startedAtMs = Date.now();
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) {
  process.stderr.write(`build: tsc failed (exit ${result.status ?? result.signal}); nothing else done\n`);
  process.exit(1);
}

// the command list for `onestep --help` (src/cli/help.ts), from the compiled command modules themselves
const { commands } = await import(new URL('../dist/cli/commands.js', import.meta.url).href);
const { commandManifest } = await import(new URL('../dist/cli/help.js', import.meta.url).href);
writeFileSync(join(dist, 'cli/commands.json'), commandManifest(commands));

// assets: every non-TypeScript file under src/
let copied = 0;
for (const file of walk(src)) {
  if (file.endsWith('.ts')) continue;
  const out = join(dist, relative(src, file));
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(file).mtimeMs) continue;
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(file, out);
  copied++;
}

// stale outputs: a .js/.d.ts (or copied asset) in dist/ whose source no longer exists
let removed = 0;
for (const file of walk(dist)) {
  const rel = relative(dist, file);
  if (rel === '.tsbuildinfo' || rel === '.build-started' || rel === 'cli/commands.json') continue;
  const base = rel.replace(/\.d\.ts$/, '.ts').replace(/\.js$/, '.ts');
  if (existsSync(join(src, base)) || existsSync(join(src, rel))) continue;
  rmSync(file);
  removed++;
}
writeFileSync(join(dist, '.build-started'), `${startedAtMs}\n`);
process.stdout.write(`build: dist/ from src/ in ${((performance.now() - started) / 1000).toFixed(1)} s (${copied} assets copied, ${removed} stale files removed)\n`);
