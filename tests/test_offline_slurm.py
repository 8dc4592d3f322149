"""Offline mode on the real local Slurm: the jobs' rlaunch cannot reach the store.

The user on the login node runs ``qlaunch -r`` with ``rlaunch singleshot
--offline`` as rocket_launch; each job's environment names a launchpad file
that does not exist and a home without a store, so a rocket that tried to open
one would fail. ``lpad recover_offline`` brings the results in, and a dynamic
workflow (a firework that adds one) completes.
"""

import json
import subprocess
import time
import uuid

import pytest
from test_slurm_real import slurm_up  # noqa: F401  (the fixture: skip or fail without Slurm)
from user_commands import new_user

from launchpad import LaunchPad
from launchpad.files import dumps
from launchpad.offline_files import OFFLINE_JSON
from launchpad.stores import SQLiteStore
from queue_adapters import run_subprocess

pytestmark = pytest.mark.slurm

NOOP = {"_fw_name": "PyTask", "func": "os.getcwd"}
ADDER = {
    "_fw_name": "PyTask",
    "func": "launchpad.actions.FWAction",
    "kwargs": {
        "stored_data": {"answer": 42},
        "additions": [{"fw_id": -1, "name": "added", "spec": {"_tasks": [NOOP]}}],
    },
}
# What the job sees: no store anywhere (the embedded store's home and the launchpad file are elsewhere).
NO_STORE = "export STARSHELL_HOME=/nonexistent/home STARSHELL_LAUNCHPAD=/nonexistent/my_launchpad.yaml"


@pytest.fixture
def login(slurm_up, tmp_path):  # noqa: F811
    user = new_user(tmp_path)
    name = f"ss-{uuid.uuid4().hex[:10]}"
    qadapter = {
        "_fw_q_type": "SLURM",
        "rocket_launch": "rlaunch --ping_interval 1 singleshot --offline",
        "pre_rocket": NO_STORE,
        "job_name": name,
        "walltime": "00:05:00",
    }
    (user.work / "my_qadapter.yaml").write_text(dumps(qadapter, "yaml"))
    yield user, LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    run_subprocess(["scancel", "-n", name])


def add_dynamic_workflow(lp):
    """A firework that adds one (FWAction additions) and a child of its own."""
    fws = [
        {"fw_id": 1, "name": "adder", "spec": {"_tasks": [ADDER]}},
        {"fw_id": 2, "name": "child", "spec": {"_tasks": [NOOP]}},
    ]
    lp.add_wf({"fws": fws, "links": {1: [2]}})


def wait_until_ran(user, lp, count, timeout=60):
    """Until ``count`` offline runs have written their end into FW_offline.json."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        files = list(user.work.rglob(OFFLINE_JSON))
        if sum("completed_on" in f.read_text() for f in files) >= count:
            return
        time.sleep(0.3)
    logs = "\n".join(p.read_text() for p in user.work.rglob("slurm-*.out"))
    pytest.fail(f"{count} offline run(s) not finished after {timeout} s; {lp.fw_state_counts()}\n{logs}")


def test_a_dynamic_workflow_completes_offline_on_slurm(login):
    user, lp = login
    add_dynamic_workflow(lp)
    # The job's environment really cannot open the store: a plain rlaunch there fails.
    blocked = user.run(
        "rlaunch",
        "singleshot",
        extra_env={
            "STARSHELL_HOME": "/nonexistent/home",
            "STARSHELL_LAUNCHPAD": "/nonexistent/my_launchpad.yaml",
        },
    )
    assert blocked.returncode != 0 and "/nonexistent/my_launchpad.yaml" in blocked.stderr

    done = user.run("qlaunch", "-r", "singleshot")
    assert done.returncode == 0, done.stderr
    wait_until_ran(user, lp, 1)
    assert lp.fw_state_counts() == {"RESERVED": 1, "WAITING": 1}  # nothing reached the store

    done = user.run("lpad", "recover_offline", "--print-launches")
    assert done.returncode == 0, done.stderr
    assert "completed (started, finished)" in done.stdout
    states = {f["name"]: f["state"] for f in lp.get_fws()}
    assert states == {"adder": "COMPLETED", "child": "READY", "added": "READY"}, states
    assert lp.get_launches({"fw_id": 1})[0]["action"]["stored_data"] == {"answer": 42}

    # qlaunch -r rapidfire reads its offline runs in before each round, so it ends by itself.
    done = user.run("qlaunch", "-r", "rapidfire", "-m", "2", "--sleep", "1", "--timeout", "90")
    assert done.returncode == 0, done.stderr
    recovered = [line for line in done.stderr.splitlines() if "offline runs: " in line]
    assert recovered and all("completed" in line or "running" in line for line in recovered), done.stderr
    assert lp.fw_state_counts() == {"COMPLETED": 3}

    again = user.run("lpad", "recover_offline")
    assert "no offline runs to recover" in again.stdout
    for launch in lp.get_launches():
        data = json.loads((user.work / launch["launch_dir"] / OFFLINE_JSON).read_text())
        assert data["launch_id"] == launch["launch_id"] and data["host"] == launch["host"]
    scripts = [p.read_text() for p in user.work.rglob("FW_submit.script")]
    assert len(scripts) == 3 and all("singleshot --offline --fw_id" in s for s in scripts)


def test_lpad_daemon_drives_an_offline_workflow_to_the_end(login):
    """No person in the loop: the daemon reserves and submits (-r), and recovers the runs."""
    user, lp = login
    add_dynamic_workflow(lp)
    argv = ["daemon", "-r", "-m", "2", "--topup_interval", "1", "--offline_interval", "1"]
    daemon = subprocess.Popen(
        ["lpad", *argv, "--lostruns_interval", "0", "--unreserved_interval", "0"],
        cwd=user.work,
        env=user.env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        end = time.monotonic() + 90
        while lp.fw_state_counts() != {"COMPLETED": 3} and time.monotonic() < end:
            time.sleep(0.5)
        assert lp.fw_state_counts() == {"COMPLETED": 3}
    finally:
        stop = user.run("lpad", "daemon", "stop")
        _, log = daemon.communicate(timeout=60)
    assert stop.returncode == 0 and daemon.returncode == 0, log
    assert "offline: 1 offline run(s): 1 completed" in log
