/* 监督看板 charts. Data comes from the page's json_script element (#dashboard-data); no inline script, so a
   strict Content-Security-Policy stays possible. Without JavaScript (or ECharts) the tables beside each
   chart show the same numbers, and the chart boxes stay hidden. */
(function () {
  "use strict";

  function readData() {
    var el = document.getElementById("dashboard-data");
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function show(id) {
    var box = document.getElementById(id);
    if (!box) { return null; }
    box.hidden = false;
    return window.echarts.init(box, null, { renderer: "canvas" });
  }

  function go(url) { if (url) { window.location.href = url; } }

  var SEVERITY_COLORS = { block: "#b42318", warn: "#d97706", info: "#1d4ed8" };

  function severityChart(data) {
    var total = data.severity.reduce(function (n, s) { return n + s.value; }, 0);
    if (!total) { return; }
    var chart = show("chart-severity");
    if (!chart) { return; }
    chart.setOption({
      tooltip: { trigger: "item", formatter: "{b}：{c} 条（{d}%）" },
      legend: { bottom: 0 },
      series: [{
        type: "pie",
        radius: ["40%", "70%"],
        label: { formatter: "{b} {c}" },
        data: data.severity.map(function (s) {
          return { name: s.name, value: s.value, url: s.url, itemStyle: { color: SEVERITY_COLORS[s.code] } };
        })
      }]
    });
    chart.on("click", function (p) { go(p.data && p.data.url); });
    return chart;
  }

  function rulesChart(data) {
    if (!data.rules.labels.length) { return; }
    var chart = show("chart-rules");
    if (!chart) { return; }
    chart.setOption({
      tooltip: {
        trigger: "axis",
        formatter: function (items) {
          var i = items[0].dataIndex;
          return data.rules.labels[i] + " " + data.rules.titles[i] + "：" + data.rules.values[i] + " 条";
        }
      },
      grid: { left: 40, right: 16, top: 16, bottom: 40 },
      xAxis: { type: "category", data: data.rules.labels, axisLabel: { interval: 0, rotate: data.rules.labels.length > 12 ? 45 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: data.rules.values, itemStyle: { color: "#9b1c1c" } }]
    });
    chart.on("click", function (p) { go(data.rules.urls[p.dataIndex]); });
    return chart;
  }

  function stagesChart(data) {
    if (!data.stages.batches.length || !data.stages.series.length) { return; }
    var chart = show("chart-stages");
    if (!chart) { return; }
    chart.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (v) { return v + " 天"; } },
      legend: { top: 0 },
      grid: { left: 110, right: 24, top: 32, bottom: 24 },
      xAxis: { type: "value", name: "天" },
      yAxis: { type: "category", data: data.stages.batches, inverse: true },
      series: data.stages.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "stages", data: s.data, label: { show: false } };
      })
    });
    return chart;
  }

  function start() {
    var data = readData();
    if (!data || !window.echarts) { return; }
    var charts = [severityChart(data), rulesChart(data), stagesChart(data)].filter(Boolean);
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
