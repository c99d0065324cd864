// The training loop shared by every algorithm. Online: act → step → store → (warm-up ends: freeze observation
// statistics) → update → evaluate → log → checkpoint. With an offline dataset, an offline phase comes first
// (observation statistics from the dataset; sample → update → evaluate → log → checkpoint, counted in updates) and
// the online phase then fine-tunes with the dataset in the replay (offline → online). Everything random is seeded
// and checkpointed (RNG streams, replay, weights, optimiser moments, counters), and online checkpoints are taken at
// episode boundaries, so a resumed run reproduces an uninterrupted one exactly.
// Why ~590 lines in one file: the loop reads top to bottom in the order it runs, and its phases share one loop
// state that the checkpoint saves whole; the episode record, observation statistics and run files live apart.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CheckpointPolicyInfo, CHECKPOINT_FILE, saveCheckpoint } from '../nn/checkpoint.ts';
import type { OfflineDataset } from '../data/dataset.ts';
import type { Agent } from './agent.ts';
import { restoreAgentFrom } from './agents.ts';
import { MetricsLog, type MetricRow } from './metrics.ts';
import { type Batch, ReplayBuffer, emptyBatch } from './replay.ts';
import { Rng, type RngState } from '../core/rng.ts';
import { EpisodeRecord, observationStatistics } from './episode.ts';
import { EVAL_COLUMNS, TRAIN_COLUMNS, runPaths } from './run-files.ts';

/**
 * Hindsight relabelling support of a goal-conditioned task (src/sim's TaskGoal has this shape): where the achieved
 * goal sits in an observation, how to write another goal into a row, and the reward from two rows.
 */
export interface GoalRelabeling {
  readonly size: number;
  readonly achievedAt: number;
  relabel(observations: Float32Array, at: number, goal: ArrayLike<number>, goalAt: number): void;
  reward(observations: ArrayLike<number>, at: number, next: ArrayLike<number>, nextAt: number): number;
}

/** What one environment step reports. */
export interface TrainStep {
  obs: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info?: { success?: boolean; mode?: string | null };
}

/**
 * The environment contract the loop needs (src/sim's MujocoEnv satisfies it; tests use tiny pure-TS tasks). A
 * robot over ROS 2 (src/ros/train-env.ts) answers asynchronously: reset and step may return promises.
 */
export interface TrainEnv {
  readonly observationSize: number;
  readonly actionSize: number;
  /** Present for goal-conditioned tasks: enables HER (LoopConfig.herRelabels). */
  readonly goal?: GoalRelabeling;
  reset(seed: number): Float32Array | Promise<Float32Array>;
  step(action: Float32Array): TrainStep | Promise<TrainStep>;
}

/**
 * The training loop's budget and schedule (steps, warm-up, batch, replay, update-to-data ratio, HER, offline phase,
 * evaluation and checkpoint periods, seed).
 */
export interface LoopConfig {
  totalSteps: number;
  /** Uniform random actions for the first steps; updates start after them (per-task presets, docs/training.md). */
  warmupSteps: number;
  batchSize: number;
  replayCapacity: number;
  /** Gradient updates per environment step after warm-up (UTD). */
  updatesPerStep: number;
  /**
   * HER 'future' relabelling: at each episode end, every transition is stored again this many times with the goal
   * replaced by what was achieved at a later step of the same episode (4 = the HER paper's k; 0 = off).
   */
  herRelabels: number;
  evalEvery: number;
  evalEpisodes: number;
  checkpointEvery: number;
  seed: number;
  /**
   * Gradient updates on the offline dataset before the first environment step (absent or 0: online only). The
   * offline phase evaluates every evalEvery and checkpoints every checkpointEvery updates.
   */
  offlineSteps?: number;
  /**
   * Where online batches come from when a dataset is given: `mixed` — the dataset opens the replay buffer and online
   * transitions are appended to it, one uniform batch (MeanFlowQL's and FQL's default); `balanced` — half of every
   * batch from the dataset, half from the online transitions (RLPD).
   */
  offlineSampling?: 'mixed' | 'balanced';
}

/** Default loop settings; a run sets `totalSteps` and `seed`. */
export const LOOP_DEFAULTS: Omit<LoopConfig, 'totalSteps' | 'seed'> = {
  warmupSteps: 5000,
  batchSize: 256,
  replayCapacity: 1_000_000,
  updatesPerStep: 1,
  herRelabels: 0,
  evalEvery: 10_000,
  evalEpisodes: 10,
  checkpointEvery: 10_000,
};

/** One evaluation of the current policy (deterministic, fixed seeds). */
export interface EvalResult {
  step: number;
  returnMean: number;
  returnStd: number;
  successRate: number;
  /** Episodes per mode (tasks with modes); 'undecided' when an episode never committed. */
  modes: Record<string, number>;
  episodes: number;
}

/** Where a run is, for a progress display. */
export interface Progress {
  /** `offline` while training on the dataset alone (envSteps stays 0), then `online`. */
  phase: 'offline' | 'online';
  offlineUpdates: number;
  offlineSteps: number;
  envSteps: number;
  totalSteps: number;
  updates: number;
  envStepsPerSecond: number;
  updatesPerSecond: number;
  etaSeconds: number;
  lastEval: EvalResult | null;
}

interface LoopState {
  envSteps: number;
  updates: number;
  episodes: number;
  evals: number;
  nextEvalAt: number;
  nextCheckpointAt: number;
  bestReturn: number | null;
  lastEval: EvalResult | null;
  actRng: RngState;
  updateRng: RngState;
  herRng?: RngState;
  /** Updates done in the offline phase (absent in runs without one). */
  offlineUpdates?: number;
}

/** Losses written to the training log (the offline phase writes one row per OFFLINE_LOG_EVERY updates). */
const LOGGED_LOSSES = ['critic_loss', 'actor_loss', 'alpha', 'entropy', 'mfi_loss', 'q_mean'];
const OFFLINE_LOG_EVERY = 1000;

/** Episode seeds: training and evaluation draw from disjoint, reproducible streams. */
const trainEpisodeSeed = (seed: number, episode: number) => (seed * 1_000_003 + episode) >>> 0;
const evalEpisodeSeed = (seed: number, evalIndex: number, k: number) => (0x7fffffff - seed * 7919 - evalIndex * 101 - k) >>> 0;

/**
 * The online (and offline-to-online) training loop shared by every agent: act, step, store, update, evaluate, log and
 * checkpoint, all seeded; a resumed run reproduces an uninterrupted one. Call `init()`, then `run()`.
 */
export class Trainer {
  replay: ReplayBuffer;
  private readonly resume: boolean;
  private state: LoopState;
  private readonly actRng: Rng;
  private readonly updateRng: Rng;
  private readonly herRng: Rng;
  private readonly trainLog: MetricsLog;
  private readonly evalLog: MetricsLog;
  private readonly paths: ReturnType<typeof runPaths>;
  private stopRequested = false;
  private readonly rateWindow: [number, number, number][] = [];
  /** `balanced` sampling: the dataset in its own buffer (rebuilt from the dataset, never checkpointed) and the batch both halves fill. */
  private readonly datasetReplay: ReplayBuffer | null = null;
  private readonly balancedBatch: Batch | null = null;
  /** Called after every evaluation with the run's eval rows (e.g. to redraw the learning curve). */
  onEval: ((result: EvalResult, isBest: boolean) => void) | null = null;
  onProgress: ((p: Progress) => void) | null = null;
  /** Called when a new best evaluation was checkpointed (export the best policy). */
  onBest: ((result: EvalResult) => void | Promise<void>) | null = null;

  constructor(
    readonly agent: Agent,
    readonly env: TrainEnv,
    readonly evalEnv: TrainEnv,
    readonly config: LoopConfig,
    readonly out: string,
    /** Names, task and action scaling stored with every checkpoint (for export). */
    readonly policyInfo: CheckpointPolicyInfo,
    resume: boolean,
    /** The offline dataset: trained on first (config.offlineSteps updates), then kept in the online replay. */
    readonly dataset: OfflineDataset | null = null,
  ) {
    this.paths = runPaths(out);
    mkdirSync(join(out, 'checkpoints'), { recursive: true });
    this.trainLog = new MetricsLog(this.paths.metricsJsonl, this.paths.metricsCsv, TRAIN_COLUMNS);
    this.evalLog = new MetricsLog(this.paths.evalJsonl, this.paths.evalCsv, EVAL_COLUMNS);
    this.actRng = new Rng(config.seed * 2 + 1);
    this.updateRng = new Rng(config.seed * 2 + 2);
    this.herRng = new Rng(config.seed * 2 + 3);
    if (config.herRelabels > 0 && !env.goal) throw new Error('HER relabelling needs a goal-conditioned task (one whose reward is recomputable from observations)');
    this.state = {
      envSteps: 0,
      updates: 0,
      episodes: 0,
      evals: 0,
      nextEvalAt: config.evalEvery,
      nextCheckpointAt: config.checkpointEvery,
      bestReturn: null,
      lastEval: null,
      actRng: this.actRng.getState(),
      updateRng: this.updateRng.getState(),
    };
    this.replay = new ReplayBuffer(config.replayCapacity, env.observationSize, env.actionSize);
    this.resume = resume;
    if ((config.offlineSteps ?? 0) > 0 && !dataset) throw new Error('an offline phase (offlineSteps > 0) needs a dataset');
    if (dataset) {
      if (dataset.observationSize !== env.observationSize || dataset.actionSize !== env.actionSize) {
        throw new Error(`dataset ${dataset.source} has observations of ${dataset.observationSize} and actions of ${dataset.actionSize} values; the task has ${env.observationSize} and ${env.actionSize}`);
      }
      if (config.offlineSampling === 'balanced') {
        this.datasetReplay = new ReplayBuffer(dataset.size, env.observationSize, env.actionSize);
        this.datasetReplay.addMany(dataset.observations, dataset.actions, dataset.rewards, dataset.nextObservations, dataset.masks, dataset.size);
        this.balancedBatch = emptyBatch(config.batchSize, env.observationSize, env.actionSize);
      } else if (config.replayCapacity < dataset.size) {
        throw new Error(`replay capacity ${config.replayCapacity} cannot hold the ${dataset.size} transitions of ${dataset.source}`);
      }
    }
  }

  /** Loads checkpoints/last when resuming (weights, optimiser moments, replay, RNG streams, counters) and opens the logs. */
  async init(): Promise<void> {
    if (!this.resume) {
      this.trainLog.open(null);
      this.evalLog.open(null);
      const data = this.dataset;
      if (data) {
        // Mixed sampling: the dataset is the start of the replay buffer. Either way its statistics normalise inputs.
        if (!this.datasetReplay) this.replay.addMany(data.observations, data.actions, data.rewards, data.nextObservations, data.masks, data.size);
        const { mean, std } = observationStatistics(data.observations, data.size, data.observationSize);
        this.agent.setObservationNormalization(mean, std);
      }
      return;
    }
    if (!existsSync(join(this.paths.last, CHECKPOINT_FILE))) throw new Error(`--resume: no checkpoint in ${this.paths.last} (start without --resume)`);
    const ckpt = await restoreAgentFrom(this.agent, this.paths.last);
    const saved = ckpt.state as unknown as { loop: LoopState; agent: Record<string, unknown>; replayFile: string };
    const replay = ReplayBuffer.load(join(this.paths.last, saved.replayFile));
    // A run extended with a larger buffer keeps its transitions in place; a smaller one is a configuration error.
    this.replay = replay.capacity === this.replay.capacity ? replay : replay.grow(this.replay.capacity);
    this.state = saved.loop;
    this.actRng.setState(saved.loop.actRng);
    this.updateRng.setState(saved.loop.updateRng);
    if (saved.loop.herRng) this.herRng.setState(saved.loop.herRng);
    // Rows up to the checkpoint survive: by environment step, and within the offline phase (all at step 0) by update.
    const { envSteps, updates } = this.state;
    const upToCheckpoint = (r: MetricRow) => Number(r.env_steps) < envSteps || (Number(r.env_steps) === envSteps && (r.updates === undefined || Number(r.updates) <= updates));
    this.trainLog.open(upToCheckpoint);
    this.evalLog.open(upToCheckpoint);
  }

  /** Environment steps taken so far. */
  get envSteps(): number {
    return this.state.envSteps;
  }

  /** Gradient updates so far, offline and online. */
  get updates(): number {
    return this.state.updates;
  }

  /** The latest evaluation, or null before the first. */
  get lastEval(): EvalResult | null {
    return this.state.lastEval;
  }

  /** The best mean evaluation return so far, or null. */
  get bestReturn(): number | null {
    return this.state.bestReturn;
  }

  /** Ask the loop to checkpoint and return at the next step (Ctrl-C). */
  requestStop(): void {
    this.stopRequested = true;
  }

  /** Every evaluation row of this run (eval.jsonl), for plots. */
  evalRows(): MetricRow[] {
    return this.evalLog.rows();
  }

  /** The next batch: uniform over the replay, or half dataset / half online with balanced sampling (online phase). */
  private sampleBatch(online: boolean): Batch {
    const { batchSize } = this.config;
    const rng = this.updateRng;
    if (!this.datasetReplay || !this.balancedBatch) return this.replay.sample(batchSize, rng);
    if (!online || this.replay.size === 0) return this.datasetReplay.sample(batchSize, rng);
    const half = batchSize >> 1;
    this.datasetReplay.sampleInto(this.balancedBatch, 0, half, rng);
    this.replay.sampleInto(this.balancedBatch, half, batchSize - half, rng);
    return this.balancedBatch;
  }

  /**
   * The offline phase: `offlineSteps` updates on the dataset, evaluating every evalEvery and checkpointing every
   * checkpointEvery updates (and at its end). Returns false when stopped early (a checkpoint was taken).
   */
  private async runOffline(): Promise<boolean> {
    const { offlineSteps = 0, evalEvery, checkpointEvery } = this.config;
    const s = this.state;
    s.offlineUpdates ??= 0;
    const t0 = performance.now();
    const updates0 = s.updates;
    let lastProgress = 0;
    let lastLog = performance.now();
    let updatesAtLog = s.updates;
    while (s.offlineUpdates < offlineSteps) {
      const losses = this.agent.update(this.sampleBatch(false), this.updateRng);
      s.offlineUpdates++;
      s.updates++;
      if (s.offlineUpdates % OFFLINE_LOG_EVERY === 0 || s.offlineUpdates === offlineSteps) {
        const now = performance.now();
        this.trainLog.write({ env_steps: s.envSteps, updates: s.updates, ...pick(losses, LOGGED_LOSSES), updates_per_s: (s.updates - updatesAtLog) / ((now - lastLog) / 1000), phase: 'offline' });
        [lastLog, updatesAtLog] = [now, s.updates];
      }
      const done = s.offlineUpdates === offlineSteps;
      if (s.offlineUpdates % evalEvery === 0 || done) await this.evaluate();
      const now = performance.now();
      if (this.onProgress && now - lastProgress > 250) {
        lastProgress = now;
        this.onProgress(this.progress(t0, 0, updates0));
      }
      if (s.offlineUpdates % checkpointEvery === 0 || done || this.stopRequested) await this.saveCheckpoint();
      if (this.stopRequested) return false;
      if ((s.offlineUpdates & 63) === 0) await new Promise((res) => setImmediate(res));
    }
    return true;
  }

  /** Runs the offline phase (if any), then until `totalSteps` environment steps (or a stop request); returns whether it finished. */
  async run(): Promise<boolean> {
    if ((this.state.offlineUpdates ?? 0) < (this.config.offlineSteps ?? 0) && !(await this.runOffline())) {
      this.onProgress?.(this.progress(performance.now(), 0, this.state.updates));
      return false;
    }
    this.rateWindow.length = 0; // online rates must not average in the offline phase
    const { totalSteps, warmupSteps, updatesPerStep } = this.config;
    const s = this.state;
    const d = this.env.actionSize;
    const randomAction = new Float32Array(d);
    let obs = Float32Array.from(await this.env.reset(trainEpisodeSeed(this.config.seed, s.episodes)));
    let episodeReturn = 0;
    let episodeLength = 0;
    let last: Record<string, number> = {};
    const t0 = performance.now();
    const steps0 = s.envSteps;
    const updates0 = s.updates;
    let lastProgress = 0;
    const episode = this.config.herRelabels > 0 ? new EpisodeRecord(this.env.observationSize, d) : null;

    while (s.envSteps < totalSteps) {
      const action = s.envSteps < warmupSteps ? this.actRng.fillUniform(randomAction, -1, 1) : this.agent.act(obs, true, this.actRng);
      if (!action.every(Number.isFinite)) throw new Error(`training diverged: the policy produced a non-finite action at step ${s.envSteps}`);
      const r = await this.env.step(action);
      this.replay.add(obs, action, r.reward, r.obs, r.terminated);
      episode?.add(obs, action, r.obs, r.terminated);
      obs.set(r.obs);
      episodeReturn += r.reward;
      episodeLength++;
      s.envSteps++;

      // With a dataset the statistics came from it and stay; otherwise the warm-up's observations set them.
      if (s.envSteps === warmupSteps && !this.dataset) this.freezeObservationStatistics();
      if (s.envSteps >= warmupSteps) {
        for (let k = 0; k < updatesPerStep; k++) {
          last = this.agent.update(this.sampleBatch(true), this.updateRng);
          s.updates++;
        }
      }

      // One robot for training and evaluation (env === evalEnv, e.g. over ROS 2) cannot evaluate mid-episode
      // without wrecking the training episode: the evaluation then waits for the episode's end (with evalEvery a
      // multiple of the episode length, the schedule is the same as with two environments).
      const evalDue = s.envSteps >= s.nextEvalAt || s.envSteps === totalSteps;
      if (evalDue && (this.env !== this.evalEnv || r.terminated || r.truncated || s.envSteps === totalSteps)) {
        s.nextEvalAt += this.config.evalEvery;
        while (s.nextEvalAt <= s.envSteps) s.nextEvalAt += this.config.evalEvery; // a deferred evaluation catches up once
        await this.evaluate();
      }

      const now = performance.now();
      if (this.onProgress && now - lastProgress > 250) {
        lastProgress = now;
        this.onProgress(this.progress(t0, steps0, updates0));
      }

      if (r.terminated || r.truncated) {
        if (episode) this.storeRelabeled(episode);
        const elapsed = (performance.now() - t0) / 1000;
        this.trainLog.write({
          env_steps: s.envSteps,
          updates: s.updates,
          episode_return: episodeReturn,
          episode_length: episodeLength,
          ...pick(last, LOGGED_LOSSES),
          env_steps_per_s: (s.envSteps - steps0) / elapsed,
          updates_per_s: (s.updates - updates0) / elapsed,
          ...(this.dataset ? { phase: 'online' } : {}),
        });
        s.episodes++;
        episodeReturn = 0;
        episodeLength = 0;
        obs = Float32Array.from(await this.env.reset(trainEpisodeSeed(this.config.seed, s.episodes)));
        // Checkpoints sit on episode boundaries: the environment state is then just "reset with the next seed".
        if (s.envSteps >= s.nextCheckpointAt || s.envSteps >= totalSteps) {
          while (s.nextCheckpointAt <= s.envSteps) s.nextCheckpointAt += this.config.checkpointEvery;
          await this.saveCheckpoint();
        }
      }
      if (this.stopRequested) break;
      // Let signal handlers run now and then.
      if ((s.envSteps & 255) === 0) await new Promise((res) => setImmediate(res));
    }
    this.onProgress?.(this.progress(t0, steps0, updates0));
    // An interruption mid-episode saves too; the resumed run starts a fresh episode (exact only at episode ends).
    await this.saveCheckpoint();
    return s.envSteps >= totalSteps;
  }

  /**
   * HER 'future': each transition of the finished episode is stored `herRelabels` more times, its goal replaced by
   * the goal achieved after a uniformly drawn later step (t..T−1) and its reward recomputed by the task.
   */
  private storeRelabeled(episode: EpisodeRecord): void {
    const goal = this.env.goal!;
    const o = this.env.observationSize;
    const T = episode.length;
    const obs = new Float32Array(o);
    const next = new Float32Array(o);
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < this.config.herRelabels; k++) {
        const future = t + this.herRng.int(T - t);
        const goalAt = future * o + goal.achievedAt;
        obs.set(episode.observations.subarray(t * o, (t + 1) * o));
        next.set(episode.nextObservations.subarray(t * o, (t + 1) * o));
        goal.relabel(obs, 0, episode.nextObservations, goalAt);
        goal.relabel(next, 0, episode.nextObservations, goalAt);
        this.replay.add(obs, episode.actions.subarray(t * this.env.actionSize, (t + 1) * this.env.actionSize), goal.reward(obs, 0, next, 0), next, episode.terminals[t] === 1);
      }
    }
    episode.clear();
  }

  /** Rates over the last ~30 s (warm-up steps are much faster than learning ones, so whole-run averages mislead). */
  private progress(t0: number, steps0: number, updates0: number): Progress {
    const s = this.state;
    const now = performance.now();
    const w = this.rateWindow;
    w.push([now, s.envSteps, s.updates]);
    while (w.length > 2 && now - w[0][0] > 30_000) w.shift();
    const [tA, stepsA, updatesA] = w.length > 1 ? w[0] : [t0, steps0, updates0];
    const elapsed = Math.max((now - tA) / 1000, 1e-9);
    const sps = (s.envSteps - stepsA) / elapsed;
    const ups = (s.updates - updatesA) / elapsed;
    // Remaining time: warm-up steps at the current pace, learning steps at the update-bound pace; offline updates
    // left at the current update rate (online steps then assumed update-bound).
    const offlineSteps = this.config.offlineSteps ?? 0;
    const offlineUpdates = s.offlineUpdates ?? 0;
    const phase = offlineUpdates < offlineSteps ? 'offline' : 'online';
    const learningPace = ups > 0 ? ups / this.config.updatesPerStep : sps;
    const etaSeconds =
      phase === 'offline'
        ? ups > 0 ? (offlineSteps - offlineUpdates) / ups + (this.config.totalSteps * this.config.updatesPerStep) / ups : Infinity
        : learningPace > 0 ? (this.config.totalSteps - s.envSteps) / Math.min(sps, learningPace || sps) : Infinity;
    return {
      phase,
      offlineUpdates,
      offlineSteps,
      envSteps: s.envSteps,
      totalSteps: this.config.totalSteps,
      updates: s.updates,
      envStepsPerSecond: sps,
      updatesPerSecond: ups,
      etaSeconds,
      lastEval: s.lastEval,
    };
  }

  /** Mean/std of the warm-up observations become the policy's (and the critics') fixed input normalisation. */
  private freezeObservationStatistics(): void {
    const n = this.replay.size;
    const o = this.env.observationSize;
    const mean = new Float64Array(o);
    const sq = new Float64Array(o);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < o; k++) {
        const x = this.replay.observation[i * o + k];
        mean[k] += x;
        sq[k] += x * x;
      }
    }
    const m = new Float32Array(o);
    const sd = new Float32Array(o);
    for (let k = 0; k < o; k++) {
      m[k] = mean[k] / n;
      sd[k] = Math.sqrt(Math.max(sq[k] / n - m[k] * m[k], 0));
      // A feature that barely moved under random actions keeps unit scale rather than being blown up.
      if (!(sd[k] > 1e-3)) sd[k] = 1;
    }
    this.agent.setObservationNormalization(m, sd);
  }

  /** Runs `evalEpisodes` episodes with the evaluation policy on fixed seeds. */
  async evaluate(): Promise<EvalResult> {
    const s = this.state;
    const evalRng = new Rng(this.config.seed * 31 + s.evals + 17);
    const returns: number[] = [];
    let successes = 0;
    const modes: Record<string, number> = {};
    for (let k = 0; k < this.config.evalEpisodes; k++) {
      let obs = await this.evalEnv.reset(evalEpisodeSeed(this.config.seed, s.evals, k));
      let total = 0;
      let mode: string | null | undefined;
      let success = false;
      for (;;) {
        const r = await this.evalEnv.step(this.agent.act(obs, false, evalRng));
        total += r.reward;
        obs = r.obs;
        if (r.terminated || r.truncated) {
          success = r.info?.success ?? false;
          mode = r.info?.mode;
          break;
        }
      }
      returns.push(total);
      if (success) successes++;
      if (mode !== undefined) modes[mode ?? 'undecided'] = (modes[mode ?? 'undecided'] ?? 0) + 1;
    }
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    const std = Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / returns.length);
    const result: EvalResult = { step: s.envSteps, returnMean: mean, returnStd: std, successRate: successes / returns.length, modes, episodes: returns.length };
    s.evals++;
    s.lastEval = result;
    const phase = s.envSteps === 0 ? 'offline' : 'online';
    this.evalLog.write({ env_steps: s.envSteps, return_mean: mean, return_std: std, success_rate: result.successRate, episodes: result.episodes, modes: JSON.stringify(modes), updates: s.updates, ...(this.dataset ? { phase } : {}) });
    const isBest = s.bestReturn === null || mean > s.bestReturn;
    if (isBest) {
      s.bestReturn = mean;
      await this.saveBest(result);
    }
    this.onEval?.(result, isBest);
    return result;
  }

  private async saveBest(result: EvalResult): Promise<void> {
    await saveCheckpoint(this.paths.best, {
      policy: this.agent.policy,
      info: this.policyInfo,
      counters: { trainingSteps: this.state.updates, envSteps: this.state.envSteps },
      state: { eval: result },
    });
    writeFileSync(join(this.paths.best, 'eval.json'), JSON.stringify(result, null, 2) + '\n');
    await this.onBest?.(result);
  }

  /** Writes checkpoints/last: the replay under a step-stamped name first, then the checkpoint that names it. */
  async saveCheckpoint(): Promise<void> {
    const s = this.state;
    s.actRng = this.actRng.getState();
    s.updateRng = this.updateRng.getState();
    s.herRng = this.herRng.getState();
    const dir = this.paths.last;
    mkdirSync(dir, { recursive: true });
    const replayFile = `replay-${s.envSteps}.bin`;
    this.replay.save(join(dir, replayFile));
    const agentState = this.agent.getState();
    await saveCheckpoint(dir, {
      policy: this.agent.policy,
      info: this.policyInfo,
      counters: { trainingSteps: s.updates, envSteps: s.envSteps, episodes: s.episodes },
      optimizer: agentState.optimizer,
      tensors: agentState.tensors,
      state: { loop: s, agent: agentState.json, replayFile },
    });
    for (const f of readdirSync(dir)) if (/^replay-\d+\.bin$/.test(f) && f !== replayFile) rmSync(join(dir, f), { force: true });
  }
}

function pick(o: Record<string, number>, keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
