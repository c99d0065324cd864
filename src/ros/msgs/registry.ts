// Message codecs by ROS type name, compiled once per type and cached. Definitions come from, in order:
// registerMessageDefinition(), onestep's own interface package (msgs/onestep_msgs, parsed at run time so the
// .msg files stay the single source of truth), rmw_dds_common, the standard ROS 2 Jazzy definitions shipped in
// @foxglove/rosmsg-msgs-common, and finally `share/<pkg>/msg/<Type>.msg` under AMENT_PREFIX_PATH on a ROS machine.
// The standard definitions are parsed from that package's .msg files one type at a time, when first asked for
// (the same definitions its prebuilt table holds, checked for all 151 Jazzy types): a node pays for the few types
// it uses, not the ~7 MB of memory the whole table takes.
// Services ("pkg/srv/Name") are a request and a response message, "pkg/srv/Name_Request" / "_Response", cut from
// the `.srv` text: registerServiceDefinition(), msgs/<pkg>/srv, the definitions in services.ts, then ament.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MessageDefinition } from '@foxglove/message-definition';
import { parse, stringify } from '@foxglove/rosmsg';
import { RosNameError, normalizeServiceTypeName, normalizeTypeName, toDdsTypeName } from '../names.ts';
import { type StructPlan, compileStruct } from './cdr/plan.ts';
import { decodeCdr } from './cdr/decode.ts';
import { encodeCdr, encodedSize } from './cdr/encode.ts';
import { rmwDdsCommonMessages } from './rmw-dds-common.ts';
import { splitServiceText, standardServiceDefinitions } from './services.ts';

/** Asked for a message type no definition is known for. */
export class UnknownMessageTypeError extends Error {
  override name = 'UnknownMessageTypeError';
  constructor(
    readonly type: string,
    detail: string,
  ) {
    super(`unknown message type "${type}": ${detail}`);
  }
}

/**
 * The CDR codec of one ROS message type (from {@link getMessageCodec}): plain objects in and out, field names as in
 * the .msg file.
 */
export interface MessageCodec<T = Record<string, unknown>> {
  /** "pkg/msg/Type" */
  readonly type: string;
  /** "pkg::msg::dds_::Type_" as seen on the DDS wire. */
  readonly ddsType: string;
  /** The message definition with its dependencies, in the `ros2msg` text form (rosbag2 / MCAP schemas). */
  readonly definition: string;
  /** Parsed definitions, the root first. */
  readonly definitions: readonly MessageDefinition[];
  /** Encapsulation header (CDR_LE) + CDR body, in a new buffer. */
  encode(message: T): Uint8Array;
  /** Encodes into `out` when it is large enough (no allocation) and returns the used part; else a new buffer. */
  encodeInto(message: T, out: Uint8Array): Uint8Array;
  /** Encoded size in bytes (header included); also validates the message's shape. */
  encodedSize(message: T): number;
  /** Accepts CDR_LE and CDR_BE, ignores encapsulation options; throws CdrDecodeError on malformed bytes. */
  decode(bytes: Uint8Array): T;
  /** A message with every field at its default (zeros, empty strings and arrays, .msg default values). */
  create(): T;
}

/** Asked for a service type no definition is known for. */
export class UnknownServiceTypeError extends Error {
  override name = 'UnknownServiceTypeError';
  constructor(
    readonly type: string,
    detail: string,
  ) {
    super(`unknown service type "${type}": ${detail}`);
  }
}

/** A service type: its request and response message codecs, named as rmw names them on DDS. */
export interface ServiceCodec<Req = Record<string, unknown>, Res = Record<string, unknown>> {
  /** "pkg/srv/Name" */
  readonly type: string;
  /** "pkg/srv/Name_Request" and "pkg/srv/Name_Response" codecs ("pkg::srv::dds_::Name_Request_" on DDS). */
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Res>;
}

const overrides = new Map<string, string>();
const serviceOverrides = new Map<string, string>();
const parsed = new Map<string, MessageDefinition>();
const codecs = new Map<string, MessageCodec<unknown>>();
const serviceCodecs = new Map<string, ServiceCodec<unknown, unknown>>();
const REPO_MSGS = fileURLToPath(new URL('../../../msgs/', import.meta.url));

/** Adds (or replaces) a message definition from `.msg` text, e.g. for a package not shipped with onestep. */
export function registerMessageDefinition(type: string, msgText: string): void {
  const full = normalizeTypeName(type);
  overrides.set(full, msgText);
  parsed.clear();
  codecs.clear();
  serviceCodecs.clear();
}

/** Adds (or replaces) a service definition from `.srv` text (request fields, a "---" line, response fields). */
export function registerServiceDefinition(type: string, srvText: string): void {
  const full = normalizeServiceTypeName(type);
  if (!splitServiceText(srvText)) throw new UnknownServiceTypeError(full, 'its .srv text has no "---" line between request and response');
  serviceOverrides.set(full, srvText);
  parsed.clear();
  codecs.clear();
  serviceCodecs.clear();
}

/** The codecs of "pkg/srv/Name" or "pkg/Name"; throws UnknownServiceTypeError. */
export function getServiceCodec<Req = Record<string, unknown>, Res = Record<string, unknown>>(type: string): ServiceCodec<Req, Res> {
  const cached = serviceCodecs.get(type);
  if (cached) return cached as ServiceCodec<Req, Res>;
  let full: string;
  try {
    full = normalizeServiceTypeName(type);
  } catch (err) {
    throw err instanceof RosNameError ? new UnknownServiceTypeError(type, err.reason) : err;
  }
  if (serviceText(full) === undefined) {
    throw new UnknownServiceTypeError(full, 'no definition found among onestep\'s service definitions, msgs/*/srv or share/<pkg>/srv under AMENT_PREFIX_PATH');
  }
  let codec: ServiceCodec<unknown, unknown>;
  try {
    codec = { type: full, request: getMessageCodec(`${full}_Request`), response: getMessageCodec(`${full}_Response`) };
  } catch (err) {
    throw new UnknownServiceTypeError(full, (err as Error).message);
  }
  serviceCodecs.set(full, codec);
  serviceCodecs.set(type, codec);
  return codec as ServiceCodec<Req, Res>;
}

/** Every service type a codec can be built for without a ROS install. */
export function knownServiceTypes(): string[] {
  const names = new Set<string>([...Object.keys(standardServiceDefinitions()), ...serviceOverrides.keys()]);
  for (const pkg of safeReaddir(REPO_MSGS)) {
    for (const file of safeReaddir(join(REPO_MSGS, pkg, 'srv'))) if (file.endsWith('.srv')) names.add(`${pkg}/srv/${file.slice(0, -4)}`);
  }
  return [...names].sort();
}

/**
 * The `.msg` text of one interface as written (the root only, no dependencies): what type descriptions and
 * hashes (REP-2011) are computed from, since the parsed definitions lose `byte` vs `uint8`.
 * "pkg/msg/Type" or "pkg/srv/Name_Request" / "_Response".
 */
export function interfaceText(type: string): string | undefined {
  const [pkg, kind, name] = type.split('/');
  if (kind === 'srv') return servicePartText(type);
  return overrides.get(type) ?? readPackagedMsg(type) ?? rmwDdsCommonMessages()[type] ?? readCommonMsg(pkg, name) ?? readAmentMsg(type);
}

/** The codec for "pkg/msg/Type" or "pkg/Type"; throws UnknownMessageTypeError / RosNameError. */
export function getMessageCodec<T = Record<string, unknown>>(type: string): MessageCodec<T> {
  const cached = codecs.get(type);
  if (cached) return cached as MessageCodec<T>;
  let full: string;
  try {
    full = normalizeTypeName(type);
  } catch (err) {
    throw err instanceof RosNameError ? new UnknownMessageTypeError(type, err.reason) : err;
  }
  const codec = codecs.get(full) ?? buildCodec(full);
  codecs.set(full, codec);
  codecs.set(type, codec);
  return codec as MessageCodec<T>;
}

/** Every type name a codec can be built for without a ROS install (for `onestep topic pub` help and tests). */
export function knownMessageTypes(): string[] {
  const names = new Set<string>();
  const common = commonMsgdefsDir();
  if (common) for (const pkg of safeReaddir(common)) for (const file of safeReaddir(join(common, pkg, 'msg'))) if (file.endsWith('.msg')) names.add(`${pkg}/msg/${file.slice(0, -4)}`);
  for (const key of Object.keys(rmwDdsCommonMessages())) names.add(key);
  for (const pkg of safeReaddir(REPO_MSGS)) {
    for (const file of safeReaddir(join(REPO_MSGS, pkg, 'msg'))) if (file.endsWith('.msg')) names.add(`${pkg}/msg/${file.slice(0, -4)}`);
  }
  for (const key of overrides.keys()) names.add(key);
  return [...names].sort();
}

function buildCodec(type: string): MessageCodec<unknown> {
  if (!lookupDefinition(shortName(type))) {
    if (type.split('/')[1] === 'srv') throw new UnknownMessageTypeError(type, 'not the _Request or _Response part of a known service');
    throw new UnknownMessageTypeError(
      type,
      'no definition found among the standard ROS 2 messages, msgs/*/msg, rmw_dds_common or share/<pkg>/msg under AMENT_PREFIX_PATH',
    );
  }
  let plan: StructPlan;
  try {
    plan = compileStruct(shortName(type), lookupDefinition);
  } catch (err) {
    if (err instanceof UnknownMessageTypeError) throw err;
    throw new UnknownMessageTypeError(type, `${(err as Error).message.replace(/ ([a-z_]+)\/([A-Za-z0-9_]+)\b/g, ' $1/msg/$2')}; known: standard ROS 2 messages, onestep_msgs, rmw_dds_common, and share/<pkg>/msg under AMENT_PREFIX_PATH`);
  }
  const definitions = collect(shortName(type));
  const definition = ros2msgText(definitions);
  return {
    type,
    ddsType: toDdsTypeName(type),
    definition,
    definitions,
    encode: (m) => encodeCdr(plan, m),
    encodeInto: (m, out) => encodeCdr(plan, m, out),
    encodedSize: (m) => encodedSize(plan, m),
    decode: (bytes) => decodeCdr(plan, bytes),
    create: () => decodeCdr(plan, encodeCdr(plan, undefined)),
  };
}

const BUILTIN_TIME: Record<string, string> = {
  time: 'builtin_interfaces/Time',
  duration: 'builtin_interfaces/Duration',
};

/**
 * The `ros2msg` schema text (rosbag2 / MCAP): the root, then `MSG: pkg/Type` sections. The parser turns
 * builtin_interfaces/Time into a `time` primitive; the text spells it out again, with its definition.
 */
function ros2msgText(definitions: MessageDefinition[]): string {
  const used = new Set<string>();
  const fixed = definitions.map((d) => ({
    ...d,
    definitions: d.definitions.map((f) => {
      if (f.isConstant || !(f.type in BUILTIN_TIME)) return f;
      used.add(BUILTIN_TIME[f.type]);
      return { ...f, type: BUILTIN_TIME[f.type], isComplex: true };
    }),
  }));
  for (const name of used) {
    fixed.push({
      name,
      definitions: [
        { name: 'sec', type: 'int32', isComplex: false, isArray: false },
        { name: 'nanosec', type: 'uint32', isComplex: false, isArray: false },
      ],
    });
  }
  return stringify(fixed);
}

/** The root definition first, then each dependency once (the order `ros2msg` schemas use). */
function collect(root: string): MessageDefinition[] {
  const out: MessageDefinition[] = [];
  const seen = new Set<string>();
  const visit = (t: string) => {
    if (seen.has(t)) return;
    seen.add(t);
    const def = lookupDefinition(t)!;
    out.push(def);
    for (const f of def.definitions) if (f.isComplex && !f.isConstant) visit(f.type);
  };
  visit(root);
  return out;
}

/** "pkg/Type" → definition, or undefined (complex field types are kept in this short form, as msgs-common does). */
function lookupDefinition(short: string): MessageDefinition | undefined {
  const hit = parsed.get(short);
  if (hit) return hit;
  const long = longName(short);
  const text = overrides.get(long) ?? readPackagedMsg(long) ?? rmwDdsCommonMessages()[long] ?? servicePartText(long);
  let def: MessageDefinition | undefined;
  if (text !== undefined) def = parseMsg(short, text);
  else {
    const [pkg, name, rest] = short.split('/');
    const common = rest === undefined ? readCommonMsg(pkg, name) : undefined;
    if (common !== undefined) def = parseMsg(short, common);
  }
  if (!def) {
    const ament = readAmentMsg(long);
    if (ament !== undefined) def = parseMsg(short, ament);
  }
  if (!def) return undefined;
  parsed.set(short, def);
  return def;
}

function parseMsg(short: string, text: string): MessageDefinition {
  const pkg = short.split('/')[0];
  let defs: MessageDefinition[];
  try {
    defs = parse(text, { ros2: true, skipTypeFixup: true });
  } catch (err) {
    throw new UnknownMessageTypeError(longName(short), `its .msg definition does not parse: ${(err as Error).message}`);
  }
  const root = defs[0];
  const fields = root.definitions.map((f) => {
    if (!f.isComplex) return f;
    const t = normalizeFieldType(pkg, f.type);
    if (t === 'time' || t === 'duration') return { ...f, type: t, isComplex: false };
    return { ...f, type: t };
  });
  return { name: short, definitions: fields };
}

function normalizeFieldType(pkg: string, t: string): string {
  const parts = t.split('/');
  const short = parts.length === 1 ? `${pkg}/${t}` : parts.length === 3 ? `${parts[0]}/${parts[2]}` : t;
  if (short === 'builtin_interfaces/Time') return 'time';
  if (short === 'builtin_interfaces/Duration') return 'duration';
  return short;
}

/** "pkg/msg/Type" → "pkg/Type" (the key msgs-common uses); service parts keep their "pkg/srv/" form. */
function shortName(long: string): string {
  const [pkg, kind, name] = long.split('/');
  return kind === 'srv' ? long : `${pkg}/${name}`;
}

function longName(short: string): string {
  const parts = short.split('/');
  return parts.length === 3 ? short : `${parts[0]}/msg/${parts[1]}`;
}

function readPackagedMsg(long: string): string | undefined {
  const [pkg, kind, name] = long.split('/');
  const file = join(REPO_MSGS, pkg, kind, `${name}.msg`);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** "pkg/srv/Name" → its `.srv` text. */
function serviceText(long: string): string | undefined {
  const [pkg, , name] = long.split('/');
  const repo = join(REPO_MSGS, pkg, 'srv', `${name}.srv`);
  if (serviceOverrides.has(long)) return serviceOverrides.get(long);
  if (existsSync(repo)) return readFileSync(repo, 'utf8');
  const standard = standardServiceDefinitions()[long];
  if (standard !== undefined) return standard;
  return readAmentMsg(long, 'srv');
}

/** "pkg/srv/Name_Request" → the request half of Name's `.srv` text ("_Response" → the response half). */
function servicePartText(long: string): string | undefined {
  const m = /^([^/]+)\/srv\/(.+)_(Request|Response)$/.exec(long);
  if (!m) return undefined;
  const text = serviceText(`${m[1]}/srv/${m[2]}`);
  const parts = text === undefined ? undefined : splitServiceText(text);
  if (!parts) return undefined;
  return m[3] === 'Request' ? parts.request : parts.response;
}

let commonMsgdefs: string | null | undefined;

/** The folder of Jazzy `.msg` files @foxglove/rosmsg-msgs-common ships (msgdefs/ros2jazzy/<pkg>/msg), or null. */
function commonMsgdefsDir(): string | null {
  if (commonMsgdefs === undefined) {
    try {
      const pkgJson = createRequire(import.meta.url).resolve('@foxglove/rosmsg-msgs-common/package.json');
      commonMsgdefs = join(dirname(pkgJson), 'msgdefs', 'ros2jazzy');
    } catch {
      commonMsgdefs = null;
    }
  }
  return commonMsgdefs;
}

/** The `.msg` text @foxglove/rosmsg-msgs-common ships for a Jazzy type (root section only). */
function readCommonMsg(pkg: string, name: string): string | undefined {
  const dir = commonMsgdefsDir();
  if (dir === null) return undefined;
  const file = join(dir, pkg, 'msg', `${name}.msg`);
  if (!existsSync(file)) return undefined;
  // the files hold the full definition: the root, then "=====" and "MSG: pkg/Type" sections
  return readFileSync(file, 'utf8').split(/^={10,}\s*$/m)[0];
}

function readAmentMsg(long: string, ext = 'msg'): string | undefined {
  const [pkg, kind, name] = long.split('/');
  for (const prefix of (process.env.AMENT_PREFIX_PATH ?? '').split(':')) {
    if (!prefix) continue;
    const file = join(prefix, 'share', pkg, kind, `${name}.${ext}`);
    if (existsSync(file)) return readFileSync(file, 'utf8');
  }
  return undefined;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
