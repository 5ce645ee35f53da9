/* The dashboard's charts, drawn by Apache ECharts (vendored, no CDN) from the
 * json_script element "dashboard-charts" (projects.dashboard_charts). No inline code:
 * this file is all, so the page runs under `script-src 'self'`.
 *
 * A click on a bar opens the changelist filtered on what the bar counts; the toolbox
 * saves the chart as a PNG. After drawing, each element carries data-ready="1", which the
 * browser tests wait for. */
(function () {
  "use strict";

  var source = document.getElementById("dashboard-charts");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var text = data.text;

  function toolbox(name) {
    return { feature: { saveAsImage: { title: text.save, name: name, type: "png", pixelRatio: 2 } } };
  }

  function barOption(spec, name) {
    return {
      aria: { enabled: true },
      tooltip: {
        trigger: "item",
        formatter: function (p) { return p.name + ": " + p.value + " " + text.projects + "<br>" + text.open; },
      },
      toolbox: toolbox(name),
      grid: { left: 8, right: 48, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: {
        type: "category", inverse: true, data: spec.labels,
        axisLabel: { width: 180, overflow: "truncate" },
      },
      series: [{
        type: "bar", name: spec.name, data: spec.values, cursor: "pointer",
        itemStyle: { color: "#417690" }, label: { show: true, position: "right" },
      }],
    };
  }

  function lineOption(spec, name) {
    return {
      aria: { enabled: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0, left: 0 },
      toolbox: toolbox(name),
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: spec.months },
      yAxis: { type: "value", minInterval: 1 },
      series: spec.series.map(function (s) {
        return { type: "line", name: s.name, data: s.values, itemStyle: { color: s.colour }, lineStyle: { color: s.colour } };
      }),
    };
  }

  document.querySelectorAll(".echart[data-chart]").forEach(function (element) {
    var key = element.getAttribute("data-chart");
    var spec = data.charts[key];
    if (!spec) { return; }
    // Bars: one row of 28 px each, so long lists stay readable.
    if (spec.kind === "bar") { element.style.height = Math.max(120, 40 + 28 * spec.labels.length) + "px"; }
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(spec.kind === "bar" ? barOption(spec, key) : lineOption(spec, key));
    if (spec.kind === "bar") {
      chart.on("click", function (params) {
        var link = spec.links[params.dataIndex];
        if (link) { window.location.assign(link); }
      });
    }
    window.addEventListener("resize", function () { chart.resize(); });
    element.setAttribute("data-ready", "1");
  });
})();
