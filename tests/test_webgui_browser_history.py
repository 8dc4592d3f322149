"""In real headless Chromium: the fireworks page's filters, the plots over time,
a workflow's timeline, the dark theme and a narrow window.

Driven like tests/test_webgui_browser.py (Debian's chromium through
Playwright, skipped without them except in CI). Screenshots go to
``$STARSHELL_SCREENSHOT_DIR`` when set (docs/images is made that way), else
to the test's tmp_path.
"""

import os
import threading

import pytest
from test_webgui_browser import WAIT_MS, browser  # noqa: F401 - the Chromium fixture, shared

from webgui import create_app, make_server
from webgui.demo_history import HOSTS, build_history

pytestmark = pytest.mark.browser


@pytest.fixture
def served(sqlite_lp):
    """Twelve workflows run over the last 30 hours, behind a real HTTP server."""
    built = build_history(sqlite_lp, workflows=12, hours=30)
    server = make_server(create_app({}, sqlite_lp), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", sqlite_lp, built
    finally:
        server.shutdown()
        thread.join(timeout=10)


def new_page(browser, width=1280, scheme="light"):  # noqa: F811 - the fixture's value
    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    return page


def shoot(page, tmp_path, name):
    folder = os.environ.get("STARSHELL_SCREENSHOT_DIR") or str(tmp_path)
    page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def test_failures_page_filters_sorts_and_shows_errors(browser, served, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    base, lp, built = served
    page = new_page(browser)
    page.goto(base + "/")
    page.get_by_role("link", name="All FIZZLED fireworks").click()
    rows = page.locator("table.fireworks tbody tr")
    expect(rows).to_have_count(len(built["fizzled"]))
    expect(page.locator("table.fireworks .row-error")).to_have_count(len(built["fizzled"]))
    shoot(page, tmp_path, "failures")

    host = lp.get_launches({"fw_id": built["fizzled"][0]}, fields=["host"])[0]["host"]
    page.get_by_label("Worker host").fill(host)
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#fw-total")).not_to_have_text(f"{len(built['fizzled'])} fireworks")
    on_host = {d["fw_id"] for d in lp.get_launches({"host": host}, fields=["fw_id"])}
    shown = {int(i) for i in rows.evaluate_all("rows => rows.map(r => r.dataset.fwId)")}
    assert shown == on_host & set(built["fizzled"])

    page.get_by_label("State").select_option("")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Id", exact=True).click()
    ids = [int(i) for i in rows.evaluate_all("rows => rows.map(r => r.dataset.fwId)")]
    assert ids == sorted(ids) and set(ids) == on_host
    assert page.errors == []


def test_plots_over_time_draw_their_data(browser, served, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    base, lp, built = served
    page = new_page(browser)
    page.goto(base + "/activity")
    finished = page.locator("#chart-finished[data-points]")
    expect(finished).to_have_count(1, timeout=WAIT_MS)
    drawn = page.evaluate(
        "() => Chart.getChart('chart-finished').data.datasets.map(d => d.data.reduce((a, b) => a + b, 0))"
    )
    launches = lp.get_launches({"state": {"$in": ["COMPLETED", "FIZZLED"]}}, fields=["state"])
    assert sum(drawn) == len(launches) and drawn[1] == len(built["fizzled"])
    runtimes = page.locator("#chart-runtimes[data-points]")
    expect(runtimes).to_have_attribute("data-points", str(len(launches)), timeout=WAIT_MS)
    expect(page.locator("#runtime-table tbody tr")).to_have_count(2)
    shoot(page, tmp_path, "over-time")
    page.get_by_role("button", name="Last 30 days").click()
    expect(page.locator("#finished-totals")).to_contain_text("30 days")
    assert page.evaluate("Chart.getChart('chart-finished').data.labels.length") == 30
    assert page.errors == []


def test_timeline_shows_a_workflows_launches_per_host(browser, served, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    base, lp, built = served
    wf_id = built["workflows"][3]
    page = new_page(browser)
    page.goto(f"{base}/workflows/{wf_id}/timeline")
    fw_ids = lp.get_fw_ids({"wf_id": wf_id})
    launches = lp.get_launches({"fw_id": {"$in": fw_ids}}, fields=["host"])
    expect(page.locator("#chart-timeline")).to_have_attribute(
        "data-points", str(len(launches)), timeout=WAIT_MS
    )
    lanes = page.evaluate("Chart.getChart('chart-timeline').data.labels")
    assert {lane.split(" · ")[0] for lane in lanes} == {d["host"] for d in launches} and set(lanes) <= {
        f"{h} · {n}" for h in HOSTS for n in range(2, 5)
    } | set(HOSTS)
    shoot(page, tmp_path, "timeline")
    assert page.errors == []


def test_pages_ask_for_their_data_once_and_mark_their_drawing(browser, served):  # noqa: F811
    """The data is preloaded beside the scripts and the scripts take that answer: a second
    request would mean the preload was wasted. The "Over time" page carries its data and
    asks for none. Each drawing leaves a performance mark."""
    base, lp, built = served
    wf_id = built["workflows"][3]
    page = new_page(browser)
    asked = []
    page.on("request", lambda r: "/api/" in r.url and asked.append(r.url.split("/api", 1)[1]))
    for path, plots, data in [
        ("/activity", 2, []),
        (f"/workflows/{wf_id}/timeline", 1, [f"/workflows/{wf_id}/timeline"]),
        (f"/workflows/{wf_id}", 1, [f"/workflows/{wf_id}/graph"]),
    ]:
        asked.clear()
        page.goto(base + path)
        marks = "() => performance.getEntriesByName('starshell:drawn').length"
        for _ in range(200):
            if page.evaluate(marks) >= plots:
                break
            page.wait_for_timeout(50)
        assert page.evaluate(marks) == plots, path
        assert sorted(asked) == sorted(data), path
    assert page.errors == []


def test_plots_whose_data_the_server_failed_to_read_ask_the_api(browser, served, monkeypatch):  # noqa: F811
    """The page's status line goes out before its data are read (webgui/late_data.py): a
    read that fails there reaches the scripts as {"error": ...}, and they ask the API."""
    from playwright.sync_api import expect

    from webgui import activity as over_time

    base, lp, built = served
    real, failures = over_time.runtimes_by_task, []

    def fails_once(lp, args):
        if not failures:
            failures.append(args)
            raise RuntimeError("the store went away for a moment")
        return real(lp, args)

    monkeypatch.setattr(over_time, "runtimes_by_task", fails_once)
    page = new_page(browser)
    asked = []
    page.on("request", lambda r: "/api/" in r.url and asked.append(r.url.split("/api", 1)[1]))
    page.goto(base + "/activity")
    launches = lp.get_launches({"state": {"$in": ["COMPLETED", "FIZZLED"]}}, fields=["state"])
    runtimes = page.locator("#chart-runtimes[data-points]")
    expect(runtimes).to_have_attribute("data-points", str(len(launches)), timeout=WAIT_MS)
    expect(page.locator("#chart-finished[data-points]")).to_have_count(1, timeout=WAIT_MS)
    assert failures and sorted(asked) == ["/activity/finished?interval=hours", "/activity/runtimes"]
    assert page.errors == []


def test_dark_theme_follows_the_system_setting(browser, served):  # noqa: F811
    base = served[0]
    colours = {}
    for scheme in ("light", "dark"):
        page = new_page(browser, scheme=scheme)
        page.goto(base + "/fireworks?state=FIZZLED")
        colours[scheme] = page.evaluate(
            """() => [getComputedStyle(document.documentElement).backgroundColor,
                      getComputedStyle(document.querySelector('.badge.state-FIZZLED')).backgroundColor]"""
        )
        page.close()
    assert colours["light"] == ["rgb(244, 246, 248)", "rgb(198, 40, 40)"]
    assert colours["dark"] == ["rgb(17, 24, 30)", "rgb(239, 83, 80)"]


def test_workflow_table_stays_aligned_on_a_narrow_window(browser, served, tmp_path):  # noqa: F811
    base = served[0]
    page = new_page(browser, width=400)
    page.goto(base + "/workflows")
    columns = page.evaluate(
        """() => {
          const visible = (cells) => [...cells].filter((c) => c.offsetParent !== null)
            .map((c) => Math.round(c.getBoundingClientRect().left));
          const table = document.querySelector('table.grid');
          const rows = [...table.tBodies[0].rows].map((r) => visible(r.cells));
          const overflow = document.documentElement.scrollWidth - window.innerWidth;
          return {head: visible(table.tHead.rows[0].cells), rows, overflow};
        }"""
    )
    assert columns["rows"] and all(row == columns["head"] for row in columns["rows"]), columns
    assert columns["overflow"] <= 0, columns
    shoot(page, tmp_path, "workflows-narrow")
