// Where a participant listens and whom it looks for: ROS_DOMAIN_ID, the RTPS port mapping (RTPS 9.6.1.1)
// and the ROS discovery-range environment (ROS_LOCALHOST_ONLY, ROS_AUTOMATIC_DISCOVERY_RANGE, ROS_STATIC_PEERS).
import { RtpsUsageError } from './wire/errors.ts';

export const SPDP_MULTICAST_GROUP = '239.255.0.1';

/** Port mapping constants: PB, DG, PG, d0..d3. */
export const PORTS = { base: 7400, domainGain: 250, participantGain: 2, d0: 0, d1: 10, d2: 1, d3: 11 } as const;

export function spdpMulticastPort(domainId: number): number {
  return PORTS.base + PORTS.domainGain * domainId + PORTS.d0;
}
export function userMulticastPort(domainId: number): number {
  return PORTS.base + PORTS.domainGain * domainId + PORTS.d2;
}
export function metatrafficUnicastPort(domainId: number, participantId: number): number {
  return PORTS.base + PORTS.domainGain * domainId + PORTS.d1 + PORTS.participantGain * participantId;
}
export function userUnicastPort(domainId: number, participantId: number): number {
  return PORTS.base + PORTS.domainGain * domainId + PORTS.d3 + PORTS.participantGain * participantId;
}

/** Highest domain id whose ports stay below the Linux ephemeral range (ROS "About Domain ID"). */
export const MAX_DOMAIN_ID = 232;
/** Participant indices tried when binding the well-known unicast ports. */
export const MAX_PARTICIPANT_INDEX = 119;

export type DiscoveryRange = 'subnet' | 'localhost' | 'off';

export interface DiscoveryConfig {
  domainId: number;
  range: DiscoveryRange;
  /** Hosts (IPv4 addresses or names) always contacted at the well-known SPDP unicast ports. */
  staticPeers: string[];
  /** Bind only to 127.0.0.1 (ROS_LOCALHOST_ONLY=1). */
  localhostOnly: boolean;
}

export function parseDomainId(raw: string | number | undefined): number {
  if (raw === undefined || raw === '') return 0;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > MAX_DOMAIN_ID) {
    throw new RtpsUsageError(`ROS_DOMAIN_ID must be an integer in 0..${MAX_DOMAIN_ID} (0-101 recommended on Linux), got "${raw}"`);
  }
  return n;
}

/** Reads the ROS 2 discovery environment; explicit options win over the environment. */
export function discoveryConfigFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<DiscoveryConfig> = {}): DiscoveryConfig {
  const localhostOnly = overrides.localhostOnly ?? env.ROS_LOCALHOST_ONLY === '1';
  let range: DiscoveryRange = 'subnet';
  const rawRange = (env.ROS_AUTOMATIC_DISCOVERY_RANGE ?? '').trim().toUpperCase();
  if (rawRange === 'LOCALHOST') range = 'localhost';
  else if (rawRange === 'OFF') range = 'off';
  else if (rawRange === '' || rawRange === 'SUBNET' || rawRange === 'SYSTEM_DEFAULT') range = 'subnet';
  else {
    throw new RtpsUsageError(
      `ROS_AUTOMATIC_DISCOVERY_RANGE must be one of SUBNET, LOCALHOST, OFF, SYSTEM_DEFAULT, got "${env.ROS_AUTOMATIC_DISCOVERY_RANGE}"`,
    );
  }
  if (localhostOnly) range = 'localhost';
  const staticPeers = (env.ROS_STATIC_PEERS ?? '')
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    domainId: overrides.domainId ?? parseDomainId(env.ROS_DOMAIN_ID),
    range: overrides.range ?? range,
    staticPeers: overrides.staticPeers ?? staticPeers,
    localhostOnly,
  };
}
