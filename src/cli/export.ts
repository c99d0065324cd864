// `onestep export`: Export a training checkpoint to an ONNX policy with its metadata spec.
import type { Argv, CommandModule } from 'yargs';

interface ExportArgs {
  checkpoint: string;
  out: string;
  description?: string;
}

const command: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe: 'Export a training checkpoint to an ONNX policy with its metadata spec',
  builder: (y: Argv) =>
    y
      .option('checkpoint', { type: 'string', description: 'Checkpoint directory (holds checkpoint.json)', demandOption: true })
      .option('out', { type: 'string', description: 'ONNX file to write', default: 'policy.onnx' })
      .option('description', { type: 'string', description: 'Text stored in the spec for humans', defaultDescription: "the checkpoint's" })
      .example('$0 export --checkpoint runs/arm_reach-smfp-s0/checkpoints/best --out arm_reach.onnx', 'the best checkpoint of an onestep train run (its default run folder)') as unknown as Argv<ExportArgs>,
  handler: async (args) => {
    const { writeFile, rename } = await import('node:fs/promises');
    const { useCpuBackend } = await import('../export/tf-cpu.ts');
    await useCpuBackend();
    const { loadCheckpoint } = await import('../nn/checkpoint.ts');
    const { exportCheckpointOnnx } = await import('../export/onnx.ts');
    const checkpoint = await loadCheckpoint(args.checkpoint);
    const { bytes, spec } = exportCheckpointOnnx(checkpoint, args.description);
    const tmp = `${args.out}.tmp-${process.pid}`;
    await writeFile(tmp, bytes);
    await rename(tmp, args.out);
    process.stdout.write(
      `wrote ${args.out} (${(bytes.byteLength / 1024).toFixed(1)} KiB): ${spec.algorithm} ${spec.kind} policy for ${spec.task}, ` +
        `obs ${spec.observation.size} → action ${spec.action.size}, noise ${spec.noise.size}, ${spec.trainingSteps} training steps${spec.trainingSteps === 0 ? ' (UNTRAINED)' : ''}, checkpoint ${spec.checkpointId}\n`,
    );
  },
};
export default command;
