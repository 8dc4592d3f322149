"""Port of FireWorks 2.1.x fireworks/user_objects/firetasks/tests/test_dataflow_tasks.py.

Covered already, not repeated here:
- CommandLineTask from a string to stdin, stdout to data, with and without
  chunk_number: tests/test_dataflow_tasks.py::test_command_line_stdin_from_spec_stdout_to_children
- ForeachTask over CommandLineTask in two chunks:
  tests/test_dataflow_tasks.py::test_foreach_command_line_chunks
- JoinDictTask (new and existing dict, rename): tests/test_dataflow_tasks.py::
  test_join_dict_new_and_existing_with_rename
- JoinListTask (new and existing list): tests/test_dataflow_tasks.py::test_join_list_new_and_existing
- ImportDataTask from json and yaml at a mapstring: tests/test_dataflow_tasks.py::
  test_import_data_merges_at_the_mapstring

As in FireWorks, a task run directly (``run_task`` outside a rocket) writes
outside the current directory where its author says; only a confined launch
(``_allow_outside_launch_dir: False``, as a confining worker's rocket gives)
refuses.
"""

import os
import platform
import uuid

import pytest

from launchpad.errors import TaskError
from launchpad.tasks.dataflow import CommandLineTask, ForeachTask

HERE = __name__


def powers(array, power):
    return [pow(number, power) for number in array]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STARSHELL_ALLOW_OUTSIDE_LAUNCH_DIR", raising=False)
    return tmp_path


def test_stdout_to_a_file_in_another_directory_then_through_tee(tmp_path):
    elsewhere = tmp_path.parent / f"elsewhere-{uuid.uuid4().hex[:8]}"
    elsewhere.mkdir()
    params = {
        "command_spec": {
            "command": ["echo"],
            "input string": {"source": "input string"},
            "output file": {
                "source": {"type": "stdout"},
                "target": {"type": "path", "value": str(elsewhere)},
            },
        },
        "inputs": ["input string"],
        "outputs": ["output file"],
    }
    spec = {"input string": {"type": "data", "value": "Hello world!"}}
    with pytest.raises(TaskError, match="outside the launch directory"):  # a site's opt-in only
        CommandLineTask(**params).run_task({**spec, "_allow_outside_launch_dir": False})
    assert os.listdir(elsewhere) == []
    action = CommandLineTask(**params).run_task(spec)
    filename = action.update_spec["output file"]["value"]
    assert os.path.dirname(filename) == str(elsewhere)
    with open(filename) as handle:
        assert handle.read().strip() == "Hello world!"

    params = {
        "command_spec": {
            "command": ["tee"],
            "output string": {"source": {"type": "stdout"}, "target": {"type": "data"}},
            "input file": {"target": {"type": "stdin"}, "source": "input file"},
            "output file": {"source": "tee file", "target": {"type": "path", "value": "."}},
        },
        "inputs": ["input file"],
        "outputs": ["output string", "output file"],
    }
    spec = {"input file": {"type": "path", "value": filename}, "tee file": {"type": "data", "value": "teed"}}
    action = CommandLineTask(**params).run_task(spec)
    assert action.update_spec["output string"]["value"] == "Hello world!"
    with open(action.update_spec["output file"]["value"]) as handle:
        assert handle.read().strip() == "Hello world!"


@pytest.mark.skipif(platform.system() != "Linux", reason="GNU date, touch and stat options")
def test_bound_options_carry_a_time_stamp_from_one_command_to_the_next():
    spec = {}
    params = {
        "command_spec": {
            "command": ["date"],
            "date option": {
                "binding": {"prefix": "--iso", "separator": "="},
                "source": {"type": "data", "value": "second"},
            },
            "time stamp": {"source": {"type": "stdout"}, "target": {"type": "data"}},
        },
        "inputs": ["date option"],
        "outputs": ["time stamp"],
    }
    action = CommandLineTask(**params).run_task(spec)
    spec.update(action.update_spec)
    stamp_1 = action.update_spec["time stamp"]["value"]
    filename = str(uuid.uuid4())
    spec["file name"] = {"type": "data", "value": filename}
    params = {
        "command_spec": {
            "command": ["touch"],
            "filename": {"source": "file name"},
            "time stamp": {"binding": {"prefix": "--date", "separator": "="}, "source": "time stamp"},
        },
        "inputs": ["time stamp", "filename"],
        "outputs": [],
    }
    CommandLineTask(**params).run_task(spec)
    assert os.path.exists(filename)
    params = {
        "command_spec": {
            "command": ["stat"],
            "filename": {"source": {"type": "data", "value": filename}},
            "format option": {
                "binding": {"prefix": "-c", "separator": " "},
                "source": {"type": "data", "value": "%y"},
            },
            "date and time": {"source": {"type": "stdout"}, "target": {"type": "data"}},
        },
        "inputs": ["format option", "filename"],
        "outputs": ["date and time"],
    }
    stamp_2 = CommandLineTask(**params).run_task({}).update_spec["date and time"]["value"]
    assert stamp_1[0:10] == stamp_2[0:10]
    assert stamp_1[11:19] == stamp_2[11:19]


def test_several_string_inputs_and_file_outputs():
    params = {
        "command_spec": {
            "command": ["touch"],
            "filename_1": {"source": "f_name_1"},
            "filename_2": {"source": "f_name_2"},
            "file_1": {"source": "f_name_1", "target": {"type": "path", "value": "."}},
            "file_2": {"source": "f_name_2", "target": {"type": "path", "value": "."}},
        },
        "inputs": ["filename_1", "filename_2"],
        "outputs": ["file_1", "file_2"],
    }
    spec = {
        "f_name_1": {"type": "data", "value": str(uuid.uuid4())},
        "f_name_2": {"type": "path", "value": str(uuid.uuid4())},
    }
    action = CommandLineTask(**params).run_task(spec)
    for path in (
        action.update_spec["file_1"]["value"],
        action.update_spec["file_2"]["value"],
        spec["f_name_1"]["value"],
        spec["f_name_2"]["value"],
    ):
        assert os.path.exists(path)


def test_foreach_pytask_over_a_list_of_numbers():
    numbers, power = [0, 1, 2, 3, 4], 2
    task = {
        "_fw_name": "PyTask",
        "func": f"{HERE}.powers",
        "inputs": ["numbers", "power"],
        "outputs": ["results"],
    }
    action = ForeachTask(task=task, split="numbers", **{"number of chunks": 3}).run_task(
        {"numbers": numbers, "power": power}
    )
    results = [
        mod["_push"]["results"]
        for detour in action.detours
        for mod in detour.tasks[0].run_task(detour.spec).mod_spec
    ]
    assert results == [pow(number, power) for number in numbers]
