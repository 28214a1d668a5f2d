// The plots of enos's report pages: a CDF of each bench run's durations, per atomic action,
// the metrics over time with the experiment's events drawn on them, and a campaign's medians
// against its parameter. Data: the JSON of
// <script id="plot-data">. Drawn with uPlot (inlined before this script).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("plot-data").textContent);
  var palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  var eventColours = {phase: "#555", bench: "#1f77b4", tc: "#2ca02c", fault: "#d62728"};

  function colour(i) { return palette[i % palette.length]; }

  function width(el) { return Math.max(320, Math.min(el.clientWidth || 800, 1300)); }

  // One CDF per action: the fraction of iterations that took at most x seconds.
  function cdf(el, actions) {
    var names = Object.keys(actions).filter(function (n) { return actions[n].length > 0; });
    if (!names.length) { el.textContent = "no successful iteration to plot"; return; }
    var xs = [];
    names.forEach(function (n) { xs = xs.concat(actions[n]); });
    xs.sort(function (a, b) { return a - b; });
    xs = xs.filter(function (v, i) { return i === 0 || v !== xs[i - 1]; });
    var columns = [xs];
    names.forEach(function (n) {
      var values = actions[n], j = 0, ys = new Array(xs.length);
      for (var i = 0; i < xs.length; i++) {
        while (j < values.length && values[j] <= xs[i]) { j++; }
        ys[i] = j / values.length;
      }
      columns.push(ys);
    });
    var series = [{label: "seconds"}];
    names.forEach(function (n, i) {
      series.push({label: n, stroke: colour(i), width: 2, points: {show: false},
                   paths: uPlot.paths.stepped({align: 1})});
    });
    new uPlot({
      width: width(el), height: 260, series: series,
      scales: {x: {time: false}, y: {range: [0, 1]}},
      axes: [{label: "duration (s)", values: function (u, ticks) {
                return ticks.map(function (v) { return +v.toPrecision(4); }); }},
             {label: "fraction of iterations"}]
    }, columns, el);
  }

  // Vertical lines at the events (phases, bench runs, tc changes, faults).
  function eventLines(events) {
    return {hooks: {draw: [function (u) {
      var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
      ctx.save();
      ctx.font = Math.round(10 * devicePixelRatio) + "px sans-serif";
      events.forEach(function (ev) {
        if (ev.at === null || ev.at < u.scales.x.min || ev.at > u.scales.x.max) { return; }
        var x = Math.round(u.valToPos(ev.at, "x", true));
        ctx.strokeStyle = eventColours[ev.kind] || "#999";
        ctx.setLineDash(ev.event === "end" ? [4, 4] : []);
        ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
        if (ev.event !== "end") {
          ctx.fillStyle = ctx.strokeStyle;
          ctx.fillText(ev.kind + " " + ev.name, x + 3, top + 12 * devicePixelRatio);
        }
      });
      ctx.restore();
    }]}};
  }

  function timeSeries(el, metric, events) {
    var series = metric.series || [];
    if (!series.length) { el.textContent = "no samples"; return; }
    var times = {};
    series.forEach(function (s) { s.points.forEach(function (p) { times[p[0]] = true; }); });
    var xs = Object.keys(times).map(Number).sort(function (a, b) { return a - b; });
    var index = {};
    xs.forEach(function (t, i) { index[t] = i; });
    var columns = [xs], specs = [{}];
    series.forEach(function (s, i) {
      var ys = new Array(xs.length).fill(null);
      s.points.forEach(function (p) { ys[index[p[0]]] = p[1]; });
      columns.push(ys);
      specs.push({label: (s.labels.service || "") + " " + (s.labels.host || ""),
                  stroke: colour(i), width: 1.5, spanGaps: false});
    });
    new uPlot({
      width: width(el), height: 280, series: specs, plugins: [eventLines(events)],
      axes: [{}, {label: metric.unit, size: 70}]
    }, columns, el);
  }

  // A campaign: each action's median (and the repeats' min and max) against a parameter.
  function line(el, plot) {
    var columns = [plot.x], series = [{label: plot.x_label}];
    plot.series.forEach(function (s, i) {
      columns.push(s.values);
      series.push({label: s.label, stroke: colour(i === 0 ? 0 : 7), width: i === 0 ? 2 : 1,
                   dash: i === 0 ? undefined : [5, 5]});
    });
    new uPlot({
      width: width(el), height: 260, series: series, scales: {x: {time: false}},
      axes: [{label: plot.x_label, values: function (u, ticks) {
                // Points are numbered: a tick between two points has no label.
                return ticks.map(function (v) {
                  if (plot.x_label !== "point") { return +v.toPrecision(4); }
                  return Number.isInteger(v) ? v : "";
                }); }},
             {label: "seconds", size: 70}]
    }, columns, el);
  }

  document.querySelectorAll("[data-line]").forEach(function (el) {
    var plot = (data.lines || {})[el.getAttribute("data-line")];
    if (plot && plot.x.length) { line(el, plot); }
  });
  document.querySelectorAll("[data-cdf]").forEach(function (el) {
    cdf(el, data.runs[el.getAttribute("data-cdf")] || {});
  });
  var metrics = (data.metrics && data.metrics.series) || {};
  document.querySelectorAll("[data-metric]").forEach(function (el) {
    var metric = metrics[el.getAttribute("data-metric")];
    if (metric) { timeSeries(el, metric, data.events); }
  });
})();
