// Test fixture for the policy node tests: a small real ONNX policy for a 7-DoF arm with onestep.spec metadata,
// action = offset + scale ⊙ tanh(obs·W + b + 0.1·e). Built with onnx-proto and run by the real ONNX Runtime,
// so the tests exercise exactly what `onestep serve` loads. Also a reference forward pass for comparisons.
import { writeFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { SPEC_METADATA_KEY, serializePolicySpec, type PolicySpec } from '../src/format/spec.ts';

const { onnx } = onnxProto;

export const ARM_JOINTS = ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7'];
/** Observation: joint positions, joint velocities, target point. */
export const ARM_OBSERVATION_NAMES = [
  ...ARM_JOINTS.map((j) => `${j}_position`),
  ...ARM_JOINTS.map((j) => `${j}_velocity`),
  'target_x', 'target_y', 'target_z',
];

export interface FixtureOptions {
  seed?: number;
  mode?: 'absolute' | 'relative' | 'delta';
  /** Multiplies the weights (a larger gain gives actions near the limits). */
  gain?: number;
  /** Produce NaN actions (for the non-finite action test): the bias is NaN. */
  nanAction?: boolean;
  observationNames?: string[];
  checkpointId?: string;
}

export interface Fixture {
  spec: PolicySpec;
  weights: Float32Array;
  bias: Float32Array;
  /** Deterministic (zero-noise) reference forward pass in float32 arithmetic order close to ORT's. */
  reference(obs: ArrayLike<number>): Float64Array;
}

export function armPolicySpec(o: FixtureOptions = {}): PolicySpec {
  const names = o.observationNames ?? ARM_OBSERVATION_NAMES;
  const n = ARM_JOINTS.length;
  return {
    formatVersion: 1,
    algorithm: 'meanflowql',
    kind: 'meanflow',
    task: 'arm_reach',
    trainingSteps: 0,
    checkpointId: o.checkpointId ?? 'fixture-0001',
    description: 'UNTRAINED test fixture',
    observation: { names, size: names.length, mean: names.map(() => 0), std: names.map(() => 1) },
    action: {
      names: ARM_JOINTS, size: n, scale: ARM_JOINTS.map(() => 1.5), offset: ARM_JOINTS.map((_, i) => 0.05 * i),
      low: ARM_JOINTS.map(() => -1.5), high: ARM_JOINTS.map(() => 1.6), mode: o.mode ?? 'absolute', squash: 'tanh',
    },
    noise: { size: n, parts: [{ name: 'e', size: n }] },
  };
}

export function writeArmPolicy(path: string, o: FixtureOptions = {}): Fixture {
  const spec = armPolicySpec(o);
  const nObs = spec.observation.size;
  const nAct = spec.action.size;
  let s = (o.seed ?? 1) >>> 0;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const gain = o.gain ?? 1;
  const weights = Float32Array.from({ length: nObs * nAct }, () => rand() * gain);
  const bias = Float32Array.from({ length: nAct }, () => (o.nanAction ? NaN : rand() * 0.2));
  const scale = Float32Array.from(spec.action.scale);
  const offset = Float32Array.from(spec.action.offset);
  const tensor = (name: string, dims: number[], data: Float32Array) =>
    onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer.slice(0)) });
  const io = (name: string, width: number) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] } } },
    });
  const node = (op: string, inputs: string[], output: string) => onnx.NodeProto.create({ opType: op, input: inputs, output: [output], name: output });
  const graph = onnx.GraphProto.create({
    name: 'arm_fixture',
    input: [io('obs', nObs), io('noise', nAct)],
    output: [io('action', nAct)],
    initializer: [
      tensor('W', [nObs, nAct], weights), tensor('b', [nAct], bias), tensor('scale', [nAct], scale), tensor('offset', [nAct], offset),
      tensor('sigma', [1], Float32Array.of(0.1)),
    ],
    node: [
      node('MatMul', ['obs', 'W'], 'h0'), node('Add', ['h0', 'b'], 'h1'), node('Mul', ['noise', 'sigma'], 'n0'), node('Add', ['h1', 'n0'], 'h2'),
      node('Tanh', ['h2'], 'h3'), node('Mul', ['h3', 'scale'], 'h4'), node('Add', ['h4', 'offset'], 'action'),
    ],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'onestep-test-fixture',
    graph,
    metadataProps: [{ key: SPEC_METADATA_KEY, value: serializePolicySpec(spec) }],
  });
  writeFileSync(path, onnx.ModelProto.encode(model).finish());
  return {
    spec, weights, bias,
    reference(obs) {
      const out = new Float64Array(nAct);
      for (let j = 0; j < nAct; j++) {
        let h = 0;
        for (let i = 0; i < nObs; i++) h += Math.fround(obs[i]) * weights[i * nAct + j];
        out[j] = offset[j] + scale[j] * Math.tanh(h + bias[j]);
      }
      return out;
    },
  };
}
