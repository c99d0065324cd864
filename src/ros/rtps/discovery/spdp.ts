// SPDP: our participant announcement as a ready-to-send DATA message (rebuilt only when it changes), and the
// disposal we send on shutdown so peers drop us at once instead of waiting for the lease.
import { WireWriter } from '../wire/writer.ts';
import { EntityIds, type GuidPrefix } from '../ids/guid.ts';
import { writeHeader } from '../message/header.ts';
import { writeData } from '../submessages/data.ts';
import { writeInfoTsNow } from '../submessages/info-ts.ts';
import { writeParameter, writeSentinel } from '../parameters/parameter-list.ts';
import { PID, StatusInfo } from '../parameters/pid.ts';
import { encodeParticipantData, type ParticipantData } from './participant-data.ts';
import { encodeKeyOnly } from './endpoint-data.ts';

function writeKeyHashAndStatus(w: WireWriter, prefix: GuidPrefix, entityId: number, status: number): void {
  writeParameter(w, PID.KEY_HASH, (w) => {
    w.raw(prefix);
    w.u32be(entityId);
  });
  if (status) {
    writeParameter(w, PID.STATUS_INFO, (w) => {
      w.u8(0);
      w.u8(0);
      w.u8(0);
      w.u8(status);
    });
  }
  writeSentinel(w);
}

/** A complete RTPS message carrying one SPDP DATA(p). */
export function buildSpdpMessage(data: ParticipantData, sn: number): Uint8Array {
  const payload = encodeParticipantData(data);
  const w = new WireWriter(payload.length + 256);
  writeHeader(w, data.guidPrefix);
  writeInfoTsNow(w);
  writeData(w, EntityIds.UNKNOWN, EntityIds.SPDP_WRITER, sn, payload, 0, payload.length, (w) =>
    writeKeyHashAndStatus(w, data.guidPrefix, EntityIds.PARTICIPANT, 0),
  );
  return w.bytes.slice(0, w.pos);
}

/** DATA(p[UD]): the participant is disposed and unregistered. */
export function buildSpdpDisposeMessage(prefix: GuidPrefix, sn: number): Uint8Array {
  const key = encodeKeyOnly({ prefix, entityId: EntityIds.PARTICIPANT }, PID.PARTICIPANT_GUID);
  const w = new WireWriter(key.length + 256);
  writeHeader(w, prefix);
  writeInfoTsNow(w);
  writeData(
    w,
    EntityIds.UNKNOWN,
    EntityIds.SPDP_WRITER,
    sn,
    key,
    0,
    key.length,
    (w) => writeKeyHashAndStatus(w, prefix, EntityIds.PARTICIPANT, StatusInfo.DISPOSED | StatusInfo.UNREGISTERED),
    true,
  );
  return w.bytes.slice(0, w.pos);
}

/** Inline QoS of a SEDP disposal (endpoint deleted). */
export function sedpDisposeInlineQos(prefix: GuidPrefix, entityId: number): (w: WireWriter) => void {
  return (w) => writeKeyHashAndStatus(w, prefix, entityId, StatusInfo.DISPOSED | StatusInfo.UNREGISTERED);
}

/** Inline QoS of a SEDP announcement (key hash only). */
export function sedpKeyInlineQos(prefix: GuidPrefix, entityId: number): (w: WireWriter) => void {
  return (w) => writeKeyHashAndStatus(w, prefix, entityId, 0);
}
