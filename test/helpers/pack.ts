// onestep as a robot project gets it: `npm pack` (prepack builds dist/), then `npm install <tarball>` into an empty
// project, from the npm cache the checkout's own install filled (--prefer-offline: the registry only for metadata
// not cached yet). Shared by the pack-and-install test and the footprint benchmark.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './netns.ts';

/**
 * The environment a consumer's npm runs in: this process's, without the npm_* variables `npm test` sets (they
 * carry the checkout's npm configuration, which a consumer does not have).
 */
export function consumerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export interface Packed {
  /** The .tgz file. */
  tarball: string;
  /** Paths inside the package (relative to its root). */
  files: string[];
  seconds: number;
}

/** `npm pack` of the checkout into `dest` (runs prepack, i.e. the build). */
export function packOnestep(dest: string): Packed {
  const t0 = performance.now();
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], { cwd: REPO_ROOT, encoding: 'utf8', env: consumerEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  // prepack's own output (the build line) precedes the JSON
  const json = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dest, json[0].filename), files: json[0].files.map((f) => f.path), seconds: (performance.now() - t0) / 1000 };
}

export interface Consumer {
  /** The consumer project's folder (package.json, node_modules/onestep). */
  dir: string;
  seconds: number;
}

/**
 * An empty ESM project with onestep installed from `tarball`, the way README "Install in your project" says:
 * ONNXRUNTIME_NODE_INSTALL=skip keeps onnxruntime-node's postinstall from downloading CUDA.
 */
export function installConsumer(tarball: string, root = mkdtempSync(join(tmpdir(), 'onestep-consumer-'))): Consumer {
  const dir = join(root, 'robot-project');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'robot-project', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  const t0 = performance.now();
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], {
    cwd: dir,
    env: consumerEnv({ ONNXRUNTIME_NODE_INSTALL: 'skip' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { dir, seconds: (performance.now() - t0) / 1000 };
}
