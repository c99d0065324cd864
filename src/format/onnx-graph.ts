// A small ONNX graph builder over onnx-proto (protobufjs): float32 initializers, nodes with attributes, and an
// MLP emitter over plain (TF-free) layer weights. The policy exporter and the bench's reference models share it.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

/** A layer with its weights as plain arrays: what the exporter emits. Mirrors src/nn/layers.ts. */
export type PlainLayer =
  | { readonly kind: 'dense'; readonly name: string; readonly inSize: number; readonly outSize: number; readonly kernel: ArrayLike<number>; readonly bias: ArrayLike<number> }
  | { readonly kind: 'layernorm'; readonly name: string; readonly gamma: ArrayLike<number>; readonly beta: ArrayLike<number>; readonly epsilon: number }
  | { readonly kind: 'activation'; readonly name: string; readonly fn: 'relu' | 'silu' | 'gelu_tanh' | 'mish' | 'tanh' };

type AttributeValue = number | string | readonly number[] | { float: number };

export interface GraphValue {
  readonly name: string;
  /** Width of the second axis; the first axis is the symbolic batch `N`. */
  readonly width: number;
}

export class OnnxGraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  private unique(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** Reserves a graph input's name so no node output takes it. */
  input(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph: name ${name} already used`);
    this.names.add(name);
    return name;
  }

  /** A float32 initializer (a constant weight tensor). */
  constant(name: string, values: ArrayLike<number>, dims: readonly number[]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (values.length !== count) throw new Error(`ONNX constant ${name}: ${values.length} values for shape [${dims.join(', ')}]`);
    const data = Float32Array.from(values);
    const unique = this.unique(name);
    this.initializers.push(
      onnx.TensorProto.create({ name: unique, dataType: onnx.TensorProto.DataType.FLOAT, dims: [...dims], rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }),
    );
    return unique;
  }

  /** An int64 initializer (Slice starts/ends/axes). */
  int64(name: string, values: readonly number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const unique = this.unique(name);
    this.initializers.push(
      onnx.TensorProto.create({ name: unique, dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], rawData: new Uint8Array(data.buffer) }),
    );
    return unique;
  }

  /** Adds a node; returns its (single) output name. Integers become INT attributes; use {float} for FLOAT. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, output = opType.toLowerCase()): string {
    const out = this.unique(output);
    const attribute = Object.entries(attributes).map(([name, v]) => {
      if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) });
      if (typeof v === 'number') return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
      if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...v] });
      return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: (v as { float: number }).float });
    });
    this.nodes.push(onnx.NodeProto.create({ opType, input: [...inputs], output: [out], name: out, attribute }));
    return out;
  }

  /** Emits `layers` on `x`; returns the output name. Dense → Gemm, LayerNorm → LayerNormalization (opset 17). */
  layers(layers: readonly PlainLayer[], x: string, prefix = ''): string {
    let h = x;
    for (const layer of layers) {
      const name = `${prefix}${layer.name}`;
      switch (layer.kind) {
        case 'dense':
          h = this.dense(h, layer, name);
          break;
        case 'layernorm': {
          const gamma = this.constant(`${name}/gamma`, layer.gamma, [layer.gamma.length]);
          const beta = this.constant(`${name}/beta`, layer.beta, [layer.beta.length]);
          h = this.op('LayerNormalization', [h, gamma, beta], { axis: -1, epsilon: { float: layer.epsilon } }, name);
          break;
        }
        case 'activation':
          h = this.activation(layer.fn, h, name);
          break;
      }
    }
    return h;
  }

  dense(x: string, layer: Extract<PlainLayer, { kind: 'dense' }>, name = layer.name): string {
    const w = this.constant(`${name}/kernel`, layer.kernel, [layer.inSize, layer.outSize]);
    const b = this.constant(`${name}/bias`, layer.bias, [layer.outSize]);
    return this.op('Gemm', [x, w, b], {}, name);
  }

  activation(fn: Extract<PlainLayer, { kind: 'activation' }>['fn'], x: string, name: string): string {
    switch (fn) {
      case 'relu':
        return this.op('Relu', [x], {}, name);
      case 'tanh':
        return this.op('Tanh', [x], {}, name);
      case 'silu':
        return this.op('Mul', [x, this.op('Sigmoid', [x], {}, `${name}/sigmoid`)], {}, name);
      case 'mish':
        return this.op('Mul', [x, this.op('Tanh', [this.op('Softplus', [x], {}, `${name}/softplus`)], {}, `${name}/tanh`)], {}, name);
      case 'gelu_tanh': {
        // 0.5·x·(1 + tanh(k·(x + c·x³))), the opset-17 spelling of Gelu(approximate='tanh'), written in the
        // exact node pattern (Pow(x, 3) → Mul c → Add x → Mul k → Tanh → Add 1 → Mul by 0.5·x) that ORT's
        // FastGeluFusion turns into one FastGelu kernel.
        const x3 = this.op('Pow', [x, this.scalar(`${name}/three`, 3)], {}, `${name}/x3`);
        const inner = this.op('Add', [x, this.op('Mul', [x3, this.scalar(`${name}/c`, 0.044715)], {}, `${name}/cx3`)], {}, `${name}/inner`);
        const t = this.op('Tanh', [this.op('Mul', [inner, this.scalar(`${name}/k`, Math.sqrt(2 / Math.PI))], {}, `${name}/kinner`)], {}, `${name}/tanh`);
        const half = this.op('Mul', [x, this.scalar(`${name}/half`, 0.5)], {}, `${name}/halfx`);
        return this.op('Mul', [half, this.op('Add', [t, this.scalar(`${name}/one`, 1)], {}, `${name}/onept`)], {}, name);
      }
    }
  }

  scalar(name: string, value: number): string {
    return this.constant(name, [value], []);
  }

  /** Serialises the model: float32 inputs/outputs of shape [N, width], metadata_props as given. */
  build(opts: { inputs: readonly GraphValue[]; outputs: readonly GraphValue[]; metadata?: Record<string, string>; docString?: string; graphName?: string }): Uint8Array {
    const valueInfo = (v: GraphValue) =>
      onnx.ValueInfoProto.create({
        name: v.name,
        type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: v.width }] } } },
      });
    const graph = onnx.GraphProto.create({
      name: opts.graphName ?? 'onestep',
      node: this.nodes,
      initializer: this.initializers,
      input: opts.inputs.map(valueInfo),
      output: opts.outputs.map(valueInfo),
    });
    const model = onnx.ModelProto.create({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'onestep',
      docString: opts.docString ?? '',
      graph,
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => onnx.StringStringEntryProto.create({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
