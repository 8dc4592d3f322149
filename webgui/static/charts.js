// starshell web GUI: the "Over time" plots and a workflow's timeline, drawn with
// the vendored Chart.js (static/vendor/chartjs) from the JSON under /api/activity
// and /api/workflows/<id>/timeline. Colours come from the stylesheets, so the
// plots follow the light or dark theme and the one table of state colours.
"use strict";

(() => {
  const root = document.querySelector('meta[name="app-root"]').content;
  const charts = {};

  async function getJSON(path) {
    const response = await fetch(`${root}/api${path}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const body = await response.json().catch(() => ({ error: response.statusText }));
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  // A CSS custom property of :root, or of an element of the given class (state colours).
  function cssVar(name, className = null) {
    let probe = document.documentElement;
    if (className) {
      probe = document.createElement("span");
      probe.className = className;
      probe.hidden = true;
      document.body.appendChild(probe);
    }
    const value = getComputedStyle(probe).getPropertyValue(name).trim();
    if (className) probe.remove();
    return value;
  }

  // Once per state: each probe makes the browser recompute the page's styles (a timeline
  // of 100 launches asked 100 times).
  const colors = {};
  const stateColor = (state) => (colors[state] ??= cssVar("--fill", `state-${state}`) || "#888");

  function themeDefaults() {
    Chart.defaults.color = cssVar("--muted");
    Chart.defaults.borderColor = cssVar("--line");
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
  }

  function draw(canvas, config, points) {
    const began = performance.now();
    const chart = charts[canvas.id];
    if (chart && chart.config.type === config.type) {
      chart.data = config.data;
      chart.options = config.options;
      chart.update("none");
    } else {
      if (chart) chart.destroy();
      charts[canvas.id] = new Chart(canvas, config);
    }
    canvas.dataset.points = String(points);  // what was drawn, for people and tests alike
    // For people and bench/webgui_latency.py: when each plot was drawn, and the drawing's own time.
    performance.measure("starshell:draw", { start: began });
    performance.mark("starshell:drawn");
    return charts[canvas.id];
  }

  function seconds(value) {
    if (value < 60) return `${value < 10 ? value.toFixed(1) : Math.round(value)} s`;
    if (value < 3600) return `${Math.round(value / 60)} min`;
    return `${(value / 3600).toFixed(value < 36000 ? 1 : 0)} h`;
  }

  // -- completions and failures per interval ---------------------------------
  // `data`: what the page carried for its first interval; other intervals are asked for.
  async function loadFinished(interval, data = null) {
    data ??= await getJSON(`/activity/finished?interval=${encodeURIComponent(interval)}`);
    const label = (start) => (interval === "hours" ? `${start.slice(5, 10)} ${start.slice(11, 13)}h` : start.slice(5, 10));
    const series = (key, state, name) => ({
      label: name,
      data: data.buckets.map((b) => b[key]),
      backgroundColor: stateColor(state),
      stack: "finished",
    });
    document.getElementById("finished-totals").textContent =
      `${data.completed} completed and ${data.fizzled} fizzled in the last ${data.count} ${data.interval} (UTC).`;
    const canvas = document.getElementById("chart-finished");
    draw(canvas, {
      type: "bar",
      data: {
        labels: data.buckets.map((b) => label(b.start)),
        datasets: [series("completed", "COMPLETED", "Completed"), series("fizzled", "FIZZLED", "Fizzled")],
      },
      options: {
        scales: { x: { stacked: true, ticks: { autoSkip: true, maxRotation: 0 } },
                  y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { tooltip: { mode: "index", intersect: false } },
        onClick: (event, elements) => {
          const hit = elements[0];
          if (!hit) return;
          const day = data.buckets[hit.index].start.slice(0, 10);
          location.href = `${root}/fireworks?state=FIZZLED&since=${day}&until=${day}`;
        },
      },
    }, data.buckets.filter((b) => b.completed || b.fizzled).length);
  }

  function initFinished(data) {
    const buttons = document.querySelectorAll("button[data-interval]");
    for (const button of buttons) {
      button.addEventListener("click", () => {
        for (const b of buttons) b.setAttribute("aria-pressed", String(b === button));
        loadFinished(button.dataset.interval).catch(showError("finished-totals"));
      });
    }
    loadFinished(buttons[0].dataset.interval, data).catch(showError("finished-totals"));
  }

  // -- runtimes by task: one dot per launch, a row per task ---------------------
  async function loadRuntimes(data = null) {
    data ??= await getJSON("/activity/runtimes");
    const tasks = data.tasks;
    const jitter = (i) => ((i * 0.6180339887) % 1 - 0.5) * 0.5;  // spread dots without randomness
    const dataset = (state, name) => ({
      label: name,
      backgroundColor: stateColor(state),
      pointRadius: 3,
      parsing: false,  // already {x, y}: Chart.js need not copy and parse 1,000 points
      data: tasks.flatMap((t, row) => t.points.filter(([, s]) => s === state)
        .map(([secs], i) => ({ x: Math.max(secs, 0.001), y: row + jitter(i) }))),
    });
    const all = tasks.flatMap((t) => t.points.map(([secs]) => Math.max(secs, 0.001)));
    const logScale = all.length && Math.max(...all) / Math.min(...all) > 100;
    const canvas = document.getElementById("chart-runtimes");
    canvas.parentElement.style.height = `${Math.max(12, 4 + 3 * tasks.length)}rem`;
    const chart = draw(canvas, {
      type: "scatter",
      data: { datasets: [dataset("COMPLETED", "Completed"), dataset("FIZZLED", "Fizzled")] },
      options: {
        scales: {
          x: { type: logScale ? "logarithmic" : "linear", title: { display: true, text: "runtime" },
               ticks: { callback: (v) => seconds(Number(v)) } },
          y: { min: -0.6, max: Math.max(tasks.length - 0.4, 0.6), reverse: true, afterBuildTicks: (axis) => {
                 axis.ticks = tasks.map((_, i) => ({ value: i }));
               },
               ticks: { autoSkip: false, callback: (v) => (tasks[v] ? tasks[v].task.slice(0, 28) : "") } },
        },
        plugins: { tooltip: { callbacks: { label: (c) => `${tasks[Math.round(c.parsed.y)].task}: ${seconds(c.parsed.x)}` } } },
      },
    }, all.length);
    const body = document.querySelector("#runtime-table tbody");
    body.replaceChildren(...tasks.map((t) => {
      const row = document.createElement("tr");
      for (const text of [t.task, t.launches, t.fizzled, seconds(t.median), seconds(t.p90), seconds(t.max)]) {
        row.appendChild(document.createElement("td")).textContent = String(text);
      }
      return row;
    }));
    document.getElementById("runtimes-note").textContent = tasks.length
      ? `The newest ${data.launches} finished launches of the last ${data.days} days, one dot each (at most ${data.sample}).`
      : `No launch finished in the last ${data.days} days.`;
    return chart;
  }

  // -- a workflow's launches per host ------------------------------------------
  function packLanes(bars) {
    // Launches that overlap on one host get lanes of their own: "node1", "node1 · 2"...
    const ends = {};
    for (const bar of [...bars].sort((a, b) => a.start - b.start)) {
      const lanes = (ends[bar.host] = ends[bar.host] || []);
      let slot = lanes.findIndex((end) => end <= bar.start);
      if (slot < 0) slot = lanes.push(0) - 1;
      lanes[slot] = bar.end;
      bar.lane = slot ? `${bar.host} · ${slot + 1}` : bar.host;
    }
    return Object.keys(ends).sort().flatMap((host) => ends[host].map((_, i) => (i ? `${host} · ${i + 1}` : host)));
  }

  function clock(epochSeconds, span) {
    const text = new Date(epochSeconds * 1000).toISOString();
    return span > 86400 ? `${text.slice(5, 10)} ${text.slice(11, 16)}` : text.slice(11, span < 600 ? 19 : 16);
  }

  async function loadTimeline(wfId) {
    const data = await getJSON(`/workflows/${wfId}/timeline`);
    const bars = data.launches;
    const lanes = packLanes(bars);
    const span = Math.max((data.end || 0) - (data.start || 0), 1);
    const canvas = document.getElementById("chart-timeline");
    canvas.parentElement.style.height = `${Math.max(10, 4 + 2.2 * lanes.length)}rem`;
    if (!bars.length) document.getElementById("timeline-note").textContent = "No launch of this workflow has started yet.";
    else if (data.truncated) document.getElementById("timeline-note").textContent += ` Showing the newest ${bars.length} launches.`;
    draw(canvas, {
      type: "bar",
      data: {
        labels: lanes,
        datasets: [{
          label: "Launches",
          data: bars.map((b) => ({ x: [b.start, Math.max(b.end, b.start + span / 400)], y: b.lane })),
          backgroundColor: bars.map((b) => stateColor(b.state)),
          borderColor: bars.map((b) => (b.running ? cssVar("--text") : "transparent")),
          borderWidth: 1,
          borderSkipped: false,
          grouped: false,
          barPercentage: 0.8,
          categoryPercentage: 1,
        }],
      },
      options: {
        indexAxis: "y",
        scales: {
          x: { type: "linear", min: data.start, max: data.end, ticks: { callback: (v) => clock(Number(v), span), maxRotation: 0 } },
          y: { ticks: { autoSkip: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: {
            title: (items) => { const b = bars[items[0].dataIndex]; return `#${b.fw_id} ${b.name || ""}`; },
            label: (c) => { const b = bars[c.dataIndex]; return `${b.state} on ${b.host}: ${seconds(b.end - b.start)}${b.running ? " so far" : ""}`; },
          } },
        },
        onClick: (event, elements) => {
          if (elements[0]) location.href = `${root}/fireworks/${bars[elements[0].index].fw_id}`;
        },
      },
    }, bars.length);
  }

  const showError = (id) => (err) => {
    const note = document.getElementById(id);
    note.textContent = `Could not load the plot: ${err.message}`;
    note.classList.add("field-error");
  };

  function start() {
    if (typeof Chart === "undefined") return;
    themeDefaults();
    const page = document.body.dataset.page;
    if (page === "activity") {
      // The page carries both plots' data, sent last (webgui/late_data.py); after
      // {"error": ...} (the server could not read them) the plots ask /api, which says why.
      const plots = JSON.parse(document.getElementById("plot-data").textContent);
      initFinished(plots.finished);
      loadRuntimes(plots.runtimes).catch(showError("runtimes-note"));
    } else if (page === "timeline") {
      const wfId = document.querySelector("[data-wf-id]").dataset.wfId;
      loadTimeline(wfId).catch(showError("timeline-note"));
    }
    // Follow a switch between light and dark while the page is open.
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => location.reload());
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
