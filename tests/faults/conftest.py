"""What the fault tests share: sizes, real rocket and lpad processes, the run log, figures.

Sizes: the CI size by default; ``STARSHELL_FAULTS=full`` (``python
tests/faults/run_full.py``) selects the full size. Figures: with
``STARSHELL_FAULTS_FIGURES=<file>`` each test appends one JSON line of what
it survived (kills, fireworks, duplicates, lost...), which the runner
turns into the table in RELIABILITY.md.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest

from launchpad import Firework, LaunchPad, Workflow
from launchpad.checker import check
from launchpad.stores import SQLiteStore
from launchpad.stores.mongo import MongoStore
from launchpad.tasks import PyTask

from .tasks import read_log

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)
FULL = os.environ.get("STARSHELL_FAULTS") == "full"


def size(ci, full):
    """The CI size, or the full one under ``STARSHELL_FAULTS=full``."""
    return full if FULL else ci


def record_figures(test, **figures):
    """Append this test's figures for RELIABILITY.md (when the runner asks for them)."""
    target = os.environ.get("STARSHELL_FAULTS_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"test": test, "full": FULL, **figures}) + "\n")


# -- stores and workflows -------------------------------------------------------------
@pytest.fixture
def work(tmp_path):
    """A private directory: store file, run log, rocket launch directories."""
    return tmp_path


@pytest.fixture
def store_path(work):
    return work / "launchpad.sqlite"


def make_lp(kind, work, **store_options):
    """A LaunchPad on a fresh store: ``sqlite`` (a file in ``work``) or ``mongomock``."""
    if kind == "sqlite":
        return LaunchPad(SQLiteStore(work / "launchpad.sqlite", **store_options))
    return LaunchPad(MongoStore.connect(mongomock=True, name=f"faults_{uuid.uuid4().hex[:8]}"))


@pytest.fixture
def lp(store_path):
    lp = LaunchPad(SQLiteStore(store_path))
    yield lp
    lp.store.close()


def recording_fw(tag, log_path, seconds=0.0, hold=None, **spec):
    args = [str(log_path), tag, seconds] + ([str(hold)] if hold else [])
    return Firework(PyTask(func="faults.tasks.record", args=args), name=tag, spec=spec or None)


def block_workflow(first, blocks, log_path, seconds=0.0, hold_roots=None):
    """``blocks`` of ten: a root, eight in parallel, a fan-in; tags ``first``, ``first+1``...

    Roots wait while the file ``hold_roots`` exists, so a test can act on a
    rocket known to be running one."""
    fws, links = [], {}
    for b in range(blocks):
        base = first + 10 * b
        for i in range(10):
            hold = hold_roots if i == 0 else None
            fws.append(recording_fw(str(base + i), log_path, seconds, hold=hold))
            fws[-1].fw_id = base + i
        links[base] = list(range(base + 1, base + 9))
        for i in range(1, 9):
            links[base + i] = [base + 9]
    return Workflow(fws, links, name=f"blocks-{first}")


# -- processes --------------------------------------------------------------------------
def process_env(work):
    env = dict(
        os.environ,
        STARSHELL_HOME=str(work),
        PYTHONPATH=os.pathsep.join([ROOT, TESTS, os.environ.get("PYTHONPATH", "")]),
    )
    env.pop("STARSHELL_LAUNCHPAD", None)
    return env


def spawn(args, work, name, cwd=None, **kwargs):
    """A ``python <args>`` process in ``cwd`` (default ``work``); its stderr goes to
    ``work/<name>.err``."""
    err = open(work / f"{name}.err", "w")
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd or work,
        env=process_env(work),
        stdout=kwargs.pop("stdout", subprocess.DEVNULL),
        stderr=err,
        text=True,
        **kwargs,
    )
    proc.err_path = work / f"{name}.err"
    proc.cwd = cwd or work
    err.close()
    return proc


def rlaunch(work, name, *args):
    """The real ``rlaunch``. A ``singleshot`` runs in the directory it is started in, as
    FireWorks' does, so each gets its own (a queue job's block directory), as users run it."""
    cwd = None
    if "singleshot" in args:
        cwd = work / f"{name}.dir"
        cwd.mkdir(exist_ok=True)
    return spawn(["-m", "rocket.cli", *args], work, name, cwd=cwd)


def lpad(work, *args, timeout=60):
    """Run the real ``lpad`` command; returns (exit code, stdout, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "launchpad.cli", *args],
        cwd=work,
        env=process_env(work),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.returncode, done.stdout, done.stderr


def wait_for(predicate, timeout, what, poll=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def finish(procs, timeout):
    """Wait for every process; kill the rest if the time is up (then fail)."""
    deadline = time.monotonic() + timeout
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=max(0.1, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            for q in procs:
                if q.poll() is None:
                    q.send_signal(signal.SIGKILL)
            raise AssertionError(f"processes still running after {timeout} s") from None
    return codes


# -- verdicts -------------------------------------------------------------------------------
def assert_clean(lp):
    report = check(lp, grace_secs=0)
    assert report.ok, "\n".join(report.lines())


def run_accounting(lp, log_path):
    """Compare what ran (the log) with the store's launches.

    Returns ``(counts by tag, unexplained runs)``: a run is explained when it
    belongs to the firework's one COMPLETED launch (once) or to a launch that
    was killed, interrupted or declared lost.
    """
    runs = read_log(log_path)
    fws = {d["fw_id"]: d["name"] for d in lp.get_fws(fields=["fw_id", "name"])}
    launches = lp.get_launches(
        fields=["launch_id", "fw_id", "state", "launch_dir", "exception", "interrupted"]
    )
    by_dir = {os.path.basename(launch["launch_dir"] or ""): launch for launch in launches}
    per_launch = Counter(d for _, d in runs)
    unexplained = []
    for tag, launch_dir in runs:
        launch = by_dir.get(launch_dir)
        if launch is None or fws.get(launch["fw_id"]) != tag:
            unexplained.append((tag, launch_dir, "no such launch of this firework"))
        elif per_launch[launch_dir] > 1:
            unexplained.append((tag, launch_dir, "ran twice in one launch"))
        elif launch["state"] != "COMPLETED" and not _ended_by_fault(launch):
            unexplained.append((tag, launch_dir, f"a {launch['state']} launch"))
    return Counter(tag for tag, _ in runs), unexplained


def _ended_by_fault(launch):
    exc = launch.get("exception") or {}
    return bool(exc.get("lost") or exc.get("interrupted") or launch.get("interrupted"))


def assert_exactly_once(lp, log_path, expected_tags):
    """Every firework COMPLETED once; every extra run was a killed or lost launch."""
    counts, unexplained = run_accounting(lp, log_path)
    assert not unexplained, f"runs no fault explains: {unexplained[:10]}"
    lost = set(expected_tags) - set(counts)
    assert not lost, f"never ran: {sorted(lost)[:10]}"
    completed = Counter(
        launch["fw_id"] for launch in lp.get_launches({"state": "COMPLETED"}, fields=["fw_id"])
    )
    assert all(n == 1 for n in completed.values()), "a firework has two COMPLETED launches"
    assert lp.fw_state_counts() == {"COMPLETED": len(expected_tags)}
    return {
        "fireworks": len(expected_tags),
        "runs": sum(counts.values()),
        "reruns_of_killed_launches": sum(n - 1 for n in counts.values()),
        "unexplained_duplicates": 0,
        "lost": 0,
    }
