"""``lpad get_fws``/``get_wflows`` in a pipe, or with ``-o json``, print FireWorks' JSON,
which users' scripts parse.

FireWorks' lpad prints JSON by default (``lpad get_fws -d all | python -m
json.tool``, ``lpad -o json get_fws``); its defaults are ``-d ids`` without a
selection and ``-d more`` with one, and a single result prints alone;
``get_launchdir`` prints the bare path. Tables stay for terminals; ``-o yaml`` is
FireWorks' YAML and ``-o records`` starshell's own records.
"""

import json
import os

import pytest
import yaml
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
    assert lpad_json("-o", "json", "get_fws", "-s", "WAITING", "-d", "all") == full  # as the pipe
    assert lpad_json("get_wflows", "-i", "2", "-d", "more", "-o", "json") == more
    records = lpad_json("-o", "records", "get_fws", "-i", "1")  # starshell's own: a list, no -d: less
    assert records == [{k: records[0][k] for k in ("fw_id", "name", "state", "created_on")}]
    table = user.run("lpad", "get_wflows", "--table", timeout=60).stdout
    assert "demo" in table and not table.lstrip().startswith(("{", "["))


def test_a_workflows_updated_on_is_its_last_change_as_in_fireworks(tmp_path):
    """``lpad get_wflows -d more`` after a rocket ran: FireWorks' updated_on moves with the
    workflow's fireworks; it stayed at the time of ``lpad add``."""
    user = new_user(tmp_path)
    (user.work / "wf.yaml").write_text(WORKFLOW)
    assert user.run("lpad", "add", "wf.yaml", timeout=60).returncode == 0
    ran = user.run("rlaunch", "singleshot", timeout=60)
    assert ran.returncode == 0, ran.stderr
    more = json.loads(user.run("lpad", "get_wflows", "-i", "1", "-d", "more", timeout=60).stdout)
    one = json.loads(user.run("lpad", "get_fws", "-i", "1", "-d", "less", timeout=60).stdout)
    assert more["states"]["one--1"] == "COMPLETED"
    assert more["updated_on"] > more["created_on"]
    assert more["updated_on"][:19] == one["updated_on"][:19]


def test_an_in_memory_workflows_updated_on_follows_its_fireworks(lp, tmp_path):
    a = Firework(ScriptTask(script="echo a"), name="a", fw_id=-1)
    lp.add_wf(Workflow([a], name="one"))
    added = lp.get_wf_by_fw_id(a.fw_id).updated_on
    _, launch_id = lp.checkout_fw(fw_id=a.fw_id, launch_dir=str(tmp_path / "run_a"))
    lp.complete_launch(launch_id)
    wf = lp.get_wf_by_fw_id(a.fw_id)
    assert wf.updated_on > added and wf.updated_on == lp.get_fw_by_id(a.fw_id).updated_on
    assert lp.get_wf_summary_dict(a.fw_id)["updated_on"] > lp.get_wf_summary_dict(a.fw_id)["created_on"]


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


@pytest.mark.parametrize(
    "argv",
    [
        ["get_fws"],
        ["get_fws", "-n", "a"],
        ["get_fws", "-d", "count"],
        ["get_fws", "-s", "WAITING", "-d", "all"],
        ["get_wflows"],
        ["get_wflows", "-d", "more"],
        ["get_fws_in_wflows", "-wfn", "pair", "-d", "less"],
    ],
)
def test_o_json_and_yaml_print_what_the_pipe_prints(lp, capsys, argv):
    """FireWorks' -o json (its default) and -o yaml: the pipe's data, on both stores;
    -o records: starshell's records, a list even for one result."""
    a = Firework(ScriptTask(script="echo a"), name="a", fw_id=-1)
    lp.add_wf(
        Workflow([a, Firework(ScriptTask(script="echo b"), name="b", fw_id=-2, parents=[a])], name="pair")
    )

    def printed(*extra):
        assert cli.main([*extra, *argv], launchpad=lp) == 0
        return capsys.readouterr().out

    piped = json.loads(printed())
    assert json.loads(printed("-o", "json")) == piped
    assert yaml.safe_load(printed("-o", "yaml")) == piped
    if argv == ["get_fws", "-n", "a"]:
        assert piped["fw_id"] == a.fw_id and "wf_id" not in piped  # FireWorks' firework dict, alone
        assert [r["name"] for r in json.loads(printed("-o", "records"))] == ["a"]


def test_get_launchdir_prints_the_bare_path_with_o_json_as_fireworks(tmp_path):
    user = new_user(tmp_path)
    (user.work / "wf.yaml").write_text(WORKFLOW)
    assert user.run("lpad", "add", "wf.yaml", timeout=60).returncode == 0
    assert user.run("rlaunch", "singleshot", timeout=60).returncode == 0
    piped = user.run("lpad", "get_launchdir", "1", timeout=60).stdout
    assert piped == f"{user.work}\n"  # singleshot ran here
    assert user.run("lpad", "-o", "json", "get_launchdir", "1", timeout=60).stdout == piped
    record = json.loads(user.run("lpad", "get_launchdir", "1", "-o", "records", timeout=60).stdout)
    assert record == {"fw_id": 1, "launch_dir": str(user.work)}


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


def test_o_records_is_o_json_where_fireworks_has_no_shape_of_its_own(lp, capsys):
    lp.add_wf(Firework(ScriptTask(script="echo a"), name="a"))
    outputs = []
    for fmt in ("json", "records"):
        assert cli.main(["-o", fmt, "report"], launchpad=lp) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1] and outputs[0]["fireworks"] == {"READY": 1}
