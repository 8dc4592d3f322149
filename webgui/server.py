"""The production HTTP server under ``lpad webgui``: waitress, threaded.

waitress (the Pylons project's production WSGI server, pure Python) reads
and writes every connection on one event-loop thread and runs each request
on one of a pool of threads: a slow request does not hold the others, and an
idle keep-alive connection holds no thread. One process keeps one layout
cache and one session table, which FireWorks' gunicorn processes would each
need their own of.
"""

import threading

from waitress import wasyncore
from waitress.server import create_server

DEFAULT_THREADS = 8


class GuiServer:
    """A bound waitress server with the small interface ``serve`` and the tests use."""

    def __init__(self, app, host="127.0.0.1", port=5000, threads=DEFAULT_THREADS):
        # binds now: a busy port fails here, before any banner
        self._server = create_server(
            app, host=host, port=port, threads=max(int(threads), 1), ident="starshell-webgui"
        )
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._serving = False

    @property
    def server_port(self):
        return self._server.effective_port

    def serve_forever(self):
        """Serve until ``shutdown``; the loop runs one round at a time so that a stop
        from another thread closes every connection here, on the loop's own thread."""
        adj = self._server.adj
        self._serving = True
        try:
            while not self._stopping.is_set():
                wasyncore.loop(
                    timeout=adj.asyncore_loop_timeout,
                    map=self._server._map,
                    use_poll=adj.asyncore_use_poll,
                    count=1,
                )
        finally:
            self._close_all()

    def _close_all(self):
        for channel in list(self._server._map.values()):
            channel.close()
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        self._stopped.set()

    def shutdown(self):
        """Stop serving (from another thread); requests under way are finished first."""
        if self._stopped.is_set():
            return
        self._stopping.set()
        try:
            self._server.pull_trigger()  # wake the loop now, not at its next timeout
        except OSError:
            pass

    def server_close(self):
        """Stop serving; the thread that ran ``serve_forever`` closes up (here, if none did)."""
        self.shutdown()
        if not self._serving and not self._stopped.is_set():
            self._close_all()
