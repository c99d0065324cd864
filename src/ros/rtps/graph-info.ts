// ros_discovery_info: the rmw graph message (rmw_dds_common/msg/ParticipantEntitiesInfo) that maps node
// names to the GIDs of their readers and writers. Without it a node is absent from `ros2 node list` and its
// endpoints show as _NODE_NAME_UNKNOWN_. Encoded by hand (a fixed, tiny layout) into a reused buffer.
import { WireWriter } from './wire/writer.ts';
import { writeGuidBytes, type Guid } from './ids/guid.ts';

export const ROS_DISCOVERY_INFO_TOPIC = 'ros_discovery_info';
export const ROS_DISCOVERY_INFO_TYPE = 'rmw_dds_common::msg::dds_::ParticipantEntitiesInfo_';

export interface NodeEntities {
  namespace: string;
  name: string;
  readers: Guid[];
  writers: Guid[];
}

/** GID size of the ROS distro: 24 bytes up to Humble, 16 from Iron on (rmw_dds_common/msg/Gid). */
export function gidSizeFor(distro: string | undefined): number {
  return distro && ['ardent', 'bouncy', 'crystal', 'dashing', 'eloquent', 'foxy', 'galactic', 'humble'].includes(distro.toLowerCase())
    ? 24
    : 16;
}

export function encodeParticipantEntitiesInfo(participant: Guid, nodes: NodeEntities[], gidSize: number): Uint8Array {
  const gid = new Uint8Array(gidSize);
  let size = 64 + gidSize;
  for (const n of nodes) size += 32 + 4 * (n.namespace.length + n.name.length) + (n.readers.length + n.writers.length) * gidSize;
  const w = new WireWriter(size);
  w.u16be(0x0001); // CDR_LE
  w.u16(0);
  w.origin = w.pos;
  const writeGid = (g: Guid) => {
    gid.fill(0);
    writeGuidBytes(g, gid, 0);
    w.raw(gid);
  };
  writeGid(participant);
  w.align(4);
  w.u32(nodes.length);
  for (const n of nodes) {
    w.string(n.namespace);
    w.string(n.name);
    w.align(4);
    w.u32(n.readers.length);
    for (const g of n.readers) writeGid(g);
    w.align(4);
    w.u32(n.writers.length);
    for (const g of n.writers) writeGid(g);
  }
  return w.bytes.slice(0, w.pos);
}
