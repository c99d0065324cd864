// createTransport(): picks and starts a ROS 2 transport. `auto` uses rclnodejs only on a sourced ROS 2 machine
// where the module resolves (its import can start a multi-minute native build, so it is never probed otherwise),
// and the embedded pure-TypeScript RTPS participant everywhere else.

import { createRequire } from 'node:module';
import { checkNodeIdentity } from './endpoints.ts';
import { InprocTransport } from './inproc.ts';
import type { Remapping } from './names.ts';
import type { NodeIdentity, Transport } from './transport.ts';

/**
 * Which ROS 2 transport: `rtps` (embedded DDS-RTPS), `rclnodejs` (a sourced ROS 2), `inproc` (this process only), or
 * `auto` (rclnodejs when ROS 2 is sourced and it resolves, else rtps).
 */
export type TransportKind = 'auto' | 'rtps' | 'rclnodejs' | 'inproc';
/** Every TransportKind, for option parsing. */
export const TRANSPORT_KINDS: readonly TransportKind[] = ['auto', 'rtps', 'rclnodejs', 'inproc'];

/** Options of {@link createTransport}. */
export interface CreateTransportOptions {
  kind?: TransportKind;
  /** The node this process speaks for: "name", "/ns/name", or { name, namespace }. */
  node: NodeIdentity | string;
  /** ROS_DOMAIN_ID; defaults to the environment variable, else 0. */
  domainId?: number;
  /** Topic remappings ("from:=to" rules already parsed with parseRemapRules). */
  remappings?: readonly Remapping[];
  /** Extra options for the rtps participant (interfaces, static peers, ...), passed through unchanged. */
  rtps?: Record<string, unknown>;
  /** Where to report why `auto` fell back to rtps. Default: silent. */
  log?: (line: string) => void;
}

/** A transport that cannot be created as asked (bad option, missing module, ...). */
export class TransportError extends Error {
  override name = 'TransportError';
}

/** "policy" → { name: "policy", namespace: "/" }; "/arm/policy" → { name: "policy", namespace: "/arm" }. */
export function parseNodeIdentity(node: NodeIdentity | string): NodeIdentity {
  if (typeof node !== 'string') return checkNodeIdentity(node);
  const at = node.lastIndexOf('/');
  return checkNodeIdentity({ name: node.slice(at + 1), namespace: at <= 0 ? '/' : node.slice(0, at) });
}

/** ROS_DOMAIN_ID → number, with the range rmw accepts on Linux (0–232; 0–101 avoids ephemeral ports). */
export function domainIdFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ROS_DOMAIN_ID;
  if (raw === undefined || raw.trim() === '') return 0;
  return checkDomainId(Number(raw), `ROS_DOMAIN_ID="${raw}"`);
}

export function checkDomainId(id: number, what = `domain id ${id}`): number {
  if (!Number.isInteger(id) || id < 0 || id > 232) throw new TransportError(`${what} is not a valid ROS domain id (expected an integer 0–232)`);
  return id;
}

/** Whether `auto` would pick rclnodejs here, and why not if it would not. Never imports rclnodejs. */
export function rclnodejsAvailability(env: NodeJS.ProcessEnv = process.env): { ok: boolean; reason: string } {
  if (!env.ROS_DISTRO || !env.AMENT_PREFIX_PATH) return { ok: false, reason: 'ROS 2 is not sourced (ROS_DISTRO / AMENT_PREFIX_PATH unset)' };
  try {
    createRequire(import.meta.url).resolve('rclnodejs');
    return { ok: true, reason: `ROS 2 ${env.ROS_DISTRO} is sourced and rclnodejs resolves` };
  } catch {
    return { ok: false, reason: 'rclnodejs is not installed (source ROS 2, then `npm i rclnodejs`)' };
  }
}

/**
 * Starts a node on the ROS 2 graph over the chosen transport (`auto` by default) and returns it; close it with
 * `transport.close()`. Throws TransportError (one line) when the transport cannot start as asked.
 */
export async function createTransport(opts: CreateTransportOptions): Promise<Transport> {
  const kind = opts.kind ?? 'auto';
  if (!TRANSPORT_KINDS.includes(kind)) throw new TransportError(`unknown transport "${kind}" (expected one of ${TRANSPORT_KINDS.join(', ')})`);
  const node = parseNodeIdentity(opts.node);
  const domainId = opts.domainId === undefined ? domainIdFromEnv() : checkDomainId(opts.domainId);
  const remappings = opts.remappings ?? [];

  if (kind === 'inproc') return new InprocTransport({ node, domainId, remappings });

  if (kind === 'rclnodejs' || kind === 'auto') {
    const availability = rclnodejsAvailability();
    if (kind === 'rclnodejs' && !availability.ok) throw new TransportError(`cannot use the rclnodejs transport: ${availability.reason}`);
    if (availability.ok) {
      try {
        const { RclnodejsTransport } = await import('./rclnodejs.ts');
        return await RclnodejsTransport.create({ node, domainId, remappings });
      } catch (err) {
        if (kind === 'rclnodejs') throw new TransportError(`cannot start the rclnodejs transport: ${(err as Error).message}`);
        opts.log?.(`rclnodejs failed to start (${(err as Error).message}); using the embedded rtps transport`);
      }
    } else {
      opts.log?.(`using the embedded rtps transport: ${availability.reason}`);
    }
  }

  // the rtps participant is imported lazily too: `onestep --help` must not open sockets or load it
  const { RtpsTransport } = await import('./rtps/transport.ts');
  return RtpsTransport.create({ ...opts.rtps, node, domainId, remappings });
}

export { InprocTransport } from './inproc.ts';
export type * from './transport.ts';
export { QOS_PROFILES, resolveQos } from './transport.ts';
