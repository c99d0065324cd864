/**
 * `onestep/ros`: ROS 2 in your own Node program, with or without a ROS 2 install. {@link createTransport} opens
 * a node on the ROS graph: onestep's embedded DDS-RTPS participant ({@link RtpsTransport}, wire-compatible with
 * Fast DDS and Cyclone DDS), rclnodejs on a sourced ROS 2 machine, or an in-process bus for tests. Messages are
 * plain objects encoded by the CDR codecs ({@link getMessageCodec}); {@link PolicyNode} is the policy node
 * `onestep serve` runs (observations in, one forward pass, a rate-limited, clamped command out), as a class.
 *
 * Loads neither TensorFlow.js nor MuJoCo.
 *
 * @example
 * ```ts
 * import { PolicyRuntime } from 'onestep';
 * import { PolicyNode, buildConfig, createTransport, readParametersFile } from 'onestep/ros';
 * const node = { name: 'policy', namespace: '/arm' };
 * const params = readParametersFile('arm_policy.yaml', node);
 * params.set('model', 'policy.onnx');
 * const transport = await createTransport({ node });
 * const policyNode = await PolicyNode.start({ transport, config: buildConfig(params), loadPolicy: (p) => PolicyRuntime.load(p) });
 * process.once('SIGINT', () => void policyNode.shutdown('SIGINT'));
 * ```
 * @packageDocumentation
 */
export {
  TRANSPORT_KINDS,
  TransportError,
  createTransport,
  domainIdFromEnv,
  parseNodeIdentity,
  rclnodejsAvailability,
  type CreateTransportOptions,
  type TransportKind,
} from '../ros/index.ts';
export { InprocTransport, type InprocOptions } from '../ros/inproc.ts';
export { RtpsTransport, type RtpsTransportOptions } from '../ros/rtps/transport.ts';
export {
  QOS_PROFILES,
  resolveQos,
  type CallOptions,
  type Durability,
  type History,
  type MessageHandler,
  type MessageInfo,
  type NodeIdentity,
  type Publisher,
  type QosProfile,
  type QosProfileName,
  type Reliability,
  type ServiceClient,
  type ServiceHandler,
  type ServiceInfo,
  type ServiceRequestInfo,
  type ServiceServer,
  type Subscription,
  type TopicInfo,
  type Transport,
} from '../ros/transport.ts';
export {
  CdrDecodeError,
  CdrEncodeError,
  UnknownMessageTypeError,
  UnknownServiceTypeError,
  getMessageCodec,
  getServiceCodec,
  interfaceText,
  knownMessageTypes,
  knownServiceTypes,
  registerMessageDefinition,
  registerServiceDefinition,
  serviceTypeHash,
  typeHash,
  type MessageCodec,
  type ServiceCodec,
} from '../ros/msgs/index.ts';
export { PolicyNode, PolicyNodeError, type Policy, type PolicyLoader, type PolicyNodeOptions } from '../ros/node/policy-node.ts';
export { RUNTIME_PARAMETERS, buildConfig, describeParameters, type NodeConfig } from '../ros/node/params.ts';
export { ServiceCallError, type ServiceCallErrorKind } from '../ros/services/errors.ts';
export {
  ParameterServer,
  type ParameterChange,
  type ParameterDeclaration,
  type ParameterServerOptions,
  type ParameterValidator,
  type SetResult,
} from '../ros/node/parameter-server.ts';
export { NodeClock, type ClockOptions, type ClockStatus } from '../ros/node/clock.ts';
export { Rosout } from '../ros/node/rosout.ts';
export {
  ParameterError,
  RosArgsError,
  collectParameters,
  nodeIdentity,
  parseRosArgs,
  parametersFromYaml,
  readParametersFile,
  remappingsFor,
  type ParameterValue,
  type RosArgs,
} from '../ros/node/ros-args.ts';
export { Logger, type NodeCounters, type NodeState } from '../ros/node/diagnostics.ts';
