"""Settings that cannot work are refused before they do harm, and starter files a
``pip install`` user can get: each tried with the real commands in their own processes."""

import os

import pytest
from user_commands import ROOT, new_user

from launchpad.errors import ConfigError
from queue_adapters.daemon import DaemonSettings
from queue_adapters.lpad_commands import _ping_interval


@pytest.fixture
def run(tmp_path):
    """``run("lpad", ...)``: a command in its own process, fresh STARSHELL_HOME and directory."""
    user = new_user(tmp_path)

    def command(name, *argv, timeout=60):
        return user.run(name, *argv, timeout=timeout)
    command.work = user.work
    return command


# -- lost runs and heartbeats ----------------------------------------------------------------
def test_detect_lostruns_refuses_a_time_shorter_than_two_heartbeats(run):
    done = run("lpad", "detect_lostruns", "--time", "30", "--rerun")
    assert done.returncode == 2, done
    assert "--time 30 s is shorter than twice the rockets' heartbeat interval (60 s" in done.stderr
    assert "Use --time 120 or more" in done.stderr
    done = run("lpad", "detect_lostruns", "--time", "30", "--ping_interval", "10")
    assert (done.returncode, done.stdout.strip()) == (0, "no lost runs"), done.stderr


def test_the_daemon_refuses_a_lost_run_time_its_pilots_heartbeat_cannot_keep(run):
    (run.work / "my_qadapter.yaml").write_text(
        "_fw_q_type: SLURM\nrocket_launch: rlaunch --ping_interval 20 rapidfire\n")
    done = run("lpad", "daemon", "--lostruns_time", "30")
    assert done.returncode == 2, done
    assert "--lostruns_time 30 s is shorter than twice the rockets' heartbeat interval (20 s" \
        in done.stderr


def test_the_daemon_reads_the_heartbeat_interval_from_rocket_launch():
    from types import SimpleNamespace
    Launcher = SimpleNamespace(adapter=SimpleNamespace(config=SimpleNamespace(
        params={"rocket_launch": "rlaunch --ping_interval=7.5 -w w.yaml rapidfire"})))
    assert _ping_interval(None, Launcher) == 7.5
    assert _ping_interval(3, Launcher) == 3
    assert _ping_interval(None, None) == 60
    DaemonSettings(lostruns_time=15, ping_interval=7.5).check(True)
    with pytest.raises(ConfigError, match="--lostruns_time 15 s is shorter"):
        DaemonSettings(lostruns_time=15).check(True)
    DaemonSettings(lostruns_time=15, lostruns_action="report").check(True)  # changes nothing


# -- starter files ---------------------------------------------------------------------------
def test_qlaunch_init_writes_starter_files_a_pip_user_can_follow(run):
    assert run("lpad", "init").returncode == 0
    done = run("qlaunch", "init")
    assert done.returncode == 0, done.stderr
    work = run.work
    for name in ("my_qadapter.yaml", "my_fworker.yaml", "hello_cluster.yaml"):
        assert f"wrote {work / name}" in done.stdout
    qadapter = (work / "my_qadapter.yaml").read_text()
    assert (f"rocket_launch: rlaunch -w {work}/my_fworker.yaml -l {work}/my_launchpad.yaml "
            "rapidfire\n") in qadapter
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
        assert '"templates/starter/*.yaml"' in handle.read()   # shipped by pip install
