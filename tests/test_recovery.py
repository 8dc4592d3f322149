"""Task-level recovery (FireWorks' ``_recovery``): rocket/recovery.py and launchpad/recovery.py."""

import contextlib
import os
import signal
import time

import pytest
from conftest import ManualClock

from launchpad import Firework, LaunchPad
from launchpad.errors import InvalidArgumentError, NotFoundError
from launchpad.recovery import get_recovery, recovery_spec
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask
from rocket import launch_rocket


def three_tasks(tmp_path):
    """Task 1 counts its runs in a file outside the launch directory; task 2 fails
    the first time (a flag file); task 3 needs task 1's file in its directory."""
    count, flag = tmp_path / "t1_runs", tmp_path / "failed_once"
    return Firework(
        [
            ScriptTask(script=f"echo one > t1.txt; echo x >> {count}"),
            ScriptTask(script=f"test -e {flag} || {{ touch {flag}; exit 1; }}; echo two > t2.txt"),
            ScriptTask(script="cat t1.txt t2.txt > t3.txt"),
        ],
        name="three",
    ), count


def rerun_from_checkpoint(lp, fw_id, mode):
    assert lp.rerun_fw(fw_id, recover_launch="last", recover_mode=mode) == [fw_id]
    assert lp.get_fw_dict(fw_id)["spec"]["_recovery"]["_mode"] == mode


def test_a_failed_launch_keeps_fireworks_checkpoint(lp, tmp_path):
    fw, _ = three_tasks(tmp_path)
    lp.add_wf(fw)
    launch_rocket(lp, launch_root=str(tmp_path))
    launch = lp.get_fw_dict(1)["launches"][-1]
    recovery = lp.get_recovery(launch["launch_id"])
    assert recovery == get_recovery(lp.store, launch["launch_id"])
    assert recovery["_task_n"] == 1
    assert recovery["_all_stored_data"]["returncode"] == 0
    assert (recovery["_all_update_spec"], recovery["_all_mod_spec"]) == ({}, [])
    assert recovery["_prev_dir"] == launch["launch_dir"] and recovery["_launch_id"] == launch["launch_id"]


@pytest.mark.parametrize("mode", ["cp", "prev_dir"])
def test_resumes_at_the_failed_task(lp, tmp_path, mode):
    fw, count = three_tasks(tmp_path)
    lp.add_wf(fw)
    launch_rocket(lp, launch_root=str(tmp_path))
    first_dir = lp.get_fw_dict(1)["launches"][-1]["launch_dir"]
    rerun_from_checkpoint(lp, 1, mode)
    launch_rocket(lp, launch_root=str(tmp_path))
    doc = lp.get_fw_dict(1)
    assert doc["state"] == "COMPLETED"
    assert count.read_text() == "x\n"  # task 1 ran once
    new_dir = doc["launches"][-1]["launch_dir"]
    assert (new_dir == first_dir) == (mode == "prev_dir")
    assert open(os.path.join(new_dir, "t3.txt")).read() == "one\ntwo\n"


def test_recovery_refusals(lp, tmp_path):
    lp.add_wf(Firework(ScriptTask(script="true")))
    with pytest.raises(NotFoundError, match="no launch to recover"):
        recovery_spec(lp.store, 1)
    launch_rocket(lp, launch_root=str(tmp_path))
    with pytest.raises(NotFoundError, match="kept no recovery data"):
        recovery_spec(lp.store, 1)
    with pytest.raises(NotFoundError, match="not a launch of firework 1"):
        recovery_spec(lp.store, 1, recover_launch=99)
    with pytest.raises(InvalidArgumentError, match="recover_mode"):
        recovery_spec(lp.store, 1, recover_mode="copy")


def test_prev_dir_must_be_the_launch_directory_it_names(lp, tmp_path):
    """A spec cannot send a rocket to write in a directory of its choosing."""
    fw, _ = three_tasks(tmp_path)
    lp.add_wf(fw)
    launch_rocket(lp, launch_root=str(tmp_path))
    recovery = recovery_spec(lp.store, 1, "last", "prev_dir")
    lp.rerun_fw(1)
    lp.update_spec([1], {"_recovery": {**recovery, "_prev_dir": str(tmp_path)}})
    launch_rocket(lp, launch_root=str(tmp_path))
    doc = lp.get_fw_dict(1)
    assert doc["state"] == "FIZZLED"
    assert "not the directory of launch" in doc["launches"][-1]["exception"]["message"]


def add_three_tasks(user, count, before_second):
    """``lpad add`` of a 3-task firework: task 1 writes t1.txt and counts its runs in
    ``count``; task 2 runs ``before_second`` then writes t2.txt; task 3 joins them."""
    (user.work / "wf.yaml").write_text(
        "spec:\n"
        "  _tasks:\n"
        "  - _fw_name: ScriptTask\n"
        f"    script: echo one > t1.txt; echo x >> {count}\n"
        "  - _fw_name: ScriptTask\n"
        f"    script: {before_second}; echo two > t2.txt\n"
        "  - _fw_name: ScriptTask\n"
        "    script: cat t1.txt t2.txt > t3.txt\n"
    )
    assert user.run("lpad", "add", "wf.yaml").returncode == 0


def test_lpad_rerun_fws_task_level_with_the_real_commands(tmp_path):
    """A 3-task firework whose 2nd task fails once: rerun at task level with -cp,
    task 1 does not run again, tasks 2 and 3 run beside task 1's file."""
    from user_commands import new_user

    user = new_user(tmp_path)
    count, flag = tmp_path / "t1_runs", tmp_path / "failed_once"
    add_three_tasks(user, count, f"test -e {flag} || {{ touch {flag}; exit 1; }}")
    user.run("rlaunch", "singleshot")
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    assert lp.get_fw_dict(1)["state"] == "FIZZLED"
    refused = user.run("lpad", "rerun_fws", "-i", "1", "-cp")
    assert refused.returncode == 2 and "need --task-level" in refused.stderr
    done = user.run("lpad", "rerun_fws", "-i", "1", "--task-level", "--copy-data", "-lid", "1")
    assert done.returncode == 0, done.stderr
    assert user.run("rlaunch", "singleshot").returncode == 0
    assert lp.get_fw_dict(1)["state"] == "COMPLETED"
    assert count.read_text() == "x\n"
    new_dir = lp.get_launchdir(1)
    assert open(os.path.join(new_dir, "t3.txt")).read() == "one\ntwo\n"
    plain = user.run("lpad", "rerun_fws", "-i", "1", "--clear-recovery")
    assert plain.returncode == 0, plain.stderr
    user.run("rlaunch", "singleshot")
    assert count.read_text() == "x\nx\n"  # a plain rerun starts from the first task


def test_a_lost_or_interrupted_launch_resumes_at_its_last_checkpoint(store):
    """The store's part (both stores): the checkpoint a rocket sends as a task starts is
    what get_recovery gives for a launch declared lost; one that never sent any stopped
    in its first task; a completed launch has nothing to resume."""
    clock = ManualClock()
    lp = LaunchPad(store, clock=clock)
    lp.add_wf(Firework(ScriptTask(script="true"), name="lost early"))
    lp.add_wf(Firework(ScriptTask(script="true"), name="lost late"))
    _, early = lp.claim_to_run(fw_id=1)
    _, late = lp.claim_to_run(fw_id=2)
    point = {"_task_n": 1, "_all_stored_data": {"a": 1}, "_all_update_spec": {"x": 2}, "_all_mod_spec": []}
    assert lp.ping_launch(late, checkpoint=point) is True
    assert get_recovery(lp.store, late) is None  # still running: nothing to resume
    clock.advance(1000)
    assert sorted(lp.detect_lostruns(expiration_secs=10, fizzle=True)[0]) == [early, late]
    recovery = lp.get_recovery(late)
    assert recovery == {**point, "_prev_dir": lp.get_launch(late)["launch_dir"], "_launch_id": late}
    assert lp.get_recovery(early)["_task_n"] == 0
    assert lp.rerun_fw(2, recover_launch="last", recover_mode="cp") == [2]
    assert lp.get_fw_dict(2)["spec"]["_recovery"]["_all_update_spec"] == {"x": 2}


def _wait_for(path, proc, seconds=30):
    """Until task 2 has written its pid (it then sleeps)."""
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
        time.sleep(0.05)


def _end_task(asleep):
    """The killed rocket's task outlives it: end it (its pid is in ``asleep``)."""
    with contextlib.suppress(ValueError, OSError):
        os.kill(int(asleep.read_text()), signal.SIGKILL)


def _sleeping_three_tasks(user, tmp_path):
    """Task 1 counts its runs; task 2 sleeps on its first run (stopped there, its pid in
    ``asleep``), then writes."""
    count, asleep = tmp_path / "t1_runs", tmp_path / "t2_started"
    pid_file = f"echo $$ > {asleep}.tmp; mv {asleep}.tmp {asleep}"
    add_three_tasks(user, count, f"test -e {asleep} || {{ {pid_file}; exec sleep 60; }}")
    return count, asleep


def _resumed_at_task_2(user, lp, count):
    assert user.run("rlaunch", "singleshot").returncode == 0
    assert lp.get_fw_dict(1)["state"] == "COMPLETED"
    assert count.read_text() == "x\n"  # task 1 did not run again
    assert open(os.path.join(lp.get_launchdir(1), "t3.txt")).read() == "one\ntwo\n"


@pytest.mark.parametrize("declared", ["--fizzle", "--rerun"])
def test_a_killed_rocket_resumes_at_the_task_it_was_in(tmp_path, declared):
    """kill -9 of rlaunch in task 2, detect_lostruns --fizzle (or --rerun), rerun_fws
    --task-level -cp, a new rlaunch: task 1 does not run again, tasks 2 and 3 do (real
    commands, SQLite)."""
    from user_commands import new_user

    user = new_user(tmp_path)
    count, asleep = _sleeping_three_tasks(user, tmp_path)
    rocket = user.start("rlaunch", "--ping_interval", "0.5", "singleshot")  # lost after 1 s
    try:
        _wait_for(asleep, rocket)
    finally:
        rocket.send_signal(signal.SIGKILL)
        rocket.wait(10)
        _end_task(asleep)
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    assert lp.get_fw_dict(1)["state"] == "RUNNING"
    time.sleep(1.5)
    lost = user.run("lpad", "detect_lostruns", "--time", "1", declared)
    assert lost.returncode == 0, lost.stderr
    assert lp.get_fw_dict(1)["state"] == {"--fizzle": "FIZZLED", "--rerun": "READY"}[declared]
    done = user.run("lpad", "rerun_fws", "-i", "1", "--task-level", "-cp")
    assert done.returncode == 0, done.stderr
    assert lp.get_fw_dict(1)["spec"]["_recovery"]["_task_n"] == 1
    _resumed_at_task_2(user, lp, count)


def test_a_rocket_stopped_by_sigterm_resumes_at_the_task_it_was_in(tmp_path):
    """SIGTERM hands the firework back (READY); a task-level rerun of that launch resumes
    it at the task it was in."""
    from user_commands import new_user

    user = new_user(tmp_path)
    count, asleep = _sleeping_three_tasks(user, tmp_path)
    rocket = user.start("rlaunch", "singleshot")
    try:
        _wait_for(asleep, rocket)
        rocket.send_signal(signal.SIGTERM)
        rocket.wait(30)
    finally:
        _end_task(asleep)
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    assert lp.get_fw_dict(1)["state"] == "READY"
    done = user.run("lpad", "rerun_fws", "-i", "1", "--task-level", "--copy-data")
    assert done.returncode == 0, done.stderr
    _resumed_at_task_2(user, lp, count)
