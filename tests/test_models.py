"""Firework, Workflow and Launch as plain data: construction, validation, dict form, equality."""

from datetime import datetime, timezone

import pytest

from launchpad.errors import InvalidWorkflowError, UnknownTaskError
from launchpad.models import Firework, Launch, Workflow
from launchpad.states import State
from launchpad.tasks import PyTask, ScriptTask


def _fw(fw_id=None, **kwargs):
    return Firework(ScriptTask(script=f"echo {fw_id}"), fw_id=fw_id, **kwargs)


def _task_dict(script="true"):
    return {"_fw_name": "ScriptTask", "script": script}


# ---- Firework -----------------------------------------------------------------


def test_firework_defaults():
    fw = Firework(ScriptTask(script="true"))
    assert fw.fw_id < 0  # local ids are negative until a store assigns real ones
    assert fw.name == "Unnamed FW"
    assert fw.state == State.WAITING.value
    assert fw.spec == {} and fw.parents == []
    assert fw.updated_on == fw.created_on and fw.launches == []
    assert Firework(ScriptTask(script="true")).fw_id != fw.fw_id


def test_firework_accepts_one_task_a_list_or_task_dicts():
    one = Firework(ScriptTask(script="a"), fw_id=1)
    many = Firework([ScriptTask(script="a"), PyTask(func="print")], fw_id=1)
    dicts = Firework([_task_dict("a")], fw_id=1)
    assert [t.fw_name for t in many.tasks] == ["ScriptTask", "PyTask"]
    assert dicts.tasks == one.tasks


def test_spec_tasks_live_apart_from_the_spec():
    fw = Firework(ScriptTask(script="a"), spec={"_tasks": ["ignored"], "x": 1}, fw_id=3)
    assert fw.spec == {"x": 1}
    assert fw.full_spec() == {"x": 1, "_tasks": [{"_fw_name": "ScriptTask", "script": "a"}]}


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"fw_id": "abc"}, "firework id 'abc' is not an integer"),
        ({"fw_id": 1.5}, "firework id 1.5 is not an integer"),
        ({"fw_id": True}, "firework id True is not an integer"),
        ({"state": "EXPLODED"}, "unknown state 'EXPLODED'"),
    ],
)
def test_firework_refuses_bad_fields(kwargs, words):
    with pytest.raises(InvalidWorkflowError, match=words):
        Firework(ScriptTask(script="true"), **kwargs)


def test_firework_ids_written_as_text_are_ints():
    assert Firework(ScriptTask(script="true"), fw_id="7").fw_id == 7
    assert Firework.from_dict({"fw_id": " 8", "spec": {}}).fw_id == 8
    assert Firework.from_dict({"fw_id": 9.0, "spec": {}}).fw_id == 9


def test_non_tasks_are_refused():
    with pytest.raises(InvalidWorkflowError, match="not a Firetask"):
        Firework(["echo hi"])


def test_firework_dict_round_trip():
    fw = Firework(
        [ScriptTask(script="a"), PyTask(func="print", args=[1])],
        spec={"param": 3, "nested": {"k": [1, 2]}},
        name="step",
        fw_id=4,
        state="READY",
        created_on="2020-01-01T00:00:00.000000",
    )
    again = Firework.from_dict(fw.to_dict())
    assert again == fw
    assert again.to_dict() == fw.to_dict()
    assert again.created_on == datetime(2020, 1, 1, tzinfo=timezone.utc)  # a datetime, as in FireWorks
    assert again.to_dict()["created_on"] == "2020-01-01T00:00:00.000000"


def test_firework_equality_is_by_id_name_spec_state_and_tasks():
    base = dict(spec={"a": 1}, name="n", fw_id=1)
    fw = Firework(ScriptTask(script="a"), **base)
    assert fw == Firework(ScriptTask(script="a"), **base, created_on="1999-01-01")
    assert fw != Firework(ScriptTask(script="b"), **base)
    assert fw != Firework(ScriptTask(script="a"), **{**base, "fw_id": 2})
    assert fw != Firework(ScriptTask(script="a"), **{**base, "spec": {"a": 2}})
    assert fw != Firework(ScriptTask(script="a"), **base, state="READY")
    assert fw != Firework(PyTask(func="a", script="a"), **base)
    assert fw != "not a firework"
    assert len({fw, Firework(ScriptTask(script="a"), **base)}) == 2  # hashed by identity


@pytest.mark.parametrize(
    "data, words",
    [
        ([], "a firework must be a mapping, got list"),
        ({"fw_id": 1}, "firework 1 has no spec mapping"),
        ({"fw_id": 1, "spec": ["x"]}, "firework 1 has no spec mapping"),
        ({"fw_id": 1, "spec": {"_tasks": {"a": 1}}}, "spec._tasks must be a list"),
        ({"fw_id": "one", "spec": {}}, "firework id 'one' is not an integer"),
    ],
)
def test_firework_from_dict_refuses_bad_shapes(data, words):
    with pytest.raises(InvalidWorkflowError, match=words):
        Firework.from_dict(data)


@pytest.mark.parametrize(
    "task, error",
    [
        ({"_fw_name": "No Such Task"}, "unknown task 'No Such Task'"),
        ({"script": "true"}, "must be a mapping with a _fw_name key"),
        ("ScriptTask", "must be a mapping with a _fw_name key"),
        ({"_fw_name": "ScriptTask"}, "missing required parameter\\(s\\): script"),
    ],
)
def test_bad_tasks_are_refused_when_loading(task, error):
    with pytest.raises(UnknownTaskError, match=error):
        Firework.from_dict({"spec": {"_tasks": [task]}})


# ---- Workflow: links --------------------------------------------------------


def test_links_accept_int_and_str_keys_and_single_children():
    fws = [_fw(1), _fw(2), _fw(3)]
    by_int = Workflow(fws, {1: [2, 3], 2: [3]})
    by_str = Workflow([_fw(1), _fw(2), _fw(3)], {"1": ["2", 3], "2": 3})
    assert by_int.links == by_str.links == {1: [2, 3], 2: [3], 3: []}
    assert by_int == by_str


def test_empty_or_null_children_mean_none():
    wf = Workflow([_fw(1), _fw(2)], {"1": [2], "2": [], 1: None})
    assert wf.links == {1: [2], 2: []}


def test_parents_argument_links_like_fireworks():
    first = _fw(1)
    second = _fw(2, parents=first)
    third = _fw(3, parents=[first, 2])
    wf = Workflow([first, second, third])
    assert wf.links == {1: [2, 3], 2: [3], 3: []}
    assert wf.parent_links() == {1: [], 2: [1], 3: [1, 2]}


def test_parents_and_links_together_do_not_duplicate():
    a = _fw(1)
    b = _fw(2, parents=[a])
    assert Workflow([a, b], {1: [2]}).links[1] == [2]


def test_roots_and_leaves():
    wf = Workflow([_fw(i) for i in (1, 2, 3, 4)], {1: [2, 3], 2: [4], 3: [4]})
    assert wf.root_fw_ids == [1]
    assert wf.leaf_fw_ids == [4]
    assert wf.fw_states == {i: "WAITING" for i in (1, 2, 3, 4)}


@pytest.mark.parametrize(
    "fws, links, words",
    [
        (lambda: [_fw(1), _fw(1)], None, "duplicate firework id 1"),
        (lambda: [_fw(1)], {1: [5]}, "link 1 -> 5 names firework 5, which is not in the workflow"),
        (lambda: [_fw(1)], {9: [1]}, "link 9 -> 1 names firework 9"),
        (lambda: [_fw(1), _fw(2, parents=[7])], None, "link 7 -> 2 names firework 7"),
        (lambda: [_fw(1)], {1: [1]}, "firework 1 is linked to itself"),
        (lambda: [_fw(1), _fw(2)], {1: [2], "2": [1]}, "cycle: 1 -> 2 -> 1"),
        (lambda: [_fw(i) for i in range(1, 5)], {1: [2], 2: [3], 3: [4], 4: [2]}, "cycle: 2 -> 3 -> 4 -> 2"),
        (lambda: [_fw(1)], {"one": [1]}, "link id 'one' is not an integer"),
        (lambda: [_fw(1)], {1: [True]}, "link id True is not an integer"),
        (lambda: [_fw(1)], [[1, 2]], "'links' must map a parent id"),
        (lambda: [], None, "at least one firework"),
        (lambda: [_fw(1), {"fw_id": 2}], None, "a workflow holds Fireworks"),
    ],
)
def test_bad_structures_are_one_line_errors_naming_ids(fws, links, words):
    with pytest.raises(InvalidWorkflowError, match=words) as info:
        Workflow(fws(), links)
    assert "\n" not in str(info.value)


def test_workflow_names():
    assert Workflow(_fw(1, name="solo")).name == "solo"
    assert Workflow([_fw(1), _fw(2)]).name == "unnamed WF"
    assert Workflow([_fw(1)], name=2024).name == "2024"


# ---- Workflow: dict form --------------------------------------------------------


def _diamond():
    return Workflow(
        [_fw(i, spec={"i": i}, name=f"fw{i}") for i in (1, 2, 3, 4)],
        {1: [2, 3], 2: [4], 3: [4]},
        name="diamond",
        metadata={"project": "x"},
    )


def test_workflow_dict_round_trip():
    wf = _diamond()
    data = wf.to_dict()
    assert data["links"] == {"1": [2, 3], "2": [4], "3": [4], "4": []}
    again = Workflow.from_dict(data)
    assert again == wf
    assert again.to_dict() == data


def test_a_single_firework_mapping_is_a_one_node_workflow():
    wf = Workflow.from_dict({"name": "solo", "spec": {"_tasks": [_task_dict()], "x": 1}})
    assert len(wf.fws) == 1 and wf.name == "solo"
    assert wf.links == {wf.fws[0].fw_id: []}
    assert wf.fws[0].spec == {"x": 1}
    assert Workflow.from_dict(wf.to_dict()) == wf


def test_from_firework_wraps_one_firework():
    fw = _fw(5, name="x")
    wf = Workflow.from_firework(fw, metadata={"m": 1})
    assert wf.fws == [fw] and wf.name == "x" and wf.metadata == {"m": 1}


@pytest.mark.parametrize(
    "data, words",
    [
        ("text", "a workflow must be a mapping, got str"),
        ({"fws": {"1": {}}}, "'fws' must be a list"),
        ({"fws": [{"fw_id": 1, "spec": {}}], "links": [1]}, "'links' must map"),
        ({"fws": [{"fw_id": 1, "spec": {}}], "metadata": "x"}, "'metadata' must be a mapping"),
        ({"ECHO_TEST": "hello"}, "neither a workflow .* nor a firework .*found keys: ECHO_TEST"),
    ],
)
def test_workflow_from_dict_refuses_bad_shapes(data, words):
    with pytest.raises(InvalidWorkflowError, match=words):
        Workflow.from_dict(data)


def test_workflow_equality_ignores_link_order_but_not_content():
    a = Workflow([_fw(1), _fw(2), _fw(3)], {1: [2, 3]})
    b = Workflow([_fw(1), _fw(2), _fw(3)], {1: [3, 2]})
    assert a == b
    assert a != Workflow([_fw(1), _fw(2), _fw(3)], {1: [2]})
    assert a != Workflow([_fw(1), _fw(2), _fw(3)], {1: [2, 3]}, name="other")
    assert a != Workflow([_fw(1), _fw(2), _fw(3)], {1: [2, 3]}, metadata={"k": 1})
    assert a != a.fws[0]


# ---- Launch --------------------------------------------------------------------


def test_launch_keeps_known_fields_and_drops_empty_ones():
    launch = Launch(launch_id=1, fw_id=2, state="RUNNING", host="node1")
    assert launch.to_dict() == {"launch_id": 1, "fw_id": 2, "state": "RUNNING", "host": "node1"}
    assert Launch.from_dict({**launch.to_dict(), "extra": 1}).to_dict() == launch.to_dict()
    with pytest.raises(TypeError, match="unknown launch fields"):
        Launch(launch_id=1, colour="red")
