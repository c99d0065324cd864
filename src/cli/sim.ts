// `onestep sim`: run a policy (random, zero, scripted or an exported model.onnx) closed-loop in a MuJoCo task
// or in any user MJCF, and report return, success rate, modes and steps/s. The closed loop is src/sim/evaluate.ts;
// `onestep eval` shares it and the ONNX adapter below.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { MujocoEnv } from '../sim/env.ts';
import type { EvaluationResult } from '../sim/evaluate.ts';
import type { Policy } from '../sim/task.ts';

/** A loaded ONNX policy adapted to the environment's [-1, 1] action space. */
export interface OnnxPolicy {
  policy: Policy;
  /** Task the model was trained on (its spec), for the report. */
  task: string;
  trainingSteps: number;
  close(): void;
}

/**
 * Load an exported policy for `env`: its spec's observation and action sizes must match the task's, and its
 * physical actions (the actuators' units) are mapped back to the environment's normalised [-1, 1] range.
 */
export async function loadOnnxPolicy(path: string, env: MujocoEnv, opts: { seed: number; deterministic: boolean }): Promise<OnnxPolicy> {
  const { PolicyRuntime } = await import('../runtime/policy-runtime.ts');
  const runtime = await PolicyRuntime.load(path, opts);
  const { spec } = runtime;
  if (runtime.observationSize !== env.observationSize || runtime.actionSize !== env.actionSize) {
    runtime.close();
    throw new Error(
      `model ${path} (trained on ${spec.task}) takes observation size ${runtime.observationSize} and gives action size ${runtime.actionSize}, ` +
        `but task ${env.task.name} has observation size ${env.observationSize} and action size ${env.actionSize}`,
    );
  }
  // The model's physical action must mean the same command to this simulator: same mode, offset (home) and scale.
  const { mode, scale, offset } = env.actionSpec;
  const mismatch = spec.action.mode !== mode
    ? `'${spec.action.mode}' actions, the task takes '${mode}' ones`
    : spec.action.offset.some((v, i) => Math.abs(v - offset[i]) > 1e-6) || spec.action.scale.some((v, i) => Math.abs(v - scale[i]) > 1e-6)
      ? `action offset/scale [${spec.action.offset.join(', ')}]/[${spec.action.scale.join(', ')}], the task uses [${offset.join(', ')}]/[${scale.join(', ')}]`
      : null;
  if (mismatch) {
    runtime.close();
    throw new Error(`model ${path} (trained on ${spec.task}) gives ${mismatch}; re-train or re-export it for this task version`);
  }
  // double precision: the environment then applies exactly the physical command the model gave (ctrl = offset +
  // scale · a), as a robot driver applying the same command does (onestep sim-bridge)
  const action = new Float64Array(env.actionSize);
  return {
    policy: (obs) => {
      const physical = runtime.act(obs);
      for (let i = 0; i < action.length; i++) action[i] = (physical[i] - offset[i]) / scale[i];
      return action;
    },
    task: spec.task,
    trainingSteps: spec.trainingSteps,
    close: () => runtime.close(),
  };
}

/** The human-readable report shared by sim and eval. */
function printEvaluation(env: MujocoEnv, policyName: string, r: EvaluationResult, seed: number): void {
  const t = env.task;
  const lines = [
    `task ${t.name}: observation ${env.observationSize}, action ${env.actionSize}, ${t.maxSteps} steps × ${t.frameSkip} physics steps`,
    r.episodes.length === 1 ? `policy ${policyName}: 1 episode, seed ${seed}` : `policy ${policyName}: ${r.episodes.length} episodes, seeds ${seed}..${seed + r.episodes.length - 1}`,
    `return ${r.meanReturn.toFixed(2)} ± ${r.stdReturn.toFixed(2)} (mean ± std; min ${Math.min(...r.episodes.map((e) => e.return)).toFixed(2)}, max ${Math.max(...r.episodes.map((e) => e.return)).toFixed(2)})`,
  ];
  if (r.successRate !== null) lines.push(`success ${(100 * r.successRate).toFixed(1)}% (${t.successMeaning})`);
  if (r.modeCounts) lines.push(`modes ${Object.entries(r.modeCounts).map(([m, n]) => `${m} ${n}`).join(', ')}`);
  lines.push(`steps/s ${Math.round(r.stepsPerSecond)} (${r.steps} environment steps in ${r.seconds.toFixed(2)} s, policy included; ${Math.round(r.stepsPerSecond * t.frameSkip)} physics steps/s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The machine-readable report (--json). */
function evaluationJson(env: MujocoEnv, policyName: string, r: EvaluationResult, seed: number): string {
  return JSON.stringify({
    task: env.task.name,
    policy: policyName,
    seed,
    episodes: r.episodes.length,
    meanReturn: r.meanReturn,
    stdReturn: r.stdReturn,
    successRate: r.successRate,
    modeCounts: r.modeCounts,
    steps: r.steps,
    stepsPerSecond: r.stepsPerSecond,
    returns: r.episodes.map((e) => e.return),
    successes: r.episodes.map((e) => e.success),
    modes: r.episodes.map((e) => e.mode ?? null),
  });
}

/** Prints the report of a run: text for a person, or one JSON object with --json (where the policy is named plainly). */
export function printReport(env: MujocoEnv, r: EvaluationResult, seed: number, opts: { json: boolean; policyName: string; title?: string }): void {
  if (opts.json) process.stdout.write(`${evaluationJson(env, opts.policyName, r, seed)}\n`);
  else printEvaluation(env, opts.title ?? opts.policyName, r, seed);
}

/** The flags sim and eval share: how many episodes from which seed, the ONNX policy's noise, and the report format. */
export interface EvaluationArgs {
  episodes: number;
  seed: number;
  deterministic: boolean;
  json: boolean;
}

export const evaluationOptions = (yargs: Argv) =>
  yargs
    .option('episodes', { type: 'number', default: 10, describe: 'episodes to run (episode k is reset with seed + k)' })
    .option('seed', { type: 'number', default: 0, describe: 'seed of the first episode and of the policy noise (random and ONNX policies)' })
    .option('deterministic', { type: 'boolean', default: false, describe: 'ONNX policies: feed zero noise (the mode action)' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON object instead of text' });

/** --episodes and --seed, checked. */
export function evaluationRange(argv: EvaluationArgs): { episodes: number; seed: number } {
  return { episodes: positiveInteger('episodes', argv.episodes), seed: finiteInteger('seed', argv.seed) };
}

/** Integer option check with a message naming the flag. */
export function positiveInteger(flag: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be an integer >= 1 (got ${value})`);
  return value;
}

export function finiteInteger(flag: string, value: number): number {
  if (!Number.isInteger(value)) throw new Error(`--${flag} must be an integer (got ${value})`);
  return value;
}

interface SimArgs extends EvaluationArgs {
  task: string;
  policy: string;
  mjcf?: string;
  frameSkip?: number;
  maxSteps?: number;
}

const command: CommandModule<object, SimArgs> = {
  command: 'sim',
  describe: 'Run a policy closed-loop in a MuJoCo task and report return, success and steps/s',
  builder: (yargs: Argv) =>
    evaluationOptions(
      yargs
        .option('task', { type: 'string', default: 'pendulum', describe: 'task: pendulum, reacher, arm_reach, arm_push, cheetah, two_way (ignored with --mjcf)' })
        .option('policy', { type: 'string', default: 'random', describe: 'random | zero | scripted | path to an exported model.onnx' }),
    )
      .option('mjcf', { type: 'string', describe: 'run your own MJCF file instead of a task: observation (qpos, qvel), one action per actuator', defaultDescription: 'none' })
      .option('frame-skip', { type: 'number', describe: 'physics steps per environment step, with --mjcf', defaultDescription: '1' })
      .option('max-steps', { type: 'number', describe: 'environment steps per episode, with --mjcf', defaultDescription: '1000' }) as unknown as Argv<SimArgs>,
  handler: async (argv: ArgumentsCamelCase<SimArgs>) => {
    const { episodes, seed } = evaluationRange(argv);
    const name = argv.policy;
    if (!['random', 'zero', 'scripted'].includes(name) && !name.endsWith('.onnx')) {
      throw new Error(`--policy must be random, zero, scripted or a path ending in .onnx (got '${name}')`);
    }
    const { MujocoEnv } = await import('../sim/env.ts');
    const { evaluate, randomPolicy, scriptedPolicy, zeroPolicy } = await import('../sim/evaluate.ts');
    let env: MujocoEnv;
    if (argv.mjcf !== undefined) {
      env = await MujocoEnv.fromMjcf(argv.mjcf, {
        frameSkip: argv.frameSkip === undefined ? undefined : positiveInteger('frame-skip', argv.frameSkip),
        maxSteps: argv.maxSteps === undefined ? undefined : positiveInteger('max-steps', argv.maxSteps),
      });
    } else {
      if (argv.frameSkip !== undefined || argv.maxSteps !== undefined) throw new Error('--frame-skip and --max-steps apply to --mjcf models only; tasks fix their own');
      env = await MujocoEnv.make(argv.task);
    }
    let onnx: OnnxPolicy | undefined;
    try {
      let policy: Policy;
      if (name === 'random') policy = randomPolicy(env.actionSize, seed);
      else if (name === 'zero') policy = zeroPolicy(env.actionSize);
      else if (name === 'scripted') {
        if (!env.task.scripted) throw new Error(`${env.task.name} has no scripted controller; use --policy random, zero or a model.onnx`);
        policy = scriptedPolicy(env);
      } else {
        onnx = await loadOnnxPolicy(name, env, { seed, deterministic: argv.deterministic });
        policy = onnx.policy;
      }
      printReport(env, evaluate(env, policy, { episodes, seed }), seed, { json: argv.json, policyName: name });
    } finally {
      onnx?.close();
      env.close();
    }
  },
};
export default command;
