// forewarn planner page: the work-order list (filters, sort, live updates from the event stream)
// and an order's detail (evidence chart, audit trail, comments, actions). No build step.
"use strict";

const API = "/api/v1";
const TOKEN_KEY = "forewarn.token";
const $ = (selector, root = document) => root.querySelector(selector);
const state = { me: null, people: null, refreshTimer: null, stream: null, flash: new Set() };

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

function token() { return localStorage.getItem(TOKEN_KEY); }

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${token()}`, ...(options.headers || {}) };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    ...options, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 401) { signOut("Your token was refused; sign in again."); throw new Error("401"); }
  const body = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error(body && body.detail ? body.detail : `HTTP ${response.status}`);
  return { body, response };
}

function show(id) {
  for (const section of ["sign-in", "list-view", "detail-view", "machine-view", "labels-view", "analytics-view", "planning-view"]) $(`#${section}`).hidden = section !== id;
}

function signOut(message) {
  localStorage.removeItem(TOKEN_KEY);
  if (state.stream) state.stream.abort();
  state.me = null;
  $("#who").textContent = "";
  $("#sign-out").hidden = true;
  $("#sign-in-error").textContent = message || "";
  show("sign-in");
}

// Sign-in link: /#token=fwt_… stores the token and removes it from the address bar.
function takeTokenFromLink() {
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {
    localStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + "#/");
  }
}

async function start() {
  takeTokenFromLink();
  $("#token-form").onsubmit = (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, $("#token-input").value.trim());
    start();
  };
  $("#sign-out").onclick = () => signOut();
  window.onhashchange = route;
  if (!token()) { show("sign-in"); return; }
  try {
    state.me = (await api("/me")).body;
    state.people = (await api("/people")).body;
    state.clock = (await api("/clock")).body;
  } catch (error) {
    if (String(error.message) !== "401") signOut(error.message);
    return;
  }
  $("#who").textContent = `${state.me.name} · ${state.me.role}${state.me.team ? " · " + state.me.team : ""}`;
  $("#sign-out").hidden = false;
  $("#nav-analytics").hidden = RANK[state.me.role] < RANK.planner;
  $("#clock").hidden = !state.clock.simulated;
  $("#clock").textContent = state.clock.simulated ? `⏱ ${state.clock.note}` : "";
  const teams = $("#filters select[name=team]");
  teams.innerHTML = '<option value="">Any</option>' +
    state.people.teams.map((t) => `<option value="${esc(t.id)}">${esc(t.name)}</option>`).join("");
  $("#filters").oninput = () => renderList();
  window.onhashchange = route;
  if (state.stream) state.stream.abort();
  listen();
  route();
}

function route() {
  if (/token=/.test(location.hash)) { start(); return; }  // a sign-in link opened on this page
  const order = location.hash.match(/^#\/orders\/(WO-\d+)/);
  const machine = location.hash.match(/^#\/machine\/([^/?#]+)/);
  if (order) renderDetail(order[1]);
  else if (machine) renderMachine(decodeURIComponent(machine[1]));
  else if (location.hash.startsWith("#/labels")) renderLabels();
  else if (location.hash.startsWith("#/analytics")) renderAnalytics();
  else if (location.hash.startsWith("#/planning")) renderPlanning();
  else if (location.hash.startsWith("#/equipment")) renderEquipment();
  else renderList();
}

// A machine's page (what its QR label opens on a phone): its state, its open and past orders, its
// findings over time, its signals and limits, and a form to report a problem with a note and a
// photo; the answer is a progress code to follow. No API gives live signal values: the page
// draws the recent points that the latest order's finding carried, said as such.
async function renderMachine(id) {
  show("machine-view");
  const view = $("#machine-view");
  view.innerHTML = `<p class="muted">Loading…</p>`;  // never act on a stale copy
  let eq, orders, past, pastTotal, alarms, clock;
  const orderList = (path) => api(path).then((r) => [r.body, Number(r.response.headers.get("X-Total-Count"))]);
  try {
    [eq, [orders], [past, pastTotal], alarms, clock] = await Promise.all([
      api(`/equipment/${encodeURIComponent(id)}`).then((r) => r.body),
      orderList(`/work-orders?equipment=${encodeURIComponent(id)}&active=true`),
      orderList(`/work-orders?equipment=${encodeURIComponent(id)}&active=false&sort=-updated_at&limit=20`),
      api(`/alarms?equipment=${encodeURIComponent(id)}&limit=50`).then((r) => r.body),
      api("/clock").then((r) => r.body),
    ]);
  } catch (error) {
    view.innerHTML = `<p><a href="#/">← all orders</a></p><p class="error">${esc(error.message)}</p>`;
    return;
  }
  const limit = (v) => (v === null || v === undefined ? "—" : esc(v));
  const latest = [...orders, ...past].filter((o) => o.evidence)
    .sort((a, b) => b.evidence.ts - a.evidence.ts)[0];
  const recent = latest ? `<div class="panel" id="machine-recent"><h2>Recent signal values</h2>
    <p class="muted">From the finding of <a href="#/orders/${esc(latest.number)}">${esc(latest.number)}</a>
      at ${esc(when(new Date(latest.evidence.ts * 1000).toISOString()))}: ${esc(latest.evidence.summary)}</p>
    ${Object.entries(latest.evidence.points).map(([sig, points]) =>
      chart(sig, points, signalMeta(eq, sig), [], latest.evidence)).join("")}</div>` : "";
  view.innerHTML = `<p><a href="#/">← all orders</a> · <a href="#/equipment">equipment</a></p>
    <h1>${esc(eq.id)}${eq.name && eq.name !== eq.id ? ` · ${esc(eq.name)}` : ""}</h1>
    <p class="muted">${esc(eq.path)} · ${esc(eq.type)} · team ${esc(eq.team)} · criticality ${esc(eq.criticality)}</p>
    <p id="machine-health">State: ${machineState(eq)}
      <span class="muted">${esc(eq.health.active_alarms)} active findings · ${esc(eq.health.active_orders)} active orders</span></p>
    <div class="panel"><h2>Open orders</h2>${orders.length ? `<ul id="machine-orders">${orders.map((o) =>
      `<li><a href="#/orders/${esc(o.number)}">${esc(o.number)}</a> ${esc(o.title)} · ${esc(o.status.replace("_", " "))}</li>`).join("")}</ul>`
      : `<p class="muted" id="machine-orders">None.</p>`}</div>
    ${recent}
    <div class="panel"><h2>Findings over time</h2>${healthTimeline(alarms, new Date(clock.now))}
      ${alarms.length ? `<ul id="machine-alarms">${alarms.slice(0, 12).map((a) => `<li data-alarm="${esc(a.id)}">
        <span class="pill sev-${esc(a.severity)}">${esc(a.severity)}</span> ${esc(a.failure_mode_code)} · ${esc(a.signals.join(", "))} · ${esc(a.kind)}
        <span class="muted">${esc(when(a.raised_at))} → ${a.cleared_at ? esc(when(a.cleared_at)) : "active"} · ${esc(a.finding_count)} findings</span>
        ${a.work_order ? `<a href="#/orders/${esc(a.work_order)}">${esc(a.work_order)}</a>` : a.suppressed ? `<span class="muted">no order: ${esc(a.suppressed)}</span>` : ""}</li>`).join("")}</ul>` : ""}</div>
    <div class="panel"><h2>Past orders</h2>${past.length ? `<table class="compact" id="machine-past"><thead><tr>
      <th>Number</th><th>Failure mode</th><th>Status</th><th>Outcome</th><th>Created</th><th>Resolved</th></tr></thead><tbody>${past.map((o) =>
      `<tr data-number="${esc(o.number)}"><td><a href="#/orders/${esc(o.number)}">${esc(o.number)}</a></td><td>${esc(o.failure_mode_code)} ${esc(o.failure_mode_name)}</td>
      <td>${esc(o.status)}</td><td>${esc((o.outcome || "not judged").replace("_", " "))}</td><td>${esc(when(o.created_at))}</td><td>${esc(when(o.resolved_at))}</td></tr>`).join("")}</tbody></table>
      ${pastTotal > past.length ? `<p class="muted">The latest ${past.length} of ${pastTotal}.</p>` : ""}` : `<p class="muted" id="machine-past">None.</p>`}</div>
    <div class="panel"><h2>Signals</h2><table class="compact" id="machine-signals"><thead><tr><th>Signal</th><th>Unit</th>
      <th>Warning low · high</th><th>Alarm low · high</th></tr></thead><tbody>${eq.signals.map((sig) => `<tr><td>${esc(sig.name)}</td><td>${esc(sig.unit)}</td>
      <td>${limit(sig.warn_low)} · ${limit(sig.warn_high)}</td><td>${limit(sig.alarm_low)} · ${limit(sig.alarm_high)}</td></tr>`).join("")}</tbody></table></div>
    <div class="panel"><h2>Report a problem</h2>
      <form id="report-form" class="report">
        <label>What did you see, hear or measure?<textarea name="note" required maxlength="4000" rows="3"></textarea></label>
        <label>Photo (optional)<input name="photo" type="file" accept="image/*" capture="environment"></label>
        <button type="submit" class="primary">Report</button>
      </form>
      <p id="report-error" class="error"></p>
      <div id="report-done" hidden></div></div>`;
  $("#report-form").onsubmit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const file = form.get("photo");
    try {
      const photo = file && file.size ? await shrink(file) : null;
      const { body } = await api(`/equipment/${encodeURIComponent(id)}/reports`,
        { method: "POST", body: { note: form.get("note"), photo } });
      const done = $("#report-done");
      done.hidden = false;
      done.innerHTML = `<p>Reported as <a href="#/orders/${esc(body.number)}">${esc(body.number)}</a>.
        Your progress code: <b id="progress-code">${esc(body.progress_code)}</b></p>
        <p>Follow it without signing in: <a id="progress-link" href="${esc(body.progress_url)}">${esc(body.progress_url)}</a></p>`;
      event.target.reset();
    } catch (error) {
      $("#report-error").textContent = error.message;
    }
  };
}

// Photos are resized on the phone (longest side 640 px, JPEG) so that a report stays small.
async function shrink(file) {
  const image = await createImageBitmap(file);
  const scale = Math.min(1, 640 / Math.max(image.width, image.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(image.width * scale);
  canvas.height = Math.round(image.height * scale);
  canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
  for (const quality of [0.8, 0.6, 0.4, 0.25]) {
    const url = canvas.toDataURL("image/jpeg", quality);
    if (url.length < 58000) return url;
  }
  throw new Error("the photo is too detailed to send; take it closer or without it");
}

// The ISA-95 tree with each machine's state, as the API decides it: in a maintenance window, a
// stale or faulty sensor, an open order, a finding no order covers, or normal.
function machineState(eq) {
  const h = eq.health;
  const label = {
    window: "in a maintenance window",
    sensor_fault: "stale or sensor fault",
    order: `open order${h.top_priority ? ` (${h.top_priority})` : ""}`,
    finding: `finding (${h.status})`,
    normal: "normal",
  }[h.state];
  return `<span class="state s-${esc(h.state)}" title="${esc(h.window || `${h.active_alarms} active findings · ${h.active_orders} active orders`)}">${esc(label)}</span>`;
}

async function renderEquipment() {
  show("labels-view");
  const view = $("#labels-view");
  const tree = (await api("/equipment")).body;
  const counts = {};
  tree.areas.forEach((a) => a.lines.forEach((l) => l.equipment.forEach((eq) => { counts[eq.health.state] = (counts[eq.health.state] || 0) + 1; })));
  view.innerHTML = `<p><a href="#/">← all orders</a></p><h1>Equipment · ${esc(tree.site)}</h1>
    <p class="muted" id="state-counts">${["window", "sensor_fault", "order", "finding", "normal"].filter((s) => counts[s]).map((s) =>
      `<span class="state s-${s}">${counts[s]}</span> ${esc({ window: "in a window", sensor_fault: "sensor faults", order: "open orders", finding: "findings without order", normal: "normal" }[s])}`).join(" · ")}</p>
    <ul class="tree" id="equipment-tree">${tree.areas.map((area) => `<li><b>${esc(area.id)}</b><ul>${area.lines.map((line) =>
      `<li>${esc(line.id)}<ul>${line.equipment.map((eq) =>
        `<li data-equipment="${esc(eq.id)}" data-state="${esc(eq.health.state)}"><a href="#/machine/${esc(eq.id)}">${esc(eq.id)}</a>
          ${machineState(eq)} <span class="muted">${esc(eq.type)} · ${esc(eq.team)}</span></li>`).join("")}</ul></li>`).join("")}</ul></li>`).join("")}</ul>`;
}

// Printable QR labels, several per A4 sheet; each opens its machine's page.
async function renderLabels() {
  show("labels-view");
  const view = $("#labels-view");
  const { body } = await api("/labels");
  view.innerHTML = `<p class="no-print"><a href="#/">← all orders</a> <button id="print" type="button">Print</button></p>
    <div class="labels">${body.map((l) => `<figure class="label" data-url="${esc(l.url)}">${l.svg}
      <figcaption><b>${esc(l.equipment_id)}</b> ${esc(l.name)}<br><span class="muted">${esc(l.path)}</span><br>
      <span class="small">Scan to report a problem</span></figcaption></figure>`).join("")}</div>`;
  $("#print").onclick = () => window.print();
}

function filters() {
  const form = new FormData($("#filters"));
  const params = new URLSearchParams({ limit: "200" });
  for (const [key, value] of form.entries()) if (value !== "") params.set(key, value);
  return params;
}

async function renderList() {
  show("list-view");
  const { body, response } = await api(`/work-orders?${filters()}`);
  $("#count").textContent = counted(Number(response.headers.get("X-Total-Count")), "work order");
  $("#empty").hidden = body.length > 0;
  $("#orders tbody").innerHTML = body.map((o) => `
    <tr data-number="${esc(o.number)}" class="${state.flash.has(o.number) ? "flash" : ""}">
      <td><a href="#/orders/${esc(o.number)}">${esc(o.number)}</a></td>
      <td><span class="pill p-${esc(o.priority)}">${esc(o.priority)}</span></td>
      <td class="status">${esc(o.status.replace("_", " "))}${o.escalation_level ? ` ⚠${o.escalation_level}` : ""}</td>
      <td title="${esc(o.equipment_path)}">${esc(o.equipment_id)}</td>
      <td>${esc(o.failure_mode_code)} ${esc(o.failure_mode_name)}</td>
      <td>${esc(o.team)}</td><td>${esc(o.assignee || "—")}</td>
      <td>${esc(when(o.due_at))}</td><td>${esc(o.finding_count)}</td>
    </tr>`).join("");
  state.flash.clear();
  for (const row of document.querySelectorAll("#orders tbody tr")) {
    row.onclick = (event) => {
      if (event.target.tagName !== "A") location.hash = `#/orders/${row.dataset.number}`;
    };
  }
}

const ACTIONS = [
  { name: "acknowledge", label: "Acknowledge", from: ["open"], role: "technician" },
  { name: "start", label: "Start", from: ["open", "acknowledged", "on_hold", "done"], role: "technician" },
  { name: "hold", label: "Put on hold", from: ["acknowledged", "in_progress"], role: "technician",
    fields: [["reason", "Why does the work wait?", "text", true]] },
  { name: "done", label: "Done", from: ["in_progress"], role: "technician",
    fields: [["note", "What was done", "text", false]] },
  { name: "assign", label: "Assign…", from: ["open", "acknowledged", "in_progress", "on_hold", "done"],
    role: "planner", fields: [["assignee", "Technician", "person", false]] },
  { name: "close", label: "Close…", from: ["open", "acknowledged", "in_progress", "on_hold", "done"],
    role: "planner", fields: [["outcome", "Finding", "outcome", false], ["failure_mode", "Failure mode found", "text", false],
      ["mechanism", "Mechanism", "text", false], ["cause", "Cause", "text", false], ["note", "Note", "text", false]] },
  { name: "cancel", label: "Cancel…", from: ["open", "acknowledged", "in_progress", "on_hold"], role: "planner",
    fields: [["reason", "Why is it cancelled?", "text", true]] },
];
const RANK = { technician: 0, planner: 1, admin: 2 };

function person(p) {
  const skills = p.skills.length ? p.skills.join(", ") : "no skills listed";
  return `<option value="${esc(p.id)}">${esc(p.name)} · ${p.on_shift ? "on shift" : "off shift"} · ${esc(skills)} · ${esc(p.open_orders)} open</option>`;
}

// The order's team first (on shift, then fewest open orders); others say that picking them moves the order.
function field([name, label, kind, required], order) {
  if (kind === "person") {
    const key = (p) => [p.on_shift ? 0 : 1, p.open_orders, p.name];
    const sorted = state.people.people.filter((p) => p.team)
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    const own = sorted.filter((p) => p.team === order.team), others = sorted.filter((p) => p.team !== order.team);
    return `<label>${label}<select name="${name}"><option value="">— the team —</option>
      <optgroup label="Team ${esc(order.team)}">${own.map(person).join("")}</optgroup>
      ${others.length ? `<optgroup label="Other teams (assigning moves the order to their team)">${others.map(person).join("")}</optgroup>` : ""}
      </select></label>`;
  }
  if (kind === "outcome") {
    return `<label>${label}<select name="${name}"><option value="">not judged</option>
      <option value="confirmed">confirmed</option><option value="false_alarm">false alarm</option></select></label>`;
  }
  return `<label>${label}<input name="${name}" ${required ? "required" : ""}></label>`;
}

async function act(order, action) {
  let body = {};
  if (action.fields) {
    if (action.name === "assign") state.people = (await api("/people")).body;
    const dialog = document.createElement("dialog");
    dialog.innerHTML = `<form method="dialog"><h3>${esc(action.label.replace("…", ""))} ${esc(order.number)}</h3>
      ${action.fields.map((f) => field(f, order)).join("")}
      <div class="actions"><button value="ok" class="primary">${esc(action.label.replace("…", ""))}</button>
      <button value="cancel" formnovalidate>Back</button></div></form>`;
    document.body.appendChild(dialog);
    dialog.showModal();
    const answer = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue)));
    const form = new FormData($("form", dialog));
    dialog.remove();
    if (answer !== "ok") return;
    for (const [key, value] of form.entries()) body[key] = value === "" ? null : value;
    if (action.name === "done" && body.note === null) body.note = "";
    if (action.name === "close" && body.note === null) body.note = "";
  }
  try {
    await api(`/work-orders/${order.number}/${action.name}`, { method: "POST", body });
  } catch (error) {
    $("#action-error").textContent = error.message;
    return;
  }
  renderDetail(order.number);
}

// One signal's evidence: its points, unit, warning and alarm limits, the moment each finding
// fired, and (for the signals the latest finding forecasts) the trend to the alarm limit with
// its uncertainty band. Plain SVG, no library, no network.
function chart(signal, points, meta, findings, evidence) {
  const values = points.filter((p) => p[1] !== null);
  if (values.length < 2) return `<p class="muted">${esc(signal)}: too few points to draw</p>`;
  const [w, h, padL, padR, pad] = [640, 190, 56, 16, 24];
  const limits = [["warn_high", "warning"], ["alarm_high", "alarm"], ["warn_low", "warning"], ["alarm_low", "alarm"]]
    .filter(([key]) => meta && meta[key] !== null && meta[key] !== undefined)
    .map(([key, kind]) => ({ key, kind, value: meta[key] }));
  const last = values[values.length - 1];
  let forecast = null;
  const ttl = evidence && evidence.signals.includes(signal) ? evidence.time_to_limit : null;
  const target = limits.find((l) => l.key === "alarm_high" && last[1] < l.value) ||
    limits.find((l) => l.key === "alarm_low" && last[1] > l.value);
  if (ttl !== null && ttl !== undefined && isFinite(ttl) && target) {
    const [low, high] = evidence.time_to_limit_range || [ttl, ttl];
    const hi = high === null || !isFinite(high) ? ttl * 3 : high;
    forecast = { from: [evidence.ts, last[1]], at: evidence.ts + ttl, low: evidence.ts + (low ?? ttl),
      high: evidence.ts + Math.min(hi, ttl * 3), limit: target.value };
  }
  const xs = values.map((p) => p[0]), ys = values.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, forecast ? forecast.high : -Infinity);
  const near = limits.map((l) => l.value);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  const span = (y1 - y0) || Math.abs(y1) || 1;
  for (const v of near) if (v > y0 - 2 * span && v < y1 + 2 * span) { y0 = Math.min(y0, v); y1 = Math.max(y1, v); }
  if (forecast) { y0 = Math.min(y0, forecast.limit); y1 = Math.max(y1, forecast.limit); }  // the trend ends on it
  const margin = (y1 - y0) * 0.06 || 1;
  y0 -= margin; y1 += margin;
  const sx = (x) => padL + ((x - x0) / (x1 - x0 || 1)) * (w - padL - padR);
  const sy = (y) => h - pad - ((y - y0) / (y1 - y0 || 1)) * (h - 2 * pad);
  const path = values.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" ");
  const t = (sec) => new Date(sec * 1000).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  const unit = meta && meta.unit ? meta.unit : "";
  const limitLines = limits.filter((l) => l.value >= y0 && l.value <= y1).map((l) =>
    `<line class="limit ${l.kind}" x1="${padL}" x2="${w - padR}" y1="${sy(l.value).toFixed(1)}" y2="${sy(l.value).toFixed(1)}"/>
     <text class="limit-label ${l.kind}" x="${w - padR - 4}" y="${(sy(l.value) - 3).toFixed(1)}" text-anchor="end">${esc(l.kind)} ${esc(l.value)} ${esc(unit)}</text>`).join("");
  const moments = findings.filter((f) => f.signals.includes(signal))
    .map((f) => new Date(f.ts).getTime() / 1000).filter((ts) => ts >= x0 && ts <= x1)
    .map((ts) => `<line class="moment" x1="${sx(ts).toFixed(1)}" x2="${sx(ts).toFixed(1)}" y1="${pad}" y2="${h - pad}"><title>finding at ${esc(t(ts))}</title></line>`).join("");
  const band = forecast ? `<polygon class="band" points="${sx(forecast.from[0]).toFixed(1)},${sy(forecast.from[1]).toFixed(1)} ${sx(forecast.low).toFixed(1)},${sy(forecast.limit).toFixed(1)} ${sx(forecast.high).toFixed(1)},${sy(forecast.limit).toFixed(1)}"/>
    <line class="forecast" x1="${sx(forecast.from[0]).toFixed(1)}" y1="${sy(forecast.from[1]).toFixed(1)}" x2="${sx(forecast.at).toFixed(1)}" y2="${sy(forecast.limit).toFixed(1)}"/>` : "";
  return `<figure class="chart" data-signal="${esc(signal)}"><figcaption>${esc(signal)}${unit ? ` (${esc(unit)})` : ""}</figcaption>
    <svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(signal)} evidence">
      <line class="axis" x1="${padL}" y1="${h - pad}" x2="${w - padR}" y2="${h - pad}"/>
      <line class="axis" x1="${padL}" y1="${pad}" x2="${padL}" y2="${h - pad}"/>
      ${band}${limitLines}${moments}
      <polyline class="line" points="${path}"/>
      <text x="4" y="${pad + 4}">${esc(y1.toPrecision(4))}</text><text x="4" y="${h - pad}">${esc(y0.toPrecision(4))}</text>
      <text x="4" y="${h / 2}" class="unit">${esc(unit)}</text>
      <text x="${padL}" y="${h - 6}">${esc(t(x0))}</text><text x="${w - padR}" y="${h - 6}" text-anchor="end">${esc(t(x1))}</text>
    </svg>
    <p class="legend muted">— signal${limits.length ? " · dashed: warning / alarm limits" : ""}${moments ? " · vertical: findings" : ""}${forecast ? " · shaded: forecast to the alarm limit with its range" : ""}</p></figure>`;
}

function signalMeta(equipment, name) {
  return equipment ? equipment.signals.find((s) => s.name === name) : null;
}

function hours(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return null;
  const s = Math.round(seconds);  // SQLite's julianday arithmetic leaves 3599.9999 for an hour
  return s < 3600 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

// When the trend reaches the alarm limit, with its plausible range, and the due date it set.
function timeToLimit(order, evidence) {
  const ttl = evidence.time_to_limit;
  if (ttl === null || ttl === undefined) {
    return `<div class="panel" id="time-to-limit"><h2>Time to alarm limit</h2>
      <p class="muted">No trend toward a limit in the latest finding.</p><p>Due ${esc(when(order.due_at))}</p></div>`;
  }
  const [low, high] = evidence.time_to_limit_range || [null, null];
  const range = low === null && high === null ? "" :
    ` (between ${esc(hours(low) || "now")} and ${esc(hours(high) || "no upper bound: the trend may level off")})`;
  const at = new Date((evidence.ts + ttl) * 1000).toISOString();
  return `<div class="panel" id="time-to-limit"><h2>Time to alarm limit</h2>
    <p><b>${esc(hours(ttl))}</b> from the finding${range}, around ${esc(when(at))}.</p>
    <p>Due ${esc(when(order.due_at))}: the earlier of this forecast and the service level of its priority.</p></div>`;
}

function change(event) {
  return `<li>${esc(event.sentence)} <span class="muted">${esc(when(event.at))}</span></li>`;
}

async function renderDetail(number) {
  show("detail-view");
  const view = $("#detail-view");
  let order, history, comments, findings, equipment;
  try {
    [order, history, comments, findings] = await Promise.all([
      api(`/work-orders/${number}`).then((r) => r.body),
      api(`/work-orders/${number}/history`).then((r) => r.body),
      api(`/work-orders/${number}/comments`).then((r) => r.body),
      api(`/work-orders/${number}/findings`).then((r) => r.body),
    ]);
    equipment = await api(`/equipment/${encodeURIComponent(order.equipment_id)}`).then((r) => r.body).catch(() => null);
  } catch (error) {
    view.innerHTML = `<p><a href="#/">← all orders</a></p><p class="error">${esc(error.message)}</p>`;
    return;
  }
  const same = view.dataset.number === number && $("#comment-form input", view);
  const draft = same ? $("#comment-form input", view).value : "";  // kept across live re-renders
  view.dataset.number = number;
  const allowed = ACTIONS.filter((a) => a.from.includes(order.status) && RANK[state.me.role] >= RANK[a.role]);
  const evidence = order.evidence;
  view.innerHTML = `
    <p><a href="#/">← all orders</a></p>
    <h1>${esc(order.number)} · ${esc(order.title)}</h1>
    <p><span class="pill p-${esc(order.priority)}">${esc(order.priority)}</span>
      <span id="status" class="pill">${esc(order.status.replace("_", " "))}</span>
      ${order.escalation_level ? `<span class="pill p-urgent">escalated, level ${esc(order.escalation_level)}</span>` : ""}
      <span class="muted">${esc(order.type)} · ${esc(order.severity)} · ${esc(order.equipment_path)}</span></p>
    <div class="actions">${allowed.map((a) => `<button data-action="${a.name}">${esc(a.label)}</button>`).join("")}
      <span id="action-error" class="error"></span></div>
    <div class="grid">
      <div><span>Team</span>${esc(order.team)}</div><div><span>Assignee</span>${esc(order.assignee || "—")}</div>
      <div><span>Due</span>${esc(when(order.due_at))}</div><div><span>Acknowledge by</span>${esc(when(order.ack_due_at))}</div>
      <div><span>Failure mode</span>${esc(order.failure_mode_code)} ${esc(order.failure_mode_name)}</div>
      <div><span>Mechanism</span>${esc(order.mechanism)}</div>
      <div><span>Findings</span>${esc(order.finding_count)} (first ${esc(when(order.first_seen))})</div>
      <div><span>Condition</span>${order.condition_active ? "active" : "cleared"}</div>
      ${order.outcome ? `<div><span>Outcome</span>${esc(order.outcome)}</div>` : ""}
      ${order.hold_reason ? `<div><span>On hold</span>${esc(order.hold_reason)}</div>` : ""}
    </div>
    ${order.description ? `<div class="panel"><h2>Reported by ${esc(order.reported_by)}</h2>${esc(order.description)}</div>` : ""}
    ${evidence ? `<div class="panel" id="evidence"><h2>Evidence</h2><p>${esc(evidence.summary)}
      <span class="muted">(${esc(evidence.detector)}, score ${esc(evidence.score === null ? "?" : evidence.score.toFixed(2))})</span></p>
      ${Object.entries(evidence.points).map(([s, p]) => chart(s, p, signalMeta(equipment, s), findings, evidence)).join("")}</div>` : ""}
    ${evidence ? timeToLimit(order, evidence) : ""}
    <div class="panel"><h2>Recommended checks</h2><ol>${order.instructions.map((i) => `<li>${esc(i)}</li>`).join("")}</ol></div>
    <div class="panel"><h2>Comments</h2>
      <ul id="comments">${comments.map((c) => `<li><b>${esc(c.author)}</b> <span class="muted">${esc(when(c.at))}</span>: ${esc(c.body)}</li>`).join("")}</ul>
      <form id="comment-form"><input name="body" placeholder="Add a comment" required maxlength="4000">
      <button type="submit">Comment</button></form></div>
    <div class="panel"><h2>History</h2><ol class="trail" id="history">${history.map(change).join("")}</ol></div>`;
  $("#comment-form input").value = draft;
  for (const button of view.querySelectorAll("button[data-action]")) {
    button.onclick = () => act(order, ACTIONS.find((a) => a.name === button.dataset.action));
  }
  $("#comment-form").onsubmit = async (event) => {
    event.preventDefault();
    const body = new FormData(event.target).get("body");
    await api(`/work-orders/${number}/comments`, { method: "POST", body: { body } });
    renderDetail(number);
  };
}

// The event stream, read with fetch so that the token travels in a header; reconnects with the
// last event id so nothing is missed.
async function listen() {
  let last = null;
  for (;;) {
    if (!token()) return;
    const controller = new AbortController();
    state.stream = controller;
    try {
      const headers = { Authorization: `Bearer ${token()}` };
      if (last !== null) headers["Last-Event-ID"] = last;
      const response = await fetch(`${API}/events`, { headers, signal: controller.signal });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      live(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = block.match(/^id: (\d+)$/m);
          const data = block.match(/^data: (.*)$/m);
          if (id) last = id[1];
          if (data) onEvent(JSON.parse(data[1]));
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    live(false);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function live(on) {
  const badge = $("#live");
  badge.classList.toggle("on", on);
  badge.textContent = on ? "● live" : "○ reconnecting";
}

function onEvent(event) {
  const number = event.work_order.number;
  state.flash.add(number);
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => {
    const open = location.hash.match(/^#\/orders\/(WO-\d+)/);
    if (open) { if (open[1] === number) renderDetail(number); }
    else if (!/^#\/(machine|labels|analytics|equipment|planning)/.test(location.hash)) renderList();
  }, 150);
}

start();
