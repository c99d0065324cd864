// The bridge as a simulator of the ROS 2 standard `simulation_interfaces` (msgs/simulation_interfaces): reset,
// play/pause/stop/quit, step while paused, its state and its features, as services beside the ~/reset, ~/pause and
// ~/step topics. Names are node-private (/sim_bridge/reset_simulation, …) as Gazebo's server offers them, and
// remappable. Result codes are the package's: RESULT_OK; RESULT_FEATURE_UNSUPPORTED for what the bridge cannot do
// (a partial reset scope, a world state); StepSimulation while not paused answers RESULT_OPERATION_FAILED, as its
// definition says; SetSimulationState answers ALREADY_IN_TARGET_STATE, INCORRECT_TRANSITION or
// STATE_TRANSITION_ERROR where they apply.
import type { ServiceServer, Transport } from '../transport.ts';
import { SimulationStateValue } from './types.ts';

export const Result = { FEATURE_UNSUPPORTED: 0, OK: 1, NOT_FOUND: 2, INCORRECT_STATE: 3, OPERATION_FAILED: 4 } as const;
/** SetSimulationState's own result codes. */
export const SetStateResult = { ALREADY_IN_TARGET_STATE: 101, STATE_TRANSITION_ERROR: 102, INCORRECT_TRANSITION: 103 } as const;
/** ResetSimulation.scope bits. */
export const ResetScope = { DEFAULT: 0, TIME: 1, STATE: 2, SPAWNED: 4, ALL: 255 } as const;
/** SimulatorFeatures values the bridge offers. */
export const Feature = {
  SIMULATION_RESET: 20, SIMULATION_STATE_GETTING: 24, SIMULATION_STATE_SETTING: 25, SIMULATION_STATE_PAUSE: 26,
  STEP_SIMULATION_SINGLE: 31, STEP_SIMULATION_MULTIPLE: 32,
} as const;

export interface SimulationResult {
  result: number;
  error_message: string;
}

/** What the services ask of the bridge; each answers with a result (code + message). */
export interface SimulationControl {
  /** A SimulationState value. */
  readonly simulationState: number;
  /** One line for SimulatorFeatures.custom_info. */
  readonly description: string;
  /** Time and state back to the start of the next episode. */
  resetSimulation(): SimulationResult;
  setSimulationState(target: number): SimulationResult;
  /** N control steps while paused, each state published; answers once they are done. */
  stepSimulation(steps: number): SimulationResult;
}

export const SIMULATION_SERVICES = {
  reset_simulation: 'simulation_interfaces/srv/ResetSimulation',
  step_simulation: 'simulation_interfaces/srv/StepSimulation',
  get_simulation_state: 'simulation_interfaces/srv/GetSimulationState',
  set_simulation_state: 'simulation_interfaces/srv/SetSimulationState',
  get_simulator_features: 'simulation_interfaces/srv/GetSimulatorFeatures',
} as const;

export const ok = (): SimulationResult => ({ result: Result.OK, error_message: '' });
export const fail = (result: number, error_message: string): SimulationResult => ({ result, error_message });

/** onestep_msgs/ResetEpisode's response. */
export interface EpisodeReset {
  success: boolean;
  message: string;
  episode: number;
  stamp: { sec: number; nanosec: number };
}

/** onestep's seeded reset (what a training loop's reset(seed) needs), beside the standard ones: ~/reset_episode. */
export function offerEpisodeService(transport: Transport, prefix: string, control: { resetEpisode(seed: number): EpisodeReset }): ServiceServer {
  return transport.createService<{ seed: bigint | number }, EpisodeReset>(`${prefix.replace(/\/?$/, '/')}reset_episode`, 'onestep_msgs/srv/ResetEpisode', (req) =>
    control.resetEpisode(Number(req.seed)),
  );
}

/** Offers the five services under `prefix` ("~/" → /<node>/reset_simulation, …). */
export function offerSimulationServices(transport: Transport, prefix: string, control: SimulationControl): ServiceServer[] {
  const name = (s: keyof typeof SIMULATION_SERVICES) => `${prefix.replace(/\/?$/, '/')}${s}`;
  return [
    transport.createService<{ scope: number }, { result: SimulationResult }>(name('reset_simulation'), SIMULATION_SERVICES.reset_simulation, (req) => {
      const scope = req.scope;
      const whole = ResetScope.TIME | ResetScope.STATE;
      // the bridge resets time and state together (one MuJoCo reset); nothing is spawned, so SCOPE_SPAWNED is moot
      if (scope !== ResetScope.DEFAULT && (scope & whole) !== whole) {
        return { result: fail(Result.FEATURE_UNSUPPORTED, `scope ${scope}: the bridge resets time and state together (SCOPE_DEFAULT, SCOPE_ALL, or SCOPE_TIME|SCOPE_STATE)`) };
      }
      return { result: control.resetSimulation() };
    }),
    transport.createService<{ steps: bigint | number }, { result: SimulationResult }>(name('step_simulation'), SIMULATION_SERVICES.step_simulation, (req) => {
      const steps = Number(req.steps);
      if (!Number.isSafeInteger(steps) || steps < 1) return { result: fail(Result.OPERATION_FAILED, `steps must be ≥ 1 (got ${req.steps})`) };
      return { result: control.stepSimulation(steps) };
    }),
    transport.createService<Record<string, never>, { state: { state: number }; result: SimulationResult }>(name('get_simulation_state'), SIMULATION_SERVICES.get_simulation_state, () => ({
      state: { state: control.simulationState }, result: ok(),
    })),
    transport.createService<{ state: { state: number } }, { result: SimulationResult }>(name('set_simulation_state'), SIMULATION_SERVICES.set_simulation_state, (req) => ({
      result: control.setSimulationState(req.state?.state),
    })),
    transport.createService<Record<string, never>, { features: { features: Uint16Array; spawn_formats: string[]; custom_info: string } }>(
      name('get_simulator_features'), SIMULATION_SERVICES.get_simulator_features, () => ({
        features: { features: Uint16Array.from(Object.values(Feature)), spawn_formats: [], custom_info: control.description },
      }),
    ),
  ];
}

/** The SimulationState names, for messages. */
export function stateName(state: number): string {
  const names: Record<number, string> = {
    [SimulationStateValue.STOPPED]: 'STATE_STOPPED', [SimulationStateValue.PLAYING]: 'STATE_PLAYING', [SimulationStateValue.PAUSED]: 'STATE_PAUSED',
    [SimulationStateValue.QUITTING]: 'STATE_QUITTING', 4: 'STATE_NO_WORLD', 5: 'STATE_LOADING_WORLD',
  };
  return names[state] ?? `state ${state}`;
}
