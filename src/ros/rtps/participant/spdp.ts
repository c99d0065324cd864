// SPDP, the participant discovery protocol (RTPS 8.5.3): our announcement at start-up (0, 0.1, 0.3, 0.7, 1.5 s)
// and then every announce period, to the discovery targets and to every known participant; the participants we
// hear from, with their leases; and our disposal on shutdown.
import { RtpsParseError } from '../wire/errors.ts';
import { PrefixMap, prefixToHex, type GuidPrefix } from '../ids/guid.ts';
import { locatorKey, udpv4, type Locator } from '../ids/locator.ts';
import type { ReceiveContext } from '../message/receiver.ts';
import type { Data } from '../submessages/data.ts';
import { PID } from '../parameters/pid.ts';
import { decodeParticipantData, type ParticipantData } from '../discovery/participant-data.ts';
import { keyOnlyGuid } from '../discovery/endpoint-data.ts';
import { buildSpdpDisposeMessage, buildSpdpMessage } from '../discovery/spdp.ts';
import { metatrafficUnicastPort, SPDP_MULTICAST_GROUP, spdpMulticastPort, type DiscoveryConfig } from '../config.ts';
import { samePrefix, usableLocators, type RemoteParticipant, type RtpsLogger } from './model.ts';

const INITIAL_ANNOUNCES_MS = [0, 100, 300, 700, 1500];
const LEASE_CHECK_MS = 250;

export type LostReason = 'lease' | 'disposed' | 'closed';

export interface SpdpOptions {
  prefix: GuidPrefix;
  domainId: number;
  announcePeriodMs: number;
  maxRemoteParticipants: number;
  logger: RtpsLogger;
  /** Sends a complete RTPS message to locators (the metatraffic socket). */
  send: (bytes: Uint8Array, locators: readonly Locator[]) => void;
  /** A participant was heard from for the first time (after our unicast answer went out). */
  discovered: (rp: RemoteParticipant) => void;
  /** A participant is gone (already out of `remote`). */
  lost: (rp: RemoteParticipant, why: LostReason) => void;
}

export class ParticipantDiscovery {
  /** Participants we know, by GUID prefix. */
  readonly remote = new PrefixMap<RemoteParticipant>();
  private message: Uint8Array = new Uint8Array(0);
  private sn = 0;
  private targets: Locator[] = [];
  private advertisedAddresses: string[] = [];
  private startedAt = 0;
  private lastAnnounceAt = -Infinity;
  private initialAnnounce = 0;
  private lastLeaseCheck = 0;

  constructor(private readonly o: SpdpOptions) {}

  /** Starts announcing `data` to `targets` (see spdpTargets), from `now` (performance.now()). */
  start(data: ParticipantData, targets: Locator[], advertisedAddresses: string[], now: number): void {
    this.message = buildSpdpMessage(data, ++this.sn);
    this.targets = targets;
    this.advertisedAddresses = advertisedAddresses;
    this.startedAt = now;
  }

  /** Announces when an initial or periodic announcement is due. */
  announceIfDue(now: number): void {
    const sinceStart = now - this.startedAt;
    const due =
      (this.initialAnnounce < INITIAL_ANNOUNCES_MS.length && sinceStart >= INITIAL_ANNOUNCES_MS[this.initialAnnounce]) ||
      now - this.lastAnnounceAt >= this.o.announcePeriodMs;
    if (!due) return;
    if (this.initialAnnounce < INITIAL_ANNOUNCES_MS.length) this.initialAnnounce++;
    this.lastAnnounceAt = now;
    this.o.send(this.message, this.targets);
    for (const rp of this.remote.values()) this.o.send(this.message, rp.metatrafficLocators);
  }

  /** Removes the participants whose lease ran out (checked every 250 ms). */
  checkLeases(now: number): void {
    if (now - this.lastLeaseCheck < LEASE_CHECK_MS) return;
    this.lastLeaseCheck = now;
    for (const rp of [...this.remote.values()]) {
      if (now - rp.lastSeenMs > rp.data.leaseDuration * 1000) {
        this.o.logger.debug(`participant ${rp.hex} lease expired`);
        this.remove(rp, 'lease');
      }
    }
  }

  /** An SPDP DATA(p) or its disposal. */
  onData(ctx: ReceiveContext, m: Data): void {
    if (m.payloadStart < 0) return;
    const payload = ctx.bytes.subarray(m.payloadStart, m.payloadEnd);
    if (m.inlineQos.statusInfo !== 0) {
      const prefix = m.inlineQos.hasKeyHash ? m.inlineQos.keyHash.subarray(0, 12) : keyOnlyGuid(payload, PID.PARTICIPANT_GUID)?.subarray(0, 12);
      const rp = prefix ? this.remote.get(prefix) : undefined;
      if (rp) this.remove(rp, 'disposed');
      return;
    }
    let data: ParticipantData;
    try {
      data = decodeParticipantData(payload);
    } catch (err) {
      if (err instanceof RtpsParseError) {
        this.o.logger.debug(`ignoring malformed SPDP data: ${err.message}`);
        return;
      }
      throw err;
    }
    if (data.domainId !== undefined && data.domainId !== this.o.domainId) return;
    if (data.domainTag !== '') return; // we only join the default (empty) domain tag
    if (samePrefix(data.guidPrefix, this.o.prefix)) return; // our own announcement (multicast loopback)
    const now = performance.now();
    const existing = this.remote.get(data.guidPrefix);
    const metatraffic = usableLocators(data.metatrafficUnicast, this.advertisedAddresses);
    const defaults = usableLocators(data.defaultUnicast, this.advertisedAddresses);
    if (existing) {
      existing.data = data;
      existing.lastSeenMs = now;
      existing.metatrafficLocators = metatraffic;
      existing.defaultLocators = defaults;
      return;
    }
    if (this.remote.size >= this.o.maxRemoteParticipants) {
      this.o.logger.debug(`ignoring participant ${prefixToHex(data.guidPrefix)}: ${this.o.maxRemoteParticipants} participants known`);
      return;
    }
    if (metatraffic.length === 0) return; // nowhere to reach it
    const rp: RemoteParticipant = {
      prefix: data.guidPrefix,
      hex: prefixToHex(data.guidPrefix),
      data,
      lastSeenMs: now,
      metatrafficLocators: metatraffic,
      defaultLocators: defaults,
      endpoints: new Map(),
      routes: new Map(),
    };
    this.remote.set(rp.prefix, rp);
    this.o.logger.debug(`discovered participant ${rp.hex} vendor ${data.vendorId.toString(16)} at ${metatraffic.map(locatorKey).join(' ')}`);
    // answer at once so the newcomer need not wait for our next period
    this.o.send(this.message, metatraffic);
    this.o.discovered(rp);
  }

  /** Forgets a participant (once) and reports it lost. */
  remove(rp: RemoteParticipant, why: LostReason): void {
    if (!this.remote.delete(rp.prefix)) return;
    this.o.lost(rp, why);
  }

  /** Sends our disposal (DATA(p[UD])) to the discovery targets and every known participant. */
  sendDisposal(): void {
    const dispose = buildSpdpDisposeMessage(this.o.prefix, ++this.sn);
    this.o.send(dispose, this.targets);
    for (const rp of this.remote.values()) this.o.send(dispose, rp.metatrafficLocators);
  }

  /** Forgets every participant (on close). */
  removeAll(why: LostReason): void {
    for (const rp of [...this.remote.values()]) this.remove(rp, why);
  }
}

/**
 * Where periodic SPDP goes besides known participants: the multicast group, and unicast to the well-known
 * metatraffic ports of localhost (when discovery is localhost-only or multicast is unavailable) and of static peers.
 */
export function spdpTargets(o: {
  discovery: DiscoveryConfig;
  multicastAvailable: boolean;
  participantIndex: number;
  localhostPeerCount: number;
  logger: RtpsLogger;
}): Locator[] {
  const { discovery, multicastAvailable } = o;
  const d = discovery.domainId;
  const targets = new Map<string, Locator>();
  const add = (l: Locator) => targets.set(locatorKey(l), l);
  if (multicastAvailable && discovery.range === 'subnet') add(udpv4(SPDP_MULTICAST_GROUP, spdpMulticastPort(d)));
  if (multicastAvailable && discovery.range === 'localhost') add(udpv4(SPDP_MULTICAST_GROUP, spdpMulticastPort(d)));
  const unicastLocalhost = discovery.range === 'localhost' || (discovery.range === 'subnet' && !multicastAvailable);
  const peers = Math.max(o.localhostPeerCount, o.participantIndex + 2);
  if (unicastLocalhost) {
    for (let i = 0; i < peers; i++) if (i !== o.participantIndex) add(udpv4('127.0.0.1', metatrafficUnicastPort(d, i)));
  }
  for (const host of discovery.staticPeers) {
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
      o.logger.warn(`ROS_STATIC_PEERS entry "${host}" is not an IPv4 address; skipped (names are not resolved)`);
      continue;
    }
    for (let i = 0; i < peers; i++) add(udpv4(host, metatrafficUnicastPort(d, i)));
  }
  return [...targets.values()];
}
