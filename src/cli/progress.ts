// The progress display of long commands (train, collect, bench): a bar redrawn in place on a terminal, a line every
// 10 s when stderr is a file or a pipe (CI logs), or nothing. Always on stderr, so stdout stays the result.

export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** The yargs option every command with a progress display takes. */
export const progressOption = {
  type: 'string',
  choices: PROGRESS_MODES,
  default: 'auto',
  describe: 'progress display (auto: a bar on a terminal, a line every 10 s otherwise)',
} as const;

export class ProgressDisplay {
  readonly mode: 'bar' | 'lines' | 'none';
  private lastLine = 0;
  private drawn = false;

  constructor(mode: ProgressMode | string, private readonly lineEveryMs = 10_000) {
    this.mode = mode === 'auto' ? (process.stderr.isTTY ? 'bar' : 'lines') : mode === 'bar' || mode === 'lines' ? mode : 'none';
  }

  /** Show `fraction` (0..1) done with a line of text; a 'lines' display prints at most one line per interval, and the last. */
  update(fraction: number, text: string): void {
    if (this.mode === 'bar') {
      const width = 24;
      const filled = Math.max(0, Math.min(width, Math.round(width * fraction)));
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(100 * fraction).toFixed(1).padStart(5)}% ${text}\x1b[K`);
      this.drawn = true;
    } else if (this.mode === 'lines' && (Date.now() - this.lastLine > this.lineEveryMs || fraction >= 1)) {
      this.lastLine = Date.now();
      process.stderr.write(`${text}\n`);
    }
  }

  /** End the bar's line, so what follows starts on a fresh one; `erase` clears the bar instead of keeping it. */
  finish(erase = false): void {
    if (this.drawn) process.stderr.write(erase ? '\r\x1b[K' : '\n');
    this.drawn = false;
  }
}

/** "1h05m", "3m07s", "42s"; "--" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
