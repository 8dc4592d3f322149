// starshell web GUI: live refresh, the DAG drawing and the actions.
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

// -- workflow graph ------------------------------------------------------------
const graph = { scale: 1, data: null, svg: null };

function edgePath(a, b, w, h) {
  const x1 = a.x + w, y1 = a.y + h / 2, x2 = b.x, y2 = b.y + h / 2, mid = (x1 + x2) / 2;
  return `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 4},${y2}`;
}

function nodeLabel(n, room) {
  const text = `${n.fw_id} · ${n.name || ""}`;
  return text.length > room ? `${text.slice(0, room - 1)}…` : text;
}

function drawGraph(holder, g) {
  const w = g.node_width, h = g.node_height;
  const svg = svgEl("svg", { class: "graph", viewBox: `0 0 ${g.width} ${g.height}` });
  const defs = svg.appendChild(svgEl("defs"));
  const marker = defs.appendChild(svgEl("marker", { id: "arrow", viewBox: "0 0 8 8", refX: 7, refY: 4,
                                                    markerWidth: 7, markerHeight: 7, orient: "auto" }));
  marker.appendChild(svgEl("path", { d: "M0,0 L8,4 L0,8 z", class: "arrowhead" }));
  const byId = new Map(g.nodes.map((n) => [n.fw_id, n]));
  const edges = svg.appendChild(svgEl("g", { class: "edges", "aria-hidden": "true" }));
  for (const [p, c] of g.edges) {
    edges.appendChild(svgEl("path", { d: edgePath(byId.get(p), byId.get(c), w, h), "marker-end": "url(#arrow)" }));
  }
  const layer = svg.appendChild(svgEl("g", { class: "nodes" }));
  const ordered = [...g.nodes].sort((a, b) => a.x - b.x || a.y - b.y);
  for (const n of ordered) {
    const link = svgEl("a", { href: `${ROOT}/fireworks/${n.fw_id}`, class: `node state-${n.state}`,
                              "data-fw-id": n.fw_id, "data-state": n.state });
    link.setAttribute("aria-label", `Firework ${n.fw_id} ${n.name || ""}: ${n.state}`);
    link.appendChild(svgEl("title")).textContent = `${n.fw_id} · ${n.name || ""} (${n.state})`;
    link.appendChild(svgEl("rect", { x: n.x, y: n.y, width: w, height: h, rx: 5 }));
    link.appendChild(svgEl("text", { x: n.x + 10, y: n.y + h / 2 + 4 })).textContent = nodeLabel(n, 24);
    layer.appendChild(link);
  }
  holder.replaceChildren(svg);
  graph.svg = svg;
  graph.data = g;
}

function zoom(how) {
  const g = graph.data, holder = document.getElementById("dag");
  if (!g || !graph.svg) return;
  const fit = Math.min(1, (holder.clientWidth - 4) / g.width);
  if (how === "fit") graph.scale = fit;
  else if (how === "in") graph.scale = Math.min(graph.scale * 1.25, 3);
  else if (how === "out") graph.scale = Math.max(graph.scale / 1.25, 0.1);
  else graph.scale = Math.max(fit, 0.5);
  graph.svg.style.width = `${g.width * graph.scale}px`;
  graph.svg.style.height = `${g.height * graph.scale}px`;
}

async function loadGraph(wfId) {
  const holder = document.getElementById("dag");
  if (!holder) return;
  const g = await api(`/workflows/${wfId}/graph`);
  if (g.too_large) { location.reload(); return; }
  drawGraph(holder, g);
  zoom("initial");
  const root = g.nodes.reduce((best, n) => (!best || n.x < best.x || (n.x === best.x && n.y < best.y) ? n : best), null);
  if (root) holder.scrollTop = Math.max(0, root.y * graph.scale - holder.clientHeight / 3);
}

function applyStates(wfId, s) {
  document.getElementById("wf-state").replaceChildren(badge(s.state));
  document.getElementById("wf-updated").textContent = when(s.last_change);
  document.getElementById("wf-bar").replaceChildren(stateBar(s.states, "Fireworks by state"));
  const legend = document.getElementById("wf-counts");
  legend.replaceChildren(...Object.entries(s.states).filter(([, n]) => n).map(([state, n]) => {
    const li = el("li");
    li.append(badge(state), " ", el("span", { class: "n" }, String(n)));
    return li;
  }));
  if (!s.fireworks) return;
  for (const row of document.querySelectorAll("#fw-table tr[data-fw-id]")) {
    const state = s.fireworks[row.dataset.fwId];
    if (state) row.querySelector(".state-cell").replaceChildren(badge(state));
  }
  if (!graph.data) return;
  if (Object.keys(s.fireworks).length !== graph.data.nodes.length) { loadGraph(wfId); return; }
  for (const node of graph.svg.querySelectorAll("a.node")) {
    const state = s.fireworks[node.dataset.fwId];
    if (state && state !== node.dataset.state) {
      node.classList.replace(`state-${node.dataset.state}`, `state-${state}`);
      node.dataset.state = state;
      node.setAttribute("aria-label", node.getAttribute("aria-label").replace(/: \w+$/, `: ${state}`));
    }
  }
}

function initWorkflow() {
  const head = document.querySelector("[data-wf-id]");
  const wfId = head.dataset.wfId;
  const refresh = async () => applyStates(wfId, await api(`/workflows/${wfId}/states`));
  if (head.dataset.drawable === "true") {
    loadGraph(wfId).catch((err) => { document.getElementById("dag").textContent = `Cannot draw the graph: ${err.message}`; });
    document.querySelectorAll("[data-zoom]").forEach((b) => b.addEventListener("click", () => zoom(b.dataset.zoom)));
  }
  const all = document.getElementById("select-all");
  if (all) all.addEventListener("change", () => document.querySelectorAll(".pick").forEach((c) => { c.checked = all.checked; }));
  wireActions(async (action, priority) => {
    const ids = [...document.querySelectorAll(".pick:checked")].map((c) => Number(c.value));
    if (!ids.length) throw new Error("Select one or more fireworks in the table first.");
    const result = await api("/actions", { action, fw_ids: ids, priority });
    await refresh();
    return result;
  });
  every(REFRESH_MS, refresh);
}

// -- actions -------------------------------------------------------------------
function describe(action, result) {
  const n = result.changed.length;
  let text = `${action}: ${n} firework${n === 1 ? "" : "s"} changed`;
  if (result.failed && result.failed.length) text += `; ${result.failed.length} refused (${result.failed[0].error})`;
  return text;
}

function wireActions(run) {
  const bar = document.querySelector(".actions");
  if (!bar) return;
  bar.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    let priority;
    if (action === "priority") {
      const input = bar.querySelector("input[name=priority]");
      priority = input.value.trim() === "" ? NaN : Number(input.value);
      if (!Number.isFinite(priority)) { toast("Enter a number for the priority.", true); input.focus(); return; }
    }
    button.disabled = true;
    try {
      toast(describe(action, await run(action, priority)));
    } catch (err) {
      toast(err.message, true);
    } finally {
      button.disabled = false;
    }
  });
}

function initFirework() {
  const fwId = document.querySelector("[data-fw-id]").dataset.fwId;
  const pending = sessionStorage.getItem("starshell-toast");
  if (pending) { sessionStorage.removeItem("starshell-toast"); toast(pending); }
  wireActions(async (action, priority) => {
    const result = await api(`/fireworks/${fwId}/${action}`, { priority });
    sessionStorage.setItem("starshell-toast", describe(action, result));
    location.reload();
    return result;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  const init = { dashboard: initDashboard, workflow: initWorkflow, firework: initFirework }[page];
  if (init) init();
});
