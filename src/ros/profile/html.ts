// The profile as one self-contained HTML file (opens from file://, fetches nothing): the context header, the
// percentile table and counts, and Chart.js charts — per-stage stacked bar, percentile curves on a 1/(1−p) axis,
// latency and loop period over time, CPU and RSS. Chart.js (MIT, ~210 kB minified) is inlined; the report's JSON is
// embedded and the page draws from it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { STAGE_MEANING, TRIP_STAGES } from './analyze.ts';
import type { ProfileReport } from './report.ts';

let chartJs: string | undefined;

function chartLibrary(): string {
  if (chartJs === undefined) {
    // the package's exports map hides dist/; its main entry sits beside the UMD build
    const path = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
    chartJs = readFileSync(path, 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '');
  }
  return chartJs;
}

/** Text safe inside a <script> element. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

export function renderHtml(report: ProfileReport): string {
  const c = report.context;
  const title = `onestep profile — ${c.model ? `${c.model.task} ${c.model.algorithm}` : c.topics.command} — ${c.createdAt}`;
  const data = scriptSafe(JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
  const meanings = scriptSafe(JSON.stringify(STAGE_MEANING));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1b1f24; background: #f6f7f9; }
  header { background: #1b1f24; color: #fff; padding: 14px 24px; }
  header h1 { font-size: 18px; margin: 0 0 4px; }
  header .sub { color: #c9d1d9; font-size: 13px; }
  main { padding: 16px 24px; display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
  section { background: #fff; border: 1px solid #d8dee4; border-radius: 6px; padding: 12px 16px; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { padding: 3px 8px; border-bottom: 1px solid #eaeef2; text-align: right; white-space: nowrap; }
  th:first-child, td:first-child { text-align: left; }
  #counts td:last-child { white-space: normal; }
  td.note { text-align: left; white-space: normal; color: #57606a; font-size: 12px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
  dt { color: #57606a; } dd { margin: 0; word-break: break-all; }
  .chart { position: relative; height: 300px; }
  .warn { color: #9a6700; font-weight: 600; } .bad { color: #cf222e; font-weight: 600; }
</style>
</head>
<body>
<header><h1>${esc(title)}</h1><div class="sub" id="subtitle"></div></header>
<main>
  <section><h2>Context</h2><dl id="context"></dl></section>
  <section><h2>Counts</h2><table id="counts"></table></section>
  <section class="wide"><h2>Latency (ms)</h2><table id="percentiles"></table></section>
  <section class="wide"><h2>Where the time goes: stages at p50 and mean (ms)</h2><div class="chart" style="height:180px"><canvas id="stages"></canvas></div></section>
  <section><h2>Percentiles (x: 1/(1−p), log)</h2><div class="chart"><canvas id="percentile"></canvas></div></section>
  <section><h2>End-to-end latency over time</h2><div class="chart"><canvas id="latency"></canvas></div></section>
  <section><h2>Loop period over time</h2><div class="chart"><canvas id="period"></canvas></div></section>
  <section><h2>CPU and memory</h2><div class="chart"><canvas id="resources"></canvas></div></section>
</main>
<script id="report-data" type="application/json">${data}</script>
<script>${scriptSafe(chartLibrary())}</script>
<script>
(function () {
  'use strict';
  var r = JSON.parse(document.getElementById('report-data').textContent);
  var MEANING = ${meanings};
  var STAGES = ${JSON.stringify(TRIP_STAGES)};
  var COLORS = ['#8250df', '#0969da', '#1a7f37', '#cf222e', '#bf8700', '#0550ae', '#953800', '#57606a'];
  var c = r.context;
  function ms(us) { return us === null || us === undefined ? '–' : (us / 1000).toFixed(3); }
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
  function row(table, cells, head) { var tr = el('tr'); cells.forEach(function (x) { var td = el(head ? 'th' : 'td'); if (x && x.nodeType) td.appendChild(x); else td.textContent = x; tr.appendChild(td); }); table.appendChild(tr); return tr; }

  document.getElementById('subtitle').textContent = (c.source === 'recording' ? 'recording ' + c.recording : 'live ' + c.transport + ' graph') +
    ' · ' + c.pacing + (c.rateHz ? ' at ' + c.rateHz + ' Hz' : '') + ' · ' + c.clock + ' clock · matched by ' + r.matching;
  var ctx = document.getElementById('context');
  var m = c.machine;
  var items = [
    ['machine', m.hostname + ': ' + m.cpu + ', ' + m.cores + ' cores, ' + m.memoryGiB.toFixed(0) + ' GiB, ' + m.os],
    ['load average', m.loadAverage.start.map(function (x) { return x.toFixed(2); }).join(' ') + ' → ' + m.loadAverage.end.map(function (x) { return x.toFixed(2); }).join(' ')],
    ['versions', 'Node ' + c.versions.node + ', onnxruntime-node ' + c.versions.onnxruntime + ', onestep ' + c.versions.onestep],
    ['model', c.model ? c.model.path + ' (' + c.model.algorithm + ', ' + c.model.task + ', ' + c.model.trainingSteps + ' steps)' : '–'],
    ['model sha256', c.model ? c.model.sha256 : '–'],
    ['transport', c.transport],
    ['observation', c.topics.observation + ' [' + c.topics.observationType + '] ' + c.qos.observation],
    ['command', c.topics.command + ' [' + c.topics.commandType + '] ' + c.qos.command],
    ['node timings', c.nodeTimings ? (c.topics.timings || 'yes') : 'not available'],
    ['training period', r.trainingPeriodMs === null ? 'unknown' : r.trainingPeriodMs + ' ms'],
    ['warm-up cut', c.warmupS + ' s'],
    ['created', c.createdAt]
  ];
  (c.notes || []).forEach(function (n) { items.push(['note', n]); });
  items.forEach(function (kv) { ctx.appendChild(el('dt', kv[0])); ctx.appendChild(el('dd', kv[1])); });

  var counts = document.getElementById('counts');
  var k = r.counts, t = r.thresholdsUs;
  row(counts, ['', 'count', ''], true);
  row(counts, ['observations (after warm-up)', String(k.observations), k.warmupObservations + ' cut as warm-up']);
  row(counts, ['commands', String(k.commands), '']);
  row(counts, ['matched', String(k.matched), '']);
  var late = row(counts, ['late (> ' + ms(t.late) + ' ms)', String(k.late), (100 * k.late / Math.max(1, k.matched)).toFixed(2) + ' %']);
  var tooLate = row(counts, ['too late (> ' + ms(t.tooLate) + ' ms)', String(k.tooLate), (100 * k.tooLate / Math.max(1, k.matched)).toFixed(2) + ' %']);
  var lost = row(counts, ['lost', String(k.lost), (100 * k.lost / Math.max(1, k.observations)).toFixed(2) + ' %']);
  if (k.late > 0) late.className = 'warn';
  if (k.tooLate > 0) tooLate.className = 'bad';
  if (k.lost > 0) lost.className = 'bad';
  var j = r.jitter;
  if (j.referenceUs !== null) {
    var jr = row(counts, ['period / ' + j.reference + ' (' + ms(j.referenceUs) + ' ms)', j.meanRatio === null ? '–' : '×' + j.meanRatio.toFixed(3), j.offBy10Pct + ' periods off by > 10 %']);
    if (j.meanRatio !== null && Math.abs(j.meanRatio - 1) > 0.05) jr.className = 'warn';
  }
  var res = r.resources;
  row(counts, ['profiler CPU / RSS', res.profiler.cpuPctMean.toFixed(1) + ' %', res.profiler.rssMbMax.toFixed(0) + ' MB']);
  if (res.node) row(counts, ['node (pid ' + res.node.pid + ') CPU / RSS', res.node.cpuPctMean.toFixed(1) + ' %', res.node.rssMbMax.toFixed(0) + ' MB']);
  if (res.nodeEventLoopDelayMs) { var nl = res.nodeEventLoopDelayMs; row(counts, ['node event-loop delay p50 / p99 / max', nl.p50.toFixed(3), nl.p99.toFixed(3) + ' / ' + nl.max.toFixed(3) + ' ms']); }
  if (res.profiler.eventLoopDelayUs) { var e = res.profiler.eventLoopDelayUs; row(counts, ['profiler event-loop delay p50 / p99 / max', ms(e.p50), ms(e.p99) + ' / ' + ms(e.max) + ' ms']); }

  var pt = document.getElementById('percentiles');
  row(pt, ['', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean', ''], true);
  function drow(name, d, note) { if (!d || !d.count) return; var tr = row(pt, [name, String(d.count), ms(d.p50), ms(d.p90), ms(d.p99), ms(d.p999), ms(d.max), ms(d.mean), '']); tr.lastChild.className = 'note'; tr.lastChild.textContent = note || ''; }
  drow('end to end', r.e2e, 'observation published → command received');
  STAGES.forEach(function (s) { drow('  ' + s, r.stages[s], MEANING[s]); });
  drow('node publish call', r.publish, 'RTPS write to every reader, sendmsg included (overlaps wire_out: the kernel may deliver before the call returns)');
  drow(r.periodOf === 'inference passes' ? 'policy period' : 'loop period', r.period, r.periodOf === 'inference passes' ? 'between commands of consecutive inference passes (the node interpolates in between)' : 'between consecutive commands');

  Chart.defaults.animation = false;
  Chart.defaults.font.size = 12;
  var present = STAGES.filter(function (s) { return r.stages[s] && r.stages[s].count; });

  new Chart(document.getElementById('stages'), {
    type: 'bar',
    data: {
      labels: ['p50', 'mean'],
      datasets: present.map(function (s, i) {
        return { label: s, data: [r.stages[s].p50 / 1000, r.stages[s].mean / 1000], backgroundColor: COLORS[i % COLORS.length] };
      }).concat(present.length ? [] : [{ label: 'end to end (no stage timings)', data: [r.e2e.p50 / 1000, r.e2e.mean / 1000], backgroundColor: '#57606a' }])
    },
    options: {
      indexAxis: 'y', maintainAspectRatio: false,
      scales: { x: { stacked: true, title: { display: true, text: 'ms (end to end p50 ' + ms(r.e2e.p50) + ', mean ' + ms(r.e2e.mean) + ')' } }, y: { stacked: true } },
      plugins: { tooltip: { callbacks: { footer: function (items) { return items.length ? MEANING[items[0].dataset.label] || '' : ''; } } } }
    }
  });

  // x = 1/(1−p); the maximum (p = 100) sits at the sample count, as HdrHistogram plots do. y below 1 µs shows as 1 µs.
  function curve(d) { return (d && d.curve || []).map(function (p) { return { x: p[0] >= 100 ? Math.max(2, d.count) : 1 / (1 - p[0] / 100), y: Math.max(0.001, p[1] / 1000) }; }); }
  var xMax = Math.max(10, r.e2e.count || 0);
  var pctSets = [{ label: 'end to end', data: curve(r.e2e), borderColor: '#1b1f24', borderWidth: 2.5, pointRadius: 0 }];
  present.forEach(function (s, i) { pctSets.push({ label: s, data: curve(r.stages[s]), borderColor: COLORS[i % COLORS.length], borderWidth: 1.2, pointRadius: 0 }); });
  var TICKS = { 2: '50%', 10: '90%', 100: '99%', 1000: '99.9%', 10000: '99.99%', 100000: '99.999%', 1000000: '99.9999%' };
  new Chart(document.getElementById('percentile'), {
    type: 'line',
    data: { datasets: pctSets },
    options: {
      maintainAspectRatio: false, parsing: false,
      scales: {
        x: { type: 'logarithmic', min: 2, max: xMax, title: { display: true, text: 'percentile' },
             afterBuildTicks: function (axis) { axis.ticks = Object.keys(TICKS).map(Number).filter(function (v) { return v <= xMax * 1.0001; }).map(function (v) { return { value: v }; }); },
             ticks: { callback: function (v) { return TICKS[v] || ''; } } },
        y: { type: 'logarithmic', min: 0.001, title: { display: true, text: 'ms' } }
      }
    }
  });

  function points(series) { return series.map(function (p) { return { x: p[0], y: p[1] / 1000 }; }); }
  var lateLines = [
    { label: 'late ' + ms(t.late) + ' ms', data: [{ x: 0, y: t.late / 1000 }, { x: r.durationS, y: t.late / 1000 }], borderColor: '#bf8700', borderDash: [6, 4], pointRadius: 0, borderWidth: 1 },
    { label: 'too late ' + ms(t.tooLate) + ' ms', data: [{ x: 0, y: t.tooLate / 1000 }, { x: r.durationS, y: t.tooLate / 1000 }], borderColor: '#cf222e', borderDash: [6, 4], pointRadius: 0, borderWidth: 1 }
  ];
  new Chart(document.getElementById('latency'), {
    type: 'scatter',
    data: { datasets: [{ label: 'end to end', data: points(r.series.latency), backgroundColor: 'rgba(9,105,218,0.55)', pointRadius: 1.2 }].concat(lateLines.map(function (d) { d.type = 'line'; return d; })) },
    options: { maintainAspectRatio: false, parsing: false, scales: { x: { type: 'linear', title: { display: true, text: 's since start (warm-up cut)' } }, y: { type: 'logarithmic', title: { display: true, text: 'ms' } } } }
  });

  var periodSets = [{ label: 'period', data: points(r.series.period), backgroundColor: 'rgba(26,127,55,0.55)', pointRadius: 1.2 }];
  if (j.referenceUs !== null) periodSets.push({ type: 'line', label: j.reference + ' ' + ms(j.referenceUs) + ' ms', data: [{ x: 0, y: j.referenceUs / 1000 }, { x: r.durationS, y: j.referenceUs / 1000 }], borderColor: '#cf222e', borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 });
  new Chart(document.getElementById('period'), {
    type: 'scatter',
    data: { datasets: periodSets },
    options: { maintainAspectRatio: false, parsing: false, scales: { x: { type: 'linear', title: { display: true, text: 's since start' } }, y: { title: { display: true, text: 'ms' } } } }
  });

  var rs = res.samples || [];
  var resSets = [
    { label: 'profiler CPU %', data: rs.map(function (s) { return { x: s.t, y: s.profilerCpuPct }; }), borderColor: '#0969da', yAxisID: 'cpu', pointRadius: 0 },
    { label: 'profiler RSS MB', data: rs.map(function (s) { return { x: s.t, y: s.profilerRssMb }; }), borderColor: '#0969da', borderDash: [4, 3], yAxisID: 'rss', pointRadius: 0 }
  ];
  if (res.node) {
    resSets.push({ label: 'node CPU %', data: rs.filter(function (s) { return s.nodeCpuPct !== undefined; }).map(function (s) { return { x: s.t, y: s.nodeCpuPct }; }), borderColor: '#8250df', yAxisID: 'cpu', pointRadius: 0 });
    resSets.push({ label: 'node RSS MB', data: rs.filter(function (s) { return s.nodeRssMb !== undefined; }).map(function (s) { return { x: s.t, y: s.nodeRssMb }; }), borderColor: '#8250df', borderDash: [4, 3], yAxisID: 'rss', pointRadius: 0 });
  }
  new Chart(document.getElementById('resources'), {
    type: 'line',
    data: { datasets: resSets },
    options: { maintainAspectRatio: false, parsing: false, scales: { x: { type: 'linear', title: { display: true, text: 's' } }, cpu: { position: 'left', beginAtZero: true, title: { display: true, text: 'CPU %' } }, rss: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'RSS MB' } } } }
  });
  document.body.setAttribute('data-rendered', String(document.querySelectorAll('canvas').length));
})();
</script>
</body>
</html>
`;
}
