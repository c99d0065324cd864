// `onestep train`: train a policy online in a MuJoCo task (SMFP, SAC), or offline on a dataset and then online
// (MeanFlowQL; BC baselines offline), or fine-tune SMFP or SAC from an offline checkpoint (--init). Writes, under --out:
// config.json, metrics.jsonl/.csv (one row per training episode; offline, one per 1000 updates), eval.jsonl/.csv,
// learning-curve.svg, checkpoints/last (everything needed to --resume exactly) and checkpoints/best, and the
// exported policy.onnx (final) and policy-best.onnx. Ctrl-C checkpoints before it exits. With --env ros the
// episodes run on a robot over ROS 2 (onestep sim-bridge, or an arm speaking its topics; ./train-ros.ts).
// The run's configuration (flags, config.json, --resume, --init's hyper-parameters) is settled in ./train-config.ts;
// this file opens the session, runs the loop and exports.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UserError } from './errors.ts';
import { ProgressDisplay, formatDuration, progressOption } from './progress.ts';
import {
  ALGOS, type Algo, DEFAULT_OFFLINE_STEPS, type RunInputs, type TrainArgs, type TrainConfig,
  checkFlagCombinations, extendResumedRun, newRunConfig, resolveRun, resumedConfig,
} from './train-config.ts';

const command: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train a policy online in a MuJoCo task (SMFP, SAC), offline on a dataset then online (MeanFlowQL, BC baselines), or fine-tune SMFP or SAC from an offline checkpoint',
  builder: (yargs: Argv) =>
    yargs
      .option('algo', {
        type: 'string',
        choices: ALGOS,
        default: 'smfp',
        describe: 'algorithm: smfp (stochastic MeanFlow, one step), sac (tanh-Gaussian), meanflowql (offline RL, then online; needs --dataset), bc (MeanFlow map, MFI loss only) or gaussian-bc (tanh-Gaussian likelihood) — the BC baselines need --dataset',
      })
      .option('task', { type: 'string', describe: 'MuJoCo task (see onestep sim --help)', defaultDescription: 'the task the dataset records' })
      .option('steps', { type: 'number', describe: 'environment steps to train for (online)', defaultDescription: 'task preset (docs/training.md); 0 after an offline phase' })
      .option('dataset', { type: 'string', describe: 'offline dataset (.npz or Minari folder, e.g. from onestep collect): trained on first, then kept in the online replay' })
      .option('offline-steps', { type: 'number', describe: 'gradient updates on the dataset before any environment step (meanflowql, bc, gaussian-bc)', defaultDescription: String(DEFAULT_OFFLINE_STEPS) })
      .option('online-steps', { type: 'number', describe: 'environment steps of online fine-tuning after the offline phase (same as --steps)', defaultDescription: '0' })
      .option('sampling', { type: 'string', choices: ['mixed', 'balanced'], default: 'mixed', describe: 'online batches with a dataset: mixed (dataset and online data in one buffer, MeanFlowQL/FQL) or balanced (half each, RLPD)' })
      .option('init', { type: 'string', describe: 'start from an offline checkpoint folder; needs --dataset. smfp: from meanflowql or bc (the MeanFlow map carries over, the σ head starts small); sac: from gaussian-bc (the tanh-Gaussian actor carries over, critics start fresh; --set bcWeight=W keeps a BC term in the actor loss)' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of networks, exploration, replay sampling and episodes' })
      .option('out', { type: 'string', describe: 'run folder', defaultDescription: 'runs/<task>-<algo>-s<seed>' })
      .option('resume', { type: 'boolean', default: false, describe: 'continue from <out>/checkpoints/last with the saved config (same result as an uninterrupted run)' })
      .option('config', { type: 'string', describe: 'YAML or JSON file of hyper-parameter overrides (name: value)' })
      .option('set', { type: 'string', array: true, default: [], describe: 'hyper-parameter override name=value (repeatable), e.g. --set mdParticles=32; with --resume it applies from the checkpoint on (recorded in config.json)' })
      .option('warmup', { type: 'number', describe: 'uniform random actions before learning starts (their statistics normalise observations)', defaultDescription: 'task preset' })
      .option('batch', { type: 'number', describe: 'minibatch size', defaultDescription: 'task preset (256)' })
      .option('utd', { type: 'number', describe: 'gradient updates per environment step (update-to-data ratio)', defaultDescription: 'task preset (1)' })
      .option('her', { type: 'number', describe: 'HER: relabelled copies of each transition with goals achieved later in its episode (goal-conditioned tasks; 0 = off)', defaultDescription: 'task preset (arm_reach 4)' })
      .option('eval-every', { type: 'number', describe: 'environment steps between evaluations', defaultDescription: 'task preset' })
      .option('eval-episodes', { type: 'number', describe: 'episodes per evaluation (fixed seeds)', defaultDescription: 'task preset' })
      .option('checkpoint-every', { type: 'number', default: 5000, describe: 'environment steps between checkpoints (taken at the next episode end)' })
      .option('hidden', { type: 'string', describe: 'hidden layer widths of actor and critics', defaultDescription: 'task preset (256,256)' })
      .option('backend', { type: 'string', default: 'auto', describe: 'TF.js backend: auto, cpu-blas, wasm, cpu, tfjs-node, tfjs-node-gpu' })
      .option('progress', progressOption)
      .option('env', { type: 'string', choices: ['sim', 'ros'], default: 'sim', describe: 'where episodes run: sim (MuJoCo in this process) or ros (a robot on ROS 2 — onestep sim-bridge --clock lockstep --episode-end hold, or a real arm speaking its topics; docs/sim-in-the-loop.md)' })
      .option('params-file', { type: 'string', describe: '--env ros: the onestep serve parameters wiring the observation sources and the command topic (e.g. launch/arm_policy.yaml)' })
      .option('transport', { type: 'string', choices: ['auto', 'rtps', 'rclnodejs', 'inproc'], default: 'auto', describe: '--env ros: ROS 2 transport (auto = rclnodejs on a sourced ROS 2, else the embedded rtps)' })
      .option('domain-id', { type: 'number', describe: '--env ros: ROS domain id', defaultDescription: '$ROS_DOMAIN_ID or 0' })
      .option('bridge', { type: 'string', default: '/sim_bridge', describe: '--env ros: the robot node whose ~/status (EpisodeStatus) and ~/reset_episode (ResetEpisode) it uses' })
      .option('ros-timeout-ms', { type: 'number', default: 10_000, describe: '--env ros: how long to wait for the robot to answer a reset or a step' })
      .example('$0 train --algo smfp --task arm_reach --steps 20000 --env ros --params-file launch/arm_policy.yaml', 'train against `onestep sim-bridge --task arm_reach --clock lockstep --episode-end hold --lockstep-timeout-ms 600000` on the ROS 2 graph') as unknown as Argv<TrainArgs>,
  handler: async (argv: ArgumentsCamelCase<TrainArgs>) => {
    const algo = argv.algo as Algo;
    checkFlagCombinations(argv, algo);
    const run = await resolveRun(argv, algo);
    const config = argv.resume ? await resumedConfig(argv, run) : await newRunConfig(argv, run);
    const session = await openSession(argv, run, config);
    extendResumedRun(argv, run, config);
    const { Trainer } = await import('../algos/trainer.ts');
    const trainer = new Trainer(session.agent, session.env, session.evalEnv, config.loop, run.out, session.policyInfo, argv.resume, run.dataset);
    await trainer.init();
    // After init: the checkpoint's observation statistics, not the new dataset's, go with its network.
    if (config.init && !argv.resume) await startFromOfflineCheckpoint(session.agent, config.init);
    const title = `${config.algo} on ${config.task}, seed ${config.seed}`;
    process.stderr.write(`onestep train: ${title}; backend ${session.backend.backend}${session.backend.blas ? ` (${session.backend.blas.path})` : ''}; run folder ${run.out}\n`);
    const finished = await trainUntilDoneOrInterrupted(trainer, argv.progress, title, run.out);
    await reportEnd(trainer, finished, config, title, run.out);
    session.agent.dispose();
    await session.close();
  },
};
export default command;

/** The TF.js backend, the training and evaluation environments, the agent, and what the exported policy records. */
async function openSession(argv: TrainArgs, run: RunInputs, config: TrainConfig) {
  const { initBackend } = await import('../nn/backend.ts');
  const backend = await initBackend(argv.backend === 'auto' ? {} : { prefer: argv.backend as 'cpu-blas' });
  const { MujocoEnv } = await import('../sim/env.ts');
  const { createAgent } = await import('../algos/agents.ts');
  const simEnv = await MujocoEnv.make(config.task);
  // --env ros: one robot for training and evaluation (the trainer evaluates it between episodes); the task's own
  // environment still says what its observation, action interface and goal are
  const ros = argv.env === 'ros' ? await (await import('./train-ros.ts')).openRosEnv(argv, simEnv) : null;
  const env: import('../algos/trainer.ts').TrainEnv = ros ? ros.env : simEnv;
  const evalEnv: import('../algos/trainer.ts').TrainEnv = ros ? ros.env : await MujocoEnv.make(config.task);
  const close = async () => {
    simEnv.close();
    if (ros) await ros.close();
    else (evalEnv as InstanceType<typeof MujocoEnv>).close();
  };
  const o = env.observationSize;
  const d = env.actionSize;
  if (run.dataset) {
    const { checkAgainstTask } = await import('../data/index.ts');
    checkAgainstTask(run.dataset, { task: simEnv.task, actionSize: d });
  }
  const schedule = { offlineSteps: config.loop.offlineSteps ?? 0 };
  const agent = createAgent(config.algo, o, d, config.hyper, config.seed, schedule);
  const { low, high, scale, offset, mode: actionMode } = simEnv.actionSpec;
  const policyInfo = {
    algorithm: config.algo,
    task: config.task,
    description: `${config.algo.toUpperCase()} on ${config.task}, seed ${config.seed}${config.dataset ? `, dataset ${config.dataset}` : ''}`,
    observationNames: [...simEnv.observationSpec.names],
    actionNames: [...simEnv.actionSpec.names],
    actionScale: Array.from(scale),
    actionOffset: Array.from(offset),
    actionLow: Array.from(low),
    actionHigh: Array.from(high),
    actionMode,
  };
  return { backend, env, evalEnv, agent, policyInfo, close };
}

/** --init: SMFP takes over the MeanFlow map (and critics, when their shapes fit), SAC the tanh-Gaussian actor. */
async function startFromOfflineCheckpoint(agent: import('../algos/agent.ts').Agent, dir: string): Promise<void> {
  const { Smfp } = await import('../algos/smfp.ts');
  const { Sac } = await import('../algos/sac.ts');
  const { initSmfpFromOffline, initSacFromOffline } = await import('../algos/offline-init.ts');
  const { loadCheckpoint } = await import('../nn/checkpoint.ts');
  const { disposePolicy } = await import('../nn/policy.ts');
  const ckpt = await loadCheckpoint(dir);
  try {
    const carried = agent instanceof Smfp ? initSmfpFromOffline(agent, ckpt) : agent instanceof Sac ? initSacFromOffline(agent, ckpt) : null;
    if (carried) process.stderr.write(`onestep train: ${agent.algorithm.toUpperCase()} starts from ${dir} (${ckpt.info.algorithm}, ${ckpt.counters.trainingSteps} updates): ${carried.join(', ')}\n`);
  } catch (err) {
    throw new UserError(`--init ${dir}: ${(err as Error).message}`);
  } finally {
    disposePolicy(ckpt.policy);
  }
}

/** Exports the policy of a checkpoint directory to ONNX (spec with names, scaling and the checkpoint id). */
async function exportRun(checkpointDir: string, onnxPath: string) {
  const { loadCheckpoint } = await import('../nn/checkpoint.ts');
  const { disposePolicy } = await import('../nn/policy.ts');
  const { exportCheckpointOnnx } = await import('../export/onnx.ts');
  const ckpt = await loadCheckpoint(checkpointDir);
  try {
    const { bytes, spec } = exportCheckpointOnnx(ckpt);
    writeFileSync(onnxPath, bytes);
    return spec;
  } finally {
    disposePolicy(ckpt.policy);
  }
}

/**
 * Runs the trainer with the progress display, the learning curve and the best policy kept up to date; the first
 * Ctrl-C (or SIGTERM) checkpoints and stops, a second exits at once. True when training finished.
 */
async function trainUntilDoneOrInterrupted(trainer: import('../algos/trainer.ts').Trainer, progressMode: string, title: string, out: string): Promise<boolean> {
  const { writeLearningCurve } = await import('../algos/run-files.ts');
  const progress = new ProgressDisplay(progressMode);
  trainer.onProgress = (p) => {
    const ev = p.lastEval ? `eval ${p.lastEval.returnMean.toFixed(1)} ± ${p.lastEval.returnStd.toFixed(1)}` : 'eval --';
    const offline = p.phase === 'offline';
    const text = offline
      ? `offline ${p.offlineUpdates}/${p.offlineSteps} updates | ${p.updatesPerSecond.toFixed(1)} updates/s | ETA ${formatDuration(p.etaSeconds)} | ${ev}`
      : `${p.envSteps}/${p.totalSteps} steps | ${p.envStepsPerSecond.toFixed(1)} env steps/s | ${p.updatesPerSecond.toFixed(1)} updates/s | ETA ${formatDuration(p.etaSeconds)} | ${ev}`;
    const fraction = offline ? p.offlineUpdates / Math.max(p.offlineSteps, 1) : p.envSteps / Math.max(p.totalSteps, 1);
    progress.update(fraction, text);
  };
  trainer.onEval = () => writeLearningCurve(out, title);
  trainer.onBest = async () => {
    await exportRun(join(out, 'checkpoints', 'best'), join(out, 'policy-best.onnx'));
  };

  let interrupts = 0;
  const onSigint = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write(`\nonestep train: second ${signal}, exiting without saving\n`);
      process.exit(130);
    }
    process.stderr.write(`\nonestep train: ${signal === 'SIGINT' ? 'Ctrl-C' : signal}, saving a checkpoint (interrupt again to exit without saving)\n`);
    trainer.requestStop();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const finished = await trainer.run();
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigint);
  progress.finish();
  writeLearningCurve(out, title);
  return finished;
}

/** The final export and the summary line, or where a stopped run's checkpoint is and how to continue it. */
async function reportEnd(trainer: import('../algos/trainer.ts').Trainer, finished: boolean, config: TrainConfig, title: string, out: string): Promise<void> {
  const last = join(out, 'checkpoints', 'last');
  if (finished) {
    const spec = await exportRun(last, join(out, 'policy.onnx'));
    const best = trainer.bestReturn;
    process.stdout.write(
      `trained ${title}: ${trainer.envSteps} environment steps, ${spec.trainingSteps} updates; ` +
        `last eval ${trainer.lastEval ? `${trainer.lastEval.returnMean.toFixed(2)} ± ${trainer.lastEval.returnStd.toFixed(2)}` : '--'}, best ${best === null ? '--' : best.toFixed(2)}\n` +
        `wrote ${join(out, 'policy.onnx')} and ${join(out, 'policy-best.onnx')}\n`,
    );
  } else {
    const where = trainer.envSteps === 0 && (config.loop.offlineSteps ?? 0) > 0 ? `in the offline phase at ${trainer.updates} updates` : `at ${trainer.envSteps} environment steps`;
    process.stdout.write(`stopped ${where}; checkpoint in ${last}; continue with: onestep train --algo ${config.algo} --task ${config.task} --out ${out} --resume\n`);
  }
}
