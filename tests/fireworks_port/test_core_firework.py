"""Port of FireWorks' fireworks/core/tests/test_firework.py.

These scenarios are about the objects themselves (Firetasks, Workflow, Launch): no
store is involved, so they run once. The last one adds a workflow built the same way
to both stores, to show the in-memory object and the stored one agree.
"""

import datetime
import pickle

import pytest

from launchpad import FiretaskBase, Firework, FWAction, Launch, PyTask, Workflow, explicit_serialize

UTC = datetime.timezone.utc


# -- FiretaskBaseTest -----------------------------------------------------------------------
def test_firetask_init():
    """Required parameters are checked when the task is built; parameters come as keywords
    or as one dict; a task without run_task cannot run."""

    class DummyTask(FiretaskBase):
        required_params = ["hello"]

        def run_task(self, fw_spec):
            return self["hello"]

    with pytest.raises(RuntimeError):
        DummyTask()
    assert DummyTask(hello="world").run_task({}) == "world"
    assert DummyTask({"hello": "world2"}).run_task({}) == "world2"

    class DummyTask2(FiretaskBase):
        pass

    with pytest.raises(NotImplementedError):
        DummyTask2().run_task({})


def test_firetask_param_checks():
    """A missing required parameter or an unknown one is a RuntimeError."""

    class DummyTask(FiretaskBase):
        _fw_name = "PortDummyParamTask"
        required_params = ["param1"]
        optional_params = ["param2"]

    with pytest.raises(RuntimeError):
        DummyTask(param2=3)
    with pytest.raises(RuntimeError):
        DummyTask(param1=3, param3=5)
    DummyTask(param1=1)
    DummyTask(param1=1, param2=1)


# -- FiretaskPickleTest ---------------------------------------------------------------------
class PickleTask(FiretaskBase):
    required_params = ["test"]

    def run_task(self, fw_spec):
        return self["test"]


def test_firetask_pickle():
    """A task survives pickle: same class, same dict, same attributes, same result."""
    task = PickleTask(test=0)
    unpickled = pickle.loads(pickle.dumps(task))
    assert isinstance(unpickled, PickleTask)
    assert PickleTask.from_dict(task.to_dict()) == unpickled
    assert dir(task) == dir(unpickled)
    assert task.run_task({}) == unpickled.run_task({})


# -- WorkflowTest ---------------------------------------------------------------------------
@explicit_serialize
class Task1(FiretaskBase):
    def run_task(self, fw_spec):
        return FWAction(stored_data={"color": "red"})


@explicit_serialize
class Task2(FiretaskBase):
    def run_task(self, fw_spec):
        return FWAction(stored_data={"color": "yellow"})


@pytest.fixture
def three():
    """FireWorks' setUp: fw1 over fw2 (two tasks) and fw3."""
    fw1 = Firework(Task1())
    fw2 = Firework([Task2(), Task2()], parents=fw1)
    fw3 = Firework(Task1(), parents=fw1)
    return fw1, fw2, fw3


def _printers(n, **names):
    return [Firework([PyTask(func="print", args=[i])], fw_id=i, **names) for i in range(n)]


def test_workflow_init():
    """Links must name the workflow's fireworks, as parents and as children."""
    fws = _printers(5)
    assert isinstance(Workflow(fws, links_dict={0: [1, 2, 3], 1: [4], 2: [4]}), Workflow)
    with pytest.raises(ValueError):
        Workflow(fws, links_dict={0: [1, 2, 3], 1: [4], 100: [4]})
    with pytest.raises(ValueError):
        Workflow(fws, links_dict={0: [1, 2, 3], 1: [4], 2: [100]})


def test_workflow_copy():
    """from_wflow gives fresh ids but the same dependencies (matched by name)."""
    fws = [Firework([PyTask(func="print", args=[i])], fw_id=i, name=str(i)) for i in range(5)]
    wf = Workflow(fws, links_dict={0: [1, 2, 3], 1: [4], 2: [4]})
    copy = Workflow.from_wflow(wf)
    assert set(copy.id_fw).isdisjoint(wf.id_fw)
    for fw in copy.fws:
        children = copy.links.get(fw.fw_id, [])
        original_children = wf.links.get(int(fw.name), [])
        assert [copy.id_fw[c].name for c in children] == [str(c) for c in original_children]


def test_remove_leaf_fws(three):
    fw1, fw2, fw3 = three
    fw4 = Firework(Task1(), parents=[fw2, fw3])
    wflow = Workflow([fw1, fw2, fw3, fw4])
    parents = []
    for leaf in wflow.leaf_fw_ids:
        parents.extend(wflow.links.parent_links[leaf])
    wflow.remove_fws(wflow.leaf_fw_ids)
    assert wflow.leaf_fw_ids == parents


def test_remove_root_fws(three):
    fw1, fw2, fw3 = three
    fw4 = Firework(Task1(), parents=[fw2, fw3])
    wflow = Workflow([fw1, fw2, fw3, fw4])
    children = []
    for root in wflow.root_fw_ids:
        children.extend(wflow.links[root])
    wflow.remove_fws(wflow.root_fw_ids)
    assert sorted(wflow.root_fw_ids) == sorted(children)


def test_iter_len_index(three):
    fws = list(three)
    wflow = Workflow(fws)
    for idx, fw in enumerate(wflow):
        assert fw == fws[idx]
    assert len(wflow) == len(fws)
    assert wflow[0] == fws[0]


def test_stored_workflow_keeps_the_links(lp, three):
    """The same three-firework workflow read back from either store: links and roots."""
    wf = Workflow(list(three))
    lp.add_wf(wf)
    stored = lp.get_wf_by_fw_id(wf.root_fw_ids[0])
    assert dict(stored.links) == dict(wf.links)
    assert stored.root_fw_ids == wf.root_fw_ids
    assert sorted(stored.leaf_fw_ids) == sorted(wf.leaf_fw_ids)


# -- TestLaunchRuntimeSecs ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start_tz", "end_tz"),
    [(None, UTC), (UTC, None), (None, None), (UTC, UTC)],
    ids=["naive-aware", "aware-naive", "naive-naive", "aware-aware"],
)
def test_runtime_secs_mixed_tz_datetimes(start_tz, end_tz):
    """runtime_secs from the state history, whether its times carry a zone or not."""
    now = datetime.datetime.now(UTC)
    start = now.replace(tzinfo=start_tz)
    end = (now + datetime.timedelta(seconds=120)).replace(tzinfo=end_tz)
    launch = Launch(
        state="COMPLETED",
        launch_dir="/test",
        state_history=[{"state": "RUNNING", "created_on": start}, {"state": "COMPLETED", "created_on": end}],
    )
    assert launch.runtime_secs == pytest.approx(120.0)


def test_runtime_secs_none_when_incomplete():
    launch = Launch(
        state="RUNNING",
        launch_dir="/test",
        state_history=[{"state": "RUNNING", "created_on": datetime.datetime.now(UTC)}],
    )
    assert launch.runtime_secs is None
