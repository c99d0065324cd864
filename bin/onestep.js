#!/usr/bin/env node
// The `onestep` command. In the installed package it runs the compiled JavaScript in dist/ (no TypeScript loader:
// faster start, smaller process). In a checkout, where src/ sits next to this folder, it runs the TypeScript
// sources through tsx, so an edit takes effect without a build and a stale dist/ is never used — except for
// `onestep --help` and `--version`, the commands people run first: those take dist/ when it was built after the
// last change to src/ (scripts/build.mjs stamps when it read src/), sparing the TypeScript loader's start.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);

/** dist/ was built from src/ as it is now: no file or folder of src/ changed since the build started reading it. */
function distIsCurrent() {
  let builtFrom;
  try {
    builtFrom = Number(readFileSync(new URL('../dist/.build-started', import.meta.url), 'utf8'));
  } catch {
    return false;
  }
  const unchanged = (dir) =>
    statSync(dir).mtimeMs < builtFrom &&
    readdirSync(dir, { withFileTypes: true }).every((e) => (e.isDirectory() ? unchanged(new URL(`${e.name}/`, dir)) : statSync(new URL(e.name, dir)).mtimeMs < builtFrom));
  return existsSync(compiled) && unchanged(new URL('../src/', import.meta.url));
}

const words = process.argv.slice(2);
const helpOnly = words.length === 1 && (words[0] === '--help' || words[0] === '--version');

if (existsSync(source) && !(helpOnly && distIsCurrent())) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    register = undefined;
  }
  if (register) {
    register();
    await import(source.href);
  } else if (existsSync(compiled)) {
    await import(compiled.href);
  } else {
    process.stderr.write('onestep: this checkout has neither tsx (run `npm install`) nor a build (run `npm run build`)\n');
    process.exit(1);
  }
} else {
  await import(compiled.href);
}
