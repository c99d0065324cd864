// A stateful RTPS reader (RTPS 8.4.12): one WriterProxy per matched remote writer. Best-effort proxies
// deliver newer samples and drop older ones; reliable proxies deliver in order, hold out-of-order samples,
// answer HEARTBEAT with ACKNACK (and HEARTBEAT_FRAG with NACK_FRAG), and skip what GAP declares irrelevant.
import type { Guid } from '../ids/guid.ts';
import { guidToHex } from '../ids/guid.ts';
import type { Locator } from '../ids/locator.ts';
import { FragmentNumberSet, SequenceNumberSet, type SequenceNumber } from '../ids/sequence-number.ts';
import { writeAckNack } from '../submessages/acknack.ts';
import { writeNackFrag } from '../submessages/nack-frag.ts';
import type { Heartbeat } from '../submessages/heartbeat.ts';
import type { HeartbeatFrag } from '../submessages/heartbeat-frag.ts';
import type { Gap } from '../submessages/gap.ts';
import type { SampleIdentity } from '../submessages/inline-qos.ts';
import type { EndpointQos } from '../qos.ts';
import type { MessageSender } from './sender.ts';
import { FragmentAssembler, type FragmentBudget } from './fragments.ts';

/** Out-of-order samples a reliable proxy holds while waiting for a missing one. */
const MAX_PENDING = 512;
const IRRELEVANT = new Uint8Array(0);

export interface SampleInfo {
  /** The remote writer (GUID hex, computed once per match). */
  writerKey: string;
  writerGuid: Guid;
  sn: SequenceNumber;
  /** Source timestamp (ns since epoch) when the writer sent INFO_TS, else 0. */
  sourceTimestampNs: number;
  /** STATUS_INFO flags: non-zero for dispose/unregister changes. */
  statusInfo: number;
  /** Key hash from inline QoS when present (builtin topics). */
  keyHash: Uint8Array | undefined;
  /** The sample this one relates to (service replies, and Fast DDS-style requests naming their reply reader). */
  related: SampleIdentity | undefined;
}

export type SampleListener = (payload: Uint8Array, info: SampleInfo) => void;

/** An out-of-order change that carries inline QoS (disposals, related sample identities); plain samples are kept bare. */
interface PendingChange {
  payload: Uint8Array;
  statusInfo: number;
  keyHash: Uint8Array | undefined;
  related: SampleIdentity | undefined;
}

export class WriterProxy {
  readonly key: string;
  /** Next sequence number to deliver (reliable) / highest delivered + 1 (best effort); 0 before the first. */
  expected: SequenceNumber = 0;
  readonly pending = new Map<SequenceNumber, Uint8Array | PendingChange>();
  lastHeartbeatCount = -Infinity;
  lastHeartbeatFragCount = -Infinity;
  ackNackCount = 0;
  readonly fragments: FragmentAssembler;
  /** Related sample identities seen on DATA_FRAGs of samples still being reassembled (service replies). */
  readonly fragmentRelated = new Map<SequenceNumber, SampleIdentity>();
  /** Reused per delivery: listeners must copy what they keep. */
  readonly info: SampleInfo;

  constructor(
    readonly reader: StatefulReader,
    readonly guid: Guid,
    /** Reliable protocol with this writer (both sides reliable). */
    readonly reliable: boolean,
    readonly locators: Locator[],
    budget: FragmentBudget,
  ) {
    this.key = guidToHex(guid);
    this.fragments = new FragmentAssembler(budget);
    this.info = { writerKey: this.key, writerGuid: guid, sn: 0, sourceTimestampNs: 0, statusInfo: 0, keyHash: undefined, related: undefined };
    // transient-local readers want everything the writer still has: start at 1 and let HEARTBEAT move us up
    if (reliable && reader.qos.durability !== 'volatile') this.expected = 1;
  }
}

export class StatefulReader {
  readonly writers = new Map<string, WriterProxy>();
  private readonly ackSet = new SequenceNumberSet();
  private readonly nackFragSet = new FragmentNumberSet();
  /** Samples delivered / dropped as duplicates or stale (diagnostics). */
  delivered = 0;
  duplicates = 0;

  constructor(
    readonly guid: Guid,
    readonly qos: EndpointQos,
    private readonly sender: MessageSender,
    private readonly budget: FragmentBudget,
    readonly listener: SampleListener,
  ) {}

  get reliable(): boolean {
    return this.qos.reliability === 'reliable';
  }

  matchWriter(guid: Guid, writerReliable: boolean, locators: Locator[]): WriterProxy {
    const key = guidToHex(guid);
    const existing = this.writers.get(key);
    if (existing) return existing;
    const proxy = new WriterProxy(this, guid, writerReliable && this.reliable, locators, this.budget);
    this.writers.set(key, proxy);
    // pre-emptive ACKNACK: asks the writer to heartbeat us now rather than at its next period
    if (proxy.reliable) this.sendAckNack(proxy, false);
    return proxy;
  }

  unmatchWriter(key: string): WriterProxy | undefined {
    const proxy = this.writers.get(key);
    if (!proxy) return undefined;
    proxy.fragments.clear();
    proxy.fragmentRelated.clear();
    proxy.pending.clear();
    this.writers.delete(key);
    return proxy;
  }

  /** A DATA (or reassembled DATA_FRAG) for this reader. `payload` is owned by the callee from here on. */
  onSample(
    proxy: WriterProxy,
    sn: SequenceNumber,
    payload: Uint8Array,
    sourceTimestampNs: number,
    statusInfo: number,
    keyHash: Uint8Array | undefined,
    related?: SampleIdentity,
  ): void {
    if (!proxy.reliable) {
      if (sn < proxy.expected) {
        this.duplicates++;
        return;
      }
      proxy.expected = sn + 1;
      this.deliver(proxy, sn, payload, sourceTimestampNs, statusInfo, keyHash, related);
      return;
    }
    if (proxy.expected === 0) proxy.expected = sn; // volatile reader: start where the writer is
    if (sn < proxy.expected || proxy.pending.has(sn)) {
      this.duplicates++;
      return;
    }
    if (sn === proxy.expected) {
      proxy.expected++;
      this.deliver(proxy, sn, payload, sourceTimestampNs, statusInfo, keyHash, related);
      this.drainPending(proxy);
      return;
    }
    if (proxy.pending.size < MAX_PENDING && sn - proxy.expected < MAX_PENDING) {
      proxy.pending.set(
        sn,
        statusInfo || keyHash || related ? { payload, statusInfo, keyHash: keyHash?.slice(), related } : payload,
      );
    }
  }

  private drainPending(proxy: WriterProxy): void {
    while (proxy.pending.size > 0) {
      const next = proxy.pending.get(proxy.expected);
      if (next === undefined) break;
      proxy.pending.delete(proxy.expected);
      const sn = proxy.expected++;
      if (next instanceof Uint8Array) {
        if (next !== IRRELEVANT) this.deliver(proxy, sn, next, 0, 0, undefined, undefined);
      } else {
        this.deliver(proxy, sn, next.payload, 0, next.statusInfo, next.keyHash, next.related);
      }
    }
    proxy.fragments.dropBelow(proxy.expected);
  }

  private deliver(
    proxy: WriterProxy,
    sn: SequenceNumber,
    payload: Uint8Array,
    sourceTimestampNs: number,
    statusInfo: number,
    keyHash: Uint8Array | undefined,
    related: SampleIdentity | undefined,
  ): void {
    const info = proxy.info;
    info.sn = sn;
    info.sourceTimestampNs = sourceTimestampNs;
    info.statusInfo = statusInfo;
    info.keyHash = keyHash;
    info.related = related;
    this.delivered++;
    this.listener(payload, info);
  }

  onGap(proxy: WriterProxy, m: Gap): void {
    if (!proxy.reliable) return;
    if (proxy.expected === 0) proxy.expected = 1;
    // [gapStart, gapList.base) is irrelevant, plus the members of gapList
    const end = m.gapList.base;
    if (m.gapStart <= proxy.expected && end > proxy.expected) {
      dropPendingBelow(proxy, end);
      proxy.expected = end;
    } else {
      for (let sn = Math.max(m.gapStart, proxy.expected); sn < end && sn - proxy.expected < MAX_PENDING; sn++) {
        proxy.pending.set(sn, IRRELEVANT);
      }
    }
    m.gapList.forEach((sn) => {
      if (sn >= proxy.expected && sn - proxy.expected < MAX_PENDING) proxy.pending.set(sn, IRRELEVANT);
    });
    const next = proxy.pending.get(proxy.expected);
    if (next === IRRELEVANT) {
      proxy.pending.delete(proxy.expected);
      proxy.expected++;
    }
    this.drainPending(proxy);
  }

  onHeartbeat(proxy: WriterProxy, m: Heartbeat): void {
    if (!proxy.reliable) return;
    if (m.count <= proxy.lastHeartbeatCount) return;
    proxy.lastHeartbeatCount = m.count;
    if (m.lastSN < m.firstSN - 1) return; // malformed range
    if (proxy.expected === 0) {
      // volatile reader meeting a writer for the first time: what it already wrote is history to us
      proxy.expected = m.lastSN + 1;
    }
    if (m.firstSN > proxy.expected) {
      // the writer no longer has [expected, firstSN): skip it
      dropPendingBelow(proxy, m.firstSN);
      proxy.expected = m.firstSN;
      this.drainPending(proxy);
    }
    const missing = m.lastSN >= proxy.expected;
    if (missing || !m.final) this.sendAckNack(proxy, !missing, m.lastSN);
  }

  onHeartbeatFrag(proxy: WriterProxy, m: HeartbeatFrag): void {
    if (!proxy.reliable || m.count <= proxy.lastHeartbeatFragCount) return;
    proxy.lastHeartbeatFragCount = m.count;
    if (m.writerSN < proxy.expected || proxy.pending.has(m.writerSN)) return;
    this.sendNackFrag(proxy, m.writerSN, m.lastFragmentNum);
  }

  /** ACKNACK: acknowledge [.., expected) and request the missing ones up to lastSN. */
  sendAckNack(proxy: WriterProxy, final: boolean, lastSN: SequenceNumber = proxy.expected - 1): void {
    const base = Math.max(1, proxy.expected);
    const set = this.ackSet.reset(base);
    for (let sn = base; sn <= lastSN && sn < base + 256; sn++) {
      if (!proxy.pending.has(sn)) set.add(sn);
    }
    // a partially reassembled sample: ask for its fragments instead of the whole sample
    let fragmented = 0;
    set.forEach((sn) => {
      if (fragmented === 0 && proxy.fragments.has(sn)) fragmented = sn;
    });
    const w = this.sender.begin(proxy.guid.prefix);
    writeAckNack(w, this.guid.entityId, proxy.guid.entityId, set, ++proxy.ackNackCount, final);
    this.sender.flush(proxy.locators);
    if (fragmented) this.sendNackFrag(proxy, fragmented, 0xffffffff);
  }

  private sendNackFrag(proxy: WriterProxy, sn: SequenceNumber, lastFragment: number): void {
    const set = this.nackFragSet.reset(1);
    let base = 0;
    const known = proxy.fragments.missingFragments(sn, lastFragment, (f) => {
      if (base === 0) {
        base = f;
        set.reset(f);
      }
      return set.add(f);
    });
    if (!known || base === 0) return;
    const w = this.sender.begin(proxy.guid.prefix);
    writeNackFrag(w, this.guid.entityId, proxy.guid.entityId, sn, set, ++proxy.ackNackCount);
    this.sender.flush(proxy.locators);
  }
}

/** Forget held samples below sn; iterates what is held, never the (peer-controlled) range. */
function dropPendingBelow(proxy: WriterProxy, sn: SequenceNumber): void {
  for (const k of proxy.pending.keys()) if (k < sn) proxy.pending.delete(k);
}
