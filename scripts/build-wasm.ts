// Assembles src/nn/kernels/simd.wat into src/nn/kernels/simd.wasm with wabt (a pinned dev dependency). The built
// bytes are checked in, so installing onestep compiles nothing; test/kernels-simd.test.ts assembles the .wat the
// same way and fails when the checked-in .wasm differs (edit the .wat, then run this).
//
//   node --import tsx scripts/build-wasm.ts          write simd.wasm
//   node --import tsx scripts/build-wasm.ts --check  exit 1 when simd.wasm is not what simd.wat assembles to
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SIMD_WAT = fileURLToPath(new URL('../src/nn/kernels/simd.wat', import.meta.url));
export const SIMD_WASM = fileURLToPath(new URL('../src/nn/kernels/simd.wasm', import.meta.url));

/** The binary module a .wat file assembles to (validated; no name section, so the bytes are only the code). */
export async function assembleWat(path: string): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const module = wabt.parseWat(path, readFileSync(path, 'utf8'), { simd: true });
  try {
    module.resolveNames();
    module.validate();
    return module.toBinary({ write_debug_names: false, canonicalize_lebs: true }).buffer;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await assembleWat(SIMD_WAT);
  if (process.argv.includes('--check')) {
    const same = Buffer.compare(Buffer.from(built), readFileSync(SIMD_WASM)) === 0;
    console.log(same ? `${SIMD_WASM}: up to date (${built.length} bytes)` : `${SIMD_WASM}: differs from what simd.wat assembles to; run node --import tsx scripts/build-wasm.ts`);
    process.exit(same ? 0 : 1);
  }
  writeFileSync(SIMD_WASM, built);
  console.log(`${SIMD_WASM}: ${built.length} bytes`);
}
