// forewarn planner page: the analytics view (the API's /analytics routes over the last 8 weeks on
// the service's clock) and the small SVG charts it and the machine page draw. No build step, no
// network: plain SVG. Loaded before app.js, whose helpers ($, api, esc, hours, when) it calls.
"use strict";

const DAY_MS = 86400 * 1000;
const WEEK_MS = 7 * DAY_MS;
const WEEKS = 8;

// "1 order", "5 orders".
function counted(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

// Monday 00:00 UTC of the week holding `date`: weeks on the page are ISO weeks in UTC.
function weekStart(date) {
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  return new Date(midnight - ((new Date(midnight).getUTCDay() + 6) % 7) * DAY_MS);
}

function dayLabel(date) {
  return date.toLocaleDateString(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
}

// Grouped bars: one group per label, one bar per series ({name, cls, values}); `format` writes a
// value over its bar and in its tooltip.
function barChart(label, labels, series, format = String) {
  const [w, h, padL, padB, padT] = [640, 170, 8, 26, 16];
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values.map((v) => v ?? 0)));
  const group = (w - padL * 2) / Math.max(1, labels.length);
  const bar = Math.max(2, (group - 8) / series.length);
  const sy = (v) => h - padB - (v / max) * (h - padB - padT);
  let marks = "";
  labels.forEach((name, i) => {
    series.forEach((s, j) => {
      const v = s.values[i];
      if (v === null || v === undefined) return;
      const x = padL + i * group + 4 + j * bar;
      marks += `<rect class="${s.cls}" x="${x.toFixed(1)}" y="${sy(v).toFixed(1)}" width="${(bar - 1).toFixed(1)}"
        height="${(h - padB - sy(v)).toFixed(1)}"><title>${esc(s.name)}, ${esc(name)}: ${esc(format(v))}</title></rect>`;
      if (v) marks += `<text x="${(x + bar / 2).toFixed(1)}" y="${(sy(v) - 3).toFixed(1)}" text-anchor="middle">${esc(format(v))}</text>`;
    });
    marks += `<text x="${(padL + (i + 0.5) * group).toFixed(1)}" y="${h - 8}" text-anchor="middle">${esc(name)}</text>`;
  });
  return `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(label)}">
      <line class="axis" x1="${padL}" y1="${h - padB}" x2="${w - padL}" y2="${h - padB}"/>${marks}</svg>
    <p class="legend muted">${series.map((s) => `<span class="key ${s.cls}"></span> ${esc(s.name)}`).join(" ")}</p>`;
}

// One line over time: points are [Date, value].
function lineChart(label, points) {
  if (points.length < 2) return `<p class="muted">Too few points to draw.</p>`;
  const [w, h, padL, padR, pad] = [640, 150, 36, 12, 18];
  const x0 = +points[0][0], x1 = +points[points.length - 1][0];
  const y1 = Math.max(1, ...points.map((p) => p[1]));
  const sx = (x) => padL + ((x - x0) / (x1 - x0 || 1)) * (w - padL - padR);
  const sy = (y) => h - pad - (y / y1) * (h - 2 * pad);
  const line = points.map(([at, v]) => `${sx(+at).toFixed(1)},${sy(v).toFixed(1)}`).join(" ");
  return `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(label)}">
      <line class="axis" x1="${padL}" y1="${h - pad}" x2="${w - padR}" y2="${h - pad}"/>
      <line class="axis" x1="${padL}" y1="${pad}" x2="${padL}" y2="${h - pad}"/>
      <polyline class="line" points="${line}"/>
      <text x="4" y="${pad + 4}">${esc(y1)}</text><text x="4" y="${h - pad}">0</text>
      <text x="${padL}" y="${h - 4}">${esc(dayLabel(points[0][0]))}</text>
      <text x="${w - padR}" y="${h - 4}" text-anchor="end">${esc(dayLabel(points[points.length - 1][0]))}</text></svg>`;
}

// A Pareto: one bar per group, most orders first, and the cumulative share of the counted orders
// as a line over them (right axis 0-100 %); below, the same as a list.
function paretoChart(id, label, pareto, empty) {
  if (!pareto.bars.length) return `<p class="muted">${esc(empty)}</p>`;
  const [w, h, padL, padR, padB, padT] = [640, 170, 8, 40, 26, 16];
  const top = Math.max(...pareto.bars.map((b) => b.orders));
  const slot = (w - padL - padR) / pareto.bars.length;
  const sy = (v) => h - padB - v * (h - padB - padT);
  const mid = (i) => padL + (i + 0.5) * slot;
  const bars = pareto.bars.map((b, i) => {
    const y = sy(b.orders / top);
    return `<rect class="b-opened" data-key="${esc(b.key)}" x="${(mid(i) - slot * 0.35).toFixed(1)}" y="${y.toFixed(1)}"
      width="${(slot * 0.7).toFixed(1)}" height="${(h - padB - y).toFixed(1)}"><title>${esc(b.label)}: ${b.orders}</title></rect>
      <text x="${mid(i).toFixed(1)}" y="${(y - 3).toFixed(1)}" text-anchor="middle">${b.orders}</text>
      <text x="${mid(i).toFixed(1)}" y="${h - 8}" text-anchor="middle">${esc(b.key.length > 18 ? b.key.slice(0, 17) + "…" : b.key)}</text>`;
  }).join("");
  const line = pareto.bars.map((b, i) => `${mid(i).toFixed(1)},${sy(b.cumulative_share).toFixed(1)}`).join(" ");
  const rest = [pareto.rest ? `${pareto.rest} more in other groups` : "", pareto.without_key ? `${pareto.without_key} closed with no cause given` : ""].filter(Boolean);
  return `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(label)}">
      <line class="axis" x1="${padL}" y1="${h - padB}" x2="${w - padR}" y2="${h - padB}"/>
      <line class="axis" x1="${w - padR}" y1="${padT}" x2="${w - padR}" y2="${h - padB}"/>
      <text x="${w - padR + 4}" y="${padT + 4}">100 %</text><text x="${w - padR + 4}" y="${h - padB}">0 %</text>${bars}
      <polyline class="line cumulative" points="${line}"/></svg>
    <ol class="pareto" id="${esc(id)}">${pareto.bars.map((b) => `<li data-key="${esc(b.key)}"><span class="bar" style="width:${(100 * b.orders / top).toFixed(0)}%"></span>
      <span><b>${esc(b.label)}</b> · <span class="n">${b.orders}</span> <span class="muted">· <span class="cum">${Math.round(100 * b.cumulative_share)} %</span> cumulative</span></span></li>`).join("")}</ol>
    <p class="legend muted">of ${counted(pareto.counted, "order")}${rest.length ? `; ${esc(rest.join("; "))}` : ""}</p>`;
}

// Orders opened per line (rows, every line of the plant) and week (columns), shaded by count.
function lineHeatMap(tree, cells, starts, labels) {
  const lines = tree.areas.flatMap((a) => a.lines.map((l) => `${tree.site}/${a.id}/${l.id}`));
  const count = (line, start) => (cells.find((c) => c.line === line && +new Date(c.start) === +start) || { orders: 0 }).orders;
  const top = Math.max(1, ...cells.map((c) => c.orders));
  return `<table class="compact heat" id="line-heat"><thead><tr><th>Line</th>${labels.map((l) => `<th>${esc(l)}</th>`).join("")}</tr></thead>
    <tbody>${lines.map((line) => `<tr data-line="${esc(line)}"><td>${esc(line.split("/").slice(1).join(" / "))}</td>${starts.map((s) => {
      const n = count(line, s);
      return `<td data-week="${esc(s.toISOString().slice(0, 10))}" class="${n ? "" : "muted"}"
        style="${n ? `background: rgba(194, 65, 12, ${(0.15 + 0.7 * n / top).toFixed(2)}); color: ${n / top > 0.5 ? "#fff" : "inherit"}` : ""}">${n}</td>`;
    }).join("")}</tr>`).join("")}</tbody></table>`;
}

function percent(part, whole) {
  return whole ? `${Math.round((100 * part) / whole)} %` : "—";
}

const PRIORITIES = ["urgent", "high", "medium", "low"];

async function renderAnalytics() {
  show("analytics-view");
  const view = $("#analytics-view");
  view.innerHTML = `<p class="muted">Loading…</p>`;  // never act on a stale copy
  if (RANK[state.me.role] < RANK.planner) {
    view.innerHTML = `<p><a href="#/">← all orders</a></p><p class="muted">Analytics are for planners.</p>`;
    return;
  }
  const get = (path) => api(path).then((r) => r.body);
  const now = new Date((await get("/clock")).now);
  const since = new Date(+weekStart(now) - (WEEKS - 1) * WEEK_MS);
  const period = (from, until) => new URLSearchParams({ since: from.toISOString(), until: until.toISOString() });
  const all = period(since, now);
  const starts = Array.from({ length: WEEKS }, (_, k) => new Date(+since + k * WEEK_MS));
  const weekly = (what) => Promise.all(starts.map((s) =>
    get(`/analytics/${what}?${period(s, new Date(+s + WEEK_MS))}`).then((rows) => rows[0])));
  let data;
  try {
    data = await Promise.all([
      get(`/analytics/throughput?${all}`), get(`/analytics/backlog?${all}&step=21600`),
      get("/analytics/backlog-by-team"), get(`/analytics/mtta?${all}`), get(`/analytics/mttr?${all}`),
      get(`/analytics/pareto/failure-modes?${all}&limit=5`), get(`/analytics/outcomes?${all}`),
      get(`/analytics/detector-precision?${all}`), weekly("mtta"), weekly("mttr"),
      get(`/analytics/lead-time?${all}`), get(`/analytics/pareto/closing-causes?${all}&limit=5`),
      get(`/analytics/orders-by-line?${all}`), get(`/analytics/repeats?${all}`), get("/equipment"),
    ]);
  } catch (error) {
    view.innerHTML = `<p><a href="#/">← all orders</a></p><p class="error">${esc(error.message)}</p>`;
    return;
  }
  const [throughput, backlog, byTeam, mtta, mttr, modes, outcomes, precision, mttaWeeks, mttrWeeks, lead,
    causes, byLine, repeats, tree] = data;
  const labels = throughput.map((t) => dayLabel(new Date(t.start)));
  const opened = throughput.reduce((n, t) => n + t.opened, 0);
  const closed = throughput.reduce((n, t) => n + t.closed, 0);
  const active = byTeam.reduce((n, b) => n + b.active, 0);
  const count = (outcome) => (outcomes.find((o) => o.outcome === outcome) || { orders: 0 }).orders;
  const judged = count("confirmed") + count("false_alarm");
  const teams = [...new Set(byTeam.map((b) => b.team))];
  const cell = (team, priority) => (byTeam.find((b) => b.team === team && b.priority === priority) || { active: 0 }).active;
  const minutes = (s) => (s === null || s === undefined ? null : s / 60);
  const within = Math.round(repeats.within_seconds / 86400);
  view.innerHTML = `<p><a href="#/">← all orders</a></p>
    <h1>Analytics</h1>
    <p class="muted">Orders created in the ${WEEKS} weeks from ${esc(when(since.toISOString()))} to ${esc(when(now.toISOString()))}; weeks start on Monday (UTC).</p>
    <div class="kpis">
      <div class="kpi" id="kpi-opened"><span>Opened · closed</span><b>${opened} · ${closed}</b></div>
      <div class="kpi" id="kpi-mtta"><span>Mean time to acknowledge</span><b>${esc(hours(mtta[0].mean_seconds) || "—")}</b>
        <small>${esc(mtta[0].orders)} acknowledged</small></div>
      <div class="kpi" id="kpi-mttr"><span>Mean time to resolve</span><b>${esc(hours(mttr[0].mean_seconds) || "—")}</b>
        <small>${esc(mttr[0].orders)} closed${mttr[0].mean_repair_seconds !== null ? `, repair ${esc(hours(mttr[0].mean_repair_seconds))}` : ""}</small></div>
      <div class="kpi" id="kpi-backlog"><span>Active now</span><b>${active}</b></div>
      <div class="kpi" id="kpi-lead-time"><span>Warning given (finding → alarm limit)</span><b>${esc(hours(lead.mean_seconds) || "—")}</b>
        <small>${lead.forecast} of ${counted(lead.orders, "predictive order")} forecast${lead.min_seconds !== null ? `; least ${esc(hours(lead.min_seconds))}` : ""}</small></div>
      <div class="kpi" id="kpi-false-alarms"><span>False alarms</span><b>${esc(percent(count("false_alarm"), judged))}</b>
        <small>${count("false_alarm")} of ${judged} judged at closing</small></div>
      <div class="kpi" id="kpi-repeats"><span>Repeat orders</span><b>${repeats.repeats}</b>
        <small>${esc(percent(repeats.repeats, repeats.orders))} of ${counted(repeats.orders, "order")} opened again within ${within} days of a closing</small></div>
      <div class="kpi" id="kpi-first-time-fix"><span>Fixed the first time</span><b>${esc(percent(repeats.fixed_first_time, repeats.judged))}</b>
        <small>${repeats.fixed_first_time} of ${counted(repeats.judged, "closed order")}; ${repeats.closed - repeats.judged} still within ${within} days</small></div>
    </div>
    <div class="panel chart" id="throughput"><h2>Orders opened and closed per week</h2>
      ${barChart("orders opened and closed per week", labels, [
        { name: "opened", cls: "b-opened", values: throughput.map((t) => t.opened) },
        { name: "closed", cls: "b-closed", values: throughput.map((t) => t.closed) }])}
      <table class="compact"><thead><tr><th>Week of</th><th>Opened</th><th>Closed</th></tr></thead>
      <tbody>${throughput.map((t, i) => `<tr data-week="${esc(t.start.slice(0, 10))}"><td>${esc(labels[i])}</td><td>${t.opened}</td><td>${t.closed}</td></tr>`).join("")}</tbody></table></div>
    <div class="panel chart" id="mean-times"><h2>Mean time to acknowledge and to resolve, per week (minutes)</h2>
      ${barChart("mean times per week", labels, [
        { name: "to acknowledge", cls: "b-opened", values: mttaWeeks.map((m) => minutes(m.mean_seconds)) },
        { name: "to resolve", cls: "b-closed", values: mttrWeeks.map((m) => minutes(m.mean_seconds)) }],
        (v) => String(Math.round(v)))}</div>
    <div class="panel chart" id="backlog"><h2>Backlog over time (active orders every 6 h, and now)</h2>
      ${lineChart("backlog over time", [...backlog.map((b) => [new Date(b.at), b.active]), [now, active]])}</div>
    <div class="panel" id="backlog-by-team"><h2>Backlog by team and priority, now</h2>
      ${teams.length ? `<table class="compact heat"><thead><tr><th>Team</th>${PRIORITIES.map((p) => `<th>${p}</th>`).join("")}<th>All</th></tr></thead>
      <tbody>${teams.map((team) => `<tr data-team="${esc(team)}"><td>${esc(team)}</td>${PRIORITIES.map((p) =>
        `<td data-priority="${p}" class="${cell(team, p) ? `p-${p}` : "muted"}">${cell(team, p)}</td>`).join("")}
        <td>${PRIORITIES.reduce((n, p) => n + cell(team, p), 0)}</td></tr>`).join("")}</tbody></table>` : `<p class="muted">No active orders.</p>`}</div>
    <div class="panel chart" id="orders-by-line"><h2>Orders opened per line and week (cancelled ones left out)</h2>
      ${lineHeatMap(tree, byLine, starts, labels)}</div>
    <div class="panel chart" id="failure-pareto"><h2>Pareto of failure modes (top 5, cancelled orders left out)</h2>
      ${paretoChart("failure-pareto-list", "Pareto of failure modes", modes, "No orders.")}</div>
    <div class="panel chart" id="cause-pareto"><h2>Pareto of the causes orders were closed with (top 5)</h2>
      ${paretoChart("cause-pareto-list", "Pareto of closing causes", causes,
        causes.without_key ? `${counted(causes.without_key, "closed order")}, none with a cause given.` : "No order was closed yet.")}</div>
    <div class="panel" id="precision"><h2>Detector precision (orders judged at closing)</h2>
      ${precision.length ? `<table class="compact"><thead><tr><th>Detector</th><th>Confirmed</th><th>False alarms</th><th>Precision</th></tr></thead>
      <tbody>${precision.map((p) => `<tr data-detector="${esc(p.detector)}"><td>${esc(p.detector)}</td><td>${p.confirmed}</td><td>${p.false_alarms}</td>
        <td>${esc(p.precision === null ? "—" : percent(p.confirmed, p.confirmed + p.false_alarms))}</td></tr>`).join("")}</tbody></table>`
      : `<p class="muted">No order was judged at closing yet.</p>`}</div>`;
}

// A machine's health over time: each alarm episode a bar from raised to cleared (or now), in its
// severity's colour, over the days since the oldest one shown.
function healthTimeline(alarms, now) {
  if (!alarms.length) return `<p class="muted" id="health-timeline">No findings recorded.</p>`;
  const [w, h, pad] = [640, 24 + 14 * Math.min(alarms.length, 12), 8];
  const shown = alarms.slice(0, 12);
  const x0 = Math.min(...shown.map((a) => +new Date(a.raised_at))), x1 = +now;
  const sx = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (w - 2 * pad);
  const bars = shown.map((a, i) => {
    const from = +new Date(a.raised_at), to = a.cleared_at ? +new Date(a.cleared_at) : x1;
    return `<rect class="sev-${esc(a.severity)}" x="${sx(from).toFixed(1)}" y="${6 + i * 14}" height="10"
      width="${Math.max(2, sx(to) - sx(from)).toFixed(1)}"><title>${esc(a.severity)} ${esc(a.signals.join(", "))}: ${esc(when(a.raised_at))} → ${esc(a.cleared_at ? when(a.cleared_at) : "still active")}</title></rect>`;
  }).join("");
  return `<figure class="chart" id="health-timeline"><svg viewBox="0 0 ${w} ${h}" role="img" aria-label="health over time">${bars}
      <text x="${pad}" y="${h - 2}">${esc(dayLabel(new Date(x0)))}</text><text x="${w - pad}" y="${h - 2}" text-anchor="end">now</text></svg>
    <p class="legend muted">one bar per finding episode, from raised to cleared · <span class="key sev-warning"></span> warning
      <span class="key sev-alarm"></span> alarm <span class="key sev-critical"></span> critical</p></figure>`;
}
