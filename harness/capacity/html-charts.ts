/**
 * The script capacity.html runs in the browser (plain ES2017 in a string): latency, throughput,
 * CPU and memory against the offered rate, with the knee and the SLO marked. It sets
 * `window.__chartsDrawn` for the browser test.
 */
import { CHART_SETUP } from '../report/html-charts.ts';

export const CAPACITY_CHARTS = [
  ['chart-latency-load', 'End-to-end latency vs offered load (knee marked)'],
  ['chart-throughput-load', 'Achieved vs offered throughput'],
  ['chart-cpu-load', 'CPU of each part vs offered load'],
  ['chart-memory-load', 'Memory (RSS) of each part vs offered load'],
] as const;

export const CAPACITY_SCRIPT = String.raw`
(function () {
  var r = JSON.parse(document.getElementById('capacity-data').textContent);
  var palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#be185d'];
  var users = r.settings.usersPerRoom;
  function series(u) {
    return r.steps.filter(function (s) { return s.usersPerRoom === u && !s.superseded; }).sort(function (a, b) { return a.targetRate - b.targetRate; });
  }
  var sloMs = null;
  (r.settings.slo.e2e_latency || []).forEach(function (e) {
    var text = typeof e === 'string' ? e : e.threshold;
    var m = /^\s*p\(\s*99\s*\)\s*<=?\s*([0-9.]+)/.exec(text);
    if (m) sloMs = Number(m[1]);
  });
  var knees = r.knees.filter(function (k) { return k.knee; }).map(function (k) { return { rate: k.knee.targetRate, users: k.usersPerRoom, fail: k.firstFailure ? k.firstFailure.targetRate : null }; });

  // Vertical marks at each knee, and the failing side shaded.
  Chart.register({
    id: 'kneeMarks',
    afterDatasetsDraw: function (chart, _a, opts) {
      if (!opts || !opts.enabled) return;
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      ctx.save();
      knees.forEach(function (k, i) {
        var px = x.getPixelForValue(k.rate);
        if (k.fail !== null) {
          ctx.fillStyle = 'rgba(220, 38, 38, 0.08)';
          var pf = x.getPixelForValue(k.fail);
          ctx.fillRect(pf, area.top, area.right - pf, area.bottom - area.top);
        }
        ctx.strokeStyle = '#15803d';
        ctx.lineWidth = 2;
        ctx.setLineDash([6, 4]);
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = '#15803d';
        ctx.font = 'bold 12px sans-serif';
        var label = 'knee ' + k.rate + ' ops/s' + (users.length > 1 ? ' (' + k.users + ' users/room)' : '');
        var w = ctx.measureText(label).width;
        // Near the right edge the label goes on the left of the line, so it is never cut off.
        var lx = px + 4 + w > area.right ? px - 4 - w : px + 4;
        ctx.fillText(label, lx, area.top + 14 + i * 14);
      });
      ctx.restore();
    }
  });
${CHART_SETUP}  function line(label, data, i, extra) {
    var d = { label: label, data: data, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length], pointRadius: 3, borderWidth: 1.5 };
    for (var k in extra || {}) d[k] = extra[k];
    return d;
  }
  var maxRate = Math.max.apply(null, r.steps.map(function (s) { return s.targetRate; }).concat([1]));
  function xAxis() { return { type: 'linear', min: 0, max: maxRate * 1.05, title: { display: true, text: 'offered load (ops/s)' } }; }
  function opts(yTitle, extraScales, yExtra) {
    var y = { beginAtZero: true, title: { display: true, text: yTitle } };
    for (var k in yExtra || {}) y[k] = yExtra[k];
    var scales = { x: xAxis(), y: y };
    for (var k2 in extraScales || {}) scales[k2] = extraScales[k2];
    return { scales: scales, plugins: { kneeMarks: { enabled: true } } };
  }
  var suffix = function (u) { return users.length > 1 ? ' (' + u + ' users/room)' : ''; };

  var lat = [];
  users.forEach(function (u, i) {
    var s = series(u);
    lat.push(line('e2e p50' + suffix(u), s.map(function (x) { return { x: x.targetRate, y: x.e2e.p50 }; }), 2 * i));
    lat.push(line('e2e p99' + suffix(u), s.map(function (x) { return { x: x.targetRate, y: x.e2e.p99 }; }), 2 * i + 1));
  });
  if (sloMs !== null) lat.push(line('SLO p99 < ' + sloMs + ' ms', [{ x: 0, y: sloMs }, { x: maxRate * 1.05, y: sloMs }], 6, { borderDash: [3, 3], pointRadius: 0 }));
  chart('chart-latency-load', { type: 'line', data: { datasets: lat }, options: opts('latency (ms, log scale)', {}, { type: 'logarithmic', beginAtZero: false }) });

  var thr = [];
  users.forEach(function (u, i) {
    var s = series(u);
    thr.push(line('achieved ops/s' + suffix(u), s.map(function (x) { return { x: x.targetRate, y: x.achieved.opsPerSec }; }), 2 * i));
    thr.push(line('deliveries/s' + suffix(u), s.map(function (x) { return { x: x.targetRate, y: x.achieved.deliveriesPerSec }; }), 2 * i + 2, { yAxisID: 'y2' }));
  });
  thr.push(line('offered', [{ x: 0, y: 0 }, { x: maxRate, y: maxRate }], 6, { borderDash: [3, 3], pointRadius: 0 }));
  chart('chart-throughput-load', { type: 'line', data: { datasets: thr }, options: opts('operations/s', { y2: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'deliveries/s' } } }) });

  var s0 = series(users[0]);
  function partSeries(field) {
    return r.parts.map(function (p, i) {
      return line(p.replace(/\s*\(.*\)$/, ''), s0.map(function (x) {
        var q = x.resources.parts.filter(function (y) { return y.part === p; })[0];
        return { x: x.targetRate, y: q ? q[field] : null };
      }), i);
    });
  }
  var cpu = partSeries('cpuAvgPercent');
  cpu.push(line('harness event loop busy %', s0.map(function (x) { return { x: x.targetRate, y: x.resources.harnessEluAvg * 100 }; }), 5, { borderDash: [5, 3] }));
  cpu.push(line('machine (all cores) %', s0.map(function (x) { return { x: x.targetRate, y: x.resources.machineCpuAvgPercent }; }), 6, { borderDash: [2, 2] }));
  chart('chart-cpu-load', { type: 'line', data: { datasets: cpu }, options: opts('% of one core (machine: of all cores)') });
  chart('chart-memory-load', { type: 'line', data: { datasets: partSeries('rssMaxMiB') }, options: opts('RSS (MiB)') });

  window.__chartsDrawn = drawn;
})();
`;
