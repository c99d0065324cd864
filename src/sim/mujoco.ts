// The MuJoCo WebAssembly module (mujoco-js, MuJoCo 3.3.8), loaded once per process and shared by every
// environment, plus MJCF loading with MuJoCo's own error text.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MainModule, MjModel } from 'mujoco-js';
import { MjcfError, MujocoUnavailableError } from './errors.ts';

export type Mujoco = MainModule;
export type { MjData, MjModel } from 'mujoco-js';

let loading: Promise<Mujoco> | undefined;
/** Text MuJoCo printed since the last load (its loader prints parse errors instead of throwing). */
let printed: string[] = [];

/**
 * The shared MuJoCo module; the first call compiles the 11 MB wasm (~0.2–0.3 s), later calls are free. Rejects
 * with MujocoUnavailableError (one line) when mujoco-js is missing or its wasm cannot start.
 */
export function mujoco(): Promise<Mujoco> {
  loading ??= import('mujoco-js')
    .then(({ default: load }) =>
      load({
        print: (line: string) => collect(line),
        printErr: (line: string) => collect(line),
      } as never),
    )
    .catch((err: unknown) => {
      loading = undefined; // a later call tries again (e.g. after the package was installed)
      throw new MujocoUnavailableError((err instanceof Error ? err.message : String(err)).split('\n')[0].trim());
    });
  return loading;
}

function collect(line: string): void {
  printed.push(line);
  if (printed.length > 50) printed.shift();
  if (process.env.ONESTEP_DEBUG === '1') process.stderr.write(`mujoco: ${line}\n`);
}

/** Folder of the virtual filesystem that holds the project's task MJCF files (sim/ in the repository). */
const TASK_DIR = '/onestep/sim';
/** The repository's sim/ folder. */
export const SIM_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../sim');

let tasksCopied = false;

/** Load one of the project's task models (sim/NAME), which may include other files from sim/. */
export async function loadTaskModel(file: string): Promise<MjModel> {
  const mj = await mujoco();
  if (!tasksCopied) {
    mj.FS.mkdirTree(TASK_DIR, 0o755);
    for (const name of readdirSync(SIM_DIR)) {
      if (name.endsWith('.xml')) mj.FS.writeFile(`${TASK_DIR}/${name}`, readFileSync(join(SIM_DIR, name)));
    }
    tasksCopied = true;
  }
  return loadFromVfs(mj, `${TASK_DIR}/${file}`, join(SIM_DIR, file));
}

/**
 * Load a user's MJCF file from the real filesystem. The wasm build has no host filesystem, so the file and every
 * file it references (includes, meshes, textures, height fields, skins: any `file="…"`, looked up next to the model
 * and in the compiler's meshdir / texturedir / assetdir) are copied into the virtual one, loaded, and removed again.
 */
export async function loadUserModel(path: string): Promise<MjModel> {
  const file = resolve(path);
  if (!existsSync(file)) throw new MjcfError(path, 'file not found');
  if (!statSync(file).isFile()) throw new MjcfError(path, 'is not a file');
  const mj = await mujoco();
  const root = dirname(file);
  const copied = new Set<string>();
  // The compiler's asset folders apply to every file, whichever file declares them.
  const dirs = new Set(['']);
  const copy = (real: string) => {
    if (copied.has(real)) return;
    copied.add(real);
    mj.FS.mkdirTree(dirname(`/user${real}`), 0o755);
    mj.FS.writeFile(`/user${real}`, readFileSync(real));
    if (real.toLowerCase().endsWith('.xml')) {
      const xml = readFileSync(real, 'utf8');
      for (const [, dir] of xml.matchAll(/\b(?:meshdir|texturedir|assetdir)\s*=\s*"([^"]*)"/g)) dirs.add(dir);
      for (const [, ref] of xml.matchAll(/\bfile\s*=\s*"([^"]+)"/g)) {
        for (const dir of dirs) {
          const candidate = resolve(root, dir, ref);
          if (existsSync(candidate) && statSync(candidate).isFile()) copy(candidate);
        }
      }
    }
  };
  try {
    copy(file);
    return loadFromVfs(mj, `/user${file}`, path);
  } finally {
    for (const p of copied) mj.FS.unlink(`/user${p}`);
  }
}

/** Load an MJCF string (tests, generated models). */
export async function loadModelFromString(xml: string, name = 'model.xml'): Promise<MjModel> {
  const mj = await mujoco();
  const vfsPath = `/string/${basename(name)}`;
  mj.FS.mkdirTree('/string', 0o755);
  mj.FS.writeFile(vfsPath, xml);
  try {
    return loadFromVfs(mj, vfsPath, name);
  } finally {
    mj.FS.unlink(vfsPath);
  }
}

function loadFromVfs(mj: Mujoco, vfsPath: string, shownPath: string): MjModel {
  printed = [];
  let model: MjModel | null;
  try {
    model = mj.MjModel.loadFromXML(vfsPath);
  } catch (err) {
    // Schema and compile errors arrive as C++ exceptions (mjXError, mjCError) whose first field is the message.
    throw new MjcfError(shownPath, exceptionText(mj, err) ?? String(err));
  }
  if (!model) {
    // XML syntax errors and unreadable files return null; the loader printed the reason.
    const text = printed.map((l) => l.trim()).filter(Boolean).join(' ').replace(/^Loading error:\s*/, '');
    throw new MjcfError(shownPath, text || 'MuJoCo could not load the model');
  }
  return model;
}

/** The message of a MuJoCo C++ exception (mjXError / mjCError start with a `char message[...]`). */
function exceptionText(mj: Mujoco, err: unknown): string | undefined {
  const e = err as { name?: string; excPtr?: number };
  if (typeof e?.excPtr !== 'number') return undefined;
  const probe = new mj.DoubleBuffer(1);
  try {
    const heap = new Uint8Array((probe.GetView() as Float64Array).buffer);
    const end = Math.min(heap.length, e.excPtr + 1000);
    let n = e.excPtr;
    while (n < end && heap[n] !== 0) n++;
    const text = new TextDecoder().decode(heap.subarray(e.excPtr, n)).trim().replace(/\n+/g, '; ');
    return text ? `${e.name ?? 'MuJoCo error'}: ${text}` : undefined;
  } finally {
    probe.delete();
  }
}

/** Current size of the wasm heap in bytes (it only grows; a leak shows up as growth). */
export async function wasmHeapBytes(): Promise<number> {
  const mj = await mujoco();
  const probe = new mj.DoubleBuffer(1);
  try {
    return (probe.GetView() as Float64Array).buffer.byteLength;
  } finally {
    probe.delete();
  }
}
