// XCDR1 (plain CDR, the ROS 2 wire format) encoder and decoder compiled once per message type from parsed `.msg`
// definitions: this file compiles a type's plan; decode.ts reads by it and encode.ts writes by it. Written here
// rather than taken from @foxglove/cdr because: the decoder must bound every length by the message it was given
// (a malformed count must not read neighbouring bytes of a pooled buffer or allocate gigabytes), strings must be
// UTF-8 sized (CdrWriter sizes them in UTF-16 units), and the hot path must be able to encode into a reused buffer.
//
// Conventions (same as rclnodejs and @foxglove/rosmsg2-serialization): time/duration → { sec, nanosec };
// int64/uint64 → bigint; numeric arrays → typed arrays (decoded as zero-copy views into the received bytes when
// endianness and alignment allow, one block copy otherwise); bool[] → boolean[]; string[] → string[].

import type { MessageDefinition, MessageDefinitionField } from '@foxglove/message-definition';

/** Bytes that do not decode as the expected message type. */
export class CdrDecodeError extends Error {
  override name = 'CdrDecodeError';
  constructor(
    readonly type: string,
    readonly field: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`cannot decode ${type}${field ? ` field "${field}"` : ''} at byte ${offset}: ${detail}`);
  }
}

/** A message value that does not fit its type (wrong kind, out of range, wrong array length). */
export class CdrEncodeError extends Error {
  override name = 'CdrEncodeError';
  constructor(
    readonly type: string,
    readonly field: string,
    detail: string,
  ) {
    super(`cannot encode ${type} field "${field}": ${detail}`);
  }
}

export type Primitive =
  | 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'float32' | 'float64' | 'string' | 'time' | 'duration';

export const SIZE: Record<Exclude<Primitive, 'string'>, number> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8,
  float32: 4, float64: 8, time: 8, duration: 8,
};
// time/duration are structs of two 32-bit integers, so they align to 4
export const ALIGN: Record<Exclude<Primitive, 'string'>, number> = { ...SIZE, time: 4, duration: 4 };

type TypedArrayCtor =
  | Int8ArrayConstructor | Uint8ArrayConstructor | Int16ArrayConstructor | Uint16ArrayConstructor
  | Int32ArrayConstructor | Uint32ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor
  | Float32ArrayConstructor | Float64ArrayConstructor;

export const TYPED: Partial<Record<Primitive, TypedArrayCtor>> = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array,
  uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, float32: Float32Array, float64: Float64Array,
};

export const INT_RANGE: Partial<Record<Primitive, [number, number]>> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
};

export interface FieldPlan {
  name: string;
  /** Path from the message root, for error messages ("header.stamp", "points[].positions"). */
  path: string;
  primitive?: Primitive;
  struct?: StructPlan;
  /** undefined: scalar; number: fixed-size array; -1: sequence. */
  arrayLength?: number;
  arrayBound?: number;
  stringBound?: number;
  defaultValue?: unknown;
  /** For fixed-size arrays: the value used when a message leaves the field out. */
  zeros?: ArrayLike<unknown>;
  /** decode.ts: the string last decoded at each element index of this field (its UTF-8 bytes and value). */
  decodedStrings?: (DecodedString | undefined)[];
}

export interface DecodedString {
  /** UTF-8 bytes in bytes[0, length) (the buffer may be longer, so a slightly longer string reuses it). */
  bytes: Uint8Array;
  length: number;
  value: string;
}

export interface StructPlan {
  type: string;
  fields: FieldPlan[];
  /** An empty .msg becomes a struct with one uint8 on the wire (rosidl "structure_needs_at_least_one_member"). */
  empty: boolean;
  /**
   * The fewest bytes one value of this type takes on the wire (padding aside): bounds a sequence's count by the
   * bytes left, so a forged count is refused before anything is allocated for it.
   */
  minSize: number;
  /** The encoder's state (encode.ts), kept on the plan so that encoding into a caller's buffer allocates nothing. */
  scratch?: unknown;
}

/** True on little-endian hosts: typed-array views of little-endian CDR need no byte swapping. */
export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Builds the codec plan of `type` from definitions keyed "pkg/Type" (as @foxglove/rosmsg-msgs-common does). */
export function compileStruct(type: string, lookup: (type: string) => MessageDefinition | undefined): StructPlan {
  // nested plans are built per use (not shared) so each field knows its full path for error messages
  const build = (t: string, chain: string[], prefix: string): StructPlan => {
    if (chain.includes(t)) throw new Error(`message type ${t} contains itself (${[...chain, t].join(' → ')})`);
    const def = lookup(t);
    if (!def) throw new Error(`unknown message type ${t}${chain.length ? ` (used by ${chain[chain.length - 1]})` : ''}`);
    const plan: StructPlan = { type: t.split('/').length === 2 ? t.replace('/', '/msg/') : t, fields: [], empty: false, minSize: 0 };
    for (const f of def.definitions) {
      if (f.isConstant) continue;
      const path = prefix + f.name;
      plan.fields.push(fieldPlan(t, f, path, (nested) => build(nested, [...chain, t], `${path}${f.isArray ? '[]' : ''}.`)));
    }
    plan.empty = plan.fields.length === 0;
    plan.minSize = plan.empty ? 1 : plan.fields.reduce((sum, f) => sum + fieldMinSize(f), 0);
    return plan;
  };
  return build(type, [], '');
}

/** The fewest bytes of one element of a field: a nested struct's minimum, a string's length word, a scalar's size. */
export function elementMinSize(f: FieldPlan): number {
  if (f.struct) return f.struct.minSize;
  if (f.primitive === 'string') return 4;
  return SIZE[f.primitive as Exclude<Primitive, 'string'>];
}

/** The fewest bytes of a field: one element, a fixed array of them, or a sequence's count word. */
function fieldMinSize(f: FieldPlan): number {
  if (f.arrayLength === undefined) return elementMinSize(f);
  return f.arrayLength >= 0 ? f.arrayLength * elementMinSize(f) : 4;
}

function fieldPlan(owner: string, f: MessageDefinitionField, path: string, nested: (t: string) => StructPlan): FieldPlan {
  const plan: FieldPlan = { name: f.name, path, defaultValue: f.defaultValue };
  if (f.isComplex) plan.struct = nested(f.type);
  else if (f.type in SIZE || f.type === 'string') plan.primitive = f.type as Primitive;
  else throw new Error(`${owner}.${f.name}: unsupported field type ${f.type}`);
  if (f.isArray) {
    plan.arrayLength = f.arrayLength ?? -1;
    if (f.arrayLength !== undefined) {
      const Ctor = plan.primitive && TYPED[plan.primitive];
      plan.zeros = Ctor ? new Ctor(f.arrayLength) : new Array(f.arrayLength).fill(plan.primitive === 'bool' ? false : undefined);
    }
    if (f.arrayUpperBound !== undefined) plan.arrayBound = f.arrayUpperBound;
  }
  if (f.upperBound !== undefined) plan.stringBound = f.upperBound;
  return plan;
}
