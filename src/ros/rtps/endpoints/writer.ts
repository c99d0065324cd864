// A stateful RTPS writer (RTPS 8.4.9): pushes each sample to its matched readers, and for reliable readers
// keeps per-reader acknowledgement state, heartbeats until everything is acknowledged, resends what ACKNACK
// and NACK_FRAG request from its history and answers GAP for what the history no longer holds.
import type { Guid, GuidPrefix } from '../ids/guid.ts';
import { EntityIds, guidToHex, prefixToHex } from '../ids/guid.ts';
import type { Locator } from '../ids/locator.ts';
import { locatorKey } from '../ids/locator.ts';
import { SequenceNumberSet, type SequenceNumber } from '../ids/sequence-number.ts';
import type { WireWriter } from '../wire/writer.ts';
import { writeData } from '../submessages/data.ts';
import { writeDataFrag } from '../submessages/data-frag.ts';
import { writeGap } from '../submessages/gap.ts';
import { writeHeartbeat } from '../submessages/heartbeat.ts';
import { writeInfoTsNow } from '../submessages/info-ts.ts';
import type { AckNack } from '../submessages/acknack.ts';
import type { NackFrag } from '../submessages/nack-frag.ts';
import type { EndpointQos } from '../qos.ts';
import type { CacheChange, WriterHistory } from './history.ts';
import type { MessageSender } from './sender.ts';

/** Bytes a DATA message needs beyond the payload: header, INFO_TS, DATA header, piggybacked HEARTBEAT. */
const DATA_OVERHEAD = 20 + 12 + 24 + 32 + 4;
const DATA_FRAG_HEADER = 4 + 32;
const PIGGYBACK_EVERY = 16;
const PIGGYBACK_QUIET_MS = 5;

export class ReaderProxy {
  readonly key: string;
  readonly prefixHex: string;
  /** Every sequence number below this is acknowledged (or irrelevant) for this reader. */
  ackedBelow: SequenceNumber;
  /** Samples below this predate the match of a volatile reader: answered with GAP. */
  readonly firstRelevant: SequenceNumber;
  lastAckNackCount = -1;
  lastNackFragCount = -1;
  /** Send a heartbeat on the next tick even if nothing is outstanding (new match). */
  heartbeatDue = true;
  lastHeartbeatAt = 0;

  constructor(
    readonly guid: Guid,
    readonly reliable: boolean,
    readonly locators: Locator[],
    firstRelevant: SequenceNumber,
  ) {
    this.key = guidToHex(guid);
    this.prefixHex = prefixToHex(guid.prefix);
    this.firstRelevant = firstRelevant;
    this.ackedBelow = firstRelevant;
  }
}

export class StatefulWriter {
  readonly readers = new Map<string, ReaderProxy>();
  /** Unique locators of all matched readers: one datagram per locator per sample. */
  private destinations: Locator[] = [];
  private heartbeatCount = 0;
  private lastSN: SequenceNumber = 0;
  private readonly gapSet = new SequenceNumberSet();
  /** Samples written (diagnostics). */
  written = 0;
  private sinceHeartbeat = 0;
  private lastPiggybackAt = -Infinity;

  constructor(
    readonly guid: Guid,
    readonly qos: EndpointQos,
    readonly history: WriterHistory,
    private readonly sender: MessageSender,
    /** Heartbeat period while readers have unacknowledged samples, ms. */
    private readonly heartbeatPeriodMs = 100,
  ) {
    this.lastSN = history.lastSN();
  }

  get reliable(): boolean {
    return this.qos.reliability === 'reliable';
  }

  /** Next sequence number to assign. */
  nextSN(): SequenceNumber {
    return this.lastSN + 1;
  }

  matchReader(guid: Guid, reliable: boolean, locators: Locator[], readerWantsHistory: boolean): ReaderProxy {
    const existing = this.readers.get(guidToHex(guid));
    if (existing) return existing;
    // a transient-local writer replays its history to transient-local readers; everyone else starts now
    const replay = this.qos.durability !== 'volatile' && readerWantsHistory;
    const proxy = new ReaderProxy(guid, reliable, locators, replay ? this.history.firstSN() : this.lastSN + 1);
    this.readers.set(proxy.key, proxy);
    this.updateDestinations();
    if (replay && !reliable) this.pushHistory(proxy);
    if (reliable && this.reliable) {
      // heartbeat at once: a volatile remote reader starts at our current sequence number, so it must hear
      // where we stand before the next sample, or it would treat that sample as history and skip it
      const w = this.sender.begin(guid.prefix);
      this.writeHeartbeat(w, guid.entityId, false);
      this.sender.flush(locators);
      proxy.lastHeartbeatAt = performance.now();
    }
    return proxy;
  }

  unmatchReader(key: string): boolean {
    const removed = this.readers.delete(key);
    if (removed) this.updateDestinations();
    return removed;
  }

  get matchedReaders(): number {
    return this.readers.size;
  }

  private updateDestinations(): void {
    const seen = new Map<string, Locator>();
    for (const r of this.readers.values()) for (const l of r.locators) seen.set(locatorKey(l), l);
    this.destinations = [...seen.values()];
  }

  /**
   * Sends sample `sn` (already recorded in the history by the caller when it keeps one) to all readers.
   * Nothing is allocated: the message is built in the sender's buffer.
   */
  publish(sn: SequenceNumber, payload: Uint8Array, length: number, change?: CacheChange, inlineQos?: CacheChange['inlineQos']): void {
    this.lastSN = sn;
    this.written++;
    if (this.destinations.length === 0) return;
    // piggyback a heartbeat on every PIGGYBACK_EVERY-th sample or after a quiet spell, not on each one: it lets
    // readers detect loss quickly without doubling the submessages they process at high rates
    let piggyback = false;
    if (this.reliable) {
      const now = performance.now();
      if (++this.sinceHeartbeat >= PIGGYBACK_EVERY || now - this.lastPiggybackAt >= PIGGYBACK_QUIET_MS) {
        piggyback = true;
        this.sinceHeartbeat = 0;
        this.lastPiggybackAt = now;
      }
    }
    this.sendSample(sn, payload, length, change, undefined, EntityIds.UNKNOWN, this.destinations, piggyback, inlineQos);
  }

  /** Builds and sends one sample (DATA, or DATA_FRAG datagrams when it does not fit). */
  private sendSample(
    sn: SequenceNumber,
    payload: Uint8Array,
    length: number,
    change: CacheChange | undefined,
    destination: GuidPrefix | undefined,
    readerId: number,
    locators: readonly Locator[],
    piggybackHeartbeat: boolean,
    inlineQos: CacheChange['inlineQos'] = change?.inlineQos,
  ): void {
    const sender = this.sender;
    const reliable = this.reliable;
    // inline QoS (a related sample identity) takes at most 64 bytes
    const bound = length + DATA_OVERHEAD + 64 + (inlineQos ? 64 : 0);
    if (bound <= sender.maxMessageSize) {
      // a sample for every reader may share its datagram with other writers' samples (Participant.coalesce)
      const shared = destination === undefined;
      const w = shared ? sender.beginSample(bound) : sender.begin(destination);
      writeInfoTsNow(w);
      writeData(w, readerId, this.guid.entityId, sn, payload, 0, length, inlineQos, change?.keyOnly ?? false);
      if (reliable && piggybackHeartbeat) this.writeHeartbeat(w, readerId, true);
      if (shared) sender.flushSample(locators);
      else sender.flush(locators);
      return;
    }
    const fragmentSize = sender.fragmentSize;
    const fragments = Math.ceil(length / fragmentSize);
    const sample = length === payload.length ? payload : payload.subarray(0, length);
    let w = sender.begin(destination);
    writeInfoTsNow(w);
    const qosBytes = inlineQos ? 64 : 0;
    for (let f = 1; f <= fragments; f++) {
      if (w.pos + DATA_FRAG_HEADER + qosBytes + fragmentSize + 4 > sender.maxMessageSize) {
        sender.flush(locators);
        w = sender.begin(destination);
        writeInfoTsNow(w);
      }
      writeDataFrag(w, readerId, this.guid.entityId, sn, sample, fragmentSize, f, 1, inlineQos);
    }
    if (reliable && piggybackHeartbeat && w.pos + 32 <= sender.maxMessageSize) this.writeHeartbeat(w, readerId, true);
    sender.flush(locators);
  }

  /** Resends only the requested fragments of one sample. */
  private sendFragments(change: CacheChange, fragmentNumbers: SequenceNumberSet, proxy: ReaderProxy): void {
    const sender = this.sender;
    const fragmentSize = sender.fragmentSize;
    const fragments = Math.ceil(change.length / fragmentSize);
    const sample = change.payload.subarray(0, change.length);
    let w = sender.begin(proxy.guid.prefix);
    let any = false;
    const qosBytes = change.inlineQos ? 64 : 0;
    fragmentNumbers.forEach((f) => {
      if (f < 1 || f > fragments) return;
      if (w.pos + DATA_FRAG_HEADER + qosBytes + fragmentSize + 4 > sender.maxMessageSize) {
        sender.flush(proxy.locators);
        w = sender.begin(proxy.guid.prefix);
      }
      writeDataFrag(w, proxy.guid.entityId, this.guid.entityId, change.sn, sample, fragmentSize, f, 1, change.inlineQos);
      any = true;
    });
    if (any) sender.flush(proxy.locators);
  }

  private writeHeartbeat(w: WireWriter, readerId: number, final: boolean): void {
    const first = this.history.firstSN();
    writeHeartbeat(w, readerId, this.guid.entityId, Math.min(first, this.lastSN + 1), this.lastSN, ++this.heartbeatCount, final);
  }

  /** Best-effort transient-local readers get the history pushed once on match. */
  private pushHistory(proxy: ReaderProxy): void {
    for (let sn = this.history.firstSN(); sn <= this.lastSN; sn++) {
      const c = this.history.get(sn);
      if (c) this.sendSample(sn, c.payload, c.length, c, proxy.guid.prefix, proxy.guid.entityId, proxy.locators, false);
    }
  }

  onAckNack(readerKey: string, m: AckNack): void {
    const proxy = this.readers.get(readerKey);
    if (!proxy || !proxy.reliable) return;
    if (m.count <= proxy.lastAckNackCount) return; // duplicate or stale
    proxy.lastAckNackCount = m.count;
    const state = m.readerSNState;
    if (state.base > proxy.ackedBelow) proxy.ackedBelow = Math.min(state.base, this.lastSN + 1);
    if (state.empty) return;
    this.resend(proxy, state);
  }

  private resend(proxy: ReaderProxy, requested: SequenceNumberSet): void {
    const gap = this.gapSet;
    let gapStart = 0;
    let gapEnd = 0; // exclusive
    const flushGap = () => {
      if (gapStart === 0) return;
      const w = this.sender.begin(proxy.guid.prefix);
      writeGap(w, proxy.guid.entityId, this.guid.entityId, gapStart, gap.reset(gapEnd));
      this.sender.flush(proxy.locators);
      gapStart = 0;
    };
    requested.forEach((sn) => {
      if (sn > this.lastSN) return;
      const change = sn >= proxy.firstRelevant ? this.history.get(sn) : undefined;
      if (!change) {
        if (gapStart !== 0 && sn === gapEnd) gapEnd++;
        else {
          flushGap();
          gapStart = sn;
          gapEnd = sn + 1;
        }
        return;
      }
      flushGap();
      this.sendSample(sn, change.payload, change.length, change, proxy.guid.prefix, proxy.guid.entityId, proxy.locators, false);
    });
    flushGap();
    // tell the reader where we stand so it can acknowledge
    const w = this.sender.begin(proxy.guid.prefix);
    this.writeHeartbeat(w, proxy.guid.entityId, false);
    this.sender.flush(proxy.locators);
    proxy.lastHeartbeatAt = performance.now();
  }

  onNackFrag(readerKey: string, m: NackFrag): void {
    const proxy = this.readers.get(readerKey);
    if (!proxy || !proxy.reliable) return;
    if (m.count <= proxy.lastNackFragCount) return;
    proxy.lastNackFragCount = m.count;
    const change = m.writerSN >= proxy.firstRelevant ? this.history.get(m.writerSN) : undefined;
    if (!change) {
      const w = this.sender.begin(proxy.guid.prefix);
      writeGap(w, proxy.guid.entityId, this.guid.entityId, m.writerSN, this.gapSet.reset(m.writerSN + 1));
      this.sender.flush(proxy.locators);
      return;
    }
    this.sendFragments(change, m.fragmentNumberState, proxy);
  }

  /** Periodic work: heartbeat reliable readers that have not acknowledged everything. */
  tick(nowMs: number): void {
    if (!this.reliable) return;
    for (const proxy of this.readers.values()) {
      if (!proxy.reliable) continue;
      const outstanding = proxy.ackedBelow <= this.lastSN;
      // a reader that never acknowledged may not have matched us yet: keep asking, so that it answers once it has
      // (service clients wait for that answer before sending a request, or the request would be lost)
      if (!outstanding && !proxy.heartbeatDue && proxy.lastAckNackCount >= 0) continue;
      if (nowMs - proxy.lastHeartbeatAt < this.heartbeatPeriodMs) continue;
      proxy.heartbeatDue = false;
      proxy.lastHeartbeatAt = nowMs;
      const w = this.sender.begin(proxy.guid.prefix);
      this.writeHeartbeat(w, proxy.guid.entityId, false);
      this.sender.flush(proxy.locators);
    }
  }

  /** True when every reliable reader acknowledged every sample written so far. */
  allAcknowledged(): boolean {
    for (const p of this.readers.values()) if (p.reliable && p.ackedBelow <= this.lastSN) return false;
    return true;
  }
}
