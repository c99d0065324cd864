// Writer history caches: what a reliable writer can resend and a transient-local writer replays to late joiners.
import type { SequenceNumber } from '../ids/sequence-number.ts';

export interface CacheChange {
  sn: SequenceNumber;
  /** Serialized payload (encapsulation header + body) in payload[0, length). */
  payload: Uint8Array;
  length: number;
  /** Inline QoS writer for dispose/unregister changes (builtin topics). */
  inlineQos: ((w: import('../wire/writer.ts').WireWriter) => void) | undefined;
  /** Key-only change (dispose): the payload is the serialized key. */
  keyOnly: boolean;
}

export interface WriterHistory {
  /** Lowest sequence number still held (lastSN + 1 when empty). */
  firstSN(): SequenceNumber;
  lastSN(): SequenceNumber;
  get(sn: SequenceNumber): CacheChange | undefined;
}

/**
 * KEEP_LAST(depth) for user writers: a ring of slots whose buffers grow to the largest sample seen and are then
 * reused, so steady-state writes allocate nothing. depth 0 means "no history" (best-effort volatile writers).
 * A slot is created on its first write: a node has writers of depth 1000 (parameter services and events, rosout)
 * that hold a handful of samples, and ~1000 empty slots each would cost megabytes of a serving process.
 */
export class KeepLastHistory implements WriterHistory {
  private readonly slots: (CacheChange | undefined)[];
  private last: SequenceNumber = 0;

  constructor(readonly depth: number) {
    this.slots = new Array<CacheChange | undefined>(depth);
  }

  /** Records sample `sn` (must be lastSN + 1), copying payload[0, length), with its inline QoS if any. */
  add(sn: SequenceNumber, payload: Uint8Array, length: number, inlineQos?: CacheChange['inlineQos']): void {
    this.last = sn;
    if (this.depth === 0) return;
    const slot = (this.slots[sn % this.depth] ??= { sn: 0, payload: new Uint8Array(0), length: 0, inlineQos: undefined, keyOnly: false });
    slot.inlineQos = inlineQos;
    if (slot.payload.length < length) slot.payload = new Uint8Array(Math.max(length, slot.payload.length * 2, 64));
    slot.payload.set(length === payload.length ? payload : payload.subarray(0, length));
    slot.length = length;
    slot.sn = sn;
  }

  firstSN(): SequenceNumber {
    return Math.max(1, this.last - this.depth + 1);
  }

  lastSN(): SequenceNumber {
    return this.last;
  }

  get(sn: SequenceNumber): CacheChange | undefined {
    if (this.depth === 0 || sn < 1 || sn > this.last || sn < this.last - this.depth + 1) return undefined;
    const slot = this.slots[sn % this.depth];
    return slot !== undefined && slot.sn === sn ? slot : undefined;
  }
}

/**
 * KEEP_LAST(1) per instance for the builtin discovery writers: each endpoint (key) keeps only its latest
 * announcement or disposal; superseded sequence numbers become gaps.
 */
export class KeyedHistory implements WriterHistory {
  private readonly changes = new Map<SequenceNumber, CacheChange>();
  private readonly byKey = new Map<string, SequenceNumber>();
  private last: SequenceNumber = 0;

  add(key: string, payload: Uint8Array, options: { keyOnly?: boolean; inlineQos?: CacheChange['inlineQos'] } = {}): SequenceNumber {
    const sn = ++this.last;
    const previous = this.byKey.get(key);
    if (previous !== undefined) this.changes.delete(previous);
    this.byKey.set(key, sn);
    this.changes.set(sn, { sn, payload, length: payload.length, inlineQos: options.inlineQos, keyOnly: options.keyOnly ?? false });
    return sn;
  }

  /** Forget a key entirely (its disposal has been delivered long enough). */
  remove(key: string): void {
    const sn = this.byKey.get(key);
    if (sn !== undefined) this.changes.delete(sn);
    this.byKey.delete(key);
  }

  firstSN(): SequenceNumber {
    let first = this.last + 1;
    for (const sn of this.changes.keys()) if (sn < first) first = sn;
    return first;
  }

  lastSN(): SequenceNumber {
    return this.last;
  }

  get(sn: SequenceNumber): CacheChange | undefined {
    return this.changes.get(sn);
  }

  *all(): IterableIterator<CacheChange> {
    yield* [...this.changes.values()].sort((a, b) => a.sn - b.sn);
  }
}
