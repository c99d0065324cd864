// Training metrics: one JSON object per line (metrics.jsonl) and the same rows as CSV (metrics.csv).
// On resume the files are cut back to the checkpoint's step, so a resumed run writes the same rows as an
// uninterrupted one.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

export type MetricRow = Record<string, number | string>;

export class MetricsLog {
  constructor(
    readonly jsonlPath: string,
    readonly csvPath: string,
    /** CSV column order; the first column must be the step counter. */
    readonly columns: string[],
  ) {}

  /**
   * Starts fresh files (null), or when resuming keeps the rows with `columns[0] <= keep` (a number) or the rows
   * `keep` accepts (a predicate: e.g. offline rows, which all sit at environment step 0, cut by update count).
   */
  open(keep: number | ((row: MetricRow) => boolean) | null): void {
    const key = this.columns[0];
    let rows: MetricRow[] = [];
    if (keep !== null && existsSync(this.jsonlPath)) {
      const accept = typeof keep === 'number' ? (r: MetricRow) => Number(r[key]) <= keep : keep;
      rows = readFileSync(this.jsonlPath, 'utf8')
        .split('\n')
        .filter((l) => l.trim().length > 0)
        .map((l) => JSON.parse(l) as MetricRow)
        .filter(accept);
    }
    writeFileSync(this.jsonlPath, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    writeFileSync(this.csvPath, this.columns.join(',') + '\n' + rows.map((r) => this.csvLine(r)).join(''));
  }

  write(row: MetricRow): void {
    appendFileSync(this.jsonlPath, JSON.stringify(row) + '\n');
    appendFileSync(this.csvPath, this.csvLine(row));
  }

  /** Every row written so far (used for the learning curve). */
  rows(): MetricRow[] {
    if (!existsSync(this.jsonlPath)) return [];
    return readFileSync(this.jsonlPath, 'utf8')
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .map((l) => JSON.parse(l) as MetricRow);
  }

  private csvLine(row: MetricRow): string {
    return this.columns.map((c) => formatCell(row[c])).join(',') + '\n';
  }
}

function formatCell(v: number | string | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6);
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
