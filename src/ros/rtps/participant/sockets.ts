// A participant's sockets (RTPS 9.6.1.1): which interfaces it uses and advertises, the first free participant
// index's metatraffic and user unicast ports (exclusive binds, probed upward), and the SPDP multicast group.
import { RtpsUsageError } from '../wire/errors.ts';
import { MAX_PARTICIPANT_INDEX, metatrafficUnicastPort, SPDP_MULTICAST_GROUP, spdpMulticastPort, userUnicastPort, type DiscoveryConfig } from '../config.ts';
import type { UdpPlatform, UdpSocket } from '../platform/udp.ts';
import type { RtpsLogger } from './model.ts';

export interface ParticipantSockets {
  /** Metatraffic unicast (SPDP replies, SEDP, and every send). */
  meta: UdpSocket;
  /** User-traffic unicast. */
  user: UdpSocket;
  /** The SPDP multicast socket, when joining the group worked. */
  multicast: UdpSocket | undefined;
  participantIndex: number;
  /** IPv4 addresses put in our locators. */
  advertisedAddresses: string[];
}

/**
 * The addresses the `interfaces` option (names or IPv4 addresses) stands for; ['127.0.0.1'] when localhost only;
 * undefined for all interfaces. Throws RtpsUsageError naming an interface that does not exist.
 */
export function resolveInterfaces(platform: UdpPlatform, discovery: DiscoveryConfig, wanted: string[] | undefined): string[] | undefined {
  if (discovery.localhostOnly) return ['127.0.0.1'];
  if (!wanted || wanted.length === 0) return undefined;
  const all = platform.interfaces();
  const out: string[] = [];
  for (const want of wanted) {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(want)) out.push(want);
    else {
      const found = all.filter((i) => i.name === want).map((i) => i.address);
      if (found.length === 0) {
        throw new RtpsUsageError(`network interface "${want}" not found (have: ${all.map((i) => i.name).join(', ') || 'none'})`);
      }
      out.push(...found);
    }
  }
  return out;
}

/** Binds the unicast pair of the first free participant index and, when discovery uses it, the SPDP multicast socket. */
export async function openParticipantSockets(o: {
  platform: UdpPlatform;
  discovery: DiscoveryConfig;
  interfaces: string[] | undefined;
  logger: RtpsLogger;
  onDatagram: (bytes: Uint8Array) => void;
}): Promise<ParticipantSockets> {
  const { platform, discovery, onDatagram } = o;
  const chosen = resolveInterfaces(platform, discovery, o.interfaces);
  const bindAddress = chosen && chosen.length === 1 ? chosen[0] : '0.0.0.0';
  let advertisedAddresses: string[];
  if (chosen) advertisedAddresses = chosen;
  else {
    const external = platform.interfaces().filter((i) => !i.internal).map((i) => i.address);
    advertisedAddresses = external.length ? external : ['127.0.0.1'];
  }
  const rcvbuf = 4 << 20;

  // well-known unicast ports: the first free participant index
  const d = discovery.domainId;
  let meta: UdpSocket | undefined;
  let user: UdpSocket | undefined;
  let participantIndex = -1;
  for (let index = 0; index <= MAX_PARTICIPANT_INDEX; index++) {
    let m: UdpSocket | undefined;
    try {
      m = await platform.bind({ address: bindAddress, port: metatrafficUnicastPort(d, index), reuseAddr: false, onDatagram, receiveBufferSize: rcvbuf });
      user = await platform.bind({ address: bindAddress, port: userUnicastPort(d, index), reuseAddr: false, onDatagram, receiveBufferSize: rcvbuf });
      meta = m;
      participantIndex = index;
      break;
    } catch (err) {
      m?.close();
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') {
        throw new RtpsUsageError(`cannot bind RTPS unicast port on ${bindAddress}: ${(err as Error).message}`);
      }
    }
  }
  if (!meta || !user) throw new RtpsUsageError(`no free RTPS participant index 0..${MAX_PARTICIPANT_INDEX} in domain ${d}`);

  // SPDP multicast, unless discovery is off or localhost-only via unicast
  let multicast: UdpSocket | undefined;
  if (discovery.range === 'subnet' || discovery.range === 'localhost') {
    try {
      multicast = await platform.bind({ address: '0.0.0.0', port: spdpMulticastPort(d), reuseAddr: true, onDatagram, receiveBufferSize: rcvbuf });
      const groups = chosen ?? [undefined];
      for (const iface of groups) multicast.joinMulticast(SPDP_MULTICAST_GROUP, iface);
      if (chosen?.length) meta.setMulticastInterface(chosen[0]);
    } catch (err) {
      multicast?.close();
      multicast = undefined;
      o.logger.debug(`multicast unavailable (${(err as Error).message}); discovering by unicast to the well-known localhost ports`);
    }
  }
  return { meta, user, multicast, participantIndex, advertisedAddresses };
}
