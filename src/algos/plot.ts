// Learning curves as a small self-contained SVG: one line per series with an optional ±std band.
export interface CurveSeries {
  label: string;
  x: number[];
  y: number[];
  /** Half-width of the shaded band at each x (e.g. std over seeds). */
  band?: number[];
  color?: string;
}

export interface CurvePlot {
  title: string;
  xLabel: string;
  yLabel: string;
  series: CurveSeries[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  return String(Number(v.toPrecision(4)));
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderCurves(plot: CurvePlot, width = 640, height = 400): string {
  const m = { left: 64, right: 16, top: 36, bottom: 48 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const xs = plot.series.flatMap((s) => s.x);
  const ys = plot.series.flatMap((s) => s.y.flatMap((y, i) => (s.band ? [y - s.band[i], y + s.band[i]] : [y]))).filter(Number.isFinite);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = 0.05 * (y1 - y0);
  y0 -= pad;
  y1 += pad;
  x0 = Math.min(0, x0);
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * w;
  const sy = (y: number) => m.top + h - ((y - y0) / (y1 - y0)) * h;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(plot.title)}</text>`);
  for (const t of ticks(x0, x1)) {
    out.push(`<line x1="${sx(t).toFixed(1)}" y1="${m.top}" x2="${sx(t).toFixed(1)}" y2="${m.top + h}" stroke="#eee"/>`);
    out.push(`<text x="${sx(t).toFixed(1)}" y="${m.top + h + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of ticks(y0, y1)) {
    out.push(`<line x1="${m.left}" y1="${sy(t).toFixed(1)}" x2="${m.left + w}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.left + w / 2}" y="${height - 10}" text-anchor="middle">${esc(plot.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">${esc(plot.yLabel)}</text>`);
  plot.series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const pts = s.x.map((x, i) => [x, s.y[i]] as const).filter(([, y]) => Number.isFinite(y));
    if (s.band && pts.length > 1) {
      const upper = s.x.map((x, i) => `${sx(x).toFixed(1)},${sy(s.y[i] + s.band![i]).toFixed(1)}`);
      const lower = s.x.map((x, i) => `${sx(x).toFixed(1)},${sy(s.y[i] - s.band![i]).toFixed(1)}`).reverse();
      out.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.18" stroke="none"/>`);
    }
    if (pts.length) out.push(`<polyline points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    out.push(`<rect x="${m.left + 10}" y="${m.top + 8 + 16 * k}" width="14" height="3" fill="${color}"/>`);
    out.push(`<text x="${m.left + 30}" y="${m.top + 13 + 16 * k}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
