// SEDP, the endpoint discovery protocol (RTPS 8.5.4): reliable, transient-local builtin writers (a keyed history
// holding each of our endpoints' latest announcement) and readers for publications and subscriptions, matched with
// every discovered participant that has them; announcing and disposing our endpoints; reading peers' announcements.
import { RtpsParseError } from '../wire/errors.ts';
import { EntityIds, entityIdToHex, guidToHex, isWriterEntity, readEntityIdAt, type EntityId, type Guid, type GuidPrefix } from '../ids/guid.ts';
import { BuiltinEndpoint, PID } from '../parameters/pid.ts';
import { decodeEndpointData, encodeEndpointData, encodeKeyOnly, keyOnlyGuid, type EndpointData } from '../discovery/endpoint-data.ts';
import { sedpDisposeInlineQos, sedpKeyInlineQos } from '../discovery/spdp.ts';
import { KeyedHistory } from '../endpoints/history.ts';
import { StatefulWriter } from '../endpoints/writer.ts';
import { StatefulReader, type SampleInfo } from '../endpoints/reader.ts';
import type { FragmentBudget } from '../endpoints/fragments.ts';
import type { MessageSender } from '../endpoints/sender.ts';
import { type EndpointQos, defaultEndpointQos } from '../qos.ts';
import { addRoute, samePrefix, type RemoteParticipant, type RtpsLogger } from './model.ts';

/** The SEDP endpoints: a writer's DDS defaults, but transient-local (late joiners get every endpoint announced). */
const BUILTIN_QOS: EndpointQos = { ...defaultEndpointQos(true), durability: 'transient_local' };

export interface SedpHandlers {
  /** The participant a builtin writer's GUID prefix belongs to, if known. */
  participant(prefix: GuidPrefix): RemoteParticipant | undefined;
  /** A peer announced (or re-announced) one of its endpoints. */
  announced(rp: RemoteParticipant, data: EndpointData, isWriter: boolean): void;
  /** A peer disposed one of its endpoints. */
  disposed(rp: RemoteParticipant, entityId: EntityId): void;
}

export class SedpEndpoints {
  readonly publicationsWriter: StatefulWriter;
  readonly subscriptionsWriter: StatefulWriter;
  private readonly publicationsHistory = new KeyedHistory();
  private readonly subscriptionsHistory = new KeyedHistory();
  private readonly publicationsReader: StatefulReader;
  private readonly subscriptionsReader: StatefulReader;

  constructor(
    private readonly prefix: GuidPrefix,
    sender: MessageSender,
    budget: FragmentBudget,
    private readonly handlers: SedpHandlers,
    private readonly logger: RtpsLogger,
  ) {
    const builtin = (id: EntityId): Guid => ({ prefix, entityId: id });
    this.publicationsWriter = new StatefulWriter(builtin(EntityIds.SEDP_PUBLICATIONS_WRITER), BUILTIN_QOS, this.publicationsHistory, sender);
    this.subscriptionsWriter = new StatefulWriter(builtin(EntityIds.SEDP_SUBSCRIPTIONS_WRITER), BUILTIN_QOS, this.subscriptionsHistory, sender);
    this.publicationsReader = new StatefulReader(builtin(EntityIds.SEDP_PUBLICATIONS_READER), BUILTIN_QOS, sender, budget, (p, i) => this.onSample(p, i, true));
    this.subscriptionsReader = new StatefulReader(builtin(EntityIds.SEDP_SUBSCRIPTIONS_READER), BUILTIN_QOS, sender, budget, (p, i) => this.onSample(p, i, false));
  }

  /** Matches our builtin endpoints with the ones a newly discovered participant announces. */
  match(rp: RemoteParticipant): void {
    const set = rp.data.builtinEndpoints;
    const meta = rp.metatrafficLocators;
    const guid = (entityId: EntityId): Guid => ({ prefix: rp.prefix, entityId });
    if (set & BuiltinEndpoint.PUBLICATIONS_DETECTOR) {
      this.publicationsWriter.matchReader(guid(EntityIds.SEDP_PUBLICATIONS_READER), true, meta, true);
    }
    if (set & BuiltinEndpoint.SUBSCRIPTIONS_DETECTOR) {
      this.subscriptionsWriter.matchReader(guid(EntityIds.SEDP_SUBSCRIPTIONS_READER), true, meta, true);
    }
    if (set & BuiltinEndpoint.PUBLICATIONS_ANNOUNCER) {
      const proxy = this.publicationsReader.matchWriter(guid(EntityIds.SEDP_PUBLICATIONS_WRITER), true, meta);
      addRoute(rp, EntityIds.SEDP_PUBLICATIONS_WRITER, proxy);
    }
    if (set & BuiltinEndpoint.SUBSCRIPTIONS_ANNOUNCER) {
      const proxy = this.subscriptionsReader.matchWriter(guid(EntityIds.SEDP_SUBSCRIPTIONS_WRITER), true, meta);
      addRoute(rp, EntityIds.SEDP_SUBSCRIPTIONS_WRITER, proxy);
    }
  }

  /** Unmatches a participant that is gone. */
  unmatch(rp: RemoteParticipant): void {
    const key = (entityId: EntityId) => rp.hex + entityIdToHex(entityId);
    this.publicationsWriter.unmatchReader(key(EntityIds.SEDP_PUBLICATIONS_READER));
    this.subscriptionsWriter.unmatchReader(key(EntityIds.SEDP_SUBSCRIPTIONS_READER));
    this.publicationsReader.unmatchWriter(key(EntityIds.SEDP_PUBLICATIONS_WRITER));
    this.subscriptionsReader.unmatchWriter(key(EntityIds.SEDP_SUBSCRIPTIONS_WRITER));
  }

  /** Announces one of our endpoints (replacing its previous announcement in the keyed history). */
  announce(data: EndpointData, isWriter: boolean): void {
    const history = isWriter ? this.publicationsHistory : this.subscriptionsHistory;
    const writer = isWriter ? this.publicationsWriter : this.subscriptionsWriter;
    const payload = encodeEndpointData(data, this.prefix);
    const guid = data.guid;
    const sn = history.add(guidToHex(guid), payload, { inlineQos: sedpKeyInlineQos(guid.prefix, guid.entityId) });
    writer.publish(sn, payload, payload.length, history.get(sn));
  }

  /** Announces that one of our endpoints is gone (disposed and unregistered). */
  dispose(data: EndpointData, isWriter: boolean): void {
    const history = isWriter ? this.publicationsHistory : this.subscriptionsHistory;
    const writer = isWriter ? this.publicationsWriter : this.subscriptionsWriter;
    const guid = data.guid;
    const key = encodeKeyOnly(guid);
    const sn = history.add(guidToHex(guid), key, { keyOnly: true, inlineQos: sedpDisposeInlineQos(guid.prefix, guid.entityId) });
    writer.publish(sn, key, key.length, history.get(sn));
  }

  private onSample(payload: Uint8Array, info: SampleInfo, publication: boolean): void {
    const rp = this.handlers.participant(info.writerGuid.prefix);
    if (!rp) return;
    if (info.statusInfo !== 0 || payload.length === 0) {
      let entityId: EntityId | undefined;
      if (info.keyHash) entityId = readEntityIdAt(info.keyHash, 12);
      else {
        try {
          entityId = decodeEndpointData(payload).guid.entityId;
        } catch {
          const guid = keyOnlyGuid(payload, PID.ENDPOINT_GUID);
          entityId = guid ? readEntityIdAt(guid, 12) : undefined;
        }
      }
      if (entityId !== undefined) this.handlers.disposed(rp, entityId);
      return;
    }
    let data: EndpointData;
    try {
      data = decodeEndpointData(payload, info.keyHash);
    } catch (err) {
      if (err instanceof RtpsParseError) {
        this.logger.debug(`ignoring malformed SEDP data from ${rp.hex}: ${err.message}`);
        return;
      }
      throw err;
    }
    if (!samePrefix(data.guid.prefix, rp.prefix)) return; // an endpoint must belong to the announcing participant
    const isWriter = isWriterEntity(data.guid.entityId);
    if (isWriter !== publication) return;
    this.handlers.announced(rp, data, isWriter);
  }
}
