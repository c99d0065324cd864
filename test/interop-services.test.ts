// ROS 2 services across vendors, in private network namespaces: peers built from Debian's Cyclone DDS (speaking
// rmw_cyclonedds's request header) and Fast DDS (speaking rmw_fastrtps's sample identities) against onestep.
// `onestep serve`: both vendors' clients call ~/reload and ~/enable, read and set parameters (good values applied,
// bad and read-only ones refused with a reason), `onestep param` and `onestep service` see the same; the type hash
// in the service endpoints' USER_DATA is Jazzy's. `onestep service call`: Cyclone and Fast DDS servers answer; a
// server that never answers times out; a server killed mid-call fails the call once its lease runs out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { interopSkipReason } from './peers/matrix.ts';
import { REPO_ROOT, runInNetns } from './helpers/netns.ts';
import { servicePeersDir } from './peers/service-peers.ts';
import { ARM_OBSERVATION_NAMES, writeArmPolicy } from './serve-fixture.ts';

const skip = interopSkipReason();
const work = join(REPO_ROOT, '.test-out', `interop-services-${process.pid}`);
const model = join(work, 'arm.onnx');
let peers = '';

before(() => {
  if (skip) return;
  peers = servicePeersDir();
  mkdirSync(work, { recursive: true });
  writeArmPolicy(model, { observationNames: ARM_OBSERVATION_NAMES.slice(0, 14) });
});
after(() => rmSync(work, { recursive: true, force: true }));

/** The lines of `out` between `=== name` and the next marker. */
function section(out: string, name: string): string {
  const start = out.indexOf(`=== ${name}\n`);
  if (start < 0) return '';
  const rest = out.slice(start + name.length + 5);
  const end = rest.indexOf('\n=== ');
  return end < 0 ? rest : rest.slice(0, end + 1);
}

test('serve: Cyclone-style and Fast DDS-style clients call ~/reload and ~/enable and read and set parameters; onestep param and service agree', { skip, timeout: 180_000 }, async () => {
  const cyc = `${peers}/service_peer_cyclone --role client --timeout 20`;
  const fdds = `${peers}/service_peer_fastdds --role client --timeout 20`;
  const cli = 'node bin/onestep.js';
  const step = (name: string, cmd: string) => `echo "=== ${name}"; ${cmd} 2>&1; echo "exit=$?"`;
  const script = [
    `${cli} serve --model ${model} --transport rtps --ros-args -p watch_model:=false -p diagnostics.rate_hz:=0 -p safety.watchdog_ms:=0 -p autostart:=false > ${work}/serve.log 2>&1 &`,
    'serve=$!',
    'sleep 4',
    step('cyclone reload', `${cyc} --type Trigger --service /policy_node/reload`),
    step('fastdds reload', `${fdds} --type Trigger --service /policy_node/reload`),
    step('cyclone get', `${cyc} --type GetParameters --service /policy_node/get_parameters --names safety.watchdog_ms,mode,autostart,no.such`),
    step('cyclone set', `${cyc} --type SetParameters --service /policy_node/set_parameters --set safety.watchdog_ms=double:50`),
    step('fastdds get', `${fdds} --type GetParameters --service /policy_node/get_parameters --names safety.watchdog_ms`),
    step('fastdds set', `${fdds} --type SetParameters --service /policy_node/set_parameters --set safety.blend_in_steps=int:5`),
    step('cyclone get int', `${cyc} --type GetParameters --service /policy_node/get_parameters --names safety.blend_in_steps`),
    step('cyclone set read-only', `${cyc} --type SetParameters --service /policy_node/set_parameters --set mode=string:timer`),
    step('fastdds set bad', `${fdds} --type SetParameters --service /policy_node/set_parameters --set safety.watchdog_ms=double:-1`),
    step('cyclone enable', `${cyc} --type SetBool --service /policy_node/enable --data true`),
    step('param get', `${cli} param get /policy_node safety.watchdog_ms --transport rtps`),
    step('param set', `${cli} param set /policy_node safety.max_step "[0.02]" --transport rtps`),
    step('param set bad', `${cli} param set /policy_node safety.lower "[5]" --transport rtps`),
    step('param dump', `${cli} param dump /policy_node --transport rtps`),
    step('service list', `${cli} service list -t --wait 1.5 --transport rtps`),
    step('service call', `${cli} service call /policy_node/disable std_srvs/srv/SetBool "{data: true}" --transport rtps`),
    'kill -INT $serve; wait $serve',
  ].join('\n');
  const r = await runInNetns(['sh', '-c', script], { timeoutMs: 170_000 });
  const out = r.stdout;
  const why = `${out}\n${r.stderr}`;
  // Cyclone's client carries the header; onestep's reply echoes it: the reply arrives and says what loaded
  assert.match(section(out, 'cyclone reload'), /^REPLY 0 [\d.]+ success=true message=loaded .*arm\.onnx \(fixture-0001\)$/m, why);
  assert.match(section(out, 'fastdds reload'), /^REPLY 0 [\d.]+ success=true message=loaded /m, why);
  // the request reader advertises Jazzy's type hash of std_srvs/srv/Trigger_Request
  assert.match(section(out, 'cyclone reload'), /^SERVER_TYPEHASH RIHS01_d010825374ce8918e72bfd826c82603e60f45419e932ea976f807b74a863a199$/m, why);
  assert.match(section(out, 'cyclone get'), /^REPLY 0 [\d.]+ values=4 double:0 string:event bool:false type0$/m, why);
  assert.match(section(out, 'cyclone set'), /^REPLY 0 [\d.]+ results=1 successful=true reason=""$/m, why);
  assert.match(section(out, 'fastdds get'), /^REPLY 0 [\d.]+ values=1 double:50$/m, 'a value set by one vendor is read by the other');
  assert.match(section(out, 'fastdds set'), /^REPLY 0 [\d.]+ results=1 successful=true/m, why);
  assert.match(section(out, 'cyclone get int'), /^REPLY 0 [\d.]+ values=1 int:5$/m, why);
  assert.match(section(out, 'cyclone set read-only'), /successful=false reason="parameter "mode" is read-only while the node runs/, why);
  assert.match(section(out, 'fastdds set bad'), /successful=false reason=".*safety\.watchdog_ms.*≥ 0"/, why);
  assert.match(section(out, 'cyclone enable'), /^REPLY 0 [\d.]+ success=true message=passive → /m, why);
  assert.match(section(out, 'param get'), /^Double value is: 50\nexit=0$/m, why);
  assert.match(section(out, 'param set'), /^Set parameter successful\nexit=0$/m, why);
  assert.match(section(out, 'param set bad'), /^onestep: setting parameter safety\.lower failed: .*lower 5 > upper .*\nexit=1$/m, why);
  const dump = section(out, 'param dump');
  assert.match(dump, /^\/policy_node:\n {2}ros__parameters:\n/m, why);
  assert.match(dump, /^ {4}safety:\n(?: {6}.*\n)* {6}watchdog_ms: 50\n/m, why);
  assert.match(dump, /^ {6}blend_in_steps: 5$/m);
  assert.match(dump, /^ {6}max_step:\n {8}- 0\.02$/m);
  const services = section(out, 'service list');
  for (const s of ['/policy_node/reload [std_srvs/srv/Trigger]', '/policy_node/enable [std_srvs/srv/SetBool]', '/policy_node/set_parameters [rcl_interfaces/srv/SetParameters]']) {
    assert.ok(services.includes(s), `${s} listed:\n${services}`);
  }
  assert.match(section(out, 'service call'), /^response \([\d.]+ ms\):\nsuccess: true\nmessage: active → hold/m, why);
});

test('onestep service call: a Cyclone-style and a Fast DDS-style server answer; no answer times out; a server killed mid-call fails the call', { skip, timeout: 120_000 }, async () => {
  const call = 'node bin/onestep.js service call --transport rtps';
  const step = (name: string, cmd: string) => `echo "=== ${name}"; ${cmd} 2>&1; echo "exit=$?"`;
  const script = [
    `${peers}/service_peer_cyclone --role server --type SetBool --service /cyc --count 1 --timeout 60 >/dev/null &`,
    `${peers}/service_peer_fastdds --role server --type SetBool --service /fdds --count 1 --timeout 60 >/dev/null &`,
    `${peers}/service_peer_fastdds --role server --type Trigger --service /silent --hold-ms -1 --timeout 60 >/dev/null & silent=$!`,
    `${peers}/service_peer_cyclone --role server --type Trigger --service /doomed --hold-ms -1 --lease 2 --timeout 60 > ${work}/doomed.out & doomed=$!`,
    step('cyclone', `${call} /cyc std_srvs/srv/SetBool "{data: true}"`),
    step('fastdds', `${call} /fdds std_srvs/srv/SetBool "{data: false}"`),
    step('timeout', `${call} /silent std_srvs/srv/Trigger --timeout 1.5`),
    // the call reaches the doomed server (REQUEST), then the server is SIGKILLed: no disposal, only its lease (2 s) ends it
    `(t0=$(date +%s%N); ${call} /doomed std_srvs/srv/Trigger --timeout 30 > ${work}/killed.out 2>&1; echo "exit=$? ms=$(( ($(date +%s%N) - t0) / 1000000 ))" >> ${work}/killed.out) & client=$!`,
    `for i in $(seq 1 100); do grep -q '^REQUEST' ${work}/doomed.out 2>/dev/null && break; sleep 0.1; done`,
    'kill -9 $doomed; killed=$(date +%s%N); wait $client',
    `echo "=== killed"; cat ${work}/killed.out; echo "after_kill_ms=$(( ($(date +%s%N) - killed) / 1000000 ))"`,
    'kill $silent; wait',
  ].join('\n');
  const r = await runInNetns(['sh', '-c', script], { timeoutMs: 110_000 });
  const out = r.stdout;
  const why = `${out}\n${r.stderr}`;
  assert.match(section(out, 'cyclone'), /^response \([\d.]+ ms\):\nsuccess: true\nmessage: cyclone:true\nexit=0$/m, why);
  assert.match(section(out, 'fastdds'), /^response \([\d.]+ ms\):\nsuccess: false\nmessage: fastdds:false\nexit=0$/m, why);
  assert.match(section(out, 'timeout'), /^onestep: service \/silent: no reply within 1500 ms\nexit=1$/m, why);
  const killed = section(out, 'killed');
  assert.match(killed, /^onestep: service \/doomed: the server went away before it replied\nexit=1 /m, why);
  const afterKill = Number(/after_kill_ms=(\d+)/.exec(killed)?.[1]);
  assert.ok(afterKill < 2000 + 1500, `the call failed ${afterKill} ms after the kill (lease 2 s), long before its 30 s timeout`);
});
