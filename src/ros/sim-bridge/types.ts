// The sim bridge's vocabulary: what it needs from a simulated robot, its options, topics, counters and reports.
import type { LatencySummary } from '../../core/latency.ts';
import type { Logger } from '../node/diagnostics.ts';
import type { Transport } from '../transport.ts';

/** What the bridge needs from a simulated robot (src/sim/robot.ts's SimRobot provides it). */
export interface BridgedRobot {
  readonly taskName: string;
  readonly jointNames: readonly string[];
  /** One per actuator, in command order: the joint it drives, or its own name. */
  readonly commandNames: readonly string[];
  /** The range each command is limited to (actuator units); `step` applies the limit. */
  readonly commandLow: Float64Array;
  readonly commandHigh: Float64Array;
  readonly points: readonly { readonly name: string }[];
  /** Simulated seconds per control step. */
  readonly controlPeriod: number;
  readonly maxSteps: number;
  readonly successMeaning: string | undefined;
  readonly modes: readonly string[] | undefined;
  /** Simulated time of the current state (s). */
  readonly time: number;
  readonly stepIndex: number;
  /** The task's observation of the current state (what an in-process policy sees). */
  readonly observation: Float32Array;
  reset(seed: number): void;
  step(command: Float64Array): { reward: number; terminated: boolean; truncated: boolean; info: { success: boolean; mode: string | null | undefined } };
  readJoints(position: Float64Array, velocity: Float64Array, effort: Float64Array): void;
  readPoint(k: number, out: Float64Array, at?: number): void;
  readCommand(out: Float64Array): void;
}

export type BridgeClock = 'realtime' | 'lockstep';
export const BRIDGE_CLOCKS: readonly BridgeClock[] = ['realtime', 'lockstep'];
export type SafeCommand = 'hold' | 'zero';
export type MissedCommand = 'hold' | 'zero' | 'abort';
export type EpisodeEnd = 'next' | 'hold';
export const EPISODE_ENDS: readonly EpisodeEnd[] = ['next', 'hold'];

export interface BridgeTopics {
  jointStates: string;
  clock: string;
  commands: string;
  jointCommand: string;
  status: string;
  reset: string;
  pause: string;
  step: string;
  /** Prefix of the simulation_interfaces services: "~/" gives /sim_bridge/reset_simulation, … */
  services: string;
  /** Prefix of the point topics: "/" gives /tool_tip, /target. */
  pointPrefix: string;
}

export const DEFAULT_BRIDGE_TOPICS: Readonly<BridgeTopics> = {
  jointStates: '/joint_states',
  clock: '/clock',
  commands: '/forward_position_controller/commands',
  jointCommand: '/joint_command',
  status: '~/status',
  reset: '~/reset',
  pause: '~/pause',
  step: '~/step',
  services: '~/',
  pointPrefix: '/',
};

export interface SimBridgeOptions {
  transport: Transport;
  robot: BridgedRobot;
  clock: BridgeClock;
  /** Episode k is reset with seed + k (as `onestep eval` does). */
  seed: number;
  /** Stop stepping after this many finished episodes (`done` resolves); 0 = run until closed. */
  episodes?: number;
  /**
   * When an episode ends: `next` publishes the next episode's first state at once (a demo, an evaluation); `hold`
   * publishes the terminal state and waits for a reset (ResetEpisode, ResetSimulation or ~/reset) — what a training
   * loop needs, since it learns from the terminal observation. Default `next`.
   */
  episodeEnd?: EpisodeEnd;
  /** Real time: simulated seconds per wall second (default 1). */
  realTimeFactor?: number;
  /** Real time: no accepted command for this long → the watchdog's safe command (0 disables; default 500). */
  commandTimeoutMs?: number;
  watchdogAction?: SafeCommand;
  /** Lockstep: how long to wait for the answer to a state (wall clock, default 1000). */
  lockstepTimeoutMs?: number;
  missedCommand?: MissedCommand;
  /** Lockstep: wait for a /joint_states subscriber and a command publisher before the first step (default true). */
  waitForPeers?: boolean;
  topics?: Partial<BridgeTopics>;
  /** Encode /clock and ~/status even while nothing subscribes (a recording wants every state's; default false). */
  publishAlways?: boolean;
  /** Offer the simulation_interfaces services (default true). */
  simulationServices?: boolean;
  logger?: Logger;
  logThrottleMs?: number;
  /** Called after each published state (tests and recorders); `observation` is the task's own, reused. */
  onState?: (state: PublishedState) => void;
  /** Called when an episode ends. */
  onEpisode?: (episode: BridgeEpisode) => void;
}

export interface PublishedState {
  episode: number;
  step: number;
  stampSec: number;
  stampNanosec: number;
  observation: Float32Array;
}

export interface BridgeEpisode {
  episode: number;
  seed: number;
  return: number;
  length: number;
  /** The task's success at the last step (null for tasks without one). */
  success: boolean | null;
  mode: string | null;
  terminated: boolean;
}

export interface BridgeCounters {
  commandsAccepted: number;
  commandsRefused: number;
  /** Accepted commands with a value outside the command range (the robot applies them limited). */
  commandsClamped: number;
  /** Lockstep: JointState commands whose stamp answers no pending state (ignored). */
  commandsStale: number;
  /** Lockstep: states no command answered within the timeout. */
  commandsMissed: number;
  watchdogTimeouts: number;
  steps: number;
  resets: number;
}

export interface BridgeSummary {
  task: string;
  clock: BridgeClock;
  episodes: BridgeEpisode[];
  steps: number;
  wallSeconds: number;
  stepsPerSecond: number;
  /** Simulated seconds per wall second over the whole run. */
  realTimeFactor: number;
  counters: BridgeCounters;
  /** ms: physics (one control step), publish (a state's messages), round trip (state published → the first command after it), apply (command arrived → applied). */
  latency: Record<'physics' | 'publish' | 'roundTrip' | 'apply', LatencySummary>;
}

/** The bridge cannot run as configured (bad option, lockstep abort). */
export class SimBridgeError extends Error {
  override name = 'SimBridgeError';
}

/** simulation_interfaces/SimulationState values (EpisodeStatus.state uses them too). */
export const SimulationStateValue = { STOPPED: 0, PLAYING: 1, PAUSED: 2, QUITTING: 3 } as const;
export type SimulationStateValue = (typeof SimulationStateValue)[keyof typeof SimulationStateValue];
