"""FireWorks' dataflow tasks: what each puts in its FWAction (checked against FireWorks 2.1.4's
code and tests), and FireWorks' documented examples run by real lpad and rlaunch processes."""

import json
import os
import sys
import time
from pathlib import Path

import pytest
from user_commands import ROOT, new_user

from launchpad.errors import TaskError, UnknownTaskError
from launchpad.firetask import task_class
from launchpad.tasks.dataflow import (
    CommandLineTask,
    ForeachTask,
    ImportDataTask,
    JoinDictTask,
    JoinListTask,
)

EXAMPLES = os.path.join(ROOT, "examples", "dataflow")
NAMES = ("CommandLineTask", "ForeachTask", "JoinDictTask", "JoinListTask", "ImportDataTask")
CONFINED = {"_allow_outside_launch_dir": False}  # what a confining worker's rocket gives its tasks


@pytest.fixture
def launch_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STARSHELL_ALLOW_OUTSIDE_LAUNCH_DIR", raising=False)
    monkeypatch.syspath_prepend(EXAMPLES)
    return tmp_path


@pytest.mark.parametrize("name", NAMES)
def test_fireworks_names_resolve(name):
    cls = task_class(name)
    assert cls.__name__ == name
    assert task_class("{{fireworks.user_objects.firetasks.dataflow_tasks." + name + "}}") is cls


# ---- CommandLineTask ---------------------------------------------------------


def cat_params():
    return {
        "command_spec": {
            "command": ["cat"],
            "input string": {"source": "hello input", "target": {"type": "stdin"}},
            "output string": {"source": {"type": "stdout"}, "target": {"type": "data"}},
        },
        "inputs": ["input string"],
        "outputs": ["output string"],
    }


def test_command_line_stdin_from_spec_stdout_to_children(launch_dir):
    spec = {"hello input": {"type": "data", "value": "Hello world!"}}
    action = CommandLineTask(cat_params()).run_task(spec)
    assert action.update_spec == {"output string": {"type": "data", "value": "Hello world!"}}
    action = CommandLineTask(cat_params(), chunk_number=0).run_task(spec)
    assert action.mod_spec == [{"_push": {"output string": {"type": "data", "value": "Hello world!"}}}]


def test_command_line_stdout_to_a_new_file_in_a_directory_then_tee(launch_dir):
    echo = {
        "command_spec": {
            "command": ["echo"],
            "input string": {"source": "input string"},
            "output file": {"source": {"type": "stdout"}, "target": {"type": "path", "value": "."}},
        },
        "inputs": ["input string"],
        "outputs": ["output file"],
    }
    action = CommandLineTask(echo).run_task({"input string": {"type": "data", "value": "Hi!"}})
    written = action.update_spec["output file"]["value"]
    assert os.path.dirname(written) == "." and Path(written).read_text() == "Hi!\n"
    tee = {
        "command_spec": {
            "command": ["tee"],
            "output string": {"source": {"type": "stdout"}, "target": {"type": "data"}},
            "input file": {"target": {"type": "stdin"}, "source": "input file"},
            "output file": {"source": "tee file", "target": {"type": "path", "value": "."}},
        },
        "inputs": ["input file"],
        "outputs": ["output string", "output file"],
    }
    spec = {"input file": {"type": "path", "value": written}, "tee file": {"type": "data", "value": "x"}}
    action = CommandLineTask(tee).run_task(spec)
    assert action.update_spec["output string"] == {"type": "data", "value": "Hi!"}
    assert Path(action.update_spec["output file"]["value"]).read_text() == "Hi!\n"


def test_command_line_bindings_and_several_path_outputs(launch_dir):
    params = {
        "command_spec": {
            "command": ["touch"],
            "f1": {"source": "n1"},
            "f2": {"source": "n2"},
            "o1": {"source": "n1", "target": {"type": "path", "value": "."}},
            "opt": {
                "binding": {"prefix": "--date", "separator": "="},
                "source": {"type": "data", "value": "2020-01-02"},
            },
        },
        "inputs": ["opt", "f1", "f2"],
        "outputs": ["o1"],
    }
    spec = {"n1": {"type": "data", "value": "a.txt"}, "n2": {"type": "path", "value": "b.txt"}}
    action = CommandLineTask(params).run_task(spec)
    assert os.path.exists("a.txt") and os.path.exists("b.txt")
    assert os.path.exists(action.update_spec["o1"]["value"])
    assert time.strftime("%Y-%m-%d", time.localtime(os.path.getmtime("a.txt"))) == "2020-01-02"


def test_command_line_failure_and_fence_are_task_errors(launch_dir, tmp_path):
    with pytest.raises(TaskError, match="(?s)exited with return code 1.*No such file"):
        CommandLineTask(command_spec={"command": ["cat", "missing.txt"]}).run_task({})
    out = {
        "command_spec": {
            "command": ["echo", "x"],
            "o": {"source": {"type": "stdout"}, "target": {"type": "path", "value": str(tmp_path.parent)}},
        },
        "outputs": ["o"],
    }
    with pytest.raises(TaskError, match="outside the launch directory.*_allow_outside_launch_dir"):
        CommandLineTask(out).run_task(CONFINED)
    assert CommandLineTask(out).run_task({"_allow_outside_launch_dir": True}).update_spec
    assert CommandLineTask(out).run_task({}).update_spec  # run directly, as FireWorks
    with pytest.raises(TaskError, match="'command' must be a non-empty list"):
        CommandLineTask(command_spec={"command": "echo hi"}).run_task({})
    with pytest.raises(TaskError, match="spec key 'nope' is missing"):
        CommandLineTask(command_spec={"command": ["echo"], "i": {"source": "nope"}}, inputs=["i"]).run_task(
            {}
        )


# ---- ForeachTask -----------------------------------------------------------


def power_task():
    return {
        "_fw_name": "PyTask",
        "func": "auxiliary.printurn",
        "inputs": ["numbers", "power"],
        "outputs": ["results"],
    }


def test_foreach_makes_one_detour_per_chunk_with_a_chunk_number(launch_dir):
    spec = {
        "numbers": [0, 1, 2, 3, 4],
        "power": 2,
        "_launch_dir": "/somewhere",
        "_fw_env": {"scratch": "/s"},
        "_tasks": ["x"],
    }
    action = ForeachTask(task=power_task(), split="numbers", **{"number of chunks": 3}).run_task(spec)
    fws = action.detours  # Fireworks, as in FireWorks
    assert [fw.name for fw in fws] == ["ForeachTask 0", "ForeachTask 1", "ForeachTask 2"]
    assert [fw.spec for fw in fws] == [{"numbers": chunk, "power": 2} for chunk in ([0, 1], [2, 3], [4])]
    assert [fw.tasks[0]["chunk_number"] for fw in fws] == [0, 1, 2]
    pushed = [mod for fw in fws for mod in fw.tasks[0].run_task(fw.spec).mod_spec]
    assert pushed[:2] == [{"_push": {"results": [0, 1]}}, {"_push": {"results": 2}}]
    one_each = ForeachTask(task=power_task(), split="numbers").run_task({"numbers": [5, 6], "power": 1})
    assert [fw.spec["numbers"] for fw in one_each.detours] == [[5], [6]]


def test_foreach_command_line_chunks(launch_dir):
    work = [{"source": {"type": "data", "value": s}} for s in ["black", "white", 2.5, 17]]
    task = {
        "_fw_name": "CommandLineTask",
        "command_spec": {
            "command": ["echo"],
            "work list": "work list",
            "file set": {"source": {"type": "stdout"}, "target": {"type": "path", "value": "."}},
        },
        "inputs": ["work list"],
        "outputs": ["file set"],
    }
    action = ForeachTask(task=task, split="work list", **{"number of chunks": 2}).run_task(
        {"work list": work}
    )
    texts = []
    for fw in action.detours:
        pushed = fw.tasks[0].run_task(fw.spec).mod_spec[0]["_push"]["file set"]["value"]
        texts.append(Path(pushed).read_text().strip())
    assert texts == ["black white", "2.5 17"]


@pytest.mark.parametrize(
    "params, spec, message",
    [
        ({"split": "n"}, {"n": []}, "non-empty list"),
        ({"split": "n"}, {}, "spec key 'n' is missing"),
        ({"split": "other"}, {"other": [1]}, "must include the split key"),
        ({"split": "n", "number of chunks": -1}, {"n": [1]}, "positive integer"),
    ],
)
def test_foreach_refusals_say_what_to_fix(launch_dir, params, spec, message):
    task = {"_fw_name": "PyTask", "func": "abs", "inputs": ["n"]}
    with pytest.raises(TaskError, match=message):
        ForeachTask(task=task, **params).run_task(spec)


def test_foreach_checks_its_inner_task_when_built():
    """FireWorks' page writes `function:`; PyTask needs `func`, so lpad add refuses the file."""
    with pytest.raises(UnknownTaskError, match="PyTask is missing required parameter.*func"):
        ForeachTask(task={"_fw_name": "PyTask", "function": "auxiliary.printurn", "inputs": ["n"]}, split="n")


# ---- JoinDictTask, JoinListTask, ImportDataTask -----------------------------------


def test_join_dict_new_and_existing_with_rename():
    t, p = {"value": 273.15, "units": "Kelvin"}, {"value": 1.2, "units": "bar"}
    spec = {"temperature": t, "pressure": p}
    params = {"inputs": ["temperature", "pressure"], "output": "state"}
    assert JoinDictTask(params).run_task(spec).update_spec == {"state": spec}
    spec["state"] = {"potential": {}}
    joined = JoinDictTask(params, rename={"temperature": "temp"}).run_task(spec).update_spec["state"]
    assert joined == {"potential": {}, "temp": t, "pressure": p}
    assert spec["state"] == {"potential": {}}  # the running spec is not changed behind the action
    with pytest.raises(TaskError, match="not a mapping"):
        JoinDictTask(params).run_task({**spec, "state": [1]})


def test_join_list_new_and_existing():
    spec = {"a": 1, "b": {"x": 2}}
    params = {"inputs": ["a", "b"], "output": "all"}
    assert JoinListTask(params).run_task(spec).update_spec == {"all": [1, {"x": 2}]}
    assert JoinListTask(params).run_task({**spec, "all": [{}]}).update_spec == {"all": [{}, 1, {"x": 2}]}
    with pytest.raises(TaskError, match="spec key 'c' is missing"):
        JoinListTask(inputs=["c"], output="all").run_task(spec)


@pytest.mark.parametrize(
    "fmt, text", [("json", '{"value": 273.15, "units": "K"}'), ("yaml", "value: 273.15\nunits: K\n")]
)
def test_import_data_merges_at_the_mapstring(launch_dir, fmt, text):
    (launch_dir / f"t.{fmt}").write_text(text)
    spec = {"state": {"temperature": {"source": "probe"}}}
    action = ImportDataTask(filename=f"t.{fmt}", mapstring="state/temperature").run_task(spec)
    assert action.update_spec == {
        "state": {"temperature": {"source": "probe", "value": 273.15, "units": "K"}}
    }
    action = ImportDataTask(filename=f"t.{fmt}", mapstring="fresh").run_task({})
    assert action.update_spec == {"fresh": {"value": 273.15, "units": "K"}}
    with pytest.raises(TaskError, match="'state/missing' is not a mapping"):
        ImportDataTask(filename=f"t.{fmt}", mapstring="state/missing/x").run_task(spec)
    with pytest.raises(TaskError, match=r"must end in \.json or \.yaml"):
        ImportDataTask(filename="t.txt", mapstring="x").run_task({})


def test_foreach_fans_out_and_gathers_on_every_store(lp, launch_dir):
    """The coffee workflow through the LaunchPad on each store: detours, then pushes."""
    from launchpad.workflow_files import load_workflow
    from rocket import rapidfire

    lp.add_wf(load_workflow(os.path.join(EXAMPLES, "foreach_coffee.yaml")))
    assert rapidfire(lp, sleep=lambda s: None) == 9
    docs = [lp.get_fw_dict(i) for i in lp.get_fw_ids()]
    assert all(d["state"] == "COMPLETED" for d in docs)
    serve = next(d for d in docs if d["name"] == "Serve coffee")
    assert sorted(serve["spec"]["pure coffee"]) == sorted(
        ["arabica", "liberica", "robusta"] + ["workflowing water"] * 3
    )
    assert len(serve["parents"]) == 4  # Brew coffee and its three chunk fireworks


# ---- FireWorks' documented examples, end to end ------------------------------------


def _run_example(tmp_path, name, edit=lambda text: text):
    user = new_user(tmp_path)
    user.env["PYTHONPATH"] = os.pathsep.join([EXAMPLES, user.env["PYTHONPATH"]])
    with open(os.path.join(EXAMPLES, name)) as f:
        (user.work / name).write_text(edit(f.read()))
    added = user.run("lpad", "add", name)
    assert added.returncode == 0, added.stderr
    ran = user.run("rlaunch", "-s", "rapidfire", "--sleep", "0")
    assert ran.returncode == 0, ran.stderr
    shown = user.run("lpad", "-o", "records", "get_fws", "-d", "all")
    assert shown.returncode == 0, shown.stderr
    listed = json.loads(shown.stdout)
    for fw in listed:
        assert fw["state"] == "COMPLETED", (fw["name"], fw["launches"][-1].get("exception"))
    return {fw["name"]: fw for fw in listed}, listed


def test_command_line_example_writes_stdout_to_a_new_file(tmp_path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    fws, _ = _run_example(
        tmp_path, "command_line.yaml", lambda text: text.replace("value: /tmp", f"value: {outdir}")
    )
    action = fws["Run a command and store the result"]["launches"][-1]["action"]
    written = action["update_spec"]["output file"]
    assert written["type"] == "path" and os.path.dirname(written["value"]) == str(outdir)
    assert Path(written["value"]).read_text() == "Hello world!"


def test_foreach_coffee_example_fans_out_and_gathers(tmp_path):
    fws, listed = _run_example(tmp_path, "foreach_coffee.yaml")
    chunks = sorted(fw["name"] for fw in listed if fw["name"].startswith("ForeachTask"))
    assert chunks == ["ForeachTask 0"] * 2 + ["ForeachTask 1"] * 2 + ["ForeachTask 2"] * 2
    assert sorted(fws["Brew coffee"]["spec"]["coffee powder"]) == ["arabica", "liberica", "robusta"]
    served = fws["Serve coffee"]["spec"]["pure coffee"]
    assert sorted(served) == sorted(["arabica", "liberica", "robusta"] + ["workflowing water"] * 3)


def test_join_and_import_example(tmp_path):
    fws, _ = _run_example(tmp_path, "join_import.yaml")
    spec = fws["report"]["spec"]
    assert spec["conditions"] == {
        "temp": {"value": 273.15, "units": "Kelvin"},
        "state parameters": {"pressure": {"value": 1.2, "units": "bar"}},
    }
    assert spec["readings"] == [{"value": 273.15, "units": "Kelvin"}, {"value": 22.4, "units": "litre"}]


def test_example_helper_unwraps_one_item_lists(capsys):
    sys.path.insert(0, EXAMPLES)
    try:
        from auxiliary import printurn
    finally:
        sys.path.remove(EXAMPLES)
    assert printurn(["arabica"]) == "arabica"
    assert printurn(["arabica"], "water") == ["arabica", "water"]
    assert capsys.readouterr().out == "arabica\n['arabica', 'water']\n"
