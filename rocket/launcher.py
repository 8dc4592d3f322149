"""Launch modes: singleshot, rapidfire and multi (N rocket processes).

Clock and sleep are injected so tests drive the loops without waiting.
SIGTERM and SIGINT (Slurm's walltime, Ctrl-C) become RocketInterrupted in
the running task, so the firework is handed back before the process ends.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from typing import Any, Callable, Optional

from launchpad.fw_config import get_fworker, load_fw_settings
from launchpad.fw_utilities import create_datestamp_dir, get_fw_logger, log_multi, redirect_local
from launchpad.states import State

from .rocket import STOP_SIGNALS, Rocket, RocketInterrupted, interruptible

log = logging.getLogger("rocket")


def launch_rocket(
    launchpad: Any,
    fworker: Any = None,
    fw_id: Optional[int] = None,
    strm_lvl: Optional[str] = None,
    pdb_on_exception: bool = False,
    *,
    launch_root: Optional[str] = None,
    **rocket_options: Any,
) -> Optional[int]:
    """Run at most one firework (``rlaunch singleshot``); returns its id or None.

    As FireWorks' ``launch_rocket``: the firework runs in the current directory (or
    its ``_launch_dir``). With ``launch_root`` it runs in a new ``launcher_*``
    directory below that one instead. With no LaunchPad (``launchpad=None``) it runs
    offline, as FireWorks' does: the FW.json qlaunch left here, results written to files
    for ``lpad recover_offline``.
    """
    _set_stream_level(strm_lvl)
    if launchpad is None:
        from .offline import launch_offline

        return launch_offline(fworker, fw_id, launch_dir=launch_root or ".", **rocket_options)
    here = launch_root is None
    options = {**fw_file_options(), **rocket_options, "pdb_on_exception": pdb_on_exception}
    rocket = Rocket(
        launchpad, fworker, os.getcwd() if here else launch_root, launcher_dirs=not here, **options
    )
    states = (State.READY.value, State.RESERVED.value) if fw_id is not None else (State.READY.value,)
    with interruptible(rocket.guard):
        return rocket.run_once(fw_id=fw_id, states=states)


def fw_file_options() -> dict:
    """FW_config.yaml's PRINT_FW_JSON (default true) and PRINT_FW_YAML as Rocket options."""
    settings = load_fw_settings(quiet=True)
    return {"fw_json": settings.get("PRINT_FW_JSON", True), "fw_yaml": settings.get("PRINT_FW_YAML", False)}


def _set_stream_level(level: Any) -> None:
    """FireWorks' ``strm_lvl``: how much the rocket logs ("DEBUG", "INFO", ... or a number)."""
    if level is not None:
        log.setLevel(level if isinstance(level, int) else str(level).upper())


# A run silent for this many of the rocket's heartbeats looks lost: it keeps no one waiting.
LOST_PINGS = 10
# A waiting rocket looks at the store this often (one cheap query), so it ends, or
# starts the work a finished run readied, within about this long of that run's end.
POLL_SECS = 1.0
# Closer looks are spaced by this many times their own cost: a slow one (a worker
# query over a huge workflow) takes at most a tenth of a waiting rocket's time.
LOOK_SPACING = 10


def rapidfire(
    launchpad: Any,
    fworker: Any = None,
    m_dir: Optional[str] = None,
    nlaunches: int = 0,
    max_loops: int = -1,
    sleep_time: Optional[float] = None,
    strm_lvl: Optional[str] = None,
    timeout: Optional[float] = None,
    local_redirect: bool = False,
    pdb_on_exception: bool = False,
    *,
    launch_root: Optional[str] = None,
    lost_after: Optional[float] = None,
    poll: float = POLL_SECS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Any] = time.sleep,
    **rocket_options: Any,
) -> int:
    """Run fireworks until none can become READY for this worker (``rlaunch rapidfire``).

    FireWorks' arguments: each firework runs in a new ``launcher_*`` directory
    under ``m_dir`` (``launch_root``; default the current directory), and the
    caller's working directory is left as it was. ``nlaunches``: 0 no limit, N
    stop after N, -1 (FireWorks' ``infinite``) keep waiting for new work until
    stopped; finite runs end once waiting cannot bring work
    (``LaunchPad.future_run_exists``), so a pilot does not idle to its walltime.
    ``max_loops`` -1 means no limit on the rounds of waiting; ``sleep_time``
    defaults to FW_config.yaml's RAPIDFIRE_SLEEP_SECS (60); ``timeout``
    (seconds) stops starting new fireworks after that long, so a pilot job ends
    cleanly before its walltime; ``local_redirect`` sends the tasks' output to
    FW_job.out / FW_job.error in each launch directory. ``lost_after`` (default:
    ten of this rocket's heartbeats): a run silent that long keeps no one
    waiting. Returns the number launched.
    """
    _set_stream_level(strm_lvl)
    if sleep_time is None:
        sleep_time = load_fw_settings(quiet=True).get("RAPIDFIRE_SLEEP_SECS", 60.0)
    root = launch_root or m_dir or os.getcwd()
    options = {**fw_file_options(), **rocket_options}
    options.update(local_redirect=local_redirect, pdb_on_exception=pdb_on_exception)
    rocket = Rocket(launchpad, fworker, root, **options)
    started, launched, loops = clock(), 0, 0
    rocket.time_left = None if timeout is None else lambda: timeout - (clock() - started)
    if lost_after is None and rocket.heartbeat.interval > 0:
        lost_after = LOST_PINGS * rocket.heartbeat.interval
    waiting = Waiting(launchpad, rocket.filter, lost_after, clock, sleep, poll)

    def out_of_time():
        return rocket.time_left is not None and rocket.time_left() <= 0

    def more(ran):  # whether the series that has run ``ran`` may start another
        return (nlaunches <= 0 or launched + ran < nlaunches) and not out_of_time()

    with interruptible(rocket.guard):
        while True:
            if (nlaunches <= 0 or launched < nlaunches) and not out_of_time():
                launched += rocket.run_series(more)
            loops += 1
            if (nlaunches > 0 and launched >= nlaunches) or out_of_time():
                break
            if max_loops >= 0 and loops >= max_loops:
                break
            if nlaunches >= 0 and not waiting.work_may_come():
                break
            pause = sleep_time if timeout is None else min(sleep_time, rocket.time_left())
            log.info("nothing READY for this worker yet; sleeping %g s", pause)
            waiting.nap(pause, finite=nlaunches >= 0)
    return launched


class Waiting:
    """A rapidfire rocket between rounds: whether to wait, and waiting in short naps.

    Each nap costs one cheap query (``activity_mark``); only when a run has
    started or ended does the rocket look closer, so it picks up readied work
    or ends within about ``poll`` seconds without loading the store. Looks are
    spaced by ``LOOK_SPACING`` times their cost, so a look that is slow (a
    worker ``query`` over a huge workflow) takes at most a tenth of the time.
    """

    def __init__(self, launchpad, worker, lost_after, clock=time.monotonic, sleep=time.sleep, poll=POLL_SECS):
        self.lp, self.worker, self.lost_after = launchpad, worker, lost_after
        self.clock, self.sleep, self.poll = clock, sleep, poll
        self.reported = set()

    def work_may_come(self):
        """Whether waiting can bring work for this worker; says once which runs look lost."""
        if self.lost_after is not None:
            for fw_id, _launch_id, silent in self.lp.silent_runs(self.lost_after):
                if fw_id not in self.reported:
                    self.reported.add(fw_id)
                    log.warning(
                        "firework %s looks lost (no heartbeat for %.0f s); run lpad detect_lostruns",
                        fw_id,
                        silent,
                    )
        return self.lp.future_run_exists(self.worker, lost_after=self.lost_after)

    def nap(self, seconds, finite=True):
        """Sleep up to ``seconds``; return early when work is READY for this worker or
        (``finite``) when no more can come."""
        end = self.clock() + seconds
        mark, next_look = self.lp.activity_mark(), self.clock()
        while self.clock() < end:
            self.sleep(max(0.0, min(self.poll, end - self.clock())))
            now_mark = self.lp.activity_mark()
            if now_mark == mark or self.clock() < next_look:
                continue  # a change seen too soon after a look waits for the next nap
            mark, started = now_mark, self.clock()
            if self.lp.count_ready(self.worker, limit=1) or (finite and not self.work_may_come()):
                return
            next_look = self.clock() + LOOK_SPACING * (self.clock() - started)


def multi(n, argv_tail, python=sys.executable, envs=None):
    """Start ``n`` rocket processes running ``rlaunch <argv_tail>``; wait for all.

    Separate processes, not forks of this one, so no database connection is
    ever shared; ``envs``: variables for each process (its share of the nodes).
    Returns the worst exit code.
    """
    extra = envs or [{}] * n
    procs = [
        subprocess.Popen([python, "-m", "rocket.cli", *argv_tail], env={**os.environ, **extra[i]})
        for i in range(n)
    ]

    def forward(signum, frame):
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        codes = [p.wait() for p in procs]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return max(codes, key=abs) if codes else 0


__all__ = [
    "launch_rocket",
    "rapidfire",
    "multi",
    "interruptible",
    "RocketInterrupted",
    # FireWorks' rocket_launcher helpers, for ported imports
    "create_datestamp_dir",
    "get_fw_logger",
    "get_fworker",
    "log_multi",
    "redirect_local",
]
