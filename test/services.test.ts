// ROS 2 services on the inproc transport and on the rtps transport (two participants on an in-memory network, each
// rmw request-identity convention): replies match their requests under overlapping calls, timeouts, a server that
// goes away mid-call, bad requests, a handler that throws, closing, and the service graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InprocTransport } from '../src/ros/inproc.ts';
import { RtpsTransport } from '../src/ros/rtps/transport.ts';
import { MemoryNetwork } from '../src/ros/rtps/platform/memory-udp.ts';
import { ServiceCallError } from '../src/ros/services/errors.ts';
import type { Transport } from '../src/ros/transport.ts';

type SetBoolReq = { data: boolean };
type TriggerRes = { success: boolean; message: string };

let domain = 300;
const quiet = { warn: () => {}, debug: () => {} };

interface Pair {
  server: Transport;
  client: Transport;
  errors: string[];
  close(): Promise<void>;
}

async function inprocPair(): Promise<Pair> {
  const d = domain++;
  const errors: string[] = [];
  const onError = (err: unknown, where: string) => errors.push(`${where}: ${(err as Error).message}`);
  const server = new InprocTransport({ node: { name: 'server', namespace: '/' }, domainId: d, onError });
  const client = new InprocTransport({ node: { name: 'client', namespace: '/' }, domainId: d, onError });
  return { server, client, errors, close: async () => { await server.close(); await client.close(); } };
}

async function rtpsPair(serviceConvention: 'auto' | 'cyclone_header' = 'auto'): Promise<Pair> {
  const net = new MemoryNetwork();
  const errors: string[] = [];
  const onError = (err: unknown, where: string) => errors.push(`${where}: ${(err as Error).message}`);
  const opts = { platform: net.platform(), env: {}, logger: quiet, onError, serviceConvention };
  const server = await RtpsTransport.create({ node: { name: 'server', namespace: '/' }, ...opts });
  const client = await RtpsTransport.create({ node: { name: 'client', namespace: '/' }, ...opts });
  const deadline = Date.now() + 5000;
  while (server.participant.remote.size < 1 || client.participant.remote.size < 1) {
    if (Date.now() > deadline) throw new Error('no discovery');
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    server, client, errors,
    close: async () => { await server.close(); await client.close(); },
  };
}

const variants: [string, () => Promise<Pair>][] = [
  ['inproc', inprocPair],
  ['rtps, sample-identity convention (rmw_fastrtps)', () => rtpsPair()],
  // both sides forced to rmw_cyclonedds's request header (with a Cyclone peer it is picked by vendor id)
  ['rtps, request-header convention (rmw_cyclonedds)', () => rtpsPair('cyclone_header')],
];

for (const [name, makePair] of variants) {
  test(`${name}: 40 overlapping calls each get their own reply; the handler sees the request`, async () => {
    const p = await makePair();
    try {
      let seen = 0;
      p.server.createService<SetBoolReq & { n?: number }, TriggerRes>('~/echo', 'std_srvs/srv/SetBool', async (req, info) => {
        seen++;
        assert.ok(info.sequence > 0n);
        await new Promise((r) => setTimeout(r, Math.random() * 20)); // replies leave out of order
        return { success: req.data, message: `got ${req.data}` };
      });
      const client = p.client.createClient<SetBoolReq, TriggerRes>('/server/echo', 'std_srvs/srv/SetBool');
      assert.equal(client.name, '/server/echo');
      assert.ok(await client.waitForService(5000), 'server available');
      const calls = Array.from({ length: 40 }, (_, i) => client.call({ data: i % 3 === 0 }, { timeoutMs: 5000 }).then((r) => ({ i, r })));
      for (const { i, r } of await Promise.all(calls)) {
        assert.equal(r.success, i % 3 === 0);
        assert.equal(r.message, `got ${i % 3 === 0}`);
      }
      assert.equal(seen, 40);
      const graph = p.client.services().find((s) => s.service === '/server/echo');
      assert.deepEqual(graph?.types, ['std_srvs/srv/SetBool']);
      assert.equal(graph?.servers, 1);
      assert.equal(graph?.clients, 1);
      assert.deepEqual(p.errors, []);
    } finally {
      await p.close();
    }
  });

  test(`${name}: timeouts (no server, a slow handler, a throwing handler) and a server that keeps serving`, async () => {
    const p = await makePair();
    try {
      const nobody = p.client.createClient<object, TriggerRes>('/nobody', 'std_srvs/srv/Trigger');
      const t0 = performance.now();
      await assert.rejects(nobody.call({}, { timeoutMs: 150 }), (e: Error) => e instanceof ServiceCallError && e.kind === 'timeout' && /no server/.test(e.message) && /\/nobody/.test(e.message));
      assert.ok(performance.now() - t0 >= 140);
      let mode: 'slow' | 'throw' | 'ok' = 'slow';
      p.server.createService<object, TriggerRes>('/work', 'std_srvs/srv/Trigger', async () => {
        if (mode === 'throw') throw new Error('handler bug');
        if (mode === 'slow') await new Promise((r) => setTimeout(r, 400));
        return { success: true, message: mode };
      });
      const client = p.client.createClient<object, TriggerRes>('/work', 'std_srvs/srv/Trigger');
      assert.ok(await client.waitForService(5000));
      await assert.rejects(client.call({}, { timeoutMs: 100 }), (e: Error) => e instanceof ServiceCallError && e.kind === 'timeout' && /no reply within 100 ms/.test(e.message));
      mode = 'throw';
      await assert.rejects(client.call({}, { timeoutMs: 200 }), (e: Error) => e instanceof ServiceCallError && e.kind === 'timeout');
      assert.ok(p.errors.some((e) => /handler failed/.test(e) && /handler bug/.test(e)), p.errors.join('\n'));
      await new Promise((r) => setTimeout(r, 400)); // the slow reply comes late and is dropped
      mode = 'ok';
      assert.deepEqual(await client.call({}, { timeoutMs: 2000 }), { success: true, message: 'ok' });
      // a request that does not fit the type is refused before it is sent
      const bad = p.client.createClient<unknown, TriggerRes>('/server/flag', 'std_srvs/srv/SetBool');
      await assert.rejects(bad.call({ data: 'yes' }, { timeoutMs: 100 }), (e: Error) => e instanceof ServiceCallError && (e.kind === 'request' || e.kind === 'timeout'));
    } finally {
      await p.close();
    }
  });

  test(`${name}: a server that goes away mid-call fails the call at once; closing the client fails its calls`, async () => {
    const p = await makePair();
    try {
      let release!: () => void;
      const server = p.server.createService<object, TriggerRes>('/stuck', 'std_srvs/srv/Trigger', () => new Promise((r) => (release = () => r({ success: true, message: '' }))));
      const client = p.client.createClient<object, TriggerRes>('/stuck', 'std_srvs/srv/Trigger');
      assert.ok(await client.waitForService(5000));
      const call = client.call({}, { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 50));
      const t0 = performance.now();
      server.close();
      await assert.rejects(call, (e: Error) => e instanceof ServiceCallError && e.kind === 'server_lost');
      assert.ok(performance.now() - t0 < 2000, 'failed at once, not at the timeout');
      release();
      assert.equal(client.isAvailable(), false);
      p.server.createService<object, TriggerRes>('/stuck', 'std_srvs/srv/Trigger', () => new Promise(() => {}));
      assert.ok(await client.waitForService(5000));
      const pending = client.call({}, { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 20));
      client.close();
      await assert.rejects(pending, (e: Error) => e instanceof ServiceCallError && e.kind === 'closed');
      await assert.rejects(client.call({}), (e: Error) => e instanceof ServiceCallError && e.kind === 'closed');
    } finally {
      await p.close();
    }
  });
}

test('rtps: service endpoints carry Jazzy\'s USER_DATA (clientid/serviceid and the request/response type hashes)', async () => {
  const p = await rtpsPair();
  try {
    p.server.createService('/svc', 'std_srvs/srv/Trigger', () => ({ success: true, message: '' }));
    const client = p.client.createClient('/svc', 'std_srvs/srv/Trigger');
    assert.ok(await client.waitForService(5000));
    const remote = [...(p.client as RtpsTransport).participant.remoteEndpoints()].filter((e) => e.data.topicName.startsWith('r'));
    const text = (e: (typeof remote)[number]) => new TextDecoder().decode(e.data.userData);
    const request = remote.find((e) => e.data.topicName === 'rq/svcRequest')!;
    const reply = remote.find((e) => e.data.topicName === 'rr/svcReply')!;
    assert.equal(request.data.typeName, 'std_srvs::srv::dds_::Trigger_Request_');
    assert.match(text(request), /^serviceid=[0-9a-f.]+;typehash=RIHS01_d010825374ce8918e72bfd826c82603e60f45419e932ea976f807b74a863a199;$/);
    assert.match(text(reply), /^serviceid=[0-9a-f.]+;typehash=RIHS01_[0-9a-f]{64};$/);
    assert.equal(text(request).split(';')[0], text(reply).split(';')[0], 'one service id on both endpoints');
    const topics = [...(p.server as RtpsTransport).participant.remoteEndpoints()].filter((e) => e.data.topicName === 'rq/svcRequest');
    assert.match(new TextDecoder().decode(topics[0].data.userData), /^clientid=/);
  } finally {
    await p.close();
  }
});
