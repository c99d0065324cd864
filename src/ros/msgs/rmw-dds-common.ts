// rmw_dds_common/msg definitions, for the `ros_discovery_info` topic that maps node names to endpoint GIDs
// (what makes a node appear in `ros2 node list`). GIDs are 16 bytes since Iron (24 in Humble and earlier).

export const RMW_GID_SIZE_IRON = 16;
export const RMW_GID_SIZE_HUMBLE = 24;

/** Message texts keyed by "pkg/msg/Type"; `gidSize` picks the ROS distro's GID layout. */
export function rmwDdsCommonMessages(gidSize: number = RMW_GID_SIZE_IRON): Record<string, string> {
  return {
    'rmw_dds_common/msg/Gid': `char[${gidSize}] data\n`,
    'rmw_dds_common/msg/NodeEntitiesInfo': [
      'string<=256 node_namespace',
      'string<=256 node_name',
      'Gid[] reader_gid_seq',
      'Gid[] writer_gid_seq',
      '',
    ].join('\n'),
    'rmw_dds_common/msg/ParticipantEntitiesInfo': ['Gid gid', 'NodeEntitiesInfo[] node_entities_info_seq', ''].join('\n'),
  };
}
