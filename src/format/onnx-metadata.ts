// Reads the metadata of an ONNX file without ONNX Runtime (which does not expose `metadata_props` in Node).
// No TF.js imports: the policy runtime uses this. It walks the protobuf wire format of ModelProto directly and
// reads only the header fields below, stepping over the graph (the weights) without decoding it: a serving
// process loads no protobuf library and copies no weights for it.
//
// ModelProto (onnx.proto3): 1 ir_version (int64), 2 producer_name (string), 7 graph (GraphProto),
// 8 opset_import (repeated OperatorSetIdProto: 1 domain, 2 version), 14 metadata_props (repeated
// StringStringEntryProto: 1 key, 2 value).

export interface OnnxModelInfo {
  readonly irVersion: number;
  readonly opsetVersion: number;
  readonly producerName: string;
  readonly metadata: ReadonlyMap<string, string>;
}

const VARINT = 0, FIXED64 = 1, BYTES = 2, FIXED32 = 5;
const utf8 = new TextDecoder('utf-8');

/** One protobuf message's fields, in order: wire type and either the varint value or the payload's bounds. */
function* fields(bytes: Uint8Array, start: number, end: number): Generator<{ field: number; wire: number; value: number; from: number; to: number }> {
  let pos = start;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new Error(`truncated varint at byte ${pos}`);
      const b = bytes[pos++];
      result += (b & 0x7f) * scale; // exact up to 2^53: more than any field read here needs
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new Error(`varint longer than 10 bytes at byte ${pos}`);
  };
  while (pos < end) {
    const at = pos;
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new Error(`invalid field number 0 at byte ${at}`);
    if (wire === VARINT) {
      yield { field, wire, value: varint(), from: pos, to: pos };
    } else if (wire === BYTES) {
      const length = varint();
      if (pos + length > end) throw new Error(`field ${field} at byte ${at} runs past the end (${length} bytes)`);
      yield { field, wire, value: length, from: pos, to: pos + length };
      pos += length;
    } else if (wire === FIXED64 || wire === FIXED32) {
      const size = wire === FIXED64 ? 8 : 4;
      if (pos + size > end) throw new Error(`field ${field} at byte ${at} runs past the end`);
      yield { field, wire, value: 0, from: pos, to: pos + size };
      pos += size;
    } else {
      throw new Error(`invalid wire type ${wire} at byte ${at}`);
    }
  }
}

const text = (bytes: Uint8Array, f: { from: number; to: number }) => utf8.decode(bytes.subarray(f.from, f.to));

/** Decodes the ModelProto header fields; throws on bytes that are not an ONNX model (malformed protobuf, no graph). */
export function readOnnxModelInfo(bytes: Uint8Array): OnnxModelInfo {
  let irVersion = 0;
  let producerName = '';
  let opsetVersion: number | undefined;
  let hasGraph = false;
  const metadata = new Map<string, string>();
  for (const f of fields(bytes, 0, bytes.length)) {
    if (f.field === 1 && f.wire === VARINT) irVersion = f.value;
    else if (f.field === 2 && f.wire === BYTES) producerName = text(bytes, f);
    else if (f.field === 7 && f.wire === BYTES) hasGraph = true;
    else if (f.field === 8 && f.wire === BYTES) {
      let domain = '';
      let version = 0;
      for (const g of fields(bytes, f.from, f.to)) {
        if (g.field === 1 && g.wire === BYTES) domain = text(bytes, g);
        else if (g.field === 2 && g.wire === VARINT) version = g.value;
      }
      if (domain === '' && opsetVersion === undefined) opsetVersion = version; // the default domain's opset
    } else if (f.field === 14 && f.wire === BYTES) {
      let key = '';
      let value = '';
      for (const g of fields(bytes, f.from, f.to)) {
        if (g.field === 1 && g.wire === BYTES) key = text(bytes, g);
        else if (g.field === 2 && g.wire === BYTES) value = text(bytes, g);
      }
      if (key) metadata.set(key, value);
    }
  }
  if (!hasGraph) throw new Error('the file has no graph');
  return { irVersion, opsetVersion: opsetVersion ?? 0, producerName, metadata };
}
