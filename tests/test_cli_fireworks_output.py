"""``lpad get_fws``/``get_wflows`` in a pipe print FireWorks' JSON, which users' scripts parse.

FireWorks' lpad prints JSON by default (``lpad get_fws -d all | python -m
json.tool``); its defaults are ``-d ids`` without a selection and ``-d more``
with one, and a single result prints alone. Tables stay for terminals and
``-o json``/``-o yaml`` keep starshell's own shapes.
"""

import json
import os

import pytest
from user_commands import new_user

import launchpad.cli as cli
from launchpad import Firework, Workflow
from launchpad.tasks import ScriptTask

WORKFLOW = """
name: demo
fws:
- {fw_id: 1, name: one, spec: {_tasks: [{_fw_name: ScriptTask, script: echo one}]}}
- {fw_id: 2, name: two, spec: {_tasks: [{_fw_name: ScriptTask, script: echo two}]}}
links: {1: [2]}
"""


def test_real_lpad_in_a_pipe_prints_fireworks_json(tmp_path):
    user = new_user(tmp_path)
    (user.work / "wf.yaml").write_text(WORKFLOW)
    assert user.run("lpad", "add", "wf.yaml", timeout=60).returncode == 0

    def lpad_json(*argv):
        done = user.run("lpad", *argv, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert lpad_json("get_fws") == [1, 2]  # FireWorks' default without a selection: ids
    assert lpad_json("get_fws", "-d", "count") == 2
    one = lpad_json("get_fws", "-i", "1")  # a selection: -d more, one result alone
    assert one["fw_id"] == 1 and one["name"] == "one" and one["state"] == "READY" and "spec" not in one
    full = lpad_json("get_fws", "-s", "WAITING", "-d", "all")
    assert full["spec"]["_tasks"][0]["script"] == "echo two"
    both = lpad_json("get_fws", "-q", '{"name": {"$in": ["one", "two"]}}', "-d", "less")
    assert [d["name"] for d in both] == ["one", "two"] and set(both[0]) == {
        "fw_id",
        "name",
        "state",
        "created_on",
        "updated_on",
    }
    assert lpad_json("get_wflows") == 1  # one workflow: its first fw_id, alone
    more = lpad_json("get_wflows", "-i", "2", "-d", "more")
    assert more["name"] == "demo--1" and more["state"] == "READY"
    assert more["states"] == {"one--1": "READY", "two--2": "WAITING"}
    assert more["launch_dirs"] == {"one--1": [], "two--2": []}
    assert lpad_json("get_fws_in_wflows", "-wfn", "demo") == [1, 2]
    assert lpad_json("get_fws", "-o", "json", "-d", "ids") == [1, 2]  # -o json: starshell's shape
    table = user.run("lpad", "get_wflows", "--table", timeout=60).stdout
    assert "demo" in table and not table.lstrip().startswith(("{", "["))


def test_fireworks_json_on_both_stores_with_launch_dirs(lp, capsys, tmp_path):
    a = Firework(ScriptTask(script="echo a"), name="a", fw_id=-1)
    b = Firework(ScriptTask(script="echo b"), name="b", fw_id=-2, parents=[a])
    lp.add_wf(Workflow([a, b], name="pair"))
    doc, launch_id = lp.checkout_fw(fw_id=a.fw_id, launch_dir=str(tmp_path / "run_a"))
    lp.complete_launch(launch_id)
    assert cli.main(["get_wflows", "-i", str(a.fw_id), "-d", "more"], launchpad=lp) == 0
    more = json.loads(capsys.readouterr().out)
    assert more["states"] == {f"a--{a.fw_id}": "COMPLETED", f"b--{b.fw_id}": "READY"}
    assert more["launch_dirs"][f"a--{a.fw_id}"] == [str(tmp_path / "run_a")]
    assert cli.main(["get_fws", "-s", "COMPLETED"], launchpad=lp) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["fw_id"] == a.fw_id and [x["launch_dir"] for x in done["launches"]] == [
        str(tmp_path / "run_a")
    ]
    assert cli.main(["get_fws", "-lm", "-s", "COMPLETED", "-d", "ids"], launchpad=lp) == 0
    assert json.loads(capsys.readouterr().out) == a.fw_id


@pytest.mark.skipif(not os.path.exists("/usr/bin/script"), reason="no script(1) to give lpad a terminal")
def test_at_a_terminal_tables_stay(tmp_path):
    import shlex
    import subprocess

    user = new_user(tmp_path)
    (user.work / "wf.yaml").write_text(WORKFLOW)
    user.run("lpad", "add", "wf.yaml", timeout=60)
    command = " ".join(shlex.quote(a) for a in ["lpad", "get_fws"])
    done = subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        cwd=user.work,
        env=user.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "fw_id" in done.stdout and "WAITING" in done.stdout and "[" not in done.stdout
