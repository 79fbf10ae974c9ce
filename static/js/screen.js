// The big screen (大屏): asks the API (api:screen, scoped like the dashboard) for the
// region's figures now and every `refresh` seconds, and draws them; on a failed answer
// it keeps the last figures and says so. Text goes in through textContent only.
(function () {
  var cfg = JSON.parse(document.getElementById("screen-config").textContent);
  var L = cfg.labels;
  var COLORS = ["#38bdf8", "#f472b6", "#a3e635"];
  var $ = function (id) { return document.getElementById(id); };
  var pct = function (v) { return v == null ? "—" : v.toFixed(1) + "%"; };
  var num = function (v) { return v == null ? "—" : Number(v).toLocaleString("zh-CN"); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function chart(id) {
    var c = echarts.init($(id), null, { renderer: "canvas" });
    // as on the dashboard: never lay a chart out in an empty box
    window.addEventListener("resize", function () { if (c.getDom().clientWidth && c.getDom().clientHeight) c.resize(); });
    return c;
  }
  var mapChart = chart("screen-map");
  var trendChart = chart("screen-trend");

  function cards(d) {
    var box = $("screen-cards");
    box.replaceChildren();
    d.cards.forEach(function (c) {
      // no units of the kind, or no target: neither met nor short
      var met = c.total_units && c.target_rate != null ? c.met : null;
      var card = el("div", "card " + (met ? "met" : met === false ? "unmet" : ""));
      card.dataset.category = c.category;
      card.appendChild(el("h3", null, d.categories[c.category]));
      card.appendChild(el("div", "figure " + (met ? "ok" : met === false ? "bad" : "muted"), c.total_units ? pct(c.rate) : "—"));
      var t = el("div", "line");
      if (!c.total_units) t.textContent = L.no_units;
      else if (c.target_rate == null) t.textContent = L.no_target;
      else {
        t.append(L.target + " ", el("strong", null, pct(c.target_rate)), " ");
        t.appendChild(el("span", "badge " + (c.met ? "ok" : "bad"), c.met ? L.met_badge : L.unmet_badge));
      }
      card.appendChild(t);
      var u = el("div", "line");
      u.append(L.attained + " ", el("strong", null, num(c.attained_units)), " / " + num(c.total_units) + " " + L.units);
      if (c.gap_units) u.append(" · " + L.gap_units + " ", el("strong", "bad", num(c.gap_units)), " " + L.units);
      card.appendChild(u);
      box.appendChild(card);
    });
    $("screen-units").textContent = num(d.cards.reduce(function (s, c) { return s + c.total_units; }, 0));
    $("screen-assessed").textContent = num(d.assessed);
    $("screen-overdue-total").textContent = num(d.tasks.overdue);
    $("screen-open-total").textContent = num(d.tasks.open);
  }

  function laggards(d) {
    var ol = $("screen-laggards");
    ol.replaceChildren();
    d.laggards.forEach(function (r) {
      var li = el("li");
      li.dataset.region = r.code;
      li.appendChild(el("span", "name", r.name));
      li.appendChild(el("span", "gap", r.gap.toFixed(1) + L.points));
      li.appendChild(el("span", "detail", d.categories[r.category] + " · " + L.rate + " " + pct(r.rate) + " · " + L.target + " " +
        pct(r.target) + (r.gap_units ? " · " + L.gap_units + " " + r.gap_units + " " + L.units : "")));
      ol.appendChild(li);
    });
    if (!d.laggards.length) ol.appendChild(el("li", "none muted", L.nothing));
  }

  function overdue(d) {
    var body = $("screen-overdue");
    body.replaceChildren();
    d.overdue.forEach(function (r) {
      var tr = el("tr");
      tr.dataset.region = r.code;
      tr.appendChild(el("td", null, r.name));
      tr.appendChild(el("td", "num bad", num(r.overdue)));
      tr.appendChild(el("td", "num", num(r.open)));
      body.appendChild(tr);
    });
    if (!d.overdue.length) {
      var tr = el("tr", "none");
      tr.appendChild(el("td", "muted", L.nothing));
      body.appendChild(tr);
    }
  }

  function trend(d) {
    var cats = Object.keys(d.categories);
    trendChart.setOption({
      animation: false,
      textStyle: { fontSize: 18 },
      legend: { top: 0, textStyle: { color: "#e2e8f0", fontSize: 18 } },
      grid: { left: 70, right: 30, top: 40, bottom: 36 },
      tooltip: { trigger: "axis", valueFormatter: pct, textStyle: { fontSize: 18 } },
      xAxis: { type: "category", data: d.trend.years.map(String), axisLabel: { color: "#cbd5e1", fontSize: 18 } },
      yAxis: { type: "value", max: 100, axisLabel: { color: "#cbd5e1", fontSize: 18, formatter: "{value}%" },
               splitLine: { lineStyle: { color: "#1e3a5f" } } },
      series: cats.map(function (c, i) {
        return { name: d.categories[c], type: "line", data: d.trend.series[c], connectNulls: true, symbolSize: 12,
                 lineStyle: { width: 4 }, itemStyle: { color: COLORS[i % COLORS.length] },
                 label: { show: true, color: "#f8fafc", fontSize: 18, formatter: function (p) { return pct(p.value); } } };
      })
    }, true);
  }

  function map(d) {
    var has = d.map && d.map.shapes;
    $("screen-map").hidden = !has;
    $("screen-no-map").hidden = !!has;
    if (!has) return;
    var cats = Object.keys(d.categories);
    var mode = cats[0] || "tasks";
    $("screen-map-category").textContent = d.categories[mode] || "";
    var m = { shapes: d.map.shapes, rows: d.map.rows, labels: L, href: cfg.href };
    SanlingMap.draw(mapChart, m, mode, { categories: d.categories, dark: true, fontSize: 18 }).then(function () {
      mapChart.resize();
    });
  }

  function render(d) {
    $("screen-region").textContent = d.region.name;
    $("screen-computed").textContent = d.computed_at ? new Date(d.computed_at).toLocaleString("zh-CN", { hour12: false }) : "—";
    $("screen-fetched").textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false });
    $("screen-stale").hidden = true;
    cards(d);
    laggards(d);
    overdue(d);
    trend(d);
    map(d);
  }

  function refresh() {
    var url = cfg.api + "?" + new URLSearchParams(cfg.params).toString();
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then(render)
      .catch(function () {
        $("screen-stale").textContent = L.stale;
        $("screen-stale").hidden = false;
      })
      .then(function () { window.setTimeout(refresh, cfg.refresh * 1000); });
  }
  refresh();
})();
