"""The queue commands as a user types them, each in its own process, on the real Slurm.

A fresh ``$STARSHELL_HOME`` and working directory per test; ci/slurm-up.sh
starts the one-node Slurm (without it these skip, and fail when CI=true).
"""

import os
import time
import uuid

import pytest
from test_slurm_real import slurm_up  # noqa: F401  (the fixture: skip or fail without Slurm)
from user_commands import new_user

from launchpad import LaunchPad
from launchpad.files import dumps
from launchpad.stores import SQLiteStore
from queue_adapters import run_subprocess

pytestmark = pytest.mark.slurm


class Shell:
    """A user's terminal: a private store and directory, commands run as programs."""

    def __init__(self, tmp_path):
        self.user = new_user(tmp_path)
        self.work = self.user.work
        self.job_name = f"ss-{uuid.uuid4().hex[:10]}"

    def __call__(self, command, *argv, timeout=60):
        return self.user.run(command, *argv, timeout=timeout)

    def store(self):
        return LaunchPad(SQLiteStore(os.path.join(self.user.home, "launchpad.sqlite")))

    def qadapter(self, **params):
        data = {
            "_fw_q_type": "SLURM",
            "rocket_launch": "rlaunch singleshot",
            "job_name": self.job_name,
            "walltime": "00:05:00",
            **params,
        }
        (self.work / "my_qadapter.yaml").write_text(dumps(data, "yaml"))

    def add_fw(self, script="true"):
        path = self.work / "fw.yaml"
        path.write_text(dumps({"spec": {"_tasks": [{"_fw_name": "ScriptTask", "script": script}]}}, "yaml"))
        assert self("lpad", "add", path).returncode == 0


@pytest.fixture
def shell(slurm_up, tmp_path):  # noqa: F811
    s = Shell(tmp_path)
    yield s
    run_subprocess(["scancel", "-n", s.job_name])


def test_cancel_qid_of_a_job_that_never_existed_says_so(shell):
    shell.qadapter()
    done = shell("lpad", "cancel_qid", "99999999")
    assert done.returncode == 3, done
    assert "job 99999999 is not known to the scheduler: nothing was cancelled" in done.stderr
    assert "cancelled job" not in done.stdout


def test_detect_unreserved_rerun_says_which_jobs_it_cancels(shell):
    shell.qadapter(_q_commands_override={"submit_cmd": "sbatch --hold"})  # stays PENDING
    shell.add_fw()
    done = shell("qlaunch", "-r", "singleshot")
    assert done.returncode == 0, done.stderr
    (qid,) = [r["reservation_id"] for r in shell.store().get_reservations()]
    time.sleep(1.2)
    done = shell("lpad", "detect_unreserved", "--time", "1", "--rerun")
    assert done.returncode == 0, done.stderr
    assert f"-> READY; its queued job {qid} was cancelled" in done.stdout
    state = run_subprocess(["squeue", "-h", "-j", qid, "-t", "all", "-o", "%T"])[1].strip()
    assert state in ("CANCELLED", "")


@pytest.mark.parametrize("mode", [["singleshot"], ["-r", "singleshot"], ["rapidfire", "--sleep", "1"]])
def test_a_refused_submission_leaves_no_directory(shell, mode):
    shell.qadapter(queue="no-such-partition")
    shell.add_fw()
    before = sorted(p.name for p in shell.work.iterdir())
    done = shell("qlaunch", *mode)
    assert done.returncode == 6 and "invalid partition" in done.stderr, done.stderr
    assert sorted(p.name for p in shell.work.iterdir()) == before


def test_qlaunch_rapidfire_ends_soon_after_the_work_not_a_sleep_later(shell):
    shell.qadapter()
    shell.add_fw()
    started = time.monotonic()
    done = shell("qlaunch", "rapidfire", "-m", "1", "--sleep", "60", timeout=90)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "no work left" in done.stderr and "submitted 1 pilot job(s)" in done.stdout
    assert shell.store().fw_state_counts() == {"COMPLETED": 1}
    assert took < 30, f"qlaunch took {took:.0f} s"


def test_the_starter_files_run_a_workflow_on_slurm(shell):
    """The tutorial from a pip install: lpad init, qlaunch init, lpad add, qlaunch."""
    assert shell("lpad", "init").returncode == 0
    assert shell("qlaunch", "init").returncode == 0
    qadapter = shell.work / "my_qadapter.yaml"
    qadapter.write_text(
        qadapter.read_text().replace("job_name: starshell_pilot", f"job_name: {shell.job_name}")
    )
    shell.add_fw("echo hello from the pilot")
    done = shell("qlaunch", "rapidfire", "-m", "1", "--sleep", "2", timeout=90)
    assert done.returncode == 0, done.stderr
    assert shell.store().fw_state_counts() == {"COMPLETED": 1}
