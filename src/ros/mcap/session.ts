// Recording a running node in one call: wrap its transport, tap the topics that give the recording its context
// (/clock by default), attach files (the model, the parameters), and close it all in order at the end. `onestep
// serve --record`, `onestep sim-bridge --record` and `onestep profile --record` share this.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import type { QosProfile, QosProfileName, Transport } from '../transport.ts';
import { McapRecorder, type RecorderOptions, type RecordingSummary } from './recorder.ts';
import { RecordingTransport } from './recording-transport.ts';

export interface RecordingAttachment {
  name: string;
  mediaType: string;
  /** File to read, or the bytes / text themselves. */
  path?: string;
  data?: Uint8Array | string;
}

export interface RecordingSessionOptions extends RecorderOptions {
  /** Topics recorded without the node using them; default: /clock with ClockQoS. */
  taps?: { topic: string; type: string; qos?: QosProfile | QosProfileName }[];
  attachments?: RecordingAttachment[];
}

export interface RecordingSession {
  /** Hand this to the node instead of the transport it wraps. */
  transport: RecordingTransport;
  /** Closes the recording (after the node and its transport are closed, so the last messages are in). */
  finish(): Promise<RecordingSummary>;
}

export async function startRecording(inner: Transport, path: string, opts: RecordingSessionOptions = {}): Promise<RecordingSession> {
  const recorder = await McapRecorder.create(path, opts);
  const transport = new RecordingTransport(inner, recorder);
  for (const a of opts.attachments ?? []) {
    const data = a.data !== undefined ? (typeof a.data === 'string' ? new TextEncoder().encode(a.data) : a.data) : await readFile(a.path as string);
    recorder.attach(a.name || basename(a.path ?? 'attachment'), a.mediaType, data);
  }
  for (const tap of opts.taps ?? [{ topic: '/clock', type: 'rosgraph_msgs/msg/Clock', qos: 'clock' as const }]) transport.tap(tap.topic, tap.type, tap.qos);
  let finished: Promise<RecordingSummary> | null = null;
  return { transport, finish: () => (finished ??= recorder.close()) };
}

/** What a policy node's recording carries besides its topics: the model and the parameters it ran with (replay reads both). */
export function nodeRecordingOptions(config: { model: string; parameters?: ReadonlyMap<string, unknown> }, nodeFqn: string, recordedBy: string): RecordingSessionOptions {
  const parameters = Object.fromEntries(config.parameters ?? []);
  return {
    customData: { recorded_by: recordedBy, node: nodeFqn, model: config.model },
    attachments: [
      ...(config.model !== '' ? [{ name: 'policy.onnx', mediaType: 'application/x-onnx', path: config.model }] : []),
      { name: 'parameters.yaml', mediaType: 'application/yaml', data: stringifyYaml({ [nodeFqn]: { ros__parameters: parameters } }) },
    ],
  };
}
