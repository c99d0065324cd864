// Reading a recording back: topics with their types and QoS, attachments, the rosbag2 metadata, and messages in log
// time order, decoded with onestep's codecs (for the file's own schema text, see the tests, which decode with an
// independent library).
import { open, type FileHandle } from 'node:fs/promises';
import { McapIndexedReader } from '@mcap/core';
import { parse as parseYaml } from 'yaml';
import { FileHandleReadable } from '@mcap/nodejs';
import { getMessageCodec, type MessageCodec } from '../msgs/registry.ts';

export class RecordingReadError extends Error {
  override name = 'RecordingReadError';
}

export interface RecordingTopic {
  topic: string;
  type: string;
  channel: number;
  messages: number;
  /** The channel's offered_qos_profiles text (rosbag2 YAML). */
  qos: string;
}

export interface RecordedMessage<T = Record<string, unknown>> {
  topic: string;
  type: string;
  /** ns since the epoch */
  logTime: bigint;
  publishTime: bigint;
  sequence: number;
  cdr: Uint8Array;
  message: T;
}

export class Recording {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly reader: McapIndexedReader,
  ) {}

  static async open(path: string): Promise<Recording> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw new RecordingReadError(`cannot open the recording ${path}: ${(err as Error).message}`);
    }
    try {
      const reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(handle) });
      if (reader.header.profile !== 'ros2') throw new RecordingReadError(`${path} is an MCAP file of profile "${reader.header.profile}", not a ROS 2 recording ("ros2")`);
      return new Recording(path, handle, reader);
    } catch (err) {
      await handle.close();
      if (err instanceof RecordingReadError) throw err;
      throw new RecordingReadError(`${path} is not a readable, indexed MCAP file: ${(err as Error).message}`);
    }
  }

  get topics(): RecordingTopic[] {
    const counts = this.reader.statistics?.channelMessageCounts;
    return [...this.reader.channelsById.values()].map((c) => ({
      topic: c.topic,
      type: this.reader.schemasById.get(c.schemaId)?.name ?? '',
      channel: c.id,
      messages: Number(counts?.get(c.id) ?? 0n),
      qos: c.metadata.get('offered_qos_profiles') ?? '',
    }));
  }

  topic(name: string): RecordingTopic | undefined {
    return this.topics.find((t) => t.topic === name);
  }

  /** The rosbag2 metadata's custom_data and the like, as the raw YAML text; '' when absent. */
  async bagMetadata(): Promise<string> {
    for await (const m of this.reader.readMetadata({ name: 'rosbag2' })) return m.metadata.get('serialized_metadata') ?? '';
    return '';
  }

  /** The rosbag2 metadata's custom_data (empty when the file has none). */
  async customData(): Promise<Record<string, string>> {
    const text = await this.bagMetadata();
    if (text === '') return {};
    try {
      const doc = parseYaml(text) as { custom_data?: Record<string, unknown> } | null;
      return Object.fromEntries(Object.entries(doc?.custom_data ?? {}).map(([k, v]) => [k, String(v)]));
    } catch {
      return {};
    }
  }

  async attachment(name: string): Promise<Uint8Array | undefined> {
    for await (const a of this.reader.readAttachments({ name })) return a.data;
    return undefined;
  }

  attachmentNames(): string[] {
    return this.reader.attachmentIndexes.map((a) => a.name);
  }

  /** Messages of the given topics (all when omitted) in log-time order, decoded. */
  async *messages<T = Record<string, unknown>>(topics?: readonly string[]): AsyncGenerator<RecordedMessage<T>> {
    const codecs = new Map<number, { topic: string; type: string; codec: MessageCodec<T> }>();
    for (const t of this.topics) {
      if (topics && !topics.includes(t.topic)) continue;
      codecs.set(t.channel, { topic: t.topic, type: t.type, codec: getMessageCodec<T>(t.type) });
    }
    for await (const m of this.reader.readMessages({ topics, validateCrcs: true })) {
      const c = codecs.get(m.channelId);
      if (!c) continue;
      let message: T;
      try {
        message = c.codec.decode(m.data);
      } catch (err) {
        throw new RecordingReadError(`${this.path}: message ${m.sequence} on ${c.topic} does not decode as ${c.type}: ${(err as Error).message}`);
      }
      yield { topic: c.topic, type: c.type, logTime: m.logTime, publishTime: m.publishTime, sequence: m.sequence, cdr: m.data, message };
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
