"""What runs beside a firework's tasks: its background tasks and its trackers.

Each ``_background_tasks`` entry gets a thread, as in FireWorks, in the same
launch directory and with the same spec as the tasks. A background task
that fails is logged and written on the launch (``background_errors``), and
stops repeating, as a FireWorks background thread dies; it never fails the
firework, whose tasks are the work. ``_trackers`` tails are read here, in
the rocket, so the heartbeat can carry them in its one write.
"""

import logging
import signal
import threading
import time
import traceback
from datetime import datetime, timezone

from launchpad.background_task import background_tasks_of
from launchpad.trackers import trackers_of

log = logging.getLogger("rocket.background")

# How long the end of a firework waits for a background run in progress.
STOP_WAIT = 10.0
_BLOCKED = {signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGALRM}


class Sidecar:
    """The background tasks and trackers of one launch."""

    def __init__(self, launch_dir):
        self.launch_dir = launch_dir
        self.trackers, self.tasks, self.errors = [], [], []
        self._threads = []
        self._stop = self._lock = None  # made only for fireworks with background tasks

    def start(self, spec):
        """Read ``_trackers`` and ``_background_tasks`` (a malformed one raises, fizzling
        the firework before its tasks start) and start the background threads."""
        self.trackers = trackers_of(spec)
        self.tasks = background_tasks_of(spec)
        if self.tasks:
            self._stop, self._lock = threading.Event(), threading.Lock()
        for n, btask in enumerate(self.tasks):
            thread = threading.Thread(
                target=self._repeat, args=(n, btask, spec), name=f"background-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self):
        """Stop repeating; wait a little for runs in progress (a run never outlives the rocket:
        the threads are daemons)."""
        if not self._threads:
            return
        self._stop.set()
        deadline = time.monotonic() + STOP_WAIT
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("background task %s is still running; the firework ends without it", thread.name)
        self._threads = []

    def finish(self, spec):
        """Stop, then run the ``run_on_finish`` ones once more (after successful tasks, as
        FireWorks does)."""
        self.stop()
        for n, btask in enumerate(self.tasks):
            if btask.run_on_finish:
                self._run_once(n, btask, spec)

    def tracker_dicts(self):
        """The trackers with their files' current tails; None when the spec has none."""
        if not self.trackers:
            return None
        return [t.to_dict() | {"content": t.track_file(self.launch_dir)} for t in self.trackers]

    def _repeat(self, n, btask, spec):
        signal.pthread_sigmask(signal.SIG_BLOCK, _BLOCKED)  # signals are the main thread's
        runs = 0
        while not self._stop.is_set():
            if not self._run_once(n, btask, spec):
                return
            runs += 1
            if runs == btask.num_launches:
                return
            self._stop.wait(btask.sleep_time)

    def _run_once(self, n, btask, spec):
        """Run the tasks of one background task in order; False if one failed."""
        for task in btask.tasks:
            try:
                task.run_task(spec)
            except Exception as exc:  # noqa: BLE001 - a background failure is data for the launch
                self._record(n, task, exc)
                return False
        return True

    def _record(self, n, task, exc):
        name = getattr(task, "fw_name", type(task).__name__)
        log.warning("background task %s (%s) failed: %s: %s", n, name, type(exc).__name__, exc)
        with self._lock:
            self.errors.append(
                {
                    "background_index": n,
                    "task_name": name,
                    "message": f"{type(exc).__name__}: {exc}",
                    "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
                    "time": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(),
                }
            )
