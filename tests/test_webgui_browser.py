"""End to end in real headless Chromium: dashboard, workflow graph, login, rerun.

Debian's chromium (ci/install-browser.sh) driven by Python Playwright through
``executable_path``; Playwright's own browser download is never used. The
app runs on a free port of 127.0.0.1 in a thread of the test process.
Without chromium or Playwright the test is skipped, except in CI
(``CI=true``) where it fails so the gap cannot go unnoticed.
"""

import logging
import os
import threading

import pytest
from werkzeug.security import generate_password_hash

from webgui import create_app, make_server
from webgui.demo import build_demo

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser-secret"
WAIT_MS = 10_000


def unavailable(reason):
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module (starting one takes seconds); each test opens its own page."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Python Playwright is missing: pip install playwright (never `playwright install`)")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing: run ci/install-browser.sh")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def serve(lp):
    """``lp`` behind a real HTTP server in a thread, with actions behind PASSWORD:
    ``(server, thread, base url)``; ``stop`` ends it."""
    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    app = create_app({"STARSHELL_PASSWORD_HASH": password_hash, "STARSHELL_REFRESH_SECONDS": 1}, lp)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}"


def stop(server, thread):
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def served(sqlite_lp, tmp_path):
    """The demo store behind a real HTTP server; yields (base url, LaunchPad, ids)."""
    ids = build_demo(sqlite_lp, tmp_path / "launches")
    server, thread, base = serve(sqlite_lp)
    try:
        yield base, sqlite_lp, ids
    finally:
        stop(server, thread)


def test_dashboard_workflow_login_and_rerun(browser, served, tmp_path):
    from playwright.sync_api import expect

    base, lp, ids = served
    fizzled = ids[3]
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))

    # The dashboard shows counts and refreshes them without reloading.
    page.goto(base + "/")
    expect(page.locator('li[data-kind="fireworks"][data-state="FIZZLED"] .n')).to_have_text("1")
    page.evaluate("window.notReloaded = true")
    lp.pause_fw(ids[5])
    paused_count = page.locator('li[data-kind="fireworks"][data-state="PAUSED"] .n')
    expect(paused_count).to_have_text("1", timeout=WAIT_MS)
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    # The workflow list leads to the workflow, whose graph shows the FIZZLED node.
    page.get_by_role("link", name="Workflows", exact=True).click()
    page.get_by_role("link", name="semiconductor band gaps").click()
    node = page.locator(f'svg.graph a.node[data-fw-id="{fizzled}"]')
    expect(node).to_have_class("node state-FIZZLED", timeout=WAIT_MS)
    expect(page.locator("svg.graph a.node")).to_have_count(8)
    page.screenshot(path=str(tmp_path / "workflow.png"), full_page=True)

    # Log in; the login form brings us back to the workflow.
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert page.url.endswith("/workflows/1")

    # Open the FIZZLED firework from the graph with the keyboard, and rerun it.
    page.locator(f'svg.graph a.node[data-fw-id="{fizzled}"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#fw-state .badge")).to_have_text("FIZZLED")
    expect(page.get_by_text("SCF did not converge in 60 steps").first).to_be_visible()
    page.get_by_role("button", name="Rerun").click()
    confirm = page.locator("dialog.confirm")  # it has descendants: the page asks, naming the count
    expect(confirm).to_contain_text("This changes 3 fireworks: it and its 2 descendants")
    confirm.get_by_role("button", name="Rerun").click()
    expect(page.locator("#fw-state .badge")).to_have_text("READY", timeout=WAIT_MS)
    expect(page.locator("#status")).to_contain_text("3 fireworks changed")
    page.screenshot(path=str(tmp_path / "firework.png"), full_page=True)
    assert lp.get_fw_dict(fizzled, with_launches=False)["state"] == "READY"

    # Back on the workflow page the node has changed colour.
    page.go_back()
    page.reload()
    expect(page.locator(f'svg.graph a.node[data-fw-id="{fizzled}"]')).to_have_class(
        "node state-READY", timeout=WAIT_MS
    )
    page.screenshot(path=str(tmp_path / "workflow-after-rerun.png"), full_page=True)
    for name in ("dashboard", "workflow", "firework", "workflow-after-rerun"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    assert errors == []
