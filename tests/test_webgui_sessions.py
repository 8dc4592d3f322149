"""Server-side sessions: expiry, rotation, capacity; the login throttle (injected clock).

The real-process attacks are in test_webgui_server.py; these drive the
clock, which a served process cannot, through Flask's test client.
"""

import pytest
from werkzeug.security import generate_password_hash

from webgui import create_app
from webgui.auth import host_name, is_loopback
from webgui.demo import build_demo
from webgui.sessions import LoginThrottle, ServerSession, SessionStore

PASSWORD = "correct horse"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client(lp, tmp_path, clock):
    build_demo(lp, tmp_path / "launches")
    app = create_app(
        {
            "TESTING": True,
            "STARSHELL_CLOCK": clock,
            "STARSHELL_PASSWORD_HASH": generate_password_hash(PASSWORD, "pbkdf2:sha256:1000"),
            "STARSHELL_SESSION_IDLE_SECONDS": 600,
            "STARSHELL_SESSION_MAX_SECONDS": 3600,
        },
        lp,
    )
    return app.test_client()


def log_in(client):
    client.get("/login")
    with client.session_transaction() as session:
        token = session["csrf_token"]
    assert client.post("/login", data={"password": PASSWORD, "csrf_token": token}).status_code == 302
    with client.session_transaction() as session:
        return session["csrf_token"]


def pause(client, token, fw_id=5):
    return client.post(f"/api/fireworks/{fw_id}/pause", json={}, headers={"X-CSRF-Token": token})


def test_an_idle_session_expires(client, clock):
    token = log_in(client)
    clock.now += 599
    assert client.get("/api/session").get_json()["logged_in"]
    clock.now += 599  # active 599 s ago: still alive
    assert client.get("/api/session").get_json()["logged_in"]
    clock.now += 601
    assert client.get("/api/session").get_json()["logged_in"] is False
    assert pause(client, token).status_code == 403  # the token died with the session


def test_a_busy_session_still_ends_after_its_lifetime(client, clock):
    token = log_in(client)
    for _ in range(7):
        clock.now += 500
        assert client.get("/api/session").get_json()["logged_in"]
    clock.now += 500  # 4,000 s after login: past the 3,600 s lifetime
    assert pause(client, token).status_code in (401, 403)


def test_login_gives_a_new_session_id_and_token(client):
    client.get("/login")
    before = client.get_cookie("starshell_session").value
    with client.session_transaction() as session:
        old_token = session["csrf_token"]
    token = log_in(client)
    assert client.get_cookie("starshell_session").value != before
    assert token != old_token


def test_logout_deletes_the_cookie_and_the_server_entry(client):
    token = log_in(client)
    sid = client.get_cookie("starshell_session").value
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    sessions = client.application.session_interface.sessions
    assert sessions.load(sid) is None


def test_the_throttle_counts_failures_in_a_sliding_window(clock):
    throttle = LoginThrottle(limit=3, window=60, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1") == 0
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 61
    assert throttle.retry_after("10.0.0.2") == 0  # per client
    clock.now += 30
    assert throttle.retry_after("10.0.0.1") == 31
    clock.now += 31
    assert throttle.retry_after("10.0.0.1") == 0
    throttle.failed("10.0.0.1")
    throttle.succeeded("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0


def test_the_login_throttle_answers_429_through_the_app(client, clock):
    client.get("/login")
    with client.session_transaction() as session:
        token = session["csrf_token"]
    for _ in range(5):
        assert client.post("/login", data={"password": "no", "csrf_token": token}).status_code == 401
    refused = client.post("/login", data={"password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "301"
    clock.now += 301
    assert client.post("/login", data={"password": PASSWORD, "csrf_token": token}).status_code == 302


def test_anonymous_sessions_are_evicted_before_logged_in_ones(clock):
    store = SessionStore(capacity=3, clock=clock)
    member = ServerSession(data={"logged_in": True})
    store.save(member)
    strangers = [ServerSession(data={"csrf_token": str(i)}) for i in range(5)]
    for s in strangers:
        store.save(s)
    assert len(store) == 3
    assert store.load(member.sid) is not None
    assert store.load(strangers[0].sid) is None and store.load(strangers[-1].sid) is not None


@pytest.mark.parametrize(
    "header, name",
    [
        ("localhost:5000", "localhost"),
        ("[::1]:5000", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("Evil.Example:80", "evil.example"),
        ("", ""),
    ],
)
def test_host_names(header, name):
    assert host_name(header) == name


def test_loopback_addresses():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "evil.example", "", "::"))


def test_host_check_is_off_unless_bound_to_loopback(client):
    assert client.get("/api/summary", headers={"Host": "gui.example"}).status_code == 200
    client.application.config["STARSHELL_LOOPBACK_ONLY"] = True
    assert client.get("/api/summary", headers={"Host": "gui.example"}).status_code == 400
    assert client.get("/api/summary", headers={"Host": "localhost:5000"}).status_code == 200


def test_a_password_file_rewritten_within_the_same_tick_is_still_noticed(tmp_path):
    """Same size, same modification time (coarse file system clocks): read it again anyway."""
    import os

    from webgui.auth import AuthSettings, read_password_file
    from webgui.passwd import write_password_file

    path = tmp_path / "gui.passwd"
    write_password_file(str(path), "first password")
    before = os.stat(path)
    ended = []
    auth = AuthSettings(
        read_password_file(str(path)), password_file=str(path), on_change=lambda: ended.append(1)
    )
    assert auth.check_password("first password") and ended == []
    write_password_file(str(path), "other password")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert auth.check_password("other password") and not auth.check_password("first password")
    assert ended == [1]
