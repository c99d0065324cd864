// The sim bridge's simulation_interfaces services: the definitions in msgs/simulation_interfaces hash (REP-2011) to
// what rosidl generates for the package; over inproc, every service and result code — reset, play/pause/stop/quit,
// step while paused (and refused while playing), state, features; over rtps in a private network namespace,
// `onestep service call` (a second process) and a Cyclone DDS C client (rmw_cyclonedds's request header, the
// types from IDL) pause, step, reset and read the state of a running `onestep sim-bridge`; and onestep's seeded ~/reset_episode with the episode end held (--episode-end hold).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { InprocTransport } from '../src/ros/inproc.ts';
import { Logger } from '../src/ros/node/diagnostics.ts';
import { serviceTypeHash, typeHash } from '../src/ros/msgs/type-hash.ts';
import { SimBridge, type SimBridgeOptions } from '../src/ros/sim-bridge/index.ts';
import { SimRobot } from '../src/sim/robot.ts';
import { netnsSkipReason, runInNetns } from './helpers/netns.ts';
import { servicePeersDir } from './peers/service-peers.ts';
import { sleep, until } from './helpers/wait.ts';


const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

// simulation_interfaces/msg/Result, SimulationState
const OK = 1, FEATURE_UNSUPPORTED = 0, OPERATION_FAILED = 4, INCORRECT_STATE = 3;
const ALREADY_IN_TARGET_STATE = 101, STATE_TRANSITION_ERROR = 102;
const STOPPED = 0, PLAYING = 1, PAUSED = 2, QUITTING = 3, NO_WORLD = 4;
interface Res { result: { result: number; error_message: string } }

test('msgs/simulation_interfaces hash as rosidl generates them for the package (RIHS01)', () => {
  // from rosidl_generator_c's ResetSimulation__description.c of simulation_interfaces
  assert.equal(typeHash('simulation_interfaces/msg/Result'), 'RIHS01_cf43a306adff3337a0a47143d8f5689933bc70a30478f13b077dc1fe3bc5ad17');
  assert.equal(typeHash('simulation_interfaces/srv/ResetSimulation_Request'), 'RIHS01_2c766d09c3aa30f01fadc55a42fd760b63db358c7d1d3b6a64ea9978225ffbc7');
  assert.equal(typeHash('simulation_interfaces/srv/ResetSimulation_Response'), 'RIHS01_718428121e0f1755720878d3c28f1688da7581ee5a5d56d26d10d941a28a50a0');
  assert.equal(serviceTypeHash('simulation_interfaces/srv/ResetSimulation'), 'RIHS01_4ce285d7ff9b8ac70dcc95161f32bf54c05a6f4b13427990e41ab40c36c39646');
});

let domain = 210;
async function harness(opts: Partial<SimBridgeOptions> = {}) {
  const d = domain++;
  const robot = await SimRobot.forTask('arm_reach');
  const logs: string[] = [];
  const bridge = SimBridge.start({
    transport: new InprocTransport({ node: { name: 'sim_bridge', namespace: '/' }, domainId: d }),
    robot, clock: 'realtime', realTimeFactor: 10, seed: 7, logger: new Logger('sim_bridge', 'info', 'text', (l) => logs.push(l)), ...opts,
  });
  const peer = new InprocTransport({ node: { name: 'caller', namespace: '/' }, domainId: d });
  const call = async <R = Res>(service: string, type: string, request: Record<string, unknown> = {}) =>
    peer.createClient<Record<string, unknown>, R>(`/sim_bridge/${service}`, `simulation_interfaces/srv/${type}`).call(request, { timeoutMs: 5000 });
  const peerCall = async <R>(service: string, type: string, request: Record<string, unknown> = {}) =>
    peer.createClient<Record<string, unknown>, R>(`/sim_bridge/${service}`, type).call(request, { timeoutMs: 5000 });
  const close = async () => {
    await bridge.close();
    await peer.close();
    robot.close();
  };
  cleanup.push(close);
  return { bridge, robot, logs, call, peerCall, close };
}

test('simulation_interfaces over inproc: features, state, pause, step, reset, stop, play, quit, with the package\'s result codes', async () => {
  const h = await harness();
  const features = await h.call<{ features: { features: Iterable<number>; spawn_formats: string[]; custom_info: string } }>('get_simulator_features', 'GetSimulatorFeatures');
  assert.deepEqual([...features.features.features].sort((a, b) => a - b), [20, 24, 25, 26, 31, 32]);
  assert.match(features.features.custom_info, /arm_reach, realtime clock/);
  const state = async () => (await h.call<{ state: { state: number } } & Res>('get_simulation_state', 'GetSimulationState')).state.state;
  const setState = (s: number) => h.call('set_simulation_state', 'SetSimulationState', { state: { state: s } });
  assert.equal(await state(), PLAYING);

  // stepping while playing: refused as StepSimulation's definition says
  let r = await h.call('step_simulation', 'StepSimulation', { steps: 1n });
  assert.equal(r.result.result, OPERATION_FAILED);
  assert.match(r.result.error_message, /not paused/);

  assert.equal((await setState(PAUSED)).result.result, OK);
  assert.equal(await state(), PAUSED);
  assert.equal((await setState(PAUSED)).result.result, ALREADY_IN_TARGET_STATE);
  const steps = h.bridge.counters.steps;
  await sleep(30);
  assert.equal(h.bridge.counters.steps, steps, 'no steps while paused');
  r = await h.call('step_simulation', 'StepSimulation', { steps: 4n });
  assert.equal(r.result.result, OK);
  assert.equal(h.bridge.counters.steps, steps + 4, 'the reply comes once the 4 steps are done');
  assert.equal((await h.call('step_simulation', 'StepSimulation', { steps: 0n })).result.result, OPERATION_FAILED);

  // reset: the next episode at sim time 0; a partial scope is not something the bridge does
  assert.ok(h.robot.stepIndex > 0);
  r = await h.call('reset_simulation', 'ResetSimulation', { scope: 1 });
  assert.equal(r.result.result, FEATURE_UNSUPPORTED);
  assert.ok(h.robot.stepIndex > 0, 'a refused reset leaves the episode alone');
  r = await h.call('reset_simulation', 'ResetSimulation', { scope: 0 });
  assert.equal(r.result.result, OK);
  assert.equal(h.robot.stepIndex, 0);
  assert.equal(h.robot.time, 0);
  assert.equal(h.bridge.counters.resets, 2);

  // play, then stop (= reset and hold), then play from stopped
  assert.equal((await setState(PLAYING)).result.result, OK);
  await until('steps while playing', () => h.bridge.counters.steps > steps + 6);
  assert.equal((await setState(STOPPED)).result.result, OK);
  assert.equal(await state(), STOPPED);
  assert.equal(h.robot.stepIndex, 0, 'stopping resets');
  const stoppedAt = h.bridge.counters.steps;
  await sleep(30);
  assert.equal(h.bridge.counters.steps, stoppedAt, 'no steps while stopped');
  assert.equal((await setState(NO_WORLD)).result.result, FEATURE_UNSUPPORTED);
  assert.equal((await setState(PLAYING)).result.result, OK);
  await until('steps after playing from stopped', () => h.bridge.counters.steps > stoppedAt + 2);

  // quit ends the run as finishing its episodes does
  assert.equal((await setState(QUITTING)).result.result, OK);
  const summary = await h.bridge.done;
  assert.ok(summary.steps > 0);
  assert.equal((await setState(PLAYING)).result.result, STATE_TRANSITION_ERROR);
  assert.equal((await h.call('reset_simulation', 'ResetSimulation')).result.result, INCORRECT_STATE);
});

test('lockstep: SetSimulationState PLAYING starts a bridge still waiting for a controller; an answer that comes while stopped steps on play', async () => {
  const h = await harness({ clock: 'lockstep', lockstepTimeoutMs: 60_000 });
  await sleep(50);
  assert.equal(h.bridge.simulationState, STOPPED, 'waiting for a controller');
  assert.equal((await h.call('set_simulation_state', 'SetSimulationState', { state: { state: PAUSED } })).result.result, OK);
  assert.equal(h.bridge.simulationState, PAUSED);
  assert.equal((await h.call('step_simulation', 'StepSimulation', { steps: 3n })).result.result, OK);
  assert.equal(h.bridge.counters.steps, 3);
});

const skip = netnsSkipReason();

test('over rtps in a network namespace: `onestep service call` pauses, steps, resets and reads the state of `onestep sim-bridge`', { skip, timeout: 180_000 }, async () => {
  const cli = 'node bin/onestep.js';
  const call = (name: string, service: string, type: string, values = '{}') =>
    `echo "=== ${name}"; ${cli} service call /sim_bridge/${service} simulation_interfaces/srv/${type} '${values}' --transport rtps --timeout 20 2>&1; echo "exit=$?"`;
  const script = [
    // lockstep with no controller: the bridge waits (STOPPED) until told to play; missed commands then step it on
    `${cli} sim-bridge --task arm_reach --clock lockstep --lockstep-timeout-ms 200 --transport rtps --json > /tmp/sim-bridge-services-$$.log 2>&1 &`,
    'bridge=$!',
    call('features', 'get_simulator_features', 'GetSimulatorFeatures'),
    call('initial state', 'get_simulation_state', 'GetSimulationState'),
    call('pause', 'set_simulation_state', 'SetSimulationState', '{state: {state: 2}}'),
    call('state', 'get_simulation_state', 'GetSimulationState'),
    call('step', 'step_simulation', 'StepSimulation', '{steps: 5}'),
    call('reset', 'reset_simulation', 'ResetSimulation'),
    call('play twice', 'set_simulation_state', 'SetSimulationState', '{state: {state: 1}}'),
    call('play again', 'set_simulation_state', 'SetSimulationState', '{state: {state: 1}}'),
    call('quit', 'set_simulation_state', 'SetSimulationState', '{state: {state: 3}}'),
    'wait $bridge; echo "=== bridge exit=$?"',
    'cat /tmp/sim-bridge-services-$$.log; rm -f /tmp/sim-bridge-services-$$.log',
  ].join('\n');
  const r = await runInNetns(['bash', '-c', script], { timeoutMs: 170_000 });
  const out = r.stdout;
  const section = (name: string) => {
    const start = out.indexOf(`=== ${name}\n`);
    assert.ok(start >= 0, `section ${name} in:\n${out}\n${r.stderr}`);
    const rest = out.slice(start + name.length + 5);
    const end = rest.indexOf('\n=== ');
    return end < 0 ? rest : rest.slice(0, end);
  };
  const response = (name: string) => {
    const s = section(name);
    assert.match(s, /exit=0/, `${name}: ${s}`);
    return s.slice(s.indexOf('response'));
  };
  assert.match(response('features'), /features:\n(?:.*\n)*?\s+- 20\n(?:\s+- \d+\n)*\s+- 31/);
  assert.match(response('initial state'), /state:\n\s+state: 0\n/);
  assert.match(response('pause'), /result: 1\b/);
  assert.match(response('state'), /state:\n\s+state: 2\n/);
  assert.match(response('step'), /result: 1\b/);
  assert.match(response('reset'), /result: 1\b/);
  assert.match(response('play twice'), /result: 1\b/);
  assert.match(response('play again'), /result: 101\b/);
  assert.match(response('quit'), /result: 1\b/);
  assert.match(out, /=== bridge exit=0\n/, 'quitting ends the bridge cleanly');
  // the bridge's own account: started paused at step 0, 5 steps, then the reset (a log line each), then playing
  assert.match(out, /paused episode=0 step=0\n/);
  assert.match(out, /reset requested episode=0 step=5\n/, 'StepSimulation ran 5 steps while paused');
  assert.match(out, /resumed episode=1 step=0\n/);
  const summary = JSON.parse(out.split('\n').find((l) => l.startsWith('{"event":"summary"'))!);
  assert.ok(summary.counters.steps >= 5);
  assert.ok(summary.counters.commandsMissed >= 1, 'playing in lockstep without a controller: missed commands step it on');
});

test('episode end hold: the terminal state is published and held — commands and steps do nothing — until ~/reset_episode starts the seeded next one', async () => {
  const h = await harness({ clock: 'realtime', realTimeFactor: 50, episodeEnd: 'hold' });
  await until('the first episode ends', () => h.bridge.episodes.length === 1, 10_000);
  const held = h.bridge.counters.steps;
  assert.equal(held, 50);
  assert.equal(h.robot.stepIndex, 50, 'the terminal state stays');
  await sleep(60);
  assert.equal(h.bridge.counters.steps, held, 'nothing steps while the end is held');
  assert.equal((await h.call('set_simulation_state', 'SetSimulationState', { state: { state: PAUSED } })).result.result, OK);
  const r = await h.call('step_simulation', 'StepSimulation', { steps: 2n });
  assert.equal(r.result.result, OPERATION_FAILED);
  assert.match(r.result.error_message, /stopped after 0 of 2 steps: the episode ended \(episode end: hold\)/);

  const reset = (seed: bigint) => h.peerCall<{ success: boolean; message: string; episode: number; stamp: { sec: number; nanosec: number } }>('reset_episode', 'onestep_msgs/srv/ResetEpisode', { seed });
  const bad = await reset(-1n);
  assert.equal(bad.success, false);
  assert.match(bad.message, /seed must be an integer/);
  const ok = await reset(1234n);
  assert.equal(ok.success, true);
  assert.equal(ok.episode, 1);
  assert.deepEqual(ok.stamp, { sec: 0, nanosec: 0 });
  // the same start as an environment reset with that seed
  const fresh = await SimRobot.forTask('arm_reach');
  fresh.reset(1234);
  assert.deepEqual([...h.robot.observation], [...fresh.observation]);
  fresh.close();
  assert.equal((await h.call('step_simulation', 'StepSimulation', { steps: 2n })).result.result, OK);
  assert.equal(h.robot.stepIndex, 2);
});

test('a Cyclone DDS C client calls the bridge\'s simulation_interfaces services over rtps (and sees the package\'s type hash)', { skip, timeout: 180_000 }, async () => {
  const peers = servicePeersDir();
  const cyc = (name: string, type: string, service: string, value?: number) =>
    `echo "=== ${name}"; ${peers}/service_peer_cyclone --role client --type ${type} --service /sim_bridge/${service} --timeout 20${value === undefined ? '' : ` --value ${value}`} 2>&1; echo "exit=$?"`;
  const script = [
    'node bin/onestep.js sim-bridge --task arm_reach --clock lockstep --lockstep-timeout-ms 200 --transport rtps > /tmp/sim-bridge-cyclone-services-$$.log 2>&1 &',
    'bridge=$!',
    cyc('state before', 'GetSimulationState', 'get_simulation_state'),
    cyc('pause', 'SetSimulationState', 'set_simulation_state', PAUSED),
    cyc('step', 'StepSimulation', 'step_simulation', 4),
    cyc('state paused', 'GetSimulationState', 'get_simulation_state'),
    cyc('partial reset', 'ResetSimulation', 'reset_simulation', 1),
    cyc('reset', 'ResetSimulation', 'reset_simulation', 255),
    cyc('pause again', 'SetSimulationState', 'set_simulation_state', PAUSED),
    cyc('quit', 'SetSimulationState', 'set_simulation_state', QUITTING),
    'wait $bridge; echo "=== bridge exit=$?"',
    'cat /tmp/sim-bridge-cyclone-services-$$.log; rm -f /tmp/sim-bridge-cyclone-services-$$.log',
  ].join('\n');
  const r = await runInNetns(['bash', '-c', script], { timeoutMs: 170_000 });
  const out = r.stdout;
  const reply = (name: string) => {
    const start = out.indexOf(`=== ${name}\n`);
    assert.ok(start >= 0, `${name} in:\n${out}\n${r.stderr}`);
    const rest = out.slice(start);
    const line = /^REPLY 0 [\d.]+ (.*)$/m.exec(rest.slice(0, rest.indexOf('exit=')));
    assert.ok(line, `${name}: ${rest.slice(0, 600)}`);
    return line[1];
  };
  assert.equal(reply('state before'), 'state=0 result=1');
  assert.equal(reply('pause'), 'result=1 message=""');
  assert.equal(reply('step'), 'result=1 message=""');
  assert.equal(reply('state paused'), 'state=2 result=1');
  assert.match(reply('partial reset'), /^result=0 message="scope 1: the bridge resets time and state together/);
  assert.equal(reply('reset'), 'result=1 message=""');
  assert.match(reply('pause again'), /^result=101 message="already STATE_PAUSED"/);
  assert.equal(reply('quit'), 'result=1 message=""');
  assert.match(out, /=== bridge exit=0\n/);
  assert.match(out, /reset requested episode=0 step=4\n/, 'the 4 steps happened before the reset');
  // the request reader's USER_DATA carries its message's type hash: ResetSimulation_Request's as rosidl generates it
  const hashes = new Map([...out.matchAll(/=== (\w[\w ]*)\n(?:(?!===).*\n)*?SERVER_TYPEHASH (RIHS01_\w+)/g)].map((m) => [m[1], m[2]]));
  assert.equal(hashes.get('reset'), 'RIHS01_2c766d09c3aa30f01fadc55a42fd760b63db358c7d1d3b6a64ea9978225ffbc7');
  assert.equal(hashes.get('pause'), typeHash('simulation_interfaces/srv/SetSimulationState_Request'));
});
