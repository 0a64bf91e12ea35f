/* ECharts renderers. A chart is an element with data-chart="NAME" and data-source="ID of a
 * json_script element"; translated labels come from data-label-* attributes. Loaded after
 * echarts.min.js on the pages that draw charts (no inline scripts: see app.js). */
(function () {
  "use strict";

  function data(el) {
    var src = document.getElementById(el.dataset.source);
    return src ? JSON.parse(src.textContent) : null;
  }
  function go(url) { if (url) { window.location.href = url; } }
  var charts = [];
  function init(el) { var c = echarts.init(el); charts.push(c); return c; }

  var renderers = {
    // A device's readings: one line per channel and a dashed line of its maxima.
    device: function (el, d) {
      if (!d.channels.length) { return; }
      var series = [];
      var maxLabel = el.dataset.labelMax || "max";
      d.channels.forEach(function (c) {
        series.push({name: c.label, type: "line", showSymbol: false, data: c.points.map(function (p) { return [p[0], p[2]]; })});
        series.push({name: c.label + " " + maxLabel, type: "line", showSymbol: false, lineStyle: {type: "dashed", width: 1},
                     data: c.points.map(function (p) { return [p[0], p[3]]; })});
      });
      init(el).setOption({tooltip: {trigger: "axis"}, legend: {type: "scroll"}, grid: {left: 40, right: 20, top: 40, bottom: 30},
                          xAxis: {type: "time"}, yAxis: {type: "value", scale: true}, series: series});
    },
    publicity: function (el, d) {
      init(el).setOption({
        tooltip: {trigger: "axis"}, legend: {top: 0}, grid: {left: 40, right: 10, top: 60, bottom: 30},
        xAxis: {type: "category", data: d.months}, yAxis: {type: "value", minInterval: 1},
        series: d.series.map(function (s) { return {name: s.name, type: "bar", stack: "all", data: s.data}; })
      });
    },
    "risk-history": function (el, d) {
      init(el).setOption({tooltip: {trigger: "axis"}, xAxis: {type: "category", data: d.days},
                          yAxis: {type: "value", min: 0, max: 100}, series: [{type: "line", step: "end", data: d.scores}]});
    },
    outcomes: function (el, rows) {
      var L = el.dataset;
      init(el).setOption({
        tooltip: {trigger: "axis"}, legend: {}, xAxis: {type: "category", data: rows.map(function (r) { return r.label; })},
        yAxis: {type: "value", minInterval: 1},
        series: [{name: L.labelFires, type: "bar", data: rows.map(function (r) { return r.fires; })},
                 {name: L.labelDeaths, type: "bar", data: rows.map(function (r) { return r.deaths; })},
                 {name: L.labelMajorOpen, type: "line", data: rows.map(function (r) { return r.major_open_end; })}]
      });
    },
    "cockpit-risk": function (el, d) {
      var c = init(el);
      c.setOption({tooltip: {trigger: "item"}, series: [{type: "pie", radius: ["40%", "70%"], data: d.risk}]});
      c.on("click", function (p) { go(p.data.url); });
    },
    "cockpit-category": function (el, d) {
      var c = init(el);
      c.setOption({tooltip: {}, grid: {left: 80, right: 10, top: 10, bottom: 20}, xAxis: {type: "value", minInterval: 1},
                   yAxis: {type: "category", data: d.category.labels}, series: [{type: "bar", data: d.category.values}]});
      c.on("click", function (p) { go(d.category.urls[p.dataIndex]); });
    },
    "cockpit-trend": function (el, d) {
      var L = el.dataset;
      init(el).setOption({
        tooltip: {trigger: "axis"}, legend: {data: [L.labelFound, L.labelClosed, L.labelFires]},
        grid: {left: 40, right: 10, top: 30, bottom: 20}, xAxis: {type: "category", data: d.trend.months},
        yAxis: {type: "value", minInterval: 1},
        series: [{name: L.labelFound, type: "line", data: d.trend.found}, {name: L.labelClosed, type: "line", data: d.trend.closed},
                 {name: L.labelFires, type: "bar", data: d.trend.fires}]
      });
    },
    "cockpit-electrical": function (el, d) {
      if (!d.electrical) { return; }
      var L = el.dataset;
      var c = init(el);
      c.setOption({tooltip: {trigger: "axis"}, legend: {data: [L.labelMax, L.labelMean]}, grid: {left: 40, right: 10, top: 30, bottom: 20},
                   xAxis: {type: "category", data: d.electrical.hours}, yAxis: {type: "value"},
                   series: [{name: L.labelMax, type: "line", data: d.electrical.max}, {name: L.labelMean, type: "line", data: d.electrical.mean}]});
      c.on("click", function () { go(d.electrical.url); });
    }
  };

  function render() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var fn = renderers[el.dataset.chart];
      var d = data(el);
      if (fn && d) { fn(el, d); }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", render); } else { render(); }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
