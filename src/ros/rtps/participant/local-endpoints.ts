// The handles a participant gives out for its user endpoints: a writer publishes serialized samples (kept in its
// history for reliable resends and transient-local replay), a reader reports what it matched and delivered.
import type { WireWriter } from '../wire/writer.ts';
import { RtpsUsageError } from '../wire/errors.ts';
import { guidToHex, type Guid } from '../ids/guid.ts';
import { writeRelatedSampleIdentity, type SampleIdentity } from '../submessages/inline-qos.ts';
import type { EndpointOwner, LocalReaderEntry, LocalWriterEntry, RemoteEndpoint } from './model.ts';

/** What a writer and a reader handle share: the endpoint's identity, and closing it once. */
abstract class LocalEndpoint<Entry extends LocalWriterEntry | LocalReaderEntry> {
  readonly guid: Guid;
  readonly guidHex: string;
  protected closed = false;

  constructor(
    protected readonly participant: EndpointOwner,
    protected readonly entry: Entry,
  ) {
    this.guid = entry.data.guid;
    this.guidHex = guidToHex(this.guid);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.participant.deleteEndpoint(this.entry);
  }
}

export class LocalWriter extends LocalEndpoint<LocalWriterEntry> {
  get topicName(): string {
    return this.entry.data.topicName;
  }

  /**
   * Publishes one serialized sample (encapsulation header + CDR body), bytes [0, length). Copies what it keeps.
   * `related` goes out as inline QoS (the request a service reply answers). Returns the sample's sequence number.
   */
  write(payload: Uint8Array, length = payload.length, related?: SampleIdentity): number {
    if (this.closed) throw new RtpsUsageError(`writer on "${this.entry.data.topicName}" is closed`);
    if (length < 4) throw new RtpsUsageError(`serialized sample must hold at least the 4-byte encapsulation header, got ${length} bytes`);
    const { writer, history } = this.entry;
    const sn = writer.nextSN();
    const inlineQos = related ? (w: WireWriter) => writeRelatedSampleIdentity(w, related) : undefined;
    history.add(sn, payload, length, inlineQos);
    writer.publish(sn, payload, length, history.get(sn), inlineQos);
    return sn;
  }

  /** The readers matched now, with whether each has acknowledged us yet (proof that it matched us too). */
  matchedReaderStates(): { guid: Guid; guidHex: string; acknowledged: boolean; remote: RemoteEndpoint | undefined }[] {
    return [...this.entry.writer.readers.values()].map((r) => ({
      guid: r.guid,
      guidHex: r.key,
      acknowledged: r.lastAckNackCount >= 0,
      remote: this.participant.remoteEndpoint(r.guid),
    }));
  }

  matchedReaders(): number {
    return this.entry.writer.matchedReaders;
  }

  /** True when all reliable readers acknowledged everything written. */
  allAcknowledged(): boolean {
    return this.entry.writer.allAcknowledged();
  }
}

export class LocalReader extends LocalEndpoint<LocalReaderEntry> {
  matchedWriters(): number {
    return this.entry.reader.writers.size;
  }

  /** The writers matched now, with their discovery data. */
  matchedWriterStates(): { guid: Guid; guidHex: string; remote: RemoteEndpoint | undefined }[] {
    return [...this.entry.reader.writers.values()].map((w) => ({ guid: w.guid, guidHex: w.key, remote: this.participant.remoteEndpoint(w.guid) }));
  }

  get delivered(): number {
    return this.entry.reader.delivered;
  }
}
