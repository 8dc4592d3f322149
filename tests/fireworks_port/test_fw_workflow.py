"""FireWorks' fireworks/tests/test_workflow.py: a workflow's state from its fireworks'
states, computed in memory as FireWorks computes it (``import fireworks as fw`` becomes
``import launchpad as fw``)."""

import pytest

import launchpad as fw

ALLOW = {"_allow_fizzled_parents": True}


def two(first, second, spec=None):
    one = fw.Firework([], state=first, fw_id=1)
    return [one, fw.Firework([], state=second, fw_id=2, spec=spec or {}, parents=one)]


@pytest.mark.parametrize(
    ("fireworks", "expected"),
    [
        pytest.param(
            [fw.Firework([], state="COMPLETED", fw_id=i) for i in (1, 2)], "COMPLETED", id="completed"
        ),
        pytest.param([fw.Firework([], state="ARCHIVED", fw_id=i) for i in (1, 2)], "ARCHIVED", id="archived"),
        pytest.param(
            [fw.Firework([], state="COMPLETED", fw_id=1), fw.Firework([], state="DEFUSED", fw_id=2)],
            "DEFUSED",
            id="defused",
        ),
        pytest.param(
            [fw.Firework([], state="COMPLETED", fw_id=1), fw.Firework([], state="PAUSED", fw_id=2)],
            "PAUSED",
            id="paused",
        ),
        pytest.param(two("FIZZLED", "WAITING"), "FIZZLED", id="fizzled_1"),
        pytest.param(two("FIZZLED", "READY", ALLOW), "RUNNING", id="fizzled_2"),
        pytest.param(two("FIZZLED", "COMPLETED", ALLOW), "COMPLETED", id="fizzled_3"),
        pytest.param(two("COMPLETED", "FIZZLED"), "FIZZLED", id="fizzled_5"),
        pytest.param(two("COMPLETED", "READY"), "RUNNING", id="running_1"),
        pytest.param(two("RUNNING", "WAITING"), "RUNNING", id="running_2"),
        pytest.param(two("RESERVED", "READY"), "RESERVED", id="reserved"),
        pytest.param(two("READY", "READY"), "READY", id="ready"),
    ],
)
def test_two_firework_states(fireworks, expected):
    assert fw.Workflow(fireworks).state == expected


def test_fizzled_4_one_child_refuses_fizzled_parents():
    one = fw.Firework([], state="FIZZLED", fw_id=1)
    two_ = fw.Firework([], state="READY", fw_id=2, spec=ALLOW, parents=one)
    three = fw.Firework([], state="WAITING", fw_id=3, parents=one)
    assert fw.Workflow([one, two_, three]).state == "FIZZLED"


def test_fizzled_6_deep_fizzles_still_running():
    one = fw.Firework([], state="FIZZLED", fw_id=1)
    two_ = fw.Firework([], state="FIZZLED", fw_id=2, spec=ALLOW, parents=one)
    three = fw.Firework([], state="READY", fw_id=3, spec=ALLOW, parents=two_)
    assert fw.Workflow([one, two_, three]).state == "RUNNING"
