// The registered tasks, by name.
import { UnknownTaskError } from '../errors.ts';
import type { TaskSpec } from '../task.ts';
import { armPush } from './arm-push.ts';
import { armReach } from './arm-reach.ts';
import { cheetah } from './cheetah.ts';
import { pendulum } from './pendulum.ts';
import { reacher } from './reacher.ts';
import { twoWay } from './two-way.ts';

/** Every task onestep ships, by name. */
export const TASKS: Readonly<Record<string, TaskSpec>> = {
  pendulum,
  reacher,
  arm_reach: armReach,
  arm_push: armPush,
  cheetah,
  two_way: twoWay,
};

/** The task names, in registry order. */
export const TASK_NAMES: readonly string[] = Object.keys(TASKS);

/** The task called `name`; throws UnknownTaskError listing the known ones. */
export function getTask(name: string): TaskSpec {
  const task = Object.hasOwn(TASKS, name) ? TASKS[name] : undefined;
  if (!task) throw new UnknownTaskError(name, TASK_NAMES);
  return task;
}
