"""FireWorks' fireworks/tests/test_deserialization.py: a firework whose task the worker
cannot load fizzles, with the reason kept, and the rocket goes on to the next one.

FireWorks builds such a firework from an object whose ``to_dict`` names no class;
starshell refuses that when the Firework is built or added (a deliberate
difference, docs/fireworks.md), so here the task's module exists when the
workflow is added and is gone when the rocket runs, as when a worker lacks a
package the submitting machine has.
"""

import sys

import pytest

from launchpad import Firework, Workflow, firetask
from launchpad.errors import InvalidWorkflowError
from rocket import launch_rocket

TASK_MODULE = "fw_port_vanishing_tasks"


class FakeBadTask:
    """FireWorks' stub: serializes to a class name that does not exist."""

    def to_dict(self):
        return {"_fw_name": "totally.invalid.module::Nope"}


def test_an_unloadable_task_is_refused_when_built():
    with pytest.raises(InvalidWorkflowError, match="not a Firetask"):
        Firework(tasks=[FakeBadTask()], name="bad-deser-fw")


@pytest.fixture
def vanishing_task(tmp_path, monkeypatch):
    """A task class importable now; ``vanish()`` takes its module away, as on a worker
    without the package."""
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / f"{TASK_MODULE}.py").write_text(
        "from launchpad import FiretaskBase, explicit_serialize\n\n\n"
        "@explicit_serialize\nclass GoneTask(FiretaskBase):\n"
        "    def run_task(self, fw_spec):\n        return None\n"
    )
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(firetask, "_REGISTRY", dict(firetask._REGISTRY))
    module = __import__(TASK_MODULE)
    monkeypatch.chdir(tmp_path)

    def vanish():
        monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(folder)])
        monkeypatch.delitem(sys.modules, TASK_MODULE)
        kept = {k: v for k, v in firetask._REGISTRY.items() if getattr(v, "__module__", "") != TASK_MODULE}
        monkeypatch.setattr(firetask, "_REGISTRY", kept)

    return module.GoneTask, vanish


def test_fizzle_on_deserialization_failure(lp, vanishing_task):
    task_class, vanish = vanishing_task
    lp.add_wf(Workflow.from_firework(Firework(tasks=[task_class()], name="bad-deser-fw")))
    vanish()
    ran = launch_rocket(lp)  # does not raise
    # it ran, in a launch that fizzled (FireWorks: False, as if nothing had run)
    assert ran == 1
    fw_dict = lp.get_fw_dict_by_id(1)  # a dict: the task cannot become an object here
    assert fw_dict["state"] == "FIZZLED"
    # the reason, for debugging: on the launch (FireWorks: _exception_details in the spec)
    assert TASK_MODULE in str(fw_dict["launches"][-1]["action"]["stored_data"]["_exception"])
    assert not launch_rocket(lp)


def test_queue_skips_bad_and_runs_next(lp, vanishing_task):
    task_class, vanish = vanishing_task
    lp.add_wf(
        Workflow.from_firework(Firework(tasks=[task_class()], name="bad-first", spec={"_priority": 100}))
    )
    lp.add_wf(Workflow.from_firework(Firework(tasks=[], name="good-second", spec={"_priority": 1})))
    vanish()
    launch_rocket(lp)
    launch_rocket(lp)
    assert lp.get_fw_dict_by_id(1)["state"] == "FIZZLED"
    # FireWorks' test finds the good one RESERVED; here its rocket runs it to the end
    assert lp.get_fw_dict_by_id(2)["state"] == "COMPLETED"


def test_workflow_state_updated_on_deserialization_failure(lp, vanishing_task):
    task_class, vanish = vanishing_task
    lp.add_wf(Workflow.from_firework(Firework(tasks=[task_class()], name="bad-deser-fw")))
    vanish()
    launch_rocket(lp)
    # FireWorks reads the raw workflow document's state and fw_states; ours are computed
    summary = lp.get_wf_summary_dict(1, "all")
    assert summary["state"] == "FIZZLED"
    assert summary["states"] == {"bad-deser-fw--1": "FIZZLED"}
