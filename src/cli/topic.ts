// `onestep topic`: Inspect and poke a ROS 2 graph: echo, pub, list, hz.
import type { CommandModule } from 'yargs';

const command: CommandModule = {
  command: 'topic',
  describe: 'Inspect and poke a ROS 2 graph: echo, pub, list, hz',
  handler: () => {
    throw new Error('onestep topic is not built yet');
  },
};
export default command;
