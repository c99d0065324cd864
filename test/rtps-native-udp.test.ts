// The native send path of the rtps platform (libc through koffi): a datagram sent from the caller's buffer arrives
// intact on loopback, the buffer may be reused at once, and a closed or impossible sender says so instead of
// throwing (the platform then falls back to node:dgram).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { NativeUdpSender } from '../src/ros/rtps/platform/native-udp.ts';
import { NodeUdpPlatform } from '../src/ros/rtps/platform/node-udp.ts';

const linux = process.platform === 'linux';

async function receiver(): Promise<{ port: number; got: Buffer[]; close: () => void }> {
  const s = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { port: s.address().port, got, close: () => s.close() };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

test('a native sender delivers datagrams from the caller\'s buffer, which may be reused at once', { skip: !linux && 'Linux only' }, async () => {
  const r = await receiver();
  const sender = NativeUdpSender.open('127.0.0.1', r.port);
  assert.ok(sender, 'koffi and libc are available on Linux');
  const buf = new Uint8Array(64);
  for (let k = 0; k < 3; k++) {
    buf.fill(k + 1);
    assert.equal(sender!.send(buf, 10 + k), true);
  }
  await until(() => r.got.length === 3);
  assert.deepEqual(r.got.map((b) => [b.length, b[0]]), [[10, 1], [11, 2], [12, 3]]);
  sender!.close();
  assert.equal(sender!.send(buf, 4), false, 'a closed sender refuses');
  r.close();
  assert.equal(NativeUdpSender.open('not-an-address', 7400), null);
});

test('the platform\'s unicast sends (connected route) and multicast-free fallback deliver the same bytes', async () => {
  const r = await receiver();
  const platform = new NodeUdpPlatform();
  const socket = await platform.bind({ address: '127.0.0.1', port: 0, reuseAddr: false, onDatagram: () => {} });
  const buf = new Uint8Array([9, 8, 7, 6, 5]);
  socket.send(buf, 5, r.port, '127.0.0.1');
  buf[0] = 0; // the caller may overwrite its buffer as soon as send returns
  socket.send(buf, 3, r.port, '127.0.0.1');
  await until(() => r.got.length === 2);
  assert.deepEqual(r.got.map((b) => [...b]), [[9, 8, 7, 6, 5], [0, 8, 7]]);
  assert.equal(platform.sendErrors, 0);
  socket.close();
  r.close();
});

test('with the native path off (ONESTEP_RTPS_NATIVE_SEND=0), connected dgram sockets deliver the same bytes', async () => {
  const { execFile } = await import('node:child_process');
  const script = `
    import dgram from 'node:dgram';
    import { NodeUdpPlatform } from './src/ros/rtps/platform/node-udp.ts';
    import { NativeUdpSender } from './src/ros/rtps/platform/native-udp.ts';
    const r = dgram.createSocket('udp4'); const got = [];
    r.on('message', (m) => got.push([...m]));
    await new Promise((ok) => r.bind(0, '127.0.0.1', ok));
    const platform = new NodeUdpPlatform();
    const s = await platform.bind({ address: '127.0.0.1', port: 0, reuseAddr: false, onDatagram: () => {} });
    const buf = new Uint8Array([1, 2, 3, 4]);
    for (let k = 0; k < 5; k++) { buf[0] = k; s.send(buf, 4, r.address().port, '127.0.0.1'); await new Promise((ok) => setTimeout(ok, 20)); }
    await new Promise((ok) => setTimeout(ok, 100));
    console.log(JSON.stringify({ native: NativeUdpSender.open('127.0.0.1', 9) !== null, got, errors: platform.sendErrors }));
    s.close(); r.close();`;
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, ONESTEP_RTPS_NATIVE_SEND: '0' } }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  const r = JSON.parse(out.trim().split('\n').pop()!);
  assert.equal(r.native, false, 'the variable turns the native path off');
  assert.deepEqual(r.got, [0, 1, 2, 3, 4].map((k) => [k, 2, 3, 4]), 'first through the shared socket while connecting, then connected');
  assert.equal(r.errors, 0);
});
