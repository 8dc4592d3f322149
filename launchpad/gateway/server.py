"""``lpad gateway``: the store's LaunchPad served over HTTP to compute nodes.

A plain ASGI application (no framework: a no-op firework is one call, and
every microsecond per call counts) under uvicorn, a production server whose
HTTP parsing is C (httptools) on a C event loop (uvloop): the loop holds
every connection, idle or not, and each call's work runs on a bounded pool
of ``threads`` threads (a rocket's calls on the embedded store on the loop
itself: see ``GatewayApp``). TLS when a certificate is given. Each call is a
LaunchPad method from the allow-list in ``protocol``; the LaunchPad does the
work, so a rocket behind the gateway behaves exactly as one on the store.

A request id makes the calls that are not idempotent safe to retry: a
repeated id gets the first answer (or waits for it while it is being
worked out). Replies are kept in memory only, so after a restart a retried
claim or completion is recognised from the store itself: the claim by its
launch directory (unique per attempt), the completion by its closed launch.
"""

import asyncio
import json
import logging
import signal
import socket
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from ..errors import ConfigError, GatewayRefusedError, StarshellError
from ..query import parse_query
from ..states import LaunchState, State
from ..stores.base import WorkerFilter
from . import protocol
from .tokens import TokenFile, check_private, create_token_file

log = logging.getLogger("launchpad.gateway")
MAX_BODY = 64 * 1024 * 1024  # an FWAction's stored_data can be large; MongoDB's limit is 16 MB
KEEP_ALIVE_S = 10  # an idle connection is closed after this; the client then opens a new one
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
    """The ASGI application: authenticate, decode, vet, call the LaunchPad, encode.

    The token is checked on the event loop, before a stranger's body is read; the
    rest of a call runs on the pool, where a slow store blocks no other call, except
    a rocket's calls on the embedded store (``on_loop``)."""

    def __init__(self, launchpad, tokens, max_rows=10000, threads=16):
        self.lp = launchpad
        self.tokens = tokens
        self.max_rows = int(max_rows)
        self.replies = Replies()
        self.pool = ThreadPoolExecutor(max(1, int(threads)), thread_name_prefix="gateway")
        # A rocket's calls on the embedded store are a few statements on a local file that
        # queue for its write lock anyway: made on the event loop itself they cost no
        # hand-over between threads, which took a third of the CPU of a firework with 4
        # rockets. Reads, and every call on MongoDB (a server away), go to the pool.
        on_sqlite = getattr(getattr(launchpad, "store", None), "kind", None) == "sqlite"
        self.on_loop = protocol.ROCKET_METHODS if on_sqlite else frozenset()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":  # no lifespan, no websockets
            return
        status, payload = await self._respond(scope, receive)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"%d" % len(payload)),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _respond(self, scope, receive):
        path = scope["path"]
        if scope["method"] != "POST" or not path.startswith(protocol.API_PREFIX):
            return 404, protocol.dumps(
                {"error": {"type": "NotFoundError", "message": f"no such gateway endpoint {path[:80]}"}}
            )
        authorization, length = b"", None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                length = value
        try:
            self.tokens.check(_bearer(authorization))  # before reading a stranger's body
            raw = await _read_body(receive, length)
        except StarshellError as exc:
            return exc.http_status, protocol.dumps(protocol.error_body(exc))
        name = path[len(protocol.API_PREFIX) :]
        if name in self.on_loop:
            return self.respond(name, raw)
        return await asyncio.get_running_loop().run_in_executor(self.pool, self.respond, name, raw)

    def respond(self, name, raw):
        """``(status, JSON bytes)`` for one authenticated call; never raises for a
        user's mistake."""
        status, body = self.handle(name, raw)
        return status, protocol.dumps(body)

    def handle(self, name, raw):
        try:
            body = _parse(raw)
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
        if name == "claim_to_run" and kwargs.get("launch_dir"):
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
        return (*self.lp.claim_to_run(**checkout), None) if checkout else (None, None, None)

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


def _bearer(header):
    scheme, _, token = header.decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class _TooLarge(GatewayRefusedError):
    """A GatewayRefusedError on the wire, with HTTP 413."""

    http_status = 413


async def _read_body(receive, length):
    """The request's body, refused past MAX_BODY (before it is read, when its length says so)."""
    too_large = _TooLarge(f"a gateway request must be at most {MAX_BODY} bytes")
    try:
        if length is not None and int(length) > MAX_BODY:
            raise too_large
    except ValueError:
        raise GatewayRefusedError("a gateway request needs a valid Content-Length") from None
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body"):
        return body
    chunks, size = [body], len(body)
    while message.get("more_body"):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw):
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise GatewayRefusedError("a gateway request is a JSON object; is this a starshell client?")
    return body


class GatewayServer:
    """A bound uvicorn server with the small interface the CLI and the tests use:
    ``serve()`` until ``stop()`` (from another thread) or SIGTERM, ``bind_addr``."""

    def __init__(self, app, sock, certfile=None, keyfile=None):
        import uvicorn

        self.app, self.socket = app, sock
        self.bind_addr = sock.getsockname()
        self.tls = bool(certfile)
        self.config = uvicorn.Config(
            app,
            http="httptools",  # the C parser; h11 is pure Python
            loop="auto",  # uvloop where it is installed (a dependency but on Windows)
            ws="none",
            lifespan="off",
            access_log=False,  # tokens never reach a log; nor does every call
            log_config=None,
            log_level="warning",
            server_header=False,
            proxy_headers=False,  # the gateway never looks at the client's address
            timeout_keep_alive=KEEP_ALIVE_S,
            backlog=2048,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
        try:
            self.config.load()  # the certificate is read now, so a bad one stops the start
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot use the certificate {certfile} and key {keyfile}: {exc}") from None
        self._server = uvicorn.Server(self.config)
        self._serving = threading.Event()
        self._stopped = threading.Event()

    def serve(self):
        """Serve until stopped; calls under way are answered first."""
        self._serving.set()
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self.socket.close()
            self.app.pool.shutdown(wait=False)
            self._stopped.set()

    def stop_soon(self):
        """Ask the serving loop to stop (from a signal handler: no waiting)."""
        self._server.should_exit = True

    def stop(self, timeout=60.0):
        """Stop serving (from another thread) and wait until the port is free."""
        self._server.should_exit = True
        if self._serving.is_set():
            self._stopped.wait(timeout)
        else:
            self.socket.close()
            self.app.pool.shutdown(wait=False)


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
    """A bound GatewayServer and whether it created the token file."""
    if not token_file:
        raise ConfigError("give the gateway a --token_file (it is created if missing)")
    if bool(certfile) != bool(keyfile):
        raise ConfigError("TLS needs both --certfile and --keyfile")
    created = create_token_file(token_file)
    tokens = TokenFile(token_file)
    check_private(tokens.path)
    if not len(tokens):
        raise ConfigError(
            f"{tokens.path} holds no token: add one a line, or remove the file to have a new one made"
        )
    sock = _listen(host, port)
    try:
        return GatewayServer(
            GatewayApp(launchpad, tokens, max_rows, threads), sock, certfile, keyfile
        ), created
    except BaseException:
        sock.close()
        raise


def _listen(host, port):
    """A listening TCP socket; reusable at once after a restart on the same port."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(f"the gateway cannot listen on {host}:{port}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by connections
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"the gateway cannot listen on {host}:{port}: {exc}") from None
    return sock


def url_of(server):
    host, port = server.bind_addr[:2]
    scheme = "https" if server.tls else "http"
    return f"{scheme}://{'[' + host + ']' if ':' in host else host}:{port}"


def serve(server, announce=None):
    """Serve until SIGTERM or Ctrl-C; requests under way are finished first.

    ``announce`` (printing the address) runs once this process's handlers are in
    place, so a signal sent as soon as the address is read is never the default
    kill. uvicorn handles both signals while it serves; one that comes before its
    handlers are in place stops it as soon as it starts. uvicorn raises the signal
    it got again when it is done: this handler takes it too, so this returns 0."""

    def stop(signum, frame):
        server.stop_soon()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if announce is not None:
            announce()
        server.serve()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
