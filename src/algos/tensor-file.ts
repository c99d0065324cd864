// Named float32 tensors in one file (a JSON index line, then the raw data), written atomically.
// Used for the full training state (weights, targets, old policy, optimiser moments), which is more than the
// exportable policy checkpoint holds.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';

const MAGIC = 'onestep-tensors';

export function saveTensors(path: string, tensors: Map<string, tf.Tensor>): void {
  const index: { name: string; shape: number[]; offset: number; length: number }[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const data = t.dataSync() as Float32Array;
    index.push({ name, shape: t.shape, offset, length: data.length });
    chunks.push(data);
    offset += data.length;
  }
  const header = Buffer.from(JSON.stringify({ magic: MAGIC, version: 1, tensors: index }) + '\n', 'utf8');
  const pad = (4 - (header.length % 4)) % 4;
  const out = Buffer.alloc(header.length + pad + 4 * offset, 0x20);
  header.copy(out, 0);
  let at = header.length + pad;
  for (const c of chunks) {
    Buffer.from(c.buffer, c.byteOffset, c.byteLength).copy(out, at);
    at += c.byteLength;
  }
  writeFileSync(path + '.tmp', out);
  renameSync(path + '.tmp', path);
}

export function loadTensors(path: string): Map<string, tf.Tensor> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`checkpoint: cannot read ${path}: ${(err as Error).message}`);
  }
  const nl = bytes.indexOf(0x0a);
  let header: { magic: string; tensors: { name: string; shape: number[]; offset: number; length: number }[] };
  try {
    header = JSON.parse(bytes.subarray(0, nl).toString('utf8'));
  } catch {
    throw new Error(`checkpoint: ${path} is not an onestep tensor file`);
  }
  if (header.magic !== MAGIC) throw new Error(`checkpoint: ${path} is not an onestep tensor file`);
  let base = nl + 1;
  base += (4 - (base % 4)) % 4;
  const total = header.tensors.reduce((s, t) => s + t.length, 0);
  if (bytes.length !== base + 4 * total) throw new Error(`checkpoint: ${path} is truncated (${bytes.length} bytes, expected ${base + 4 * total})`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset + base, bytes.byteOffset + base + 4 * total));
  const out = new Map<string, tf.Tensor>();
  for (const t of header.tensors) out.set(t.name, tf.tensor(all.subarray(t.offset, t.offset + t.length), t.shape, 'float32'));
  return out;
}
