"""``_background_tasks``: Firetasks repeated beside a firework's tasks, in its directory."""

import os
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from launchpad import BackgroundTask, Firework, LaunchPad
from launchpad.errors import InvalidArgumentError
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask
from rocket import launch_rocket


def test_background_task_has_fireworks_form():
    bt = BackgroundTask(ScriptTask(script="echo hi"), num_launches=3, sleep_time=5, run_on_finish=True)
    d = bt.to_dict()
    assert d == {
        "_fw_name": "BackgroundTask",
        "tasks": [{"_fw_name": "ScriptTask", "script": "echo hi"}],
        "num_launches": 3,
        "sleep_time": 5,
        "run_on_finish": True,
    }
    back = BackgroundTask.from_dict(d)
    assert (back.num_launches, back.sleep_time, back.run_on_finish) == (3, 5, True)
    assert back.tasks[0].fw_name == "ScriptTask"
    with pytest.raises(InvalidArgumentError, match="sleep_time"):
        BackgroundTask(ScriptTask(script="true"), sleep_time=-1)


def _lines(path):
    with open(path) as fh:
        return fh.read().splitlines()


def test_rlaunch_repeats_background_tasks_and_stops_them(tmp_path):
    """A real rlaunch: one background task every 0.2 s while the task sleeps 1 s, another
    limited to two runs; both run once more at the end (run_on_finish), then never again."""
    work = tmp_path / "work"
    work.mkdir()
    env = dict(
        os.environ,
        STARSHELL_HOME=str(tmp_path / "home"),
        PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    env.pop("STARSHELL_LAUNCHPAD", None)
    lp = LaunchPad(SQLiteStore(os.path.join(env["STARSHELL_HOME"], "launchpad.sqlite")))
    spec = {
        "_background_tasks": [
            BackgroundTask(ScriptTask(script="echo tick >> log.txt"), sleep_time=0.2, run_on_finish=True),
            BackgroundTask(
                ScriptTask(script="echo twice >> log.txt"), num_launches=2, sleep_time=0.2, run_on_finish=True
            ),
        ]
    }
    lp.add_wf(Firework(ScriptTask(script="sleep 1; echo main done >> log.txt"), spec=spec))
    proc = subprocess.run(
        [sys.executable, "-m", "rocket.cli", "-s", "singleshot"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert lp.fw_state_counts() == {"COMPLETED": 1}
    log = os.path.join(lp.get_launches()[0]["launch_dir"], "log.txt")
    lines = _lines(log)
    done = lines.index("main done")
    before, after = lines[:done], lines[done + 1 :]
    assert 3 <= before.count("tick") <= 7, lines  # about every 0.2 s during the 1 s task
    assert before.count("twice") == 2 and after.count("twice") == 1, lines
    assert 1 <= after.count("tick") <= 2, lines  # run_on_finish (and at most one in flight)
    time.sleep(0.6)
    assert _lines(log) == lines  # stopped with the firework


def test_a_failing_background_task_is_logged_and_does_not_fail_the_firework(lp, tmp_path):
    spec = {
        "_background_tasks": [
            {
                "_fw_name": "BackgroundTask",
                "sleep_time": 0.05,
                "tasks": [{"_fw_name": "PyTask", "func": "math.sqrt", "args": [-1]}],
            }
        ]
    }
    lp.add_wf(Firework(ScriptTask(script="sleep 0.3; echo ok > out.txt"), spec=spec))
    assert launch_rocket(lp, launch_root=str(tmp_path), ping_interval=0)
    launch = lp.get_launches({"fw_id": 1})[0]
    assert launch["state"] == "COMPLETED"
    (error,) = launch["background_errors"]  # it stops repeating after failing, as in FireWorks
    assert error["message"] == "ValueError: math domain error"
    assert (error["background_index"], error["task_name"]) == (0, "PyTask")
    assert "Traceback" in error["traceback"]


def test_background_tasks_run_in_the_launch_directory(lp, tmp_path):
    spec = {"_background_tasks": [BackgroundTask(ScriptTask(script="pwd > where.txt"), num_launches=1)]}
    lp.add_wf(Firework(ScriptTask(script="sleep 0.3"), spec=spec))
    launch_rocket(lp, launch_root=str(tmp_path), ping_interval=0)
    launch_dir = lp.get_launches({"fw_id": 1})[0]["launch_dir"]
    assert _lines(os.path.join(launch_dir, "where.txt"))[0] == os.path.realpath(launch_dir)


def test_a_malformed_background_task_fizzles_with_a_reason(lp, tmp_path):
    lp.add_wf(Firework(ScriptTask(script="true"), spec={"_background_tasks": [{"sleep_time": 1}]}))
    launch_rocket(lp, launch_root=str(tmp_path), ping_interval=0)
    launch = lp.get_launches({"fw_id": 1})[0]
    assert launch["state"] == "FIZZLED"
    assert "tasks list" in launch["exception"]["message"]


def test_background_tasks_stop_when_the_tasks_fail_without_a_last_run(lp, tmp_path):
    """As in FireWorks, run_on_finish follows successful tasks only."""
    spec = {
        "_background_tasks": [
            BackgroundTask(ScriptTask(script="echo tick >> log.txt"), sleep_time=0.1, run_on_finish=True)
        ]
    }
    lp.add_wf(Firework(ScriptTask(script="sleep 0.35; echo failed >> log.txt; exit 1"), spec=spec))
    launch_rocket(lp, launch_root=str(tmp_path), ping_interval=0)
    launch = lp.get_launches({"fw_id": 1})[0]
    assert launch["state"] == "FIZZLED" and "background_errors" not in launch
    lines = _lines(os.path.join(launch["launch_dir"], "log.txt"))
    assert lines.count("tick") >= 2 and lines.index("failed") >= len(lines) - 2, lines
    time.sleep(0.3)
    assert _lines(os.path.join(launch["launch_dir"], "log.txt")) == lines
