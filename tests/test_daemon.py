"""The maintenance daemon: its jobs, its schedule, its status file, stopping it.

Jobs are driven directly with injected clocks; one test starts the daemon as a
real process to check SIGTERM, ``lpad daemon status`` and ``lpad daemon stop``.
tests/test_queue_slurm_e2e.py runs it against the real Slurm.
"""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from apscheduler.schedulers.base import STATE_STOPPED
from conftest import ManualClock
from test_queue_launcher import CONTROLLER_DOWN, QADAPTER, Clock, FakeSlurm, add_fws, lpad  # noqa: E402  (shared fakes)

from launchpad import LaunchPad
from launchpad.errors import ConfigError
from queue_adapters import get_adapter
from queue_adapters.daemon import (
    DaemonSettings,
    QueueDaemon,
    daemon_state,
    pid_alive,
    read_status,
    stop_daemon,
)
from queue_adapters.launcher import QueueLauncher

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def parts(store, tmp_path):
    """A LaunchPad on a hand-moved clock, a fake Slurm, a launcher and a clock for back-off."""
    step, clock, slurm = ManualClock(), Clock(), FakeSlurm()
    lp = LaunchPad(store, clock=step)
    adapter = get_adapter(QADAPTER, run_command=slurm, user="alice")
    launcher = QueueLauncher(
        lp, adapter, launch_dir=tmp_path, submit_interval=0, clock=clock, sleep=clock.sleep
    )
    return lp, step, clock, slurm, launcher


def make_daemon(parts, tmp_path, **settings):
    lp, _, clock, _, launcher = parts
    return QueueDaemon(
        lp, DaemonSettings(**settings), launcher, status_file=str(tmp_path / "daemon.json"), clock=clock
    )


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="needs a qadapter file"):
        DaemonSettings().check(can_submit=False)
    DaemonSettings(topup_interval=0).check(can_submit=False)
    with pytest.raises(ConfigError, match="not one of rerun, fizzle, report"):
        DaemonSettings(lostruns_action="panic").check(True)
    with pytest.raises(ConfigError, match="cannot be negative"):
        DaemonSettings(lostruns_interval=-1).check(True)


def test_each_job_runs_alone_and_late_runs_coalesce(parts, tmp_path):
    daemon = make_daemon(
        parts, tmp_path, topup_interval=5, lostruns_interval=7, unreserved_interval=0, offline_interval=0
    )
    scheduler = daemon.build_scheduler()
    scheduler.start(paused=True)  # job defaults apply once the scheduler starts
    jobs = {job.id: job for job in scheduler.get_jobs()}
    scheduler.shutdown()
    assert set(jobs) == {"topup", "lostruns"}
    for job in jobs.values():
        assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, None)
    assert jobs["topup"].trigger.interval.total_seconds() == 5
    assert jobs["lostruns"].trigger.interval.total_seconds() == 7


def test_topup_submits_for_ready_work_and_records_it(parts, tmp_path):
    lp, _, _, slurm, _ = parts
    add_fws(lp, 3)
    daemon = make_daemon(parts, tmp_path, maxjobs_queue=2)
    daemon.run_job("topup")
    status = read_status(str(tmp_path / "daemon.json"))
    assert len(slurm.submitted()) == 2
    assert status["jobs"]["topup"]["runs"] == 1
    assert "submitted 2 (jobs 4711, 4712)" in status["jobs"]["topup"]["result"]
    assert status["pid"] == os.getpid() and status["settings"]["maxjobs_queue"] == 2


def test_topup_backs_off_after_scheduler_errors(parts, tmp_path, caplog):
    lp, _, clock, slurm, _ = parts
    add_fws(lp, 1)
    daemon = make_daemon(parts, tmp_path, topup_interval=10)
    slurm.fail["squeue"] = [(1, "", CONTROLLER_DOWN)] * 2
    daemon.run_job("topup")
    assert "Unable to contact slurm controller" in daemon._jobs["topup"]["error"]
    clock.now += 29
    daemon.run_job("topup")  # still inside the 30 s back-off: no scheduler call
    assert daemon._jobs["topup"]["result"].startswith("waiting out the back-off")
    assert len([c for c in slurm.calls if c[0] == "squeue"]) == 1
    clock.now += 1
    daemon.run_job("topup")  # fails again: 60 s now
    assert daemon._topup_not_before == clock.now + 60
    clock.now += 60
    daemon.run_job("topup")
    assert daemon._jobs["topup"] == {**daemon._jobs["topup"], "error": None, "runs": 4, "failures": 2}
    assert len(slurm.submitted()) == 1
    assert "top-up: scheduler error 2 in a row; next try in 60 s" in caplog.text


def test_lostruns_reruns_a_rocket_that_stopped_beating(parts, tmp_path):
    lp, step, _, _, _ = parts
    (fw_id,) = add_fws(lp, 1)
    lp.claim_to_run()
    daemon = make_daemon(parts, tmp_path, lostruns_time=600)
    daemon.run_job("lostruns")
    assert daemon._jobs["lostruns"]["result"] == "no lost runs"
    step.advance(601)
    daemon.run_job("lostruns")
    assert f"of fireworks [{fw_id}]: their fireworks will run again" in daemon._jobs["lostruns"]["result"]
    assert lp.get_fw_dict(fw_id)["state"] == "READY"


def test_lostruns_leaves_a_run_whose_own_heartbeat_can_be_that_old(parts, tmp_path):
    lp, step, _, _, _ = parts
    (fw_id,) = add_fws(lp, 1)
    _, launch_id = lp.claim_to_run(ping_interval=60)
    step.advance(100)  # silent for 100 s: longer than --lostruns_time, not two heartbeats
    daemon = make_daemon(parts, tmp_path, lostruns_time=30)
    daemon.run_job("lostruns")
    assert daemon._jobs["lostruns"]["result"] == (
        f"no lost runs; launch {launch_id} pings every 60 s: --lostruns_time 30 cannot tell "
        "it from a lost run; left RUNNING"
    )
    assert lp.get_fw_dict(fw_id)["state"] == "RUNNING"
    step.advance(20)
    daemon.run_job("lostruns")
    assert lp.get_fw_dict(fw_id)["state"] == "READY"


def test_lostruns_report_only_changes_nothing(parts, tmp_path):
    lp, step, _, _, _ = parts
    add_fws(lp, 1)
    lp.claim_to_run()
    step.advance(10**5)
    daemon = make_daemon(parts, tmp_path, lostruns_action="report")
    daemon.run_job("lostruns")
    assert "left as they are" in daemon._jobs["lostruns"]["result"]
    assert lp.fw_state_counts() == {"RUNNING": 1}


def test_unreserved_releases_a_reservation_whose_job_vanished(parts, tmp_path):
    lp, _, _, slurm, launcher = parts
    (fw_id,) = add_fws(lp, 1)
    launcher.reserve = True
    sub = launcher.singleshot()
    del slurm.jobs[sub.job_id]
    daemon = make_daemon(parts, tmp_path)
    daemon.run_job("unreserved")
    assert daemon._jobs["unreserved"]["result"] == (
        f"firework {fw_id} released: its job {sub.job_id} is unknown to the scheduler"
    )
    assert lp.get_fw_dict(fw_id)["state"] == "READY"


def test_a_failing_job_is_recorded_and_the_daemon_goes_on(parts, tmp_path, caplog, monkeypatch):
    lp = parts[0]
    daemon = make_daemon(parts, tmp_path)
    monkeypatch.setattr(lp, "detect_lostruns", lambda *a, **k: 1 / 0)
    daemon.run_job("lostruns")
    assert daemon._jobs["lostruns"]["error"] == "ZeroDivisionError: division by zero"
    assert "lostruns failed unexpectedly" in caplog.text
    daemon.run_job("unreserved")
    assert daemon._jobs["unreserved"]["error"] is None


def test_serve_runs_the_jobs_and_stops_cleanly(parts, tmp_path):
    lp, _, _, slurm, _ = parts
    add_fws(lp, 1)
    daemon = make_daemon(parts, tmp_path, topup_interval=3600)
    stop = threading.Event()
    thread = threading.Thread(target=daemon.serve, args=(stop, False))
    thread.start()
    status_file = tmp_path / "daemon.json"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not daemon._jobs.get("topup"):
        time.sleep(0.05)
    assert daemon_state(str(status_file))[1] is True
    with pytest.raises(ConfigError, match="a daemon is already running"):
        make_daemon(parts, tmp_path).serve(threading.Event(), False)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert not status_file.exists()
    assert len(slurm.submitted()) == 1


def test_a_dead_daemons_status_file_is_cleaned_up(tmp_path):
    path = tmp_path / "daemon.json"
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    import socket

    path.write_text(json.dumps({"pid": int(proc.stdout), "host": socket.gethostname()}))
    assert not pid_alive(int(proc.stdout))
    assert daemon_state(str(path)) == ({"pid": int(proc.stdout), "host": socket.gethostname()}, False)
    assert not path.exists()
    assert stop_daemon(str(path)) == {"stopped": False, "running": False, "pid": None}


def test_daemon_process_status_and_stop(isolated_home, capsys):
    """The real thing: an 'lpad daemon' process, SIGTERM through 'lpad daemon stop', its log."""
    log = isolated_home / "daemon.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "launchpad.cli",
            "daemon",
            "--topup_interval",
            "0",
            "--lostruns_interval",
            "3600",
            "--logfile",
            str(log),
        ],
        cwd=isolated_home,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    status_file = Path(os.environ["STARSHELL_HOME"]) / "daemon.json"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not status_file.exists():
        assert proc.poll() is None, "the daemon exited early"
        time.sleep(0.05)
    lp = LaunchPad.from_file()
    try:
        assert lpad(["daemon", "status"], lp) == 0
        out = capsys.readouterr().out
        assert f"daemon running: pid {proc.pid}" in out
        assert "lostruns" in out and "unreserved" in out and "topup" not in out
        assert lpad(["daemon", "stop", "--wait", "30"], lp) == 0
        assert f"daemon (pid {proc.pid}) stopped" in capsys.readouterr().out
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not status_file.exists()
    text = log.read_text()
    assert "daemon started" in text and "received SIGTERM" in text and "daemon stopped" in text
    assert lpad(["daemon", "status"], lp) == 1
    assert "no daemon is running" in capsys.readouterr().out


def test_the_log_says_what_changed_not_the_same_line_every_run(parts, tmp_path, caplog):
    lp = parts[0]
    daemon = make_daemon(parts, tmp_path)
    caplog.set_level("INFO", logger="starshell.daemon")
    for _ in range(3):
        daemon.run_job("lostruns")
    add_fws(lp, 1)
    lp.claim_to_run()
    parts[1].advance(10**5)
    daemon.run_job("lostruns")
    lines = [r.getMessage() for r in caplog.records if r.name == "starshell.daemon"]
    assert lines[0] == "lostruns: no lost runs" and len(lines) == 2
    assert lines[1].startswith("lostruns: lost runs: launches [1]")


def test_stopping_while_a_job_runs_waits_for_it_without_deadlock(parts, tmp_path, monkeypatch):
    """Shutdown holds APScheduler's locks while it waits for running jobs; a job that
    then touched the scheduler (to write the status) used to hang the daemon."""
    lp = parts[0]
    running, release = threading.Event(), threading.Event()

    def slow_lostruns(*args, **kwargs):
        running.set()
        release.wait(10)
        return [], []

    monkeypatch.setattr(lp, "detect_lostruns", slow_lostruns)
    daemon = make_daemon(parts, tmp_path, topup_interval=0, unreserved_interval=0)
    stop = threading.Event()
    thread = threading.Thread(target=daemon.serve, args=(stop, False))
    thread.start()
    assert running.wait(10)
    stop.set()
    deadline = time.monotonic() + 10
    while daemon.scheduler.state != STATE_STOPPED and time.monotonic() < deadline:
        time.sleep(0.01)  # serve is now in scheduler.shutdown(wait=True)
    release.set()
    thread.join(10)
    assert not thread.is_alive(), "the daemon hung while stopping"
    assert daemon._jobs["lostruns"]["result"] == "no lost runs"
