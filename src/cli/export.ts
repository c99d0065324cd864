// `onestep export`: Export a training checkpoint to an ONNX policy with its metadata spec.
import type { CommandModule } from 'yargs';

const command: CommandModule = {
  command: 'export',
  describe: 'Export a training checkpoint to an ONNX policy with its metadata spec',
  handler: () => {
    throw new Error('onestep export is not built yet');
  },
};
export default command;
