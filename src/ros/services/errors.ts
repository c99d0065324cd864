// Why a service call failed, as one error type with a kind a caller can branch on and a message naming the service.

/** Why a service call failed. */
export type ServiceCallErrorKind =
  /** No reply within the call's timeout (no server appeared, or it did not answer in time). */
  | 'timeout'
  /** Every server that could have answered went away (closed, crashed, lease expired) before it replied. */
  | 'server_lost'
  /** The client was closed while the call was pending. */
  | 'closed'
  /** The request does not fit the service's request type. */
  | 'request';

/** A failed service call: `kind` says why, the message names the service. */
export class ServiceCallError extends Error {
  override name = 'ServiceCallError';
  constructor(
    readonly kind: ServiceCallErrorKind,
    readonly service: string,
    message: string,
  ) {
    super(`service ${service}: ${message}`);
  }
}
