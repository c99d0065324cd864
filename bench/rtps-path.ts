// The per-message JavaScript cost of onestep's RTPS path, without the kernel and without node:dgram: a
// sensor_msgs/JointState (7 joints) published through RtpsTransport into a socket that only counts, and the
// datagram that publish built fed back into the subscribing participant's receive entry point (the function
// node:dgram's 'message' event calls), decoded and handed to the subscription callback.
//   node --import tsx bench/rtps-path.ts [--iterations 200000] [--rounds 7] [--reliability reliable|best_effort]
//   node --cpu-prof --import tsx bench/rtps-path.ts ...   (where the time goes)
// Prints µs per message, the median of the rounds, for: the codec alone (encode into a reused buffer; decode),
// publish (encode + RTPS writer + history), receive (RTPS receiver + reader + decode + callback), and the sum. Two
// participants on the in-memory network discover each other first; nothing leaves the process.
import { RtpsTransport } from '../src/ros/rtps/transport.ts';
import { MemoryNetwork } from '../src/ros/rtps/platform/memory-udp.ts';
import type { BindOptions, UdpPlatform, UdpSocket } from '../src/ros/rtps/platform/udp.ts';
import { getMessageCodec } from '../src/ros/msgs/index.ts';
import { median } from '../src/core/latency.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const iterations = Number(opt('iterations', '200000'));
const rounds = Number(opt('rounds', '7'));
const reliability = opt('reliability', 'reliable') as 'reliable' | 'best_effort';

/** The memory network, with a switch that turns every send into a capture of the last datagram. */
class CapturingPlatform implements UdpPlatform {
  muted = false;
  last = new Uint8Array(0);
  lastLength = 0;
  sent = 0;
  private readonly inner: UdpPlatform;
  constructor(net: MemoryNetwork) {
    this.inner = net.platform();
  }
  get sendErrors() {
    return this.inner.sendErrors;
  }
  interfaces() {
    return this.inner.interfaces();
  }
  async bind(options: BindOptions): Promise<UdpSocket> {
    const s = await this.inner.bind(options);
    return {
      port: s.port,
      send: (bytes, length, port, address) => {
        if (!this.muted) return s.send(bytes, length, port, address);
        this.sent++;
        if (this.last.length < length) this.last = new Uint8Array(length * 2);
        this.last.set(bytes.subarray(0, length));
        this.lastLength = length;
      },
      joinMulticast: (g, i) => s.joinMulticast(g, i),
      setMulticastInterface: (i) => s.setMulticastInterface(i),
      close: () => s.close(),
    };
  }
}

const net = new MemoryNetwork();
const pa = new CapturingPlatform(net);
const pb = new CapturingPlatform(net);
const quiet = { warn: () => {}, debug: () => {} };
const a = await RtpsTransport.create({ node: { name: 'robot', namespace: '/' }, platform: pa, env: {}, logger: quiet });
const b = await RtpsTransport.create({ node: { name: 'policy', namespace: '/' }, platform: pb, env: {}, logger: quiet });
const qos = { reliability, durability: 'volatile' as const, history: 'keep_last' as const, depth: 1 };
let received = 0;
let checksum = 0;
b.subscribe('/joint_states', 'sensor_msgs/msg/JointState', qos, (m: any) => {
  received++;
  checksum += m.position[0];
});
const pub = a.advertise('/joint_states', 'sensor_msgs/msg/JointState', qos);
const until = async (cond: () => boolean, what: string) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
await until(() => pub.matchedSubscriptions() === 1, 'match');
const msg = {
  header: { stamp: { sec: 1, nanosec: 2 }, frame_id: 'base_link' },
  name: ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7'],
  position: new Float64Array(7).fill(0.5),
  velocity: new Float64Array(7).fill(-0.25),
  effort: new Float64Array(0),
};
// one sample through the real path first, so the reader's proxy knows where the writer stands
pub.publish(msg);
await until(() => received === 1, 'first sample');
// from here a's sends are captured, never delivered; b's acknowledgements (if any) are dropped too
pa.muted = true;
pb.muted = true;

// the DATA's sequence number in the captured datagram: RTPS header 20, INFO_TS 12, DATA header 4 + 16 → offset 52 (low word)
pub.publish(msg);
const datagram = pa.last.slice(0, pa.lastLength);
if (datagram[32] !== 0x15) throw new Error(`expected DATA at offset 32, found submessage 0x${datagram[32].toString(16)}`);
const snView = new DataView(datagram.buffer, datagram.byteOffset + 48, 8);
let sn = snView.getUint32(4, true) - 1; // the captured sample was never delivered: it is the next one expected
const receive = (bytes: Uint8Array) => b.participant.receive(bytes);

// the codec alone: encode into a reused buffer, and decode the payload where a received DATA has it (0 mod 8)
const codec = getMessageCodec('sensor_msgs/msg/JointState');
const encodeBuffer = new Uint8Array(1024);
const encoded = codec.encode(msg);
const payload = new Uint8Array(encoded.length + 56).subarray(56);
payload.set(encoded);

const n = Math.max(1, Math.round(iterations / rounds));
const publishUs: number[] = [];
const receiveUs: number[] = [];
const encodeUs: number[] = [];
const decodeUs: number[] = [];
for (let r = 0; r < rounds; r++) {
  let c0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    msg.header.stamp.nanosec = i;
    codec.encodeInto(msg, encodeBuffer);
  }
  encodeUs.push(Number(process.hrtime.bigint() - c0) / 1e3 / n);
  c0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) checksum += (codec.decode(payload) as { position: Float64Array }).position[i % 7];
  decodeUs.push(Number(process.hrtime.bigint() - c0) / 1e3 / n);
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    msg.header.stamp.nanosec = i;
    pub.publish(msg);
  }
  publishUs.push(Number(process.hrtime.bigint() - t0) / 1e3 / n);
  const before = received;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    snView.setUint32(4, ++sn, true);
    receive(datagram);
  }
  receiveUs.push(Number(process.hrtime.bigint() - t0) / 1e3 / n);
  if (received - before !== n) throw new Error(`round ${r}: ${received - before} of ${n} samples delivered`);
}
const p = median(publishUs);
const q = median(receiveUs);
console.log(`rtps path, sensor_msgs/JointState (7 joints), ${reliability}, ${rounds} rounds × ${n}: µs per message (median of rounds)`);
const e = median(encodeUs);
const d = median(decodeUs);
console.log(`  codec alone: encode into a reused buffer              ${e.toFixed(3)}   rounds ${encodeUs.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`  codec alone: decode (payload at 0 mod 8, as received) ${d.toFixed(3)}   rounds ${decodeUs.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`  publish (encode + writer + datagram built)       ${p.toFixed(3)}   rounds ${publishUs.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`  receive (receiver + reader + decode + callback)  ${q.toFixed(3)}   rounds ${receiveUs.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`  sum                                              ${(p + q).toFixed(3)}   (checksum ${checksum.toFixed(1)})`);
await a.close();
await b.close();
