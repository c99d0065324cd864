// A training environment over ROS 2 (`onestep train --env ros`): the trainer's reset(seed) / step(action) carried
// out on a robot that speaks ros2_control's topics — today `onestep sim-bridge`, a real arm later. The observation
// is assembled from the robot's topics exactly as `onestep serve` assembles it (the same ObservationAssembler and
// the same observation sources, usually from the same params file, e.g. launch/arm_policy.yaml): JointState,
// PointStamped, and the derived differences, distances and last command. An action a in [-1, 1] goes out as the
// command offset + scale · a (std_msgs/Float64MultiArray, joints in the action's order); reward, success, mode and
// the episode's end come from the bridge's ~/status (onestep_msgs/EpisodeStatus); reset(seed) calls its
// ~/reset_episode (onestep_msgs/srv/ResetEpisode).
//
// Lockstep by stamp: every state the bridge publishes is one this environment asked for (a command answers the
// state it was computed from; a reset asks for a first state), and a step completes when the status of the state
// it asked for — (episode, step) — has arrived together with every observation topic's message carrying that
// status's header stamp. So the bridge must run `--clock lockstep --episode-end hold` (the terminal state is
// published and held until the next reset: the trainer learns from it) with a lockstep timeout longer than the
// trainer's slowest pause (evaluation, checkpoints). A state it did not ask for (a missed command, a clock in real
// time, an episode started on its own) is an error that says so, not a silently shifted transition.
import { layoutSources, ObservationAssembler, JointStateTracker, type SourceConfig } from './node/observation.ts';
import type { Publisher, ServiceClient, Subscription, Transport } from './transport.ts';

export interface RosEnvOptions<G = undefined> {
  transport: Transport;
  /** The observation sources (`onestep serve`'s observation.* parameters); topic sources are subscribed reliably. */
  sources: readonly SourceConfig[];
  /** The task's observation names, in order: the sources are laid out and checked against them. */
  observationNames: readonly string[];
  /** Compare the sources' value names with `observationNames` (default true). */
  checkNames?: boolean;
  /** Where commands go: a Float64MultiArray topic, one value per joint, in the action's order. */
  commands: { topic: string; jointNames: readonly string[] };
  /** The task's action interface: command = offset + scale · clip(a, −1, 1); low/high the actuators' range. */
  action: { offset: ArrayLike<number>; scale: ArrayLike<number>; low: ArrayLike<number>; high: ArrayLike<number> };
  /** The bridge node (its ~/status and ~/reset_episode), e.g. "/sim_bridge". */
  bridge: string;
  /** How long to wait for the bridge to answer (ms; default 10 000). */
  timeoutMs?: number;
  /** The task has modes (EpisodeStatus.mode "" then means undecided, else there is no mode; default false). */
  hasModes?: boolean;
  /** Passed through for goal-conditioned tasks (the trainer's HER relabelling uses the task's own functions). */
  goal?: G;
}

export interface RosStepResult {
  obs: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  /** mode: the episode's solution (tasks with modes; null while undecided), undefined for tasks without. */
  info: { success: boolean; mode?: string | null };
}

/** The robot cannot be driven as configured, or it did something this environment did not ask for. */
export class RosEnvError extends Error {
  override name = 'RosEnvError';
}

interface StatusMsg {
  header: { stamp: { sec: number; nanosec: number } };
  episode: number;
  step: number;
  reward: number;
  success: boolean;
  mode: string;
  terminated: boolean;
  truncated: boolean;
  commands_missed: bigint | number;
}

interface Stamped {
  header?: { stamp?: { sec: number; nanosec: number } };
}

/** A reset waits for an episode whose number its reply will tell. */
const ANY_EPISODE = -2;
const stampKey = (s: { sec: number; nanosec: number } | undefined) => (s === undefined ? -1 : s.sec * 1e9 + s.nanosec);
/** Messages kept per topic (by stamp) while a state is being gathered; lockstep leaves at most one or two. */
const KEEP = 8;

export class RosEnv<G = undefined> {
  readonly observationSize: number;
  readonly actionSize: number;
  readonly goal?: G;
  private readonly hasModes: boolean;
  /** Steps and resets done, and how long the bridge took to answer them (ms, summed). */
  readonly stats = { steps: 0, resets: 0, waitMs: 0 };

  private readonly transport: Transport;
  private readonly assembler: ObservationAssembler;
  /** Index in the assembler of each topic source, and its subscription. */
  private readonly topicSources: { index: number; topic: string; messages: Map<number, unknown> }[] = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly commandPublisher: Publisher;
  private readonly resetClient: ServiceClient<{ seed: bigint }, { success: boolean; message: string; episode: number; stamp: { sec: number; nanosec: number } }>;
  private readonly tracker: JointStateTracker | null;
  private readonly jointSource: number;
  private readonly offset: Float64Array;
  private readonly scale: Float64Array;
  private readonly low: Float64Array;
  private readonly high: Float64Array;
  /** The command in force, in the commanded joints' order (the last_command observation). */
  private readonly command: Float64Array;
  private readonly message: { layout: { dim: never[]; data_offset: number }; data: Float64Array };
  private readonly timeoutMs: number;
  private readonly statusTopic: string;
  /** The state being waited for, and its status once it came. */
  private expected: { episode: number; step: number } | null = null;
  private status: StatusMsg | null = null;
  /** The bridge's missed-command count at the episode's first state: any more means it stepped on its own. */
  private missedAtStart = 0;
  private failure: RosEnvError | null = null;
  private wake: (() => void) | null = null;
  private episode = -1;
  private stepInEpisode = 0;
  private episodeOver = true;
  private closed = false;

  constructor(opts: RosEnvOptions<G>) {
    this.transport = opts.transport;
    this.goal = opts.goal;
    this.hasModes = opts.hasModes ?? false;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    const size = opts.observationNames.length;
    const layouts = layoutSources(opts.sources, { names: opts.observationNames, size, source: 'of the task' }, opts.checkNames ?? true);
    this.assembler = new ObservationAssembler(layouts, size, opts.commands.jointNames);
    this.observationSize = size;
    const d = opts.commands.jointNames.length;
    this.actionSize = d;
    for (const [what, v] of [['offset', opts.action.offset], ['scale', opts.action.scale], ['low', opts.action.low], ['high', opts.action.high]] as const) {
      if (v.length !== d) throw new RosEnvError(`action ${what} has ${v.length} values for ${d} commanded joints (${opts.commands.jointNames.join(', ')})`);
    }
    this.offset = Float64Array.from(opts.action.offset);
    this.scale = Float64Array.from(opts.action.scale);
    this.low = Float64Array.from(opts.action.low);
    this.high = Float64Array.from(opts.action.high);
    this.command = new Float64Array(d);
    this.message = { layout: { dim: [], data_offset: 0 }, data: new Float64Array(d) };
    // the measured positions of the commanded joints: the last_command observation before the first action
    this.jointSource = opts.sources.findIndex((s) => (s.kind ?? 'topic') === 'topic' && s.type === 'sensor_msgs/msg/JointState');
    this.tracker = this.assembler.usesCommand ? new JointStateTracker(opts.commands.jointNames) : null;
    if (this.tracker && this.jointSource < 0) throw new RosEnvError('a last_command observation needs a sensor_msgs/msg/JointState source (its positions before the first action)');

    opts.sources.forEach((s, index) => {
      if ((s.kind ?? 'topic') !== 'topic') return;
      const entry = { index, topic: s.topic, messages: new Map<number, unknown>() };
      this.topicSources.push(entry);
      // reliable whatever a params file says for serving: lockstep must not lose a state
      this.subscriptions.push(this.transport.subscribe<Stamped>(s.topic, s.type, 'default', (m) => {
        const key = stampKey(m?.header?.stamp);
        entry.messages.delete(key); // the newest message for a stamp wins, and moves to the end
        entry.messages.set(key, m);
        if (entry.messages.size > KEEP) entry.messages.delete(entry.messages.keys().next().value as number);
        this.check();
      }));
    });
    const bridge = opts.bridge.replace(/\/$/, '');
    this.statusTopic = `${bridge}/status`;
    this.subscriptions.push(this.transport.subscribe<StatusMsg>(this.statusTopic, 'onestep_msgs/msg/EpisodeStatus', 'default', (m) => this.onStatus(m)));
    this.commandPublisher = this.transport.advertise(opts.commands.topic, 'std_msgs/msg/Float64MultiArray', 'default');
    this.resetClient = this.transport.createClient(`${bridge}/reset_episode`, 'onestep_msgs/srv/ResetEpisode');
  }

  /**
   * Waits for the bridge (its reset service) and lets a state it published on its own before we asked for any
   * (the first state of a lockstep bridge) arrive and be set aside, so every state after is one we asked for.
   */
  async connect(): Promise<void> {
    if (!(await this.resetClient.waitForService(this.timeoutMs))) {
      throw new RosEnvError(`no ${this.resetClient.name} service within ${this.timeoutMs} ms: is \`onestep sim-bridge --clock lockstep --episode-end hold\` running on this ROS domain?`);
    }
    const settle = performance.now() + 1500;
    while (performance.now() < settle && !this.closed) await new Promise((r) => setTimeout(r, 50));
  }

  /** Starts an episode reset with `seed`; resolves with its first observation. */
  async reset(seed: number): Promise<Float32Array> {
    // the episode's number comes with the reply, and its first state may come before it (over inproc, during the call)
    this.beginWait({ episode: ANY_EPISODE, step: 0 });
    const t0 = performance.now();
    let reply;
    try {
      reply = await this.resetClient.call({ seed: BigInt(seed) }, { timeoutMs: this.timeoutMs });
    } catch (err) {
      throw new RosEnvError(`${this.resetClient.name} (seed ${seed}): ${(err as Error).message}`);
    }
    if (!reply.success) throw new RosEnvError(`${this.resetClient.name} refused seed ${seed}: ${reply.message}`);
    this.episode = reply.episode;
    this.stepInEpisode = 0;
    if (this.status !== null && this.status.episode !== reply.episode) this.status = null;
    const obs = await this.gather(this.episode, 0, `the first state of episode ${reply.episode} (seed ${seed})`);
    this.stats.waitMs += performance.now() - t0;
    this.stats.resets++;
    this.episodeOver = false;
    return obs;
  }

  /** Sends offset + scale · clip(a) and resolves with the state it leads to, its reward and whether the episode ended. */
  async step(action: ArrayLike<number>): Promise<RosStepResult> {
    if (this.episodeOver) throw new RosEnvError('step() before reset() or after the episode ended: call reset() first');
    const d = this.actionSize;
    if (action.length !== d) throw new RosEnvError(`action must have ${d} entries, got ${action.length}`);
    const data = this.message.data;
    for (let i = 0; i < d; i++) {
      const x = action[i];
      if (!Number.isFinite(x)) throw new RosEnvError(`action[${i}] must be finite, got ${x}`);
      const a = x > 1 ? 1 : x < -1 ? -1 : x;
      const c = this.offset[i] + this.scale[i] * a;
      data[i] = c;
      // the command in force, as the robot applies it: limited to the actuator's range
      this.command[i] = c < this.low[i] ? this.low[i] : c > this.high[i] ? this.high[i] : c;
    }
    // expected before the command goes out: the answer may come during the publish (inproc)
    this.beginWait({ episode: this.episode, step: this.stepInEpisode + 1 });
    const t0 = performance.now();
    this.commandPublisher.publish(this.message);
    const obs = await this.gather(this.episode, this.stepInEpisode + 1, `the state after step ${this.stepInEpisode} of episode ${this.episode}`, true);
    this.stats.waitMs += performance.now() - t0;
    this.stats.steps++;
    this.stepInEpisode++;
    const s = this.status as StatusMsg;
    if (s.terminated || s.truncated) this.episodeOver = true;
    const info = this.hasModes ? { success: s.success, mode: s.mode === '' ? null : s.mode } : { success: s.success };
    return { obs, reward: s.reward, terminated: s.terminated, truncated: s.truncated, info };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subscriptions) s.close();
    this.commandPublisher.close();
    this.resetClient.close();
    this.wake?.();
  }

  // -----------------------------------------------------------------------------------------------------------

  private beginWait(expected: { episode: number; step: number }): void {
    this.expected = expected;
    this.status = null;
    this.failure = null;
  }

  /** Waits for the status of (episode, step) and every topic's message with its stamp; returns the observation. */
  private async gather(episode: number, step: number, what: string, afterCommand = false): Promise<Float32Array> {
    this.expected = { episode, step };
    const deadline = performance.now() + this.timeoutMs;
    while (!this.complete()) {
      if (this.failure) throw this.failure;
      if (this.closed) throw new RosEnvError('closed');
      const left = deadline - performance.now();
      if (left <= 0) {
        const missing = this.status === null
          ? `its status on ${this.statusTopic}`
          : this.topicSources.filter((t) => !t.messages.has(stampKey(this.status!.header.stamp))).map((t) => t.topic).join(', ');
        throw new RosEnvError(`no ${what} within ${this.timeoutMs} ms (missing: ${missing})${afterCommand ? ': is the bridge in lockstep (--clock lockstep)?' : ''}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    this.expected = null;
    return this.assemble();
  }

  private onStatus(m: StatusMsg): void {
    const missed = Number(m.commands_missed);
    const e = this.expected;
    if (e !== null && this.failure === null) {
      if (e.episode !== ANY_EPISODE && missed > this.missedAtStart) {
        this.failure = new RosEnvError(
          `the bridge stepped without a command (${missed - this.missedAtStart} missed): its lockstep timeout is shorter than the trainer's pauses — run it with a longer --lockstep-timeout-ms`,
        );
      } else if (e.episode === ANY_EPISODE) {
        // a reset's first state: the newest one with step 0 of a later episode (the reply says which)
        // (missed commands before it happened while nobody waited: they count from here)
        if (m.step === 0 && m.episode > this.episode) {
          this.status = m;
          this.missedAtStart = missed;
        }
      } else if (m.episode === e.episode && m.step === e.step) {
        this.status = m;
      } else if (m.episode > e.episode || (m.episode === e.episode && m.step > e.step)) {
        this.failure = new RosEnvError(
          `the bridge published episode ${m.episode} step ${m.step} while this environment waited for episode ${e.episode} step ${e.step}: it must run --clock lockstep --episode-end hold, driven by this environment alone`,
        );
      }
    }
    this.check();
  }

  private complete(): boolean {
    if (this.status === null) return false;
    const key = stampKey(this.status.header.stamp);
    for (const t of this.topicSources) if (!t.messages.has(key)) return false;
    return true;
  }

  private check(): void {
    if (this.wake && (this.failure || this.complete())) this.wake();
  }

  private assemble(): Float32Array {
    const key = stampKey((this.status as StatusMsg).header.stamp);
    for (const t of this.topicSources) {
      const m = t.messages.get(key);
      if (!this.assembler.accept(t.index, m)) {
        const s = this.assembler.sources[t.index];
        throw new RosEnvError(`the message on ${t.topic} does not fit the observation source ${s.name} (dropped: reason ${s.lastDrop}, ${s.lastDropDetail})`);
      }
      if (t.index === this.jointSource) this.tracker?.update(m);
    }
    // at an episode's first state the last command is the measured pose (as the task's own observation has it)
    if (this.tracker && (this.status as StatusMsg).step === 0) this.command.set(this.tracker.position);
    this.assembler.derive(this.tracker ? this.command : null);
    for (const t of this.topicSources) t.messages.clear();
    return Float32Array.from(this.assembler.vector);
  }
}
