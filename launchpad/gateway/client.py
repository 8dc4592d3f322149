"""The client side: a LaunchPad whose store is behind ``lpad gateway``.

``GatewayLaunchPad`` forwards the allow-listed LaunchPad methods as HTTP
calls and does nothing else, so the rocket and the read-only ``lpad``
commands run the same code whichever way they reach the store. Each thread
keeps one keep-alive connection (the rocket's heartbeat has its own).

A call that gets no answer is retried with back-off under the same request
id, so the gateway applies it once; past ``patience`` it raises
StoreUnavailableError, which the rocket waits out as it waits out a store
outage. A claim or completion whose outcome stayed unknown is marked as a
retry when the rocket sends it again, so a restarted gateway looks in the
store for what the first attempt did.
"""

import functools
import http.client
import json
import select
import socket
import ssl
import threading
import time
import uuid
from urllib.parse import urlsplit

from ..errors import ConfigError, GatewayRefusedError, StoreUnavailableError
from ..states import LaunchState
from ..timestamps import local_day, system_clock, timestamp
from . import protocol
from .tokens import client_token

_NO_ANSWER = (OSError, http.client.HTTPException)


class GatewayClient:
    """HTTP calls to one gateway: thread-local connections, retries, errors."""

    def __init__(
        self, url, token, ca_file=None, timeout=300.0, patience=30.0, sleep=time.sleep, clock=time.monotonic
    ):
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"gateway {url!r} is not an http:// or https:// address (example: http://login1:6100)"
            )
        self.url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self._host, self._port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        self._prefix = parts.path.rstrip("/") + protocol.API_PREFIX
        self._context = _tls_context(ca_file) if parts.scheme == "https" else None
        # The fewest header lines: the gateway reads each one in pure Python.
        self._headers = f"Authorization: Bearer {token}\r\n".encode()
        self.timeout, self.patience = float(timeout), float(patience)
        self._sleep, self._clock = sleep, clock
        self._local = threading.local()
        self._uncertain = {}  # fingerprint of an unanswered claim/completion -> its request id

    @classmethod
    def from_config(cls, config, **options):
        return cls(config.gateway, client_token(config.token_file), config.ca_file, **options)

    def describe(self):
        return f"gateway {self.url}"

    def __getattr__(self, name):
        """Code reaching for the store itself (``lp.store.snapshot()``) is told why not."""
        if name.startswith("_"):
            raise AttributeError(name)
        raise GatewayRefusedError(
            f"this command needs the store itself ({name}), which the gateway ({self.url}) "
            "does not offer; run it where the store is (the login node)"
        )

    def close(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def call(self, method, kwargs, once=False):
        """The result of ``method(**kwargs)`` on the gateway's LaunchPad."""
        fingerprint = (method, json.dumps(kwargs, sort_keys=True, default=str)) if once else None
        request_id = self._uncertain.pop(fingerprint, None) if once else None
        retry = request_id is not None
        request_id = request_id or uuid.uuid4().hex
        deadline, delay = self._clock() + self.patience, 0.05
        while True:
            body = protocol.dumps({"kwargs": kwargs, "request_id": request_id, "retry": retry})
            try:
                status, reply = self._post(self._prefix + method, body)
            except ssl.SSLCertVerificationError as exc:
                raise ConfigError(
                    f"the gateway {self.url} has a certificate this node does not "
                    f"trust ({exc.verify_message}); name its CA in ca_file"
                ) from None
            except _NO_ANSWER as exc:
                status, reply = None, exc
            if status is not None and status != 503:
                if status == 200 and isinstance(reply, dict) and "result" in reply:
                    return protocol.untag(reply["result"])
                raise protocol.error_from(reply, status)
            if not retry and status is None:  # most often a keep-alive connection the
                retry = True  # gateway closed: try a new one at once
                continue
            retry = True  # an earlier attempt may have been applied
            if self._clock() + delay > deadline:
                if once:
                    self._remember(fingerprint, request_id)
                raise self._unavailable(status, reply)
            self._sleep(delay)
            delay = min(delay * 2, 2.0)

    def _unavailable(self, status, reply):
        if status == 503:
            return protocol.error_from(reply, status)
        return StoreUnavailableError(
            f"the gateway {self.url} does not answer ({type(reply).__name__}: {reply}); is "
            "`lpad gateway` running on the login node?"
        )

    def _remember(self, fingerprint, request_id):
        if len(self._uncertain) > 100:
            self._uncertain.clear()
        self._uncertain[fingerprint] = request_id

    def _post(self, path, body):
        """One POST on this thread's connection (dropped after a failure)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.stale():  # the gateway closed it while it was idle
            self.close()
            conn = None
        try:
            if conn is None:
                conn = self._local.conn = _Connection(self._host, self._port, self.timeout, self._context)
            status, data = conn.post(path, body, self._headers)
        except _NO_ANSWER:
            self.close()
            raise
        if conn.closing:
            self.close()
        try:
            return status, json.loads(data)
        except ValueError:
            return status, None


class _Connection:
    """A keep-alive HTTP/1.1 connection that only POSTs and reads replies with a length.

    http.client parses every reply's headers with the email package, which costs
    about as much as the gateway's own work on a call; this reads the three
    things a gateway reply has (status, length, whether to close).
    """

    def __init__(self, host, port, timeout, context=None):
        sock = socket.create_connection((host, port), timeout)
        if sock.getsockname() == sock.getpeername():
            # No gateway listens on a port of the local ephemeral range and TCP connected
            # the socket to itself; it would hold the port the gateway restarts on.
            sock.close()
            raise ConnectionRefusedError(f"nothing listens on {host}:{port}")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if context is not None:
            sock = context.wrap_socket(sock, server_hostname=host)
        self.sock, self.rfile = sock, sock.makefile("rb")
        self.host = f"{host}:{port}".encode()
        self.closing = False

    def post(self, path, body, headers):
        self.sock.sendall(
            b"POST %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %d\r\n\r\n%s"
            % (path.encode(), self.host, headers, len(body), body)
        )
        line = self.rfile.readline(65537)
        if not line:
            raise http.client.RemoteDisconnected("the gateway closed the connection")
        try:
            status = int(line.split(None, 2)[1])
        except (IndexError, ValueError):
            raise http.client.BadStatusLine(line[:80]) from None
        headers = self._headers()
        if headers.get(b"connection", b"").lower() == b"close":
            self.closing = True
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":  # a proxy's way
            return status, self._chunks()
        if b"content-length" not in headers:  # not a reply of ours: read to the end
            self.closing = True
            return status, self.rfile.read()
        return status, self._exactly(int(headers[b"content-length"]))

    def _headers(self):
        headers = {}
        while True:
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                return headers
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()

    def _exactly(self, length):
        data = self.rfile.read(length)
        if len(data) < length:
            raise http.client.IncompleteRead(data, length - len(data))
        return data

    def _chunks(self):
        parts = []
        while True:
            size = int(self.rfile.readline(65537).split(b";")[0], 16)
            if size == 0:
                self._headers()  # trailers, up to the blank line
                return b"".join(parts)
            parts.append(self._exactly(size))
            self.rfile.readline(65537)

    def stale(self):
        """Whether the gateway closed this idle connection (readable means EOF here)."""
        try:
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def close(self):
        self.rfile.close()
        self.sock.close()


def _tls_context(ca_file):
    try:
        return ssl.create_default_context(cafile=ca_file or None)
    except OSError as exc:
        raise ConfigError(f"cannot read the gateway's CA file {ca_file}: {exc}") from None


class GatewayLaunchPad:
    """A LaunchPad on a compute node: the allow-listed methods, run by the gateway.

    ``api`` is the LaunchPad class it stands for (``LaunchPad.from_config`` passes
    itself; it is passed in, not imported, since LaunchPad creates this client):
    its signatures name positional arguments, and its methods that are not offered
    are refused with the reason. Without it, calls must name their arguments.
    """

    def __init__(self, config=None, client=None, clock=system_clock, api=None):
        self.config = config
        self.store = client or GatewayClient.from_config(config)  # close() and describe()
        self.clock = clock
        self.api = api

    @classmethod
    def from_file(cls, path=None, api=None):
        from ..config import load_config

        return cls(load_config(path), api=api)

    def now(self):
        return timestamp(self.clock)

    def today(self):
        return local_day(self.clock)

    def describe(self):
        return self.store.describe()

    def __getattr__(self, name):
        if name in protocol.ALLOWED:
            forward = functools.partial(self._call, name)
            setattr(self, name, forward)
            return forward
        if not name.startswith("_") and hasattr(self.__dict__.get("api"), name):
            raise GatewayRefusedError(
                f"{name} is not offered through the gateway ({self.store.describe()}): it "
                "serves rockets and read-only queries; run commands that change workflows "
                "where the store is (the login node), with its own launchpad file"
            )
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def _call(self, name, *args, **kwargs):
        if hasattr(self.api, name):
            kwargs = protocol.named_arguments(self.api, name, args, kwargs)
        elif args:
            raise TypeError(f"{name} takes keyword arguments only through the gateway")
        return self.store.call(name, protocol.tag_arguments(kwargs), once=name in protocol.ONCE_ONLY)

    def finish_and_checkout(
        self,
        launch_id,
        action=None,
        state=LaunchState.COMPLETED.value,
        exception=None,
        fw_id=None,
        checkout=None,
    ):
        """A rapidfire rocket's result and its next claim in one request (one store
        transaction on the gateway's side): half the requests of a no-op firework. A
        method of the class, not a forwarded name: the rocket asks the class for it."""
        kwargs = dict(launch_id=launch_id, action=action, state=state, exception=exception, fw_id=fw_id)
        return self._call("finish_and_checkout", **kwargs, checkout=checkout)
