"""Who may change things: the password login, CSRF tokens and the modes.

Reading is open to whoever reaches the server (it binds 127.0.0.1 unless
told otherwise). Changing needs three things: the GUI was started with a
password file and without ``--read-only``; the browser holds a logged-in
session; and the request carries the session's CSRF token, so another site
cannot post through the user's cookie.
"""

import hmac
import os
import secrets
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, request, session
from werkzeug.exceptions import Forbidden, Unauthorized
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
        raise ConfigError(f"the password file {path} holds no password hash; "
                          "make one with: python -m webgui.passwd " + str(path))
    return hashes[0]


def settings():
    return current_app.extensions["starshell_auth"]


class AuthSettings:
    """The GUI's mode, fixed when the app is created."""

    def __init__(self, password_hash=None, read_only=False):
        self.password_hash = password_hash
        self.read_only = bool(read_only)

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


def logged_in():
    return bool(session.get("logged_in"))


def log_in():
    session.clear()
    session["logged_in"] = True
    session[CSRF_FIELD] = secrets.token_urlsafe(32)


def log_out():
    session.clear()


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
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target
