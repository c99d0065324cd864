// Replacing a running node's model without stopping it: a request (~/reload, the `model` parameter) or a change of
// the model file (watched, debounced 250 ms) loads the new model, checks it against the running one's observation
// and action names and the node's parameters, runs one test step on the current observation, and only then
// switches. A bad model is refused with the reason logged and kept for the caller; the running model continues.
// Reloads run one at a time, in request order.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve as resolvePath } from 'node:path';
import type { Logger, NodeCounters } from './diagnostics.ts';
import type { NodeConfig } from './params.ts';
import { PolicyNodeError, planFor, type Plan, type Policy, type PolicyLoader } from './policy-plan.ts';

/** What a reload reads from the node and how it switches the node over. */
export interface ReloadTarget {
  /** The running model, its plan and its path. */
  running(): { policy: Policy; plan: Plan; path: string };
  closed(): boolean;
  /** Switches to a checked model (the old one is the node's to close). */
  switchTo(policy: Policy, plan: Plan, path: string): void;
}

export class ModelReloader {
  /** Why the last reload was refused ('' after a successful one). */
  lastError = '';
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private reloading: Promise<boolean> | null = null;

  constructor(
    private readonly loadPolicy: PolicyLoader,
    private readonly target: ReloadTarget,
    private readonly log: Logger,
    private readonly counters: NodeCounters,
    /** The node's parameters now (what a reload is checked against unless told otherwise). */
    private readonly nodeConfig: () => NodeConfig,
  ) {}

  /** Reloads whenever the running model's file changes (its folder is watched: editors replace files). */
  watchModelFile(): void {
    const path = resolvePath(this.target.running().path);
    try {
      this.watcher = watch(dirname(path), (_event, file) => {
        if (file !== basename(resolvePath(this.target.running().path))) return;
        if (this.debounce) this.debounce.refresh();
        else this.debounce = setTimeout(() => { this.debounce = null; void this.reload(); }, 250);
      });
      this.watcher.on('error', (err) => this.log.warn('model file watch stopped', { reason: err.message }));
    } catch (err) {
      this.log.warn('cannot watch the model file; reload on request only', { model: path, reason: (err as Error).message });
    }
  }

  /**
   * Loads a model (the running one's path by default), checks it against the node's observation and action layout
   * (under `config`, the node's parameters by default) and a test step, then switches to it. Resolves false when
   * refused.
   */
  reload(path?: string, config: NodeConfig = this.nodeConfig()): Promise<boolean> {
    if (this.reloading) return this.reloading.then(() => this.reload(path, config));
    this.reloading = this.attempt(path ?? this.target.running().path, config).finally(() => { this.reloading = null; });
    return this.reloading;
  }

  /** Stops watching and waits for a reload in flight. */
  async close(): Promise<void> {
    if (this.debounce) clearTimeout(this.debounce);
    this.watcher?.close();
    await this.reloading;
  }

  private async attempt(path: string, config: NodeConfig): Promise<boolean> {
    this.lastError = '';
    if (this.target.closed()) return false;
    let candidate: Policy | null = null;
    try {
      candidate = await this.loadPolicy(path);
      const now = this.target.running().policy.spec;
      const next = candidate.spec;
      const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
      if (!same(now.observation.names, next.observation.names) || now.observation.size !== next.observation.size) {
        throw new PolicyNodeError(`observation differs: running model has ${now.observation.size} [${now.observation.names.join(', ')}], new model ${next.observation.size} [${next.observation.names.join(', ')}]`);
      }
      if (!same(now.action.names, next.action.names)) {
        throw new PolicyNodeError(`actions differ: running model acts on [${now.action.names.join(', ')}], new model on [${next.action.names.join(', ')}]`);
      }
      const plan = planFor(next, config, path);
      const probe = candidate.act(this.target.running().plan.assembler.vector);
      for (let i = 0; i < probe.length; i++) {
        if (!Number.isFinite(probe[i])) throw new PolicyNodeError(`test step gave a non-finite action[${i}]`);
      }
      if (this.target.closed()) throw new PolicyNodeError('the node is shutting down');
      const old = this.target.running().policy;
      this.target.switchTo(candidate, plan, path);
      this.counters.reloads++;
      old.close();
      this.log.info('model reloaded', { model: path, model_id: next.checkpointId, training_steps: next.trainingSteps });
      return true;
    } catch (err) {
      candidate?.close();
      this.counters.reloadsRefused++;
      this.lastError = (err as Error).message;
      this.log.error('refused the new model; the running one continues', { model: path, reason: (err as Error).message, running: this.target.running().policy.spec.checkpointId });
      return false;
    }
  }
}
