"""SIGTERM (a walltime, ``scancel``, Ctrl-C) in the middle of a run: the firework is
handed back by the rocket itself, whatever the rocket was doing when the signal came,
so nothing waits for ``detect_lostruns`` or a person."""

import os
import random
import signal
import time

import pytest

from launchpad import Firework, Workflow
from launchpad.tasks import ScriptTask
from rocket import launch_rocket, rapidfire
from rocket.rocket import RocketInterrupted

from .conftest import (
    assert_clean,
    assert_exactly_once,
    finish,
    make_lp,
    record_figures,
    recording_fw,
    rlaunch,
    size,
    wait_for,
)
from .tasks import read_log

pytestmark = pytest.mark.faults


def _no_running(lp):
    running = lp.get_fw_ids({"state": "RUNNING"})
    live = lp.get_launches({"state": "RUNNING"}, fields=["launch_id", "fw_id"])
    assert not running and not live, f"left RUNNING: fireworks {running}, launches {live}"


# -- a signal while the rocket talks to the store -----------------------------------
def _signal_during(monkeypatch, lp, method):
    """Make ``lp.<method>`` receive SIGTERM at its start, as if it came at that moment."""
    original = getattr(lp, method)

    def wrapped(*args, **kwargs):
        monkeypatch.setattr(lp, method, original)  # once
        os.kill(os.getpid(), signal.SIGTERM)
        return original(*args, **kwargs)

    monkeypatch.setattr(lp, method, wrapped)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("backend", ["sqlite", "mongomock"])
def test_signal_during_the_completion_waits_for_it(monkeypatch, tmp_path, backend):
    """The result is recorded first; only then does the rocket stop."""
    lp = make_lp(backend, tmp_path)
    lp.add_wf(recording_fw("a", tmp_path / "ran.log"))
    _signal_during(monkeypatch, lp, "complete_launch")
    with pytest.raises(RocketInterrupted):
        launch_rocket(lp, launch_root=str(tmp_path), ping_interval=0)
    assert lp.fw_state_counts() == {"COMPLETED": 1}
    _no_running(lp)
    assert_clean(lp)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("backend", ["sqlite", "mongomock"])
def test_signal_during_the_claim_hands_the_firework_back(monkeypatch, tmp_path, backend):
    lp = make_lp(backend, tmp_path)
    lp.add_wf(recording_fw("a", tmp_path / "ran.log"))
    _signal_during(monkeypatch, lp, "claim_to_run")
    with pytest.raises(RocketInterrupted):
        launch_rocket(lp, launch_root=str(tmp_path), ping_interval=0)
    assert lp.fw_state_counts() == {"READY": 1}
    assert read_log(tmp_path / "ran.log") == []  # the task never started
    assert lp.get_launches()[0]["interrupted"] is True
    _no_running(lp)
    assert_clean(lp)


@pytest.mark.timeout(30)
def test_signal_between_fireworks_stops_rapidfire_at_once(monkeypatch, tmp_path):
    lp = make_lp("sqlite", tmp_path)
    lp.add_wf(Workflow([recording_fw(str(i), tmp_path / "ran.log") for i in range(3)]))
    _signal_during(monkeypatch, lp, "future_run_exists")
    monkeypatch.setattr(lp, "claim_to_run", _only_once(lp.claim_to_run))
    with pytest.raises(RocketInterrupted):
        rapidfire(lp, launch_root=str(tmp_path), sleep_time=0, ping_interval=0)
    assert lp.fw_state_counts() == {"COMPLETED": 1, "READY": 2}
    assert_clean(lp)


def _only_once(checkout):
    calls = []

    def claim(*args, **kwargs):
        calls.append(1)
        return checkout(*args, **kwargs) if len(calls) == 1 else (None, None)

    return claim


# -- real rockets, real signals -----------------------------------------------------
@pytest.mark.timeout(size(240, 1500))
def test_sigterm_storm_never_leaves_a_firework_running(lp, work):
    """Signals at random moments (in tasks, claims, completions): after each, nothing is
    RUNNING, without detect_lostruns; then everything completes exactly once."""
    n, signals = size(300, 3000), size(20, 200)
    log_path = work / "ran.log"
    lp.add_wf(Workflow([recording_fw(str(i), log_path, 0.002) for i in range(n)]))
    rng = random.Random(6)
    started = time.monotonic()
    sent = 0
    for k in range(signals):
        before = len(read_log(log_path))
        if before >= n:
            break
        proc = rlaunch(work, f"rocket{k}", "rapidfire", "--sleep", "0.05", "--max_loops", "3")
        # Bound now: wait_for calls it before the loop moves on, but a closure should not rely on that.
        wait_for(
            lambda before=before, proc=proc: len(read_log(log_path)) > before or proc.poll() is not None,
            30,
            "the rocket to start running fireworks",
        )
        time.sleep(rng.uniform(0, 0.05))
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            sent += 1
        code = finish([proc], 30)[0]
        assert code in (0, 143), proc.err_path.read_text()
        _no_running(lp)
    final = rlaunch(work, "final", "rapidfire", "--sleep", "0.05", "--max_loops", "3")
    assert finish([final], 120) == [0], final.err_path.read_text()
    figures = assert_exactly_once(lp, log_path, [str(i) for i in range(n)])
    interrupted = len(lp.get_launches({"interrupted": True}, fields=["launch_id"]))
    assert_clean(lp)
    record_figures(
        "sigterm_storm",
        signals=sent,
        interrupted_launches=interrupted,
        seconds=round(time.monotonic() - started, 1),
        **figures,
    )


@pytest.mark.timeout(60)
def test_sigterm_stops_a_script_and_its_children(lp, work):
    lp.add_wf(Firework(ScriptTask(script="echo $$ > script.pid; exec sleep 30"), name="script"))
    proc = rlaunch(work, "rocket", "singleshot")
    pid_file = []
    wait_for(
        lambda: pid_file or pid_file.extend(proc.cwd.glob("script.pid")),
        20,
        "the script to start",  # singleshot runs where it was started
    )
    wait_for(lambda: pid_file[0].read_text().strip(), 5, "the script's pid")
    pid = int(pid_file[0].read_text())
    proc.send_signal(signal.SIGTERM)
    assert finish([proc], 20) == [143]
    assert "no firework was left RUNNING" in proc.err_path.read_text()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert lp.fw_state_counts() == {"READY": 1}
    assert_clean(lp)


@pytest.mark.timeout(60)
def test_sigterm_to_rlaunch_multi_reaches_every_rocket(lp, work):
    hold = work / "hold"
    hold.write_text("")
    log_path = work / "ran.log"
    lp.add_wf(Workflow([recording_fw(str(i), log_path, hold=hold) for i in range(4)]))
    proc = rlaunch(work, "multi", "multi", "2", "--sleep", "0.05")
    wait_for(lambda: len(read_log(log_path)) == 2, 30, "two rockets to start a firework each")
    proc.send_signal(signal.SIGTERM)
    assert finish([proc], 30) == [143]
    assert lp.fw_state_counts() == {"READY": 4}
    assert len(lp.get_launches({"interrupted": True}, fields=["launch_id"])) == 2
    hold.unlink()
    again = rlaunch(work, "again", "rapidfire", "--sleep", "0.05")
    assert finish([again], 30) == [0]
    assert_exactly_once(lp, log_path, [str(i) for i in range(4)])
    assert_clean(lp)
