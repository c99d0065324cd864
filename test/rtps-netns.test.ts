// Two onestep processes talking RTPS over real UDP inside a private network namespace (`unshare -n`, so no
// packet leaves the machine): reliable and best-effort topics, 240 KB fragmented samples, a transient-local
// late joiner, and lease expiry after the peer is SIGKILLed; once with multicast discovery on `lo`, once on a
// `lo` without multicast (unicast fallback to the well-known localhost ports).
//
// This file is also the program run inside the namespace: RTPS_NETNS_ROLE=scenario hosts participant A and
// spawns RTPS_NETNS_ROLE=peer (participant B) as a second process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { netnsSkipReason } from './helpers/netns.ts';

const SELF = fileURLToPath(import.meta.url);
const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIG = 30_000; // float64 elements: 240 KB per sample
const PEER_LEASE_S = 1.5;

interface ScenarioResult {
  multicast: boolean;
  reliable: number;
  reliableInOrder: boolean;
  bestEffort: number;
  big: number;
  bigIntact: boolean;
  transientLocal: string[];
  leaseExpiryMs: number;
  expiredBy: string;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function runPeer(): Promise<void> {
  const { RtpsTransport } = await import('../src/ros/rtps/transport.ts');
  const t = await RtpsTransport.create({ node: { name: 'peer_b', namespace: '/' }, leaseDuration: PEER_LEASE_S, announcePeriod: 0.3 });
  const tl = t.advertise('/tl', 'std_msgs/msg/String', { reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth: 5 });
  for (let i = 0; i < 10; i++) tl.publish({ data: `tl ${i}` });
  const rel = t.advertise('/rel', 'std_msgs/msg/String', { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 200 });
  const be = t.advertise('/be', 'std_msgs/msg/String', 'sensor_data');
  const big = t.advertise('/big', 'std_msgs/msg/Float64MultiArray', { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 4 });
  await until(() => rel.matchedSubscriptions() > 0 && be.matchedSubscriptions() > 0 && big.matchedSubscriptions() > 0, 20000, 'peer match');
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 200; i++) {
    rel.publish({ data: `rel ${i}` });
    be.publish({ data: `be ${i}` });
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  for (let k = 0; k < 3; k++) {
    const data = new Float64Array(BIG);
    for (let j = 0; j < BIG; j++) data[j] = k * 1e6 + j;
    big.publish({ layout: { dim: [], data_offset: k }, data });
  }
  process.stdout.write('SENT\n');
  setInterval(() => {}, 1000); // stay up until killed
}

async function runScenario(): Promise<void> {
  const { RtpsTransport } = await import('../src/ros/rtps/transport.ts');
  const t = await RtpsTransport.create({ node: { name: 'scenario_a', namespace: '/' }, logger: { warn: (m) => process.stderr.write(`${m}\n`) } });
  const rel: string[] = [];
  const be: string[] = [];
  const big: { data_offset: number; ok: boolean }[] = [];
  t.subscribe('/rel', 'std_msgs/msg/String', 'default', (m: { data: string }) => rel.push(m.data));
  t.subscribe('/be', 'std_msgs/msg/String', 'sensor_data', (m: { data: string }) => be.push(m.data));
  t.subscribe('/big', 'std_msgs/msg/Float64MultiArray', 'default', (m: { layout: { data_offset: number }; data: Float64Array }) => {
    const k = m.layout.data_offset;
    let ok = m.data.length === BIG;
    for (let j = 0; ok && j < BIG; j += 997) ok = m.data[j] === k * 1e6 + j;
    big.push({ data_offset: k, ok });
  });
  const peer = spawn(process.execPath, ['--import', 'tsx', SELF], { cwd: REPO, env: { ...process.env, RTPS_NETNS_ROLE: 'peer' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let sent = false;
  createInterface({ input: peer.stdout! }).on('line', (l) => {
    if (l === 'SENT') sent = true;
  });
  try {
    await until(() => sent, 40000, 'peer to publish');
    await until(() => rel.length >= 200 && big.length >= 3, 15000, `reliable samples (${rel.length}/200, big ${big.length}/3)`);
    const tl: string[] = [];
    t.subscribe('/tl', 'std_msgs/msg/String', { reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth: 10 }, (m: { data: string }) => tl.push(m.data));
    await until(() => tl.length >= 5, 10000, 'transient-local history');
    await new Promise((r) => setTimeout(r, 200));
    let lostAt = 0;
    let expiredBy = '';
    t.participant.on('participantLost', (_rp, why) => {
      lostAt = performance.now();
      expiredBy = why;
    });
    const killedAt = performance.now();
    peer.kill('SIGKILL');
    await until(() => lostAt > 0, 10000, 'lease expiry');
    const result: ScenarioResult = {
      multicast: t.participant.multicastAvailable,
      reliable: rel.length,
      reliableInOrder: rel.every((s, i) => s === `rel ${i}`),
      bestEffort: be.length,
      big: big.length,
      bigIntact: big.every((b, i) => b.ok && b.data_offset === i),
      transientLocal: tl,
      leaseExpiryMs: Math.round(lostAt - killedAt),
      expiredBy,
    };
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  } finally {
    peer.kill('SIGKILL');
    await t.close();
  }
}

/** `unshare -n` as root; an unprivileged user namespace (`-rn`) otherwise; undefined when neither works. */
function unshareFlags(): string | undefined {
  for (const flags of ['-n', '-rn']) if (spawnSync('unshare', [flags, 'true']).status === 0) return flags;
  return undefined;
}

function runInNamespace(flags: string, multicast: boolean): Promise<ScenarioResult> {
  const setup = multicast ? 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo' : 'ip link set lo up';
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', [flags, 'sh', '-c', `${setup} && exec "$@"`, 'sh', process.execPath, '--import', 'tsx', SELF], {
      cwd: REPO,
      env: { ...process.env, RTPS_NETNS_ROLE: 'scenario', ROS_DOMAIN_ID: '', ROS_LOCALHOST_ONLY: '', ROS_AUTOMATIC_DISCOVERY_RANGE: '', ROS_STATIC_PEERS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) reject(new Error(`scenario failed (exit ${code}): ${err.trim().split('\n').slice(-5).join(' | ')}`));
      else resolve(JSON.parse(line.slice(7)) as ScenarioResult);
    });
  });
}

function check(r: ScenarioResult, multicast: boolean): void {
  assert.equal(r.multicast, multicast, 'multicast availability detected');
  assert.equal(r.reliable, 200);
  assert.ok(r.reliableInOrder, 'reliable samples in order, none duplicated');
  assert.ok(r.bestEffort >= 150 && r.bestEffort <= 200, `best effort delivered most (${r.bestEffort}/200)`);
  assert.equal(r.big, 3);
  assert.ok(r.bigIntact, '240 KB samples intact and in order');
  assert.deepEqual(r.transientLocal, ['tl 5', 'tl 6', 'tl 7', 'tl 8', 'tl 9']);
  assert.equal(r.expiredBy, 'lease');
  assert.ok(r.leaseExpiryMs >= PEER_LEASE_S * 1000 - 400 && r.leaseExpiryMs < PEER_LEASE_S * 1000 + 1500, `lease expiry after ${r.leaseExpiryMs} ms`);
}

const role = process.env.RTPS_NETNS_ROLE;
if (role === 'peer') await runPeer();
else if (role === 'scenario') await runScenario();
else {
  const flags = unshareFlags();
  const skip = netnsSkipReason() ?? (flags ? false : 'private network namespaces (unshare -n / -rn) are not available here');
  test('two onestep processes, lo with multicast: reliable, best effort, 240 KB fragments, transient local, lease', { skip, timeout: 120_000 }, async () => {
    const r = await runInNamespace(flags!, true);
    console.log(JSON.stringify(r));
    check(r, true);
  });
  test('two onestep processes, lo without multicast: unicast discovery on the well-known ports', { skip, timeout: 120_000 }, async () => {
    const r = await runInNamespace(flags!, false);
    console.log(JSON.stringify(r));
    check(r, false);
  });
}
