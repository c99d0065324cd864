// `onestep train --env ros`: the training environment is a robot on ROS 2 (src/ros/train-env.ts), wired with the
// observation sources and command topic of a `onestep serve` params file (the file the trained policy will be
// served with, e.g. launch/arm_policy.yaml), and the task's observation names, action interface and goal.
import { UserError } from './errors.ts';

export interface RosEnvArgs {
  paramsFile?: string;
  transport: string;
  domainId?: number;
  bridge: string;
  rosTimeoutMs: number;
}

/** What the task says about its interface (a MujocoEnv gives it without being stepped). */
export interface TaskInterface {
  observationSpec: { names: readonly string[] };
  actionSpec: { offset: ArrayLike<number>; scale: ArrayLike<number>; low: ArrayLike<number>; high: ArrayLike<number>; names: readonly string[] };
  goal?: import('../algos/trainer.ts').GoalRelabeling;
  task: { modes?: readonly string[] };
}

/** Connects a RosEnv for `task` (it has seen the bridge's reset service when this resolves); close it with `close()`. */
export async function openRosEnv(args: RosEnvArgs, task: TaskInterface): Promise<{ env: import('../ros/train-env.ts').RosEnv<import('../algos/trainer.ts').GoalRelabeling>; close: () => Promise<void> }> {
  if (!args.paramsFile) throw new UserError('--env ros needs --params-file: the onestep serve parameters that wire the observation and the command topic (e.g. launch/arm_policy.yaml)');
  const { collectParameters } = await import('../ros/node/ros-args.ts');
  const { buildConfig } = await import('../ros/node/params.ts');
  const node = { name: 'onestep_train', namespace: '/' };
  let config: import('../ros/node/params.ts').NodeConfig;
  try {
    config = buildConfig(collectParameters({ remappings: [], nodeRemappings: [], params: [], paramsFiles: [], rest: [] }, node, [args.paramsFile]), `--params-file ${args.paramsFile}`);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  if (config.action.type !== 'std_msgs/msg/Float64MultiArray') {
    throw new UserError(`--env ros commands the robot with std_msgs/msg/Float64MultiArray (forward_command_controller); ${args.paramsFile} sets action.type ${config.action.type}`);
  }
  const jointNames = config.action.jointNames.length > 0 ? config.action.jointNames : [...task.actionSpec.names];
  if (jointNames.length !== task.actionSpec.names.length) {
    throw new UserError(`${args.paramsFile}: action.joint_names has ${jointNames.length} joints, the task commands ${task.actionSpec.names.length} (${task.actionSpec.names.join(', ')})`);
  }
  const { createTransport } = await import('../ros/index.ts');
  const { RosEnv } = await import('../ros/train-env.ts');
  const transport = await createTransport({ kind: args.transport as 'auto', node, domainId: args.domainId });
  let env;
  try {
    env = new RosEnv({
      transport,
      sources: config.sources,
      observationNames: task.observationSpec.names,
      checkNames: config.checkNames,
      commands: { topic: config.action.topic, jointNames },
      action: task.actionSpec,
      bridge: args.bridge,
      timeoutMs: args.rosTimeoutMs,
      goal: task.goal,
      hasModes: (task.task.modes?.length ?? 0) > 0,
    });
    await env.connect();
  } catch (err) {
    env?.close();
    await transport.close();
    const { ObservationLayoutError } = await import('../ros/node/observation.ts');
    const { RosEnvError } = await import('../ros/train-env.ts');
    throw err instanceof ObservationLayoutError || err instanceof RosEnvError ? new UserError(err.message) : err;
  }
  const opened = env;
  return {
    env: opened,
    close: async () => {
      opened.close();
      await transport.close();
    },
  };
}
