"""FireWorks-format files: YAML and JSON in and out, and errors that name file and line.

Every workflow file of FireWorks' tutorials is loaded and round-tripped in
tests/test_corpus.py; this file covers the format's corners.
"""

import datetime
import json
import os

import pytest

from launchpad.errors import ConfigError, WorkflowFileError
from launchpad.files import dumps, parse_text, read_yaml_file
from launchpad.models import Firework, Workflow
from launchpad.tasks import PyTask, ScriptTask
from launchpad.workflow_files import dump_workflow, load_workflow, loads_workflow
from tests.user_commands import new_user

DIAMOND_YAML = """\
name: diamond
fws:
- fw_id: 1
  name: top
  spec:
    _tasks:
    - _fw_name: ScriptTask
      script: echo top
    _priority: 3
- fw_id: 2
  spec:
    _tasks:
    - {_fw_name: ScriptTask, script: echo left}
- fw_id: 3
  spec:
    _tasks:
    - {_fw_name: PyTask, func: math.sqrt, args: [4]}
- fw_id: 4
  spec:
    _tasks: []
    when: 2013-03-22T06:43:43.879368
links:
  1: [2, 3]
  '2': [4]
  3:
  - 4
metadata:
  project: demo
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_dump_then_load_gives_an_equal_workflow(tmp_path, fmt):
    wf = load_workflow(_write(tmp_path, "wf.yaml", DIAMOND_YAML))
    path = str(tmp_path / f"out.{fmt}")
    text = dump_workflow(wf, path)
    assert open(path, encoding="utf-8").read() == text
    again = load_workflow(path)
    when = wf.id_fw[4].spec["when"]  # an unquoted date: a datetime, written as ISO text
    assert again.id_fw[4].spec["when"] == when.isoformat()  # text in a spec stays text
    wf.id_fw[4].spec["when"] = when.isoformat()
    assert again == wf
    assert again.links == {1: [2, 3], 2: [4], 3: [4], 4: []}
    assert again.metadata == {"project": "demo"} and again.name == "diamond"
    assert dump_workflow(again, fmt=fmt) == text  # stable: a second trip changes nothing


def test_json_output_is_json_and_yaml_output_is_not(tmp_path):
    wf = loads_workflow(DIAMOND_YAML)
    assert json.loads(dump_workflow(wf, fmt="json"))["name"] == "diamond"
    assert json.loads(dump_workflow(wf, str(tmp_path / "x.JSON")))["name"] == "diamond"
    with pytest.raises(json.JSONDecodeError):
        json.loads(dump_workflow(wf))
    assert parse_text(dump_workflow(wf))["name"] == "diamond"


def test_unquoted_dates_read_as_fireworks_loader_reads_them():
    """FireWorks reads YAML with ruamel's safe loader: unquoted dates are date objects."""
    wf = loads_workflow(DIAMOND_YAML)
    assert wf.id_fw[4].spec["when"] == datetime.datetime(2013, 3, 22, 6, 43, 43, 879368)
    again = loads_workflow(dump_workflow(wf))  # written as text, which stays text
    assert again.id_fw[4].spec["when"] == "2013-03-22T06:43:43.879368"
    assert parse_text("d: 2020-01-02\nt: 2024-01-02 03:04:05\nq: '2020-01-02'") == {
        "d": datetime.date(2020, 1, 2),
        "t": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "q": "2020-01-02",
    }


def test_lpad_add_stores_unquoted_dates_as_iso_text(tmp_path):
    user = new_user(tmp_path)
    path = _write(
        tmp_path,
        "dated.yaml",
        "name: dated\nspec:\n  _tasks:\n"
        "  - _fw_name: ScriptTask\n    script: echo hi\n  when: 2024-01-02 03:04:05\n  day: 2024-01-02\n",
    )
    added = user.run("lpad", "add", path, timeout=60)
    assert added.returncode == 0, added.stderr
    shown = json.loads(user.run("lpad", "get_fws", "-i", "1", "-d", "all", timeout=60).stdout)
    assert (shown["spec"]["when"], shown["spec"]["day"]) == ("2024-01-02T03:04:05", "2024-01-02")


def test_a_single_firework_file_is_a_one_node_workflow(tmp_path):
    path = _write(
        tmp_path,
        "fw.yaml",
        "name: solo\nspec:\n  _tasks:\n  - _fw_name: ScriptTask\n    script: echo hi\n  param: 1\n",
    )
    wf = load_workflow(path)
    assert len(wf.fws) == 1 and wf.name == "solo" and wf.fws[0].spec == {"param": 1}
    assert load_workflow(_write(tmp_path, "again.yaml", dump_workflow(wf))) == wf


def test_python_built_workflows_dump_and_load(tmp_path):
    a = Firework(ScriptTask(script="echo a"), fw_id=10, spec={"t": (1, 2)})
    b = Firework(PyTask(func="print", args=["b"]), fw_id=20, parents=a, name="b")
    wf = Workflow([a, b], name="py", metadata={"tags": ("x",)})
    for fmt in ("yaml", "json"):
        again = load_workflow(_write(tmp_path, f"py.{fmt}", dump_workflow(wf, fmt=fmt)))
        assert again.links == {10: [20], 20: []}
        assert again.id_fw[10].spec == {"t": [1, 2]}  # tuples come back as lists
        assert again.metadata == {"tags": ["x"]}


def test_dumps_handles_str_subclasses_and_non_string_keys():
    from launchpad.states import State

    text = dumps({"state": State.READY, 3: "int key", (1, 2): "tuple key"})
    assert parse_text(text) == {"state": "READY", 3: "int key", "(1, 2)": "tuple key"}


# ---- errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, text, line, words",
    [
        ("bad.yaml", "fws:\n- fw_id: 1\n  spec: {_tasks: [}\n", 3, "invalid YAML"),
        ("tab.yaml", "spec:\n\t_tasks: []\n", 2, "invalid YAML"),
        ("dup.yaml", "spec: {}\nname: a\nname: b\n", 3, "invalid YAML: found duplicate key"),
        ("bad.json", '{"fws": [\n  {"fw_id": 1,\n   "spec": {}\n}\n', 5, "invalid JSON"),
        ("trailing.json", '{"spec": {},}\n', 1, "invalid JSON"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, name, text, line, words):
    path = _write(tmp_path, name, text)
    with pytest.raises(WorkflowFileError) as info:
        load_workflow(path)
    assert info.value.path == path and info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: {words}")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "name, text",
    [
        ("empty.yaml", ""),
        ("blank.yaml", "\n  \n"),
        ("comment.yaml", "# nothing here\n"),
        ("empty.json", ""),
        ("blank.json", " \n"),
    ],
)
def test_empty_files_say_so(tmp_path, name, text):
    path = _write(tmp_path, name, text)
    with pytest.raises(WorkflowFileError, match="the file is empty") as info:
        load_workflow(path)
    assert info.value.path == path


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(WorkflowFileError, match="no such file"):
        load_workflow(str(tmp_path / "nope.yaml"))
    with pytest.raises(WorkflowFileError, match="cannot read"):
        load_workflow(str(tmp_path))
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(WorkflowFileError, match="cannot read"):
        load_workflow(str(binary))


@pytest.mark.parametrize(
    "text, words",
    [
        (
            "fws:\n- fw_id: 1\n  spec:\n    _tasks:\n    - _fw_name: Not A Real Task\n",
            "unknown task 'Not A Real Task'.*STARSHELL_USER_PACKAGES",
        ),
        ("fws: {1: {spec: {}}}\n", "'fws' must be a list"),
        ("fws:\n- fw_id: 1\n  spec: [a, b]\n", "firework 1 has no spec mapping"),
        ("fws:\n- fw_id: one\n  spec: {}\n", "firework id 'one' is not an integer"),
        ("fws:\n- fw_id: 1.5\n  spec: {}\n", "firework id 1.5 is not an integer"),
        ("fws:\n- fw_id: 1\n  spec: {}\nlinks:\n  1: [2]\n", "names firework 2, which is not in"),
        ("fws:\n- {fw_id: 1, spec: {}}\n- {fw_id: 1, spec: {}}\n", "duplicate firework id 1"),
        (
            "fws:\n- {fw_id: 1, spec: {}}\n- {fw_id: 2, spec: {}}\nlinks: {1: [2], 2: [1]}\n",
            "cycle: 1 -> 2 -> 1",
        ),
        ("- just\n- a list\n", "a workflow must be a mapping, got list"),
        ("host: localhost\nport: 27017\n", "neither a workflow .* nor a firework"),
    ],
)
def test_wrong_content_names_the_file(tmp_path, text, words):
    path = _write(tmp_path, "wf.yaml", text)
    with pytest.raises(WorkflowFileError, match=words) as info:
        load_workflow(path)
    assert str(info.value).startswith(f"{path}: ")
    assert "\n" not in str(info.value)


def test_format_can_be_forced(tmp_path):
    path = _write(tmp_path, "workflow.txt", '{"spec": {"_tasks": []}}')
    assert len(load_workflow(path, fmt="json").fws) == 1
    assert len(load_workflow(path, fmt="YAML").fws) == 1  # JSON is YAML too


def test_text_loading_reports_text():
    with pytest.raises(WorkflowFileError, match="^<text>:1: invalid JSON"):
        loads_workflow("{", fmt="json")
    with pytest.raises(WorkflowFileError, match="^<text>: the file is empty"):
        loads_workflow("")


def test_configuration_files_report_config_errors(tmp_path):
    path = _write(tmp_path, "my_launchpad.yaml", "host: [unclosed\n")
    with pytest.raises(ConfigError, match=f"^{path}:2: invalid YAML"):
        read_yaml_file(path)
    with pytest.raises(ConfigError, match="cannot read"):
        read_yaml_file(str(tmp_path / "absent.yaml"))
    assert read_yaml_file(_write(tmp_path, "empty.yaml", "")) is None
    assert os.path.exists(path)


def test_a_loaded_file_adds_on_every_store(lp, tmp_path):
    """Unquoted dates are stored in the store's text form, the same on every store."""
    id_map = lp.add_wf(load_workflow(_write(tmp_path, "wf.yaml", DIAMOND_YAML + "  day: 2020-01-02\n")))
    assert sorted(id_map) == [1, 2, 3, 4]
    assert lp.get_fw_dict(id_map[4])["spec"]["when"] == "2013-03-22T06:43:43.879368"
    assert lp.get_wf_by_fw_id(id_map[4]).metadata == {"project": "demo", "day": "2020-01-02"}
    assert lp.get_wf_by_fw_id(id_map[1]).name == "diamond"
