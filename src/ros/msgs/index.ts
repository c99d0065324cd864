// ROS 2 messages: CDR codecs by type name, shared by every transport.
export { CdrDecodeError, CdrEncodeError } from './cdr.ts';
export {
  type MessageCodec,
  UnknownMessageTypeError,
  getMessageCodec,
  knownMessageTypes,
  registerMessageDefinition,
} from './registry.ts';
export { RMW_GID_SIZE_HUMBLE, RMW_GID_SIZE_IRON, rmwDdsCommonMessages } from './rmw-dds-common.ts';
