// GUID = 12-byte participant prefix + 4-byte entity id. Entity ids are octet arrays on the wire (never
// byte-swapped), held here as a big-endian uint32 so they compare as numbers.
import { RtpsParseError } from '../wire/errors.ts';

export type GuidPrefix = Uint8Array; // 12 bytes
export type EntityId = number; // uint32, big-endian octets

export const GUID_PREFIX_SIZE = 12;
export const GUID_PREFIX_UNKNOWN: GuidPrefix = new Uint8Array(12);

export interface Guid {
  readonly prefix: GuidPrefix;
  readonly entityId: EntityId;
}

/** Entity kinds (low octet of an entity id), RTPS 9.3.1.2. */
export const EntityKind = {
  WRITER_WITH_KEY: 0x02,
  WRITER_NO_KEY: 0x03,
  READER_NO_KEY: 0x04,
  READER_WITH_KEY: 0x07,
  BUILTIN_PARTICIPANT: 0xc1,
  BUILTIN_WRITER_WITH_KEY: 0xc2,
  BUILTIN_WRITER_NO_KEY: 0xc3,
  BUILTIN_READER_NO_KEY: 0xc4,
  BUILTIN_READER_WITH_KEY: 0xc7,
} as const;

/** Well-known entity ids, RTPS 9.3.1.3. */
export const EntityIds = {
  UNKNOWN: 0x00000000,
  PARTICIPANT: 0x000001c1,
  SPDP_WRITER: 0x000100c2,
  SPDP_READER: 0x000100c7,
  SEDP_PUBLICATIONS_WRITER: 0x000003c2,
  SEDP_PUBLICATIONS_READER: 0x000003c7,
  SEDP_SUBSCRIPTIONS_WRITER: 0x000004c2,
  SEDP_SUBSCRIPTIONS_READER: 0x000004c7,
  P2P_PARTICIPANT_MESSAGE_WRITER: 0x000200c2,
  P2P_PARTICIPANT_MESSAGE_READER: 0x000200c7,
} as const;

export function makeEntityId(key: number, kind: number): EntityId {
  return (((key & 0xffffff) << 8) | (kind & 0xff)) >>> 0;
}

export function entityKind(id: EntityId): number {
  return id & 0xff;
}

export function isWriterEntity(id: EntityId): boolean {
  const k = id & 0x0f;
  return k === 0x02 || k === 0x03;
}

export function isReaderEntity(id: EntityId): boolean {
  const k = id & 0x0f;
  return k === 0x04 || k === 0x07;
}

export function isBuiltinEntity(id: EntityId): boolean {
  return (id & 0xc0) === 0xc0;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function prefixToHex(prefix: GuidPrefix): string {
  let s = '';
  for (let i = 0; i < 12; i++) s += HEX[prefix[i]];
  return s;
}

export function entityIdToHex(id: EntityId): string {
  return (id >>> 0).toString(16).padStart(8, '0');
}

export function guidToHex(guid: Guid): string {
  return prefixToHex(guid.prefix) + entityIdToHex(guid.entityId);
}

export function guidFromHex(hex: string): Guid {
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RtpsParseError(`GUID must be 32 hex digits, got "${hex}"`);
  const prefix = new Uint8Array(12);
  for (let i = 0; i < 12; i++) prefix[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return { prefix, entityId: parseInt(hex.slice(24), 16) >>> 0 };
}

export function prefixEquals(a: GuidPrefix, b: GuidPrefix): boolean {
  for (let i = 0; i < 12; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function guidEquals(a: Guid, b: Guid): boolean {
  return a.entityId === b.entityId && prefixEquals(a.prefix, b.prefix);
}

/** Write the 16 GUID octets (prefix, entity id) at out[offset]. */
export function writeGuidBytes(guid: Guid, out: Uint8Array, offset = 0): void {
  out.set(guid.prefix, offset);
  out[offset + 12] = guid.entityId >>> 24;
  out[offset + 13] = (guid.entityId >>> 16) & 0xff;
  out[offset + 14] = (guid.entityId >>> 8) & 0xff;
  out[offset + 15] = guid.entityId & 0xff;
}

export function readGuidBytes(bytes: Uint8Array, offset: number): Guid {
  if (offset + 16 > bytes.length) throw new RtpsParseError('truncated GUID');
  return { prefix: bytes.slice(offset, offset + 12), entityId: readEntityIdAt(bytes, offset + 12) };
}

export function readEntityIdAt(bytes: Uint8Array, offset: number): EntityId {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

/**
 * A map keyed by GUID prefix that looks up without building a string key, so the receive path allocates nothing.
 */
export class PrefixMap<T> {
  private readonly buckets = new Map<number, { prefix: GuidPrefix; value: T }[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  private static hash(p: Uint8Array, o = 0): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < 12; i++) h = Math.imul(h ^ p[o + i], 0x01000193);
    return h >>> 0;
  }

  /** Look up by the 12 bytes at bytes[offset]. */
  getAt(bytes: Uint8Array, offset = 0): T | undefined {
    const bucket = this.buckets.get(PrefixMap.hash(bytes, offset));
    if (!bucket) return undefined;
    for (let b = 0; b < bucket.length; b++) {
      const e = bucket[b];
      let same = true;
      for (let i = 0; i < 12; i++) {
        if (e.prefix[i] !== bytes[offset + i]) {
          same = false;
          break;
        }
      }
      if (same) return e.value;
    }
    return undefined;
  }

  get(prefix: GuidPrefix): T | undefined {
    return this.getAt(prefix, 0);
  }

  set(prefix: GuidPrefix, value: T): void {
    const h = PrefixMap.hash(prefix);
    let bucket = this.buckets.get(h);
    if (!bucket) this.buckets.set(h, (bucket = []));
    for (const e of bucket) {
      if (prefixEquals(e.prefix, prefix)) {
        e.value = value;
        return;
      }
    }
    bucket.push({ prefix: prefix.slice(0, 12), value });
    this.count++;
  }

  delete(prefix: GuidPrefix): boolean {
    const h = PrefixMap.hash(prefix);
    const bucket = this.buckets.get(h);
    if (!bucket) return false;
    const i = bucket.findIndex((e) => prefixEquals(e.prefix, prefix));
    if (i < 0) return false;
    bucket.splice(i, 1);
    if (bucket.length === 0) this.buckets.delete(h);
    this.count--;
    return true;
  }

  *values(): IterableIterator<T> {
    for (const bucket of this.buckets.values()) for (const e of bucket) yield e.value;
  }
}
