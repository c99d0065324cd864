// Matching our writers and readers with the remote endpoints SEDP reports (DDS 2.2.3): same topic, same type, and
// requested/offered QoS compatible (qos.ts); a mismatch is logged once per pair with its reason. A matched remote
// writer gets a route to our reader's proxy, so its DATA reaches the reader.
import { guidToHex, type EntityId } from '../ids/guid.ts';
import type { EndpointData } from '../discovery/endpoint-data.ts';
import { qosIncompatibility, type EndpointQos } from '../qos.ts';
import { addRoute, usableLocators, type EmitEvent, type LocalEndpointEntry, type RemoteEndpoint, type RemoteParticipant, type RtpsLogger } from './model.ts';

const MAX_ENDPOINTS_PER_PARTICIPANT = 4096;

export class EndpointMatcher {
  /** Our user endpoints by entity id. */
  readonly local = new Map<EntityId, LocalEndpointEntry>();
  /** Pairs already reported as incompatible, so each is logged once. */
  private readonly reportedIncompatible = new Set<string>();

  constructor(
    private readonly emit: EmitEvent,
    private readonly logger: RtpsLogger,
    /** Our advertised addresses (which of a peer's locators to use); read when an endpoint is added. */
    private readonly ownAddresses: () => string[],
  ) {}

  /** A remote endpoint SEDP announced: added (or replaced when its topic, type or QoS changed) and matched. */
  addRemote(rp: RemoteParticipant, data: EndpointData, isWriter: boolean): void {
    const existing = rp.endpoints.get(data.guid.entityId);
    if (existing) {
      if (existing.data.topicName === data.topicName && existing.data.typeName === data.typeName && sameQos(existing.data.qos, data.qos)) return;
      this.removeRemote(rp, existing); // QoS or topic changed: rematch from scratch
    }
    if (rp.endpoints.size >= MAX_ENDPOINTS_PER_PARTICIPANT) return;
    const unicast = usableLocators(data.unicastLocators, this.ownAddresses());
    const ep: RemoteEndpoint = {
      data,
      participant: rp,
      locators: unicast.length ? unicast : rp.defaultLocators,
      isWriter,
    };
    rp.endpoints.set(data.guid.entityId, ep);
    this.emit('endpointDiscovered', ep);
    for (const local of this.local.values()) this.tryMatch(local, ep);
  }

  /** A remote endpoint disposed by SEDP. */
  disposeRemote(rp: RemoteParticipant, entityId: EntityId): void {
    const ep = rp.endpoints.get(entityId);
    if (ep) this.removeRemote(rp, ep);
  }

  /** Forgets a remote endpoint and unmatches our endpoints from it. */
  removeRemote(rp: RemoteParticipant, ep: RemoteEndpoint): void {
    rp.endpoints.delete(ep.data.guid.entityId);
    const remoteKey = guidToHex(ep.data.guid);
    if (ep.isWriter) {
      rp.routes.delete(ep.data.guid.entityId);
      for (const local of this.local.values()) {
        if (local.kind === 'reader' && local.reader.unmatchWriter(remoteKey)) this.emit('unmatched', guidToHex(local.data.guid), remoteKey);
      }
    } else {
      for (const local of this.local.values()) {
        if (local.kind === 'writer' && local.writer.unmatchReader(remoteKey)) this.emit('unmatched', guidToHex(local.data.guid), remoteKey);
      }
    }
    this.emit('endpointLost', ep);
  }

  /** Adds one of our endpoints and matches it with every remote endpoint known now. */
  addLocal(entry: LocalEndpointEntry, remotes: Iterable<RemoteParticipant>): void {
    this.local.set(entry.data.guid.entityId, entry);
    for (const rp of remotes) for (const ep of rp.endpoints.values()) this.tryMatch(entry, ep);
  }

  /** Removes one of our endpoints (and a reader's routes); false when it was not there. */
  removeLocal(entry: LocalEndpointEntry, remotes: Iterable<RemoteParticipant>): boolean {
    if (!this.local.delete(entry.data.guid.entityId)) return false;
    if (entry.kind === 'reader') {
      for (const rp of remotes) {
        for (const [id, proxies] of rp.routes) {
          const kept = proxies.filter((p) => p.reader !== entry.reader);
          if (kept.length) rp.routes.set(id, kept);
          else rp.routes.delete(id);
        }
      }
    }
    return true;
  }

  private tryMatch(local: LocalEndpointEntry, remote: RemoteEndpoint): void {
    const isLocalWriter = local.kind === 'writer';
    if (isLocalWriter === remote.isWriter) return;
    if (local.data.topicName !== remote.data.topicName) return;
    const localKey = guidToHex(local.data.guid);
    const remoteKey = guidToHex(remote.data.guid);
    let reason: string | undefined;
    if (local.data.typeName !== remote.data.typeName) {
      reason = `type mismatch: local "${local.data.typeName}", remote "${remote.data.typeName}"`;
    } else {
      reason = isLocalWriter ? qosIncompatibility(local.data.qos, remote.data.qos) : qosIncompatibility(remote.data.qos, local.data.qos);
    }
    if (reason) {
      const pair = `${localKey}/${remoteKey}`;
      if (!this.reportedIncompatible.has(pair)) {
        this.reportedIncompatible.add(pair);
        const role = isLocalWriter ? 'our writer and a remote reader' : 'a remote writer and our reader';
        this.logger.warn(`topic "${local.data.topicName}": ${role} (${remoteKey}) do not match: ${reason}`);
      }
      this.emit('incompatibleQos', localKey, remoteKey, reason);
      return;
    }
    if (local.kind === 'writer') {
      local.writer.matchReader(
        remote.data.guid,
        remote.data.qos.reliability === 'reliable',
        remote.locators,
        remote.data.qos.durability !== 'volatile',
      );
    } else {
      const proxy = local.reader.matchWriter(remote.data.guid, remote.data.qos.reliability === 'reliable', remote.locators);
      addRoute(remote.participant, remote.data.guid.entityId, proxy);
    }
    this.emit('matched', localKey, remoteKey);
  }
}

function sameQos(a: EndpointQos, b: EndpointQos): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
