"""FWAction's dict form and merging, and DictMod (mod_spec) editing of specs."""

import pytest

from launchpad.actions import MOD_OPERATORS, FWAction, apply_action_to_spec, apply_mod
from launchpad.errors import TaskError
from launchpad.models import Firework, Workflow
from launchpad.tasks import ScriptTask


def _fw(fw_id, **spec):
    return Firework(ScriptTask(script="true"), spec=spec, fw_id=fw_id)


# ---- FWAction -----------------------------------------------------------------


def test_defaults_are_empty_and_change_nothing():
    action = FWAction()
    assert action.to_dict() == {
        "stored_data": {},
        "exit": False,
        "update_spec": {},
        "mod_spec": [],
        "additions": [],
        "detours": [],
        "defuse_children": False,
        "defuse_workflow": False,
        "propagate": False,
    }
    assert not action.changes_workflow
    assert not action.skip_remaining_tasks


def test_round_trip_through_dict_keeps_every_field():
    addition = Workflow([_fw(1, n=1), _fw(2, n=2)], {1: [2]}, name="more")
    action = FWAction(
        stored_data={"energy": -1.5},
        exit=True,
        update_spec={"a": 1},
        mod_spec={"_push": {"xs": 3}},
        additions=addition,
        detours=[_fw(5)],
        defuse_children=True,
        defuse_workflow=True,
        propagate=True,
    )
    again = FWAction.from_dict(action.to_dict())
    assert again == action
    assert again.to_dict() == action.to_dict()
    assert again.additions[0] == addition
    assert again.mod_spec == [{"_push": {"xs": 3}}]
    assert len(again.detours) == 1 and again.detours[0].fws[0].fw_id == 5


def test_a_firework_stays_itself_and_a_dict_becomes_a_workflow():
    """As in FireWorks: the objects given are kept (its tests read ``detours[0].tasks``);
    written out, every one is a workflow."""
    as_dict = {"fws": [{"fw_id": 1, "spec": {"_tasks": [{"_fw_name": "ScriptTask", "script": "true"}]}}]}
    action = FWAction(additions=[_fw(3), as_dict], detours=_fw(4))
    assert isinstance(action.additions[0], Firework) and action.additions[0].fw_id == 3
    assert isinstance(action.additions[1], Workflow) and action.additions[1].fws[0].fw_id == 1
    assert isinstance(action.detours[0], Firework) and action.detours[0].tasks[0]["script"] == "true"
    written = action.to_dict()
    assert [w["fws"][0]["fw_id"] for w in written["additions"] + written["detours"]] == [3, 1, 4]


@pytest.mark.parametrize(
    "bad, words",
    [
        ("not a mapping", "must be a mapping"),
        ({"stored_data": {}, "bogus": 1}, "unknown FWAction keys: bogus"),
        ({"additions": [{"fws": "oops"}]}, "bad workflow in FWAction"),
        ({"additions": [42]}, "must be workflows or fireworks"),
        ({"mod_spec": ["_push"]}, "mod_spec entries must be mappings"),
    ],
)
def test_from_dict_refuses_bad_input_with_a_task_error(bad, words):
    with pytest.raises(TaskError, match=words):
        FWAction.from_dict(bad)


def test_merged_with_combines_successive_tasks_in_order():
    first = FWAction(
        stored_data={"a": 1, "shared": "first"},
        update_spec={"x": 1, "y": 1},
        mod_spec=[{"_push": {"l": 1}}],
        additions=_fw(1),
    )
    second = FWAction(
        stored_data={"b": 2, "shared": "second"},
        update_spec={"y": 2},
        mod_spec=[{"_push": {"l": 2}}],
        additions=_fw(2),
        detours=_fw(3),
        propagate=True,
    )
    merged = first.merged_with(second)
    assert merged.stored_data == {"a": 1, "b": 2, "shared": "second"}
    assert merged.update_spec == {"x": 1, "y": 2}
    assert merged.mod_spec == [{"_push": {"l": 1}}, {"_push": {"l": 2}}]
    assert [fw.fw_id for fw in merged.additions] == [1, 2]
    assert [fw.fw_id for fw in merged.detours] == [3]
    assert merged.propagate and not merged.exit
    # the inputs are left alone
    assert first.stored_data == {"a": 1, "shared": "first"} and not first.detours


@pytest.mark.parametrize("flag", ["exit", "defuse_children", "defuse_workflow"])
def test_flags_that_stop_the_remaining_tasks_survive_a_merge(flag):
    merged = FWAction().merged_with(FWAction(**{flag: True})).merged_with(FWAction())
    assert getattr(merged, flag) is True
    assert merged.skip_remaining_tasks


def test_changes_workflow_only_for_workflow_edits():
    assert not FWAction(stored_data={"a": 1}, exit=True, propagate=True).changes_workflow
    for kwargs in (
        {"update_spec": {"a": 1}},
        {"mod_spec": [{"_set": {"a": 1}}]},
        {"additions": _fw(1)},
        {"detours": _fw(1)},
        {"defuse_children": True},
        {"defuse_workflow": True},
    ):
        assert FWAction(**kwargs).changes_workflow, kwargs


# ---- DictMod --------------------------------------------------------------------

BASE = {"a": 1, "nested": {"x": 1, "deep": {"y": 2}}, "l": [1, 2, 3, 2], "s": "text"}


@pytest.mark.parametrize(
    "mod, expected_changes",
    [
        ({"_set": {"a": 5}}, {"a": 5}),
        ({"_set": {"nested.x": 9}}, {"nested": {"x": 9, "deep": {"y": 2}}}),
        ({"_set": {"nested->deep->y": 7}}, {"nested": {"x": 1, "deep": {"y": 7}}}),
        ({"_set": {"new.path.here": 1}}, {"new": {"path": {"here": 1}}}),
        ({"_unset": {"a": 1}}, {"a": None}),
        ({"_unset": {"nested.deep": 1}}, {"nested": {"x": 1}}),
        ({"_unset": {"missing.path": 1}}, {}),
        ({"_push": {"l": 4}}, {"l": [1, 2, 3, 2, 4]}),
        ({"_push": {"fresh": 4}}, {"fresh": [4]}),
        ({"_push": {"nested->items": {"k": 1}}}, {"nested": {"x": 1, "deep": {"y": 2}, "items": [{"k": 1}]}}),
        ({"_push_all": {"l": [4, 5]}}, {"l": [1, 2, 3, 2, 4, 5]}),
        ({"_push_all": {"nested.more": [1]}}, {"nested": {"x": 1, "deep": {"y": 2}, "more": [1]}}),
        ({"_inc": {"a": 2}}, {"a": 3}),
        ({"_inc": {"nested.deep.y": -0.5}}, {"nested": {"x": 1, "deep": {"y": 1.5}}}),
        ({"_inc": {"counter": 1}}, {"counter": 1}),
        ({"_add_to_set": {"l": 3}}, {}),
        ({"_add_to_set": {"l": 9}}, {"l": [1, 2, 3, 2, 9]}),
        ({"_add_to_set": {"tags": "x"}}, {"tags": ["x"]}),
        ({"_pull": {"l": 2}}, {"l": [1, 3]}),
        ({"_pull": {"absent": 2}}, {}),
        ({"_pull_all": {"l": [1, 2]}}, {"l": [3]}),
        ({"_pop": {"l": 1}}, {"l": [1, 2, 3]}),
        ({"_pop": {"l": -1}}, {"l": [2, 3, 2]}),
        ({"_pop": {"absent": 1}}, {}),
        ({"_rename": {"a": "b"}}, {"a": None, "b": 1}),
        ({"_rename": {"nested.x": "nested.z"}}, {"nested": {"z": 1, "deep": {"y": 2}}}),
        ({"_rename": {"nested->deep": "top"}}, {"nested": {"x": 1}, "top": {"y": 2}}),
        ({"_rename": {"absent": "b"}}, {}),
    ],
)
def test_each_operator_with_dotted_and_arrow_paths(mod, expected_changes):
    expected = {**BASE, **expected_changes}
    expected = {k: v for k, v in expected.items() if v is not None}
    assert apply_mod(BASE, mod) == expected


def test_every_operator_is_covered_above():
    covered = {
        "_set",
        "_unset",
        "_push",
        "_push_all",
        "_inc",
        "_add_to_set",
        "_pull",
        "_pull_all",
        "_pop",
        "_rename",
    }
    assert set(MOD_OPERATORS) == covered


def test_apply_mod_copies_and_never_edits_its_input():
    before = {"l": [1], "nested": {"x": 1}}
    after = apply_mod(before, {"_push": {"l": 2}, "_set": {"nested.x": 2}})
    assert before == {"l": [1], "nested": {"x": 1}}
    assert after == {"l": [1, 2], "nested": {"x": 2}}


def test_several_operators_in_one_mod_apply_in_order():
    assert apply_mod({}, {"_set": {"n": 1}, "_inc": {"n": 10}, "_push": {"log": "done"}}) == {
        "n": 11,
        "log": ["done"],
    }


@pytest.mark.parametrize(
    "mod, words",
    [
        ({"$set": {"a": 1}}, "unknown mod_spec operator '\\$set'"),
        ({"_set": ["a", 1]}, "needs a mapping of key paths"),
        ({"_set": {"": 1}}, "key paths must be non-empty strings"),
        ({"_set": {"a.b": 1}}, "'a' holds int 1, not a mapping"),
        ({"_push": {"a": 1}}, "_push 'a': the value there is int 1, not a list"),
        ({"_push": {"s": "x"}}, "not a list"),
        ({"_push_all": {"l": "xy"}}, "needs a list of values"),
        ({"_inc": {"s": 1}}, "'text' is not a number"),
        ({"_inc": {"a": "1"}}, "'1' is not a number"),
        ({"_add_to_set": {"s": "t"}}, "not a list"),
        ({"_pull": {"a": 1}}, "not a list"),
        ({"_pull_all": {"l": 2}}, "needs a list of values"),
        ({"_pop": {"l": 0}}, "takes 1 \\(last item\\) or -1"),
        ({"_pop": {"s": 1}}, "not a list"),
    ],
)
def test_bad_mods_raise_task_errors_naming_the_path(mod, words):
    with pytest.raises(TaskError, match=words):
        apply_mod(BASE, mod)


def test_apply_action_to_spec_merges_update_spec_then_each_mod():
    action = FWAction(
        update_spec={"input_array": [10], "keep": "new"},
        mod_spec=[{"_push": {"input_array": 2}}, {"_inc": {"count": 1}}],
    )
    spec = {"input_array": [1], "keep": "old", "_tasks": [], "count": 1}
    assert apply_action_to_spec(spec, action) == {
        "input_array": [10, 2],
        "keep": "new",
        "_tasks": [],
        "count": 2,
    }
    assert spec["input_array"] == [1]  # the child's stored spec is not edited in place


def test_update_spec_values_are_copied_per_child():
    action = FWAction(update_spec={"shared": [1]})
    first = apply_action_to_spec({}, action)
    first["shared"].append(2)
    assert apply_action_to_spec({}, action) == {"shared": [1]}


@pytest.mark.parametrize("field, value", [("update_spec", 5), ("stored_data", 5), ("stored_data", [1])])
def test_fwaction_mappings_of_the_wrong_type_are_task_errors(field, value):
    from launchpad.errors import TaskError

    with pytest.raises(TaskError, match=field):
        FWAction(**{field: value})
