#!/usr/bin/env node
// The `onestep` command. In the installed package it runs the compiled JavaScript in dist/ (no TypeScript loader:
// faster start, smaller process). In a checkout, where src/ sits next to this folder, it runs the TypeScript
// sources through tsx, so an edit takes effect without a build and a stale dist/ is never used.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);

if (existsSync(source)) {
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
