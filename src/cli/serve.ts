// `onestep serve`: Serve an ONNX policy as a ROS 2 node: observations in, actions out.
import type { CommandModule } from 'yargs';

const command: CommandModule = {
  command: 'serve',
  describe: 'Serve an ONNX policy as a ROS 2 node: observations in, actions out',
  handler: () => {
    throw new Error('onestep serve is not built yet');
  },
};
export default command;
