"""A settings file named with -l, -w or -q is used or refused, never replaced.

``lpad -l "$LP"`` with LP unset must not quietly work on the default store:
that store may be another project's. Each case runs the real command in its
own process for a user whose defaults all exist (a store with READY work, a
worker file, a qadapter whose "sbatch" leaves a mark), so a silent fallback
would show as work done there.
"""

import os

import pytest
from user_commands import new_user

from launchpad import Firework, LaunchPad
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask

QADAPTER = """_fw_name: CommonAdapter
_fw_q_type: SLURM
rocket_launch: rlaunch singleshot
_q_commands_override: {{submit_cmd: {sbatch}, status_cmd: {squeue}}}
"""


def _script(path, body):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@pytest.fixture
def user(tmp_path):
    user = new_user(tmp_path)
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    lp.add_wf(Firework(ScriptTask(script="touch ran_from_the_default_store")))
    lp.store.close()
    (user.home / "my_fworker.yaml").write_text("name: default worker\n")
    sbatch = _script(tmp_path / "sbatch", f"touch {tmp_path}/submitted\necho Submitted batch job 7\n")
    squeue = _script(tmp_path / "squeue", "exit 0\n")
    (user.home / "my_qadapter.yaml").write_text(QADAPTER.format(sbatch=sbatch, squeue=squeue))
    (user.work / "empty.yaml").write_text("# to be filled in\n")
    (user.work / "qa.yaml").write_text(QADAPTER.format(sbatch=sbatch, squeue=squeue))
    return user


def _default_store_untouched(user):
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    try:
        assert lp.fw_state_counts() == {"READY": 1}
    finally:
        lp.store.close()
    assert not (user.home.parent / "submitted").exists()
    assert [p.name for p in user.work.iterdir() if p.name.startswith(("launcher_", "block_"))] == []


EMPTY = "an empty path was given (an unset variable?); give the file's path, or leave the option out"


@pytest.mark.parametrize(
    "argv,message",
    [
        (["lpad", "-l", "", "get_fws"], "launchpad file (-l): " + EMPTY),
        (["lpad", "-l", "", "add", "wf.yaml"], "launchpad file (-l): " + EMPTY),
        (["lpad", "-l", " ", "reset", "--password", "x"], "launchpad file (-l): " + EMPTY),
        (["lpad", "-l", "", "init"], "launchpad file (-l): " + EMPTY),
        (["lpad", "-l", "missing.yaml", "get_fws"], "launchpad file (-l) missing.yaml does not exist"),
        (["lpad", "-l", "empty.yaml", "get_fws"], "empty.yaml: the launchpad file is empty"),
        (["rlaunch", "-w", "", "singleshot"], "worker file (-w): " + EMPTY),
        (["rlaunch", "-w", "missing.yaml", "singleshot"], "worker file (-w) missing.yaml does not exist"),
        (["rlaunch", "-w", "empty.yaml", "rapidfire"], "empty.yaml: the worker file is empty"),
        (["rlaunch", "-l", "", "singleshot"], "launchpad file (-l): " + EMPTY),
        (["rlaunch", "-l", "", "multi", "2"], "launchpad file (-l): " + EMPTY),
        (["rlaunch", "-w", "", "multi", "2"], "worker file (-w): " + EMPTY),
        (["qlaunch", "-q", "", "singleshot"], "queue adapter file (-q): " + EMPTY),
        (["qlaunch", "-q", "missing.yaml", "singleshot"], "queue adapter file (-q) missing.yaml does not"),
        (["qlaunch", "-q", "empty.yaml", "singleshot"], "empty.yaml: the queue adapter file is empty"),
        (["qlaunch", "-w", "", "singleshot"], "worker file (-w): " + EMPTY),
        (["qlaunch", "-l", "", "-q", "qa.yaml", "singleshot"], "launchpad file (-l): " + EMPTY),
        (["qlaunch", "-l", "", "rapidfire"], "launchpad file (-l): " + EMPTY),
    ],
)
def test_an_empty_or_missing_settings_file_is_an_error(user, argv, message):
    (user.work / "wf.yaml").write_text("spec: {_tasks: [{_fw_name: ScriptTask, script: 'true'}]}\n")
    done = user.run(*argv)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    _default_store_untouched(user)
    assert not (user.work / "my_launchpad.yaml").exists()


def test_an_unset_variable_in_a_job_script_stops_the_job(user):
    """The way it happens: a script passes "$LAUNCHPAD" that was never set."""
    done = user.run(
        "rlaunch", "-l", os.environ.get("STARSHELL_TEST_UNSET_VARIABLE", ""), "rapidfire", "--sleep", "0"
    )
    assert done.returncode == 2 and "empty path" in done.stderr
    _default_store_untouched(user)


def test_the_defaults_still_apply_when_no_option_is_given(user):
    """The counterpart: with no option at all, the default files are used."""
    ran = user.run("rlaunch", "-s", "singleshot")
    assert ran.returncode == 0, ran.stderr
    assert (user.work / "ran_from_the_default_store").exists()  # singleshot runs here, as FireWorks'
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    assert lp.get_fw_dict(1)["launches"][-1]["fworker"]["name"] == "default worker"
    lp.store.close()
