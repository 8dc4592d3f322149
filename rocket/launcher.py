"""Launch modes: singleshot, rapidfire and multi (N rocket processes).

Clock and sleep are injected so tests drive the loops without waiting.
SIGTERM and SIGINT (Slurm's walltime, Ctrl-C) become RocketInterrupted in
the running task, so the firework is handed back before the process ends.
"""

import contextlib
import logging
import signal
import subprocess
import sys
import threading
import time

from .rocket import STOP_SIGNALS, Rocket, RocketInterrupted, interrupt_message

log = logging.getLogger("rocket")


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
            raise RocketInterrupted(message)
        guard.deliver(message)
    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def launch_rocket(launchpad, worker=None, fw_id=None, launch_root=".", **rocket_options):
    """Run at most one firework (``rlaunch singleshot``); returns its id or None."""
    rocket = Rocket(launchpad, worker, launch_root, **rocket_options)
    states = ("READY", "RESERVED") if fw_id is not None else ("READY",)
    with interruptible(rocket.guard):
        return rocket.run_once(fw_id=fw_id, states=states)


def rapidfire(launchpad, worker=None, launch_root=".", nlaunches=0, max_loops=-1, sleep_time=60.0,
              timeout=None, clock=time.monotonic, sleep=time.sleep, **rocket_options):
    """Run fireworks until none can become ready (``rlaunch rapidfire``).

    ``nlaunches`` 0 means no limit; ``max_loops`` -1 means no limit on the
    rounds of waiting for fireworks that others are still running;
    ``timeout`` (seconds) stops starting new fireworks after that long, so a
    pilot job ends cleanly before its walltime. Returns the number launched.
    """
    rocket = Rocket(launchpad, worker, launch_root, **rocket_options)
    started, launched, loops = clock(), 0, 0
    rocket.time_left = None if timeout is None else lambda: timeout - (clock() - started)

    def out_of_time():
        return timeout is not None and clock() - started >= timeout

    with interruptible(rocket.guard):
        while True:
            while nlaunches == 0 or launched < nlaunches:
                if out_of_time() or rocket.run_once() is None:
                    break
                launched += 1
            loops += 1
            if (nlaunches and launched >= nlaunches) or out_of_time():
                break
            if max_loops >= 0 and loops >= max_loops:
                break
            if not launchpad.run_exists(rocket.filter):
                break
            log.info("nothing READY for this worker yet; sleeping %g s", sleep_time)
            sleep(sleep_time)
    return launched


def multi(n, argv_tail, python=sys.executable):
    """Start ``n`` rocket processes running ``rlaunch <argv_tail>``; wait for all.

    Separate processes, not forks of this one, so no database connection is
    ever shared. Returns the worst exit code.
    """
    procs = [subprocess.Popen([python, "-m", "rocket.cli", *argv_tail]) for _ in range(n)]

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


__all__ = ["launch_rocket", "rapidfire", "multi", "interruptible", "RocketInterrupted"]
