// Which modules a child process loads: a preload (`node --import <hook>`) that records every module resolved
// through the ESM resolve hook and the CommonJS loader into a list file, for tests that check what a command
// does not pay for (yargs for `onestep --help`, TF.js for `onestep serve`).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ModuleRecorder {
  /** Pass as `node --import <hook> …`. */
  hook: string;
  /** The modules recorded so far, each once (file URLs for ESM, paths for CommonJS). */
  modules(): string[];
}

/** Writes the preload and its (empty) list into `dir`. */
export function moduleRecorder(dir: string): ModuleRecorder {
  const list = join(dir, 'modules.txt');
  const hook = join(dir, 'record-modules.mjs');
  writeFileSync(list, '');
  writeFileSync(hook, `import { register, Module } from 'node:module';
import { appendFileSync } from 'node:fs';
const file = ${JSON.stringify(list)};
register('data:text/javascript,' + encodeURIComponent(\`import { appendFileSync } from 'node:fs';
export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(\${JSON.stringify(file)}, r.url + '\\\\n'); return r; }\`));
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try { appendFileSync(file, Module._resolveFilename(request, parent, isMain) + '\\n'); } catch {}
  return load.apply(this, arguments);
};
`);
  return { hook, modules: () => [...new Set(readFileSync(list, 'utf8').split('\n').filter(Boolean))] };
}
