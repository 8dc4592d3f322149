"""Rockets running real tasks in real launch directories."""

import os
import signal
import subprocess
import sys
import time

import pytest

from launchpad import FiretaskBase, Firework, FWAction, LaunchPad, Workflow
from launchpad.stores import SQLiteStore
from launchpad.tasks import PyTask, ScriptTask
from launchpad.worker import FWorker
from rocket import launch_rocket, rapidfire
from rocket.heartbeat import Heartbeat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Boom(FiretaskBase):
    _fw_name = "Test Boom"

    def run_task(self, fw_spec):
        raise ValueError("kaboom")


class EchoSpec(FiretaskBase):
    """Stores the spec keys a rocket adds, so tests can look at them."""

    _fw_name = "Test EchoSpec"

    def run_task(self, fw_spec):
        keep = ("_fw_env", "_job_info", "_files_prev", "_launch_dir")
        return FWAction(stored_data={k: fw_spec.get(k) for k in keep}, update_spec={"cwd": os.getcwd()})


def no_sleep(seconds):
    raise AssertionError("rapidfire should not have waited")


def last_launch(lp, fw_id):
    return lp.get_fw_dict(fw_id)["launches"][-1]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_rapidfire_runs_script_and_python_tasks(lp, in_tmp):
    a = Firework([ScriptTask(script="echo hello > out.txt", store_stdout=True)], fw_id=1)
    b = Firework([PyTask(func="math.pow", args=[2, 10], stored_data_varname="power")], fw_id=2, parents=[a])
    lp.add_wf(Workflow([a, b]))
    assert rapidfire(lp, sleep=no_sleep) == 2
    launch_a = last_launch(lp, 1)
    assert launch_a["state"] == "COMPLETED"
    assert os.path.dirname(launch_a["launch_dir"]) == str(in_tmp)
    assert os.path.basename(launch_a["launch_dir"]).startswith("launcher_")
    with open(os.path.join(launch_a["launch_dir"], "out.txt")) as fh:
        assert fh.read() == "hello\n"
    assert last_launch(lp, 2)["action"]["stored_data"]["power"] == 1024
    assert lp.get_launchdir(1) == launch_a["launch_dir"]
    assert os.getcwd() == str(in_tmp)


def test_a_failing_task_fizzles_with_traceback_and_rocket_goes_on(sqlite_lp, in_tmp):
    lp = sqlite_lp
    lp.add_wf(
        Workflow(
            [
                Firework([PyTask(func="math.floor", args=[1]), Boom()], fw_id=1),
                Firework(ScriptTask(script="exit 3"), fw_id=2),
                Firework(PyTask(func="math.floor", args=[1]), fw_id=3),
            ]
        )
    )
    assert rapidfire(lp, sleep=no_sleep) == 3
    exc = last_launch(lp, 1)["exception"]
    assert exc["task_index"] == 1 and exc["task_name"] == "Test Boom"
    assert "kaboom" in exc["message"] and "Traceback" in exc["traceback"]
    assert "3" in last_launch(lp, 2)["exception"]["message"]
    assert lp.fw_state_counts() == {"FIZZLED": 2, "COMPLETED": 1}


def test_max_runtime_stops_a_task(sqlite_lp, in_tmp):
    lp = sqlite_lp
    lp.add_wf(Firework(ScriptTask(script="sleep 20"), spec={"_max_runtime": 0.5}))
    started = time.monotonic()
    launch_rocket(lp)
    assert time.monotonic() - started < 10
    assert "_max_runtime" in last_launch(lp, 1)["exception"]["message"]
    assert lp.fw_state_counts() == {"FIZZLED": 1}


def test_exit_skips_remaining_tasks(sqlite_lp, in_tmp):
    lp = sqlite_lp
    lp.add_wf(Firework([PyTask(func="launchpad.actions.FWAction", kwargs={"exit": True}), Boom()]))
    launch_rocket(lp)
    assert lp.fw_state_counts() == {"COMPLETED": 1}


def test_launch_dir_key_inside_and_outside(sqlite_lp, in_tmp, tmp_path_factory):
    lp = sqlite_lp
    outside = tmp_path_factory.mktemp("elsewhere")
    lp.add_wf(
        Workflow(
            [
                Firework(EchoSpec(), fw_id=1, spec={"_launch_dir": "runs/one"}),
                Firework(EchoSpec(), fw_id=2, spec={"_launch_dir": str(outside)}),
            ]
        )
    )
    rapidfire(lp, FWorker(confine_launch_dir=True), sleep=no_sleep)  # a site's opt-in
    assert last_launch(lp, 1)["launch_dir"] == str(in_tmp / "runs" / "one")
    assert last_launch(lp, 1)["action"]["stored_data"]["_launch_dir"] == str(in_tmp / "runs" / "one")
    assert "outside" in last_launch(lp, 2)["exception"]["message"]
    lp.rerun_fw(2)
    rapidfire(lp, sleep=no_sleep)  # as FireWorks: the author's _launch_dir is honoured
    assert last_launch(lp, 2)["launch_dir"] == str(outside)
    assert (outside / "FW.json").exists()


def test_files_out_in_and_job_info(sqlite_lp, in_tmp):
    lp = sqlite_lp
    a = Firework(
        ScriptTask(script="echo data > result.dat"),
        fw_id=1,
        name="producer",
        spec={"_files_out": {"res": "*.dat"}, "_pass_job_info": True},
    )
    b = Firework(
        [ScriptTask(script="cat input.dat > copied.txt"), EchoSpec()],
        fw_id=2,
        parents=[a],
        spec={"_files_in": {"res": "input.dat"}},
    )
    lp.add_wf(Workflow([a, b]))
    rapidfire(lp, FWorker(env={"scratch": "/tmp"}), sleep=no_sleep)
    launch_b = last_launch(lp, 2)
    assert launch_b["state"] == "COMPLETED", launch_b.get("exception")
    with open(os.path.join(launch_b["launch_dir"], "copied.txt")) as fh:
        assert fh.read() == "data\n"
    data = launch_b["action"]["stored_data"]
    assert data["_job_info"][0]["name"] == "producer"
    assert data["_fw_env"] == {"scratch": "/tmp"}


def test_rapidfire_ends_when_only_blocked_work_remains(sqlite_lp, in_tmp):
    lp = sqlite_lp
    a = Firework(Boom(), fw_id=1)
    b = Firework(PyTask(func="math.floor", args=[1]), fw_id=2, parents=[a])
    lp.add_wf(Workflow([a, b]))
    assert rapidfire(lp, sleep=no_sleep) == 1
    assert lp.fw_state_counts() == {"FIZZLED": 1, "WAITING": 1}


def test_rapidfire_waits_for_fireworks_running_elsewhere(sqlite_lp, in_tmp):
    lp = sqlite_lp
    a = Firework(PyTask(func="math.floor", args=[1]), fw_id=1)
    b = Firework(PyTask(func="math.floor", args=[1]), fw_id=2, parents=[a])
    lp.add_wf(Workflow([a, b]))
    fw, launch_id = lp.claim_to_run()  # another node runs fw 1
    naps = []

    def elsewhere_finishes(seconds):
        naps.append(seconds)
        lp.complete_launch(launch_id, fw_id=1)

    assert rapidfire(lp, sleep_time=7, sleep=elsewhere_finishes) == 1
    # one short nap, not the whole --sleep: the end of fw 1 wakes the rocket at once
    assert naps == [1.0] and lp.fw_state_counts() == {"COMPLETED": 2}


def test_nlaunches_max_loops_and_timeout(sqlite_lp, in_tmp):
    lp = sqlite_lp
    lp.add_wf(Workflow([Firework(PyTask(func="math.floor", args=[1]), fw_id=i) for i in range(1, 6)]))
    assert rapidfire(lp, nlaunches=2, sleep=no_sleep) == 2
    ticks = iter(range(100))
    assert rapidfire(lp, timeout=1.5, clock=lambda: next(ticks), sleep=no_sleep) == 1
    assert rapidfire(lp, sleep=no_sleep) == 2


def test_heartbeat_pings_and_notices_fencing(sqlite_lp, in_tmp):
    lp = sqlite_lp
    lp.add_wf(Firework(PyTask(func="math.floor", args=[1])))
    fw, launch_id = lp.claim_to_run()
    first = lp.get_launch(launch_id)["last_ping"]
    beat = Heartbeat(lp, interval=0.05)
    beat.watch(launch_id)
    deadline = time.monotonic() + 5
    while lp.get_launch(launch_id)["last_ping"] == first and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lp.get_launch(launch_id)["last_ping"] > first
    lp.rerun_fw(1)
    while launch_id not in beat.fenced and time.monotonic() < deadline:
        time.sleep(0.02)
    assert launch_id in beat.fenced
    beat.watch(None)


def _rlaunch(args, env, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "rocket.cli", *args],
        env=env,
        cwd=env["WORKDIR"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


@pytest.fixture
def cli_env(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    env = dict(
        os.environ,
        STARSHELL_HOME=str(tmp_path / "home"),
        WORKDIR=str(work),
        PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    env.pop("STARSHELL_LAUNCHPAD", None)
    return env


@pytest.mark.parametrize("mode,expected", [("requeue", "READY"), ("fizzle", "FIZZLED")])
def test_sigterm_hands_the_firework_back(cli_env, mode, expected):
    lp = LaunchPad(SQLiteStore(os.path.join(cli_env["STARSHELL_HOME"], "launchpad.sqlite")))
    lp.add_wf(Firework(ScriptTask(script="sleep 30")))
    proc = _rlaunch(["--on_interrupt", mode, "singleshot"], cli_env)
    deadline = time.monotonic() + 20
    while lp.fw_state_counts().get("RUNNING") != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 143, err
    assert lp.fw_state_counts() == {expected: 1}
    launch = last_launch(lp, 1)
    assert launch["interrupted"] is True and "SIGTERM" in launch["exception"]["message"]


def test_rlaunch_multi_runs_everything_once(cli_env):
    lp = LaunchPad(SQLiteStore(os.path.join(cli_env["STARSHELL_HOME"], "launchpad.sqlite")))
    lp.add_wf(Workflow([Firework(PyTask(func="math.floor", args=[1]), fw_id=i) for i in range(1, 201)]))
    proc = _rlaunch(["-s", "multi", "2", "--sleep", "0.1"], cli_env)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert lp.fw_state_counts() == {"COMPLETED": 200}
    assert len(lp.get_launches(fields=["launch_id"])) == 200
    assert len({launch["host"] for launch in lp.get_launches(fields=["host"])}) == 1


def test_heartbeat_thread_ends_when_idle(sqlite_lp):
    beat = Heartbeat(sqlite_lp, interval=0.05)
    beat.watch(12345)
    thread = beat._thread
    beat.watch(None)
    thread.join(timeout=5)
    assert not thread.is_alive() and beat._thread is None


def test_rlaunch_multi_options_may_come_before_the_count(monkeypatch):
    import rocket.cli as cli

    seen = {}
    monkeypatch.setattr(cli, "multi", lambda n, tail, envs=None: seen.update(n=n, tail=tail) or 0)
    assert cli.main(["-s", "multi", "--nlaunches", "1", "3", "--sleep", "0.5"]) == 0
    assert seen["n"] == 3
    args = cli.build_parser().parse_args(seen["tail"])
    assert (args.command, args.nlaunches, args.sleep, args.silencer) == ("rapidfire", 1, 0.5, True)


PDB_WF = """\
fws:
- fw_id: 1
  spec:
    _tasks:
    - _fw_name: ScriptTask
      script: exit 3
"""


@pytest.mark.parametrize("command", ["singleshot", "rapidfire"])
def test_rlaunch_pdb_opens_the_debugger_on_a_failing_task(tmp_path, command):
    from user_commands import new_user

    user = new_user(tmp_path)
    (user.work / "wf.yaml").write_text(PDB_WF)
    assert user.run("lpad", "add", "wf.yaml").returncode == 0
    done = user.run("rlaunch", command, "--pdb", stdin="p 'debugger-was-here'\nc\n", timeout=60)
    assert done.returncode == 0, done.stderr
    assert "(Pdb)" in done.stdout and "debugger-was-here" in done.stdout, done.stdout
    assert "FIZZLED" in user.run("lpad", "get_fws", "-i", "1", "-d", "more").stdout
    (tmp_path / "plain").mkdir()
    plain = new_user(tmp_path / "plain")
    (plain.work / "wf.yaml").write_text(PDB_WF)
    plain.run("lpad", "add", "wf.yaml")
    assert "(Pdb)" not in plain.run("rlaunch", command, stdin="c\n", timeout=60).stdout
