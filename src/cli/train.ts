// `onestep train`: Train a policy (SMFP or SAC) online in a MuJoCo task.
import type { CommandModule } from 'yargs';

const command: CommandModule = {
  command: 'train',
  describe: 'Train a policy (SMFP or SAC) online in a MuJoCo task',
  handler: () => {
    throw new Error('onestep train is not built yet');
  },
};
export default command;
