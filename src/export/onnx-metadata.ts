// Reads the metadata of an ONNX file without ONNX Runtime (which does not expose `metadata_props` in Node).
// No TF.js imports: the policy runtime uses this.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface OnnxModelInfo {
  readonly irVersion: number;
  readonly opsetVersion: number;
  readonly producerName: string;
  readonly metadata: ReadonlyMap<string, string>;
}

/** Decodes the ModelProto header fields; throws (protobufjs' error) on bytes that are not an ONNX model. */
export function readOnnxModelInfo(bytes: Uint8Array): OnnxModelInfo {
  const model = onnx.ModelProto.decode(bytes);
  if (!model.graph) throw new Error('the file has no graph');
  const metadata = new Map<string, string>();
  for (const p of model.metadataProps ?? []) if (p.key) metadata.set(p.key, p.value ?? '');
  const opset = (model.opsetImport ?? []).find((o) => !o.domain);
  return {
    irVersion: Number(model.irVersion ?? 0),
    opsetVersion: Number(opset?.version ?? 0),
    producerName: model.producerName ?? '',
    metadata,
  };
}
