"""FireWorks' fireworks/scripts/tests/test_qlaunch_run.py: ``-v``, and a missing,
empty or absent queue adapter or launchpad file, for the real ``qlaunch``.

FireWorks raises ValueError/FileNotFoundError out of ``qlaunch([...])``; the
command prints one line naming the file and exits 2. ``qlaunch`` needs a
command (FireWorks checks the files first), so these name ``singleshot``.
"""

import pytest

from tests.user_commands import new_user

from .cli_port import reports_version

QADAPTER = "_fw_name: CommonAdapter\n_fw_q_type: SLURM\nrocket_launch: rlaunch singleshot\n"


@pytest.mark.parametrize("arg", ["-v", "--version"])
def test_qlaunch_report_version(tmp_path, arg):
    assert reports_version(tmp_path, "qlaunch", arg)


def test_qlaunch_config_file_flags(tmp_path):
    user = new_user(tmp_path)
    done = user.run("qlaunch", "singleshot")  # no qadapter file anywhere
    assert done.returncode == 2
    assert "no queue adapter file: pass -q FILE" in done.stderr
    done = user.run("qlaunch", "-q", "", "singleshot")
    assert done.returncode == 2
    assert "queue adapter file (-q): an empty path was given" in done.stderr
    done = user.run("qlaunch", "-q", "missing_file", "singleshot")
    assert done.returncode == 2
    assert "queue adapter file (-q) missing_file does not exist" in done.stderr
    (user.work / "my_qadapter.yaml").write_text(QADAPTER)
    done = user.run("qlaunch", "-q", "my_qadapter.yaml", "-l", "", "singleshot")
    assert done.returncode == 2
    assert "launchpad file (-l): an empty path was given" in done.stderr
