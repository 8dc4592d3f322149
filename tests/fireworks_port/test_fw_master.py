"""FireWorks' fireworks/tests/master_tests.py: links from ids, objects and ``parents``;
a queue adapter and an FWAction through the serializers; ISO date texts.

These are in-memory scenarios (FireWorks' need no database either); the links
are also checked after ``add_wf`` on both stores.
"""

import datetime

import pytest

from launchpad import Firework, FWAction, ScriptTask, Workflow, load_object, reconstitute_dates
from queue_adapters import CommonAdapter


def echo():
    return ScriptTask.from_str('echo "1"')


def test_fwconnector():
    fw1, fw2 = Firework(echo()), Firework(echo())
    assert Workflow([fw1, fw2], {fw1.fw_id: fw2.fw_id}).links == {fw1.fw_id: [fw2.fw_id], fw2.fw_id: []}
    assert Workflow([fw1, fw2], {fw1: fw2}).links == {fw1.fw_id: [fw2.fw_id], fw2.fw_id: []}
    assert Workflow([fw1, fw2]).links == {fw1.fw_id: [], fw2.fw_id: []}


def test_parent_connector(lp):
    fw1 = Firework(echo())
    fw2 = Firework(echo(), parents=fw1)
    fw3 = Firework(echo(), parents=[fw1, fw2])
    wf = Workflow([fw1, fw2, fw3])
    assert wf.links == {fw1.fw_id: [fw2.fw_id, fw3.fw_id], fw2.fw_id: [fw3.fw_id], fw3.fw_id: []}
    # FireWorks' ValueError, with starshell's one-line message naming the missing firework
    with pytest.raises(ValueError, match=f"firework {fw2.fw_id}, which is not in the workflow"):
        Workflow([fw1, fw3])
    lp.add_wf(wf)  # renumbered in place; the stored links are the same
    assert lp.get_wf_by_fw_id(fw1.fw_id).links == {
        fw1.fw_id: [fw2.fw_id, fw3.fw_id],
        fw2.fw_id: [fw3.fw_id],
        fw3.fw_id: [],
    }


def _through_its_module(obj_dict):
    """FireWorks' test loads the class from its module by name, then from_dict."""
    module = __import__("queue_adapters.common_adapter", globals(), locals(), ["CommonAdapter"], 0)
    return module.CommonAdapter.from_dict(obj_dict)


def test_serialization_details():
    pbs = CommonAdapter("PBS")
    assert isinstance(pbs, CommonAdapter)
    for _ in range(2):  # twice on purpose, as FireWorks: the second load must not differ
        assert isinstance(_through_its_module(pbs.to_dict()), CommonAdapter)
        assert isinstance(load_object(pbs.to_dict()), CommonAdapter)


def test_recursive_deserialize():
    action = FWAction.from_dict(
        {
            "update_spec": {},
            "mod_spec": [],
            "stored_data": {},
            "exit": False,
            "detours": [],
            "additions": [
                {
                    "updated_on": "2014-10-14T00:56:27.758673",
                    "fw_id": -2,
                    "spec": {
                        "_tasks": [{"use_shell": True, "_fw_name": "ScriptTask", "script": ['echo "1"']}]
                    },
                    "created_on": "2014-10-14T00:56:27.758669",
                    "name": "Unnamed FW",
                }
            ],
            "defuse_children": False,
        }
    )
    (added,) = action.additions  # a Workflow, as FireWorks makes of each addition
    assert isinstance(added, Workflow)
    assert added.fws[0].tasks[0]["script"] == ['echo "1"']
    assert added.fws[0].name == "Unnamed FW"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2000-02-01", "2000-02-01"),
        ("2024-01-15", "2024-01-15"),
        ("1970-01-01", "1970-01-01"),
        ("not-a-date", "not-a-date"),
        ("2014-10-14T00:56:27.758673", datetime.datetime(2014, 10, 14, 0, 56, 27, 758673)),
        ("2024-03-15T08:30:00", datetime.datetime(2024, 3, 15, 8, 30)),
    ],
)
def test_reconstitute_dates_keeps_date_only_texts(text, expected):
    assert reconstitute_dates(text) == expected
