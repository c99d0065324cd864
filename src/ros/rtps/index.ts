// Public surface of onestep's DDS-RTPS implementation.
export { Participant, LocalReader, LocalWriter, type ParticipantOptions, type RemoteEndpoint, type RemoteParticipant } from './participant.ts';
export { RtpsTransport, RtpsEncapsulationError, type RtpsTransportOptions } from './transport.ts';
export { RtpsParseError, RtpsUsageError } from './wire/errors.ts';
export { discoveryConfigFromEnv, type DiscoveryConfig } from './config.ts';
export { fromRosQos, qosIncompatibility, type EndpointQos } from './qos.ts';
