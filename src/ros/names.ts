// ROS 2 names: validation (rcl_validate_topic_name / rmw_validate_node_name rules), resolution of relative and
// private names against a node, remapping, and the mapping of topic and type names onto DDS (ros2/design
// "Topic and Service name mapping to DDS").

import type { NodeIdentity } from './transport.ts';

/** A ROS name (topic, node, namespace or type) that breaks the naming rules. */
export class RosNameError extends Error {
  override name = 'RosNameError';
  constructor(
    readonly rosName: string,
    readonly reason: string,
  ) {
    super(`invalid ROS name "${rosName}": ${reason}`);
  }
}

/** rmw caps DDS topic names at 255 bytes; "rq/" + "Request" is the longest decoration (rmw/validate_full_topic_name.h). */
export const TOPIC_MAX_LENGTH = 255 - 8;
/** rmw/validate_node_name.h */
export const NODE_NAME_MAX_LENGTH = 255;

const TOKEN = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkTokens(name: string, body: string, what: string): void {
  if (body === '') return;
  for (const token of body.split('/')) {
    if (token === '') throw new RosNameError(name, `${what} must not contain "//" or end with "/"`);
    if (/^[0-9]/.test(token)) throw new RosNameError(name, `${what} token "${token}" must not start with a digit`);
    if (!TOKEN.test(token)) {
      throw new RosNameError(name, `${what} token "${token}" may only contain letters, digits and "_"`);
    }
  }
}

/** Node names: a single token, letters/digits/underscores, not starting with a digit. */
export function validateNodeName(name: string): string {
  if (name === '') throw new RosNameError(name, 'node name must not be empty');
  if (name.length > NODE_NAME_MAX_LENGTH) throw new RosNameError(name, `node name longer than ${NODE_NAME_MAX_LENGTH}`);
  if (/^[0-9]/.test(name)) throw new RosNameError(name, 'node name must not start with a digit');
  if (!TOKEN.test(name)) throw new RosNameError(name, 'node name may only contain letters, digits and "_"');
  return name;
}

/** Namespaces: absolute ("/" or "/a/b"), no trailing slash. A relative namespace gets a leading "/". */
export function normalizeNamespace(namespace: string): string {
  if (namespace === '' || namespace === '/') return '/';
  const ns = namespace.startsWith('/') ? namespace : `/${namespace}`;
  if (ns.endsWith('/')) throw new RosNameError(namespace, 'namespace must not end with "/"');
  checkTokens(namespace, ns.slice(1), 'namespace');
  return ns;
}

/** Checks a topic name as written by a user (may be relative, private, with {node}/{ns} substitutions). */
export function validateTopicName(name: string): string {
  if (name === '') throw new RosNameError(name, 'topic name must not be empty');
  if (name.endsWith('/')) throw new RosNameError(name, 'topic name must not end with "/"');
  if (name.includes('~') && !(name === '~' || name.startsWith('~/'))) {
    throw new RosNameError(name, '"~" is only allowed as the first character, followed by "/"');
  }
  if (/[{}]/.test(name) && !/^([^{}]|\{(node|ns|namespace)\})*$/.test(name)) {
    throw new RosNameError(name, 'only the substitutions {node}, {ns} and {namespace} are allowed');
  }
  let body = name.replace(/\{(node|ns|namespace)\}/g, 'x');
  if (body.startsWith('~')) body = body.slice(1);
  if (body.startsWith('/')) body = body.slice(1);
  if (body !== '') checkTokens(name, body, 'topic');
  return name;
}

/** Rules "from:=to" applied to fully-qualified names after resolution (as rcl_remap_topic_name does). */
export interface Remapping {
  from: string;
  to: string;
}

/**
 * Parses `--ros-args -r from:=to` style rules. `__node:=` and `__ns:=` are returned separately; topic rules
 * keep their user-written form and are resolved when applied, against the node that applies them.
 */
export function parseRemapRules(rules: readonly string[]): { topics: Remapping[]; node?: string; namespace?: string } {
  const topics: Remapping[] = [];
  let node: string | undefined;
  let namespace: string | undefined;
  for (const rule of rules) {
    const at = rule.indexOf(':=');
    if (at <= 0 || at === rule.length - 2) {
      throw new RosNameError(rule, 'a remapping rule must look like "from:=to"');
    }
    const from = rule.slice(0, at);
    const to = rule.slice(at + 2);
    if (from === '__node' || from === '__name') node = validateNodeName(to);
    else if (from === '__ns') namespace = normalizeNamespace(to);
    else topics.push({ from: validateTopicName(from), to: validateTopicName(to) });
  }
  return { topics, node, namespace };
}

/** A node's fully-qualified name: "/name" in the root namespace, "/ns/name" otherwise. */
export function nodeFqn(node: NodeIdentity): string {
  return node.namespace === '/' ? `/${node.name}` : `${node.namespace}/${node.name}`;
}

/**
 * Expands a topic name into its fully-qualified form: "/abs" stays, "rel" → "<ns>/rel", "~/x" → "<ns>/<node>/x",
 * then applies the first matching remapping. Throws RosNameError naming what is wrong.
 */
export function resolveTopicName(name: string, node: NodeIdentity, remappings: readonly Remapping[] = []): string {
  validateTopicName(name);
  validateNodeName(node.name);
  const ns = normalizeNamespace(node.namespace);
  const resolved = expand(name, node.name, ns);
  for (const rule of remappings) {
    if (expand(rule.from, node.name, ns) === resolved) return checkFullLength(expand(rule.to, node.name, ns));
  }
  return checkFullLength(resolved);
}

function expand(name: string, nodeName: string, ns: string): string {
  const self = nodeFqn({ name: nodeName, namespace: ns });
  let n = name.replace(/\{node\}/g, nodeName).replace(/\{(ns|namespace)\}/g, ns === '/' ? '' : ns.slice(1));
  if (n === '~') return self;
  if (n.startsWith('~/')) return `${self}/${n.slice(2)}`;
  if (n.startsWith('/')) return n.replace(/\/+/g, '/');
  n = ns === '/' ? `/${n}` : `${ns}/${n}`;
  return n.replace(/\/+/g, '/');
}

function checkFullLength(fqn: string): string {
  if (fqn.length > TOPIC_MAX_LENGTH) throw new RosNameError(fqn, `fully-qualified topic longer than ${TOPIC_MAX_LENGTH}`);
  checkTokens(fqn, fqn.slice(1), 'topic');
  return fqn;
}

// ---------------------------------------------------------------------------------------------------------------
// DDS mangling

export type RosTopicKind = 'topic' | 'request' | 'reply';

/** "/joint_states" → "rt/joint_states"; services use "rq/<name>Request" and "rr/<name>Reply". */
export function toDdsTopicName(fullyQualified: string, kind: RosTopicKind = 'topic'): string {
  if (!fullyQualified.startsWith('/')) {
    throw new RosNameError(fullyQualified, 'expected a fully-qualified name starting with "/" before DDS mangling');
  }
  const body = fullyQualified.slice(1);
  if (kind === 'request') return `rq/${body}Request`;
  if (kind === 'reply') return `rr/${body}Reply`;
  return `rt/${body}`;
}

/** Inverse of toDdsTopicName; undefined for DDS topics outside the ROS namespace (e.g. "ros_discovery_info"). */
export function fromDdsTopicName(ddsName: string): { name: string; kind: RosTopicKind } | undefined {
  const prefix = ddsName.slice(0, 3);
  const body = ddsName.slice(3);
  if (body === '') return undefined;
  if (prefix === 'rt/') return { name: `/${body}`, kind: 'topic' };
  if (prefix === 'rq/' && body.endsWith('Request')) return { name: `/${body.slice(0, -7)}`, kind: 'request' };
  if (prefix === 'rr/' && body.endsWith('Reply')) return { name: `/${body.slice(0, -5)}`, kind: 'reply' };
  return undefined;
}

/** Accepts "pkg/msg/Type" and "pkg/Type" (→ "pkg/msg/Type"); throws on anything else. */
export function normalizeTypeName(type: string): string {
  const parts = type.split('/');
  if (parts.length === 2) parts.splice(1, 0, 'msg');
  if (parts.length !== 3 || !parts.every((p) => TOKEN.test(p)) || !['msg', 'srv', 'action'].includes(parts[1])) {
    throw new RosNameError(type, 'expected a ROS type name like "std_msgs/msg/String" or "std_msgs/String"');
  }
  return parts.join('/');
}

/** Accepts "pkg/srv/Name" and "pkg/Name" (→ "pkg/srv/Name"); throws on anything else. */
export function normalizeServiceTypeName(type: string): string {
  const parts = type.split('/');
  if (parts.length === 2) parts.splice(1, 0, 'srv');
  if (parts.length !== 3 || !parts.every((p) => TOKEN.test(p)) || parts[1] !== 'srv') {
    throw new RosNameError(type, 'expected a ROS service type name like "std_srvs/srv/Trigger" or "std_srvs/Trigger"');
  }
  return parts.join('/');
}

/** "std_msgs/msg/String" → "std_msgs::msg::dds_::String_". */
export function toDdsTypeName(type: string): string {
  const [pkg, kind, name] = normalizeTypeName(type).split('/');
  return `${pkg}::${kind}::dds_::${name}_`;
}

/** "std_msgs::msg::dds_::String_" → "std_msgs/msg/String"; undefined for non-ROS DDS types. */
export function fromDdsTypeName(ddsType: string): string | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)::(msg|srv|action)::dds_::([A-Za-z_][A-Za-z0-9_]*)_$/.exec(ddsType);
  return m ? `${m[1]}/${m[2]}/${m[3]}` : undefined;
}
