// `onestep doctor`: Show which TF.js backend and BLAS are in use, and why.
import type { CommandModule } from 'yargs';

const command: CommandModule = {
  command: 'doctor',
  describe: 'Show which TF.js backend and BLAS are in use, and why',
  handler: () => {
    throw new Error('onestep doctor is not built yet');
  },
};
export default command;
