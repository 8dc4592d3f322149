"""A Rocket runs one firework: claim, make its directory, run its tasks, report.

One launch is two store transactions (the claim and the completion) plus a
heartbeat now and then, so thousands of no-op fireworks run per second.
Whatever happens inside a task is caught per firework and recorded on the
launch; only a signal (SIGTERM, Ctrl-C) stops the rocket itself, and then the
firework is handed back instead of being left RUNNING.
"""

import copy
import logging
import os
import signal
import socket
import threading
import traceback
from datetime import datetime

from launchpad.actions import FWAction
from launchpad.errors import StaleLaunchError, StarshellError, TaskError
from launchpad.firetask import load_task
from launchpad.tasks.paths import ALLOW_SPEC_KEY
from launchpad.worker import FWorker

from .heartbeat import Heartbeat
from .special_keys import files_in, job_info_action, launch_dir_for, output_files_action

log = logging.getLogger("rocket")


class RocketInterrupted(BaseException):
    """Raised inside a running task when the rocket is told to stop."""


class TaskTimeout(Exception):
    """A firework ran past its ``_max_runtime``."""


_host = None


def host_identity():
    """(hostname, ip) of this node, looked up once per process."""
    global _host
    if _host is None:
        name = socket.gethostname()
        try:
            ip = socket.gethostbyname(name)
        except OSError:
            ip = None
        _host = (name, ip)
    return _host


def launcher_dir_name(now=None):
    return "launcher_" + (now or datetime.now()).strftime("%Y-%m-%d-%H-%M-%S-%f")


class Rocket:
    """Runs fireworks from ``launchpad`` for ``worker`` under ``launch_root``."""

    def __init__(self, launchpad, worker=None, launch_root=".", ping_interval=60.0,
                 chdir=True, requeue_on_interrupt=True):
        self.lp = launchpad
        self.worker = worker or FWorker()
        self.filter = self.worker.filter()
        self.launch_root = os.path.abspath(launch_root)
        self.chdir = chdir
        self.requeue_on_interrupt = requeue_on_interrupt
        self.heartbeat = Heartbeat(launchpad, ping_interval)
        self.host, self.ip = host_identity()

    def run_once(self, fw_id=None, states=("READY",)):
        """Run one firework; returns its fw_id, or None when nothing could be claimed."""
        launch_dir = self._new_launch_dir()
        fw, launch_id = self.lp.checkout_fw(self.filter, launch_dir, fw_id=fw_id, host=self.host,
                                            ip=self.ip, states=states)
        if fw is None:
            return None
        try:
            launch_dir = self._prepare_dir(fw, launch_id, launch_dir)
        except (OSError, StarshellError) as exc:
            self._finish(fw, launch_id, FWAction(), "FIZZLED", _exception_info(exc, None, None))
            return fw["fw_id"]
        log.info("launching firework %s (%s) in %s", fw["fw_id"], fw["name"], launch_dir)
        self.heartbeat.watch(launch_id)
        try:
            action, state, exception = self._run_tasks(fw, launch_dir)
        except RocketInterrupted as exc:
            self.heartbeat.watch(None)
            self.lp.interrupt_launch(launch_id, fw["fw_id"], requeue=self.requeue_on_interrupt,
                                     reason=str(exc) or "rocket interrupted")
            raise
        finally:
            self.heartbeat.watch(None)
        self._finish(fw, launch_id, action, state, exception)
        return fw["fw_id"]

    def _finish(self, fw, launch_id, action, state, exception):
        try:
            self.lp.complete_launch(launch_id, action, state=state, exception=exception,
                                    fw_id=fw["fw_id"])
        except StaleLaunchError as exc:
            log.warning("%s", exc)
        if state == "FIZZLED":
            log.warning("firework %s FIZZLED: %s", fw["fw_id"], (exception or {}).get("message"))

    # -- directories -------------------------------------------------------------
    def _new_launch_dir(self):
        return os.path.join(self.launch_root, launcher_dir_name())

    def _prepare_dir(self, fw, launch_id, planned):
        """Create the launch directory (the spec's ``_launch_dir`` wins)."""
        wanted = launch_dir_for(fw["spec"], self.launch_root, self.worker.allow_outside_launch_dir)
        path = wanted or planned
        if wanted:
            os.makedirs(path, exist_ok=True)
        else:
            path = _make_unique_dir(planned)
        if path != planned:
            self.lp.store.update_launch(launch_id, {"launch_dir": path})
        return path

    # -- running tasks -------------------------------------------------------------
    def _task_spec(self, fw, launch_dir):
        spec = copy.deepcopy(fw["spec"])
        spec.setdefault("_fw_env", dict(self.worker.env))
        if self.worker.allow_outside_launch_dir:
            spec.setdefault(ALLOW_SPEC_KEY, True)
        spec["_launch_dir"] = launch_dir
        return spec

    def _run_tasks(self, fw, launch_dir):
        """Run the tasks in order; returns (action, state, exception info)."""
        spec = self._task_spec(fw, launch_dir)
        action, index, task = FWAction(), None, None
        old_cwd = os.getcwd() if self.chdir else None
        timer = _Timer(spec.get("_max_runtime"))
        try:
            if self.chdir:
                os.chdir(launch_dir)
            files_in(spec, launch_dir)
            timer.start()
            for index, task_dict in enumerate(spec.get("_tasks", [])):
                task = load_task(task_dict)
                result = task.run_task(spec)
                if result is not None:
                    action = action.merged_with(_as_action(result))
                    if action.skip_remaining_tasks:
                        break
            timer.stop()
            action = action.merged_with(output_files_action(spec, launch_dir))
            action = action.merged_with(job_info_action(fw, spec, launch_dir))
            return action, "COMPLETED", None
        except RocketInterrupted:
            raise
        except TaskTimeout as exc:
            return action, "FIZZLED", _exception_info(exc, index, task)
        except Exception as exc:  # a task's failure is data for the launch, not a crash
            return action, "FIZZLED", _exception_info(exc, index, task)
        finally:
            timer.stop()
            if old_cwd is not None:
                os.chdir(old_cwd)


def _as_action(result):
    if isinstance(result, FWAction):
        return result
    if isinstance(result, dict):
        return FWAction.from_dict(result)
    raise TaskError(f"a task returned {type(result).__name__}; return an FWAction, a dict or None")


def _exception_info(exc, index, task):
    return {"message": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            "task_index": index, "task_name": task.fw_name if task is not None else None}


def _make_unique_dir(path):
    """mkdir that never shares a directory with another rocket started the same microsecond."""
    candidate, n = path, 0
    while True:
        try:
            os.makedirs(candidate)
            return candidate
        except FileExistsError:
            n += 1
            candidate = f"{path}_{n}"


class _Timer:
    """``_max_runtime``: SIGALRM raises TaskTimeout in the running task (main thread only)."""

    def __init__(self, seconds):
        self.seconds = float(seconds) if seconds else 0.0
        self.active = False

    def start(self):
        if self.seconds <= 0 or threading.current_thread() is not threading.main_thread():
            return
        def expire(signum, frame):
            raise TaskTimeout(f"firework exceeded its _max_runtime of {self.seconds:g} s")
        self.previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        self.active = True

    def stop(self):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
            self.active = False
