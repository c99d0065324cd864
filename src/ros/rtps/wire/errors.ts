// Typed errors of the RTPS layer: callers can tell malformed input from misuse.

/** A received datagram or payload did not follow the RTPS/CDR wire format. */
export class RtpsParseError extends Error {
  override name = 'RtpsParseError';
}

/** The local application asked for something the participant cannot do (bad QoS, closed entity, oversize sample). */
export class RtpsUsageError extends Error {
  override name = 'RtpsUsageError';
}
