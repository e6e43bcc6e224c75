/**
 * The script report.html runs in the browser: it reads the report from the page and draws the
 * charts with Chart.js (inlined beside it). Plain ES2017 in a string, since it runs in the page,
 * not in Node; it sets `window.__chartsDrawn` to the number of charts drawn, for the browser test.
 */
/**
 * Shared by every report page's script: static charts, and `chart(id, config)` drawing into a
 * canvas that exists, counting in `drawn` what it drew.
 */
export const CHART_SETUP = String.raw`  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  var drawn = 0;
  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    new Chart(canvas, config);
    drawn++;
  }
`;

export const CHARTS_SCRIPT = String.raw`
(function () {
  var report = JSON.parse(document.getElementById('report-data').textContent);
  var points = report.timeline.points;
  var endS = report.run.durationMs / 1000;
  var windows = report.faults.map(function (f) {
    return { name: f.name, start: f.start / 1000, end: f.end === null ? endS : f.end / 1000 };
  });
  var palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];

  // Fault windows as shaded bands on every chart whose x axis is run time.
  var faultBands = {
    id: 'faultBands',
    beforeDatasetsDraw: function (chart, _args, opts) {
      if (!opts || !opts.enabled || windows.length === 0) return;
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      ctx.save();
      ctx.beginPath();
      ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
      ctx.clip();
      windows.forEach(function (w) {
        var x0 = x.getPixelForValue(w.start), x1 = x.getPixelForValue(w.end);
        ctx.fillStyle = 'rgba(220, 38, 38, 0.12)';
        ctx.fillRect(x0, area.top, Math.max(1, x1 - x0), area.bottom - area.top);
        ctx.fillStyle = 'rgba(153, 27, 27, 0.9)';
        ctx.font = '11px sans-serif';
        ctx.fillText(w.name, x0 + 3, area.top + 12);
      });
      ctx.restore();
    }
  };
  Chart.register(faultBands);
${CHART_SETUP}  function series(field) {
    return points.map(function (p) { return { x: p.t, y: p[field] }; });
  }
  function line(label, data, i, extra) {
    var d = { label: label, data: data, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length], pointRadius: 0, borderWidth: 1.5, spanGaps: false };
    for (var k in extra || {}) d[k] = extra[k];
    return d;
  }
  function timeAxis() {
    return { type: 'linear', min: 0, max: Math.max(endS, points.length ? points[points.length - 1].t + report.timeline.bucketSeconds : 1), title: { display: true, text: 'run time (s)' } };
  }
  function timeOptions(yTitle, extraScales) {
    var scales = { x: timeAxis(), y: { beginAtZero: true, title: { display: true, text: yTitle } } };
    for (var k in extraScales || {}) scales[k] = extraScales[k];
    return { parsing: true, interaction: { mode: 'nearest', intersect: false }, scales: scales, plugins: { faultBands: { enabled: true } } };
  }

  chart('chart-latency-time', {
    type: 'line',
    data: { datasets: [line('e2e p50', series('e2eP50'), 0), line('e2e p90', series('e2eP90'), 2), line('e2e p99', series('e2eP99'), 1), line('e2e max', series('e2eMax'), 6, { borderDash: [4, 3] })] },
    options: timeOptions('latency (ms)')
  });

  // HDR percentile plot: x = 1 / (1 - percentile), so each added nine gets the same width.
  var stageNames = Object.keys(report.percentiles).filter(function (s) { return report.percentiles[s].length > 0; });
  chart('chart-distribution', {
    type: 'line',
    data: {
      datasets: stageNames.map(function (s, i) {
        return line(s, report.percentiles[s].map(function (pt) {
          return { x: pt[0] >= 100 ? 1e6 : 1 / (1 - pt[0] / 100), y: pt[1] };
        }), i, { pointRadius: 2 });
      })
    },
    options: {
      scales: {
        x: {
          type: 'logarithmic', min: 1, max: 1e6, title: { display: true, text: 'percentile' },
          afterBuildTicks: function (axis) { axis.ticks = [1, 10, 100, 1000, 10000, 100000, 1e6].map(function (v) { return { value: v }; }); },
          ticks: { callback: function (v) { return v >= 1e6 ? 'max' : (100 * (1 - 1 / v)).toPrecision(6).replace(/\.?0+$/, '') + '%'; } }
        },
        y: { type: 'logarithmic', title: { display: true, text: 'latency (ms)' } }
      },
      plugins: { faultBands: { enabled: false } }
    }
  });

  var pipeline = ['invokeToAck', 'ackToCommit', 'commitToPublish', 'publishToReceive'];
  var pcts = [['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99'], ['p99.9', 'p999']];
  chart('chart-stages', {
    type: 'bar',
    data: {
      labels: pcts.map(function (p) { return p[0]; }),
      datasets: pipeline.map(function (s, i) {
        var st = report.latency[s] || {};
        return { label: s, data: pcts.map(function (p) { return st[p[1]] || 0; }), backgroundColor: palette[i] };
      })
    },
    options: { indexAxis: 'y', scales: { x: { stacked: true, title: { display: true, text: 'ms (each stage at its own percentile)' } }, y: { stacked: true } }, plugins: { faultBands: { enabled: false } } }
  });

  chart('chart-throughput', {
    type: 'line',
    data: { datasets: [line('operations/s', series('opsPerSec'), 0), line('deliveries/s', series('deliveriesPerSec'), 2, { yAxisID: 'y2' })] },
    options: timeOptions('operations/s', { y2: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'deliveries/s' } } })
  });

  chart('chart-errors', {
    type: 'bar',
    data: { datasets: [
      { label: 'errors', data: series('errors'), backgroundColor: palette[1] },
      { label: 'dropped', data: series('dropped'), backgroundColor: palette[4] }
    ] },
    options: timeOptions('per bucket', {})
  });

  chart('chart-health', {
    type: 'line',
    data: { datasets: [line('event-loop delay p99 (ms)', series('eventLoopDelayP99Ms'), 3), line('CPU %', series('cpuPercent'), 5, { yAxisID: 'y2' })] },
    options: timeOptions('ms', { y2: { position: 'right', beginAtZero: true, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: 'CPU %' } } })
  });

  window.__chartsDrawn = drawn;
})();
`;
