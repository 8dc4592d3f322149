"""One background thread per rocket process pings the running launch.

A single long-lived thread (not one per launch) keeps no-op fireworks cheap;
it ends by itself after a whole interval with nothing to ping.
If a ping finds the launch fenced (rerun, defused or declared lost), the
rocket is told so it can log that its result will be refused.
"""

import logging
import signal
import threading

from launchpad.errors import StarshellError

log = logging.getLogger("rocket.heartbeat")


class Heartbeat:
    def __init__(self, launchpad, interval=60.0):
        self.lp = launchpad
        self.interval = float(interval)
        self._launch = None
        self._report = None
        self._wake = threading.Event()
        self._thread = None
        self._lock = threading.Lock()
        self.fenced = set()

    def watch(self, launch_id):
        """Ping ``launch_id`` from now on (None: nothing is running)."""
        with self._lock:
            self._launch, self._report = launch_id, None
            if launch_id is not None and self.interval > 0 and self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)
                self._thread.start()

    def report(self, trackers):
        """Send ``trackers()`` (the running launch's tracker tails) with each ping: the
        same single write, so a tracked firework's heartbeat costs no more store work."""
        with self._lock:
            self._report = trackers

    def _loop(self):
        # Stop signals are for the main thread, which turns them into a clean hand-back;
        # delivered here, CPython would only notice them when the task returns.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                launch_id, report = self._launch, self._report
                if launch_id is None:  # idle for a whole interval: the rocket is done
                    self._thread = None
                    return
            try:
                alive = self._ping(launch_id, report)
            except StarshellError as exc:
                log.warning("heartbeat for launch %s failed: %s", launch_id, exc)
                continue
            if not alive and launch_id not in self.fenced:
                self.fenced.add(launch_id)
                log.warning(
                    "launch %s was fenced (rerun, defused or declared lost); its result will not be applied",
                    launch_id,
                )

    def _ping(self, launch_id, report):
        try:
            trackers = report() if report is not None else None
        except Exception as exc:  # noqa: BLE001 - a tracker must never stop the heartbeat
            log.warning("trackers of launch %s not read: %s: %s", launch_id, type(exc).__name__, exc)
            trackers = None
        if trackers is None:
            return self.lp.ping_launch(launch_id)
        return self.lp.ping_launch(launch_id, trackers=trackers)
