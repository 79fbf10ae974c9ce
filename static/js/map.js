// The map of child regions (挂图作战), shared by the dashboard (dashboard.js) and the big
// screen (screen.js): shapes from static/vendor/geo keyed by six-digit division code, the
// figures from the page's rows ({code, region, name, figures: {category: {rate, target,
// gap, gap_units, total, attained, band}}, open, overdue}).
(function () {
  // the value each region is coloured by: -1 no units or no target, then far, near, met
  var BANDS = ["far", "near", "met"];
  var COLORS = { met: "#16a34a", near: "#f59e0b", far: "#dc2626" };
  var shapes = {}; // url -> promise of {code: name} once registered

  // Fetch and register the shapes once per page; resolves with their names by code.
  function load(url) {
    if (!shapes[url]) {
      shapes[url] = fetch(url, { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw new Error("shapes " + r.status);
          return r.json();
        })
        .then(function (geo) {
          echarts.registerMap(url, geo);
          var names = {};
          geo.features.forEach(function (f) { names[f.properties.code] = f.properties.name; });
          return names;
        });
    }
    return shapes[url];
  }

  function esc(s) { return echarts.format.encodeHTML(String(s)); }
  function pct(v) { return v == null ? "—" : v.toFixed(1) + "%"; }

  function tooltip(row, name, map, categories) {
    var L = map.labels;
    var out = ["<b>" + esc(row ? row.name : name) + "</b>"];
    Object.keys(categories).forEach(function (c) {
      var f = row && row.figures[c];
      if (!f || !f.total) return;
      var gap = f.gap == null ? "" : " · " + esc(L.gap) + " " + (f.gap > 0 ? "+" : "") + f.gap.toFixed(1) + esc(L.points) +
        (f.gap_units ? "（" + f.gap_units + esc(L.units) + "）" : "");
      out.push(esc(categories[c]) + "：" + esc(L.rate) + " " + pct(f.rate) + "（" + f.attained + "/" + f.total + "）· " +
        esc(L.target) + " " + pct(f.target) + gap);
    });
    out.push(esc(L.open) + " " + (row ? row.open : 0) + " · " + esc(L.overdue) + " " + (row ? row.overdue : 0));
    return out.join("<br>");
  }

  // The chart's option for a mode: a category (coloured against the target) or "tasks"
  // (coloured by overdue tasks). opts: {categories, dark, fontSize, names}.
  function option(map, mode, opts) {
    var L = map.labels;
    var byCode = {};
    map.rows.forEach(function (r) { byCode[r.code] = r; });
    var names = opts.names || {};
    var tasks = mode === "tasks";
    var data = map.rows.map(function (r) {
      var f = r.figures[mode];
      var v = tasks ? r.overdue : (f && f.band ? BANDS.indexOf(f.band) : -1);
      return { name: r.code, value: v };
    });
    if (tasks) {
      // a region with no task is a region with none: coloured as 0, not as "no data"
      Object.keys(names).forEach(function (code) {
        if (!byCode[code]) data.push({ name: code, value: 0 });
      });
    }
    var text = opts.dark ? "#e2e8f0" : "#1f2937";
    var size = opts.fontSize || 12;
    var visualMap = tasks
      ? {
          type: "continuous", min: 0, max: Math.max(1, Math.max.apply(null, map.rows.map(function (r) { return r.overdue; }).concat([0]))),
          inRange: { color: opts.dark ? ["#1e3a5f", "#ef4444"] : ["#fee2e2", "#b91c1c"] }, text: [L.overdue, "0"],
          left: 10, bottom: 10, calculable: false, textStyle: { color: text, fontSize: size }
        }
      : {
          type: "piecewise", left: 10, bottom: 10, textStyle: { color: text, fontSize: size },
          pieces: [
            { value: 2, label: L.met, color: COLORS.met },
            { value: 1, label: L.near, color: COLORS.near },
            { value: 0, label: L.far, color: COLORS.far },
            { value: -1, label: L.none, color: opts.dark ? "#475569" : "#d1d5db" }
          ]
        };
    return {
      animation: false,
      title: { text: L.schematic, right: 10, top: 6, textStyle: { color: text, fontSize: size, fontWeight: "normal" } },
      tooltip: {
        trigger: "item", confine: true, textStyle: { fontSize: size },
        formatter: function (p) { return tooltip(byCode[p.name], names[p.name] || p.name, map, opts.categories); }
      },
      visualMap: visualMap,
      series: [{
        type: "map", map: map.shapes, nameProperty: "code", roam: false, selectedMode: false,
        layoutCenter: ["50%", "52%"], layoutSize: "92%",
        label: {
          show: true, fontSize: size, color: opts.dark ? "#f8fafc" : "#111827",
          textBorderColor: opts.dark ? "#0f172a" : "#fff", textBorderWidth: 2,
          formatter: function (p) { var r = byCode[p.name]; return r ? r.name : (names[p.name] || ""); }
        },
        itemStyle: { areaColor: opts.dark ? "#334155" : "#e5e7eb", borderColor: opts.dark ? "#0f172a" : "#fff", borderWidth: 1 },
        emphasis: { label: { show: true }, itemStyle: { areaColor: "#60a5fa" } },
        data: data
      }]
    };
  }

  // Draw into `chart`; a click on a region opens its dashboard when `map.href` is set.
  function draw(chart, map, mode, opts) {
    return load(map.shapes).then(function (names) {
      opts.names = names;
      chart.setOption(option(map, mode, opts), true);
      if (map.href && !chart.__sanlingDrill) {
        chart.__sanlingDrill = true;
        chart.on("click", function (p) {
          if (p.name) window.location = chart.__sanlingHref + (p.name + "000000").slice(0, 12);
        });
      }
      chart.__sanlingHref = map.href;
      return names;
    });
  }

  window.SanlingMap = { load: load, option: option, draw: draw };
})();
