// SPDPdiscoveredParticipantData: what a participant announces about itself (RTPS 8.5.3.2, 9.6.2.2), as a
// PL_CDR parameter list. Decoding is defensive: a malformed or partial announcement yields a parse error.
import { WireReader } from '../wire/reader.ts';
import { WireWriter } from '../wire/writer.ts';
import { RtpsParseError } from '../wire/errors.ts';
import { readLocator, writeLocator, type Locator } from '../ids/locator.ts';
import type { GuidPrefix } from '../ids/guid.ts';
import { EntityIds } from '../ids/guid.ts';
import { readParameterList, writeParameter, writeSentinel } from '../parameters/parameter-list.ts';
import { Encapsulation, PID } from '../parameters/pid.ts';
import { readDuration, writeDuration } from '../qos.ts';
import { PROTOCOL_VERSION, VENDOR_ID } from '../message/header.ts';

export interface ParticipantData {
  guidPrefix: GuidPrefix;
  vendorId: number;
  protocolMinor: number;
  domainId: number | undefined;
  domainTag: string;
  defaultUnicast: Locator[];
  defaultMulticast: Locator[];
  metatrafficUnicast: Locator[];
  metatrafficMulticast: Locator[];
  /** Seconds. */
  leaseDuration: number;
  builtinEndpoints: number;
  userData: Uint8Array;
  entityName: string;
}

const MAX_LOCATORS_PER_KIND = 16;

/** Decodes the serialized payload (encapsulation header included). */
export function decodeParticipantData(payload: Uint8Array): ParticipantData {
  const r = new WireReader();
  const kind = payloadKind(payload);
  r.reset(payload, 4, payload.length, kind === Encapsulation.PL_CDR_LE);
  const d: ParticipantData = {
    guidPrefix: new Uint8Array(0),
    vendorId: 0,
    protocolMinor: 0,
    domainId: undefined,
    domainTag: '',
    defaultUnicast: [],
    defaultMulticast: [],
    metatrafficUnicast: [],
    metatrafficMulticast: [],
    leaseDuration: 100, // RTPS default when absent
    builtinEndpoints: 0,
    userData: new Uint8Array(0),
    entityName: '',
  };
  const add = (list: Locator[], loc: Locator) => {
    if (list.length < MAX_LOCATORS_PER_KIND) list.push(loc);
  };
  readParameterList(r, (pid, r) => {
    switch (pid) {
      case PID.PARTICIPANT_GUID:
        r.need(16);
        d.guidPrefix = r.bytes.slice(r.pos, r.pos + 12);
        return true;
      case PID.VENDORID:
        r.need(2);
        d.vendorId = (r.bytes[r.pos] << 8) | r.bytes[r.pos + 1];
        return true;
      case PID.PROTOCOL_VERSION:
        r.need(2);
        d.protocolMinor = r.bytes[r.pos + 1];
        return true;
      case PID.DOMAIN_ID:
        d.domainId = r.u32();
        return true;
      case PID.DOMAIN_TAG:
        d.domainTag = r.string();
        return true;
      case PID.DEFAULT_UNICAST_LOCATOR:
        add(d.defaultUnicast, readLocator(r));
        return true;
      case PID.DEFAULT_MULTICAST_LOCATOR:
        add(d.defaultMulticast, readLocator(r));
        return true;
      case PID.METATRAFFIC_UNICAST_LOCATOR:
        add(d.metatrafficUnicast, readLocator(r));
        return true;
      case PID.METATRAFFIC_MULTICAST_LOCATOR:
        add(d.metatrafficMulticast, readLocator(r));
        return true;
      case PID.PARTICIPANT_LEASE_DURATION:
        d.leaseDuration = readDuration(r);
        return true;
      case PID.BUILTIN_ENDPOINT_SET:
        d.builtinEndpoints = r.u32();
        return true;
      case PID.USER_DATA: {
        const n = r.u32();
        d.userData = r.slice(n).slice();
        return true;
      }
      case PID.ENTITY_NAME:
        d.entityName = r.string();
        return true;
      default:
        return false;
    }
  });
  if (d.guidPrefix.length !== 12) throw new RtpsParseError('SPDP data without PID_PARTICIPANT_GUID');
  if (!(d.leaseDuration > 0)) throw new RtpsParseError('SPDP data with a non-positive lease duration');
  return d;
}

export function payloadKind(payload: Uint8Array): number {
  if (payload.length < 4) throw new RtpsParseError('serialized payload shorter than its encapsulation header');
  const kind = (payload[0] << 8) | payload[1];
  if (kind !== Encapsulation.PL_CDR_LE && kind !== Encapsulation.PL_CDR_BE) {
    throw new RtpsParseError(`discovery data must be PL_CDR, got encapsulation 0x${kind.toString(16).padStart(4, '0')}`);
  }
  return kind;
}

/** Encodes our announcement as PL_CDR_LE (encapsulation header included). */
export function encodeParticipantData(d: ParticipantData): Uint8Array {
  const w = new WireWriter(4096);
  w.u16be(Encapsulation.PL_CDR_LE);
  w.u16(0);
  w.origin = w.pos;
  writeParameter(w, PID.PROTOCOL_VERSION, (w) => {
    w.u8(PROTOCOL_VERSION.major);
    w.u8(PROTOCOL_VERSION.minor);
  });
  writeParameter(w, PID.VENDORID, (w) => w.raw(VENDOR_ID));
  writeParameter(w, PID.PARTICIPANT_GUID, (w) => {
    w.raw(d.guidPrefix);
    w.u32be(EntityIds.PARTICIPANT);
  });
  if (d.domainId !== undefined) writeParameter(w, PID.DOMAIN_ID, (w) => w.u32(d.domainId!));
  if (d.domainTag) writeParameter(w, PID.DOMAIN_TAG, (w) => w.string(d.domainTag));
  for (const l of d.defaultUnicast) writeParameter(w, PID.DEFAULT_UNICAST_LOCATOR, (w) => writeLocator(w, l));
  for (const l of d.defaultMulticast) writeParameter(w, PID.DEFAULT_MULTICAST_LOCATOR, (w) => writeLocator(w, l));
  for (const l of d.metatrafficUnicast) writeParameter(w, PID.METATRAFFIC_UNICAST_LOCATOR, (w) => writeLocator(w, l));
  for (const l of d.metatrafficMulticast) writeParameter(w, PID.METATRAFFIC_MULTICAST_LOCATOR, (w) => writeLocator(w, l));
  writeParameter(w, PID.PARTICIPANT_LEASE_DURATION, (w) => writeDuration(w, d.leaseDuration));
  writeParameter(w, PID.BUILTIN_ENDPOINT_SET, (w) => w.u32(d.builtinEndpoints));
  if (d.userData.length) {
    writeParameter(w, PID.USER_DATA, (w) => {
      w.u32(d.userData.length);
      w.raw(d.userData);
    });
  }
  if (d.entityName) writeParameter(w, PID.ENTITY_NAME, (w) => w.string(d.entityName));
  writeSentinel(w);
  return w.bytes.slice(0, w.pos);
}
