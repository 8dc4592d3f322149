"""Exactly once: concurrent rockets never run a firework twice and lose none.

Processes share the SQLite file; threads share one MongoDB (mongomock)
client. Each no-op firework appends its id to a log, so duplicates and
losses are counted from what really ran, not from the store's own records.
"""

import os
import subprocess
import sys
import threading
from collections import Counter

import pytest

from launchpad import Firework, LaunchPad, Workflow
from launchpad.stores import SQLiteStore
from launchpad.stores.mongo import MongoStore
from launchpad.tasks import PyTask
from rocket import rapidfire

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_LOG = []
_LOG_LOCK = threading.Lock()


def record_run(fw_tag):
    """The task every stress firework runs (threads: into RUN_LOG)."""
    with _LOG_LOCK:
        RUN_LOG.append(fw_tag)


def append_to_file(path, fw_tag):
    """The task for process rockets: O_APPEND writes of one line are atomic."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{fw_tag}\n".encode())
    finally:
        os.close(fd)


def stress_workflow(n, func, extra_args=()):
    """A mix of shapes: a chain, a fan-out/fan-in, and independent fireworks."""
    fws = [Firework(PyTask(func=func, args=[*extra_args, i]), fw_id=i) for i in range(1, n + 1)]
    links = {i: [i + 1] for i in range(1, 50)}  # chain 1..50
    links[50] = list(range(51, 151))  # fan out to 100
    for i in range(51, 151):
        links[i] = [151]  # fan in
    return Workflow(fws, links)


def check_exactly_once(ran, n, lp):
    counts = Counter(ran)
    duplicates = {k: v for k, v in counts.items() if v > 1}
    lost = set(range(1, n + 1)) - set(counts)
    assert not duplicates, f"ran twice: {sorted(duplicates)[:10]}"
    assert not lost, f"never ran: {sorted(lost)[:10]}"
    assert lp.fw_state_counts() == {"COMPLETED": n}
    assert len(lp.get_launches(fields=["launch_id"])) == n


@pytest.mark.slow
def test_processes_on_sqlite(tmp_path):
    n, rockets = 5000, 4
    db = tmp_path / "launchpad.sqlite"
    log_path = tmp_path / "ran.log"
    lp = LaunchPad(SQLiteStore(db))
    lp.add_wf(stress_workflow(n, "test_exactly_once.append_to_file", [str(log_path)]))
    env = dict(
        os.environ,
        STARSHELL_HOME=str(tmp_path),
        PYTHONPATH=os.pathsep.join([ROOT, os.path.join(ROOT, "tests"), os.environ.get("PYTHONPATH", "")]),
    )
    env.pop("STARSHELL_LAUNCHPAD", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "rocket.cli", "-s", "rapidfire", "--sleep", "0.05"],
            cwd=tmp_path,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(rockets)
    ]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    ran = [int(line) for line in log_path.read_text().split()]
    check_exactly_once(ran, n, lp)


@pytest.mark.slow
def test_threads_on_mongomock(tmp_path):
    n, rockets = 600, 4  # mongomock scans every document per query: keep it small
    lp = LaunchPad(MongoStore.connect(mongomock=True, name="stress"))
    lp.add_wf(stress_workflow(n, "test_exactly_once.record_run"))
    RUN_LOG.clear()
    errors = []

    def rocket():
        try:
            rapidfire(lp, launch_root=str(tmp_path), sleep_time=0.01, chdir=False, ping_interval=0)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=rocket) for _ in range(rockets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    check_exactly_once(list(RUN_LOG), n, lp)
