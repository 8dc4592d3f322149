"""Who may change things: the password login, CSRF tokens and the modes.

Reading is open to whoever reaches the server (it binds 127.0.0.1 unless
told otherwise). Changing needs three things: the GUI was started with a
password file and without ``--read-only``; the browser holds a logged-in
session; and the request carries the session's CSRF token, so another site
cannot post through the user's cookie. Sessions live on the server
(``sessions``): a login made under an older password no longer counts.
"""

import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
import time
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, request, session
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import BadRequest, Forbidden, TooManyRequests, Unauthorized
from werkzeug.security import check_password_hash

from launchpad.errors import ConfigError

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


def read_password_file(path):
    """The password hash stored in ``path`` (first line that is not a comment)."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            lines = [line.strip() for line in handle]
    except OSError as exc:
        raise ConfigError(f"cannot read the password file {path}: {exc.strerror}") from None
    hashes = [line for line in lines if line and not line.startswith("#")]
    if not hashes or "$" not in hashes[0]:
        raise ConfigError(
            f"the password file {path} holds no password hash; "
            "make one with: python -m webgui.passwd " + str(path)
        )
    return hashes[0]


def settings():
    return current_app.extensions["starshell_auth"]


class AuthSettings:
    """The GUI's mode, fixed when the app is created, and the current password hash.

    A password file is read again when it changes on disk (``python -m
    webgui.passwd`` while the GUI runs): the new password is the one that
    works, and ``on_change`` ends the sessions logged in with the old one.
    """

    def __init__(self, password_hash=None, read_only=False, password_file=None, on_change=None):
        self._hash = password_hash
        self.read_only = bool(read_only)
        self.password_file = password_file
        self.on_change = on_change
        self._lock = threading.Lock()
        self._seen = _file_mark(password_file) if password_file else None

    @property
    def password_hash(self):
        if self.password_file:
            self._reload()
        return self._hash

    def _reload(self):
        """Read the file again when it changed, or may have changed unseen: a file
        rewritten within the clock's resolution keeps its size and time."""
        mark = _file_mark(self.password_file)
        if mark == self._seen and (mark is None or time.time_ns() - mark[2] > 2 * 10**9):
            return
        with self._lock:
            self._seen = mark
            try:
                new = read_password_file(self.password_file)
            except ConfigError:
                new = None  # a file removed or emptied: nobody can log in until it is back
            if new != self._hash:
                self._hash = new
                if self.on_change:
                    self.on_change()

    def fingerprint(self):
        """Names the current password in a session, so a password change ends the session."""
        current = self.password_hash
        return hashlib.sha256(current.encode()).hexdigest()[:16] if current else None

    @property
    def actions_enabled(self):
        return not self.read_only and self.password_hash is not None

    def mode(self):
        if self.read_only:
            return "read-only"
        return "login" if self.password_hash else "no-password"

    def check_password(self, password):
        return self.password_hash is not None and check_password_hash(self.password_hash, password or "")


def csrf_token():
    """This session's CSRF token, made on first use."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf():
    """Refuse an unsafe request whose token does not match the session's."""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    expected = session.get(CSRF_FIELD) or ""
    if not expected or not hmac.compare_digest(str(sent), expected):
        raise Forbidden("missing or wrong CSRF token: reload the page and try again")


def _file_mark(path):
    try:
        info = os.stat(os.path.expanduser(path))
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def logged_in():
    mark = session.get("password")
    return bool(session.get("logged_in")) and mark is not None and mark == settings().fingerprint()


def log_in():
    """A fresh session (new id and token: no fixation) marked with the current password."""
    session.clear()
    session.rotate = True
    session["logged_in"] = True
    session["password"] = settings().fingerprint()
    session[CSRF_FIELD] = secrets.token_urlsafe(32)


def log_out():
    """End the session on the server: its cookie and token are worth nothing from now on."""
    session.clear()
    session.rotate = True


def can_act():
    return settings().actions_enabled and logged_in()


def require_actions(view):
    """Decorator: the view changes state, so mode and login must allow it."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        auth = settings()
        if auth.read_only:
            raise Forbidden("this GUI runs with --read-only: actions are disabled")
        if auth.password_hash is None:
            raise Forbidden("actions need a login: start the GUI with --password-file")
        if not logged_in():
            raise Unauthorized("log in to change fireworks")
        return view(*args, **kwargs)

    return wrapper


def safe_next(target, default="/"):
    """Only same-site paths, so the login form cannot redirect elsewhere."""
    if not target:
        return default
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return default
    return target


LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "127.0.0.1", "::1"})


def is_loopback(host):
    """Whether ``host`` (a name or an address) is this machine only."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(header):
    """The host part of a Host header: ``[::1]:5000`` -> ``::1``, ``a:5000`` -> ``a``."""
    header = (header or "").strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def check_basic_auth():
    """FireWorks' --webgui_username/--webgui_password: every request needs them.

    Wrong guesses count against the same per-client limit as the login form.
    """
    expected = current_app.config.get("STARSHELL_BASIC_AUTH")
    if not expected:
        return
    throttle, client = guessing_allowed()
    given = request.authorization
    if (
        given
        and given.type == "basic"
        and _same(given.username, expected[0])
        and _same(given.password, expected[1])
    ):
        return
    if given:
        throttle.failed(client)
    raise Unauthorized(
        "this GUI needs its user name and password",
        www_authenticate=WWWAuthenticate("basic", {"realm": "starshell"}),
    )


def guessing_allowed():
    """The login throttle and this client, or 429 while the client must wait."""
    throttle, client = current_app.extensions["starshell_throttle"], request.remote_addr
    wait = throttle.retry_after(client)
    if wait:
        raise TooManyRequests(
            f"too many wrong passwords from {client}; try again in {wait} s", retry_after=wait
        )
    return throttle, client


def _same(given, expected):
    return hmac.compare_digest(str(given or "").encode(), str(expected).encode())


def check_host():
    """A server bound to loopback answers only to loopback names.

    Otherwise a web page could point its own domain's DNS at 127.0.0.1
    (DNS rebinding) and read the GUI through the user's browser.
    """
    if not current_app.config.get("STARSHELL_LOOPBACK_ONLY"):
        return
    if not is_loopback(host_name(request.headers.get("Host"))):
        raise BadRequest(
            "this GUI listens on the loopback address only and answers to "
            "Host: 127.0.0.1 or localhost; browse http://127.0.0.1:PORT/"
        )
