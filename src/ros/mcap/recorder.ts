// Recording ROS 2 traffic into MCAP the way rosbag2 does (rosbag2_storage_mcap), so `ros2 bag info/play`, Foxglove
// and the MCAP tools open the file: profile "ros2"; one schema per type, named "pkg/msg/Type", encoding "ros2msg",
// holding the full definition with its dependencies; one channel per topic with message encoding "cdr" (payloads keep
// their 4-byte encapsulation header) and the metadata rosbag2 reads (offered_qos_profiles with integer enums, which
// every distro from Humble on decodes, and topic_type_hash); uncompressed chunks with message indexes, chunk indexes,
// a Statistics record and summary offsets; and a "rosbag2" metadata record with the bag's serialized metadata.
// Files (the model, the parameters) go in as attachments.
//
// The hot path only copies the bytes and queues them: `write()` is synchronous and never waits for the disk. A flush
// loop hands queued messages to @mcap/core in order (its calls must not overlap) from a timer.
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { McapWriter } from '@mcap/core';
import { FileHandleWritable } from '@mcap/nodejs';
import { getMessageCodec } from '../msgs/registry.ts';
import { typeHash } from '../msgs/type-hash.ts';
import { monotonicClockId } from '../node/timings.ts';
import type { QosProfile } from '../transport.ts';

/** A recording cannot be written as asked. */
export class RecorderError extends Error {
  override name = 'RecorderError';
}

export interface RecorderOptions {
  /** Who wrote the file (MCAP header "library"). */
  library?: string;
  /** rosbag2 metadata "ros_distro" (rosbag2 prints it); default $ROS_DISTRO or "jazzy". */
  rosDistro?: string;
  /** Uncompressed chunk size in bytes; rosbag2's default is 768 KiB. */
  chunkSize?: number;
  /** How often queued messages are handed to the writer (ms). */
  flushIntervalMs?: number;
  /** Extra key/values for the rosbag2 metadata's custom_data (e.g. what was recorded and why). */
  customData?: Record<string, string>;
}

/** Per topic, what the recording holds. */
export interface RecordedTopic {
  topic: string;
  type: string;
  qos: QosProfile;
  messages: number;
}

export interface RecordingSummary {
  path: string;
  messages: number;
  bytes: number;
  /** Log times of the first and last message (ns since the epoch); 0 when empty. */
  startNs: bigint;
  endNs: bigint;
  topics: RecordedTopic[];
  attachments: string[];
}

interface Pending {
  channel: number;
  data: Uint8Array;
  logTime: bigint;
  publishTime: bigint;
  sequence: number;
}

interface TopicEntry extends RecordedTopic {
  channel: number;
  sequence: number;
}

// rmw enums (rmw/types.h): what rosbag2 writes for metadata versions before 9, and what every reader decodes
const HISTORY = { keep_last: 1, keep_all: 2 } as const;
const RELIABILITY = { reliable: 1, best_effort: 2 } as const;
const DURABILITY = { transient_local: 1, volatile: 2 } as const;
const LIVELINESS_AUTOMATIC = 1;
// RMW_DURATION_INFINITE as rmw_time_t
const INFINITE = '\n    sec: 9223372036\n    nsec: 854775807';
/** The rosbag2 metadata layout we write: 8 is the last with integer QoS enums and a string offered_qos_profiles. */
const BAG_METADATA_VERSION = 8;

/** rosbag2's offered_qos_profiles text for one publisher's QoS (a YAML list of one profile, integer enums). */
export function offeredQosProfiles(qos: QosProfile): string {
  return [
    `- history: ${HISTORY[qos.history]}`,
    `  depth: ${qos.history === 'keep_last' ? qos.depth : 0}`,
    `  reliability: ${RELIABILITY[qos.reliability]}`,
    `  durability: ${DURABILITY[qos.durability]}`,
    `  deadline:${INFINITE}`,
    `  lifespan:${INFINITE}`,
    `  liveliness: ${LIVELINESS_AUTOMATIC}`,
    `  liveliness_lease_duration:${INFINITE}`,
    '  avoid_ros_namespace_conventions: false',
    '',
  ].join('\n');
}

/** custom_data key of the offset between this process's CLOCK_MONOTONIC and the log times (ns). */
export const MONOTONIC_TO_WALL_KEY = 'onestep.monotonic_to_wall_ns';
/** custom_data key of the recording host's monotonic clock id (see monotonicClockId()). */
export const CLOCK_ID_KEY = 'onestep.clock_id';

/** Wall-clock ns since the epoch for a monotonic process.hrtime.bigint() reading (one fixed offset per process). */
const wallOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
export function wallTimeNs(monotonicNs: bigint = process.hrtime.bigint()): bigint {
  return monotonicNs + wallOffsetNs;
}

/**
 * An MCAP file being recorded. Topics are added before their messages; `write()` copies the bytes and returns at
 * once; `close()` writes what is queued, the metadata and the summary.
 */
export class McapRecorder {
  private readonly topics = new Map<string, TopicEntry>();
  /** Topic entries by channel id. */
  private readonly channels: TopicEntry[] = [];
  private readonly schemas = new Map<string, Promise<number>>();
  private queue: Pending[] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout;
  private failure: Error | null = null;
  private closed = false;
  private messages = 0;
  private startNs = 0n;
  private endNs = 0n;
  private readonly attachments: string[] = [];

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly writer: McapWriter,
    private readonly options: RecorderOptions,
  ) {
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 50);
    this.timer.unref();
  }

  /** Creates (truncates) `path` and writes the MCAP header. */
  static async create(path: string, options: RecorderOptions = {}): Promise<McapRecorder> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'w');
    } catch (err) {
      throw new RecorderError(`cannot create the recording ${path}: ${(err as Error).message}`);
    }
    const writer = new McapWriter({
      writable: new FileHandleWritable(handle),
      useStatistics: true,
      useSummaryOffsets: true,
      useChunks: true,
      useChunkIndex: true,
      useMessageIndex: true,
      useAttachmentIndex: true,
      useMetadataIndex: true,
      repeatSchemas: true,
      repeatChannels: true,
      startChannelId: 1, // as rosbag2's (C++) writer numbers them
      chunkSize: options.chunkSize ?? 768 * 1024,
    });
    await writer.start({ profile: 'ros2', library: options.library ?? 'onestep' });
    return new McapRecorder(path, handle, writer, options);
  }

  /**
   * Declares a topic (idempotent per topic name) and returns its channel id. The type's definition comes from
   * onestep's message registry; an unknown type throws UnknownMessageTypeError.
   */
  addTopic(topic: string, type: string, qos: QosProfile): number {
    const existing = this.topics.get(topic);
    if (existing) {
      if (existing.type !== type) throw new RecorderError(`topic ${topic} is recorded as ${existing.type}, not ${type}`);
      return existing.channel;
    }
    if (this.closed) throw new RecorderError(`the recording ${this.path} is closed`);
    const codec = getMessageCodec(type);
    let hash = '';
    try {
      hash = typeHash(type);
    } catch {
      // a type without a REP-2011 description (rare): rosbag2 records an empty hash too
    }
    // channel ids are handed out here, synchronously, in the order the writer will register them (from 1)
    const channel = this.topics.size + 1;
    const entry: TopicEntry = { topic, type, qos: { ...qos }, messages: 0, channel, sequence: 0 };
    this.topics.set(topic, entry);
    this.channels[channel] = entry;
    let schema = this.schemas.get(type);
    if (!schema) {
      const registered = this.enqueue(() => this.writer.registerSchema({ name: type, encoding: 'ros2msg', data: new TextEncoder().encode(codec.definition) }));
      schema = registered;
      this.schemas.set(type, registered);
    }
    const schemaId = schema;
    void this.enqueue(async () => {
      const id = await this.writer.registerChannel({
        topic,
        messageEncoding: 'cdr',
        schemaId: await schemaId,
        metadata: new Map([
          ['offered_qos_profiles', offeredQosProfiles(qos)],
          ['topic_type_hash', hash],
        ]),
      });
      if (id !== channel) throw new RecorderError(`internal: channel ${topic} got id ${id}, expected ${channel}`);
    });
    return channel;
  }

  /**
   * Queues one serialized message (encapsulation header + CDR). `logTimeNs`: when it was received or sent, ns since
   * the epoch (see wallTimeNs()); `publishTimeNs` defaults to it. Copies `cdr`, so the caller may reuse its buffer.
   */
  write(channel: number, cdr: Uint8Array, logTimeNs: bigint, publishTimeNs: bigint = logTimeNs): void {
    if (this.closed) return;
    const entry = this.byChannel(channel);
    entry.messages++;
    this.messages++;
    if (this.startNs === 0n || logTimeNs < this.startNs) this.startNs = logTimeNs;
    if (logTimeNs > this.endNs) this.endNs = logTimeNs;
    this.queue.push({ channel, data: cdr.slice(), logTime: logTimeNs, publishTime: publishTimeNs, sequence: entry.sequence++ });
  }

  /** Adds a file (model, parameters) as an attachment. */
  attach(name: string, mediaType: string, data: Uint8Array, logTimeNs: bigint = wallTimeNs()): void {
    if (this.closed) throw new RecorderError(`the recording ${this.path} is closed`);
    this.attachments.push(name);
    this.flush();
    const copy = data.slice();
    void this.enqueue(() => this.writer.addAttachment({ name, mediaType, data: copy, logTime: logTimeNs, createTime: logTimeNs }));
  }

  /** Messages queued or written so far. */
  get messageCount(): number {
    return this.messages;
  }

  summary(): RecordingSummary {
    return {
      path: this.path,
      messages: this.messages,
      bytes: 0,
      startNs: this.startNs,
      endNs: this.endNs,
      topics: [...this.topics.values()].map(({ topic, type, qos, messages }) => ({ topic, type, qos, messages })),
      attachments: [...this.attachments],
    };
  }

  /** Writes everything queued, the rosbag2 metadata and the summary, and closes the file. */
  async close(): Promise<RecordingSummary> {
    if (this.closed) throw new RecorderError(`the recording ${this.path} is already closed`);
    clearInterval(this.timer);
    this.flush();
    this.closed = true;
    const summary = this.summary();
    await this.enqueue(() => this.writer.addMetadata({ name: 'rosbag2', metadata: new Map([['serialized_metadata', this.bagMetadata(summary)]]) }));
    await this.enqueue(() => this.writer.end());
    const failure = this.failure as Error | null;
    const stat = await this.handle.stat().catch(() => null);
    await this.handle.close();
    if (failure) throw new RecorderError(`writing the recording ${this.path} failed: ${failure.message}`);
    return { ...summary, bytes: stat?.size ?? 0 };
  }

  private byChannel(channel: number): TopicEntry {
    const e = this.channels[channel];
    if (e === undefined) throw new RecorderError(`no topic was added with channel id ${channel}`);
    return e;
  }

  /** Hands the queued messages to the writer, in order, after whatever it is doing now. */
  private flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    void this.enqueue(async () => {
      for (const m of batch) {
        await this.writer.addMessage({ channelId: m.channel, sequence: m.sequence, logTime: m.logTime, publishTime: m.publishTime, data: m.data });
      }
    });
  }

  /** Runs `step` after every earlier writer call (the writer's calls must not overlap); the first failure sticks. */
  private enqueue<T>(step: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => {
      if (this.failure) throw this.failure;
      return step();
    });
    this.chain = run.then(
      () => undefined,
      (err: unknown) => {
        this.failure ??= err as Error;
      },
    );
    return run;
  }

  /** rosbag2's BagMetadata (version 8) as YAML: what `ros2 bag info` prints. */
  private bagMetadata(s: RecordingSummary): string {
    const q = (x: string) => JSON.stringify(x); // JSON strings are valid YAML scalars
    const file = basename(this.path);
    const duration = s.endNs - s.startNs;
    const indent = (text: string, pad: string) => text.split('\n').filter((l) => l !== '').map((l) => `${pad}${l}`).join('\n');
    const lines = [
      `version: ${BAG_METADATA_VERSION}`,
      'storage_identifier: mcap',
      'duration:',
      `  nanoseconds: ${duration}`,
      'starting_time:',
      `  nanoseconds_since_epoch: ${s.startNs}`,
      `message_count: ${s.messages}`,
      s.topics.length === 0 ? 'topics_with_message_count: []' : 'topics_with_message_count:',
    ];
    for (const t of s.topics) {
      let hash = '';
      try {
        hash = typeHash(t.type);
      } catch {
        hash = '';
      }
      lines.push(
        '  - topic_metadata:',
        `      name: ${q(t.topic)}`,
        `      type: ${q(t.type)}`,
        '      serialization_format: cdr',
        '      offered_qos_profiles: |',
        indent(offeredQosProfiles(t.qos), '        '),
        `      type_description_hash: ${q(hash)}`,
        `    message_count: ${t.messages}`,
      );
    }
    // log times are CLOCK_MONOTONIC + this offset: readers put the monotonic stamps messages carry on the same axis
    const custom = Object.entries({ ...this.options.customData, [MONOTONIC_TO_WALL_KEY]: String(wallOffsetNs), [CLOCK_ID_KEY]: monotonicClockId() });
    lines.push(
      'compression_format: ""',
      'compression_mode: ""',
      'relative_file_paths:',
      `  - ${q(file)}`,
      'files:',
      `  - path: ${q(file)}`,
      '    starting_time:',
      `      nanoseconds_since_epoch: ${s.startNs}`,
      '    duration:',
      `      nanoseconds: ${duration}`,
      `    message_count: ${s.messages}`,
      custom.length === 0 ? 'custom_data: {}' : 'custom_data:',
      ...custom.map(([k, v]) => `  ${q(k)}: ${q(v)}`),
      `ros_distro: ${q(this.options.rosDistro ?? process.env.ROS_DISTRO ?? 'jazzy')}`,
      '',
    );
    return lines.join('\n');
  }
}
