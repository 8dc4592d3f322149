"""A rocket declared lost that finishes later: its result is kept on its own launch
for the record, and changes neither the firework's state nor its children."""

import signal
import time

import pytest
from conftest import ManualClock

from launchpad import FWAction, Workflow
from launchpad.errors import StaleLaunchError

from .conftest import (
    assert_clean,
    assert_exactly_once,
    finish,
    lpad,
    make_lp,
    record_figures,
    recording_fw,
    rlaunch,
    wait_for,
)
from .tasks import read_log

pytestmark = pytest.mark.faults


def parents_and_child(log_path, hold=None, **child_spec):
    """P and Q, both parents of C: a second release by P would ready C too early."""
    p = recording_fw("P", log_path, hold=hold)
    q = recording_fw("Q", log_path)
    c = recording_fw("C", log_path, **child_spec)
    p.fw_id, q.fw_id, c.fw_id = 1, 2, 3
    return Workflow([p, q, c], {1: [3], 2: [3]})


def state(lp, fw_id):
    return lp.get_fw_dict(fw_id, with_launches=False)


# -- the real thing: a stopped process comes back --------------------------------------
@pytest.mark.timeout(90)
def test_a_stopped_rocket_that_comes_back_is_refused(lp, work):
    log_path, hold = work / "ran.log", work / "hold"
    hold.write_text("")
    lp.add_wf(parents_and_child(log_path, hold=hold))
    late = rlaunch(work, "late", "--ping_interval", "0.2", "singleshot", "-f", "1")
    wait_for(lambda: read_log(log_path), 30, "the first rocket to start P")
    late.send_signal(signal.SIGSTOP)  # a node that freezes (or a network that partitions)
    try:
        time.sleep(1.3)
        code, out, err = lpad(work, "detect_lostruns", "--time", "1", "--rerun")
        assert code == 0 and "1 lost run" in out, out + err
        hold.unlink()
        second = rlaunch(work, "second", "singleshot", "-f", "1")
        assert finish([second], 30) == [0], second.err_path.read_text()
    finally:
        late.send_signal(signal.SIGCONT)
    assert finish([late], 30) == [0], late.err_path.read_text()
    assert "was fenced" in late.err_path.read_text()
    p = state(lp, 1)
    assert p["state"] == "COMPLETED"
    launches = lp.get_launches({"fw_id": 1})
    first, rerun = launches
    assert p["current_launch"] == rerun["launch_id"] and rerun["state"] == "COMPLETED"
    assert first["state"] == "FIZZLED" and first["exception"]["lost"] is True
    assert first["late_result"]["state"] == "COMPLETED"  # kept for the record
    assert state(lp, 3)["state"] == "WAITING" and state(lp, 3)["waiting_on"] == 1
    assert_clean(lp)
    final = rlaunch(work, "final", "rapidfire", "--sleep", "0.05")
    assert finish([final], 30) == [0]
    figures = assert_exactly_once(lp, log_path, ["P", "Q", "C"])
    record_figures("late_rocket_process", late_results_refused=1, **figures)


# -- every interleaving, on both stores, with an injected clock ------------------------
@pytest.fixture(params=["sqlite", "mongomock"])
def clp(request, tmp_path):
    lp = make_lp(request.param, tmp_path)
    lp.clock = ManualClock()
    return lp


def lose(lp, fw_id=1, fizzle=False):
    """Claim ``fw_id`` and let its heartbeat go stale until it is declared lost."""
    fw, launch_id = lp.claim_to_run(fw_id=fw_id)
    lp.clock.advance(2 * 3600)
    assert lp.detect_lostruns(3600, rerun=not fizzle, fizzle=fizzle)[0] == [launch_id]
    return launch_id


def complete(lp, fw_id, action=None, state="COMPLETED"):
    fw, launch_id = lp.claim_to_run(fw_id=fw_id)
    assert fw is not None
    lp.complete_launch(launch_id, action or FWAction(), state=state, fw_id=fw_id)
    return launch_id


def late(lp, launch_id, state="COMPLETED", action=None):
    assert lp.ping_launch(launch_id) is False  # its heartbeat learns it was fenced
    with pytest.raises(StaleLaunchError):
        lp.complete_launch(
            launch_id, action or FWAction(update_spec={"from_late": True}), state=state, fw_id=1
        )


def test_late_result_before_the_rerun_started(clp, tmp_path):
    clp.add_wf(parents_and_child(tmp_path / "log"))
    lost = lose(clp)
    late(clp, lost)
    assert state(clp, 1)["state"] == "READY" and state(clp, 3)["waiting_on"] == 2
    assert_clean(clp)


def test_late_result_while_the_rerun_runs(clp, tmp_path):
    clp.add_wf(parents_and_child(tmp_path / "log"))
    lost = lose(clp)
    fw, rerun = clp.claim_to_run(fw_id=1)
    late(clp, lost)
    assert state(clp, 1)["state"] == "RUNNING" and state(clp, 1)["current_launch"] == rerun
    clp.complete_launch(rerun, FWAction(), fw_id=1)
    assert state(clp, 3)["waiting_on"] == 1 and "from_late" not in state(clp, 3)["spec"]
    assert_clean(clp)


def test_late_result_after_the_rerun_completed(clp, tmp_path):
    clp.add_wf(parents_and_child(tmp_path / "log"))
    lost = lose(clp)
    complete(clp, 1)
    late(clp, lost)
    late_fizzle = lost
    with pytest.raises(StaleLaunchError):  # nor does a late failure undo the completion
        clp.complete_launch(late_fizzle, FWAction(), state="FIZZLED", fw_id=1)
    assert state(clp, 1)["state"] == "COMPLETED"
    assert state(clp, 3)["state"] == "WAITING" and state(clp, 3)["waiting_on"] == 1
    complete(clp, 2)
    assert state(clp, 3)["state"] == "READY"
    assert_clean(clp)


def test_late_result_after_it_was_declared_fizzled(clp, tmp_path):
    clp.add_wf(parents_and_child(tmp_path / "log", _allow_fizzled_parents=True))
    lost = lose(clp, fizzle=True)
    assert state(clp, 1)["state"] == "FIZZLED" and state(clp, 3)["waiting_on"] == 1
    late(clp, lost)
    child = state(clp, 3)
    assert state(clp, 1)["state"] == "FIZZLED"
    assert child["waiting_on"] == 1 and len(child["spec"]["_fizzled_parents"]) == 1
    assert_clean(clp)
