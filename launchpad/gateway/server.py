"""``lpad gateway``: the store's LaunchPad served over HTTP to compute nodes.

A plain WSGI application (no framework: a no-op firework is one call, and
every microsecond per call counts) under cheroot, a threaded production
server with keep-alive and TLS. Each call is a LaunchPad method from the
allow-list in ``protocol``; the LaunchPad does the work, so a rocket behind
the gateway behaves exactly as one on the store.

A request id makes the calls that are not idempotent safe to retry: a
repeated id gets the first answer (or waits for it while it is being
worked out). Replies are kept in memory only, so after a restart a retried
claim or completion is recognised from the store itself: the claim by its
launch directory (unique per attempt), the completion by its closed launch.
"""

import json
import logging
import signal
import threading
import time
from collections import OrderedDict

from ..errors import ConfigError, GatewayRefusedError, StarshellError
from ..query import parse_query
from ..states import LaunchState, State
from ..stores.base import WorkerFilter
from . import protocol
from .tokens import TokenFile, check_private, create_token_file

log = logging.getLogger("launchpad.gateway")
MAX_BODY = 64 * 1024 * 1024  # an FWAction's stored_data can be large; MongoDB's limit is 16 MB
_NOT_DONE = object()


class Replies:
    """Answers by request id: the first call runs, repeats get its answer."""

    def __init__(self, size=5000):  # a few seconds of calls: later retries are found in the store
        self.size = size
        self._done = OrderedDict()
        self._running = {}
        self._lock = threading.Lock()

    def once(self, request_id, compute):
        """``compute()`` -> ``(status, body)``, run once per id; 5xx answers are not kept,
        so a retry after a store outage runs again."""
        while True:
            with self._lock:
                if request_id in self._done:
                    return self._done[request_id]
                waiting = self._running.get(request_id)
                if waiting is None:
                    self._running[request_id] = threading.Event()
                    break
            waiting.wait()
        reply = (503, None)
        try:
            reply = compute()
            return reply
        finally:
            with self._lock:
                if reply[0] < 500:
                    self._done[request_id] = reply
                    while len(self._done) > self.size:
                        self._done.popitem(last=False)
                self._running.pop(request_id).set()


class GatewayApp:
    """The WSGI application: authenticate, decode, vet, call the LaunchPad, encode."""

    def __init__(self, launchpad, tokens, max_rows=10000):
        self.lp = launchpad
        self.tokens = tokens
        self.max_rows = int(max_rows)
        self.replies = Replies()

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        status, body = self.handle(environ)
        payload = protocol.dumps(body)
        start_response(
            f"{status} {_REASONS.get(status, 'Error')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        log.debug(
            "%s %s -> %d in %.1f ms",
            environ.get("REMOTE_ADDR"),
            environ.get("PATH_INFO"),
            status,
            1000 * (time.perf_counter() - started),
        )
        return [payload]

    def handle(self, environ):
        """``(status, body)`` for one request; never raises for a user's mistake."""
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "POST" or not path.startswith(protocol.API_PREFIX):
            return 404, {
                "error": {"type": "NotFoundError", "message": f"no such gateway endpoint {path[:80]}"}
            }
        try:
            self.tokens.check(_bearer(environ))  # before reading a stranger's body
            body = _read_json(environ)
            name = path[len(protocol.API_PREFIX) :]
            if name not in protocol.ALLOWED or not callable(getattr(self.lp, name, None)):
                raise GatewayRefusedError(
                    f"the gateway does not offer {name[:60]!r}: it serves the rocket's "
                    "operations and read-only queries; run commands that change the store "
                    "where the store is"
                )
        except StarshellError as exc:
            return exc.http_status, protocol.error_body(exc)
        request_id = body.get("request_id")
        if name in protocol.ONCE_ONLY and request_id:
            return self.replies.once(str(request_id), lambda: self.call(name, body))
        return self.call(name, body)

    def call(self, name, body):
        try:
            given = body.get("kwargs") or {}
            if not isinstance(given, dict):
                raise TypeError("kwargs must be an object")
            kwargs = self._vet(protocol.untag_arguments(given))
            result = _NOT_DONE
            if body.get("retry"):
                result = self._done_before(name, kwargs)
            if result is _NOT_DONE:
                result = (
                    self._listing(name, kwargs)
                    if name in protocol.LISTINGS
                    else getattr(self.lp, name)(**kwargs)
                )
            return 200, {"result": protocol.tag(result)}
        except StarshellError as exc:
            return exc.http_status, protocol.error_body(exc)
        except (TypeError, ValueError) as exc:  # wrong arguments: a client of another version
            return 400, {"error": {"type": "InvalidArgumentError", "message": f"{name}: {exc}"}}

    def _vet(self, kwargs):
        """Queries are checked as everywhere else (no code, known operators)."""
        if kwargs.get("query") is not None:
            kwargs["query"] = parse_query(kwargs["query"])
        worker = kwargs.get("worker")
        if isinstance(worker, WorkerFilter) and worker.query:
            parse_query(worker.query)
        if kwargs.get("sort"):
            kwargs["sort"] = [(str(f), -1 if int(d) < 0 else 1) for f, d in kwargs["sort"]]
        if kwargs.get("fields") is not None:
            kwargs["fields"] = [str(f) for f in kwargs["fields"]]
        if kwargs.get("checkout") is not None:  # finish_and_checkout's claim
            if not isinstance(kwargs["checkout"], dict):
                raise TypeError("checkout must be an object")
            kwargs["checkout"] = self._vet(kwargs["checkout"])
        return kwargs

    def _listing(self, name, kwargs):
        """A listing capped at ``max_rows``: past it, an error rather than a silent cut."""
        if kwargs.get("count_only"):
            return getattr(self.lp, name)(**kwargs)
        asked = int(kwargs.get("limit") or 0)
        kwargs["limit"] = min(asked, self.max_rows) if asked else self.max_rows + 1
        result = getattr(self.lp, name)(**kwargs)
        if len(result) > self.max_rows:
            raise GatewayRefusedError(
                f"more than {self.max_rows} records match; narrow the selection, or ask for at "
                f"most {self.max_rows} (lpad ... -m {self.max_rows})"
            )
        return result

    def _done_before(self, name, kwargs):
        """What an earlier attempt of a retried call did, when the reply was lost with a
        gateway restart; _NOT_DONE when it left no trace."""
        if name == "checkout_fw" and kwargs.get("launch_dir"):
            return self._claimed_before(kwargs)
        if name == "complete_launch":
            return self._completed_before(kwargs)
        if name == "finish_and_checkout":
            return self._finished_and_claimed_before(kwargs)
        return _NOT_DONE

    def _finished_and_claimed_before(self, kwargs):
        """Both halves were one transaction: the claim found means both were applied; a
        completion found without its claim means the claim found nothing then, so it
        alone is made now (a claim is not undone by being made later)."""
        checkout = kwargs.get("checkout")
        if checkout and checkout.get("launch_dir"):
            claimed = self._claimed_before(checkout)
            if claimed is not _NOT_DONE:
                return (*claimed, None)
        complete = {k: v for k, v in kwargs.items() if k != "checkout"}
        if self._completed_before(complete) is _NOT_DONE:
            return _NOT_DONE
        return (*self.lp.checkout_fw(**checkout), None) if checkout else (None, None, None)

    def _claimed_before(self, kwargs):
        found = self.lp.get_launches(
            {"launch_dir": kwargs["launch_dir"], "state": LaunchState.RUNNING.value},
            sort=[("launch_id", -1)],
            limit=1,
        )
        if not found or (kwargs.get("host") and found[0].get("host") != kwargs["host"]):
            return _NOT_DONE
        launch_id = found[0]["launch_id"]
        fw = self.lp.get_fw_dict(found[0]["fw_id"], with_launches=False)
        if fw["state"] != State.RUNNING.value or fw.get("current_launch") != launch_id:
            return _NOT_DONE
        log.info("a retried claim found its launch %s (firework %s)", launch_id, fw["fw_id"])
        return fw, launch_id

    def _completed_before(self, kwargs):
        launch = self.lp.get_launch(kwargs["launch_id"])
        exc = launch.get("exception") or {}
        if (
            launch["state"] != kwargs.get("state", LaunchState.COMPLETED.value)
            or not launch.get("time_end")
            or launch.get("interrupted")
            or exc.get("lost")
            or launch.get("late_result")
        ):
            return _NOT_DONE
        log.info("a retried completion of launch %s was applied before", launch["launch_id"])
        return launch["fw_id"]


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    503: "Service Unavailable",
}


def _bearer(environ):
    scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _read_json(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length < 0 or length > MAX_BODY:
        raise GatewayRefusedError(f"a gateway request must be at most {MAX_BODY} bytes")
    raw = environ["wsgi.input"].read(length) if length else b"{}"
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise GatewayRefusedError("a gateway request is a JSON object; is this a starshell client?")
    return body


class _Stop(BaseException):
    """SIGTERM: leave the serving loop and stop cleanly."""


def build_server(
    launchpad,
    host="127.0.0.1",
    port=6100,
    token_file=None,
    certfile=None,
    keyfile=None,
    threads=16,
    max_rows=10000,
):
    """A prepared (bound) cheroot server and whether it created the token file."""
    from cheroot import wsgi

    if not token_file:
        raise ConfigError("give the gateway a --token_file (it is created if missing)")
    created = create_token_file(token_file)
    tokens = TokenFile(token_file)
    check_private(tokens.path)
    if not len(tokens):
        raise ConfigError(
            f"{tokens.path} holds no token: add one a line, or remove the file to have a new one made"
        )
    server = wsgi.Server(
        (host, port),
        GatewayApp(launchpad, tokens, max_rows),
        numthreads=threads,
        server_name="starshell-gateway",
    )
    server.max_request_body_size = MAX_BODY
    if certfile or keyfile:
        server.ssl_adapter = _ssl_adapter(certfile, keyfile)
    try:
        server.prepare()
    except OSError as exc:
        raise ConfigError(f"the gateway cannot listen on {host}:{port}: {exc}") from None
    return server, created


def _ssl_adapter(certfile, keyfile):
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    if not (certfile and keyfile):
        raise ConfigError("TLS needs both --certfile and --keyfile")
    try:
        return BuiltinSSLAdapter(certfile, keyfile)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot use the certificate {certfile} and key {keyfile}: {exc}") from None


def url_of(server):
    host, port = server.bind_addr[:2]
    scheme = "https" if server.ssl_adapter else "http"
    return f"{scheme}://{'[' + host + ']' if ':' in host else host}:{port}"


def serve(server):
    """Serve until SIGTERM or Ctrl-C; requests under way are finished first."""

    def stop(signum, frame):
        raise _Stop()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.serve()
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
    return 0
