// `onestep bench`: Time single-observation policy latency (PolicyRuntime.act vs raw session.run vs an identity floor).
import type { CommandModule } from 'yargs';

const command: CommandModule = {
  command: 'bench',
  describe: 'Time single-observation policy latency (PolicyRuntime.act vs raw session.run vs an identity floor)',
  handler: () => {
    throw new Error('onestep bench is not built yet');
  },
};
export default command;
