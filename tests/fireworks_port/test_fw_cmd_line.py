"""FireWorks' fireworks/tests/cmd_line_test.sh: reset with today's date, add the firetask
tutorial's fw_adder.yaml, list with ``get_wfs``/``get_fws -d more|less|all``, run one
rocket; and FireWorks' other short workflow commands (pause_wfs, reignite_wfs,
archive_wfs, delete_wfs).

The real commands, each in its own process, on the embedded store (another process
cannot open mongomock); the same script once more through the commands' ``main(argv,
launchpad=lp)`` in this process, on both stores. The tutorial's "Addition Task" comes from the user package
examples/tutorial_tasks.py, registered the documented way.
"""

import datetime
import json
import os

from conftest import ROOT
from test_corpus import tutorial_tasks  # noqa: F401 (a fixture)

from launchpad import Firework, LaunchPad, ScriptTask
from launchpad.cli.lpad import main as lpad
from launchpad.stores import SQLiteStore
from rocket.cli import main as rlaunch
from tests.user_commands import new_user

FW_ADDER = "spec:\n  _tasks:\n  - _fw_name: Addition Task\n  input_array:\n  - 1\n  - 2\n"


def test_cmd_line_script(tmp_path):
    user = new_user(tmp_path)
    env = {
        "PYTHONPATH": os.pathsep.join((os.path.join(ROOT, "examples"), user.env["PYTHONPATH"])),
        "STARSHELL_USER_PACKAGES": "tutorial_tasks",
    }
    (user.work / "fw_adder.yaml").write_text(FW_ADDER)
    today = datetime.date.today().isoformat()  # FireWorks' script: `date "+%Y-%m-%d"`
    commands = [
        ("lpad", "reset", "--password", today),
        ("lpad", "add", "fw_adder.yaml"),
        *(
            ("lpad", listing, "-d", mode)
            for mode in ("more", "less", "all")
            for listing in ("get_wfs", "get_fws")
        ),
        ("rlaunch", "singleshot"),
    ]
    outputs = []
    for command in commands:
        done = user.run(*command, extra_env=env)
        assert done.returncode == 0, (command, done.stderr)
        outputs.append(done.stdout)
    assert json.loads(outputs[-2])["spec"]["input_array"] == [1, 2]  # get_fws -d all, in a pipe
    assert "The sum of [1, 2] is: 3" in outputs[-1]


def test_fireworks_short_workflow_commands(tmp_path):
    user = new_user(tmp_path)
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))  # the store the commands use
    lp.add_wf(Firework(ScriptTask.from_str("echo hi")))
    for command, state in (("pause_wfs", "PAUSED"), ("reignite_wfs", "READY"), ("archive_wfs", "ARCHIVED")):
        done = user.run("lpad", command, "-i", "1")
        assert done.returncode == 0, done.stderr
        assert lp.get_fw_by_id(1).state == state
    done = user.run("lpad", "delete_wfs", "-i", "1")
    assert done.returncode == 0, done.stderr
    assert lp.get_fw_ids() == []


def test_cmd_line_script_in_process(lp, capsys, tmp_path, monkeypatch, tutorial_tasks):  # noqa: F811
    """The same commands through ``lpad``'s and ``rlaunch``'s ``main(argv, launchpad=lp)``
    in this process, so the script also runs on MongoDB (mongomock)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fw_adder.yaml").write_text(FW_ADDER)
    today = datetime.date.today().isoformat()
    assert lpad(["reset", "--password", today], launchpad=lp) == 0
    assert lpad(["add", "fw_adder.yaml"], launchpad=lp) == 0
    for mode in ("more", "less", "all"):
        for listing in ("get_wfs", "get_fws"):
            capsys.readouterr()
            assert lpad([listing, "-d", mode], launchpad=lp) == 0
            shown = json.loads(capsys.readouterr().out)
            assert (shown["state"], shown["name"]) == (
                "READY",
                "Unnamed FW--1" if listing == "get_wfs" else "Unnamed FW",
            )
    assert rlaunch(["singleshot"], launchpad=lp) == 0
    assert "The sum of [1, 2] is: 3" in capsys.readouterr().out
    assert lp.get_fw_by_id(1).state == "COMPLETED"
