"""Settings that cannot work are refused before they do harm, and starter files a
``pip install`` user can get: each tried with the real commands in their own processes."""

import os
import signal
import subprocess
import sys
import time

import pytest
from user_commands import ROOT, new_user

from queue_adapters.daemon import DaemonSettings
from queue_adapters.lpad_commands import _ping_interval


@pytest.fixture
def run(tmp_path):
    """``run("lpad", ...)``: a command in its own process, fresh STARSHELL_HOME and directory."""
    user = new_user(tmp_path)

    def command(name, *argv, timeout=60):
        return user.run(name, *argv, timeout=timeout)

    command.work, command.user = user.work, user
    return command


# -- lost runs and heartbeats ----------------------------------------------------------------
# Each rocket records its heartbeat interval on its launch, so a short lost-run time is no
# longer refused: detect_lostruns spares any run whose own heartbeat may be that old
# (tests/faults/test_lost_heartbeat.py runs the rockets).
def test_detect_lostruns_takes_a_short_time_without_being_told_the_heartbeat(run):
    done = run("lpad", "detect_lostruns", "--time", "30", "--rerun")
    assert (done.returncode, done.stdout.strip()) == (0, "no lost runs"), done.stderr
    done = run("lpad", "detect_lostruns", "--time", "30", "--ping_interval", "10")
    assert done.returncode == 2 and "unrecognized arguments: --ping_interval" in done.stderr


def test_the_daemon_says_when_its_pilots_ping_too_seldom_for_its_lost_run_time(run):
    (run.work / "my_qadapter.yaml").write_text(
        "_fw_q_type: SLURM\nrocket_launch: rlaunch --ping_interval 20 rapidfire\n"
    )
    log = run.work / "daemon.err"
    with open(log, "w") as err:
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "launchpad.cli",
                "daemon",
                "--lostruns_time",
                "30",
                "--topup_interval",
                "0",
            ],
            cwd=run.work,
            env=run.user.env,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 60
        while "daemon started" not in log.read_text() and time.monotonic() < deadline:
            assert daemon.poll() is None, log.read_text()
            time.sleep(0.1)
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0, log.read_text()
    assert (
        "WARNING starshell.daemon: --lostruns_time 30 s is shorter than twice the pilots' "
        "heartbeat interval (20 s, rlaunch --ping_interval in rocket_launch): their runs are "
        "declared lost after 40 s without a heartbeat"
    ) in log.read_text()


def test_the_daemon_reads_the_heartbeat_interval_from_rocket_launch():
    from types import SimpleNamespace

    def launcher(command):
        return SimpleNamespace(
            adapter=SimpleNamespace(config=SimpleNamespace(params={"rocket_launch": command}))
        )

    assert _ping_interval(launcher("rlaunch --ping_interval=7.5 -w w.yaml rapidfire")) == 7.5
    assert _ping_interval(launcher("rlaunch rapidfire")) == 60  # rlaunch's default
    assert _ping_interval(None) is None  # no qadapter: the pilots are not the daemon's
    DaemonSettings(lostruns_time=15, ping_interval=10).check(True)  # no longer refused
    assert "declared lost after 20 s" in DaemonSettings(lostruns_time=15, ping_interval=10).lost_time_note()
    assert DaemonSettings(lostruns_time=15, ping_interval=7.5).lost_time_note() is None
    assert DaemonSettings(lostruns_time=15).lost_time_note() is None
    assert (
        DaemonSettings(lostruns_time=15, ping_interval=10, lostruns_interval=0).lost_time_note() is None
    )  # no lost-run job


# -- starter files ---------------------------------------------------------------------------
def test_qlaunch_init_writes_starter_files_a_pip_user_can_follow(run):
    assert run("lpad", "init").returncode == 0
    done = run("qlaunch", "init")
    assert done.returncode == 0, done.stderr
    work = run.work
    for name in ("my_qadapter.yaml", "my_fworker.yaml", "hello_cluster.yaml"):
        assert f"wrote {work / name}" in done.stdout
    qadapter = (work / "my_qadapter.yaml").read_text()
    assert (
        f"rocket_launch: rlaunch -w {work}/my_fworker.yaml -l {work}/my_launchpad.yaml rapidfire\n"
    ) in qadapter
    from queue_adapters import get_adapter

    adapter = get_adapter(str(work / "my_qadapter.yaml"))
    assert adapter.walltime_seconds() == 7200 and "@" not in adapter.render()
    added = run("lpad", "add", "hello_cluster.yaml")
    assert added.returncode == 0 and "6 fireworks" in added.stdout, added.stderr
    (work / "my_fworker.yaml").write_text("name: mine\n")
    again = run("qlaunch", "init")
    assert again.returncode == 2 and "already exist" in again.stderr
    assert (work / "my_fworker.yaml").read_text() == "name: mine\n"
    assert run("qlaunch", "init", "--force").returncode == 0
    assert "cluster_pilot" in (work / "my_fworker.yaml").read_text()


def test_the_slurm_tutorial_needs_no_source_checkout():
    with open(os.path.join(ROOT, "examples", "slurm", "README.md"), encoding="utf-8") as handle:
        tutorial = handle.read()
    assert "qlaunch init" in tutorial and "\nlpad init\n" in tutorial
    assert "cp my_qadapter.yaml" not in tutorial
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as handle:
        assert '"templates/starter/*.yaml"' in handle.read()  # shipped by pip install
