// The UNTRAINED policy shipped in models/ so `onestep bench`, `onestep serve` and the tests run on a fresh clone.
// It goes through the real chain (create → saveCheckpoint → loadCheckpoint → export) with a fixed seed, so the
// bytes are reproducible: `node --import tsx src/export/untrained.ts [outDir]` regenerates
// models/untrained-arm_reach/policy.onnx exactly.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadCheckpoint, saveCheckpoint } from '../nn/checkpoint.ts';
import { createPolicy, disposePolicy, policyConfig } from '../nn/policy.ts';
import { exportCheckpointOnnx } from './onnx.ts';
import type { PolicySpec } from '../format/spec.ts';
import { useCpuBackend } from './tf-cpu.ts';

export const UNTRAINED_MODEL_DIR = 'models/untrained-arm_reach';

// arm_reach's interface (src/sim/tasks/arm-reach.ts and arm.ts; export may not import sim, so it is restated
// here and test/export-roundtrip.test.ts checks it against the task): 31 observations (joint positions and
// velocities, tool tip, target, tip-to-target vector and distance, the last joint command) → 7 joint-position
// targets relative to the home pose, ctrl = home + scale ⊙ a, limited to the servos' ctrlrange (sim/arm7.xml).
const JOINTS = ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7'];
export const UNTRAINED_OBSERVATION_NAMES = [
  ...JOINTS.map((j) => `${j}_position`),
  ...JOINTS.map((j) => `${j}_velocity`),
  'ee_x', 'ee_y', 'ee_z',
  'target_x', 'target_y', 'target_z',
  'ee_to_target_x', 'ee_to_target_y', 'ee_to_target_z', 'ee_to_target_distance',
  ...JOINTS.map((j) => `${j}_command`),
];
const HOME = [0, 0.3, 0, 1.6, 0, 1.0, 0];
const SCALE = [0.6, 1.0, 0.6, 0.6, 0.4, 0.6, 0.15];
const JOINT_RANGE = [2.96, 2.09, 2.96, 2.09, 2.96, 2.09, 3.05];

/**
 * Builds the untrained SMFP arm_reach policy and exports it: a 2×256 ReLU + LayerNorm MeanFlow map with a tanh-bounded
 * log-σ head, the shape the latency benchmarks are quoted for (larger than the trained arm policies, 2×128 without
 * LayerNorm, so its latency bounds theirs).
 */
export async function buildUntrainedArmReach(): Promise<{ bytes: Uint8Array; spec: PolicySpec }> {
  await useCpuBackend();
  const config = policyConfig({
    kind: 'meanflow',
    observationSize: UNTRAINED_OBSERVATION_NAMES.length,
    actionSize: JOINTS.length,
    hiddenSizes: [256, 256],
    activation: 'relu',
    layerNorm: true,
    timeFeatures: { kind: 'sinusoidal', count: 8, maxPeriod: 100 },
    logStdHead: { min: -5, max: 2, bound: 'tanh' },
    squash: 'tanh',
  });
  const policy = createPolicy(config, 0);
  const dir = await mkdtemp(join(tmpdir(), 'onestep-untrained-'));
  try {
    await saveCheckpoint(dir, {
      policy,
      info: {
        algorithm: 'smfp',
        task: 'arm_reach',
        description: 'UNTRAINED: randomly initialised SMFP policy (zero MeanFlow head, random σ head), for plumbing and latency only; its actions are noise',
        observationNames: UNTRAINED_OBSERVATION_NAMES,
        actionNames: JOINTS,
        actionScale: SCALE,
        actionOffset: HOME,
        actionLow: JOINT_RANGE.map((r) => -r),
        actionHigh: JOINT_RANGE,
        actionMode: 'relative',
      },
      counters: { trainingSteps: 0 },
    });
    const checkpoint = await loadCheckpoint(dir);
    try {
      return exportCheckpointOnnx(checkpoint);
    } finally {
      disposePolicy(checkpoint.policy);
    }
  } finally {
    disposePolicy(policy);
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv[2] ?? UNTRAINED_MODEL_DIR;
  const { bytes, spec } = await buildUntrainedArmReach();
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'policy.onnx'), bytes);
  process.stdout.write(`wrote ${join(out, 'policy.onnx')} (${bytes.byteLength} bytes, checkpoint ${spec.checkpointId})\n`);
}
