/* The admin dashboard: draws its charts as inline SVG and refreshes every
 * figure from the JSON endpoint (data-url) every data-refresh seconds.
 * Everything is built with DOM calls and textContent, never innerHTML, so a
 * flow or connection name can never become markup. */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var root = document.getElementById("lb-dashboard");
  var source = document.getElementById("lb-dashboard-data");
  if (!root || !source) return;

  var data = JSON.parse(source.textContent);
  var flowWindow = "flows";

  function el(name, attrs, text) {
    var node = document.createElement(name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(name, attrs) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function link(href, text, cls) {
    var a = el("a", { href: href }, text);
    if (cls) a.className = cls;
    return a;
  }

  // -- charts ------------------------------------------------------------------

  function niceMax(value) {
    if (value <= 5) return 5;
    var step = Math.pow(10, Math.floor(Math.log10(value)));
    var top = Math.ceil(value / step) * step;
    return top < value ? top + step : top;
  }

  /* Stacked columns: labels[i] on the x axis, series {status: [n...]}. */
  function columns(target, labels, series, order, shortLabel, tickEvery) {
    var width = 560, height = 180, left = 34, bottom = 22, top = 8;
    var plotW = width - left - 6, plotH = height - top - bottom;
    var totals = labels.map(function (_, i) {
      return order.reduce(function (sum, s) { return sum + ((series[s] || [])[i] || 0); }, 0);
    });
    var max = niceMax(Math.max.apply(null, totals.concat([0])));
    var chart = svg("svg", {
      viewBox: "0 0 " + width + " " + height, class: "lb-svg", preserveAspectRatio: "none",
    });
    [0, 0.5, 1].forEach(function (f) {
      var y = top + plotH - f * plotH;
      chart.appendChild(svg("line", { x1: left, x2: width - 6, y1: y, y2: y, class: "lb-grid" }));
      var t = svg("text", { x: left - 4, y: y + 4, class: "lb-axis", "text-anchor": "end" });
      t.textContent = String(Math.round(max * f));
      chart.appendChild(t);
    });
    var slot = plotW / labels.length, barW = Math.max(slot * 0.7, 1);
    labels.forEach(function (label, i) {
      var x = left + i * slot + (slot - barW) / 2, y = top + plotH;
      order.forEach(function (status) {
        var n = (series[status] || [])[i] || 0;
        if (!n) return;
        var h = (n / max) * plotH;
        y -= h;
        var rect = svg("rect", {
          x: x.toFixed(1), y: y.toFixed(1), width: barW.toFixed(1), height: h.toFixed(1),
          class: "lb-fill--" + status, "data-status": status,
        });
        var tip = svg("title");
        tip.textContent = label + ": " + n + " " + (data.status_labels[status] || status).toLowerCase();
        rect.appendChild(tip);
        chart.appendChild(rect);
      });
      if (i % tickEvery === 0 || i === labels.length - 1) {
        var t = svg("text", {
          x: (left + i * slot + slot / 2).toFixed(1), y: height - 6,
          class: "lb-axis", "text-anchor": "middle",
        });
        t.textContent = shortLabel(label);
        chart.appendChild(t);
      }
    });
    var total = totals.reduce(function (a, b) { return a + b; }, 0);
    target.setAttribute("aria-label", target.getAttribute("aria-label").split(":")[0] + ": " + total + " in all");
    target.replaceChildren(chart);
    if (!total) target.appendChild(el("p", { class: "lb-muted lb-chart__empty" }, "Nothing in this period."));
  }

  function hourLabel(key) { return key.slice(11) + ":00"; }
  function dayLabel(key) { return key.slice(8) + "/" + key.slice(5, 7); }

  function drawCharts(d) {
    var a = d.activity, order = d.status_order;
    root.querySelectorAll("[data-chart]").forEach(function (target) {
      var which = target.getAttribute("data-chart");
      if (which === "by_hour") columns(target, a.hours, a.by_hour, order, hourLabel, 4);
      if (which === "by_day") columns(target, a.days, a.by_day, order, dayLabel, 5);
      if (which === "succeeded_by_hour") {
        columns(target, a.hours, { succeeded: a.succeeded_by_hour }, ["succeeded"], hourLabel, 4);
      }
    });
  }

  // -- numbers and tables --------------------------------------------------------

  function drawCards(d) {
    d.statuses.forEach(function (s) {
      var card = root.querySelector('.lb-card[data-status="' + s.value + '"]');
      if (!card) return;
      card.querySelector(".lb-card__count").textContent = s.count;
      card.classList.toggle("lb-card--zero", !s.count);
    });
  }

  function drawFacts(d) {
    var oldest = document.getElementById("lb-oldest");
    oldest.replaceChildren();
    if (d.oldest) {
      var a = link(d.oldest.url, "");
      a.appendChild(el("strong", {}, d.oldest.age));
      oldest.append(a, " old (" + d.oldest.label + ") · ", link(d.oldest.list_url, "all needing attention"));
    } else {
      oldest.textContent = "None: nothing needs attention.";
    }
    var retries = document.getElementById("lb-retries");
    var r = d.retries, scheduled = link(r.url, "");
    scheduled.append(el("strong", {}, r.scheduled), " scheduled");
    retries.replaceChildren(scheduled);
    if (r.next_in) retries.append(" · next in " + r.next_in);
    if (r.overdue) {
      retries.append(" · ", el("span", { class: "lb-error-text" }, r.overdue + " overdue (is the sweeper running?)"));
    }
  }

  function drawFlows(d) {
    var rows = d[flowWindow] || [];
    var body = root.querySelector("#lb-flow-table tbody");
    body.replaceChildren();
    if (!rows.length) {
      body.appendChild(el("tr")).appendChild(
        el("td", { class: "lb-muted", colspan: d.status_order.length + 2 }, "No records in this period.")
      );
    }
    var most = Math.max.apply(null, rows.map(function (f) { return f.total; }).concat([1]));
    var bars = document.getElementById("lb-flow-bars");
    bars.replaceChildren();
    rows.forEach(function (flow) {
      var tr = el("tr", { "data-flow": flow.name });
      tr.appendChild(el("th", { scope: "row" })).appendChild(link(flow.url, flow.title));
      flow.cells.forEach(function (cell) {
        var td = el("td", { class: "lb-num", "data-status": cell.status });
        td.appendChild(cell.count
          ? link(cell.url, cell.count, "lb-count lb-count--" + cell.status)
          : el("span", { class: "lb-muted" }, "0"));
        tr.appendChild(td);
      });
      tr.appendChild(el("td", { class: "lb-num" })).appendChild(link(flow.url, flow.total));
      body.appendChild(tr);

      var bar = el("div", { class: "lb-flow-bar", title: flow.title + ": " + flow.total });
      bar.appendChild(el("span", { class: "lb-flow-bar__name" }, flow.title));
      var track = bar.appendChild(el("span", { class: "lb-flow-bar__track" }));
      flow.cells.forEach(function (cell) {
        if (!cell.count) return;
        var part = link(cell.url, "", "lb-flow-bar__part lb-fill--" + cell.status);
        part.style.width = (100 * cell.count / most).toFixed(2) + "%";
        part.title = cell.count + " " + (d.status_labels[cell.status] || cell.status).toLowerCase();
        track.appendChild(part);
      });
      bars.appendChild(bar);
    });
  }

  function drawConnections(d) {
    var body = root.querySelector("#lb-connection-table tbody");
    body.replaceChildren();
    if (!d.connections.length) {
      body.appendChild(el("tr")).appendChild(el("td", { class: "lb-muted", colspan: 5 }, "No connections yet."));
    }
    d.connections.forEach(function (c) {
      var tr = el("tr", { "data-connection": c.slug });
      var name = tr.appendChild(el("th", { scope: "row" }));
      name.append(link(c.url, c.name), " ", el("span", { class: "lb-muted" }, c.system));
      tr.appendChild(el("td")).appendChild(el("span", { class: "lb-badge lb-badge--" + c.state }, c.state_label));
      var worked = tr.appendChild(el("td"));
      if (c.last_success) worked.textContent = c.last_success + " ago";
      else worked.appendChild(el("span", { class: "lb-muted" }, "never"));
      tr.appendChild(el("td", { class: "lb-num" }, c.calls_today));
      var word = tr.appendChild(el("td", {}, c.message || ""));
      if (c.checked) word.append(" ", el("span", { class: "lb-muted" }, "(tested " + c.checked + " ago)"));
      body.appendChild(tr);
    });
  }

  function drawTime(d) {
    var time = document.getElementById("lb-generated");
    var when = new Date(d.generated_at);
    time.setAttribute("datetime", d.generated_at);
    time.textContent = when.toLocaleTimeString();
  }

  function render(d) {
    drawCards(d);
    drawFacts(d);
    drawCharts(d);
    drawFlows(d);
    drawConnections(d);
    drawTime(d);
    root.setAttribute("data-rendered", d.generated_at);
  }

  // -- refresh -----------------------------------------------------------------

  var note = document.getElementById("lb-refresh");
  var noteText = note.lastChild.textContent;

  function refresh() {
    fetch(root.getAttribute("data-url"), {
      credentials: "same-origin", headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("the server answered " + response.status);
        return response.json();
      })
      .then(function (fresh) {
        data = fresh;
        render(data);
        note.classList.remove("lb-error-text");
        note.lastChild.textContent = noteText;
      })
      .catch(function (error) {
        note.classList.add("lb-error-text");
        note.lastChild.textContent = "; could not refresh (" + error.message + "), trying again shortly.";
      });
  }

  root.querySelectorAll("[data-window]").forEach(function (button) {
    button.addEventListener("click", function () {
      flowWindow = button.getAttribute("data-window");
      root.querySelectorAll("[data-window]").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b === button));
      });
      drawFlows(data);
    });
  });

  render(data);
  var seconds = Number(root.getAttribute("data-refresh")) || 30;
  window.setInterval(refresh, seconds * 1000);
})();
