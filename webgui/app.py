"""The Flask application factory and the server ``lpad webgui`` runs.

The app holds one LaunchPad in ``app.extensions["starshell"]``; views call
its API and nothing else. StarshellErrors become HTTP statuses (JSON under
``/api``, an error page elsewhere).
"""

import functools
import hashlib
import json
import os
import sys
import time

from flask import Flask, current_app, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_compress import Compress
from werkzeug.exceptions import HTTPException

from launchpad.errors import ConfigError, InvalidQueryError, StarshellError
from launchpad.query import parse_query

from . import api, auth, compat, data, graph_view, pages
from .colors import DISPLAY_ORDER
from .server import DEFAULT_THREADS, GuiServer
from .sessions import LoginThrottle, ServerSessionInterface, SessionStore

DEFAULTS = {
    "STARSHELL_READ_ONLY": False,
    "STARSHELL_PASSWORD_FILE": None,
    "STARSHELL_PASSWORD_HASH": None,
    "STARSHELL_REFRESH_SECONDS": 5,
    "STARSHELL_DAG_LIMIT": 20000,
    "STARSHELL_TAIL_LINES": 100,
    "STARSHELL_TAIL_BYTES": 64 * 1024,
    "STARSHELL_SESSION_IDLE_SECONDS": 2 * 3600,
    "STARSHELL_SESSION_MAX_SECONDS": 12 * 3600,
    "STARSHELL_LOGIN_ATTEMPTS": 5,
    "STARSHELL_LOGIN_WINDOW_SECONDS": 300,
    "STARSHELL_LOOPBACK_ONLY": False,
    "STARSHELL_FW_QUERY": None,
    "STARSHELL_WF_QUERY": None,
    "STARSHELL_BASIC_AUTH": None,
    "STARSHELL_THREADS": DEFAULT_THREADS,
    "STARSHELL_CLOCK": time.monotonic,
    "SESSION_COOKIE_NAME": "starshell_session",
    "SESSION_COOKIE_SAMESITE": "Strict",
    "SESSION_COOKIE_HTTPONLY": True,
    "COMPRESS_ALGORITHM": ["gzip"],
    # Static files carry their content's hash in their URL (``_static_version``), so a
    # browser keeps them instead of asking again on every page (5 round trips a page).
    "SEND_FILE_MAX_AGE_DEFAULT": 365 * 24 * 3600,
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class JSONProvider(DefaultJSONProvider):
    """Store documents may hold ObjectIds or datetimes: show them as text.

    Keys keep their order, so state counts arrive in display order.
    """

    sort_keys = False

    @staticmethod
    def default(o):
        try:
            return DefaultJSONProvider.default(o)
        except TypeError:
            return str(o)


def create_app(config=None, launchpad=None):
    """A Flask app over ``launchpad`` (the configured one when None)."""
    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.config.update(DEFAULTS)
    app.config["SECRET_KEY"] = os.urandom(32)
    app.config.update(config or {})
    if launchpad is None:
        from launchpad import LaunchPad

        launchpad = LaunchPad.from_file()
    app.extensions["starshell"] = launchpad
    _set_up_auth(app)
    app.extensions["starshell_scope"] = data.Scope(
        _base_query(app.config["STARSHELL_FW_QUERY"], "--fwquery"),
        _base_query(app.config["STARSHELL_WF_QUERY"], "--wflowquery"),
    )
    app.extensions["starshell_counts"] = data.CountsCache()
    app.extensions["starshell_layouts"] = graph_view.LayoutCache()
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(compat.bp)
    app.before_request(auth.check_host)
    app.before_request(auth.check_basic_auth)
    app.before_request(auth.check_csrf)
    Compress(app)
    app.after_request(_security_headers)
    app.register_error_handler(StarshellError, _starshell_error)
    app.register_error_handler(HTTPException, _http_error)
    app.context_processor(_template_globals)
    app.url_defaults(_static_version)
    app.add_template_filter(_when, "when")
    app.add_template_filter(_duration, "duration")
    app.add_template_filter(_pretty, "pretty")
    return app


def _set_up_auth(app):
    """Server-side sessions, the login throttle, and the password (a file is watched)."""
    config, clock = app.config, app.config["STARSHELL_CLOCK"]
    sessions = SessionStore(
        config["STARSHELL_SESSION_IDLE_SECONDS"], config["STARSHELL_SESSION_MAX_SECONDS"], clock=clock
    )
    app.session_interface = ServerSessionInterface(sessions)
    app.extensions["starshell_throttle"] = LoginThrottle(
        config["STARSHELL_LOGIN_ATTEMPTS"], config["STARSHELL_LOGIN_WINDOW_SECONDS"], clock=clock
    )
    password_hash, password_file = config["STARSHELL_PASSWORD_HASH"], None
    if password_hash is None and config["STARSHELL_PASSWORD_FILE"]:
        password_file = config["STARSHELL_PASSWORD_FILE"]
        password_hash = auth.read_password_file(password_file)
    app.extensions["starshell_auth"] = auth.AuthSettings(
        password_hash, config["STARSHELL_READ_ONLY"], password_file, on_change=sessions.drop_all
    )


def _base_query(text, option):
    try:
        return parse_query(text) or None
    except InvalidQueryError as exc:
        raise ConfigError(f"{option}: {exc}") from None


def _static_version(endpoint, values):
    """``/static/app.js?v=<hash of its content>``: a new version is a new URL."""
    if endpoint == "static" and "filename" in values:
        values.setdefault("v", _content_hash(os.path.join(current_app.static_folder, values["filename"])))


@functools.lru_cache(maxsize=256)
def _content_hash(path):
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()[:12]
    except OSError:
        return "0"  # a missing file: Flask answers 404 as usual


def _template_globals():
    settings = auth.settings()
    return {
        "csrf_token": auth.csrf_token,
        "mode": settings.mode(),
        "logged_in": auth.logged_in(),
        "can_act": auth.can_act(),
        "state_order": DISPLAY_ORDER,
        "refresh_seconds": current_app.config["STARSHELL_REFRESH_SECONDS"],
    }


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _wants_json():
    return request.path.startswith("/api/") or request.path == "/api"


def _error_response(status, title, message):
    if _wants_json():
        return {"error": message, "type": title}, status
    return render_template("error.html", status=status, title=title, message=message), status


def _starshell_error(exc):
    return _error_response(exc.http_status, type(exc).__name__, str(exc))


def _http_error(exc):
    """The error page or JSON, keeping the exception's own headers (Allow, Retry-After...)."""
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return (*_error_response(exc.code, exc.name, exc.description), headers)


def _when(value):
    """``2026-11-25T00:33:14.606495`` -> ``2026-11-25 00:33:14`` (UTC)."""
    if not value:
        return "—"
    return str(value).replace("T", " ")[:19]


def _duration(seconds):
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _pretty(value):
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def make_server(app, host="127.0.0.1", port=5000):
    """A threaded production server for ``app`` (port 0 picks a free one)."""
    return GuiServer(app, host, port, app.config["STARSHELL_THREADS"])


def serve(launchpad, host="127.0.0.1", port=5000, read_only=False, password_file=None, **config):
    """Serve the GUI until interrupted: what ``lpad webgui`` runs.

    ``config`` adds app settings (``STARSHELL_THREADS``...).
    """
    app = create_app(
        {
            "STARSHELL_READ_ONLY": read_only,
            "STARSHELL_PASSWORD_FILE": password_file,
            "STARSHELL_LOOPBACK_ONLY": auth.is_loopback(host),
            **config,
        },
        launchpad,
    )
    try:
        server = make_server(app, host, port)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
            "is another server using that port? (--port picks another)"
        ) from None
    mode = app.extensions["starshell_auth"].mode()
    notes = {
        "read-only": "read-only (--read-only): no actions",
        "no-password": "read-only: pass --password-file to enable actions",
        "login": "actions enabled after login",
    }
    shown = f"[{host}]" if ":" in host else host
    print(
        f"starshell web GUI on http://{shown}:{server.server_port}/ ({notes[mode]}); Ctrl-C stops it",
        file=sys.stderr,
    )
    if not auth.is_loopback(host):
        print(f"warning: listening on {host}: anyone who reaches it can read your workflows", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
