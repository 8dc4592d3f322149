"""``lpad daemon``: one long-running process that keeps work flowing without a person.

On schedules (APScheduler) it tops the queue up with pilot jobs (the same
QueueLauncher as ``qlaunch rapidfire``), reruns lost runs (rockets whose
heartbeat stopped: a node crash, a ``kill -9``), frees stale reservations and
recovers offline runs (``lpad recover_offline``: jobs on nodes with no network).
Each job runs alone (``max_instances=1``, late runs coalesced into one), a
failing job is logged and tried again on its next turn, and scheduler errors
back the top-up off.  SIGTERM or Ctrl-C stop it after the jobs in progress
finish.  A status file under ``$STARSHELL_HOME`` serves ``lpad daemon status``
and ``lpad daemon stop``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable, Optional

from launchpad.cli.state import lost_run_spared
from launchpad.config import starshell_home
from launchpad.errors import ConfigError, QueueError, StarshellError
from launchpad.offline import recover_all, recovery_summary

from .launcher import backoff
from .reservations import detect_unreserved

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger("starshell.daemon")

STATUS_FILE = "daemon.json"
LOST_ACTIONS = ("rerun", "fizzle", "report")


@dataclass(frozen=True)
class DaemonSettings:
    """Intervals in seconds; an interval of 0 turns that job off."""

    maxjobs_queue: int = 10
    topup_interval: float = 60.0
    lostruns_interval: float = 600.0
    lostruns_time: float = 4 * 3600.0
    lostruns_action: str = "rerun"
    unreserved_interval: float = 600.0
    unreserved_time: float = 14 * 24 * 3600.0
    offline_interval: float = 60.0  # lpad recover_offline; cheap when there are no offline runs
    ping_interval: float | None = None  # the pilots' rlaunch --ping_interval, if known

    def check(self, can_submit: bool):
        if self.lostruns_action not in LOST_ACTIONS:
            raise ConfigError(
                f"lost runs action {self.lostruns_action!r} is not one of {', '.join(LOST_ACTIONS)}"
            )
        if any(
            v < 0
            for v in (
                self.topup_interval,
                self.lostruns_interval,
                self.unreserved_interval,
                self.lostruns_time,
                self.unreserved_time,
                self.offline_interval,
            )
        ):
            raise ConfigError("daemon intervals and times cannot be negative")
        if self.topup_interval and not can_submit:
            raise ConfigError(
                "the queue top-up needs a qadapter file (-q my_qadapter.yaml); "
                "or turn it off with --topup_interval 0"
            )
        if self.maxjobs_queue < 1:
            raise ConfigError("maxjobs_queue (-m) must be at least 1")

    def lost_time_note(self) -> str | None:
        """Why the pilots' lost runs may be caught later than --lostruns_time: a run is
        not declared lost while its heartbeat is younger than two of its intervals."""
        pings = self.ping_interval
        if not (self.lostruns_interval and pings and self.lostruns_time < 2 * pings):
            return None
        return (
            f"--lostruns_time {self.lostruns_time:g} s is shorter than twice the pilots' "
            f"heartbeat interval ({pings:g} s, rlaunch --ping_interval in rocket_launch): "
            f"their runs are declared lost after {2 * pings:g} s without a heartbeat"
        )


def status_path(home: Optional[str] = None) -> str:
    return os.path.join(home or starshell_home(), STATUS_FILE)


def utc_now(later: float = 0.0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=later)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class QueueDaemon:
    """The scheduled maintenance of one LaunchPad (and, with a launcher, its queue)."""

    def __init__(
        self,
        launchpad,
        settings: DaemonSettings,
        launcher=None,
        adapter=None,
        status_file: Optional[str] = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        settings.check(launcher is not None)
        self.lp = launchpad
        self.settings = settings
        self.launcher = launcher
        self.adapter = adapter if adapter is not None else getattr(launcher, "adapter", None)
        self.status_file = status_file or status_path()
        self.clock = clock
        self._lock = threading.Lock()
        self._jobs = {}
        self._topup_failures = 0
        self._topup_not_before = None
        self.scheduler = None

    # -- the jobs ------------------------------------------------------------------
    def topup(self) -> str:
        if self._topup_not_before is not None and self.clock() < self._topup_not_before:
            return "waiting out the back-off after a scheduler error"
        try:
            result = self.launcher.top_up(self.settings.maxjobs_queue)
        except QueueError:
            self._topup_failures += 1
            pause = max(backoff(self._topup_failures), self.settings.topup_interval)
            self._topup_not_before = self.clock() + pause
            log.warning("top-up: scheduler error %d in a row; next try in %g s", self._topup_failures, pause)
            raise
        self._topup_failures, self._topup_not_before = 0, None
        return result.summary(self.settings.maxjobs_queue)

    def lostruns(self) -> str:
        action = self.settings.lostruns_action
        found = self.lp.detect_lostruns(
            self.settings.lostruns_time, fizzle=action == "fizzle", rerun=action == "rerun"
        )
        launch_ids, fw_ids = found
        spared = [
            lost_run_spared(launch, self.settings.lostruns_time, "--lostruns_time")
            for launch in getattr(found, "spared", ())
        ]
        if not launch_ids:
            return "; ".join(["no lost runs", *spared])
        done = {
            "rerun": "their fireworks will run again",
            "fizzle": "their fireworks FIZZLED",
            "report": "left as they are (--lostruns_action report)",
        }[action]
        return "; ".join([f"lost runs: launches {launch_ids} of fireworks {fw_ids}: {done}", *spared])

    def unreserved(self) -> str:
        stale = detect_unreserved(self.lp, self.adapter, max_wait=self.settings.unreserved_time, release=True)
        if not stale:
            return "no stale reservations"
        return "; ".join(
            f"firework {s.fw_id} {'released' if s.released else 'not released'}: "
            f"{s.reason}" + (f"; job {s.qid} cancelled" if s.job_cancelled else "")
            for s in stale
        )

    def offline(self) -> str:
        """FireWorks' offline runs: bring their files' news into the store (recover_offline)."""
        return recovery_summary(recover_all(self.lp))

    def job_table(self):
        """(name, method, interval) of the jobs that are on."""
        s = self.settings
        jobs = [
            ("topup", self.topup, s.topup_interval),
            ("lostruns", self.lostruns, s.lostruns_interval),
            ("unreserved", self.unreserved, s.unreserved_interval),
            ("offline", self.offline, s.offline_interval),
        ]
        return [(name, method, every) for name, method, every in jobs if every > 0]

    def run_job(self, name: str) -> None:
        """Run one job now, log what it did (if new) and record it in the status file.

        A failure is logged and recorded, never raised: the daemon goes on
        and tries again on the job's next turn.
        """
        method, every = {n: (m, e) for n, m, e in self.job_table()}[name]
        record = {"last_run": utc_now(), "next_run": utc_now(every), "result": None, "error": None}
        try:
            record["result"] = method()
            # A line when something changes, not every minute: the log stays readable.
            same = record["result"] == self._jobs.get(name, {}).get("result")
            log.log(logging.DEBUG if same else logging.INFO, "%s: %s", name, record["result"])
        except StarshellError as exc:
            record["error"] = str(exc)
            log.error("%s failed: %s", name, exc)
        except Exception as exc:  # a bug must not stop the daemon; the traceback is logged
            record["error"] = f"{type(exc).__name__}: {exc}"
            log.exception("%s failed unexpectedly", name)
        with self._lock:
            previous = self._jobs.get(name, {})
            record["runs"] = previous.get("runs", 0) + 1
            record["failures"] = previous.get("failures", 0) + bool(record["error"])
            self._jobs[name] = record
        self.write_status()

    # -- scheduling --------------------------------------------------------------------
    def build_scheduler(self) -> BackgroundScheduler:
        """A scheduler where each job runs alone and late runs collapse into one."""
        # apscheduler loads here, not at import: `lpad --help` and `lpad get_qids`
        # load this module and must not pay for it.
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=3)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=timezone.utc,
        )
        first = datetime.now(timezone.utc)
        for name, _, every in self.job_table():
            scheduler.add_job(
                self.run_job, "interval", seconds=every, args=[name], id=name, name=name, next_run_time=first
            )
        return scheduler

    def serve(self, stop: Optional[threading.Event] = None, handle_signals: bool = True) -> int:
        """Run until ``stop`` is set (SIGTERM and SIGINT set it); returns an exit code."""
        stop = stop or threading.Event()
        claim_status_file(self.status_file)
        received = []  # signal names; the handler must not take locks (Event.set does)
        previous = _install_handlers(received) if handle_signals else {}
        self.scheduler = self.build_scheduler()
        try:
            self.write_status()
            self.scheduler.start()
            log.info(
                "daemon started (pid %d); store %s; %s",
                os.getpid(),
                self.lp.describe(),
                ", ".join(f"{n} every {e:g} s" for n, _, e in self.job_table()) or "no jobs",
            )
            if self.settings.lost_time_note():
                log.warning("%s", self.settings.lost_time_note())
            self.write_status()
            while not (received or stop.is_set()):
                time.sleep(0.2)
            log.info(
                "%sstopping: waiting for running jobs to finish",
                f"received {received[0]}; " if received else "",
            )
            self.scheduler.shutdown(wait=True)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            _remove(self.status_file)
        log.info("daemon stopped")
        return 0

    def write_status(self):
        """Write the status file; called from jobs, so it must not call the scheduler
        (its shutdown holds the scheduler's locks while it waits for running jobs)."""
        with self._lock:
            data = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": self._started(),
                "store": self.lp.describe(),
                "settings": asdict(self.settings),
                "qadapter": getattr(getattr(self.adapter, "config", None), "source", None),
                "jobs": {
                    name: {"next_run": self._started(), **self._jobs.get(name, {}), "every": every}
                    for name, _, every in self.job_table()
                },
            }
            tmp = f"{self.status_file}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1)
            os.replace(tmp, self.status_file)

    def _started(self):
        if not hasattr(self, "_started_at"):
            self._started_at = utc_now()
        return self._started_at


def _install_handlers(received: list) -> dict:
    """SIGTERM/SIGINT append their name to ``received``; nothing else, so no lock can deadlock."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum, frame):
        received.append(signal.Signals(signum).name)

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}


# -- the status file ---------------------------------------------------------------------
def read_status(path: str) -> Optional[dict]:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the daemon status file {path}: {exc}; remove it if no daemon is running"
        ) from None


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            return not any(line.startswith("State:") and "Z" in line.split()[1:2] for line in handle)
    except OSError:
        return True


def daemon_state(path: str) -> tuple:
    """``(status dict or None, running?)``; a status left by a dead daemon is removed."""
    data = read_status(path)
    if data is None:
        return None, False
    if data.get("host") != socket.gethostname():
        return data, True  # cannot check another host's processes; trust the file
    if pid_alive(int(data.get("pid", 0))):
        return data, True
    _remove(path)
    return data, False


def claim_status_file(path: str):
    """Refuse to start a second daemon on the same store home."""
    data, running = daemon_state(path)
    if running:
        raise ConfigError(
            f"a daemon is already running (pid {data['pid']} on {data['host']}, "
            f"status file {path}); stop it first: lpad daemon stop"
        )
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)


def stop_daemon(
    path: str,
    wait: float = 30.0,
    poll: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Send SIGTERM to the daemon and wait for it to finish its running jobs."""
    data, running = daemon_state(path)
    if not running:
        return {"stopped": False, "running": False, "pid": (data or {}).get("pid")}
    if data["host"] != socket.gethostname():
        raise ConfigError(
            f"the daemon runs on {data['host']} (pid {data['pid']}); run lpad daemon stop there"
        )
    pid = int(data["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = clock() + wait
    while clock() < deadline:
        if not pid_alive(pid) or not os.path.exists(path):
            return {"stopped": True, "running": False, "pid": pid}
        sleep(poll)
    return {"stopped": False, "running": True, "pid": pid}


def _remove(path: str):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


__all__ = [
    "QueueDaemon",
    "DaemonSettings",
    "status_path",
    "read_status",
    "daemon_state",
    "stop_daemon",
    "claim_status_file",
    "pid_alive",
    "STATUS_FILE",
    "LOST_ACTIONS",
]
