// ROS 2 messages: CDR codecs by type name, shared by every transport.
export { CdrDecodeError, CdrEncodeError } from './cdr/plan.ts';
export {
  type MessageCodec,
  type ServiceCodec,
  UnknownMessageTypeError,
  UnknownServiceTypeError,
  getMessageCodec,
  getServiceCodec,
  interfaceText,
  knownMessageTypes,
  knownServiceTypes,
  registerMessageDefinition,
  registerServiceDefinition,
} from './registry.ts';
export { RMW_GID_SIZE_HUMBLE, RMW_GID_SIZE_IRON, rmwDdsCommonMessages } from './rmw-dds-common.ts';
export { TypeHashError, serviceTypeHash, typeDescription, typeHash } from './type-hash.ts';
