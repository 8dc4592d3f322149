"""Tasks the fault tests' fireworks run, importable by rocket subprocesses as ``faults.tasks``.

Each run appends one line, ``<tag> <launch directory>``, to an append-only
log with a single O_APPEND write (atomic for short lines), so what really
ran is counted from outside the store, killed processes included.
"""

import os
import time


def record(log_path, tag, seconds=0.0, hold=None):
    """Log this run, then work for ``seconds``; while the file ``hold`` exists, keep waiting."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{tag} {os.path.basename(os.getcwd())}\n".encode())
    finally:
        os.close(fd)
    if seconds:
        time.sleep(seconds)
    deadline = time.monotonic() + 60
    while hold and os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.02)


def read_log(log_path):
    """``[(tag, launch directory name)]`` in the order the runs started."""
    if not os.path.exists(log_path):
        return []
    with open(log_path, encoding="utf-8") as fh:
        return [tuple(line.split(" ", 1)) for line in fh.read().splitlines() if line]
