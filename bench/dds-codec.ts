// CDR codec speed: onestep's codecs (src/ros/msgs) against @foxglove/rosmsg2-serialization, same messages, same run.
//   node --import tsx bench/dds-codec.ts [--iterations 200000] [--rounds 9]
// Rates are medians of interleaved rounds; ratios are per-round medians with their range (the machine is shared).
// Like with like: encode into a reused buffer (both: the publish hot path) and encode allocating a new buffer per
// message (both); decode both from the same bytes at a payload offset ≡ 4 (mod 8), where float64 arrays can be
// zero-copy views.
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';
import { getMessageCodec } from '../src/ros/msgs/index.ts';
import { median } from '../src/core/latency.ts';

const argv = process.argv.slice(2);
const at = argv.indexOf('--iterations');
const iterations = at >= 0 ? Number(argv[at + 1]) : 200_000;
const ar = argv.indexOf('--rounds');
const rounds = ar >= 0 ? Number(argv[ar + 1]) : 9;

/**
 * onestep's and foxglove's rate (ops/s) for one operation: `rounds` interleaved rounds of iterations/rounds calls
 * each, so a load spike hits both; the medians, and the median of the per-round ratios with its range.
 */
function compare(ours: () => void, theirs: () => void): { ours: number; theirs: number; ratio: number; lo: number; hi: number } {
  const n = Math.max(1, Math.round(iterations / rounds));
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(timeOps(ours, n));
    b.push(timeOps(theirs, n));
  }
  const ratios = a.map((x, i) => x / b[i]);
  return { ours: median(a), theirs: median(b), ratio: median(ratios), lo: Math.min(...ratios), hi: Math.max(...ratios) };
}

function timeOps(fn: () => void, n: number): number {
  for (let i = 0; i < Math.min(n, 2_000); i++) fn(); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return (n * 1e9) / Number(process.hrtime.bigint() - t0);
}

const cases = [
  {
    name: 'sensor_msgs/JointState, 7 joints',
    type: 'sensor_msgs/msg/JointState',
    msg: {
      header: { stamp: { sec: 1, nanosec: 2 }, frame_id: 'base_link' },
      name: ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7'],
      position: new Float64Array(7).fill(0.5),
      velocity: new Float64Array(7).fill(-0.25),
      effort: new Float64Array(7),
    },
  },
  {
    name: 'std_msgs/Float64MultiArray, 1000 values',
    type: 'std_msgs/msg/Float64MultiArray',
    msg: { layout: { dim: [{ label: 'x', size: 1000, stride: 1000 }], data_offset: 0 }, data: new Float64Array(1000).fill(1.5) },
  },
];

const { ros2jazzy } = await import('@foxglove/rosmsg-msgs-common');
const rows: string[] = [
  '| message | encode into a reused buffer: onestep (msg/s) | foxglove | ratio | encode, new buffer each: onestep | foxglove | ratio | decode onestep | decode foxglove | ratio |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const c of cases) {
  const codec = getMessageCodec(c.type);
  const defs = codec.definitions.map((d) => (ros2jazzy as Record<string, typeof d>)[d.name!] ?? d);
  const fgWriter = new MessageWriter(defs);
  const fgReader = new MessageReader(defs);
  const out = new Uint8Array(16_384);
  const encoded = codec.encode(c.msg);
  const aligned = new Uint8Array(encoded.byteLength + 4).subarray(4);
  aligned.set(encoded);
  // rosmsg2-serialization 3.1 hands `output` to CdrWriter as its ArrayBuffer (typed Uint8Array, used as a buffer)
  const reuse = compare(() => codec.encodeInto(c.msg, out), () => fgWriter.writeMessage(c.msg, out.buffer as unknown as Uint8Array));
  const alloc = compare(() => codec.encode(c.msg), () => fgWriter.writeMessage(c.msg));
  const dec = compare(() => codec.decode(aligned), () => fgReader.readMessage(aligned));
  const cell = (x: ReturnType<typeof compare>) => `${x.ours.toFixed(0)} | ${x.theirs.toFixed(0)} | ${x.ratio.toFixed(2)}× (${x.lo.toFixed(2)}–${x.hi.toFixed(2)})`;
  rows.push(`| ${c.name} (${encoded.byteLength} B) | ${cell(reuse)} | ${cell(alloc)} | ${cell(dec)} |`);
}
process.stdout.write(`${rows.join('\n')}\n`);
