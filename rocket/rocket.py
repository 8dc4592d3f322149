"""A Rocket runs one firework: claim, make its directory, run its tasks, report.

One launch is two store transactions (the claim and the completion) plus a
heartbeat now and then, so thousands of no-op fireworks run per second.
Whatever happens inside a task is caught per firework and recorded on the
launch; only a signal (SIGTERM, Ctrl-C) stops the rocket itself, and then the
firework is handed back instead of being left RUNNING. A signal that comes
while the rocket is writing to the store waits until the write is done, and
a store outage is waited out (with a message) rather than losing a result.
"""

import contextlib
import copy
import functools
import json
import logging
import os
import signal
import socket
import threading
import time
import traceback
from datetime import datetime

from launchpad.actions import FWAction, apply_action_to_spec
from launchpad.errors import Interrupted, StaleLaunchError, StarshellError, StoreUnavailableError, TaskError
from launchpad.firetask import load_task
from launchpad.fw_data import note_running
from launchpad.states import LaunchState, State
from launchpad.tasks.paths import ALLOW_SPEC_KEY
from launchpad.worker import FWorker

from .background import Sidecar
from .heartbeat import Heartbeat
from .recovery import CHECKPOINT_KEY, checkpoint, previous_dir, resume
from .special_keys import (
    equip_task,
    files_in,
    job_info_action,
    launch_dir_for,
    output_files_action,
    packing_info,
    preserve_fworker_action,
    write_fw_files,
)

log = logging.getLogger("rocket")


class RocketInterrupted(Interrupted):
    """Raised inside a running task when the rocket is told to stop (``signum``: by which signal)."""


# The batch job's early walltime warning: qlaunch's pilot script passes Slurm's
# --signal on as SIGUSR1, so a walltime stop is told apart from Ctrl-C or scancel.
WALLTIME_SIGNAL = signal.SIGUSR1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, WALLTIME_SIGNAL)


def interrupt_message(signum):
    """What a stop signal means, as the launch and rlaunch's last line say it."""
    name = signal.Signals(signum).name
    if signum == WALLTIME_SIGNAL:
        return f"stopped by {name}: the batch job's walltime is nearly over"
    return f"stopped by {name}"


@contextlib.contextmanager
def interruptible(guard=None):
    """Turn SIGTERM/SIGINT into RocketInterrupted while rockets run (main thread only).

    With a rocket's ``guard`` the signal waits while the rocket writes to the store.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        message = interrupt_message(signum)
        if guard is None:
            raise RocketInterrupted(message, signum)
        guard.deliver(message, signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class SignalGuard:
    """Delivers a stop signal as RocketInterrupted only where that is safe.

    Inside a task it stops the task at once. While the rocket claims a
    firework or records a result it is held back until the store write is
    done: a claim cut short would leave the firework RUNNING with nobody to
    hand it back, a completion cut short would lose the result.
    """

    def __init__(self):
        self.pending = None
        self.depth = 0

    def deliver(self, message, signum=None):
        """Called by the signal handler."""
        if self.depth:
            self.pending = (message, signum)
            return
        raise RocketInterrupted(message, signum)

    @contextlib.contextmanager
    def shielded(self):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    @contextlib.contextmanager
    def unshielded(self):
        """Inside a shielded section, let signals stop the code within at once (a task)."""
        saved, self.depth = self.depth, 0
        try:
            self.check()
            yield
        finally:
            self.depth = saved

    def check(self):
        """Raise a signal that came while shielded, now that it is safe."""
        if self.pending and not self.depth:
            (message, signum), self.pending = self.pending, None
            raise RocketInterrupted(message, signum)


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

    def __init__(
        self,
        launchpad,
        worker=None,
        launch_root=".",
        ping_interval=60.0,
        chdir=True,
        requeue_on_interrupt=True,
        store_patience=600.0,
        sleep=time.sleep,
        clock=time.monotonic,
        pdb_on_exception=False,
        in_place=False,
        launcher_dirs=True,
        fw_json=True,
        fw_yaml=False,
        local_redirect=False,
    ):
        self.lp = launchpad
        # Run in launch_root itself, not a new launcher_* below it (offline mode: the
        # directory qlaunch prepared, where lpad recover_offline looks for the files).
        self.in_place = in_place
        # False: run in launch_root itself, as FireWorks' launch_rocket and rlaunch
        # singleshot do (a _launch_dir still wins); True: a new launcher_* per firework.
        self.launcher_dirs = launcher_dirs
        # FireWorks' PRINT_FW_JSON / PRINT_FW_YAML; rapidfire's local_redirect (FW_job.out/.error).
        self.fw_json, self.fw_yaml, self.local_redirect = fw_json, fw_yaml, local_redirect
        self.packing = packing_info()  # rlaunch multi's share of the nodes, else None
        self.worker = worker or FWorker()
        self.filter = self.worker.filter()
        self.launch_root = os.path.abspath(launch_root)
        self.chdir = chdir
        self.requeue_on_interrupt = requeue_on_interrupt
        self.heartbeat = Heartbeat(launchpad, ping_interval)
        self.host, self.ip = host_identity()
        self.guard = SignalGuard()
        self.store_patience = float(store_patience)
        self._sleep, self._clock = sleep, clock
        # Seconds until the pilot's --timeout (set by rapidfire), None without one.
        self.time_left = None
        self.started = 0  # fireworks whose tasks this rocket started
        # rlaunch --pdb (FireWorks' name): a failing task opens the debugger where it failed.
        self.pdb_on_exception = pdb_on_exception
        # A LaunchPad on the store offers the completion and the next claim in one
        # transaction; a gateway's or an offline one does not (the class is asked, not
        # the object: a gateway's refuses names it does not serve).
        self._merges = callable(getattr(type(launchpad), "finish_and_checkout", None))

    def run_once(self, fw_id=None, states=(State.READY.value,)):
        """Run one firework; returns its fw_id, or None when nothing could be claimed.

        Signals are held back for the whole launch except while the tasks run,
        so there is no moment between the claim and the completion at which
        a signal could leave the firework RUNNING.
        """
        self.guard.check()
        with self.guard.shielded():
            fw, launch_id, launch_dir = self._claim(fw_id, states)
            if launch_id is not None and self._would_not_finish(fw, launch_id, launch_dir):
                fw = None
            elif launch_id is not None:
                self._run_claimed(fw, launch_id, launch_dir)
        self.guard.check()  # a signal that came meanwhile stops the rocket now
        return fw["fw_id"] if fw else None

    def run_series(self, more):
        """Run READY fireworks one after another while ``more(n)`` allows an (n+1)th;
        returns how many ran (``rlaunch rapidfire``).

        Where the LaunchPad offers it (``finish_and_checkout``), each completion and
        the next claim are one store transaction: half the write transactions of a
        no-op firework, and one lock hand-over instead of two among many rockets.
        """
        ran = 0
        self.guard.check()
        with self.guard.shielded():
            fw, launch_id, launch_dir = self._claim(None, (State.READY.value,))
            while fw is not None:
                if launch_id is not None and self._would_not_finish(fw, launch_id, launch_dir):
                    break
                ran += 1
                again = functools.partial(more, ran)
                if launch_id is None:  # it fizzled before its tasks started
                    fw, launch_id, launch_dir = self._claim_if(again)
                else:
                    fw, launch_id, launch_dir = self._run_claimed(fw, launch_id, launch_dir, again)
        self.guard.check()
        return ran

    def _would_not_finish(self, fw, launch_id, launch_dir):
        """Give a firework back unstarted when this pilot has too little time left for it.

        Only a pilot that has already run something does this, and then ends
        (its ``time_left`` becomes 0), so a fresh pilot takes the firework; a
        fresh pilot always starts what it gets, or the firework would wait for ever.
        """
        if self.time_left is None or not self.started:
            return False
        needed, left = self._time_needed(fw), self.time_left()
        if needed is None or needed <= left:
            return False
        self.heartbeat.watch(None)
        self.lp.interrupt_launch(
            launch_id,
            fw["fw_id"],
            not_started=True,
            reason=(f"not started: it needs about {needed:.0f} s and this pilot had {left:.0f} s left"),
        )
        with contextlib.suppress(OSError):
            os.rmdir(launch_dir)
        log.info(
            "firework %s needs about %.0f s and this pilot has %.0f s left: handed back "
            "for a fresh pilot; this one stops",
            fw["fw_id"],
            needed,
            left,
        )
        self.time_left = lambda: 0.0
        return True

    def _time_needed(self, fw):
        """Seconds the firework is expected to run: its longest earlier run (a walltime
        stop counts as at least that long), at most its ``_max_runtime``; None if unknown."""
        earlier = [
            launch.get("runtime_secs") or 0
            for launch in self.lp.get_launches(
                {
                    "fw_id": fw["fw_id"],
                    "state": {"$in": [LaunchState.COMPLETED.value, LaunchState.FIZZLED.value]},
                },
                fields=["runtime_secs"],
            )
        ]
        limit = fw["spec"].get("_max_runtime")
        limit = float(limit) if isinstance(limit, (int, float)) and limit > 0 else None
        known = [t for t in (max(earlier, default=0) or None, limit) if t]
        return min(known) if known else None

    def _run_claimed(self, fw, launch_id, launch_dir, claim_next=None):
        """Run a claimed firework and record its result; returns the next claim's
        ``(fw, launch_id, launch_dir)`` when ``claim_next()`` asks for one."""
        self.started += 1
        sidecar = Sidecar(launch_dir)
        note_running(launch_id)  # FWData().Running_IDs under rlaunch multi
        try:
            with self.guard.unshielded():  # a signal during the claim is raised here
                action, state, exception = self._run_tasks(fw, launch_dir, sidecar, launch_id)
        except RocketInterrupted as exc:
            self.heartbeat.watch(None)
            self.guard.pending = None
            self._record_sidecar(launch_id, sidecar)
            state = self.lp.interrupt_launch(
                launch_id,
                fw["fw_id"],
                requeue=self.requeue_on_interrupt,
                reason=str(exc) or "rocket interrupted",
                walltime=self._walltime_stop(exc),
            )
            if state == LaunchState.FIZZLED and self.requeue_on_interrupt:
                log.warning(
                    "firework %s FIZZLED: %s",
                    fw["fw_id"],
                    self.lp.get_launch(launch_id)["exception"]["message"],
                )
            raise
        finally:
            self.heartbeat.watch(None)
            note_running(None)
        self._record_sidecar(launch_id, sidecar)
        return self._finish(fw, launch_id, action, state, exception, claim_next)

    def _record_sidecar(self, launch_id, sidecar):
        """The trackers' last tails and any background failures, before the result: one
        write, only for fireworks that have trackers or background tasks that failed."""
        trackers, errors = sidecar.tracker_dicts(), list(sidecar.errors)
        if trackers is None and not errors:
            return
        try:
            self.patiently(
                lambda: self.lp.record_tracking(
                    launch_id, trackers=trackers, background_errors=errors or None
                ),
                f"recording the trackers of launch {launch_id}",
            )
        except StarshellError as exc:  # the result matters more than the tails
            log.warning("trackers of launch %s not recorded: %s", launch_id, exc)

    def _checkpoint(self, launch_id, index, action):
        """Record on the launch that task ``index`` starts (FireWorks' checkpoint), so a run
        killed in it resumes there; task 0 needs none (the claim says as much), so a
        one-task firework writes nothing more. A stop signal waits for the write."""
        with self.guard.shielded():
            try:
                self.patiently(
                    lambda: self.lp.ping_launch(launch_id, checkpoint=checkpoint(index, action)),
                    f"recording the checkpoint of launch {launch_id}",
                )
            except StarshellError as exc:  # the tasks matter more than a checkpoint
                log.warning("checkpoint of launch %s at task %d not recorded: %s", launch_id, index, exc)
        self.guard.check()

    def _walltime_stop(self, exc):
        """Whether the batch job's time ran out: its warning signal, or any stop after
        the pilot's --timeout (Slurm's SIGTERM at the hard limit)."""
        if exc.signum == WALLTIME_SIGNAL:
            return True
        return self.time_left is not None and self.time_left() <= 0

    def _claim(self, fw_id, states):
        """``(fw, launch_id, launch_dir)``; launch_id None when nothing runs (or it fizzled at once)."""
        launch_dir = self.launch_root if self.in_place else self._new_launch_dir()
        fw, launch_id = self.patiently(
            lambda: self.lp.claim_to_run(**self._checkout_args(launch_dir, fw_id, states)),
            "claiming a firework",
        )
        return self._start(fw, launch_id, launch_dir)

    def _claim_if(self, wanted):
        """The next READY firework if ``wanted()`` and no stop signal is waiting."""
        if self.guard.pending or not wanted():
            return None, None, None
        return self._claim(None, (State.READY.value,))

    def _checkout_args(self, launch_dir, fw_id=None, states=(State.READY.value,)):
        return {
            "worker": self.filter,
            "launch_dir": launch_dir,
            "fw_id": fw_id,
            "host": self.host,
            "ip": self.ip,
            "states": states,
            "ping_interval": max(self.heartbeat.interval, 0.0),
        }

    def _start(self, fw, launch_id, launch_dir):
        """Make a claimed firework's directory and start its heartbeat; a directory
        that cannot be made fizzles it (launch_id None in the result)."""
        if fw is None:
            return None, None, None
        try:
            launch_dir = self._prepare_dir(fw, launch_id, launch_dir)
        except (OSError, StarshellError) as exc:
            self.lp.set_launch_dir(launch_id, None)  # it was never created
            self._finish(
                fw, launch_id, FWAction(), LaunchState.FIZZLED.value, _exception_info(exc, None, None)
            )
            return fw, None, None
        log.info("launching firework %s (%s) in %s", fw["fw_id"], fw["name"], launch_dir)
        self.heartbeat.watch(launch_id)
        return fw, launch_id, launch_dir

    def _finish(self, fw, launch_id, action, state, exception, claim_next=None):
        """Record a result; with ``claim_next()`` true, also claim the next firework, in the
        same store transaction where the LaunchPad can. Returns ``_start``'s value for it."""
        merged = claim_next is not None and self._merges and not self.guard.pending and not self.in_place
        merged = merged and claim_next()
        planned = self._new_launch_dir() if merged else None
        what = f"recording the result of firework {fw['fw_id']}"
        result = dict(launch_id=launch_id, action=action, state=state, exception=exception, fw_id=fw["fw_id"])
        nxt = (None, None, None)
        try:
            if merged:
                next_fw, next_launch, stale = self.patiently(
                    lambda: self.lp.finish_and_checkout(**result, checkout=self._checkout_args(planned)), what
                )
                if stale:
                    log.warning("%s", stale)
                nxt = (next_fw, next_launch, planned)
            else:
                self.patiently(lambda: self.lp.complete_launch(**result), what)
        except StaleLaunchError as exc:
            log.warning("%s", exc)
        if state == LaunchState.FIZZLED:
            log.warning("firework %s FIZZLED: %s", fw["fw_id"], (exception or {}).get("message"))
        if merged:
            return self._start(*nxt)
        return self._claim_if(claim_next) if claim_next is not None else (None, None, None)

    def patiently(self, operation, what):
        """Run a store operation, waiting out an outage for up to ``store_patience`` seconds.

        The store retries briefly by itself; a longer outage (a MongoDB
        failover, a lock held for minutes) must not cost a finished result.
        """
        deadline, delay = self._clock() + self.store_patience, 1.0
        while True:
            try:
                return operation()
            except StoreUnavailableError as exc:
                if self._clock() + delay > deadline:
                    raise
                log.warning("store unavailable while %s (%s); trying again in %g s", what, exc, delay)
                self._sleep(delay)
                delay = min(delay * 2, 60.0)

    # -- directories -------------------------------------------------------------
    def _new_launch_dir(self):
        if not self.launcher_dirs:
            return self.launch_root
        return os.path.join(self.launch_root, launcher_dir_name())

    def _prepare_dir(self, fw, launch_id, planned):
        """Create the launch directory (the spec's ``_launch_dir`` wins, except in place)."""
        if self.in_place:
            return planned
        wanted = previous_dir(self.lp, fw) or launch_dir_for(
            fw["spec"], self.launch_root, self.worker.confined
        )
        path = wanted or planned
        if wanted or not self.launcher_dirs:
            os.makedirs(path, exist_ok=True)
        else:
            path = _make_unique_dir(planned)
        if path != planned:
            self.lp.set_launch_dir(launch_id, path)
        return path

    # -- running tasks -------------------------------------------------------------
    def _task_spec(self, fw, launch_dir):
        spec = copy.deepcopy(fw["spec"])
        spec["_fw_env"] = dict(self.worker.env)  # as FireWorks: the worker's env, always
        if self.worker.confined:  # the site's rule wins over the workflow's
            spec[ALLOW_SPEC_KEY] = False
        else:  # as FireWorks: file tasks write where their author says
            spec.setdefault(ALLOW_SPEC_KEY, True)
        spec["_launch_dir"] = launch_dir
        return spec

    def _run_tasks(self, fw, launch_dir, sidecar=None, launch_id=None):
        """Run the tasks in order; returns (action, state, exception info)."""
        spec = self._task_spec(fw, launch_dir)
        sidecar = sidecar or Sidecar(launch_dir)
        action, index, task = FWAction(), None, None
        old_cwd = os.getcwd() if self.chdir else None
        timer = _Timer(spec.get("_max_runtime"))
        outputs = contextlib.ExitStack()
        try:
            if self.chdir:
                os.chdir(launch_dir)
            write_fw_files(fw, launch_dir, self.fw_json, self.fw_yaml)
            if self.local_redirect:
                _redirect_output(outputs, launch_dir)
            start, action, spec = resume(spec, launch_dir)
            if not start:
                files_in(spec, launch_dir)
            sidecar.start(spec)
            self.heartbeat.report(sidecar.tracker_dicts)
            timer.start()
            # index outlives the loop: the except clauses below name the task that failed
            for index, task_dict in enumerate(spec.get("_tasks", [])[start:], start):  # noqa: B007
                task = equip_task(load_task(task_dict), spec, fw["fw_id"], self.lp, self.worker)
                if index and launch_id is not None:
                    self._checkpoint(launch_id, index, action)
                result = task.run_task(spec)
                if result is not None:
                    step = _as_action(result)
                    action = action.merged_with(step)
                    if step.update_spec or step.mod_spec:  # as FireWorks: later tasks see it too
                        spec = apply_action_to_spec(spec, step)
                    if action.skip_remaining_tasks:
                        break
            timer.stop()
            sidecar.finish(spec)
            if spec.get("_files_out") or spec.get("_pass_job_info"):  # most fireworks: no merging
                action = action.merged_with(output_files_action(spec, launch_dir))
                action = action.merged_with(job_info_action(fw, spec, launch_dir))
            if spec.get("_preserve_fworker"):
                action = action.merged_with(preserve_fworker_action(self.worker.name))
            if self.packing:
                action = action.merged_with(FWAction(stored_data=self.packing))
            if action.additions or action.detours or action.append_wfs:
                # user objects that cannot serialize themselves fail the firework here, as in
                # FireWorks, whatever the LaunchPad (a gateway's client encodes them itself)
                action.to_dict()
            return action, LaunchState.COMPLETED.value, None
        except RocketInterrupted:
            raise
        except TaskTimeout as exc:
            return _fizzled(exc, index, task, action, launch_dir)
        except Exception as exc:  # a task's failure is data for the launch, not a crash
            if self.pdb_on_exception:
                timer.stop()  # no _max_runtime alarm inside the debugger
                _post_mortem(exc)
            return _fizzled(exc, index, task, action, launch_dir)
        finally:
            timer.stop()
            sidecar.stop()
            outputs.close()
            if old_cwd is not None:
                os.chdir(old_cwd)


def _as_action(result):
    if isinstance(result, FWAction):
        return result
    if isinstance(result, dict):
        return FWAction.from_dict(result)
    raise TaskError(f"a task returned {type(result).__name__}; return an FWAction, a dict or None")


def _exception_info(exc, index, task):
    return {
        "message": f"{type(exc).__name__}: {exc}",
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        "task_index": index,
        "task_name": task.fw_name if task is not None else None,
    }


def _failure_info(exc, index, task, action, launch_dir):
    """The exception record of a failed task, with FireWorks' checkpoint to resume it at."""
    info = _exception_info(exc, index, task)
    if index is not None:
        info[CHECKPOINT_KEY] = checkpoint(index, action, launch_dir)
    return info


def _fizzled(exc, index, task, action, launch_dir):
    """``_run_tasks``' result for a failed task. The action also carries FireWorks' record
    of the failure, which users read from the launch: ``stored_data["_exception"]`` with
    ``_stacktrace`` and ``_details`` (the exception's own ``to_dict()``, if it has one)."""
    info = _failure_info(exc, index, task, action, launch_dir)
    if not _serializes(action):
        action = FWAction()  # what the tasks returned cannot be stored: the failure can
    record = {
        "_message": "runtime error during task",
        "_task": _json_or_none(lambda: task.to_dict()) if task is not None else None,
        "_exception": {
            "_stacktrace": info["traceback"],
            "_details": _json_or_none(getattr(exc, "to_dict", None)),
        },
    }
    return action.merged_with(FWAction(stored_data=record, exit=True)), LaunchState.FIZZLED.value, info


def _serializes(action):
    try:
        action.to_dict()
    except Exception:  # noqa: BLE001 - user objects' to_dict: any failure means "it does not"
        return False
    return True


def _json_or_none(make):
    """``make()`` if it works and gives JSON a store can keep, else None (as FireWorks,
    an exception that cannot be serialized leaves ``_details`` empty)."""
    try:
        value = make()
        json.dumps(value)
    except Exception:  # noqa: BLE001 - any failure of user code means "no details"
        return None
    return value


def _post_mortem(exc):
    """The debugger at the failing frame; the firework is recorded FIZZLED when it ends."""
    import pdb  # only for rlaunch --pdb

    log.warning("entering the debugger (rlaunch --pdb): %s: %s", type(exc).__name__, exc)
    pdb.post_mortem(exc.__traceback__)


def _redirect_output(stack, launch_dir):
    """rapidfire's ``local_redirect``: the tasks' stdout and stderr go to FW_job.out and
    FW_job.error in the launch directory, as FireWorks names them."""
    out = stack.enter_context(open(os.path.join(launch_dir, "FW_job.out"), "a", encoding="utf-8"))
    err = stack.enter_context(open(os.path.join(launch_dir, "FW_job.error"), "a", encoding="utf-8"))
    stack.enter_context(contextlib.redirect_stdout(out))
    stack.enter_context(contextlib.redirect_stderr(err))


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
