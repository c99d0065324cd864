// Datasets joined end to end: what DAgger's aggregation and "add these demonstrations" both need. Each part must
// describe the same problem (observation and action sizes, task and observation names where recorded). The readers
// end every dataset's last trajectory at its last row, so no trajectory runs on into the next file's.
import type { OfflineDataset } from './dataset.ts';
import { DatasetError } from './validate.ts';

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The transitions of `parts` in order, as one dataset named `source`; its metadata lists the parts. */
export function mergeDatasets(parts: readonly OfflineDataset[], source: string): OfflineDataset {
  if (parts.length === 0) throw new DatasetError('empty', source, 'nothing to merge: give at least one dataset');
  const first = parts[0];
  for (const p of parts) {
    if (p.observationSize !== first.observationSize) {
      throw new DatasetError('observation-size', p.source, `observation size ${p.observationSize} differs from ${first.observationSize} in ${first.source}`, { key: 'observations' });
    }
    if (p.actionSize !== first.actionSize) throw new DatasetError('action-size', p.source, `action size ${p.actionSize} differs from ${first.actionSize} in ${first.source}`, { key: 'actions' });
    if (p.task !== undefined && first.task !== undefined && p.task !== first.task) throw new DatasetError('task-mismatch', p.source, `records task ${p.task}, ${first.source} records ${first.task}`);
    const names = p.observationNames;
    const i = names && first.observationNames ? names.findIndex((n, j) => n !== first.observationNames![j]) : -1;
    if (i >= 0) {
      throw new DatasetError('task-mismatch', p.source, `observation ${i} is '${names![i]}', in ${first.source} it is '${first.observationNames![i]}'`, { key: 'observations', column: i });
    }
  }
  const task = parts.find((p) => p.task !== undefined)?.task;
  const observationNames = parts.find((p) => p.observationNames)?.observationNames;
  const withSuccess = parts.every((p) => p.success);
  // per-episode modes (two_way) survive only when every part records them
  const episodeModes = parts.map((p) => p.metadata?.episodeModes);
  const modes = episodeModes.every(Array.isArray) ? { modes: first.metadata?.modes, episodeModes: (episodeModes as unknown[][]).flat() } : {};
  return {
    source,
    size: parts.reduce((n, p) => n + p.size, 0),
    observationSize: first.observationSize,
    actionSize: first.actionSize,
    observations: concat(parts.map((p) => p.observations)),
    actions: concat(parts.map((p) => p.actions)),
    rewards: concat(parts.map((p) => p.rewards)),
    nextObservations: concat(parts.map((p) => p.nextObservations)),
    terminals: concat(parts.map((p) => p.terminals)),
    masks: concat(parts.map((p) => p.masks)),
    episodeEnds: concat(parts.map((p) => p.episodeEnds)),
    ...(task !== undefined && { task }),
    ...(observationNames && { observationNames }),
    ...(withSuccess && { success: concat(parts.map((p) => p.success!)) }),
    metadata: {
      ...(first.metadata?.actionNames !== undefined && { actionNames: first.metadata.actionNames }),
      ...(first.metadata?.actionMode !== undefined && { actionMode: first.metadata.actionMode }),
      ...(first.metadata?.successMeaning !== undefined && { successMeaning: first.metadata.successMeaning }),
      ...modes,
      merged: parts.map((p) => ({ source: p.source, transitions: p.size, ...(p.metadata?.collect !== undefined && { collect: p.metadata.collect }) })),
    },
  };
}
