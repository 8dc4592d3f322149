"""The real ``lpad webgui`` process, attacked over HTTP as a stranger would.

Each test starts ``lpad webgui`` in its own process (fresh environment,
STARSHELL_HOME and working directory in tmp) and talks to it with an HTTP
client: a catastrophic regex must not freeze the dashboard, a logged-out
cookie must not act, passwords cannot be guessed quickly, a foreign Host
header is refused, responses are compressed, FireWorks' URLs redirect.
"""

import re
import subprocess
import threading
import time

import pytest
import requests
from webgui_process import WebguiProcess, lpad_command, user_env

from launchpad import Firework, LaunchPad, Workflow
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask
from webgui.passwd import write_password_file

PASSWORD = "correct horse battery"
CATASTROPHIC = '{"name": {"$regex": "^(.|.){0,22}Q"}}'  # ~1 s a name in Python's re, holding the GIL


def fill_store(home, workflows=40):
    """Workflows whose names make a backtracking regex slow (no Q in 40 characters)."""
    lp = LaunchPad(SQLiteStore(home / "launchpad.sqlite"))
    for i in range(workflows):
        fws = [Firework(ScriptTask(script="true"), fw_id=1, name=f"relax {'a' * 36} {i}")]
        lp.add_wf(Workflow(fws, {}, name=f"{'b' * 40} {i}"))
    lp.store.close()


class Gui(WebguiProcess):
    """``lpad webgui`` over a store of ``workflows`` slow-to-regex workflows."""

    def __init__(self, tmp_path, *options, workflows=40):
        self.home, self.work = tmp_path / "home", tmp_path / "work"
        self.home.mkdir()
        self.work.mkdir()
        fill_store(self.home, workflows)
        super().__init__(self.home, self.work, *options)


@pytest.fixture
def gui(tmp_path):
    password_file = tmp_path / "gui.passwd"
    write_password_file(str(password_file), PASSWORD)
    server = Gui(tmp_path, "--password-file", str(password_file))
    server.password_file = password_file
    yield server
    server.stop()


def token_of(page):
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def logged_in_session(gui, password=PASSWORD):
    s = requests.Session()
    login = s.post(
        f"{gui.url}/login",
        data={"password": password, "csrf_token": token_of(s.get(f"{gui.url}/login").text)},
        allow_redirects=False,
    )
    assert login.status_code == 302, login.text
    return s, token_of(s.get(f"{gui.url}/").text)


def act(gui, cookies, token, fw_id=1, action="pause"):
    return requests.post(
        f"{gui.url}/api/fireworks/{fw_id}/{action}", json={}, cookies=cookies, headers={"X-CSRF-Token": token}
    )


# -- item 3: one request cannot hold the server ---------------------------------------
def test_a_catastrophic_regex_neither_hangs_nor_blocks_the_dashboard(gui):
    slow = {}

    def attack():
        started = time.monotonic()
        slow["response"] = requests.get(
            f"{gui.url}/api/workflows", timeout=120, params={"query": CATASTROPHIC}
        )
        slow["seconds"] = time.monotonic() - started

    attacker = threading.Thread(target=attack)
    attacker.start()
    time.sleep(0.3)
    started = time.monotonic()
    dashboard = requests.get(f"{gui.url}/", timeout=60)
    waited = time.monotonic() - started
    attacker.join(timeout=120)
    assert dashboard.status_code == 200
    assert waited < 3, f"the dashboard took {waited:.1f} s while a regex query ran"
    assert slow["response"].status_code == 200 and slow["response"].json()["total"] == 0
    assert slow["seconds"] < 5, f"the regex query took {slow['seconds']:.1f} s"


def test_a_query_past_its_time_budget_is_stopped_with_a_clear_error(tmp_path):
    server = Gui(tmp_path, "--query-seconds", "0.000001", workflows=20)
    try:
        response = requests.get(
            f"{server.url}/api/workflows", timeout=60, params={"query": '{"metadata.project": "x"}'}
        )
        assert response.status_code == 400
        assert response.json()["type"] == "QueryTimeoutError"
        assert "ran longer than 1e-06 s and was stopped" in response.json()["error"]
        assert requests.get(f"{server.url}/api/summary", timeout=30).status_code == 200
    finally:
        server.stop()


# -- item 4: sessions that end, guessing slowed, DNS rebinding refused --------------------
def test_logout_ends_the_session_on_the_server(gui):
    s, token = logged_in_session(gui)
    stolen = dict(s.cookies)
    assert act(gui, stolen, token).status_code == 200
    assert s.post(f"{gui.url}/logout", data={"csrf_token": token}, allow_redirects=False).status_code == 302
    replayed = act(gui, stolen, token, action="resume")
    assert replayed.status_code in (401, 403), replayed.text
    assert "PAUSED" in requests.get(f"{gui.url}/api/fireworks/1", timeout=30).text


def test_a_password_change_ends_existing_sessions(gui):
    s, token = logged_in_session(gui)
    assert act(gui, dict(s.cookies), token).status_code == 200
    time.sleep(0.01)  # a different modification time, even on coarse clocks
    write_password_file(str(gui.password_file), "a new password")
    assert act(gui, dict(s.cookies), token, action="resume").status_code == 401
    refused = requests.Session()
    page = refused.get(f"{gui.url}/login").text
    assert (
        refused.post(
            f"{gui.url}/login",
            data={"password": PASSWORD, "csrf_token": token_of(page)},
            allow_redirects=False,
        ).status_code
        == 401
    )
    s2, token2 = logged_in_session(gui, "a new password")
    assert act(gui, dict(s2.cookies), token2, action="resume").status_code == 200


def test_password_guessing_is_rate_limited_per_client(gui):
    s = requests.Session()
    token = token_of(s.get(f"{gui.url}/login").text)
    codes = [
        s.post(
            f"{gui.url}/login", data={"password": f"guess {i}", "csrf_token": token}, allow_redirects=False
        ).status_code
        for i in range(5)
    ]
    assert codes == [401] * 5
    blocked = s.post(
        f"{gui.url}/login", data={"password": PASSWORD, "csrf_token": token}, allow_redirects=False
    )
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 300
    assert "try again in" in blocked.text


@pytest.mark.parametrize(
    "host, status",
    [
        ("evil.example", 400),
        ("evil.example:5000", 400),
        ("127.0.0.1.nip.io", 400),
        ("localhost", 200),
        ("127.0.0.1:5000", 200),
        ("[::1]:5000", 200),
    ],
)
def test_loopback_server_refuses_foreign_host_headers(gui, host, status):
    """DNS rebinding: a page on evil.example whose name now points at 127.0.0.1."""
    response = requests.get(f"{gui.url}/api/summary", headers={"Host": host}, timeout=30)
    assert response.status_code == status


# -- issue 13: serving ------------------------------------------------------------------
def test_responses_are_gzip_compressed(gui):
    response = requests.get(f"{gui.url}/workflows", headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]


def test_fireworks_urls_redirect_to_ours(gui):
    def target(path):
        response = requests.get(gui.url + path, allow_redirects=False, timeout=30)
        assert response.status_code == 301, path
        return response.headers["Location"].replace(gui.url, "")

    assert target("/fw/5") == "/fireworks/5"
    assert target("/wf/5") == "/workflows/5"  # FireWorks names a workflow by a firework's id
    assert target("/fw/5/details") == "/api/fireworks/5"
    assert target("/wf/COMPLETED/") == "/workflows?state=COMPLETED"
    assert target("/wf/") == "/workflows"
    assert requests.get(f"{gui.url}/wf/9999", timeout=30).status_code == 404


def test_fireworks_options_are_accepted(tmp_path):
    server = Gui(tmp_path, "-s", "-b", "--nworkers", "2", workflows=1)
    try:
        assert requests.get(f"{server.url}/", timeout=30).status_code == 200
    finally:
        server.stop()


def test_fireworks_base_queries_narrow_what_the_gui_shows(tmp_path):
    server = Gui(
        tmp_path,
        "--wflowquery",
        '{"name": {"$regex": " [12]$"}}',
        "--fwquery",
        '{"name": {"$regex": " 1$"}}',
        workflows=3,
    )
    try:
        summary = requests.get(f"{server.url}/api/summary", timeout=30).json()
        assert summary["total_workflows"] == 2 and summary["total_fireworks"] == 1
        listed = requests.get(f"{server.url}/api/workflows", timeout=30).json()
        assert sorted(w["name"][-1] for w in listed["items"]) == ["1", "2"]
    finally:
        server.stop()


def test_fireworks_basic_auth_guards_every_page(tmp_path):
    server = Gui(tmp_path, "--webgui_username", "ana", "--webgui_password", "pw", workflows=1)
    try:
        anonymous = requests.get(f"{server.url}/api/summary", timeout=30)
        assert anonymous.status_code == 401 and "Basic" in anonymous.headers["WWW-Authenticate"]
        assert requests.get(f"{server.url}/", auth=("ana", "pw"), timeout=30).status_code == 200
        codes = [
            requests.get(f"{server.url}/", auth=("ana", f"x{i}"), timeout=30).status_code for i in range(6)
        ]
        assert codes == [401] * 5 + [429]
    finally:
        server.stop()


@pytest.mark.parametrize(
    "options, words",
    [
        (["--webgui_username", "ana"], "both --webgui_username and --webgui_password"),
        (["--fwquery", "{state: 1}"], "--fwquery: the query is not valid JSON"),
        (["--wflowquery", '{"$where": "1"}'], "--wflowquery: .*runs code on the server"),
    ],
)
def test_bad_webgui_options_are_one_line_errors(tmp_path, options, words):
    result = subprocess.run(
        lpad_command() + ["webgui", "--port", "0", *options],
        cwd=tmp_path,
        env=user_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and re.search(words, result.stderr), result.stderr
