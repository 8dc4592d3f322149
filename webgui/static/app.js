// starshell web GUI: shared helpers and the dashboard's live refresh; the workflow
// graph lives in graph.js, the actions and the live firework page in actions.js.
// Everything here talks to the JSON API under /api; the pages work (read-only)
// without it. No third-party code: the layout comes from the server.
"use strict";

const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
const ROOT = meta("app-root");
const REFRESH_MS = Math.max(1, Number(meta("refresh-seconds")) || 5) * 1000;
const SVG = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

function badge(state) {
  return el("span", { class: `badge state-${state}` }, state);
}

function when(value) {
  return value ? String(value).replace("T", " ").slice(0, 19) : "—";
}

function toast(message, isError = false) {
  const box = document.getElementById("status");
  box.textContent = message;
  box.classList.toggle("error", isError);
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, isError ? 9000 : 4000);
}

async function api(path, body = undefined) {
  const options = { headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.headers["X-CSRF-Token"] = meta("csrf-token");
    options.body = JSON.stringify(body);
  }
  const response = await fetch(`${ROOT}/api${path}`, options);
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok && !(data && data.changed && data.changed.length)) {
    throw new Error(data.error || (data.failed && data.failed[0] && data.failed[0].error) || response.statusText);
  }
  return data;
}

// Poll while the tab is visible; one request at a time.
function every(ms, task) {
  let busy = false;
  const tick = async () => {
    if (document.hidden || busy) return;
    busy = true;
    try { await task(); } catch (err) { console.warn(err); } finally { busy = false; }
  };
  setInterval(tick, ms);
  document.addEventListener("visibilitychange", tick);
}

function stateBar(counts, label) {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const bar = svgEl("svg", { class: "bar", viewBox: `0 0 ${Math.max(total, 1)} 1`,
                             preserveAspectRatio: "none", role: "img" });
  bar.setAttribute("aria-label", `${label}: ${entries.map(([s, n]) => `${n} ${s}`).join(", ") || "none"}`);
  let x = 0;
  for (const [state, n] of entries) {
    const rect = svgEl("rect", { class: `state-${state}`, x, width: n, height: 1 });
    rect.appendChild(svgEl("title")).textContent = `${n} ${state}`;
    bar.appendChild(rect);
    x += n;
  }
  return bar;
}

// -- dashboard -----------------------------------------------------------------
function listItem(href, text, extra) {
  const li = el("li");
  li.appendChild(el("a", { href }, text));
  li.append(" ");
  for (const node of extra) li.append(node, " ");
  return li;
}

function renderSummary(s) {
  for (const kind of ["fireworks", "workflows"]) {
    for (const [state, n] of Object.entries(s[kind])) {
      const item = document.querySelector(`li[data-kind="${kind}"][data-state="${state}"]`);
      if (!item) continue;
      item.querySelector(".n").textContent = n;
      item.classList.toggle("zero", n === 0);
    }
    document.querySelector(`[data-total="${kind}"]`).textContent = s[`total_${kind}`];
    const holder = document.querySelector(`[data-bar="${kind}"]`);
    holder.replaceChildren(stateBar(s[kind], `${kind} by state`));
  }
  const fizzled = document.getElementById("recent-fizzled");
  fizzled.replaceChildren(...s.recent_fizzled.map((fw) => listItem(
    `${ROOT}/fireworks/${fw.fw_id}`, `#${fw.fw_id} ${fw.name}`,
    [el("span", { class: "muted" }, `workflow ${fw.wf_id} · ${when(fw.updated_on)}`)])));
  if (!s.recent_fizzled.length) fizzled.appendChild(el("li", { class: "muted" }, "No FIZZLED fireworks."));
  const recent = document.getElementById("recent-workflows");
  if (s.recent_workflows.length) {
    recent.replaceChildren(...s.recent_workflows.map((wf) => listItem(
      `${ROOT}/workflows/${wf.wf_id}`, wf.name,
      [badge(wf.state), el("span", { class: "muted" }, `${wf.nodes} fireworks · ${when(wf.last_change)}`)])));
  }
  document.getElementById("refreshed").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

function initDashboard() {
  every(REFRESH_MS, async () => renderSummary(await api("/summary")));
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  // The workflow and firework pages start in graph.js and actions.js.
  const init = { dashboard: initDashboard }[page];
  if (init) init();
});
