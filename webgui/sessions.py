"""Sessions kept on the server, and a brake on password guessing.

Flask's default session lives in a signed cookie: logging out only asks the
browser to forget it, so a copied cookie (and the CSRF token inside it)
went on working until the server stopped. Here the cookie holds a random
id and nothing else; the session's contents live in this process, so
logging out, an expiry or a password change really ends it, and a
replayed cookie is simply a stranger's.
"""

import secrets
import threading
import time
from collections import OrderedDict, deque

from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict


class ServerSession(CallbackDict, SessionMixin):
    """The dict a view sees as ``session``; ``sid`` names its entry on the server."""

    def __init__(self, sid=None, data=None, created=None):
        def on_update(self):
            self.modified = True

        super().__init__(data or {}, on_update)
        self.sid, self.created = sid, created
        self.modified = False
        self.rotate = False  # log_in/log_out ask for a new id (no session fixation)


class SessionStore:
    """Live sessions by id, with idle and absolute lifetimes; thread-safe.

    At most ``capacity`` sessions are kept, least recently used dropped
    first, so anonymous visitors (who get a session for the CSRF token of
    the login form) cannot exhaust memory.
    """

    def __init__(self, idle_seconds=2 * 3600, max_seconds=12 * 3600, capacity=10000, clock=time.monotonic):
        self.idle_seconds, self.max_seconds, self.capacity = idle_seconds, max_seconds, capacity
        self.clock = clock
        self._lock = threading.Lock()
        self._live = OrderedDict()  # sid -> (data, created, last_seen)

    def load(self, sid):
        """The session ``sid`` names, or None when it is unknown, ended or expired."""
        now = self.clock()
        with self._lock:
            entry = self._live.get(sid) if sid else None
            if entry is None:
                return None
            data, created, seen = entry
            if now - seen > self.idle_seconds or now - created > self.max_seconds:
                del self._live[sid]
                return None
            self._live[sid] = (data, created, now)
            self._live.move_to_end(sid)
            return ServerSession(sid, dict(data), created)

    def save(self, session):
        """Store ``session`` (a new id when it has none or asked to rotate); returns the id."""
        now = self.clock()
        with self._lock:
            if session.sid and session.rotate:
                self._live.pop(session.sid, None)
            if not session.sid or session.rotate:
                session.sid, session.created = secrets.token_urlsafe(32), now
            self._live[session.sid] = (dict(session), session.created, now)
            self._live.move_to_end(session.sid)
            if len(self._live) > self.capacity:
                self._evict()
        return session.sid

    def _evict(self):
        """Drop the least recently used anonymous session (any, if all are logged in)."""
        for sid, (data, _created, _seen) in self._live.items():
            if not data.get("logged_in"):
                del self._live[sid]
                return
        self._live.popitem(last=False)

    def drop(self, sid):
        with self._lock:
            self._live.pop(sid, None)

    def drop_all(self):
        """End every session: the password changed."""
        with self._lock:
            self._live.clear()

    def __len__(self):
        return len(self._live)


class ServerSessionInterface(SessionInterface):
    """Flask's hook: the cookie carries only the id of a session in ``sessions``."""

    def __init__(self, sessions):
        self.sessions = sessions

    def open_session(self, app, request):
        sid = request.cookies.get(self.get_cookie_name(app))
        found = self.sessions.load(sid) if sid else None
        return found if found is not None else ServerSession()

    def save_session(self, app, session, response):
        name, domain, path = (
            self.get_cookie_name(app),
            self.get_cookie_domain(app),
            self.get_cookie_path(app),
        )
        if not session:
            if session.sid:
                self.sessions.drop(session.sid)
                response.delete_cookie(name, domain=domain, path=path)
            return
        if not (session.modified or session.rotate or session.sid is None):
            return  # loading it already counted as activity
        sid = self.sessions.save(session)
        response.set_cookie(
            name,
            sid,
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
            secure=self.get_cookie_secure(app),
            domain=domain,
            path=path,
        )
        response.vary.add("Cookie")


class LoginThrottle:
    """At most ``limit`` failed logins per client in ``window`` seconds; then 429."""

    def __init__(self, limit=5, window=300, clock=time.monotonic, capacity=10000):
        self.limit, self.window, self.clock, self.capacity = limit, window, clock, capacity
        self._lock = threading.Lock()
        self._failures = OrderedDict()  # client -> deque of failure times

    def retry_after(self, client):
        """Seconds until ``client`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            times = self._failures.get(client)
            if not times:
                return 0
            while times and now - times[0] >= self.window:
                times.popleft()
            if len(times) < self.limit:
                return 0
            return max(int(times[0] + self.window - now) + 1, 1)

    def failed(self, client):
        with self._lock:
            self._failures.setdefault(client, deque(maxlen=self.limit)).append(self.clock())
            self._failures.move_to_end(client)
            while len(self._failures) > self.capacity:
                self._failures.popitem(last=False)

    def succeeded(self, client):
        with self._lock:
            self._failures.pop(client, None)
