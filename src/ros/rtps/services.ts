// ROS 2 services over the RTPS participant: a request topic "rq/<name>Request" and a reply topic "rr/<name>Reply",
// each side a reliable writer and reader. How a reply names its request differs between the rmw's, and both are
// spoken here, chosen by the vendor of the peer (its rmw comes with its DDS):
//
// - rmw_cyclonedds (vendor 0x0110): the payload starts with a header, a 64-bit client id and a 64-bit sequence
//   number, before the message itself; the server echoes the header in the reply and clients filter replies on
//   their id. Client and service endpoints carry "clientid=…;" / "serviceid=…;" in USER_DATA, and a server sends
//   a reply only once it has matched the reply reader of the requesting client.
// - rmw_fastrtps (and every other vendor, onestep itself included): the payload is the message alone; a request is
//   named by its writer GUID and RTPS sequence number, and the reply carries that pair as the related sample
//   identity in inline QoS. A client may name its reply reader there instead (Fast DDS does), which the server
//   then waits to match before replying.
//
// A client sends only to a server that acknowledged its request writer (proof that the server matched it: a
// request written earlier would be history to the server's volatile reader and be skipped), and pending calls
// fail at once with 'server_lost' when the last server goes away.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OpenEndpoints, ResolvedService } from '../endpoints.ts';
import { typeHashUserData } from '../msgs/type-hash.ts';
import { fromDdsTopicName, fromDdsTypeName, toDdsTopicName } from '../names.ts';
import { ClientCore, runHandler } from '../services/client-core.ts';
import { ServiceCallError } from '../services/errors.ts';
import type { ServiceHandler, ServiceInfo, ServiceServer } from '../transport.ts';
import { type Guid, isReaderEntity, readEntityIdAt, writeGuidBytes } from './ids/guid.ts';
import type { LocalReader, LocalWriter, Participant, RemoteEndpoint } from './participant.ts';
import { fromRosQos } from './qos.ts';
import type { SampleInfo } from './endpoints/reader.ts';

export const VENDOR_CYCLONE = 0x0110;
/** Bytes of rmw_cyclonedds's request header: client id (uint64) and sequence number (int64). */
const CYCLONE_HEADER = 16;
/** How long a server waits for the requesting client's reply reader to be matched before replying anyway. */
const REPLY_READER_WAIT_MS = 1000;
/** Replies kept for resends: enough for many overlapping calls (rmw's default depth 10 would drop some). */
const MIN_REPLY_DEPTH = 100;

export type RequestConvention = 'cyclone_header' | 'sample_identity';

/** The convention a peer of this vendor speaks. */
export function conventionOf(vendorId: number | undefined): RequestConvention {
  return vendorId === VENDOR_CYCLONE ? 'cyclone_header' : 'sample_identity';
}

/** What a service endpoint needs from the transport that owns it. */
export interface RtpsServiceContext {
  participant: Participant;
  endpoints: OpenEndpoints;
  onError(err: unknown, where: string): void;
  /** Lists a service endpoint under the node on ros_discovery_info (and takes it off again). */
  graphAdd(e: LocalReader | LocalWriter): void;
  graphRemove(e: LocalReader | LocalWriter): void;
  /** Calls `listener` whenever the local endpoint with this GUID matches or unmatches a remote one; returns the unsubscribe. */
  watchMatches(guidHex: string, listener: () => void): () => void;
  /** The convention to speak with a peer of this vendor (conventionOf, unless the transport is told otherwise). */
  conventionFor(vendorId: number | undefined): RequestConvention;
}

let nextId = 1;

/** A client/service id as rmw_cyclonedds writes it in USER_DATA: the participant prefix and a counter, hex with dots. */
function makeCsid(participantPrefix: Uint8Array): string {
  const n = nextId++;
  const bytes = [...participantPrefix.subarray(0, 12), (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return bytes.map((b) => b.toString(16)).join('.');
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const clientIds = new WeakMap<RemoteEndpoint, string | null>();

/** An endpoint's "clientid=" USER_DATA value (read once per endpoint). */
function clientIdOf(ep: RemoteEndpoint): string | undefined {
  let id = clientIds.get(ep);
  if (id === undefined) clientIds.set(ep, (id = userDataValue(ep.data.userData, 'clientid') ?? null));
  return id ?? undefined;
}

function hexOf(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return out;
}

/** Reads "key=value;" pairs from USER_DATA. */
export function userDataValue(userData: Uint8Array | undefined, key: string): string | undefined {
  if (!userData || userData.length === 0) return undefined;
  for (const part of decoder.decode(userData).split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at) === key) return part.slice(at + 1);
  }
  return undefined;
}

function guidBytes(g: Guid): Uint8Array {
  const out = new Uint8Array(16);
  writeGuidBytes(g, out, 0);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Splits an rmw_cyclonedds payload into its header and a plain CDR sample of the message. */
function splitCycloneHeader(payload: Uint8Array): { id: bigint; seq: bigint; message: Uint8Array } | undefined {
  if (payload.length < 4 + CYCLONE_HEADER) return undefined;
  const little = payload[1] === 1;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const id = view.getBigUint64(4, little);
  const seq = view.getBigInt64(12, little);
  // the message follows at body offset 16, a multiple of 8: its alignment is unchanged once the header is cut out
  const message = new Uint8Array(payload.length - CYCLONE_HEADER);
  message.set(payload.subarray(0, 4), 0);
  message.set(payload.subarray(4 + CYCLONE_HEADER), 4);
  return { id, seq, message };
}

/** A serialized message (CDR_LE from our codecs) with rmw_cyclonedds's header put in front of its fields. */
function withCycloneHeader(message: Uint8Array, id: bigint, seq: bigint): Uint8Array {
  const out = new Uint8Array(message.length + CYCLONE_HEADER);
  out.set(message.subarray(0, 4), 0);
  const view = new DataView(out.buffer);
  const little = message[1] === 1;
  view.setBigUint64(4, id, little);
  view.setBigInt64(12, seq, little);
  out.set(message.subarray(4), 4 + CYCLONE_HEADER);
  return out;
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() >= deadline) return false;
    await sleep(5);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// server

export function createRtpsService<Req, Res>(ctx: RtpsServiceContext, s: ResolvedService<Req, Res>, handler: ServiceHandler<Req, Res>): ServiceServer {
  const { participant } = ctx;
  const { codec } = s;
  const csid = makeCsid(participant.prefix);
  let closed = false;
  const reported = new Set<string>();
  const reportOnce = (who: string, err: unknown, what: string) => {
    if (reported.has(who) || reported.size > 1000) return;
    reported.add(who);
    ctx.onError(err, `service ${s.name}: ${what}`);
  };

  const writer = participant.createWriter({
    topicName: toDdsTopicName(s.name, 'reply'),
    typeName: codec.response.ddsType,
    qos: fromRosQos({ ...s.qos, depth: Math.max(s.qos.depth, MIN_REPLY_DEPTH) }, true),
    userData: encoder.encode(`serviceid=${csid};${typeHashUserData(`${s.type}_Response`)}`),
  });

  /** Our reply writer has matched (and been acknowledged by) the reader `ok` picks. */
  const readerMatched = (ok: (r: RemoteEndpoint | undefined, guidHex: string) => boolean) =>
    writer.matchedReaderStates().some((r) => r.acknowledged && ok(r.remote, r.guidHex));
  // clients whose reply reader is known to be matched (by clientid or reader GUID): checked once, not per request;
  // forgotten when the reply writer loses any reader
  const replyReadersSeen = new Set<string>();
  const unwatch = ctx.watchMatches(writer.guidHex, () => replyReadersSeen.clear());
  const replyReaderReady = async (key: string, ok: (r: RemoteEndpoint | undefined, guidHex: string) => boolean, clientGone: () => boolean) => {
    if (replyReadersSeen.has(key)) return;
    await waitFor(() => closed || clientGone() || readerMatched(ok), REPLY_READER_WAIT_MS);
    if (readerMatched(ok)) replyReadersSeen.add(key);
  };

  const onRequest = async (payload: Uint8Array, info: SampleInfo): Promise<void> => {
    const requestWriter = participant.remoteEndpoint(info.writerGuid);
    const convention = ctx.conventionFor(requestWriter?.participant.data.vendorId);
    let message: Uint8Array;
    let header: { id: bigint; seq: bigint } | undefined;
    if (convention === 'cyclone_header') {
      const split = splitCycloneHeader(payload);
      if (!split) {
        reportOnce(info.writerKey, new Error(`${payload.length}-byte request without the 16-byte rmw_cyclonedds header`), 'dropping requests');
        return;
      }
      header = { id: split.id, seq: split.seq };
      message = split.message;
    } else {
      message = payload.slice();
    }
    const requestSN = info.sn;
    const requestWriterGuid = guidBytes(info.writerGuid);
    // a Fast DDS-style client may name its reply reader as the related sample identity
    const replyReader = info.related && isReaderEntity(readEntityIdAt(info.related.guid, 12)) ? info.related.guid : undefined;
    let request: Req;
    try {
      request = codec.request.decode(message);
    } catch (err) {
      reportOnce(info.writerKey, err, `dropping requests from ${info.writerKey} that do not decode as ${s.type}`);
      return;
    }
    const requestInfo = {
      receivedAt: process.hrtime.bigint(),
      client: header ? header.id.toString(16).padStart(16, '0') : info.writerKey,
      sequence: header ? header.seq : BigInt(requestSN),
    };
    const out = await runHandler(handler, request, requestInfo, (err) => ctx.onError(err, `service ${s.name}: the handler failed, no reply sent`));
    if (!out || closed) return;
    let reply: Uint8Array;
    try {
      reply = codec.response.encode(out.response);
    } catch (err) {
      ctx.onError(err, `service ${s.name}: the handler's response does not fit ${s.type}, no reply sent`);
      return;
    }
    if (header) {
      // rmw_cyclonedds: reply once the client's reply reader (same clientid) is matched, unless the client is gone
      const clientId = requestWriter ? clientIdOf(requestWriter) : undefined;
      if (clientId !== undefined && !replyReadersSeen.has(clientId)) {
        const gone = () => !participant.remoteEndpoint(info.writerGuid);
        await replyReaderReady(clientId, (r) => (r ? clientIdOf(r) : undefined) === clientId, gone);
        if (closed || gone()) return;
      }
      writer.write(withCycloneHeader(reply, header.id, header.seq));
      return;
    }
    if (replyReader) {
      const want = hexOf(replyReader);
      if (!replyReadersSeen.has(want)) {
        await replyReaderReady(want, (_r, hex) => hex === want, () => false);
        if (closed) return;
      }
    }
    writer.write(reply, reply.length, { guid: replyReader ?? requestWriterGuid, sn: requestSN });
  };

  const reader = participant.createReader({
    topicName: toDdsTopicName(s.name, 'request'),
    typeName: codec.request.ddsType,
    qos: fromRosQos(s.qos, false),
    userData: encoder.encode(`serviceid=${csid};${typeHashUserData(`${s.type}_Request`)}`),
    onSample: (payload, info) => {
      if (info.statusInfo !== 0 || closed) return;
      void onRequest(payload, { ...info }); // `info` is reused by the reader: the handler outlives this call
    },
  });
  ctx.graphAdd(reader);
  ctx.graphAdd(writer);

  const handle: ServiceServer = {
    name: s.name,
    type: s.type,
    close: () => {
      if (!ctx.endpoints.untrack(handle)) return;
      closed = true;
      unwatch();
      reader.close();
      writer.close();
      ctx.graphRemove(reader);
      ctx.graphRemove(writer);
    },
  };
  ctx.endpoints.track(handle);
  return handle;
}

// ---------------------------------------------------------------------------------------------------------------
// client

export function createRtpsClient<Req, Res>(ctx: RtpsServiceContext, s: ResolvedService<Req, Res>): ClientCore<Req, Res> {
  const { participant } = ctx;
  const { codec } = s;
  const csid = makeCsid(participant.prefix);
  const userData = (part: 'Request' | 'Response') => encoder.encode(`clientid=${csid};${typeHashUserData(`${s.type}_${part}`)}`);
  // rmw_cyclonedds names its client by the instance handle of its request writer, an opaque 64-bit number
  const cycloneId = new DataView(randomBytes(8).buffer).getBigUint64(0, true);
  let cycloneSeq = 0n;
  let warnedMixed = false;
  let core: ClientCore<Req, Res>;

  const writer = participant.createWriter({
    topicName: toDdsTopicName(s.name, 'request'),
    typeName: codec.request.ddsType,
    qos: fromRosQos(s.qos, true),
    userData: userData('Request'),
  });
  const writerGuid = guidBytes(writer.guid);

  const onReply = (payload: Uint8Array, info: SampleInfo) => {
    if (info.statusInfo !== 0) return;
    const replyWriter = participant.remoteEndpoint(info.writerGuid);
    let key: string;
    let message: Uint8Array;
    if (ctx.conventionFor(replyWriter?.participant.data.vendorId) === 'cyclone_header') {
      const split = splitCycloneHeader(payload);
      if (!split || split.id !== cycloneId) return; // another client's reply
      key = `c${split.seq}`;
      message = split.message;
    } else {
      const rel = info.related;
      if (!rel || !(sameBytes(rel.guid, writerGuid) || sameBytes(rel.guid, readerGuid))) return;
      key = `s${rel.sn}`;
      message = payload;
    }
    let response: Res;
    try {
      response = codec.response.decode(message);
    } catch (err) {
      core.fail(key, new ServiceCallError('server_lost', s.name, `the reply does not decode as ${s.type}: ${(err as Error).message}`));
      return;
    }
    core.resolve(key, response);
  };

  const reader = participant.createReader({
    topicName: toDdsTopicName(s.name, 'reply'),
    typeName: codec.response.ddsType,
    qos: fromRosQos(s.qos, false),
    userData: userData('Response'),
    onSample: onReply,
  });
  const readerGuid = guidBytes(reader.guid);
  ctx.graphAdd(writer);
  ctx.graphAdd(reader);

  /** Servers reachable both ways: their request reader acknowledged us, and a reply writer of theirs matched us. */
  const servers = (): RemoteEndpoint[] => {
    const replyFrom = new Set(reader.matchedWriterStates().map((w) => w.remote?.participant.hex).filter((h) => h !== undefined));
    const out: RemoteEndpoint[] = [];
    for (const r of writer.matchedReaderStates()) {
      if (r.acknowledged && r.remote && replyFrom.has(r.remote.participant.hex)) out.push(r.remote);
    }
    return out;
  };

  // the servers reachable both ways, kept until a match changes (acknowledgements only add to it)
  let reachable: RemoteEndpoint[] | null = null;
  const reachableServers = (): RemoteEndpoint[] => {
    if (reachable !== null) return reachable;
    const found = servers();
    if (found.length > 0) reachable = found;
    return found;
  };
  const onMatchChange = () => {
    reachable = null;
    core.availabilityChanged();
    if (core.pendingCalls > 0 && servers().length === 0) {
      core.rejectAll(new ServiceCallError('server_lost', s.name, 'the server went away before it replied'));
    }
  };
  const unwatch = [ctx.watchMatches(writer.guidHex, onMatchChange), ctx.watchMatches(reader.guidHex, onMatchChange)];

  core = new ClientCore<Req, Res>(
    s.name,
    s.type,
    {
      available: () => reachableServers().length > 0,
      send: (request) => {
        let message: Uint8Array;
        try {
          message = codec.request.encode(request);
        } catch (err) {
          throw new ServiceCallError('request', s.name, (err as Error).message);
        }
        const matched = reachableServers();
        const conventions = new Set(matched.map((r) => ctx.conventionFor(r.participant.data.vendorId)));
        if (conventions.size > 1 && !warnedMixed) {
          warnedMixed = true;
          ctx.onError(new Error('servers of several rmw conventions are matched; requests follow the first one'), `service ${s.name}`);
        }
        if (ctx.conventionFor(matched[0]?.participant.data.vendorId) === 'cyclone_header') {
          const seq = ++cycloneSeq;
          writer.write(withCycloneHeader(message, cycloneId, seq));
          return `c${seq}`;
        }
        // as rmw_fastrtps does: name our reply reader, so the server waits until it has matched it
        const sn = writer.write(message, message.length, { guid: readerGuid, sn: -1 });
        return `s${sn}`;
      },
      release: () => {
        for (const u of unwatch) u();
        writer.close();
        reader.close();
        ctx.graphRemove(writer);
        ctx.graphRemove(reader);
      },
    },
    () => ctx.endpoints.untrack(core),
  );
  ctx.endpoints.track(core);
  return core;
}

// ---------------------------------------------------------------------------------------------------------------
// graph

/** Services in the graph from the request endpoints: readers are servers, writers clients. */
export function rtpsServices(participant: Participant): ServiceInfo[] {
  const byName = new Map<string, { types: Set<string>; servers: number; clients: number }>();
  const add = (topic: string, typeName: string, isWriter: boolean) => {
    const t = fromDdsTopicName(topic);
    if (!t || t.kind !== 'request') return;
    let e = byName.get(t.name);
    if (!e) byName.set(t.name, (e = { types: new Set(), servers: 0, clients: 0 }));
    const type = fromDdsTypeName(typeName);
    e.types.add(type?.endsWith('_Request') ? type.slice(0, -'_Request'.length) : typeName);
    if (isWriter) e.clients++;
    else e.servers++;
  };
  for (const { data, isWriter } of participant.localEndpointData()) add(data.topicName, data.typeName, isWriter);
  for (const ep of participant.remoteEndpoints()) add(ep.data.topicName, ep.data.typeName, ep.isWriter);
  return [...byName]
    .map(([service, e]) => ({ service, types: [...e.types].sort(), servers: e.servers, clients: e.clients }))
    .sort((a, b) => a.service.localeCompare(b.service));
}
