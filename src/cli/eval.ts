// `onestep eval`: Evaluate an exported ONNX policy in a MuJoCo task.
import type { CommandModule } from 'yargs';

const command: CommandModule = {
  command: 'eval',
  describe: 'Evaluate an exported ONNX policy in a MuJoCo task',
  handler: () => {
    throw new Error('onestep eval is not built yet');
  },
};
export default command;
