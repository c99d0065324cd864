// `onestep sim`: Run a policy closed-loop in a MuJoCo task and report return, success and steps/s.
import type { CommandModule } from 'yargs';

const command: CommandModule = {
  command: 'sim',
  describe: 'Run a policy closed-loop in a MuJoCo task and report return, success and steps/s',
  handler: () => {
    throw new Error('onestep sim is not built yet');
  },
};
export default command;
