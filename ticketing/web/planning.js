// forewarn planner page: maintenance windows and shelved alarms (findings inside them are
// recorded but open no order): list them, schedule or shelve, end them. Everyone reads them;
// planners change them. Times are entered on this browser's clock and prefilled from the
// service's (the demo's is simulated). Loaded before app.js, whose helpers it calls.
"use strict";

// A Date as the value of an <input type="datetime-local"> (this browser's time zone).
function localInput(date) {
  return new Date(+date - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

function windowState(w, now) {
  if (w.recurrence !== "none") return `${w.recurrence}${w.until ? ` until ${when(w.until)}` : ""}`;
  if (now < new Date(w.starts_at)) return "scheduled";
  return now < new Date(w.ends_at) ? "active now" : "ended";
}

async function renderPlanning() {
  show("planning-view");
  const view = $("#planning-view");
  view.innerHTML = `<p class="muted">Loading…</p>`;  // never act on a stale copy
  const get = (path) => api(path).then((r) => r.body);
  let windows, shelves, tree, clock;
  try {
    [windows, shelves, tree, clock] = await Promise.all([
      get("/maintenance-windows"), get("/shelves"), get("/equipment"), get("/clock")]);
  } catch (error) {
    view.innerHTML = `<p><a href="#/">← all orders</a></p><p class="error">${esc(error.message)}</p>`;
    return;
  }
  const now = new Date(clock.now);
  const planner = RANK[state.me.role] >= RANK.planner;
  const targets = [tree.site];
  const machines = [];
  for (const area of tree.areas) {
    targets.push(`${tree.site}/${area.id}`);
    for (const line of area.lines) {
      targets.push(`${tree.site}/${area.id}/${line.id}`);
      for (const eq of line.equipment) { targets.push(eq.path); machines.push(eq.id); }
    }
  }
  const end = (kind, id) => (planner ? `<button type="button" data-end="${kind}" data-id="${esc(id)}">End</button>` : "");
  view.innerHTML = `<p><a href="#/">← all orders</a></p>
    <h1>Maintenance windows and shelved alarms</h1>
    <p class="muted">Findings inside a window or on a shelved machine are recorded as alarms but open no work order.</p>
    <div class="panel"><h2>Maintenance windows</h2>
      ${windows.length ? `<table class="compact" id="windows"><thead><tr><th>Target</th><th>From</th><th>To</th><th>State</th>
        <th>Reason</th><th>By</th><th></th></tr></thead><tbody>${windows.map((w) => `<tr data-window="${esc(w.id)}">
        <td>${esc(w.target)}</td><td>${esc(when(w.starts_at))}</td><td>${esc(when(w.ends_at))}</td>
        <td class="state-cell">${esc(windowState(w, now))}</td><td>${esc(w.reason)}</td><td>${esc(w.created_by)}</td>
        <td>${end("window", w.id)}</td></tr>`).join("")}</tbody></table>` : `<p class="muted" id="windows">None.</p>`}
      ${planner ? `<form id="window-form" class="inline-form">
        <label>Target<select name="target">${targets.map((t) => `<option>${esc(t)}</option>`).join("")}</select></label>
        <label>From<input name="starts_at" type="datetime-local" required value="${localInput(now)}"></label>
        <label>To<input name="ends_at" type="datetime-local" required value="${localInput(new Date(+now + 2 * 3600e3))}"></label>
        <label>Repeats<select name="recurrence"><option value="none">no</option><option value="daily">daily</option>
          <option value="weekly">weekly</option></select></label>
        <label>Reason<input name="reason" required maxlength="500" placeholder="filter change"></label>
        <button type="submit" class="primary">Schedule</button></form>` : ""}</div>
    <div class="panel"><h2>Shelved alarms</h2>
      ${shelves.length ? `<table class="compact" id="shelves"><thead><tr><th>Equipment</th><th>Failure mode</th><th>Until</th>
        <th>Reason</th><th>By</th><th></th></tr></thead><tbody>${shelves.map((s) => `<tr data-shelf="${esc(s.id)}">
        <td>${esc(s.equipment_id)}</td><td>${esc(s.failure_mode_code || "all")}</td><td>${esc(when(s.expires_at))}</td>
        <td>${esc(s.reason)}</td><td>${esc(s.created_by)}</td><td>${end("shelf", s.id)}</td></tr>`).join("")}</tbody></table>`
        : `<p class="muted" id="shelves">None.</p>`}
      ${planner ? `<form id="shelf-form" class="inline-form">
        <label>Equipment<select name="equipment_id">${machines.map((m) => `<option>${esc(m)}</option>`).join("")}</select></label>
        <label>Failure mode<input name="failure_mode" maxlength="50" placeholder="all"></label>
        <label>Until<input name="expires_at" type="datetime-local" required value="${localInput(new Date(+now + 8 * 3600e3))}"></label>
        <label>Reason<input name="reason" required maxlength="500" placeholder="sensor swap"></label>
        <button type="submit" class="primary">Shelve</button></form>` : ""}</div>
    <p id="planning-error" class="error"></p>`;
  const attempt = async (call) => {
    try { await call(); renderPlanning(); } catch (error) { $("#planning-error").textContent = error.message; }
  };
  const time = (value) => new Date(value).toISOString();
  if (!planner) return;
  $("#window-form").onsubmit = (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    attempt(() => api("/maintenance-windows", { method: "POST", body: {
      target: f.get("target"), starts_at: time(f.get("starts_at")), ends_at: time(f.get("ends_at")),
      recurrence: f.get("recurrence"), reason: f.get("reason") } }));
  };
  $("#shelf-form").onsubmit = (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    attempt(() => api("/shelves", { method: "POST", body: {
      equipment_id: f.get("equipment_id"), failure_mode: f.get("failure_mode") || null,
      expires_at: time(f.get("expires_at")), reason: f.get("reason") } }));
  };
  for (const button of view.querySelectorAll("button[data-end]")) {
    const path = button.dataset.end === "window" ? "/maintenance-windows" : "/shelves";
    button.onclick = () => attempt(() => api(`${path}/${button.dataset.id}`, { method: "DELETE" }));
  }
}
