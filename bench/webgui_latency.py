"""Web GUI latency at scale: every page and API call of the real ``lpad webgui``.

Builds an embedded store of N fireworks (bench/search_latency.py's builder:
workflows of 5), runs the first firework of ``--launched`` workflows over the
last two days (about 10% FIZZLED, with an error message, on 8 hosts) and adds
webgui.demo_history's workflows for the timeline. Then starts ``lpad webgui``
(waitress) in its own process on that store and measures:

- http: each URL through one keep-alive HTTP connection, gzip accepted as a
  browser does; median and 90th percentile of the wall time to the last byte;
  and the median CPU time of the same request in this process (Flask's test
  client on the same store), which the machine's other load does not inflate.
  ``/api/workflows/<id>/graph?pin=<N+i>`` pins another firework each request,
  so each is laid out anew: what the first (uncached) request of a graph costs.
- browser (``--browser``): Debian's Chromium through Playwright loads each
  page; Navigation Timing gives the document (request start to response end)
  and the whole load (to loadEventEnd); for the graph and plot pages also
  *drawn*, navigation start to the page's last ``starshell:drawn`` mark (its
  data fetched and drawn), and in brackets the drawing's own script time (the
  ``starshell:draw`` measures).

Prints one JSON line per measurement, the load average before and after, and
with ``--markdown`` a table. ``--store DIR`` keeps the store in DIR (built there
once) for the next run.

    python bench/webgui_latency.py --fireworks 100000 --launched 10000 --browser --markdown
"""

import argparse
import gzip
import http.client
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]
sys.path.append(os.path.join(ROOT, "tests"))  # webgui_process, shared with the tests

from search_latency import build  # noqa: E402  - the same large store as the search benchmark
from webgui_process import WebguiProcess  # noqa: E402

from launchpad import LaunchPad  # noqa: E402
from launchpad.states import LaunchState  # noqa: E402
from launchpad.stores import SQLiteStore  # noqa: E402
from webgui.demo import TEN_THOUSAND, THOUSAND, layered  # noqa: E402
from webgui.demo_history import ERRORS, SteppedClock, build_history  # noqa: E402

HOSTS = [f"node{i:03d}" for i in range(1, 9)]
DAG_SIZES = {1000: THOUSAND, 10000: TEN_THOUSAND}
CHROMIUM = "/usr/bin/chromium"


def run_launches(lp, workflows, seed=3):
    """Run the first firework of ``workflows`` workflows over the last 48 hours."""
    rng = random.Random(seed)
    end = datetime.now(timezone.utc)
    clock, kept = SteppedClock(end - timedelta(hours=48)), lp.clock
    lp.clock = clock
    step = timedelta(hours=48) / max(workflows, 1)
    try:
        for w in range(workflows):
            fw_id = w * 5 + 1  # search_latency's workflows of 5, ids in order
            clock.now += step
            _, launch_id = lp.claim_to_run(
                fw_id=fw_id, launch_dir=f"/scratch/{fw_id}", host=rng.choice(HOSTS), ip="10.0.0.1"
            )
            clock.now += timedelta(seconds=rng.uniform(1, 60))
            if rng.random() < 0.1:
                exception = {
                    "message": rng.choice(ERRORS),
                    "traceback": "Traceback ...\n" + rng.choice(ERRORS),
                }
                lp.complete_launch(
                    launch_id, state=LaunchState.FIZZLED.value, fw_id=fw_id, exception=exception
                )
            else:
                lp.complete_launch(launch_id, state=LaunchState.COMPLETED.value, fw_id=fw_id)
    finally:
        lp.clock = kept


def layered_dag(lp, sizes, name):
    """The tests' 1,000- or 10,000-firework layered DAG; a third done, a few failed or running.
    Returns its workflow id and its first firework's id."""
    new_ids = lp.add_wf(layered(sizes, name))
    ids = sorted(new_ids.values())
    third = len(ids) // 3
    lp.store.update_fireworks(ids[:third], {"state": "COMPLETED"})
    lp.store.update_fireworks(ids[third::37], {"state": "FIZZLED"})
    lp.store.update_fireworks(
        [i for i in ids[third + 1 :: 23] if (i - ids[third]) % 37], {"state": "RUNNING"}
    )
    return lp.wf_id_of(ids[0]), ids[0]


def make_store(home, n_fireworks, launched):
    """``n_fireworks`` in all: workflows of 5, and the 1,000- and 10,000-firework DAGs
    when there is room for them (the demo history's ~100 fireworks come on top)."""
    lp = LaunchPad(SQLiteStore(os.path.join(home, "launchpad.sqlite")))
    started = time.perf_counter()
    dags = [size for size in DAG_SIZES if sum(DAG_SIZES) * 2 <= n_fireworks]
    small = n_fireworks - sum(sum(DAG_SIZES[size]) for size in dags)
    build(lp, small)
    run_launches(lp, min(launched, small // 5))
    dag_ids = {size: layered_dag(lp, DAG_SIZES[size], f"layered DAG of {size}") for size in dags}
    history = build_history(lp, workflows=20, hours=24)
    fizzled = lp.get_fw_ids({"state": "FIZZLED"}, limit=1)
    ids = {
        "wf": small // 2 // 5,  # a workflow of 5 in the middle
        "fw": small // 2,
        "dags": {size: wf_id for size, (wf_id, _) in dag_ids.items()},
        "dag_first_fw": {size: first for size, (_, first) in dag_ids.items()},
        "fizzled": fizzled[0],
        "timeline": history["workflows"][-1],
        "build_s": round(time.perf_counter() - started, 1),
    }
    lp.store.close()
    return ids


def urls(ids):
    """Every page and the API calls they make (the JSON API is what the pages read)."""
    wf, fw, bad, tl = ids["wf"], ids["fw"], ids["fizzled"], ids["timeline"]
    today = datetime.now(timezone.utc).date().isoformat()
    return [
        "/",
        "/api/summary",
        "/workflows",
        "/api/workflows",
        "/workflows?q=relax",
        "/workflows?state=COMPLETED",
        "/workflows?page=400",
        f"/workflows/{wf}",
        f"/api/workflows/{wf}",
        f"/api/workflows/{wf}/graph",
        f"/api/workflows/{wf}/states",
        f"/api/workflows/{wf}/fireworks",
        f"/fireworks/{bad}",
        f"/api/fireworks/{bad}",
        f"/fireworks/{fw}",
        f"/api/fireworks/{fw}/state",
        f"/api/fireworks/{bad}/live",
        f"/api/fireworks/{fw}/actions",
        "/fireworks",
        "/fireworks?state=FIZZLED",
        "/api/fireworks?state=FIZZLED",
        "/fireworks?name=relax",
        "/fireworks?host=node003&state=FIZZLED",
        f"/fireworks?since={today}&until={today}",
        "/fireworks?sort=name",
        "/fireworks?page=1000",
        "/activity",
        "/api/activity/finished?interval=hours",
        "/api/activity/finished?interval=days",
        "/api/activity/runtimes",
        f"/workflows/{tl}/timeline",
        f"/api/workflows/{tl}/timeline",
        "/login",
        "/api/session",
    ] + [
        u
        for size, dag in ids.get("dags", {}).items()
        for u in (
            f"/workflows/{dag}",
            f"/api/workflows/{dag}/graph",
            # a firework of its first wide layer pinned, another each request: each is laid
            # out anew (uncached), as the first request for the graph is
            f"/api/workflows/{dag}/graph?pin=<{ids['dag_first_fw'][size] + 2}+i>",
        )
    ]


def nth(url, i):
    """The ``i``-th request of ``url``: ``<N+i>`` stands for the number N + i."""
    return re.sub(r"<(\d+)\+i>", lambda m: str(int(m.group(1)) + i), url)


def time_http(port, url, repeats):
    """Median and p90 wall milliseconds to the last byte over one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Accept-Encoding": "gzip", "Accept": "text/html,application/json"}
    walls, size, status = [], 0, None
    for i in range(repeats + 1):
        started = time.perf_counter()
        conn.request("GET", nth(url, i), headers=headers)
        response = conn.getresponse()
        body = response.read()
        wall = time.perf_counter() - started
        status = response.status
        gzipped = response.getheader("Content-Encoding") == "gzip"
        size = len(gzip.decompress(body)) if gzipped else len(body)  # small bodies go uncompressed
        if i:  # the first one warms caches and the connection
            walls.append(wall * 1000)
    conn.close()
    walls.sort()
    return {
        "url": url,
        "status": status,
        "median_ms": round(statistics.median(walls), 1),
        "p90_ms": round(walls[min(int(len(walls) * 0.9), len(walls) - 1)], 1),
        "bytes": size,
    }


def time_cpu(home, url, repeats):
    """Median CPU milliseconds of ``url`` in this process (Flask's test client, the same
    store): what a request costs, apart from the machine's other load."""
    from webgui import create_app

    if not hasattr(time_cpu, "client"):
        lp = LaunchPad(SQLiteStore(os.path.join(home, "launchpad.sqlite")))
        time_cpu.client = create_app({"TESTING": True}, lp).test_client()
    time_cpu.client.get(nth(url, 0)).get_data()
    spent = []
    for i in range(1, repeats + 1):
        started = time.process_time()
        time_cpu.client.get(nth(url, i)).get_data()  # a streamed page's parts are made here
        spent.append((time.process_time() - started) * 1000)
    spent.sort()
    return {
        "cpu_ms": round(statistics.median(spent), 1),
        "cpu_p90_ms": round(spent[min(int(len(spent) * 0.9), len(spent) - 1)], 1),
    }


NAVIGATION = """() => {
  const n = performance.getEntriesByType("navigation")[0];
  const api = performance.getEntriesByType("resource").filter((r) => r.name.includes("/api/"));
  return {document_ms: n.responseEnd - n.requestStart, load_ms: n.loadEventEnd - n.startTime,
          api_ms: Math.max(0, ...api.map((r) => r.duration))};
}"""
# The pages mark each graph or plot they draw (static/graph.js, static/charts.js): "starshell:drawn"
# when it is drawn, and a "starshell:draw" measure of the drawing's own script time.
DRAWN = """(n) => {
  const drawn = performance.getEntriesByName("starshell:drawn");
  if (drawn.length < n) return null;
  const draws = performance.getEntriesByName("starshell:draw").slice(0, n);
  return {ready_ms: drawn[n - 1].startTime, draw_ms: draws.reduce((sum, m) => sum + m.duration, 0)};
}"""


def plots_on(path):
    """How many graphs or plots a page draws when it loads."""
    if path == "/activity":
        return 2
    return 1 if "/timeline" in path or re.fullmatch(r"/workflows/\d+", path) else 0


def wait_drawn(page, plots, timeout=60):
    """The page's own marks, polled from the main world: Playwright's selector engine, which
    ``wait_for_selector`` injects into the page (~100 ms of script), would delay the drawing."""
    deadline = time.monotonic() + timeout
    while True:
        found = page.evaluate(DRAWN, plots)
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{page.url}: {plots} plots not drawn in {timeout} s")
        time.sleep(0.02)


def time_browser(port, paths, repeats):
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        for path in paths:
            samples = []
            for i in range(repeats + 1):
                page.goto(f"http://127.0.0.1:{port}{path}", wait_until="load")
                plots = plots_on(path)
                timing = {"ready_ms": None, "draw_ms": None, **(wait_drawn(page, plots) if plots else {})}
                timing.update(page.evaluate(NAVIGATION))
                if i:
                    samples.append(timing)
            row = {"url": path}
            for key in ("document_ms", "load_ms", "api_ms", "ready_ms", "draw_ms"):
                values = [s[key] for s in samples if s[key] is not None]
                row[key] = round(statistics.median(values), 1) if values else None
            rows.append(row)
        browser.close()
    return rows


def markdown(http_rows, browser_rows):
    by_url = {row["url"]: row for row in browser_rows}
    lines = [
        "| URL | HTTP wall median / p90 (ms) | CPU median / p90 (ms) | KB "
        "| browser: document / load / graph or plots drawn (their drawing) (ms) |",
        "|---|---|---|---|---|",
    ]
    for row in http_rows:
        b = by_url.get(row["url"])
        shown = (
            ""
            if not b
            else f"{b['document_ms']} / {b['load_ms']}"
            + (f" / {b['ready_ms']} ({b['draw_ms']})" if b["ready_ms"] else "")
        )
        lines.append(
            f"| `{row['url']}` | {row['median_ms']} / {row['p90_ms']} "
            f"| {row['cpu_ms']} / {row['cpu_p90_ms']} | {row['bytes'] // 1024} | {shown} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fireworks", type=int, default=100_000)
    parser.add_argument("--launched", type=int, default=10_000, help="workflows whose first firework ran")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--browser", action="store_true", help="also load the pages in Chromium")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--only", help="a regex: measure only matching URLs")
    parser.add_argument(
        "--store", help="a directory to keep the store in, built there once (saves ~1 min a run)"
    )
    args = parser.parse_args(argv)
    home = args.store or tempfile.mkdtemp(prefix="starshell-webgui-latency-")
    try:
        ids = kept_store(home, args) if args.store else make_store(home, args.fireworks, launched(args))
        print(json.dumps({"fireworks": args.fireworks, "launched": args.launched, **ids}), flush=True)
        print(json.dumps({"load_average": os.getloadavg()}), flush=True)
        try:
            gui = WebguiProcess(home, home, "-b")
        except RuntimeError as error:
            raise SystemExit(str(error)) from None
        try:
            wanted = [u for u in urls(ids) if not args.only or re.search(args.only, u)]
            http_rows = []
            for url in wanted:
                http_rows.append(
                    {**time_http(gui.port, url, args.repeats), **time_cpu(home, url, args.repeats)}
                )
                print(json.dumps(http_rows[-1]), flush=True)
            browser_rows = []
            if args.browser:
                pages = [u for u in wanted if not u.startswith("/api/")]
                browser_rows = time_browser(gui.port, pages, max(args.repeats // 3, 2))
                for row in browser_rows:
                    print(json.dumps({"browser": True, **row}), flush=True)
        finally:
            gui.stop()
        print(json.dumps({"load_average": os.getloadavg()}), flush=True)
        if args.markdown:
            print(markdown(http_rows, browser_rows))
    finally:
        if not args.store:
            shutil.rmtree(home, ignore_errors=True)


def launched(args):
    return min(args.launched, args.fireworks // 5)


def kept_store(home, args):
    """The ids of the store kept in ``home``, built there first if it is not there yet."""
    saved = os.path.join(home, "bench-ids.json")
    if not os.path.exists(saved):
        os.makedirs(home, exist_ok=True)
        with open(saved, "w", encoding="utf-8") as out:
            json.dump(make_store(home, args.fireworks, launched(args)), out)
    with open(saved, encoding="utf-8") as kept:
        ids = json.load(kept)
    for key in ("dags", "dag_first_fw"):  # JSON made the sizes strings
        ids[key] = {int(size): value for size, value in ids[key].items()}
    return ids


if __name__ == "__main__":
    main()
