// Which arm_reach model the closed-loop tests serve: $ONESTEP_ARM_MODEL, else the shipped trained model when it
// has the current task's observation layout, else the untrained model of that layout (plumbing only).
import { readFileSync } from 'node:fs';
import { readOnnxModelInfo } from '../../src/format/onnx-metadata.ts';
import { SPEC_METADATA_KEY } from '../../src/format/spec.ts';
import { REACH_OBSERVATION_NAMES } from '../../src/sim/tasks/arm-reach.ts';

export function armReachModel(): string {
  if (process.env.ONESTEP_ARM_MODEL) return process.env.ONESTEP_ARM_MODEL;
  const trained = 'models/arm_reach/policy.onnx';
  try {
    const spec = JSON.parse(readOnnxModelInfo(readFileSync(trained)).metadata.get(SPEC_METADATA_KEY) ?? '{}');
    if (JSON.stringify(spec.observation?.names) === JSON.stringify(REACH_OBSERVATION_NAMES)) return trained;
  } catch {
    // not there or unreadable
  }
  return 'models/untrained-arm_reach/policy.onnx';
}
