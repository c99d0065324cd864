// Hostile RTPS input shared by the robustness test and the reliability benchmark: the packets a fake Cyclone-like
// peer sends to announce itself and publish, a participant to aim them at (in-memory network), and a deterministic
// mutator of packets.
import { Participant } from '../../src/ros/rtps/participant.ts';
import { MemoryNetwork } from '../../src/ros/rtps/platform/memory-udp.ts';
import { fromRosQos } from '../../src/ros/rtps/qos.ts';
import { WireWriter } from '../../src/ros/rtps/wire/writer.ts';
import { writeHeader } from '../../src/ros/rtps/message/header.ts';
import { writeData } from '../../src/ros/rtps/submessages/data.ts';
import { writeDataFrag } from '../../src/ros/rtps/submessages/data-frag.ts';
import { writeHeartbeat } from '../../src/ros/rtps/submessages/heartbeat.ts';
import { writeHeartbeatFrag } from '../../src/ros/rtps/submessages/heartbeat-frag.ts';
import { writeAckNack } from '../../src/ros/rtps/submessages/acknack.ts';
import { writeNackFrag } from '../../src/ros/rtps/submessages/nack-frag.ts';
import { writeGap } from '../../src/ros/rtps/submessages/gap.ts';
import { writeInfoTsNow } from '../../src/ros/rtps/submessages/info-ts.ts';
import { writeInfoDst } from '../../src/ros/rtps/submessages/info-dst.ts';
import { FragmentNumberSet, SequenceNumberSet } from '../../src/ros/rtps/ids/sequence-number.ts';
import { EntityIds } from '../../src/ros/rtps/ids/guid.ts';
import { udpv4 } from '../../src/ros/rtps/ids/locator.ts';
import { encodeParticipantData } from '../../src/ros/rtps/discovery/participant-data.ts';
import { encodeEndpointData } from '../../src/ros/rtps/discovery/endpoint-data.ts';
import { writeParameter, writeSentinel } from '../../src/ros/rtps/parameters/parameter-list.ts';

export const TOPIC = 'rt/chatter';
export const TYPE = 'std_msgs::msg::dds_::String_';
export const REMOTE = Uint8Array.from([0x01, 0x10, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1]);
export const REMOTE_WRITER = 0x00000103;
export const quiet = { warn: () => {}, debug: () => {} };

/** A fake Cyclone-like peer: the packets it would send to announce itself and publish on TOPIC. */
export function peerPackets(ourReaderPort: number, vendorJunk = false): Record<string, Uint8Array> {
  const msg = (build: (w: WireWriter) => void) => {
    const w = new WireWriter(65536);
    writeHeader(w, REMOTE);
    build(w);
    return w.bytes.slice(0, w.pos);
  };
  let spdp = encodeParticipantData({
    guidPrefix: REMOTE,
    vendorId: 0x0110,
    protocolMinor: 2,
    domainId: 0,
    domainTag: '',
    defaultUnicast: [udpv4('127.0.0.1', ourReaderPort + 100)],
    defaultMulticast: [],
    metatrafficUnicast: [udpv4('127.0.0.1', ourReaderPort + 101)],
    metatrafficMulticast: [],
    leaseDuration: 30,
    builtinEndpoints: 0x3f,
    userData: new Uint8Array(0),
    entityName: '',
  });
  if (vendorJunk) {
    // splice vendor-specific parameters (Cyclone's 0x8xxx) in front of the sentinel
    const w = new WireWriter(spdp.length + 64);
    w.raw(spdp, 0, spdp.length - 4);
    w.origin = 4;
    writeParameter(w, 0x8007, (w) => w.zeros(20));
    writeParameter(w, 0x8019, (w) => w.u32(0xdeadbeef));
    writeSentinel(w);
    spdp = w.bytes.slice(0, w.pos);
  }
  const sedp = encodeEndpointData(
    {
      guid: { prefix: REMOTE, entityId: REMOTE_WRITER },
      topicName: TOPIC,
      typeName: TYPE,
      qos: fromRosQos({ reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 }, true),
      unicastLocators: [],
      multicastLocators: [],
      userData: new Uint8Array(0),
      expectsInlineQos: false,
      vendorId: 0x0110,
    },
    REMOTE,
  );
  const user = Uint8Array.from([0, 1, 0, 0, 6, 0, 0, 0, 104, 101, 108, 108, 111, 0]);
  const big = new Uint8Array(5000);
  big[1] = 1;
  const set = new SequenceNumberSet().reset(1);
  set.add(1);
  const frags = new FragmentNumberSet().reset(1);
  frags.add(1);
  return {
    spdp: msg((w) => {
      writeInfoTsNow(w);
      writeData(w, EntityIds.UNKNOWN, EntityIds.SPDP_WRITER, 1, spdp);
    }),
    sedp: msg((w) => {
      writeData(w, EntityIds.SEDP_PUBLICATIONS_READER, EntityIds.SEDP_PUBLICATIONS_WRITER, 1, sedp);
      writeHeartbeat(w, EntityIds.SEDP_PUBLICATIONS_READER, EntityIds.SEDP_PUBLICATIONS_WRITER, 1, 1, 1, true);
    }),
    data: msg((w) => {
      writeInfoTsNow(w);
      writeData(w, EntityIds.UNKNOWN, REMOTE_WRITER, 1, user);
      writeHeartbeat(w, EntityIds.UNKNOWN, REMOTE_WRITER, 1, 1, 2, false);
    }),
    frag: msg((w) => {
      writeDataFrag(w, EntityIds.UNKNOWN, REMOTE_WRITER, 2, big, 1344, 1, 1);
      writeDataFrag(w, EntityIds.UNKNOWN, REMOTE_WRITER, 2, big, 1344, 2, 1);
      writeHeartbeatFrag(w, EntityIds.UNKNOWN, REMOTE_WRITER, 2, 4, 1);
    }),
    gap: msg((w) => {
      writeInfoDst(w, new Uint8Array(12));
      writeGap(w, EntityIds.UNKNOWN, REMOTE_WRITER, 3, new SequenceNumberSet().reset(5));
    }),
    acknack: msg((w) => {
      writeAckNack(w, 0x00000104, 0x00000103, set, 1, false);
      writeNackFrag(w, 0x00000104, 0x00000103, 1, frags, 1);
      writeAckNack(w, EntityIds.SEDP_PUBLICATIONS_READER, EntityIds.SEDP_PUBLICATIONS_WRITER, set, 1, false);
    }),
  };
}

export async function fuzzTarget(maxRemoteParticipants = 1000) {
  const net = new MemoryNetwork();
  const p = await Participant.create({ platform: net.platform(), logger: quiet, env: {}, maxRemoteParticipants, reassemblyBudget: 8 << 20, maxSampleSize: 4 << 20 });
  const got: Uint8Array[] = [];
  const reader = p.createReader({
    topicName: TOPIC,
    typeName: TYPE,
    qos: fromRosQos({ reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 10 }, false),
    onSample: (x) => got.push(x),
  });
  const writer = p.createWriter({ topicName: TOPIC, typeName: TYPE, qos: fromRosQos({ reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth: 10 }, true) });
  writer.write(Uint8Array.from([0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]));
  return { net, p, got, reader, writer };
}

/** The fuzzer's deterministic random numbers: rand(n) in [0, n). */
export function fuzzRandom(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/**
 * One mutant of a corpus packet, written into `scratch` (returns its length): 1–4 of bit flips, random bytes,
 * truncation, junk appended, interesting 16-bit values (lengths, counts), a new source prefix, or a chunk spliced
 * in from another packet. `headerBytes` are kept intact (20: the RTPS header, so mutants reach the submessages).
 */
export function mutate(corpus: readonly Uint8Array[], rand: (n: number) => number, scratch: Uint8Array, headerBytes = 20): number {
  const base = corpus[rand(corpus.length)];
  let len = base.length;
  scratch.set(base);
  const h = headerBytes;
  const mutations = 1 + rand(4);
  for (let m = 0; m < mutations; m++) {
    if (len <= h + 2) break;
    switch (rand(7)) {
      case 0: // flip bits
        scratch[h + rand(len - h)] ^= 1 << rand(8);
        break;
      case 1: // random byte
        scratch[h + rand(len - h)] = rand(256);
        break;
      case 2: // truncate
        len = h + rand(len - h + 1);
        break;
      case 3: // extend with junk
        for (let k = 0; k < 64 && len < scratch.length; k++) scratch[len++] = rand(256);
        break;
      case 4: {
        // interesting 16/32-bit values (lengths, counts) at a random aligned offset
        const at = h + 2 * rand((len - h - 2) >> 1);
        const v = [0, 1, 0xffff, 0x7fff, 0x8000, 4, 0xfff0][rand(7)];
        scratch[at] = v & 0xff;
        scratch[at + 1] = v >> 8;
        break;
      }
      case 5: // new source prefix: looks like another participant (only when the header is the RTPS one)
        if (h === 20) scratch[8 + rand(12)] = rand(256);
        else scratch[h + rand(len - h)] = rand(256);
        break;
      default: {
        // duplicate a chunk of another packet into this one
        const other = corpus[rand(corpus.length)];
        const from = rand(other.length);
        const n = Math.min(rand(200), other.length - from, scratch.length - len);
        scratch.set(other.subarray(from, from + n), len);
        len += n;
      }
    }
  }
  return len;
}
