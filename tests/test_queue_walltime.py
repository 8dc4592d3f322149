"""A firework longer than its pilots' walltime: counted hand-backs, then FIZZLED.

The counting runs on both stores inside the test's interpreter; the signals run
the way a pilot gets them, on real ``rlaunch`` processes sharing a SQLite store.
tests/test_queue_slurm_e2e.py lets a real Slurm walltime do it.
"""

import signal
import subprocess
import sys
import time

import pytest
from user_commands import new_user

from launchpad import Firework, LaunchPad, Workflow
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask
from rocket.rocket import Rocket, RocketInterrupted, interrupt_message


def long_fw(**spec):
    return Firework(ScriptTask(script="sleep 90"), spec=spec, name="long")


def walltime_stop(lp, fw_id=None, walltime=True):
    fw, launch_id = lp.claim_to_run(fw_id=fw_id)
    assert fw is not None
    state = lp.interrupt_launch(launch_id, fw["fw_id"], reason="walltime", walltime=walltime)
    return state, launch_id


def test_three_walltime_stops_in_a_row_fizzle_the_firework(lp):
    lp.add_wf(long_fw())
    assert walltime_stop(lp)[0] == "READY"
    assert walltime_stop(lp)[0] == "READY"
    state, launch_id = walltime_stop(lp)
    assert state == "FIZZLED" and lp.get_fw_dict(1)["state"] == "FIZZLED"
    launch = lp.get_launch(launch_id)
    assert launch["walltime"] is True and launch["interrupted"] is True
    assert launch["handed_back"] is False
    message = launch["exception"]["message"]
    assert "walltime 3 times in a row" in message and "does not fit" in message
    assert "_queueadapter.walltime" in message and "lpad rerun_fws -i 1" in message
    # a rerun after giving it more time starts the count again
    lp.rerun_fw(1)
    assert walltime_stop(lp)[0] == "READY"


def test_only_stops_in_a_row_count(lp):
    lp.add_wf(long_fw())
    walltime_stop(lp)
    walltime_stop(lp)
    assert walltime_stop(lp, walltime=False)[0] == "READY"  # a Ctrl-C breaks the row
    assert walltime_stop(lp)[0] == "READY"
    assert walltime_stop(lp)[0] == "READY"
    assert walltime_stop(lp)[0] == "FIZZLED"
    flags = [(launch["walltime"], launch["handed_back"]) for launch in lp.get_launches({"fw_id": 1})]
    assert flags == [(True, True), (True, True), (False, True), (True, True), (True, True), (True, False)]


@pytest.mark.parametrize("limit, runs", [(1, 1), (5, 5)])
def test_walltime_handbacks_sets_the_limit(lp, limit, runs):
    lp.add_wf(long_fw(_walltime_handbacks=limit))
    states = [walltime_stop(lp)[0] for _ in range(runs)]
    assert states == ["READY"] * (runs - 1) + ["FIZZLED"]


def test_walltime_handbacks_zero_hands_back_for_ever(lp):
    lp.add_wf(long_fw(_walltime_handbacks=0))
    assert {walltime_stop(lp)[0] for _ in range(6)} == {"READY"}


def test_children_that_allow_fizzled_parents_go_on(lp):
    parent = long_fw(_walltime_handbacks=1)
    child = Firework(ScriptTask(script="true"), spec={"_allow_fizzled_parents": True}, name="c")
    lp.add_wf(Workflow([parent, child], {parent: [child]}))
    assert walltime_stop(lp)[0] == "FIZZLED"
    assert {f["name"]: f["state"] for f in lp.get_fws(fields=["name", "state"])} == {
        "long": "FIZZLED",
        "c": "READY",
    }


def test_a_stop_after_the_pilot_timeout_is_a_walltime_stop(sqlite_lp):
    rocket = Rocket(sqlite_lp)
    sigterm = RocketInterrupted(interrupt_message(signal.SIGTERM), signal.SIGTERM)
    assert not rocket._walltime_stop(sigterm)  # no --timeout: a user's stop
    rocket.time_left = lambda: 30.0
    assert not rocket._walltime_stop(sigterm)  # scancel before the timeout
    assert rocket._walltime_stop(RocketInterrupted(interrupt_message(signal.SIGUSR1), signal.SIGUSR1))
    # the signal decides, not the words: a message naming SIGUSR1 from another stop does not
    assert not rocket._walltime_stop(RocketInterrupted("stopped by SIGUSR1?", signal.SIGINT))
    rocket.time_left = lambda: -2.0
    assert rocket._walltime_stop(sigterm)  # Slurm's hard limit


# -- real rlaunch processes -------------------------------------------------------------
@pytest.fixture
def cli_env(tmp_path):
    """A fresh user's environment and directory, and the store their rockets share."""
    user = new_user(tmp_path)
    return user.env, str(user.work), LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))


def run_until_running_then(sig, args, cli_env, after=0.3):
    """Start ``rlaunch ARGS``, send ``sig`` once its firework runs; returns (rc, stderr)."""
    env, work, lp = cli_env
    proc = subprocess.Popen(
        [sys.executable, "-m", "rocket.cli", *args],
        env=env,
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while lp.fw_state_counts().get("RUNNING") != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(after)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err


def test_rlaunch_fizzles_a_firework_the_walltime_warning_stopped_three_times(cli_env):
    """Three pilots, each warned by qlaunch's wrapper (SIGUSR1) mid-task, as Slurm does."""
    lp = cli_env[2]
    lp.add_wf(long_fw())
    for expected in ("READY", "READY", "FIZZLED"):
        rc, err = run_until_running_then(signal.SIGUSR1, ["rapidfire", "--sleep", "1"], cli_env)
        assert rc == 143 and "the batch job's walltime is nearly over" in err, err
        assert lp.fw_state_counts() == {expected: 1}, err
    assert "firework 1 FIZZLED: stopped by its pilot job's walltime 3 times in a row" in err
    launches = lp.get_launches({"fw_id": 1})
    assert [launch["walltime"] for launch in launches] == [True] * 3
    assert all(launch["runtime_secs"] > 0 for launch in launches)


def test_rlaunch_sigterm_is_a_walltime_stop_only_after_its_timeout(cli_env):
    lp = cli_env[2]
    lp.add_wf(long_fw())
    rc, err = run_until_running_then(signal.SIGTERM, ["rapidfire", "--timeout", "1"], cli_env, after=1.5)
    assert rc == 143, err
    rc, err = run_until_running_then(signal.SIGTERM, ["rapidfire", "--timeout", "600"], cli_env)
    assert rc == 143, err
    assert [launch["walltime"] for launch in lp.get_launches({"fw_id": 1})] == [True, False]
    assert lp.fw_state_counts() == {"READY": 1}


# -- a pilot does not start what it cannot finish ------------------------------------------
def quick_then(lp, **spec):
    """Firework 1 quick, firework 2 with ``spec``: ids in that order."""
    lp.add_wf(
        Workflow(
            [
                Firework(ScriptTask(script="true"), name="quick", fw_id=1),
                Firework(ScriptTask(script="true"), spec=spec, name="next", fw_id=2),
            ]
        )
    )


@pytest.mark.parametrize("left, runs", [(50.0, False), (150.0, True)])
def test_a_pilot_hands_back_what_its_max_runtime_says_it_cannot_finish(lp, tmp_path, left, runs):
    quick_then(lp, _max_runtime=100)
    rocket = Rocket(lp, launch_root=tmp_path / "runs", chdir=False)
    rocket.time_left = lambda: left
    assert rocket.run_once() == 1
    assert rocket.run_once() == (2 if runs else None)
    if not runs:
        assert lp.get_fw_dict(2)["state"] == "READY" and rocket.time_left() == 0
        (launch,) = lp.get_launches({"fw_id": 2})
        assert launch["state"] == "CANCELLED" and launch["exception"]["not_started"] is True
        assert "needs about 100 s and this pilot had 50 s left" in launch["exception"]["message"]
        assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
            lp.get_launches({"fw_id": 1})[0]["launch_dir"].rsplit("/", 1)[-1]
        ]


def test_a_pilot_goes_by_earlier_runs_and_a_fresh_pilot_always_starts(lp, tmp_path):
    quick_then(lp)
    _, launch_id = lp.claim_to_run(fw_id=2)
    lp._opened[launch_id]["time_start"] = lp.now()[:11] + "00:00:00.000000"  # it ran for hours
    lp.interrupt_launch(launch_id, 2, reason="walltime", walltime=True)
    needed = lp.get_launch(launch_id)["runtime_secs"]
    fresh = Rocket(lp, launch_root=tmp_path, chdir=False)
    fresh.time_left = lambda: 1.0
    assert fresh._time_needed(lp.get_fw_dict(2)) == needed
    assert fresh.run_once() == 1
    assert fresh.run_once() is None  # too little left after the first
    second = Rocket(lp, launch_root=tmp_path, chdir=False)
    second.time_left = lambda: 1.0
    assert second.run_once() == 2  # a fresh pilot starts it anyway
    # the unstarted hand-back counted as no walltime stop
    assert [launch["state"] for launch in lp.get_launches({"fw_id": 2})] == [
        "FIZZLED",
        "CANCELLED",
        "COMPLETED",
    ]


def test_rlaunch_rapidfire_ends_rather_than_start_what_it_cannot_finish(cli_env):
    env, work, lp = cli_env
    lp.add_wf(
        Workflow(
            [
                Firework(ScriptTask(script="sleep 1"), name="quick", fw_id=1),
                Firework(ScriptTask(script="true"), spec={"_max_runtime": 30}, name="long", fw_id=2),
            ]
        )
    )
    pilot = [sys.executable, "-m", "rocket.cli", "rapidfire", "--timeout", "5", "--sleep", "1"]
    done = subprocess.run(pilot, env=env, cwd=work, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "firework 2 needs about 30 s and this pilot has" in done.stderr
    assert lp.fw_state_counts() == {"COMPLETED": 1, "READY": 1}
    done = subprocess.run(pilot, env=env, cwd=work, capture_output=True, text=True, timeout=60, check=False)
    assert lp.fw_state_counts() == {"COMPLETED": 2}, done.stderr
