"""Port of FireWorks 2.1.x fireworks/user_objects/firetasks/tests/test_script_task.py.

ScriptTask and PyTask run directly (``run_task``), as a FireWorks user's unit
test calls them, with FireWorks' parameters. Covered elsewhere as well:
tests/test_tasks.py::test_pytask_kwargs_and_auto_kwargs and
tests/test_tasks.py::test_pytask_chunk_number_pushes_outputs (other functions).
"""

import pytest

from launchpad import PyTask, ScriptTask

HERE = __name__


def modular_powers(y, z, a):
    """pow(x, y, z) for every x in a: a function returning a list, for the outputs rules."""
    return [pow(x, y, z) for x in a]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_script_task_writes_stdout_to_a_file(in_tmp):
    ScriptTask({"script": 'echo "hello world"', "stdout_file": "hello.txt"}).run_task({})
    assert "hello world" in (in_tmp / "hello.txt").read_text().splitlines()[0]


def test_pytask_stores_what_the_function_returns(capsys):
    action = PyTask(
        func="json.dumps", kwargs={"obj": {"hello": "world"}}, stored_data_varname="json"
    ).run_task({})
    assert action.stored_data["json"] == '{"hello": "world"}'
    action = PyTask(func="pow", args=[3, 2], stored_data_varname="data").run_task({})
    assert action.stored_data["data"] == 9
    PyTask(func="print", args=[3]).run_task({})
    assert capsys.readouterr().out == "3\n"


def test_pytask_auto_kwargs_passes_the_other_parameters():
    task = PyTask(func="json.dumps", obj={"hello": "world"}, stored_data_varname="json", auto_kwargs=True)
    assert task.run_task({}).stored_data["json"] == '{"hello": "world"}'


def test_pytask_data_flow_inputs_outputs_and_chunks():
    params = {"func": "pow", "inputs": ["arg", "power", "modulo"], "stored_data_varname": "data"}
    spec = {"arg": 2, "power": 3, "modulo": None}
    assert PyTask(**params).run_task(spec).stored_data["data"] == 8

    params["outputs"] = ["result"]
    action = PyTask(**params).run_task(spec)
    assert action.stored_data["data"] == 8
    assert action.update_spec["result"] == 8

    params["chunk_number"] = 0
    action = PyTask(**params).run_task(spec)
    assert action.stored_data["data"] == 8
    assert action.mod_spec[0]["_push"]["result"] == 8

    # args come first, then the inputs
    params.update(args=[2, 3], inputs=["modulo"])
    action = PyTask(**params).run_task({"modulo": 3})
    assert action.stored_data["data"] == 2
    assert action.mod_spec[0]["_push"]["result"] == 2

    # a list result in chunks: one push per item
    params.update(func=f"{HERE}.modular_powers", args=[3, 3], inputs=["array"])
    spec = {"array": [1, 2]}
    action = PyTask(**params).run_task(spec)
    assert action.stored_data["data"] == [1, 2]
    assert [mod["_push"]["result"] for mod in action.mod_spec] == [1, 2]

    # one output takes the whole list; as many outputs as items take one each
    del params["chunk_number"]
    assert PyTask(**params).run_task(spec).update_spec["result"] == [1, 2]
    params["outputs"] = ["first", "second"]
    action = PyTask(**params).run_task(spec)
    assert (action.update_spec["first"], action.update_spec["second"]) == (1, 2)
