"""FireWorks' fireworks/scripts/tests/test_lpad_run.py: ``lpad get_fws -d count|ids``
on an empty and a one-firework store, ``-v``, and a missing or empty config path.

Each command is the real ``lpad`` in its own process (tests/user_commands.py), on the
embedded store (mongomock lives inside one process, so another process cannot open
it); ``get_fws`` also runs in-process as FireWorks' test calls it, on both stores.
FireWorks raises FileNotFoundError out of ``lpad([...])``; the ``lpad`` command
prints one line naming the option and exits 2 (a deliberate difference,
docs/fireworks.md).
"""

import pytest

from launchpad import Firework, LaunchPad, ScriptTask
from launchpad.cli.lpad import main as lpad
from launchpad.stores import SQLiteStore
from tests.user_commands import new_user

from .cli_port import reports_version


@pytest.mark.parametrize(
    ("detail", "expected_1", "expected_2"), [("count", "0\n", "1\n"), ("ids", "[]\n", "1\n")]
)
def test_lpad_get_fws(tmp_path, detail, expected_1, expected_2):
    user = new_user(tmp_path)
    done = user.run("lpad", "get_fws", "-d", detail)
    assert (done.returncode, done.stdout, done.stderr) == (0, expected_1, "")
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))  # the store the commands use
    lp.add_wf(Firework(ScriptTask.from_str("python -c 'print(\"test_task\")'")))
    done = user.run("lpad", "get_fws", "-d", detail)
    assert (done.returncode, done.stdout, done.stderr) == (0, expected_2, "")


@pytest.mark.parametrize(
    ("detail", "expected_1", "expected_2"), [("count", "0\n", "1\n"), ("ids", "[]\n", "1\n")]
)
def test_lpad_get_fws_in_process(lp, capsys, detail, expected_1, expected_2):
    """FireWorks' own form: ``lpad([...])`` in the test's process, here given the store,
    so it runs on MongoDB (mongomock) too."""
    assert lpad(["get_fws", "-d", detail], launchpad=lp) == 0
    assert capsys.readouterr() == (expected_1, "")
    lp.add_wf(Firework(ScriptTask.from_str("python -c 'print(\"test_task\")'")))
    assert lpad(["get_fws", "-d", detail], launchpad=lp) == 0
    assert capsys.readouterr() == (expected_2, "")


@pytest.mark.parametrize("arg", ["-v", "--version"])
def test_lpad_report_version(tmp_path, arg):
    assert reports_version(tmp_path, "lpad", arg)


def test_lpad_config_file_flags(tmp_path):
    user = new_user(tmp_path)
    done = user.run("lpad", "-l", "", "get_fws")
    assert done.returncode == 2
    assert done.stderr.startswith("error: launchpad file (-l): an empty path was given")
    done = user.run("lpad", "recover_offline", "-w", "missing_file")
    assert done.returncode == 2
    assert done.stderr.startswith("error: worker file (-w) missing_file does not exist")
