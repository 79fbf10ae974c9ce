// Charts of the attainment dashboard (Apache ECharts, served locally).
(function () {
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var cats = Object.keys(data.categories);
  var colors = ["#b91c1c", "#1d4ed8"];
  function init(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({ animation: false });
    // a window squeezed to nothing (a minimised window, a full-page capture) would lay
    // the map out in an empty box, which ECharts cannot invert: wait for a real size
    window.addEventListener("resize", function () { if (el.clientWidth && el.clientHeight) chart.resize(); });
    return chart;
  }
  var pctFmt = function (v) { return v == null ? "—" : v.toFixed(1) + "%"; };

  var bars = init("chart-children");
  if (bars) {
    var series = [];
    cats.forEach(function (c, i) {
      series.push({
        name: data.categories[c], type: "bar", data: data.children.map(function (ch) { return ch[c]; }),
        itemStyle: { color: colors[i % 2] },
        label: { show: data.children.length <= 15, position: "top", formatter: function (p) { return pctFmt(p.value); } },
        markLine: {
          symbol: "none", lineStyle: { type: "dashed", color: colors[i % 2] },
          label: { formatter: data.categories[c] + data.labels.target + " {c}%" },
          data: (function () {
            var t = data.children.map(function (ch) { return ch[c + "_target"]; }).filter(function (v) { return v != null; });
            return t.length ? [{ yAxis: Math.max.apply(null, t) }] : [];
          })()
        }
      });
    });
    bars.setOption({
      tooltip: { trigger: "axis", valueFormatter: pctFmt },
      legend: { top: 0 },
      grid: { left: 40, right: 110, bottom: 60, top: 40 },
      xAxis: { type: "category", data: data.children.map(function (ch) { return ch.name; }), axisLabel: { interval: 0, rotate: data.children.length > 8 ? 35 : 0 } },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: series
    });
    bars.on("click", function (p) {
      var links = document.querySelectorAll("table.children a");
      if (links[p.dataIndex]) window.location = links[p.dataIndex].href;
    });
  }

  var trend = init("chart-trend");
  if (trend) {
    trend.setOption({
      tooltip: { trigger: "axis", valueFormatter: pctFmt },
      legend: { top: 0 },
      grid: { left: 40, right: 20, bottom: 30, top: 40 },
      xAxis: { type: "category", data: data.trend.years.map(String) },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: cats.map(function (c, i) {
        return { name: data.categories[c], type: "line", connectNulls: true, showSymbol: true, symbolSize: 9,
                 label: { show: true, formatter: function (p) { return pctFmt(p.value); } },
                 data: data.trend.series[c], itemStyle: { color: colors[i % 2] } };
      }).concat(cats.map(function (c, i) {
        // the official years: the closed result's rate, marked beside the live line
        return { name: data.categories[c] + data.labels.official, type: "scatter", symbol: "diamond", symbolSize: 14,
                 data: (data.trend.official || {})[c] || [], itemStyle: { color: colors[i % 2], borderColor: "#111", borderWidth: 1 } };
      }))
    });
  }

  // the map of the child regions (static/js/map.js): a category against its target, or
  // the open/overdue rectification tasks; a click opens the region's dashboard
  var map = data.map && window.SanlingMap ? init("chart-map") : null;
  if (map) {
    var buttons = Array.prototype.slice.call(document.querySelectorAll("[data-map-mode]"));
    var show = function (mode) {
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.mapMode === mode)); });
      SanlingMap.draw(map, data.map, mode, { categories: data.categories }).catch(function () {
        document.getElementById("map-card").hidden = true;
      });
    };
    buttons.forEach(function (b) { b.addEventListener("click", function () { show(b.dataset.mapMode); }); });
    show(cats[0] || "tasks");
  }

  var kinds = init("chart-kinds");
  if (kinds) {
    kinds.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 110, right: 20, bottom: 30, top: 40 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: data.kinds.map(function (k) { return k.kind; }) },
      series: [
        { name: data.labels.units, type: "bar", data: data.kinds.map(function (k) { return k.total; }), itemStyle: { color: "#9ca3af" } },
        { name: data.labels.attained, type: "bar", data: data.kinds.map(function (k) { return k.attained; }), itemStyle: { color: "#15803d" } }
      ]
    });
  }
})();
