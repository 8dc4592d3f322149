"""The production HTTP server under ``lpad webgui``: cheroot, threaded.

Werkzeug's development server was what ran before; cheroot (CherryPy's
WSGI server, pure Python, already the gateway's server) serves each
request on one of a pool of threads, so a slow request does not hold the
others, and it keeps idle keep-alive connections off the pool.
"""

from cheroot import wsgi

DEFAULT_THREADS = 8


class GuiServer:
    """A bound cheroot server with the small interface ``serve`` and the tests use."""

    def __init__(self, app, host="127.0.0.1", port=5000, threads=DEFAULT_THREADS):
        self._server = wsgi.Server(
            (host, port), app, numthreads=max(int(threads), 1), server_name="starshell-webgui"
        )
        self._server.prepare()  # binds now: a busy port fails here, before any banner

    @property
    def server_port(self):
        return self._server.bind_addr[1]

    def serve_forever(self):
        self._server.serve()

    def shutdown(self):
        """Stop serving (from another thread); requests under way are finished first."""
        self._server.stop()

    server_close = shutdown  # stopping twice is harmless
