// The context header of a profile (machine, versions, model identity) and the resource sampler (CPU and RSS of
// this process and, on Linux, of the node under test by pid, every 500 ms as ros2-performance samples them).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { readModelSpec } from '../../runtime/policy-runtime.ts';
import type { ResourceSample } from './analyze.ts';
import type { ProfileContext } from './report.ts';

function version(pkg: string): string {
  try {
    return (createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function onestepVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function machineContext(): ProfileContext['machine'] {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: { start: os.loadavg(), end: os.loadavg() },
  };
}

export function versionsContext(): ProfileContext['versions'] {
  return { node: process.versions.node, onnxruntime: version('onnxruntime-node'), onestep: onestepVersion() };
}

/** The model's identity: file hash and what its spec says. */
export async function modelContext(path: string): Promise<NonNullable<ProfileContext['model']>> {
  const bytes = await readFile(path);
  const spec = await readModelSpec(path);
  return {
    path,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    algorithm: spec.algorithm,
    task: spec.task,
    checkpoint: spec.checkpointId,
    trainingSteps: spec.trainingSteps,
  };
}

/** CPU time (user + system) and RSS of a process from /proc; undefined when it is gone or not Linux. */
function procStat(pid: number): { cpuS: number; rssMb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11], [12]: utime, stime (clock ticks; 100 per second on Linux); fields[21]: rss in pages
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rssPages = Number(fields[21]);
    return { cpuS: ticks / 100, rssMb: (rssPages * 4096) / 2 ** 20 };
  } catch {
    return undefined;
  }
}

/** Samples CPU % and RSS every `everyMs` until stopped. */
export class ResourceSampler {
  readonly samples: ResourceSample[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly t0 = performance.now();
  private lastAt = performance.now();
  private lastCpu = process.cpuUsage();
  private lastNodeCpu: number | undefined;

  constructor(
    readonly nodePid?: number,
    everyMs = 500,
  ) {
    this.lastNodeCpu = nodePid === undefined ? undefined : procStat(nodePid)?.cpuS;
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    const now = performance.now();
    const dt = (now - this.lastAt) / 1000;
    if (dt <= 0) return;
    const cpu = process.cpuUsage(this.lastCpu);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const s: ResourceSample = {
      t: +((now - this.t0) / 1000).toFixed(3),
      profilerCpuPct: (100 * (cpu.user + cpu.system)) / 1e6 / dt,
      profilerRssMb: process.memoryUsage.rss() / 2 ** 20,
    };
    if (this.nodePid !== undefined) {
      const p = procStat(this.nodePid);
      if (p) {
        if (this.lastNodeCpu !== undefined) s.nodeCpuPct = (100 * (p.cpuS - this.lastNodeCpu)) / dt;
        this.lastNodeCpu = p.cpuS;
        s.nodeRssMb = p.rssMb;
      }
    }
    this.samples.push(s);
  }

  stop(): ResourceSample[] {
    clearInterval(this.timer);
    this.sample();
    return this.samples;
  }
}

export function summarizeResources(samples: ResourceSample[], nodePid?: number) {
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const node = samples.filter((s) => s.nodeCpuPct !== undefined);
  return {
    profiler: { cpuPctMean: mean(samples.map((s) => s.profilerCpuPct)), rssMbMax: Math.max(0, ...samples.map((s) => s.profilerRssMb)) },
    node: nodePid !== undefined && node.length > 0
      ? { pid: nodePid, cpuPctMean: mean(node.map((s) => s.nodeCpuPct as number)), rssMbMax: Math.max(0, ...node.map((s) => s.nodeRssMb ?? 0)) }
      : undefined,
  };
}
