// starshell web GUI: the workflow and firework pages' actions, and the live firework page.
// Before an action that changes more than one firework (or deletes, or archives), the
// page asks the API what it would change and names that count in a confirmation.
// Uses the helpers of app.js (api, el, badge, toast, every, stateBar, when).
"use strict";

// -- confirmation ------------------------------------------------------------------
function confirmDialog(text, okLabel) {
  return new Promise((resolve) => {
    const dialog = el("dialog", { class: "confirm", "aria-labelledby": "confirm-text" });
    dialog.appendChild(el("p", { id: "confirm-text" }, text));
    const row = dialog.appendChild(el("div", { class: "confirm-buttons" }));
    const cancel = row.appendChild(el("button", { type: "button" }, "Cancel"));
    const ok = row.appendChild(el("button", { type: "button", class: "danger" }, okLabel));
    const done = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    cancel.addEventListener("click", () => done(false));
    ok.addEventListener("click", () => done(true));
    dialog.addEventListener("cancel", (e) => { e.preventDefault(); done(false); });
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

function describe(label, result) {
  const n = result.changed.length;
  let text = `${label}: ${n} firework${n === 1 ? "" : "s"} changed`;
  if (result.failed && result.failed.length) text += `; ${result.failed.length} refused (${result.failed[0].error})`;
  return text;
}

function priorityOf(bar) {
  const input = bar.querySelector("input[name=priority]");
  const value = input.value.trim() === "" ? NaN : Number(input.value);
  if (!Number.isFinite(value)) { input.focus(); throw new Error("Enter a number for the priority."); }
  return value;
}

// One click handler per bar: plan (counts from the API), confirm when it matters, act.
function wireBar(bar, { plan, act, after }) {
  bar.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    const action = button.dataset.action;
    button.disabled = true;
    try {
      const priority = action === "priority" ? priorityOf(bar) : undefined;
      const planned = await plan(action, button);
      if (planned && planned.needs_confirm) {
        const label = button.textContent.replace(/\s*\(\d+\)$/, "").trim();
        if (!(await confirmDialog(planned.confirm, label))) return;
      }
      const result = await act(action, button, priority);
      const message = describe(button.textContent.replace(/\s*\(\d+\)$/, "").trim(), result);
      await after(message, action, result);
    } catch (err) {
      toast(err.message, true);
    } finally {
      button.disabled = false;
    }
  });
}

function workflowBar(bar, reloadAfter) {
  const wfId = bar.dataset.wfId;
  const query = (button) => (button.dataset.state ? `?state=${encodeURIComponent(button.dataset.state)}` : "");
  wireBar(bar, {
    plan: (action, button) => api(`/workflows/${wfId}/actions/${action}${query(button)}`),
    act: (action, button) => api(`/workflows/${wfId}/actions`, { action, state: button.dataset.state || null }),
    after: reloadAfter,
  });
}

// -- workflow page ---------------------------------------------------------------------
function selectedIds() {
  return [...document.querySelectorAll(".pick:checked")].map((c) => Number(c.value));
}

// Show only the actions legal for at least one selected firework (launchpad/states.py's table).
function updateSelectionButtons() {
  const holder = document.querySelector(".selection-actions");
  if (!holder) return;
  const legal = JSON.parse(holder.dataset.legal);
  const states = [...document.querySelectorAll(".pick:checked")].map((c) => c.closest("tr").querySelector(".state-cell .badge").textContent);
  const allowed = new Set(states.flatMap((s) => legal[s] || []));
  for (const button of holder.querySelectorAll("button[data-action]")) {
    button.hidden = states.length > 0 && !allowed.has(button.dataset.action);
  }
  const priority = holder.querySelector(".priority");
  if (priority) priority.hidden = states.length > 0 && !allowed.has("priority");
}

function initWorkflowPage() {
  const head = document.querySelector("[data-wf-id]");
  const wfId = head.dataset.wfId;
  const refresh = async () => {
    const s = await api(`/workflows/${wfId}/states`);
    applyWorkflowStates(s);
    if (typeof dagApplyStates === "function") dagApplyStates(s);
  };
  if (head.dataset.drawable === "true" && typeof initDag === "function") initDag(wfId);
  const all = document.getElementById("select-all");
  if (all) all.addEventListener("change", () => { document.querySelectorAll(".pick").forEach((c) => { c.checked = all.checked; }); updateSelectionButtons(); });
  document.querySelectorAll(".pick").forEach((c) => c.addEventListener("change", updateSelectionButtons));
  const selection = document.querySelector('.actions[data-scope="selection"]');
  if (selection) {
    wireBar(selection, {
      plan: (action) => {
        const ids = selectedIds();
        if (!ids.length) throw new Error("Select one or more fireworks in the table first.");
        return api("/actions/preview", { action, fw_ids: ids });
      },
      act: (action, button, priority) => api("/actions", { action, fw_ids: selectedIds(), priority }),
      after: async (message) => { toast(message); await refresh(); },
    });
  }
  const bulk = document.querySelector('.actions[data-scope="workflow"]');
  if (bulk) {
    workflowBar(bulk, async (message, action) => {
      sessionStorage.setItem("starshell-toast", message);
      location.assign(action === "delete" ? `${ROOT}/workflows` : location.href);
    });
  }
  showPendingToast();
  every(REFRESH_MS, refresh);
}

function applyWorkflowStates(s) {
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
}

function showPendingToast() {
  const pending = sessionStorage.getItem("starshell-toast");
  if (pending) { sessionStorage.removeItem("starshell-toast"); toast(pending); }
}

// -- firework page: actions, and a live view while it runs -----------------------------------
function seconds(value) {
  if (typeof value !== "number") return "—";
  if (value < 60) return `${value.toFixed(1)} s`;
  const m = Math.floor(value / 60), h = Math.floor(m / 60);
  return h ? `${h} h ${String(m % 60).padStart(2, "0")} min` : `${m} min ${String(Math.floor(value % 60)).padStart(2, "0")} s`;
}

function renderTrackers(holder, trackers) {
  holder.replaceChildren(...trackers.map((t) => {
    const box = el("details", { class: "tail tracker", open: "" });
    const summary = box.appendChild(el("summary", {}, `Tracker: ${t.filename} `));
    summary.appendChild(el("span", { class: "muted" }, `(last ${t.nlines} lines)`));
    box.appendChild(el("pre", {}, t.content || "(empty)"));
    return box;
  }));
}

function applyLive(live) {
  const head = document.querySelector(".heading[data-fw-id]");
  head.dataset.state = live.state;
  document.getElementById("fw-state").replaceChildren(badge(live.state));
  document.getElementById("fw-updated").textContent = when(live.updated_on);
  const launch = live.launch;
  const article = launch && document.querySelector(`article.launch[data-launch-id="${launch.launch_id}"]`);
  if (!article) return;
  const set = (name, value) => { const node = article.querySelector(`[data-live="${name}"]`); if (node) node.replaceChildren(value); };
  set("state", badge(launch.state));
  set("ended", when(launch.time_end));
  const runtime = el("span", {}, seconds(launch.runtime_secs));
  if (launch.runtime_note) runtime.append(" ", el("span", { class: "muted" }, `(${launch.runtime_note})`));
  set("runtime", runtime);
  let ping = article.querySelector('[data-live="ping"]');
  if (!ping && launch.last_ping) {
    const facts = article.querySelector("dl.facts");
    facts.append(el("dt", {}, "Last heartbeat"));
    ping = facts.appendChild(el("dd", { "data-live": "ping" }));
  }
  if (ping) {
    ping.textContent = when(launch.last_ping);
    if (typeof launch.heartbeat_age_secs === "number") ping.append(" ", el("span", { class: "muted" }, `(${seconds(launch.heartbeat_age_secs)} ago)`));
  }
  const trackers = article.querySelector('[data-live="trackers"]');
  if (trackers && launch.trackers.length) renderTrackers(trackers, launch.trackers);
}

function watchRunning(fwId) {
  const badgeLive = document.getElementById("fw-live");
  let timer = null;
  const stop = (live) => {
    clearInterval(timer);
    badgeLive.hidden = false;
    badgeLive.replaceChildren(`● finished: ${live.state}. `);
    const again = badgeLive.appendChild(el("a", { href: location.href }, "Reload for its output"));
    again.classList.add("reload");
  };
  const tick = async () => {
    if (document.hidden) return;
    try {
      const live = await api(`/fireworks/${fwId}/live`);
      applyLive(live);
      if (!live.running) stop(live);
    } catch (err) {
      console.warn(err);
    }
  };
  badgeLive.hidden = false;
  timer = setInterval(tick, REFRESH_MS);
  tick();
}

// A firework that can still start (WAITING, READY, RESERVED): ask for its state only, less
// often each time nothing changed (up to once a minute), and reload into the live view once it
// runs or has run; stop when it can no longer start (paused, defused...).
const START_STATES = ["WAITING", "READY", "RESERVED"];

function watchStart(fwId, state) {
  const note = document.getElementById("fw-live");
  const longest = Math.max(REFRESH_MS * 12, 60_000);
  let wait = REFRESH_MS;
  note.hidden = false;
  note.textContent = "● watching for it to start";
  const check = async () => {
    try {
      if (!document.hidden) {
        const now = await api(`/fireworks/${fwId}/state`);
        if (now.state !== state) {
          if (!now.can_start) {
            if (["RUNNING", "COMPLETED", "FIZZLED"].includes(now.state)) {
              location.reload();
            } else {
              document.getElementById("fw-state").replaceChildren(badge(now.state));
              note.textContent = `● now ${now.state}: no longer watched. `;
              note.appendChild(el("a", { href: location.href, class: "reload" }, "Reload"));
            }
            return;
          }
          state = now.state;
          document.getElementById("fw-state").replaceChildren(badge(now.state));
          document.getElementById("fw-updated").textContent = when(now.updated_on);
          wait = REFRESH_MS;
        } else {
          wait = Math.min(wait * 1.5, longest);
        }
      }
    } catch (err) {
      console.warn(err);
      wait = Math.min(wait * 2, longest);
    }
    setTimeout(check, wait);
  };
  setTimeout(check, wait);
}

function initFireworkPage() {
  const head = document.querySelector(".heading[data-fw-id]");
  const fwId = head.dataset.fwId;
  showPendingToast();
  const reload = async (message, action) => {
    sessionStorage.setItem("starshell-toast", message);
    location.assign(action === "delete" ? `${ROOT}/workflows` : location.href);
  };
  const one = document.querySelector('.actions[data-scope="one"]');
  if (one) {
    wireBar(one, {
      plan: (action) => api("/actions/preview", { action, fw_ids: [Number(fwId)] }),
      act: (action, button, priority) => api(`/fireworks/${fwId}/${action}`, { priority }),
      after: reload,
    });
  }
  const whole = document.querySelector('.actions[data-scope="workflow"]');
  if (whole) workflowBar(whole, reload);
  if (head.dataset.state === "RUNNING") watchRunning(fwId);
  else if (START_STATES.includes(head.dataset.state)) watchStart(fwId, head.dataset.state);
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "workflow") initWorkflowPage();
  else if (page === "firework") initFireworkPage();
});
