// Serve a policy on ROS 2 from your own program: the policy node `onestep serve` runs, as a class, on a transport
// you create. Here everything runs in this process (the `inproc` transport) with a fake robot publishing joint
// states and targets, so the example needs no network; on a robot, create the transport with `kind: 'auto'`
// (onestep's embedded DDS-RTPS participant, or rclnodejs where ROS 2 is sourced) and drop the fake robot.
//   node --import tsx examples/ros.ts
import { fileURLToPath } from 'node:url';
import { PolicyRuntime } from 'onestep';
import { PolicyNode, buildConfig, createTransport, getMessageCodec, readParametersFile } from 'onestep/ros';

const file = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const node = { name: 'policy', namespace: '/' };

// ROS 2 parameters, as a launch file passes them (every parameter: `onestep serve --help-params`).
const params = readParametersFile(file('../launch/arm_policy.yaml'), node);
params.set('model', file('../models/untrained-arm_reach/policy.onnx'));
params.set('watch_model', false);
params.set('diagnostics.rate_hz', 0);

const transport = await createTransport({ node, kind: 'inproc' }); // 'auto' on a robot
const policyNode = await PolicyNode.start({ transport, config: buildConfig(params), loadPolicy: (path) => PolicyRuntime.load(path, { deterministic: true }) });
console.log(`policy node up: ${policyNode.actionNames.length} joints, commands on /forward_position_controller/commands`);

// A fake robot on the same transport: joint states at 100 Hz, the tool tip and a target.
const joints = ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7'];
const jointStates = transport.advertise('/joint_states', 'sensor_msgs/msg/JointState', 'sensor_data');
const tip = transport.advertise('/tool_tip', 'geometry_msgs/msg/PointStamped');
const target = transport.advertise('/target', 'geometry_msgs/msg/PointStamped');
const point = (x: number, y: number, z: number) => ({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'base' }, point: { x, y, z } });
let tick = 0;
const robot = setInterval(() => {
  const now = { sec: Math.floor(tick / 100), nanosec: (tick % 100) * 10_000_000 };
  tick++;
  jointStates.publish({ header: { stamp: now, frame_id: '' }, name: joints, position: joints.map(() => 0.1), velocity: joints.map(() => 0), effort: [] });
  tip.publish(point(0.4, 0, 0.5));
  target.publish(point(0.5, 0.1, 0.4));
}, 10);

// The controller's side: the commands the node publishes (decoded by the transport with onestep's CDR codecs).
const commands: number[][] = [];
const sub = transport.subscribe<{ data: number[] }>('/forward_position_controller/commands', 'std_msgs/msg/Float64MultiArray', 'default', (m) => {
  commands.push(Array.from(m.data));
});
await new Promise((resolve) => setTimeout(resolve, 500));
clearInterval(robot);
sub.close();
const last = commands.at(-1) ?? [];
console.log(`${commands.length} commands received; last: [${last.map((c) => c.toFixed(3)).join(', ')}]`);
console.log(`counters: ${JSON.stringify(policyNode.counters)}`);

// Messages are plain objects; the codecs give the CDR bytes DDS carries.
const codec = getMessageCodec<{ layout: unknown; data: number[] }>('std_msgs/msg/Float64MultiArray');
const bytes = codec.encode({ layout: { dim: [], data_offset: 0 }, data: last });
console.log(`one command is ${bytes.length} bytes of CDR; decodes back: ${codec.decode(bytes).data.length === last.length}`);

await policyNode.shutdown('example done'); // publishes the final safe action, closes the transport, frees the model
