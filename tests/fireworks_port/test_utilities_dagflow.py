"""Port of FireWorks 2.1.x fireworks/utilities/tests/test_dagflow.py.

FireWorks' ``DAGFlow`` needs python-igraph (an optional extra; its test skips
without it). starshell has no DAGFlow class: the same check is
``launchpad.graph.check_workflow(wf)`` (and ``lpad check_wflow``), which needs
nothing installed and returns the problems in words instead of raising
AssertionError. The scenarios are FireWorks': a cycle, a disconnected graph,
an input with no source or several, a name two tasks output, tasks that are
not dataflow tasks.

Not carried over: ``DAGFlow(**dagf.to_dict())`` and ``to_dot(view=...)``'s
dataflow/combined views (igraph objects); ``wf_to_graph(wf).render("x.dot")``
writes the control-flow picture (test_visualize's port).
"""

import pytest

from launchpad import FiretaskBase, Firework, PyTask, Workflow
from launchpad.errors import InvalidWorkflowError
from launchpad.graph import check_workflow


def test_a_correct_chain_has_no_problems(fws):
    fw1, fw2, fw3 = fws
    assert check_workflow(Workflow([fw1, fw2, fw3], {fw1: [fw2], fw2: [fw3], fw3: []})) == []


def test_a_loop_is_refused(fws):
    fw1, fw2, fw3 = fws
    with pytest.raises(InvalidWorkflowError, match="cycle"):  # when built, not when checked
        check_workflow(Workflow([fw1, fw2, fw3], {fw1: fw2, fw2: fw3, fw3: fw1}))


def test_a_disconnected_graph(fws):
    fw1, fw2, fw3 = fws
    problems = check_workflow(Workflow([fw1, fw2, fw3], {fw1: fw2}))
    assert "2 unconnected pieces" in problems[0]  # FireWorks stops at this first problem


def test_an_input_whose_producer_is_not_a_parent(fws):
    fw1, fw2, fw3 = fws
    problems = check_workflow(Workflow([fw1, fw2, fw3], {fw1: [fw2, fw3]}))
    assert problems == [f"firework {fw3.fw_id} (the third one): input 'second power' has no source"]


def test_a_missing_input(fws):
    fw1 = fws[0]
    fw2 = Firework(
        PyTask(func="math.pow", inputs=["first power", "exponent"], outputs=["second power"]),
        name="pow(pow(2, 3), 4)",
    )
    problems = check_workflow(Workflow([fw1, fw2], {fw1: [fw2], fw2: []}))
    assert problems == [f"firework {fw2.fw_id} (pow(pow(2, 3), 4)): input 'exponent' has no source"]


def test_a_parent_output_clashing_with_the_spec(fws):
    fw1 = fws[0]
    fw2 = Firework(
        PyTask(func="math.pow", inputs=["first power", "exponent"], outputs=["second power"]),
        name="pow(pow(2, 3), 4)",
        spec={"exponent": 4, "first power": 8},
    )
    (problem,) = check_workflow(Workflow([fw1, fw2], {fw1: [fw2], fw2: []}))
    assert problem.startswith(
        f"firework {fw2.fw_id} (pow(pow(2, 3), 4)): input 'first power' has several sources"
    )


def test_two_parents_racing_to_write_one_input(fws):
    fw3 = fws[2]
    task = PyTask(func="math.pow", inputs=["base", "exponent"], outputs=["second power"])
    fw1 = Firework(task, name="pow(2, 3)", spec={"base": 2, "exponent": 3})
    fw2 = Firework(task, name="pow(2, 3)", spec={"base": 2, "exponent": 3})
    (problem,) = check_workflow(Workflow([fw1, fw2, fw3], {fw1: [fw3], fw2: [fw3]}))
    low, high = sorted((fw1.fw_id, fw2.fw_id))
    assert (
        problem
        == f"firework {fw3.fw_id} (the third one): input 'second power' has several sources: {low}, {high}"
    )


def test_two_tasks_of_one_firework_writing_one_output():
    tasks = [
        PyTask(func="math.pow", inputs=["first power 1", "exponent"], outputs=["second power"]),
        PyTask(func="math.pow", inputs=["first power 2", "exponent"], outputs=["second power"]),
    ]
    fw = Firework(tasks, spec={"exponent": 4, "first power 1": 8, "first power 2": 4})
    (problem,) = check_workflow(Workflow([fw], {}))
    assert "several tasks output 'second power'" in problem


class NonDataFlowTask(FiretaskBase):
    """A task with its own inputs and outputs parameters, not a dataflow task."""

    _fw_name = "NonDataFlowTask (FireWorks port)"
    required_params = ["inputs", "outputs"]

    def run_task(self, fw_spec):
        pass


def test_tasks_that_are_not_dataflow_tasks_are_left_alone(fws):
    fw1 = fws[0]
    task = NonDataFlowTask(inputs=["first power", "exponent"], outputs=["second power"])
    fw2 = Firework(task, spec={"exponent": 4, "first power": 8})
    assert check_workflow(Workflow([fw1, fw2], {fw1: [fw2], fw2: []})) == []


def test_a_command_line_input_is_found_through_its_command_spec():
    """Beyond FireWorks' test module: its DAGFlow maps a CommandLineTask input to the
    spec key its command_spec entry names (here 'hello input'), as the task does."""
    task = {
        "_fw_name": "CommandLineTask",
        "command_spec": {
            "command": ["cat"],
            "input string": {"source": "hello input", "target": {"type": "stdin"}},
            "output string": {"source": {"type": "stdout"}, "target": {"type": "data"}},
        },
        "inputs": ["input string"],
        "outputs": ["output string"],
    }
    fw = Firework([task], spec={"hello input": {"type": "data", "value": "Hello world!"}})
    assert check_workflow(Workflow([fw], {})) == []
    assert "no source" in check_workflow(Workflow([Firework([task])], {}))[0]
