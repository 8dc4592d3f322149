"""Issue 13 in real headless Chromium: large DAGs, safe actions, the live firework page.

The stores are built with the Python API (seconds); the server and browser
come from tests/test_webgui_browser.py. ``STARSHELL_DOCS_IMAGES=docs/images``
also writes the screenshots docs/webgui.md shows.
"""

import os
import shutil
import time

import pytest
from test_webgui_browser import PASSWORD, WAIT_MS, browser, serve, stop  # noqa: F401 (a fixture)
from user_commands import new_user

from launchpad import Firework, LaunchPad, Workflow
from launchpad.stores.sqlite import SQLiteStore
from launchpad.tasks import ScriptTask
from webgui.demo import TEN_THOUSAND, THOUSAND, build_demo, layered

pytestmark = pytest.mark.browser


def paint(lp, wf_id):
    """Finished first layers, a few failures and runs, so groups show several states."""
    ids = sorted(d["fw_id"] for d in lp.get_fws({"wf_id": wf_id}, fields=["fw_id"]))
    done, fizzled, running = ids[: len(ids) // 3], ids[len(ids) // 3 :: 37], ids[len(ids) // 3 + 1 :: 23]
    lp.store.update_fireworks(done, {"state": "COMPLETED"})
    lp.store.update_fireworks(fizzled, {"state": "FIZZLED"})
    lp.store.update_fireworks([i for i in running if i not in fizzled], {"state": "RUNNING"})


@pytest.fixture
def gui():
    """``start(lp)`` serves ``lp`` and returns its base url; every server stops at the end."""
    started = []

    def start(lp):
        started.append(serve(lp))
        return started[-1][2]

    yield start
    for server, thread, _ in started:
        stop(server, thread)


def new_page(browser):  # noqa: F811 (the fixture's value)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    return page


def shoot(page, tmp_path, name, part=None):
    path = tmp_path / f"{name}.png"
    (page.locator(part) if part else page).screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    docs = os.environ.get("STARSHELL_DOCS_IMAGES")
    if docs:
        shutil.copy(path, os.path.join(docs, f"{name}.png"))


def log_in(page, base, then):
    page.goto(f"{base}/login?next={then}")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}{then}")


def graph_box(page):
    return page.evaluate(
        """() => { const v = document.querySelector('#dag svg.graph g.view').getBoundingClientRect();
                   const h = document.getElementById('dag').getBoundingClientRect();
                   return {v: [v.left, v.top, v.right, v.bottom], h: [h.left, h.top, h.right, h.bottom]}; }"""
    )


def test_thousand_firework_dag_keeps_layers_fits_zooms_finds_and_expands(browser, gui, sqlite_lp, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    sqlite_lp.add_wf(layered(THOUSAND, "thousand layered"))
    wf_id = 1
    paint(sqlite_lp, wf_id)
    base = gui(sqlite_lp)
    page = new_page(browser)
    page.goto(f"{base}/workflows/{wf_id}")
    dag = page.locator("#dag")
    expect(dag).to_have_attribute("data-ready", "true", timeout=WAIT_MS)

    # Layers stay layers: each dense layer is one group node, all in distinct columns.
    groups = page.locator("svg.graph g.group")
    expect(groups).to_have_count(4)
    assert [int(groups.nth(i).get_attribute("data-count")) for i in range(4)] == [300, 300, 300, 98]
    xs = {round(groups.nth(i).bounding_box()["x"]) for i in range(4)}
    assert len(xs) == 4
    expect(page.locator("svg.graph a.node")).to_have_count(2)
    expect(page.locator("svg.minimap")).to_be_visible()
    # Fit on load: the whole drawing is inside the view at first sight.
    box = graph_box(page)
    assert box["v"][0] >= box["h"][0] - 1 and box["v"][2] <= box["h"][2] + 1
    assert box["v"][1] >= box["h"][1] - 1 and box["v"][3] <= box["h"][3] + 1
    assert groups.first.get_attribute("aria-label").startswith("Layer 1: 300 fireworks grouped (")
    shoot(page, tmp_path, "webgui-dag-1000", "section:has(#dag)")

    # The mouse wheel zooms at the cursor; a drag pans.
    scale = float(dag.get_attribute("data-scale"))
    middle = dag.bounding_box()
    page.mouse.move(middle["x"] + middle["width"] / 2, middle["y"] + middle["height"] / 2)
    page.mouse.wheel(0, -400)
    expect(dag).not_to_have_attribute("data-scale", f"{scale:.3f}")
    assert float(dag.get_attribute("data-scale")) > scale * 1.3
    before = page.locator("svg.graph g.view").get_attribute("transform")
    page.mouse.down()
    page.mouse.move(middle["x"] + 200, middle["y"] + 150, steps=5)
    page.mouse.up()
    assert page.locator("svg.graph g.view").get_attribute("transform") != before
    assert page.url.endswith(f"/workflows/{wf_id}")  # the drag opened nothing

    # Find by name: the firework leaves its group, is centred, marked and focused.
    page.locator("#dag-q").fill("L2 step 17")
    page.locator("#dag-q").press("Enter")
    found = page.locator("svg.graph a.node.found")
    expect(found).to_have_count(1, timeout=WAIT_MS)
    assert found.get_attribute("aria-label").startswith("Firework 319 L2 step 17")
    expect(found).to_be_focused()
    # ... and by id.
    page.locator("#dag-q").fill("905")
    page.locator("#dag-q").press("Enter")
    expect(page.locator('svg.graph a.node.found[data-fw-id="905"]')).to_have_count(1, timeout=WAIT_MS)

    # A group expands on click into its layer's 300 fireworks, one column; it collapses back.
    page.locator("[data-zoom=fit]").click()
    page.locator('svg.graph g.group[data-layer="1"]').click()
    expect(page.locator("svg.graph .frame-head")).to_have_count(1, timeout=WAIT_MS)
    layer_one = page.evaluate(
        "() => [...document.querySelectorAll('svg.graph a.node')].filter(a => "
        "+a.dataset.fwId >= 2 && +a.dataset.fwId <= 301).map(a => a.querySelector('rect').getAttribute('x'))"
    )
    assert len(layer_one) == 300 and len(set(layer_one)) == 1
    shoot(page, tmp_path, "webgui-dag-1000-expanded", "section:has(#dag)")
    page.locator("svg.graph .frame-head").click()
    expect(page.locator('svg.graph g.group[data-layer="1"]')).to_have_count(1, timeout=WAIT_MS)
    assert page.errors == []


def test_ten_thousand_firework_dag_degrades_to_grouped_layers(browser, gui, sqlite_lp, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    sqlite_lp.add_wf(layered(TEN_THOUSAND, "ten thousand layered"))
    paint(sqlite_lp, 1)
    base = gui(sqlite_lp)
    page = new_page(browser)
    start = time.perf_counter()
    page.goto(f"{base}/workflows/1")
    expect(page.locator("#dag")).to_have_attribute("data-ready", "true", timeout=WAIT_MS)
    assert time.perf_counter() - start < 5
    expect(page.locator("svg.graph g.group")).to_have_count(4)
    expect(page.get_by_text("too large")).to_have_count(0)
    expect(page.locator("#dag-note")).to_contain_text("9,998 in groups")
    shoot(page, tmp_path, "webgui-dag-10000", "section:has(#dag)")
    assert page.errors == []


def test_deep_chain_draws_spans_of_layers_that_open(browser, gui, sqlite_lp):  # noqa: F811
    from playwright.sync_api import expect

    fws = [Firework(ScriptTask(script="true"), name=f"step {i}", fw_id=i) for i in range(1, 1001)]
    sqlite_lp.add_wf(Workflow(fws, {i: [i + 1] for i in range(1, 1000)}, name="deep chain"))
    page = new_page(browser)
    page.goto(f"{gui(sqlite_lp)}/workflows/1")
    expect(page.locator("#dag")).to_have_attribute("data-ready", "true", timeout=WAIT_MS)
    spans = page.locator("svg.graph g.group")
    expect(spans).to_have_count(20)
    assert spans.first.get_attribute("aria-label").startswith("Layers 0 to 49: 50 fireworks grouped")
    spans.first.click()
    head = page.locator("svg.graph .frame-head")
    expect(head).to_have_text("Layers 0–49 · 50 fireworks · ▾ collapse", timeout=WAIT_MS)
    expect(page.locator("svg.graph a.node")).to_have_count(50)
    head.click()
    expect(spans).to_have_count(20, timeout=WAIT_MS)
    assert page.errors == []


def test_actions_are_legal_ones_and_confirm_with_counts(browser, gui, sqlite_lp, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    ids = build_demo(sqlite_lp, tmp_path / "launches")
    base = gui(sqlite_lp)
    page = new_page(browser)
    fizzled, completed = ids[3], ids[1]
    log_in(page, base, f"/fireworks/{fizzled}")

    # Only what a FIZZLED firework allows is offered.
    bar = page.locator('.actions[data-scope="one"]')
    assert bar.locator("button").all_inner_texts() == ["Rerun", "Defuse", "Set priority"]
    expect(page.locator('.actions[data-scope="workflow"] button')).to_have_text(
        ["Archive workflow", "Delete workflow"]
    )

    # Rerun names how many fireworks it changes (the firework and its descendants); cancel keeps it.
    bar.get_by_role("button", name="Rerun").click()
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_contain_text("This changes 3 fireworks")
    shoot(page, tmp_path, "webgui-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    assert sqlite_lp.get_fw_dict(fizzled, with_launches=False)["state"] == "FIZZLED"
    # Archive asks too, counting the whole workflow.
    page.locator('.actions[data-scope="workflow"]').get_by_role("button", name="Archive workflow").click()
    expect(dialog).to_contain_text("This changes 8 of its 8 fireworks")
    dialog.get_by_role("button", name="Cancel").click()
    bar.get_by_role("button", name="Rerun").click()
    dialog.get_by_role("button", name="Rerun").click()
    expect(page.locator("#fw-state .badge")).to_have_text("READY", timeout=WAIT_MS)
    expect(page.locator("#status")).to_contain_text("3 fireworks changed")

    # A COMPLETED firework offers no pause (defuse, yes: FireWorks reruns it, then defuses it);
    # the server refuses a pause posted anyway, saying why.
    page.goto(f"{base}/fireworks/{completed}")
    expect(page.locator('.actions[data-scope="one"] button')).to_have_text(
        ["Rerun", "Defuse", "Set priority"]
    )
    refused = page.evaluate(
        """async (id) => { const r = await fetch(`/api/fireworks/${id}/pause`, {method: 'POST',
             headers: {'Content-Type': 'application/json', 'X-CSRF-Token':
               document.querySelector('meta[name=csrf-token]').content}, body: '{}'});
           return [r.status, (await r.json()).error]; }""",
        completed,
    )
    assert refused == [
        409,
        f"firework {completed} is COMPLETED: pause is not possible (possible: rerun, defuse, priority)",
    ]
    page.errors.remove("Failed to load resource: the server responded with a status of 409 (CONFLICT)")

    # Bulk over the workflow: pausing it names how many fireworks it changes.
    page.goto(f"{base}/workflows/1")
    pause = page.locator('.actions[data-scope="workflow"]').get_by_role("button", name="Pause workflow")
    pausable = [
        d for d in sqlite_lp.get_fws({"wf_id": 1}, fields=["state"]) if d["state"] in ("WAITING", "READY")
    ]
    expect(pause).to_contain_text(f"({len(pausable)})")
    pause.click()
    expect(dialog).to_contain_text(f"This changes {len(pausable)} of its 8 fireworks")
    dialog.get_by_role("button", name="Pause workflow").click()
    expect(page.locator("#status")).to_contain_text(f"{len(pausable)} fireworks changed", timeout=WAIT_MS)
    assert sqlite_lp.fw_state_counts({"wf_id": 1}).get("PAUSED") == len(pausable)

    # A selection shows only the actions legal for the selected fireworks.
    page.locator(f'.pick[value="{completed}"]').check()
    selection = page.locator('.actions[data-scope="selection"]')
    expect(selection.locator("button:visible")).to_have_text(["Rerun", "Defuse", "Set priority"])
    assert page.errors == []


def test_running_firework_page_is_live(browser, gui, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    user = new_user(tmp_path)
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    script = "for i in 1 2 3 4 5 6; do echo step $i >> progress.txt; sleep 1; done"
    fw = Firework(
        ScriptTask(script=script),
        name="slow",
        spec={"_trackers": [{"filename": "progress.txt", "nlines": 3}]},
    )
    lp.add_wf(Workflow([fw], name="live"))
    (user.work / "FW_config.yaml").write_text("PING_TIME_SECS: 1\n")
    rocket = user.start("rlaunch", "singleshot")
    try:
        deadline = time.time() + 20
        while lp.get_fw_dict(1, with_launches=False)["state"] != "RUNNING" and time.time() < deadline:
            time.sleep(0.1)
        base = gui(lp)
        page = new_page(browser)
        page.goto(f"{base}/fireworks/1")
        expect(page.locator("#fw-live")).to_contain_text("live")
        page.evaluate("window.notReloaded = true")
        launch = page.locator("article.launch").first
        expect(launch.locator('[data-live="ping"]')).to_contain_text("ago", timeout=WAIT_MS)
        expect(launch.locator('[data-live="trackers"] pre')).to_contain_text("step 3", timeout=WAIT_MS)
        expect(launch.locator('[data-live="runtime"]')).to_contain_text("so far")
        shoot(page, tmp_path, "webgui-live")
        # It ends: the page says so, shows the final state and runtime, and stops polling.
        expect(page.locator("#fw-state .badge")).to_have_text("COMPLETED", timeout=20_000)
        expect(page.locator("#fw-live")).to_contain_text("finished: COMPLETED")
        expect(launch.locator('[data-live="runtime"]')).not_to_contain_text("so far")
        assert page.evaluate("window.notReloaded") is True
        # The ScriptTask wrote no file: the reloaded page says where its output went.
        page.reload()
        note = launch.locator(".output-note")
        expect(note).to_contain_text("stdout not saved: it went to the rlaunch process's own output")
        assert page.errors == []
    finally:
        rocket.kill()
        rocket.wait(timeout=10)


def test_ready_firework_page_turns_live_when_it_starts(browser, gui, tmp_path):  # noqa: F811
    """A page opened before the run polls the state ever less often, and turns into the live
    view by itself when a real rlaunch starts the firework; it stops once the firework ends."""
    from playwright.sync_api import expect

    user = new_user(tmp_path)
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    lp.add_wf(Workflow([Firework(ScriptTask(script="sleep 10"), name="later")], name="not yet"))
    base = gui(lp)
    page = new_page(browser)
    polls = []
    page.on("request", lambda r: "/api/fireworks/1/" in r.url and polls.append((time.time(), r.url)))
    page.goto(f"{base}/fireworks/1")
    expect(page.locator("#fw-state .badge")).to_have_text("READY")
    expect(page.locator("#fw-live")).to_contain_text("watching for it to start")
    page.wait_for_timeout(4800)
    # Backing off from the 1 s refresh: at about 1, 2.5 and 4.75 s, not every second.
    assert 2 <= len(polls) <= 3 and all(url.endswith("/state") for _, url in polls), polls
    # Polls now come ~5 and ~8 s apart: a 10 s run is seen RUNNING however slow rlaunch starts.
    rocket = user.start("rlaunch", "singleshot")
    try:
        expect(page.locator("#fw-state .badge")).to_have_text("RUNNING", timeout=20_000)
        expect(page.locator("#fw-live")).to_contain_text("live: refreshing")
        expect(page.locator("article.launch")).to_have_count(1)
        expect(page.locator("#fw-state .badge")).to_have_text("COMPLETED", timeout=20_000)
        expect(page.locator("#fw-live")).to_contain_text("finished: COMPLETED")
        assert rocket.wait(timeout=30) == 0
        # Ended: nothing more is asked.
        asked = len(polls)
        page.wait_for_timeout(2500)
        assert len(polls) == asked
        assert page.errors == []
    finally:
        rocket.kill()
        rocket.wait(timeout=10)
