"""FireWorks' fireworks/scripts/tests/test_rlaunch_run.py and test_mlaunch_run.py:
``-v``, and a missing or empty launchpad/worker file, for the real ``rlaunch``.

FireWorks' ``mlaunch N`` is ``rlaunch multi N`` here (its -l/-w go before the
command, as for every rlaunch command). FireWorks checks the files before it
looks for a command (its ``rlaunch`` with none then fails with an
AttributeError); ``rlaunch`` needs a command, so these name one. The errors are
one line naming the option, exit code 2, instead of FireWorks' FileNotFoundError.
"""

import pytest

from tests.user_commands import new_user

from .cli_port import reports_version


@pytest.mark.parametrize("arg", ["-v", "--version"])
def test_rlaunch_report_version(tmp_path, arg):
    assert reports_version(tmp_path, "rlaunch", arg)


@pytest.mark.parametrize("command", [["singleshot"], ["multi", "1"]], ids=["rlaunch", "mlaunch"])
def test_config_file_flags(tmp_path, command):
    user = new_user(tmp_path)
    done = user.run("rlaunch", "-l", "", *command)
    assert done.returncode == 2
    assert done.stderr.startswith("error: launchpad file (-l): an empty path was given")
    done = user.run("rlaunch", "-w", "missing_file", *command)
    assert done.returncode == 2
    assert done.stderr.startswith("error: worker file (-w) missing_file does not exist")
