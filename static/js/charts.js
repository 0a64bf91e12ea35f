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
    // A device's readings: one panel per unit (mA, °C, A, V), each with its threshold lines; per
    // channel the mean (solid) and the minimum and maximum of each hour or day (dashed, one legend
    // entry for the three); where an alarm was raised, a marker that opens it.
    device: function (el, d) {
      if (!d.channels.length) { return; }
      var L = el.dataset;
      var byName = {};
      d.channels.forEach(function (c) { byName[c.name] = c; });
      var panels = d.panels && d.panels.length ? d.panels : [{unit: "", label: "", channels: d.channels.map(function (c) { return c.name; }), thresholds: []}];
      el.classList.remove("fs-chart-320");
      el.innerHTML = "";
      var linked = [];
      panels.forEach(function (panel, i) {
        var box = document.createElement("div");
        box.className = "fs-chart-panel";
        box.dataset.unit = panel.unit;
        var title = document.createElement("div");
        title.className = "small fw-semibold";
        title.textContent = panel.label;
        var area = document.createElement("div");
        area.className = "fs-chart-240";
        box.appendChild(title); box.appendChild(area); el.appendChild(box);
        var top = -Infinity, bottom = Infinity;
        var series = [];
        panel.channels.forEach(function (name, n) {
          var c = byName[name];
          if (!c) { return; }
          var pick = function (k) { return c.points.map(function (p) { return [p[0], p[k]]; }); };
          c.points.forEach(function (p) { if (p[3] != null) { top = Math.max(top, p[3]); } if (p[1] != null) { bottom = Math.min(bottom, p[1]); } });
          var alarms = (d.alarms || []).filter(function (a) { return a.channel === name && a.value != null; });
          series.push({name: c.label, type: "line", showSymbol: false, data: pick(2), z: 3,
                       markPoint: alarms.length ? {symbol: "pin", symbolSize: 36, itemStyle: {color: "#d9363e"},
                         label: {formatter: "!", color: "#fff"},
                         data: alarms.map(function (a) { return {name: a.label, coord: [a.time, a.value], value: a.value, url: a.url}; })} : undefined});
          series.push({name: c.label, type: "line", showSymbol: false, lineStyle: {type: "dashed", width: 1}, data: pick(3), z: 2});
          series.push({name: c.label, type: "line", showSymbol: false, lineStyle: {type: "dotted", width: 1}, data: pick(1), z: 2});
        });
        var lines = panel.thresholds.map(function (t) {
          top = Math.max(top, t.value); bottom = Math.min(bottom, t.value);
          return {yAxis: t.value, name: t.label, label: {formatter: (L.labelThreshold || "") + " " + t.value, position: "insideEndTop"},
                  lineStyle: {color: t.below ? "#f08c2b" : "#d9363e", type: "solid", width: 1.5}};
        });
        if (lines.length && series.length) { series[0].markLine = {symbol: "none", silent: true, data: lines}; }
        var chart = init(area);
        var pad = top > bottom ? (top - bottom) * 0.08 : 1;
        chart.setOption({
          animation: false,
          tooltip: {trigger: "axis", formatter: function (ps) {
            if (!ps.length) { return ""; }
            var rows = {}, out = [ps[0].axisValueLabel];
            ps.forEach(function (p) {
              var r = rows[p.seriesName] = rows[p.seriesName] || {};
              var k = p.seriesIndex % 3;
              r[k] = p.value[1];
              r.marker = r.marker || p.marker;
            });
            Object.keys(rows).forEach(function (name) {
              var r = rows[name];
              out.push(r.marker + name + ": " + r[0] + " (" + (L.labelMin || "min") + " " + r[2] + ", " + (L.labelMax || "max") + " " + r[1] + ")");
            });
            return out.join("<br>");
          }},
          legend: {top: 0, type: "plain"},
          grid: {left: 48, right: 16, top: panel.channels.length > 2 ? 56 : 36, bottom: 28},
          xAxis: {type: "time"},
          yAxis: {type: "value", min: isFinite(bottom) ? Math.floor(bottom - pad) : null,
                  max: isFinite(top) ? Math.ceil(top + pad) : null},
          series: series
        });
        chart.on("click", function (p) { if (p.componentType === "markPoint" && p.data && p.data.url) { go(p.data.url); } });
        linked.push(chart);
        box.dataset.thresholds = panel.thresholds.length;
        box.dataset.alarms = (d.alarms || []).filter(function (a) { return panel.channels.indexOf(a.channel) !== -1; }).length;
      });
      if (linked.length > 1) { echarts.connect(linked); }
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
