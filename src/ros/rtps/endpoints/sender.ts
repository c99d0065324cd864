// What endpoints need from their participant to put bytes on the wire: one shared, preallocated message
// buffer and a way to send it to locators.
import type { WireWriter } from '../wire/writer.ts';
import type { Locator } from '../ids/locator.ts';
import type { GuidPrefix } from '../ids/guid.ts';

export interface MessageSender {
  readonly prefix: GuidPrefix;
  /** Largest datagram we build (RTPS header included). */
  readonly maxMessageSize: number;
  /** Bytes per DATA_FRAG fragment. */
  readonly fragmentSize: number;
  /** Resets the shared buffer and writes the RTPS header (and INFO_DST when given). */
  begin(destination?: GuidPrefix): WireWriter;
  /** Sends the message built since begin() to every locator. */
  flush(locators: readonly Locator[]): void;
  /**
   * Starts one sample for every matched reader (no INFO_DST), at most `bytes` long. While the participant coalesces
   * (Participant.coalesce), the sample joins the datagram being built, if it fits; otherwise it is begin().
   */
  beginSample(bytes: number): WireWriter;
  /** Ends a beginSample(): sent to `locators` now, or, while coalescing, kept for one datagram with the next samples. */
  flushSample(locators: readonly Locator[]): void;
}
