"""The SQLite file locked for seconds by another process (``BEGIN EXCLUSIVE`` held):
rockets and ``lpad`` wait with a message a person understands, then go on; a lock held
for too long ends in one clear error; nothing is ever half-written."""

import time

import pytest

from launchpad import LaunchPad, Workflow
from launchpad.cli import main as lpad_main
from launchpad.errors import StoreUnavailableError
from launchpad.stores import SQLiteStore
from launchpad.workflow_files import dump_workflow

from .conftest import (
    assert_clean,
    assert_exactly_once,
    finish,
    lpad,
    record_figures,
    recording_fw,
    rlaunch,
    size,
    spawn,
)

pytestmark = pytest.mark.faults

LOCKER = [
    "-c",
    """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
""",
]


def lock_store(work, path, seconds):
    """Another process holds the write lock for ``seconds``; returns once it holds it."""
    proc = spawn([*LOCKER, str(path), str(seconds)], work, "locker", stdout=-1)
    assert proc.stdout.readline().strip() == "locked"
    return proc


@pytest.mark.timeout(90)
def test_rockets_and_lpad_wait_for_a_locked_store_and_go_on(lp, work, store_path):
    held = size(5, 15)
    log_path = work / "ran.log"
    lp.add_wf(Workflow([recording_fw(f"a{i}", log_path) for i in range(20)]))
    dump_workflow(Workflow([recording_fw(f"b{i}", log_path) for i in range(500)]), str(work / "b.yaml"))
    locker = lock_store(work, store_path, held)
    started = time.monotonic()
    rocket = rlaunch(work, "rocket", "rapidfire", "--sleep", "0.1", "--max_loops", "5")
    adder = spawn(["-m", "launchpad.cli", "add", "b.yaml"], work, "add")
    code, out, err = lpad(work, "get_fws", "-d", "count")  # reads go on during the lock
    assert code == 0 and out.strip() == "20" and time.monotonic() - started < held, err
    assert finish([locker, rocket, adder], 60) == [0, 0, 0]
    waited = time.monotonic() - started
    assert waited >= held
    for proc in (rocket, adder):
        message = proc.err_path.read_text()
        assert "is locked by another process; waiting up to 300 s for it" in message, message
        assert "is free again; going on" in message
        assert "Traceback" not in message
    assert lp.get_fw_ids(count_only=True) == 520  # the whole workflow, once
    final = rlaunch(work, "final", "-s", "rapidfire", "--sleep", "0.1", "--max_loops", "3")
    assert finish([final], 60) == [0]
    figures = assert_exactly_once(lp, log_path, [f"a{i}" for i in range(20)] + [f"b{i}" for i in range(500)])
    assert_clean(lp)
    record_figures("sqlite_locked", lock_seconds=held, waited_seconds=round(waited, 1), **figures)


@pytest.mark.timeout(60)
def test_a_lock_held_too_long_is_one_clear_error_and_writes_nothing(work, store_path, capsys):
    lp = LaunchPad(SQLiteStore(store_path, busy_timeout=0.1, lock_patience=1.0))
    dump_workflow(
        Workflow([recording_fw(f"b{i}", work / "ran.log") for i in range(50)]), str(work / "b.yaml")
    )
    locker = lock_store(work, store_path, 5)
    try:
        code = lpad_main(["add", str(work / "b.yaml")], launchpad=lp)
    finally:
        locker.kill()
        locker.wait()
    err = capsys.readouterr().err
    assert code == StoreUnavailableError.exit_code
    assert f"the store {store_path} stayed locked for 1 s; another process holds a write lock" in err
    assert "Traceback" not in err
    assert lp.get_fw_ids(count_only=True) == 0 and lp.count_wfs() == 0
    assert_clean(lp)
    lp.add_wf(Workflow([recording_fw("after", work / "ran.log")]))  # and it works again
    assert lp.get_fw_ids(count_only=True) == 1
