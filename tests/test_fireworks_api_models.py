"""FireWorks' Python API over starshell's model: errors, Launch objects, Workflow state and editing.

The behaviours are those FireWorks' own tests (core/tests/test_firework.py,
test_launchpad.py) check for these objects, written again here.
"""

import pytest

from launchpad import FiretaskBase, Firework, Workflow
from launchpad.errors import (
    FWSerializationError,
    InvalidArgumentError,
    InvalidQueryError,
    InvalidWorkflowError,
    MissingTaskParameterError,
    NotFoundError,
    QueueError,
    StarshellError,
    UnknownTaskError,
    WorkflowFileError,
)
from launchpad.tasks import PyTask, ScriptTask


class NeedsX(FiretaskBase):
    _fw_name = "Needs X Task (api models test)"
    required_params = ("x",)

    def run_task(self, fw_spec):
        return None


def echo(text="hi", name=None, fw_id=None, parents=None):
    return Firework(ScriptTask(script=f"echo {text}"), name=name, fw_id=fw_id, parents=parents)


# ---- errors: FireWorks' builtins, and still StarshellErrors ---------------------------


@pytest.mark.parametrize(
    "error, builtin",
    [
        (NotFoundError, ValueError),
        (InvalidWorkflowError, ValueError),
        (InvalidArgumentError, ValueError),
        (InvalidQueryError, ValueError),
        (WorkflowFileError, ValueError),
        (UnknownTaskError, ValueError),
        (MissingTaskParameterError, RuntimeError),
        (QueueError, RuntimeError),
    ],
)
def test_errors_derive_from_the_builtin_fireworks_raises(error, builtin):
    assert issubclass(error, builtin) and issubclass(error, StarshellError)


def test_unknown_ids_raise_value_error(lp):
    for read in (lp.get_fw_by_id, lp.get_wf_by_fw_id, lp.get_launch_by_id):
        with pytest.raises(ValueError):
            read(404)


def test_bad_links_and_duplicate_ids_raise_value_error():
    with pytest.raises(ValueError):
        Workflow([echo(fw_id=1), echo(fw_id=1)])
    with pytest.raises(ValueError):
        Workflow([echo(fw_id=1)], {1: [7]})


def test_wrong_reset_password_raises_value_error(lp):
    with pytest.raises(ValueError, match="today's date"):
        lp.reset("1999-01-01")


def test_missing_task_parameter_raises_runtime_error():
    with pytest.raises(RuntimeError, match="x"):
        NeedsX()


def test_unknown_task_name_is_a_serialization_error():
    with pytest.raises(FWSerializationError):
        Firework.from_dict({"spec": {"_tasks": [{"_fw_name": "NoSuchTaskAnywhere"}]}})


def test_cli_keeps_its_exit_code_for_errors_that_are_also_value_errors(isolated_home, capsys):
    from launchpad.cli import main

    assert main(["get_fws", "-i", "12345", "-d", "all"]) == NotFoundError.exit_code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "12345" in err[0]


# ---- Launch objects through the LaunchPad ----------------------------------------------


def _run_first(lp, worker_name="w1", **action):
    from launchpad import FWorker

    fw, launch_id = lp.checkout_fw(FWorker(name=worker_name), "/scratch/run", host="node7", ip="10.0.0.7")
    lp.complete_launch(launch_id, action or {"stored_data": {"answer": 42}})
    return fw.fw_id, launch_id


def test_launches_are_launch_objects_with_fireworks_attributes(lp):
    from launchpad import FWAction, FWorker, Launch

    id_map = lp.add_wf(Workflow([echo("a", fw_id=1), echo("b", fw_id=2, parents=[1])]))
    fw_id, launch_id = _run_first(lp)
    assert fw_id == id_map[1]
    fw = lp.get_fw_by_id(fw_id)
    assert fw.state == "COMPLETED" and fw.archived_launches == []
    (launch,) = fw.launches
    assert isinstance(launch, Launch) and launch.launch_id == launch_id and launch.fw_id == fw_id
    assert (launch.launch_dir, launch.state, launch.host, launch.ip) == (
        "/scratch/run",
        "COMPLETED",
        "node7",
        "10.0.0.7",
    )
    assert isinstance(launch.action, FWAction) and launch.action.stored_data == {"answer": 42}
    assert isinstance(launch.fworker, FWorker) and launch.fworker.name == "w1"
    assert [h["state"] for h in launch.state_history] == ["RUNNING", "COMPLETED"]
    assert launch.time_start.tzinfo is not None and launch.time_end >= launch.time_start
    assert launch.runtime_secs == (launch.time_end - launch.time_start).total_seconds()
    assert launch.trackers == []
    by_id = lp.get_launch_by_id(launch_id)
    assert by_id.to_dict() == launch.to_dict()
    assert by_id.to_dict()["time_start"] == lp.get_launch(launch_id)["time_start"]  # the record's own text
    assert lp.get_fw_by_id(id_map[2]).launches == []


def test_workflow_from_the_launchpad_has_launches_state_and_links(lp):
    id_map = lp.add_wf(
        Workflow(
            [echo("a", fw_id=1), echo("b", fw_id=2, parents=[1]), echo("c", fw_id=3, parents=[1])], name="fan"
        )
    )
    wf = lp.get_wf_by_fw_id(id_map[2])
    assert wf.state == "READY" and wf.fw_states == {
        id_map[1]: "READY",
        id_map[2]: "WAITING",
        id_map[3]: "WAITING",
    }
    assert isinstance(wf.links, Workflow.Links) and wf.links[id_map[1]] == [id_map[2], id_map[3]]
    assert wf.root_fw_ids == [id_map[1]] and sorted(wf.leaf_fw_ids) == [id_map[2], id_map[3]]
    _run_first(lp)
    wf = lp.get_wf_by_fw_id(id_map[1])
    assert wf.state == "RUNNING" and [len(fw.launches) for fw in wf] == [1, 0, 0]
    assert wf.id_fw[id_map[1]].launches[0].state == "COMPLETED"


def test_get_launch_by_id_of_an_unknown_launch(lp):
    with pytest.raises(NotFoundError, match="no launch with id 9"):
        lp.get_launch_by_id(9)


# ---- Launch alone -------------------------------------------------------------------


@pytest.mark.parametrize(
    "start_aware, end_aware", [(False, True), (True, False), (False, False), (True, True)]
)
def test_runtime_secs_mixes_naive_and_aware_times(start_aware, end_aware):
    import datetime

    from launchpad import Launch

    utc = datetime.timezone.utc
    now = datetime.datetime.now(utc)
    start = now if start_aware else now.replace(tzinfo=None)
    end = (now + datetime.timedelta(seconds=120)).replace(tzinfo=utc if end_aware else None)
    launch = Launch(
        state="COMPLETED",
        launch_dir="/test",
        state_history=[{"state": "RUNNING", "created_on": start}, {"state": "COMPLETED", "created_on": end}],
    )
    assert launch.runtime_secs == pytest.approx(120.0)
    running = Launch("RUNNING", "/test", state_history=[{"state": "RUNNING", "created_on": start}])
    assert running.runtime_secs is None


def test_setting_a_launch_state_writes_its_history():
    from launchpad import Launch

    launch = Launch(
        "RUNNING", "/x", state_history=[{"state": "RUNNING", "created_on": "2026-01-01T00:00:00.000000"}]
    )
    launch.state = "COMPLETED"
    assert [h["state"] for h in launch.state_history] == ["RUNNING", "COMPLETED"]
    assert launch.runtime_secs > 0
    with pytest.raises(ValueError):
        Launch("EXPLODED", "/x")


# ---- Firework and Workflow as FireWorks' objects --------------------------------------


def test_firework_keywords_and_positions_are_fireworks():
    task = ScriptTask(script="echo")
    fw = Firework([task], {"k": 1}, "named", [], [], "READY", None, 5)
    assert (fw.spec, fw.name, fw.state, fw.fw_id) == ({"k": 1}, "named", "READY", 5)
    assert list(fw) == [task] and len(fw) == 1 and fw[0] is task
    before = fw.updated_on
    fw.state = "COMPLETED"
    assert fw.updated_on >= before


def _five():
    fws = [Firework(PyTask(func="print", args=[i]), fw_id=i, name=str(i)) for i in range(5)]
    return Workflow(fws, links_dict={0: [1, 2, 3], 1: [4], 2: [4]})


def test_iteration_length_and_indexing():
    a = echo("a")
    b, c = echo("b", parents=a), echo("c", parents=a)
    wf = Workflow([a, b, c])
    assert list(wf) == [a, b, c] and len(wf) == 3 and wf[0] is a and wf[-1] is c


def test_links_views():
    wf = _five()
    assert sorted(wf.links.nodes) == [0, 1, 2, 3, 4]
    assert wf.links.parent_links == {1: [0], 2: [0], 3: [0], 4: [1, 2]}
    assert wf.links.to_dict()["0"] == [1, 2, 3]
    db = wf.links.to_db_dict()
    assert db["parent_links"]["4"] == [1, 2] and sorted(db["nodes"]) == [0, 1, 2, 3, 4]
    assert Workflow.Links({"1": 2, "3": [4]}) == {1: [2], 3: [4]}


def test_from_wflow_copies_with_fresh_ids_and_the_same_shape():
    wf = _five()
    wf.id_fw[0].state = "COMPLETED"
    copy = Workflow.from_wflow(wf)
    assert not set(copy.id_fw) & set(wf.id_fw)
    assert all(fw.state == "WAITING" for fw in copy)
    for fw in copy:
        original_kids = [wf.id_fw[k].name for k in wf.links[int(fw.name)]]
        assert [copy.id_fw[k].name for k in copy.links[fw.fw_id]] == original_kids


def test_from_firework_in_both_spellings():
    fw = echo(name="solo")
    assert Workflow.from_Firework(fw).fws == [fw] and Workflow.from_firework(fw).name == "solo"


def test_remove_leaf_and_root_fireworks():
    wf = _five()
    wf.remove_fws(wf.leaf_fw_ids)  # 3 and 4
    assert sorted(wf.leaf_fw_ids) == [1, 2] and sorted(wf.id_fw) == [0, 1, 2]
    wf = _five()
    wf.remove_fws(wf.root_fw_ids)
    assert sorted(wf.root_fw_ids) == [1, 2, 3]
    wf = _five()
    wf.remove_fws([1])  # 4 keeps its other parent, so 0 does not adopt it
    assert wf.links == {0: [2, 3], 2: [4], 3: [], 4: []}
    wf = Workflow([echo(fw_id=1), echo(fw_id=2, parents=[1]), echo(fw_id=3, parents=[2])])
    wf.remove_fws([2])  # 3's only parent is gone: 1 adopts it
    assert wf.links == {1: [3], 3: []}


@pytest.mark.parametrize(
    "states, expected",
    [
        ({0: "WAITING"}, "READY"),  # not yet added: FireWorks calls it READY
        ({0: "READY"}, "READY"),
        ({0: "COMPLETED", 1: "RESERVED"}, "RUNNING"),
        ({0: "RESERVED"}, "RESERVED"),
        ({0: "COMPLETED", 1: "COMPLETED", 2: "COMPLETED", 3: "COMPLETED", 4: "COMPLETED"}, "COMPLETED"),
        ({0: "COMPLETED", 1: "DEFUSED", 3: "COMPLETED", 4: "COMPLETED"}, "COMPLETED"),  # the leaves decide
        ({i: "ARCHIVED" for i in range(5)}, "ARCHIVED"),
        ({0: "COMPLETED", 1: "DEFUSED", 2: "PAUSED"}, "DEFUSED"),
        ({0: "COMPLETED", 1: "FIZZLED", 2: "PAUSED"}, "PAUSED"),
        ({0: "COMPLETED", 1: "FIZZLED", 2: "RUNNING"}, "FIZZLED"),
        ({0: "COMPLETED", 3: "FIZZLED"}, "FIZZLED"),  # a fizzled leaf
    ],
)
def test_workflow_state_is_computed_as_fireworks_does(states, expected):
    wf = _five()
    for fw_id, state in states.items():
        wf.id_fw[fw_id].state = state
    assert wf.state == expected


def test_a_fizzle_children_accept_leaves_the_workflow_running():
    first = echo(fw_id=1)
    after = Firework(ScriptTask(script="echo"), spec={"_allow_fizzled_parents": True}, fw_id=2, parents=first)
    wf = Workflow([first, after])
    first.state = "FIZZLED"
    assert wf.state == "RUNNING"
    assert wf.refresh(2) == {2} and after.state == "READY"


def test_refresh_readies_children_of_a_completed_firework():
    from launchpad import Launch

    wf = _five()
    wf.id_fw[0].state = "READY"
    wf.id_fw[0].launches.append(Launch("COMPLETED", "/x", launch_id=1, fw_id=0))
    assert wf.refresh(0) == {0, 1, 2, 3}
    assert wf.fw_states == {0: "COMPLETED", 1: "READY", 2: "READY", 3: "READY", 4: "WAITING"}


def test_append_wf_as_child_and_as_detour():
    wf = Workflow([echo(fw_id=1), echo(fw_id=2, parents=[1])])
    wf.id_fw[1].state = "RUNNING"
    extra = echo("new", fw_id=-10)
    updated = wf.append_wf(Workflow([extra]), [1], detour=True)
    assert updated == [-10] and wf.links[1] == [2, -10] and wf.links[-10] == [2]
    assert wf.id_fw[-10].state == "WAITING" and len(wf) == 3
    with pytest.raises(ValueError, match="negative"):
        wf.append_wf(Workflow([echo(fw_id=7)]), [1])
    wf.id_fw[2].state = "READY"
    with pytest.raises(ValueError, match="detour"):
        wf.append_wf(Workflow([echo(fw_id=-11)]), [1], detour=True)


# ---- a FireWorks user script, only its imports changed -----------------------------------

USER_SCRIPT = """
from launchpad import (FiretaskBase, Firework, FWAction, FWorker, LaunchPad, ScriptTask, Workflow,
                       explicit_serialize)
from rocket import rapidfire


@explicit_serialize
class AddTask(FiretaskBase):
    required_params = ["inputs"]

    def run_task(self, fw_spec):
        return FWAction(stored_data={"sum": sum(self["inputs"])}, update_spec={"total": sum(self["inputs"])})


launchpad = LaunchPad.auto_load()
launchpad.reset("", require_password=False)
fw1 = Firework(AddTask(inputs=[1, 2]), name="add")
fw2 = Firework(ScriptTask(script="echo hello"), name="hello", parents=[fw1])
wf = Workflow([fw1, fw2], {fw1: [fw2]}, name="script workflow")
print("before", wf.state, len(wf), wf.root_fw_ids == [fw1.fw_id])
launchpad.add_wf(wf)
rapidfire(launchpad, FWorker(), nlaunches=0, sleep_time=0)
fw_id = launchpad.get_fw_ids({"name": "add"})[0]
wf = launchpad.get_wf_by_fw_id(fw_id)
print("after", wf.state, sorted(wf.fw_states.values()))
fw = launchpad.get_fw_by_id(fw_id)
launch = fw.launches[-1]
print("launch", launch.state, launch.action.stored_data["sum"], launch.runtime_secs >= 0,
      type(launch.time_start).__name__)
print("spec", launchpad.get_fw_by_id(launchpad.get_fw_ids({"name": "hello"})[0]).spec["total"])
fw.to_file("fw.yaml")
print("file", Firework.from_file("fw.yaml").tasks[0].fw_name)
try:
    launchpad.get_fw_by_id(999)
except ValueError as exc:
    print("missing", type(exc).__name__)
"""


def test_a_fireworks_script_runs_with_only_its_imports_changed(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "home").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "fw_script.py").write_text(USER_SCRIPT)
    env = {**os.environ, "STARSHELL_HOME": str(tmp_path / "home")}
    env.pop("STARSHELL_LAUNCHPAD", None)
    result = subprocess.run(
        [sys.executable, "fw_script.py"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [
        line
        for line in result.stdout.splitlines()
        if line.split(" ")[0] in ("before", "after", "launch", "spec", "file", "missing")
    ]
    assert lines == [
        "before READY 2 True",
        "after COMPLETED ['COMPLETED', 'COMPLETED']",
        "launch COMPLETED 3 True datetime",
        "spec 3",
        "file {{fw_script.AddTask}}",
        "missing NotFoundError",
    ]


def test_a_fenced_launch_reads_as_a_launch(lp):
    id_map = lp.add_wf(Workflow([echo("a", fw_id=1)]))
    lp.checkout_fw(launch_dir="/scratch/fenced")
    lp.rerun_fw(id_map[1])
    fw = lp.get_fw_by_id(id_map[1])
    assert fw.launches == [] and fw.state == "READY"  # the rerun archived it, as FireWorks
    assert [launch.state for launch in fw.archived_launches] == ["FENCED"]
    assert Workflow.from_firework(fw).state == "READY"
