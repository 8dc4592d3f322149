"""Settings that cannot work are refused before they do harm, and starter files a
``pip install`` user can get: each tried with the real commands in their own processes."""

import os
import subprocess
import sys

import pytest

from launchpad.errors import ConfigError
from queue_adapters.daemon import DaemonSettings
from queue_adapters.lpad_commands import _ping_interval

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = {"lpad": "launchpad.cli", "qlaunch": "queue_adapters.cli", "rlaunch": "rocket.cli"}


@pytest.fixture
def run(tmp_path):
    """``run("lpad", ...)``: a command in its own process, fresh STARSHELL_HOME and directory."""
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STARSHELL_")}
    env.update(STARSHELL_HOME=str(tmp_path / "home"), PYTHONPATH=ROOT)

    def command(name, *argv, timeout=60):
        return subprocess.run([sys.executable, "-m", MODULES[name], *map(str, argv)], cwd=work,
                              env=env, capture_output=True, text=True, timeout=timeout)
    command.work = work
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
    class Launcher:
        class adapter:
            class config:
                params = {"rocket_launch": "rlaunch --ping_interval=7.5 -w w.yaml rapidfire"}
    assert _ping_interval(None, Launcher) == 7.5
    assert _ping_interval(3, Launcher) == 3
    assert _ping_interval(None, None) == 60
    DaemonSettings(lostruns_time=15, ping_interval=7.5).check(True)
    with pytest.raises(ConfigError, match="--lostruns_time 15 s is shorter"):
        DaemonSettings(lostruns_time=15).check(True)
    DaemonSettings(lostruns_time=15, lostruns_action="report").check(True)  # changes nothing
