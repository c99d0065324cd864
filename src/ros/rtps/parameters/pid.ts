// Parameter ids (RTPS 9.6.2.2 / 9.6.3) used by SPDP, SEDP and inline QoS.
export const PID = {
  PAD: 0x0000,
  SENTINEL: 0x0001,
  PARTICIPANT_LEASE_DURATION: 0x0002,
  TIME_BASED_FILTER: 0x0004,
  TOPIC_NAME: 0x0005,
  OWNERSHIP_STRENGTH: 0x0006,
  TYPE_NAME: 0x0007,
  DOMAIN_ID: 0x000f,
  PROTOCOL_VERSION: 0x0015,
  VENDORID: 0x0016,
  RELIABILITY: 0x001a,
  LIVELINESS: 0x001b,
  DURABILITY: 0x001d,
  DURABILITY_SERVICE: 0x001e,
  OWNERSHIP: 0x001f,
  PRESENTATION: 0x0021,
  DEADLINE: 0x0023,
  DESTINATION_ORDER: 0x0025,
  LATENCY_BUDGET: 0x0027,
  PARTITION: 0x0029,
  LIFESPAN: 0x002b,
  USER_DATA: 0x002c,
  GROUP_DATA: 0x002d,
  TOPIC_DATA: 0x002e,
  UNICAST_LOCATOR: 0x002f,
  MULTICAST_LOCATOR: 0x0030,
  DEFAULT_UNICAST_LOCATOR: 0x0031,
  METATRAFFIC_UNICAST_LOCATOR: 0x0032,
  METATRAFFIC_MULTICAST_LOCATOR: 0x0033,
  PARTICIPANT_MANUAL_LIVELINESS_COUNT: 0x0034,
  HISTORY: 0x0040,
  RESOURCE_LIMITS: 0x0041,
  EXPECTS_INLINE_QOS: 0x0043,
  DEFAULT_MULTICAST_LOCATOR: 0x0048,
  TRANSPORT_PRIORITY: 0x0049,
  PARTICIPANT_GUID: 0x0050,
  GROUP_GUID: 0x0052,
  BUILTIN_ENDPOINT_SET: 0x0058,
  PROPERTY_LIST: 0x0059,
  ENDPOINT_GUID: 0x005a,
  TYPE_MAX_SIZE_SERIALIZED: 0x0060,
  ENTITY_NAME: 0x0062,
  KEY_HASH: 0x0070,
  STATUS_INFO: 0x0071,
  DATA_REPRESENTATION: 0x0073,
  TYPE_CONSISTENCY: 0x0074,
  TYPE_INFORMATION: 0x0075,
  BUILTIN_ENDPOINT_QOS: 0x0077,
  /** DDS-RPC: the request a reply answers (writer GUID + sequence number). */
  RELATED_SAMPLE_IDENTITY: 0x0083,
  DOMAIN_TAG: 0x4014,
  /** eProsima's vendor-specific id for the same value, the only one Fast DDS 2.x reads. */
  FASTDDS_RELATED_SAMPLE_IDENTITY: 0x800f,
} as const;

/** Vendor id of eProsima (Fast DDS), whose vendor-specific parameter ids we understand for request/reply. */
export const VENDOR_EPROSIMA = 0x010f;

/** Bit 15: vendor-specific, meaning depends on the sender's vendor id; we skip them all. */
export const PID_VENDOR_SPECIFIC_FLAG = 0x8000;
/** Bit 14: a receiver that does not understand the parameter must drop the whole sample. */
export const PID_MUST_UNDERSTAND_FLAG = 0x4000;

/** Encapsulation kinds (first two octets of a serialized payload, big-endian). */
export const Encapsulation = {
  CDR_BE: 0x0000,
  CDR_LE: 0x0001,
  PL_CDR_BE: 0x0002,
  PL_CDR_LE: 0x0003,
  CDR2_BE: 0x0006,
  CDR2_LE: 0x0007,
  D_CDR2_BE: 0x0008,
  D_CDR2_LE: 0x0009,
  PL_CDR2_BE: 0x000a,
  PL_CDR2_LE: 0x000b,
} as const;

/** STATUS_INFO bits (inline QoS): the instance was disposed / unregistered. */
export const StatusInfo = { DISPOSED: 0x1, UNREGISTERED: 0x2 } as const;

/** BuiltinEndpointSet bits, RTPS 8.5.3.2. */
export const BuiltinEndpoint = {
  PARTICIPANT_ANNOUNCER: 1 << 0,
  PARTICIPANT_DETECTOR: 1 << 1,
  PUBLICATIONS_ANNOUNCER: 1 << 2,
  PUBLICATIONS_DETECTOR: 1 << 3,
  SUBSCRIPTIONS_ANNOUNCER: 1 << 4,
  SUBSCRIPTIONS_DETECTOR: 1 << 5,
  PARTICIPANT_MESSAGE_WRITER: 1 << 10,
  PARTICIPANT_MESSAGE_READER: 1 << 11,
} as const;
