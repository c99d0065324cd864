// Type descriptions and type hashes as REP-2011 defines them (RIHS01): a type's description is its fields (name,
// field type id, array capacity, string capacity, nested type name) plus the descriptions of every type it refers
// to, sorted by name; the hash is the SHA-256 of that description written as JSON with ", " and ": " separators,
// default values left out. Jazzy's rmw puts it in endpoint USER_DATA as "typehash=RIHS01_<hex>;".
//
// Descriptions are computed from the `.msg` text as written (registry.interfaceText), following the IDL the ROS
// build makes of it: `char` is uint8, `byte` is an octet, `float32`/`float64` are float/double, and an empty
// structure gets one uint8 member named `structure_needs_at_least_one_member`.
import { createHash } from 'node:crypto';
import { normalizeServiceTypeName, normalizeTypeName } from '../names.ts';
import { interfaceText } from './registry.ts';

/** A type whose description cannot be computed (a missing or unparsable definition). */
export class TypeHashError extends Error {
  override name = 'TypeHashError';
}

export interface FieldType {
  type_id: number;
  capacity: number;
  string_capacity: number;
  nested_type_name: string;
}

export interface Field {
  name: string;
  type: FieldType;
}

export interface IndividualTypeDescription {
  type_name: string;
  fields: Field[];
}

export interface TypeDescription {
  type_description: IndividualTypeDescription;
  referenced_type_descriptions: IndividualTypeDescription[];
}

// type_description_interfaces/msg/FieldType ids of the value types; arrays add 48, bounded sequences 96,
// unbounded sequences 144
const NESTED = 1;
const VALUE_TYPE_ID: Record<string, number> = {
  int8: 2, uint8: 3, char: 3, int16: 4, uint16: 5, int32: 6, uint32: 7, int64: 8, uint64: 9,
  float32: 10, float64: 11, bool: 15, byte: 16, string: 17, wstring: 18,
};
const BOUNDED_STRING = 21;
const BOUNDED_WSTRING = 22;
const ARRAY = 48;
const BOUNDED_SEQUENCE = 96;
const UNBOUNDED_SEQUENCE = 144;

const individual = new Map<string, IndividualTypeDescription>();
const hashes = new Map<string, string>();

/** The fields of one interface from its `.msg` text; nested names resolve against `pkg` ("Type" → "pkg/msg/Type"). */
export function parseFields(text: string, pkg: string, typeName: string): Field[] {
  const fields: Field[] = [];
  for (const raw of text.split('\n')) {
    const line = stripComment(raw).trim();
    if (line === '') continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) throw new TypeHashError(`${typeName}: cannot read the line "${raw.trim()}"`);
    const [, typeToken, rest] = m;
    if (/^[A-Za-z][A-Za-z0-9_]*\s*=/.test(rest)) continue; // a constant, not a member
    const name = rest.split(/\s+/)[0];
    fields.push({ name, type: fieldType(typeToken, pkg, typeName) });
  }
  if (fields.length === 0) {
    fields.push({ name: 'structure_needs_at_least_one_member', type: { type_id: VALUE_TYPE_ID.uint8, capacity: 0, string_capacity: 0, nested_type_name: '' } });
  }
  return fields;
}

function stripComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

function fieldType(token: string, pkg: string, owner: string): FieldType {
  const m = /^([^[\]]+)(?:\[(<=)?(\d*)\])?$/.exec(token);
  if (!m) throw new TypeHashError(`${owner}: cannot read the field type "${token}"`);
  const [, base, bounded, size] = m;
  const isArray = token.includes('[');
  let id: number;
  let stringCapacity = 0;
  let nested = '';
  const sm = /^(w?string)(?:<=(\d+))?$/.exec(base);
  if (sm) {
    id = sm[2] !== undefined ? (sm[1] === 'string' ? BOUNDED_STRING : BOUNDED_WSTRING) : VALUE_TYPE_ID[sm[1]];
    stringCapacity = sm[2] !== undefined ? Number(sm[2]) : 0;
  } else if (base in VALUE_TYPE_ID) {
    id = VALUE_TYPE_ID[base];
  } else {
    id = NESTED;
    const parts = base.split('/');
    if (parts.length === 1) nested = `${pkg}/msg/${base}`;
    else if (parts.length === 2) nested = `${parts[0]}/msg/${parts[1]}`;
    else nested = base;
  }
  let capacity = 0;
  if (isArray) {
    if (bounded) {
      id += BOUNDED_SEQUENCE;
      capacity = Number(size);
    } else if (size !== '') {
      id += ARRAY;
      capacity = Number(size);
    } else {
      id += UNBOUNDED_SEQUENCE;
    }
  }
  return { type_id: id, capacity, string_capacity: stringCapacity, nested_type_name: nested };
}

function describeOne(type: string): IndividualTypeDescription {
  const hit = individual.get(type);
  if (hit) return hit;
  const text = interfaceText(type);
  if (text === undefined) throw new TypeHashError(`no definition of ${type} to describe`);
  const d = { type_name: type, fields: parseFields(text, type.split('/')[0], type) };
  individual.set(type, d);
  return d;
}

/** "pkg/msg/Type" or "pkg/srv/Name_Request": the description with every referenced type. */
export function typeDescription(type: string): TypeDescription {
  const root = type.split('/')[1] === 'srv' ? type : normalizeTypeName(type);
  return full(describeOne(root), describeOne);
}

function full(root: IndividualTypeDescription, lookup: (t: string) => IndividualTypeDescription): TypeDescription {
  const seen = new Set<string>();
  const queue = root.fields.map((f) => f.type.nested_type_name).filter((n) => n !== '');
  while (queue.length) {
    const t = queue.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    for (const f of lookup(t).fields) if (f.type.nested_type_name) queue.push(f.type.nested_type_name);
  }
  return { type_description: root, referenced_type_descriptions: [...seen].sort().map(lookup) };
}

/** RIHS01 hash of a message type ("pkg/msg/Type", or a service's "pkg/srv/Name_Request" / "_Response"). */
export function typeHash(type: string): string {
  const key = type.split('/')[1] === 'srv' ? type : normalizeTypeName(type);
  let h = hashes.get(key);
  if (!h) hashes.set(key, (h = hashOf(typeDescription(key))));
  return h;
}

/**
 * RIHS01 hash of a service type: its description has the members request_message, response_message and
 * event_message, the last the generated Name_Event (service_msgs/ServiceEventInfo info, at most one request
 * and one response).
 */
export function serviceTypeHash(type: string): string {
  const srv = normalizeServiceTypeName(type);
  const key = `service:${srv}`;
  const cached = hashes.get(key);
  if (cached) return cached;
  const nested = (name: string, capacity = 0): FieldType => ({ type_id: capacity ? NESTED + BOUNDED_SEQUENCE : NESTED, capacity, string_capacity: 0, nested_type_name: name });
  const local = new Map<string, IndividualTypeDescription>([
    [`${srv}_Event`, {
      type_name: `${srv}_Event`,
      fields: [
        { name: 'info', type: nested('service_msgs/msg/ServiceEventInfo') },
        { name: 'request', type: nested(`${srv}_Request`, 1) },
        { name: 'response', type: nested(`${srv}_Response`, 1) },
      ],
    }],
    ['service_msgs/msg/ServiceEventInfo', {
      type_name: 'service_msgs/msg/ServiceEventInfo',
      fields: parseFields(SERVICE_EVENT_INFO, 'service_msgs', 'service_msgs/msg/ServiceEventInfo'),
    }],
  ]);
  const root: IndividualTypeDescription = {
    type_name: srv,
    fields: [
      { name: 'request_message', type: nested(`${srv}_Request`) },
      { name: 'response_message', type: nested(`${srv}_Response`) },
      { name: 'event_message', type: nested(`${srv}_Event`) },
    ],
  };
  const h = hashOf(full(root, (t) => local.get(t) ?? describeOne(t)));
  hashes.set(key, h);
  return h;
}

// service_msgs/msg/ServiceEventInfo (Jazzy), the fields only
const SERVICE_EVENT_INFO = 'uint8 event_type\nbuiltin_interfaces/Time stamp\nchar[16] client_gid\nint64 sequence_number\n';

function hashOf(d: TypeDescription): string {
  return `RIHS01_${createHash('sha256').update(pythonJson(d), 'utf8').digest('hex')}`;
}

/** JSON as Python's json.dumps writes it with separators (", ", ": ") and ensure_ascii: what RIHS01 hashes. */
function pythonJson(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(pythonJson).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>);
  return `{${entries.map(([k, x]) => `${pythonJson(k)}: ${pythonJson(x)}`).join(', ')}}`;
}

/** "typehash=RIHS01_…;" for endpoint USER_DATA, or "" when the type cannot be described. */
export function typeHashUserData(type: string): string {
  try {
    return `typehash=${typeHash(type)};`;
  } catch {
    return '';
  }
}
