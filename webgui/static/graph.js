// starshell web GUI: the workflow graph. The server lays it out (webgui/layout.py),
// dense layers arrive as group nodes; here we draw, pan, zoom, find and expand.
// Uses the helpers of app.js (api, svgEl, el, toast), loaded before this file.
"use strict";

const dag = {
  wfId: null, data: null, svg: null, view: null, mini: null,
  k: 1, tx: 0, ty: 0, expanded: new Set(), pinned: new Set(), found: null, dragged: false,
};
const ZOOM_MIN = 0.02, ZOOM_MAX = 4;
const REDRAW_MS = 15000;

function dagHolder() { return document.getElementById("dag"); }

// 3,4,5,9 -> "3-5,9": an opened span of layers stays a short URL.
function ranges(numbers) {
  const sorted = [...numbers].sort((a, b) => a - b), out = [];
  for (const n of sorted) {
    const last = out[out.length - 1];
    if (last && n === last[1] + 1) last[1] = n; else out.push([n, n]);
  }
  return out.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(",");
}

function dagUrl() {
  const q = new URLSearchParams();
  if (dag.expanded.size) q.set("expand", ranges(dag.expanded));
  if (dag.pinned.size) q.set("pin", [...dag.pinned].join(","));
  const query = q.toString();
  return `/workflows/${dag.wfId}/graph${query ? `?${query}` : ""}`;
}

// -- geometry -----------------------------------------------------------------
function boxes(g) {
  const map = new Map();
  for (const n of g.nodes) map.set(String(n.fw_id), { x: n.x, y: n.y, w: g.node_width, h: g.node_height, n });
  for (const grp of g.groups) map.set(grp.key, { x: grp.x, y: grp.y, w: g.node_width, h: grp.height, grp });
  return map;
}

function edgePath(a, b) {
  const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2, mid = (x1 + x2) / 2;
  return `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 4},${y2}`;
}

function columnExtent(g, layer) {
  let top = Infinity, bottom = -Infinity;
  for (const b of boxes(g).values()) {
    const l = b.n ? b.n.layer : b.grp.layer;
    if (l !== layer) continue;
    top = Math.min(top, b.y);
    bottom = Math.max(bottom, b.y + b.h);
  }
  return { top, bottom };
}

// -- the view: one transform on a <g>, so pan and zoom never re-lay out ---------
function applyView() {
  if (!dag.view) return;
  dag.view.setAttribute("transform", `translate(${dag.tx.toFixed(1)},${dag.ty.toFixed(1)}) scale(${dag.k.toFixed(4)})`);
  dagHolder().dataset.scale = dag.k.toFixed(3);
  drawMiniViewport();
}

function fitView() {
  const holder = dagHolder(), g = dag.data;
  const w = holder.clientWidth, h = holder.clientHeight;
  dag.k = Math.max(ZOOM_MIN, Math.min(w / g.width, h / g.height, 1.25));
  dag.tx = (w - g.width * dag.k) / 2;
  dag.ty = Math.max(0, (h - g.height * dag.k) / 2);
  applyView();
}

function zoomAt(factor, cx, cy) {
  const k = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, dag.k * factor));
  dag.tx = cx - ((cx - dag.tx) * k) / dag.k;
  dag.ty = cy - ((cy - dag.ty) * k) / dag.k;
  dag.k = k;
  applyView();
}

function centerOn(x, y, k = dag.k) {
  const holder = dagHolder();
  dag.k = k;
  dag.tx = holder.clientWidth / 2 - x * k;
  dag.ty = holder.clientHeight / 2 - y * k;
  applyView();
}

function zoomButton(how) {
  if (!dag.data) return;
  const holder = dagHolder();
  if (how === "fit") fitView();
  else zoomAt(how === "in" ? 1.25 : 0.8, holder.clientWidth / 2, holder.clientHeight / 2);
}

// -- drawing --------------------------------------------------------------------
function drawNode(parent, n, g) {
  const link = svgEl("a", { href: `${ROOT}/fireworks/${n.fw_id}`, class: `node state-${n.state}`,
                            "data-fw-id": n.fw_id, "data-state": n.state });
  link.setAttribute("aria-label", `Firework ${n.fw_id} ${n.name || ""}: ${n.state}`);
  link.appendChild(svgEl("title")).textContent = `${n.fw_id} · ${n.name || ""} (${n.state})`;
  link.appendChild(svgEl("rect", { x: n.x, y: n.y, width: g.node_width, height: g.node_height, rx: 5 }));
  const label = `${n.fw_id} · ${n.name || ""}`;
  link.appendChild(svgEl("text", { x: n.x + 10, y: n.y + g.node_height / 2 + 4 })).textContent =
    label.length > 24 ? `${label.slice(0, 23)}…` : label;
  parent.appendChild(link);
}

function num(n) { return Number(n).toLocaleString("en-US"); }

function countsText(states) {
  return Object.entries(states).map(([s, n]) => `${num(n)} ${s}`).join(", ");
}

function drawGroup(parent, grp, g) {
  const w = g.node_width, h = grp.height;
  const box = svgEl("g", { class: "group", tabindex: 0, role: "button", "data-layer": grp.layer,
                           "data-count": grp.count, "data-key": grp.key });
  const action = grp.expandable ? "activate to show its fireworks" : "find one by id or name";
  const named = grp.last_layer > grp.layer ? `Layers ${grp.layer} to ${grp.last_layer}` : `Layer ${grp.layer}`;
  box.setAttribute("aria-label", `${named}: ${grp.count} fireworks grouped (${countsText(grp.states)}); ${action}`);
  box.appendChild(svgEl("title")).textContent = `${grp.count} fireworks: ${countsText(grp.states)}`;
  box.appendChild(svgEl("rect", { class: "group-box", x: grp.x, y: grp.y, width: w, height: h, rx: 7 }));
  const span = grp.last_layer > grp.layer;
  const head = grp.expandable ? `${num(grp.count)} fireworks` : `+ ${num(grp.count)} more`;
  box.appendChild(svgEl("text", { class: "group-head", x: grp.x + 10, y: grp.y + 18 })).textContent = head;
  let x = grp.x + 10;
  const barWidth = w - 20;
  for (const [state, n] of Object.entries(grp.states)) {
    const width = Math.max(1, (barWidth * n) / grp.count);
    box.appendChild(svgEl("rect", { class: `seg state-${state}`, x, y: grp.y + 26, width, height: 10 }));
    x += width;
  }
  // Counts by state, largest first, one a line (three at most; the title has them all).
  const counts = Object.entries(grp.states).sort((a, b) => b[1] - a[1]).map(([s, n]) => `${num(n)} ${s}`);
  counts.slice(0, 3).forEach((line, i) => {
    const more = i === 2 && counts.length > 3 ? ` +${counts.length - 3} more` : "";
    box.appendChild(svgEl("text", { class: "group-counts", x: grp.x + 10, y: grp.y + 50 + i * 13 })).textContent = line + more;
  });
  const where = span ? `layers ${grp.layer}–${grp.last_layer}` : `layer ${grp.layer}`;
  box.appendChild(svgEl("text", { class: "group-hint", x: grp.x + 10, y: grp.y + h - 8 })).textContent =
    grp.expandable ? `${where} · ▸ click to expand` : `${where} · use Find`;
  if (grp.expandable) {
    const open = () => expandLayer(grp.layer, grp.last_layer);
    box.addEventListener("click", () => { if (!dag.dragged) open(); });
    box.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
  }
  parent.appendChild(box);
}

// One frame per run of adjacent opened layers, headed by a button that closes them.
function drawFrames(parent, g) {
  const runs = [];
  for (const layer of [...g.expanded].sort((a, b) => a - b)) {
    if (!g.layers[layer]) continue;
    const last = runs[runs.length - 1];
    if (last && layer === last[1] + 1) last[1] = layer; else runs.push([layer, layer]);
  }
  for (const [first, lastLayer] of runs) {
    let top = Infinity, bottom = -Infinity, size = 0;
    for (let l = first; l <= lastLayer; l++) {
      const extent = columnExtent(g, l);
      top = Math.min(top, extent.top);
      bottom = Math.max(bottom, extent.bottom);
      size += g.layers[l].size;
    }
    if (!Number.isFinite(top)) continue;
    const x0 = g.layers[first].x, x1 = g.layers[lastLayer].x + g.node_width;
    const frame = svgEl("g", { class: "layer-frame" });
    frame.appendChild(svgEl("rect", { x: x0 - 10, y: top - 30, width: x1 - x0 + 20, height: bottom - top + 40, rx: 8 }));
    const named = first === lastLayer ? `Layer ${first}` : `Layers ${first}–${lastLayer}`;
    const head = svgEl("g", { class: "frame-head", tabindex: 0, role: "button", "data-layer": first });
    head.setAttribute("aria-label", `${named}, ${size} fireworks: collapse`);
    head.appendChild(svgEl("text", { x: x0 - 2, y: top - 12 })).textContent = `${named} · ${num(size)} fireworks · ▾ collapse`;
    const close = () => collapseLayers(first, lastLayer);
    head.addEventListener("click", () => { if (!dag.dragged) close(); });
    head.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); close(); } });
    frame.appendChild(head);
    parent.appendChild(frame);
  }
}

function drawGraph(g) {
  const holder = dagHolder();
  // A small graph gets a short frame; a large one the usual 68% of the window.
  holder.style.height = `${Math.round(Math.min(window.innerHeight * 0.68, Math.max(240, g.height * 1.25 + 40)))}px`;
  const svg = svgEl("svg", { class: "graph", width: "100%", height: "100%" });
  const defs = svg.appendChild(svgEl("defs"));
  const marker = defs.appendChild(svgEl("marker", { id: "arrow", viewBox: "0 0 8 8", refX: 7, refY: 4,
                                                    markerWidth: 7, markerHeight: 7, orient: "auto" }));
  marker.appendChild(svgEl("path", { d: "M0,0 L8,4 L0,8 z", class: "arrowhead" }));
  const view = svg.appendChild(svgEl("g", { class: "view" }));
  drawFrames(view, g);
  const where = boxes(g);
  const edges = view.appendChild(svgEl("g", { class: "edges", "aria-hidden": "true" }));
  for (const [a, b, n] of g.edges) {
    const path = svgEl("path", { d: edgePath(where.get(String(a)), where.get(String(b))), "marker-end": "url(#arrow)" });
    if (n > 1) {
      path.setAttribute("stroke-width", Math.min(1.4 + Math.log2(n), 9).toFixed(1));
      path.appendChild(svgEl("title")).textContent = `${n} links`;
    }
    edges.appendChild(path);
  }
  const layer = view.appendChild(svgEl("g", { class: "nodes" }));
  const items = [...g.nodes.map((n) => ({ x: n.x, y: n.y, n })), ...g.groups.map((grp) => ({ x: grp.x, y: grp.y, grp }))];
  items.sort((p, q) => p.x - q.x || p.y - q.y);  // Tab walks layer by layer, top to bottom
  for (const item of items) {
    if (item.n) drawNode(layer, item.n, g);
    else drawGroup(layer, item.grp, g);
  }
  holder.replaceChildren(svg);
  dag.svg = svg;
  dag.view = view;
  dag.data = g;
  drawMinimap(g);
  const note = document.getElementById("dag-note");
  if (note) {
    const grouped = g.groups.reduce((sum, grp) => sum + grp.count, 0);
    const parts = [`${g.layers.length} layers`, `${num(g.nodes.length)} fireworks drawn`];
    if (grouped) parts.push(`${num(grouped)} in groups (click a group to expand it)`);
    if (g.edges_hidden) parts.push(`${num(g.edges_hidden)} links not drawn`);
    note.textContent = `${parts.join(" · ")}. Scroll to zoom, drag to pan.`;
  }
}

// -- minimap --------------------------------------------------------------------
function drawMinimap(g) {
  const holder = dagHolder();
  dag.mini = null;
  const big = g.width > holder.clientWidth * 1.2 || g.height > holder.clientHeight * 1.2 || g.total > 100;
  if (!big) return;
  const width = 180, height = Math.max(40, Math.min(140, (width * g.height) / g.width));
  const scale = Math.min(width / g.width, height / g.height);
  const mini = svgEl("svg", { class: "minimap", width, height, viewBox: `0 0 ${g.width} ${g.height}`,
                              preserveAspectRatio: "xMidYMid meet", "aria-hidden": "true" });
  for (const n of g.nodes) mini.appendChild(svgEl("rect", { class: `state-${n.state}`, x: n.x, y: n.y,
                                                            width: g.node_width, height: g.node_height }));
  for (const grp of g.groups) mini.appendChild(svgEl("rect", { class: "mini-group", x: grp.x, y: grp.y,
                                                               width: g.node_width, height: grp.height }));
  const port = mini.appendChild(svgEl("rect", { class: "mini-view" }));
  port.setAttribute("vector-effect", "non-scaling-stroke");
  holder.appendChild(mini);
  dag.mini = { svg: mini, port, scale };
  const jump = (e) => {
    const box = mini.getBoundingClientRect(), vb = mini.viewBox.baseVal;
    const s = Math.min(box.width / vb.width, box.height / vb.height);
    const ox = (box.width - vb.width * s) / 2, oy = (box.height - vb.height * s) / 2;
    centerOn((e.clientX - box.left - ox) / s, (e.clientY - box.top - oy) / s);
  };
  mini.addEventListener("pointerdown", (e) => {
    e.stopPropagation();
    jump(e);
    const move = (ev) => jump(ev);
    const up = () => { window.removeEventListener("pointermove", move); window.removeEventListener("pointerup", up); };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  });
  mini.addEventListener("wheel", (e) => e.stopPropagation());
}

function drawMiniViewport() {
  if (!dag.mini) return;
  const holder = dagHolder();
  const x = -dag.tx / dag.k, y = -dag.ty / dag.k;
  const port = dag.mini.port;
  port.setAttribute("x", x);
  port.setAttribute("y", y);
  port.setAttribute("width", holder.clientWidth / dag.k);
  port.setAttribute("height", holder.clientHeight / dag.k);
}

// -- pointer: wheel zooms at the cursor, a drag pans, a click still follows a link --
function wirePointer(holder) {
  holder.addEventListener("wheel", (e) => {
    if (!dag.data) return;
    e.preventDefault();
    const box = holder.getBoundingClientRect();
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    zoomAt(Math.exp(-delta * 0.0015), e.clientX - box.left, e.clientY - box.top);
  }, { passive: false });
  holder.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || !dag.data) return;
    const start = { x: e.clientX, y: e.clientY, tx: dag.tx, ty: dag.ty };
    dag.dragged = false;
    const move = (ev) => {
      const dx = ev.clientX - start.x, dy = ev.clientY - start.y;
      if (!dag.dragged && Math.hypot(dx, dy) < 4) return;
      dag.dragged = true;
      holder.classList.add("panning");
      dag.tx = start.tx + dx;
      dag.ty = start.ty + dy;
      applyView();
    };
    const up = () => {
      holder.classList.remove("panning");
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      setTimeout(() => { dag.dragged = false; }, 0);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  });
  // A drag that ends on a node must not open it.
  holder.addEventListener("click", (e) => { if (dag.dragged) { e.preventDefault(); e.stopPropagation(); } }, true);
  holder.addEventListener("dragstart", (e) => e.preventDefault());
}

// -- loading, expanding, finding -------------------------------------------------
async function loadDag(keepView = false) {
  const g = await api(dagUrl());
  if (g.too_large) { location.reload(); return null; }
  const view = { k: dag.k, tx: dag.tx, ty: dag.ty };
  dag.loadedAt = Date.now();
  const began = performance.now();
  drawGraph(g);
  if (keepView) Object.assign(dag, view);
  if (keepView) applyView(); else fitView();
  dagHolder().dataset.ready = "true";
  // For people and bench/webgui_latency.py: when the graph was drawn, and the drawing's own time.
  performance.measure("starshell:draw", { start: began });
  performance.mark("starshell:drawn");
  if (dag.found !== null) markFound(dag.found);
  return g;
}

async function expandLayer(layer, last = layer) {
  for (let l = layer; l <= last; l++) dag.expanded.add(l);
  const g = await loadDag(true);
  if (!g) return;
  const { top } = columnExtent(g, layer);
  const holder = dagHolder();
  const k = Math.max(dag.k, 0.7);
  centerOn(g.layers[layer].x + g.node_width / 2, top - 40 + holder.clientHeight / 2 / k, k);
  let size = 0;
  for (let l = layer; l <= last; l++) size += g.layers[l].size;
  toast(`${last > layer ? `Layers ${layer}–${last}` : `Layer ${layer}`}: ${num(size)} fireworks shown`);
}

async function collapseLayers(first, last) {
  for (let l = first; l <= last; l++) dag.expanded.delete(l);
  await loadDag(false);
}

function markFound(fwId) {
  for (const old of dag.svg.querySelectorAll("a.node.found")) old.classList.remove("found");
  const node = dag.svg.querySelector(`a.node[data-fw-id="${fwId}"]`);
  if (!node) return null;
  node.classList.add("found");
  return node;
}

async function reveal(fwId) {
  dag.found = fwId;
  let node = markFound(fwId);
  if (!node) {
    dag.pinned.add(fwId);
    await loadDag(true);
    node = markFound(fwId);
  }
  if (!node) { toast(`Firework ${fwId} is not in this graph.`, true); return; }
  const n = dag.data.nodes.find((m) => m.fw_id === fwId);
  centerOn(n.x + dag.data.node_width / 2, n.y + dag.data.node_height / 2, Math.max(dag.k, 1));
  node.focus({ preventScroll: true });
}

function wireFind() {
  const form = document.getElementById("dag-find");
  const list = document.getElementById("dag-matches");
  if (!form) return;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = form.querySelector("input").value.trim();
    if (!q) return;
    try {
      const { matches } = await api(`/workflows/${dag.wfId}/find?q=${encodeURIComponent(q)}`);
      list.replaceChildren(...matches.map((m) => {
        const li = el("li");
        const b = li.appendChild(el("button", { type: "button", "data-fw-id": m.fw_id }, `#${m.fw_id} ${m.name || ""}`));
        li.append(" ", badge(m.state));
        b.addEventListener("click", () => reveal(m.fw_id));
        return li;
      }));
      list.hidden = matches.length < 2;
      if (!matches.length) { toast(`No firework of this workflow has id or name “${q}”.`, true); return; }
      await reveal(matches[0].fw_id);
    } catch (err) {
      toast(err.message, true);
    }
  });
}

// Live states: recolour drawn nodes; redraw (keeping the view) when groups' counts move.
function dagApplyStates(s) {
  if (!dag.data) return;
  const countsKey = JSON.stringify(s.states);
  const moved = dag.countsKey !== undefined && dag.countsKey !== countsKey;
  const grouped = dag.data.groups.length || !s.fireworks;
  // A grouped graph is laid out again when its counts move, at most every REDRAW_MS.
  const due = Date.now() - (dag.loadedAt || 0) >= REDRAW_MS;
  if (s.total !== dag.data.total || (moved && grouped && due)) {
    dag.countsKey = countsKey;
    loadDag(true).catch((err) => console.warn(err));
    return;
  }
  if (!(moved && grouped)) dag.countsKey = countsKey;
  if (!s.fireworks) return;
  for (const node of dag.svg.querySelectorAll("a.node")) {
    const state = s.fireworks[node.dataset.fwId];
    if (state && state !== node.dataset.state) {
      node.classList.replace(`state-${node.dataset.state}`, `state-${state}`);
      node.dataset.state = state;
      node.setAttribute("aria-label", node.getAttribute("aria-label").replace(/: \w+$/, `: ${state}`));
    }
  }
}

function initDag(wfId) {
  const holder = dagHolder();
  if (!holder) return;
  dag.wfId = wfId;
  wirePointer(holder);
  wireFind();
  document.querySelectorAll("[data-zoom]").forEach((b) => b.addEventListener("click", () => zoomButton(b.dataset.zoom)));
  loadDag().catch((err) => { holder.textContent = `Cannot draw the graph: ${err.message}`; });
  window.addEventListener("resize", () => { if (dag.data) drawMiniViewport(); });
}
