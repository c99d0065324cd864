// Run an exported policy in your own program: read what the model expects, load it, act, time it.
//   node --import tsx examples/runtime.ts [model.onnx]
import { fileURLToPath } from 'node:url';
import { LatencyRecorder, PolicyRuntime, readModelSpec } from 'onestep';

const model = process.argv[2] ?? fileURLToPath(new URL('../models/untrained-arm_reach/policy.onnx', import.meta.url));

// The spec travels inside the .onnx file: names, sizes, normalisation, action mode, scale and limits.
const spec = await readModelSpec(model);
console.log(`${spec.algorithm} policy for ${spec.task}: ${spec.observation.size} observations → ${spec.action.size} actions (${spec.action.mode})`);
console.log(`actions: ${spec.action.names.join(', ')}`);

const policy = await PolicyRuntime.load(model, { deterministic: true });
const observation = Float32Array.from(spec.observation.mean); // your robot's state, in spec.observation.names order
const action = policy.act(observation); // synchronous; the buffer is reused by the next call: copy it to keep it
console.log(`action: [${Array.from(action, (a) => a.toFixed(3)).join(', ')}]`);

const latency = new LatencyRecorder(2000);
for (let i = 0; i < 2000; i++) {
  const t0 = performance.now();
  policy.act(observation);
  latency.record((performance.now() - t0) * 1000);
}
const s = latency.summary();
console.log(`act latency: p50 ${s.p50.toFixed(1)} µs, p99 ${s.p99.toFixed(1)} µs over ${s.count} calls`);
policy.close();
