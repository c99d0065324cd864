// Reads the episode_<i> groups of HDF5 files with h5wasm, on request, and posts them back as plain objects:
//   request { id, file }  →  { id, ok: true, keys: [top-level names], groups: { episode_0: { kind: 'group',
//   children: { actions: { kind: 'dataset', shape, dtype, value }, … } }, … } }   or   { id, ok: false, message }.
// It runs in a worker thread started without the TypeScript loader (execArgv: []): tsx rewrites every ES module
// it loads, and for h5wasm's 4 MB module with the embedded WebAssembly that costs about ten seconds, against one
// without it. Plain JavaScript for that reason; what the arrays mean is decided in minari.ts.
import { parentPort, workerData } from 'node:worker_threads';

const { default: h5wasm } = await import(workerData.h5wasmUrl);
const Module = await h5wasm.ready;
// HDF5 prints its error stack to stderr by default; make it an exception whose text we pass on instead.
Module.activate_throwing_error_handler();

parentPort.on('message', ({ id, file }) => {
  try {
    const h5 = new h5wasm.File(file, 'r');
    const transfer = new Set();
    const dump = (entity) => {
      if (entity instanceof h5wasm.Group) {
        const children = {};
        for (const key of entity.keys()) children[key] = dump(entity.get(key));
        return { kind: 'group', children };
      }
      if (entity instanceof h5wasm.Dataset) {
        const value = entity.value;
        // h5wasm copies each array out of the wasm heap, so its buffer is the array's own and can move, not be copied
        if (ArrayBuffer.isView(value) && value.byteLength === value.buffer.byteLength) transfer.add(value.buffer);
        return { kind: 'dataset', shape: entity.shape ?? [], dtype: JSON.stringify(entity.dtype), value };
      }
      return { kind: 'other' };
    };
    try {
      const keys = h5.keys();
      const groups = {};
      for (const key of keys) if (/^episode_\d+$/.test(key)) groups[key] = dump(h5.get(key));
      parentPort.postMessage({ id, ok: true, keys, groups }, [...transfer]);
    } finally {
      h5.close();
    }
  } catch (err) {
    parentPort.postMessage({ id, ok: false, message: err instanceof Error ? err.message : String(err) });
  }
});
