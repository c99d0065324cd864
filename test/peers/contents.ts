// The TypeScript twin of peer_common.h's message contents: message i of each type, as every side builds and
// checks it, so a test knows not only that something arrived but that every field survived the trip.

export type PeerMessageType = 'String' | 'JointState' | 'Float64MultiArray';

export const ROS_TYPE: Record<PeerMessageType, string> = {
  String: 'std_msgs/msg/String',
  JointState: 'sensor_msgs/msg/JointState',
  Float64MultiArray: 'std_msgs/msg/Float64MultiArray',
};

export const DEFAULT_SIZE: Record<PeerMessageType, number> = { String: 0, JointState: 6, Float64MultiArray: 8 };

const jsPosition = (i: number, j: number) => i + 0.5 * j;
const f64Value = (i: number, j: number) => i + j / 1000;

function stringData(i: number, size: number): string {
  let s = `msg ${i}`;
  const chars: string[] = [s];
  for (let k = s.length; k < size; k++) chars.push(String.fromCharCode(97 + (k % 26)));
  s = chars.join('');
  return s;
}

/** Message i; JointState carries the send time (CLOCK_MONOTONIC, as the C peers use) in header.stamp. */
export function makeMessage(type: PeerMessageType, i: number, size: number): Record<string, unknown> {
  if (type === 'String') return { data: stringData(i, size) };
  if (type === 'JointState') {
    const position = new Float64Array(size);
    const velocity = new Float64Array(size);
    for (let j = 0; j < size; j++) {
      position[j] = jsPosition(i, j);
      velocity[j] = -position[j];
    }
    const msg = {
      header: { stamp: { sec: 0, nanosec: 0 }, frame_id: String(i) },
      name: Array.from({ length: size }, (_, j) => `j${j}`),
      position,
      velocity,
      effort: new Float64Array(0),
    };
    // last, so the latency covers encode + send, not building the object; [s, ns] as the C peers split it, with no
    // BigInt arithmetic between the stamp and the publish
    const [sec, nanosec] = process.hrtime();
    msg.header.stamp.sec = sec;
    msg.header.stamp.nanosec = nanosec;
    return msg;
  }
  const data = new Float64Array(size);
  for (let j = 0; j < size; j++) data[j] = f64Value(i, j);
  return { layout: { dim: [{ label: 'x', size, stride: size }], data_offset: i }, data };
}

/** Which message this is, whether every field is exactly right, and (JointState) its one-way latency. */
export function checkMessage(type: PeerMessageType, msg: any, size: number): { i: number; ok: boolean; latencyUs: number } {
  if (type === 'String') {
    const m = /^msg (\d+)/.exec(msg.data);
    if (!m) return { i: -1, ok: false, latencyUs: -1 };
    const i = Number(m[1]);
    return { i, ok: msg.data === stringData(i, size), latencyUs: -1 };
  }
  if (type === 'JointState') {
    const [sec, nanosec] = process.hrtime(); // first: the checks below are not part of the latency
    const latencyUs = (sec - msg.header.stamp.sec) * 1e6 + (nanosec - msg.header.stamp.nanosec) / 1e3;
    const i = Number(msg.header.frame_id);
    let ok = msg.name.length === size && msg.position.length === size && msg.velocity.length === size && msg.effort.length === 0;
    for (let j = 0; ok && j < size; j++) {
      ok = msg.name[j] === `j${j}` && msg.position[j] === jsPosition(i, j) && msg.velocity[j] === -jsPosition(i, j);
    }
    return { i, ok, latencyUs };
  }
  const i = msg.layout.data_offset as number;
  let ok =
    msg.layout.dim.length === 1 && msg.layout.dim[0].label === 'x' && msg.layout.dim[0].size === size && msg.data.length === size;
  for (let j = 0; ok && j < size; j++) ok = msg.data[j] === f64Value(i, j);
  return { i, ok, latencyUs: -1 };
}
