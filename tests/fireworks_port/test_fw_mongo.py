"""FireWorks' fireworks/tests/mongo_tests.py, on both stores.

Each scenario builds fireworks with FireWorks' calls, runs them with
``launch_rocket``/``rapidfire`` in this process, and reads the results back with
``get_launch_by_id``/``get_fw_by_id``, as FireWorks' tests do. FireWorks counts
documents through the raw collections (``lp.launches.count_documents``), which
exist on MongoDB only: here the counts come from ``get_launches``/``get_fw_ids``,
and on MongoDB (mongomock) FireWorks' raw-collection reads must agree with them.
"""

import json
import os
import sys
import uuid
from multiprocessing import Pool

import pytest

from launchpad import (
    BackgroundTask,
    DupeFinderExact,
    FileTransferTask,
    FileWriteTask,
    Firework,
    FWorker,
    FWStats,
    LaunchPad,
    PyTask,
    ScriptTask,
    TemplateWriterTask,
    Workflow,
)
from launchpad.offline import offline_runs
from launchpad.stores import SQLiteStore
from queue_adapters.queue_launcher import setup_offline_job
from rocket import launch_rocket, rapidfire

from .fw_tasks import (
    AdditionTask,
    AppendWFActionTask,
    DummyFWEnvTask,
    DummyJobPassTask,
    DummyLPTask,
    FibonacciAdderTask,
    ModSpecTask,
    MultipleDetourTask,
    UpdateSpecTask,
)

PRINT = f"{sys.executable} -c 'print(\"test1\")'"
THROW = "fireworks_port.fw_tasks.throw_error"


@pytest.fixture
def here(tmp_path, monkeypatch):
    """FireWorks' tests run in their module's folder; ours in a fresh one."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def fworker():
    return FWorker()


def printing(text="test1"):
    return ScriptTask.from_str(f"{sys.executable} -c 'print(\"{text}\")'", {"store_stdout": True})


def n_launches(lp):
    """FireWorks counts ``lp.launches.count_documents({})``: on MongoDB the same count."""
    count = len(lp.get_launches())
    if hasattr(lp, "db"):  # raw collections: MongoDB only
        assert lp.launches.count_documents({}) == count
    return count


def n_fireworks(lp):
    """FireWorks counts ``lp.fireworks.count_documents({})``: on MongoDB the same count."""
    count = len(lp.get_fw_ids())
    if hasattr(lp, "db"):
        assert lp.fireworks.count_documents({}) == count
    return count


def test_basic_fw(lp, here, fworker):
    lp.add_wf(Firework(printing()))
    launch_rocket(lp, fworker)
    assert lp.get_launch_by_id(1).action.stored_data["stdout"] == "test1\n"


def _offline_run(lp, fworker, folder, monkeypatch):
    """FireWorks' sequence in ``folder``: reserve_fw, setup_offline_job, launch_rocket(None, ...)."""
    monkeypatch.chdir(folder)
    fw, launch_id = lp.reserve_fw(fworker, os.getcwd())
    setup_offline_job(lp, fw, launch_id)
    launch_rocket(None, fworker)
    return fw, launch_id


def _recover_offline_runs(lp):
    """FireWorks loops over ``lp.offline_runs.find({"completed": False, ...})``."""
    for run in offline_runs(lp):
        lp.recover_offline(run["launch_id"])


def test_basic_fw_offline(lp, here, fworker, monkeypatch):
    lp.add_wf(Firework(printing()))
    _offline_run(lp, fworker, here, monkeypatch)
    report = json.loads((here / "FW_offline.json").read_text())
    assert report["state"] == "COMPLETED"
    assert report["launch_id"] == 1
    assert report["fwaction"]["stored_data"] == {"returncode": 0, "stdout": "test1\n", "all_returncodes": [0]}
    for key in ("update_spec", "stored_data", "mod_spec", "additions", "detours", "exit", "defuse_children"):
        assert key in report["fwaction"]
    assert json.loads((here / "FW_ping.json").read_text())["ping_time"] is not None
    _recover_offline_runs(lp)
    assert lp.get_launch_by_id(1).action.stored_data["stdout"] == "test1\n"


def test_offline_fw_passinfo(lp, here, fworker, monkeypatch):
    fw1 = Firework([AdditionTask()], {"input_array": [1, 1]}, name="1")
    fw2 = Firework([AdditionTask()], {"input_array": [2, 2]}, name="2")
    fw3 = Firework([AdditionTask()], {"input_array": [3]}, parents=[fw1, fw2], name="3")
    lp.add_wf(Workflow([fw1, fw2, fw3]))
    folders = [here / f"launcher_{n}" for n in (1, 2, 3)]
    for folder in folders:
        folder.mkdir()
    for folder in folders[:2]:
        _offline_run(lp, fworker, folder, monkeypatch)
    _recover_offline_runs(lp)
    child, _ = _offline_run(lp, fworker, folders[2], monkeypatch)
    _recover_offline_runs(lp)
    child_fw = lp.get_fw_by_id(child.fw_id)
    assert set(child_fw.spec["input_array"]) == {2, 3, 4}
    assert child_fw.launches[0].action.stored_data["sum"] == 9


def test_multi_fw(lp, here, fworker):
    lp.add_wf(Firework([printing("test1"), printing("test2")]))
    launch_rocket(lp, fworker)
    assert lp.get_launch_by_id(1).action.stored_data["stdout"] == "test2\n"


def test_multi_fw_complex(lp, here, fworker, monkeypatch):
    (here / "templates").mkdir()
    (here / "templates" / "simple_template.txt").write_text("option1 = {{opt1}}\noption2 = {{opt2}}")
    monkeypatch.setenv("STARSHELL_TEMPLATE_DIR", str(here / "templates"))
    dest1, dest2 = here / "inputs.txt", here / "temp_file.txt"
    write = TemplateWriterTask(
        {
            "context": {"opt1": 5.0, "opt2": "fast method"},
            "template_file": "simple_template.txt",
            "output_file": str(dest1),
        }
    )
    copy = FileTransferTask({"files": [{"src": str(dest1), "dest": str(dest2)}], "mode": "copy"})
    lp.add_wf(Firework([write, copy]))
    launch_rocket(lp, fworker)
    for path in (dest1, dest2):
        assert path.read_text() == "option1 = 5.0\noption2 = fast method"


def test_backgroundtask(lp, here, fworker):
    dest = here / "hello.txt"
    background = BackgroundTask(
        FileWriteTask({"files_to_write": [{"filename": str(dest), "contents": "hello"}]}),
        num_launches=1,
        run_on_finish=True,
    )
    lp.add_wf(Firework(printing("testing background..."), spec={"_background_tasks": [background]}))
    launch_rocket(lp, fworker)
    assert dest.read_text() == "hello"


def test_add_fw(lp, here, fworker):
    lp.add_wf(Firework(AdditionTask(), {"input_array": [5, 7]}))
    rapidfire(lp, fworker, m_dir=str(here))
    assert lp.get_launch_by_id(1).action.stored_data["sum"] == 12


def test_org_wf(lp, here, fworker):
    fw1 = Firework(printing("test1"), fw_id=-1)
    fw2 = Firework(printing("test2"), fw_id=-2)
    lp.add_wf(Workflow([fw1, fw2], {-1: -2}))
    launch_rocket(lp, fworker)
    assert lp.get_launch_by_id(1).action.stored_data["stdout"] == "test1\n"
    launch_rocket(lp, fworker)
    assert lp.get_launch_by_id(2).action.stored_data["stdout"] == "test2\n"


def test_fibadder(lp, here, fworker):
    lp.add_wf(Firework(FibonacciAdderTask(), {"smaller": 0, "larger": 1, "stop_point": 3}))
    rapidfire(lp, fworker, m_dir=str(here))
    assert lp.get_launch_by_id(1).action.stored_data["next_fibnum"] == 1
    assert lp.get_launch_by_id(2).action.stored_data["next_fibnum"] == 2
    assert lp.get_launch_by_id(3).action.stored_data == {}
    assert not lp.run_exists()


def _launch_until_done(lp_creds):
    """One of FireWorks' parallel workers: its own LaunchPad from ``to_dict()``, rockets
    while work remains."""
    lp = LaunchPad.from_dict(lp_creds)
    while lp.run_exists(None):
        launch_rocket(lp)
    return True


def test_parallel_fibadder(tmp_path, monkeypatch):
    """Four processes grow one workflow at once. FireWorks passes ``lp.to_dict()`` to a
    Pool; processes cannot share mongomock, so this runs on the embedded store only."""
    monkeypatch.chdir(tmp_path)
    db_path = tmp_path / "launchpad.sqlite"
    lp = LaunchPad(SQLiteStore(db_path))
    parent = Firework(printing())
    fibs = [
        Firework(FibonacciAdderTask(), {"smaller": 0, "larger": 1, "stop_point": 8}, parents=[parent])
        for _ in range(4)
    ]
    lp.add_wf(Workflow([parent, *fibs]))
    with Pool(4) as pool:
        assert pool.map(_launch_until_done, [lp.to_dict()] * 4) == [True] * 4
    # each of the four chains runs 0+1=1, 1+2... until 8: fibs at 1, 2, 3, 5 then the stop
    states = lp.get_wf_summary_dict(1, "all")["states"]
    assert set(states.values()) == {"COMPLETED"}
    assert len(states) == 1 + 4 * 5


def test_multi_detour(lp, here):
    fw1 = Firework([MultipleDetourTask()], fw_id=1)
    fw2 = Firework([ScriptTask.from_str('echo "DONE"')], parents=[fw1], fw_id=2)
    lp.add_wf(Workflow([fw1, fw2]))
    rapidfire(lp)
    links = lp.get_wf_by_fw_id(1).links
    assert set(links[1]) == {2, 3, 4, 5}
    assert set(links[2]) == set()
    assert set(links[3]) == set(links[4]) == set(links[5]) == {2}


def test_fw_env(lp, here, fworker):
    fw = Firework(DummyFWEnvTask())
    lp.add_wf(fw)
    launch_rocket(lp, fworker)
    assert lp.get_launch_by_id(1).action.stored_data["data"] == "hello"
    lp.add_wf(fw)
    launch_rocket(lp, FWorker(env={"hello": "world"}))
    assert lp.get_launch_by_id(2).action.stored_data["data"] == "world"


def test_job_info(lp, here, fworker):
    fw1 = Firework([ScriptTask.from_str('echo "Testing job info"')], spec={"_pass_job_info": True}, fw_id=1)
    fw2 = Firework([DummyJobPassTask()], parents=[fw1], spec={"_pass_job_info": True, "target": 1}, fw_id=2)
    fw3 = Firework([DummyJobPassTask()], parents=[fw2], spec={"target": 2}, fw_id=3)
    lp.add_wf(Workflow([fw1, fw2, fw3]))
    launch_rocket(lp, fworker)
    spec = lp.get_fw_by_id(lp.get_fw_ids({"spec.target": 1})[0]).spec
    assert spec["_job_info"][0]["launch_dir"] is not None
    assert spec["_job_info"][0]["name"] == "Unnamed FW"
    assert spec["_job_info"][0]["fw_id"] == 1
    launch_rocket(lp, fworker)
    spec = lp.get_fw_by_id(lp.get_fw_ids({"spec.target": 2})[0]).spec
    assert len(spec["_job_info"]) == 2


def test_files_in_out(lp, here, fworker):
    fw1 = Firework(
        [ScriptTask.from_str('echo "This is the first FireWork" > test1')],
        spec={"_files_out": {"fwtest1": "test1"}},
        fw_id=1,
    )
    fw2 = Firework(
        [ScriptTask.from_str("gzip hello")],
        fw_id=2,
        parents=[fw1],
        spec={"_files_in": {"fwtest1": "hello"}, "_files_out": {"fw2": "hello.gz"}},
    )
    fw3 = Firework(
        [ScriptTask.from_str("cat fwtest.2")], fw_id=3, parents=[fw2], spec={"_files_in": {"fw2": "fwtest.2"}}
    )
    lp.add_wf(Workflow([fw1, fw2, fw3], {fw1: [fw2], fw2: [fw3]}))
    for made in ("test1", "hello.gz", "fwtest.2"):
        launch_rocket(lp, fworker)
        assert os.path.exists(made)


def test_preserve_fworker(lp, here, fworker):
    fw1 = Firework([ScriptTask.from_str('echo "preserve"')], spec={"_preserve_fworker": True}, fw_id=1)
    fw2 = Firework([ScriptTask.from_str('echo "preserve 2"')], spec={"target": 1}, parents=[fw1], fw_id=2)
    lp.add_wf(Workflow([fw1, fw2]))
    launch_rocket(lp, fworker)
    assert lp.get_fw_by_id(lp.get_fw_ids({"spec.target": 1})[0]).spec["_fworker"] is not None


def test_add_lp_and_fw_id(lp, here, fworker):
    lp.add_wf(Firework([DummyLPTask()], spec={"_add_launchpad_and_fw_id": True}))
    launch_rocket(lp, fworker)
    stored = lp.get_launch_by_id(1).action.stored_data
    assert stored["fw_id"] == 1
    assert stored["host"] is not None


def test_spec_copy(lp):
    spec = {"_category": "dummy_category"}
    fw1 = Firework(ScriptTask.from_str('echo "Task 1"'), fw_id=1, name="Task 1", spec=spec)
    fw2 = Firework(ScriptTask.from_str('echo "Task 2"'), fw_id=2, name="Task 2", spec=spec)
    lp.add_wf(Workflow([fw1, fw2]))
    assert lp.get_fw_by_id(1).tasks[0]["script"][0] == 'echo "Task 1"'
    assert lp.get_fw_by_id(2).tasks[0]["script"][0] == 'echo "Task 2"'


def test_category(lp):
    spec = {"_category": "dummy_category"}
    fws = [
        Firework(ScriptTask.from_str(f'echo "Task {n}"'), fw_id=n, name=f"Task {n}", spec=spec)
        for n in (1, 2)
    ]
    lp.add_wf(Workflow(fws))
    assert lp.run_exists(FWorker(category="dummy_category"))
    assert not lp.run_exists(FWorker(category="other category"))
    assert not lp.run_exists(FWorker(category="__none__"))
    assert lp.run_exists(FWorker())
    assert lp.run_exists(FWorker(category=["dummy_category", "other category"]))


def test_category_pt2(lp):
    fws = [Firework(ScriptTask.from_str(f'echo "Task {n}"'), fw_id=n, name=f"Task {n}") for n in (1, 2)]
    lp.add_wf(Workflow(fws))
    assert not lp.run_exists(FWorker(category="dummy_category"))
    assert lp.run_exists(FWorker(category="__none__"))
    assert lp.run_exists(FWorker())
    assert not lp.run_exists(FWorker(category=["dummy_category", "other category"]))


def test_delete_fw(lp, here, fworker):
    fw = Firework(printing())
    lp.add_wf(fw)
    launch_rocket(lp, fworker)
    assert lp.get_launch_by_id(1).action.stored_data["stdout"] == "test1\n"
    lp.delete_wf(fw.fw_id)
    # FireWorks' type; starshell's own one-line message (docs/fireworks.md, differences)
    with pytest.raises(ValueError, match=f"no firework with id {fw.fw_id}"):
        lp.get_fw_by_id(fw.fw_id)
    with pytest.raises(ValueError, match="no launch with id 1"):
        lp.get_launch_by_id(1)


def _add_twice_and_run_twice(lp, fworker):
    """The same firework, with DupeFinderExact, added twice; two rockets."""
    fw = Firework(printing(), {"_dupefinder": DupeFinderExact()})
    lp.add_wf(fw)
    lp.add_wf(fw)
    launch_rocket(lp, fworker)
    launch_rocket(lp, fworker)


def test_duplicate_delete_fw(lp, here, fworker):
    _add_twice_and_run_twice(lp, fworker)
    run_id = lp.get_launch_by_id(1).fw_id
    del_id = 1 if run_id == 2 else 2
    lp.delete_wf(del_id)
    with pytest.raises(ValueError, match=f"no firework with id {del_id}"):
        lp.get_fw_by_id(del_id)
    assert lp.get_launch_by_id(1).action.stored_data["stdout"] == "test1\n"


def test_dupefinder(lp, here, fworker):
    _add_twice_and_run_twice(lp, fworker)
    assert n_launches(lp) == 1


def test_append_wf(lp, here, fworker):
    lp.add_wf(Workflow([Firework([UpdateSpecTask()]), Firework([ModSpecTask()])]))
    assert n_fireworks(lp) == 2
    launch_rocket(lp, fworker)
    launch_rocket(lp, fworker)
    assert n_launches(lp) == 2
    assert n_fireworks(lp) == 3  # the addition
    lp.append_wf(Workflow([Firework([ModSpecTask()])]), [1, 2])
    for _ in range(3):  # the addition, the appended firework, and nothing left
        launch_rocket(lp, fworker)
    new_fw = lp.get_fw_by_id(4)
    assert new_fw.spec["dummy1"] == 1
    assert new_fw.spec["dummy2"] == [True]
    assert n_launches(lp) == 4
    assert n_fireworks(lp) == 4
    lp.append_wf(Workflow([Firework([ModSpecTask()])]), [4])
    launch_rocket(lp, fworker)
    assert lp.get_fw_by_id(5).spec["dummy2"] == [True]


def test_append_wf_detour(lp, here, fworker):
    fw1 = Firework([ModSpecTask()], fw_id=1)
    fw2 = Firework([ModSpecTask()], fw_id=2, parents=[fw1])
    lp.add_wf(Workflow([fw1, fw2]))
    lp.append_wf(Workflow([Firework([ModSpecTask()])]), [1], detour=True)
    launch_rocket(lp, fworker)
    launch_rocket(lp, fworker)
    assert lp.get_fw_by_id(2).spec["dummy2"] == [True, True]


def _named_id(lp, name):
    """FireWorks: ``lp.fireworks.find_one({"name": name}, {"fw_id": True})["fw_id"]``."""
    (fw_id,) = lp.get_fw_ids({"name": name})
    if hasattr(lp, "db"):
        assert lp.fireworks.find_one({"name": name}, {"fw_id": True})["fw_id"] == fw_id
    return fw_id


def test_append_wf_detour_two_parents(lp):
    fw_0, fw_11, fw_12, fw_21, fw_22 = (
        Firework(tasks=PyTask(func="builtins.print", args=[text]))
        for text in ("root", "b1 n1", "b1 n2", "b2 n1", "b2 n2")
    )
    lp.add_wf(
        Workflow(
            fireworks=[fw_0, fw_11, fw_12, fw_21, fw_22],
            links_dict={fw_0: [fw_11, fw_21], fw_11: [fw_12], fw_21: [fw_22]},
        )
    )
    det_name = uuid.uuid4().hex
    det_wf = Workflow(
        fireworks=[Firework(name=det_name, tasks=[PyTask(func="builtins.print", args=["detour"])])]
    )
    lp.append_wf(det_wf, fw_ids=[fw_11.fw_id, fw_21.fw_id], detour=[True, False])
    links = lp.get_wf_by_fw_id(fw_0.fw_id).links
    det_fw_id = _named_id(lp, det_name)
    assert links[fw_11.fw_id] == [fw_12.fw_id, det_fw_id]
    assert links[fw_21.fw_id] == [fw_22.fw_id, det_fw_id]
    assert links[det_fw_id] == [fw_12.fw_id]


def test_append_wfs_action(lp, here, fworker):
    tag_0, tag_11, tag_21, tag_22 = (uuid.uuid4().hex for _ in range(4))
    fw_0 = Firework(tasks=PyTask(func="builtins.sum", args=[[0]], outputs=[tag_0]))
    fw_11 = Firework(tasks=PyTask(func="builtins.sum", args=[[11]], outputs=[tag_11]))
    lp.add_wf(Workflow(fireworks=[fw_0, fw_11], links_dict={fw_0: [fw_11]}))
    det_name = uuid.uuid4().hex
    fw_21 = Firework(
        tasks=AppendWFActionTask(
            fw_name=det_name,
            tag=tag_21,
            val=21,
            inputs=[tag_11, tag_21],
            output=tag_22,
            parents=[fw_11.fw_id],
        )
    )
    fw_22 = Firework(tasks=PyTask(func="builtins.print", inputs=[tag_22]))
    lp.append_wf(
        Workflow(fireworks=[fw_21, fw_22], links_dict={fw_21: [fw_22]}),
        fw_ids=[fw_0.fw_id],
        detour=False,
        pull_spec_mods=True,
    )
    rapidfire(lp, fworker, m_dir=str(here))
    links = lp.get_wf_by_fw_id(fw_0.fw_id).links
    det_id = _named_id(lp, det_name)
    assert links[fw_11.fw_id] == [det_id]
    assert links[fw_21.fw_id] == [fw_22.fw_id, det_id]
    assert links[det_id] == [fw_22.fw_id]
    assert lp.get_fw_by_id(fw_11.fw_id).spec[tag_0] == 0
    assert lp.get_fw_by_id(fw_21.fw_id).spec[tag_0] == 0
    assert lp.get_fw_by_id(det_id).spec[tag_11] == 11
    assert lp.get_fw_by_id(fw_22.fw_id).spec[tag_22] == 32


def test_fizzle(lp, here, fworker):
    lp.add_wf(Firework(PyTask(func=THROW, args=["Testing; this error is normal."])))
    assert launch_rocket(lp, fworker)
    assert lp.get_fw_by_id(1).state == "FIZZLED"
    assert not launch_rocket(lp, fworker)


def test_defuse(lp, here, fworker):
    fw = Firework(PyTask(func=THROW, args=["This should not happen"]))
    lp.add_wf(fw)
    lp.defuse_fw(fw.fw_id)
    assert not launch_rocket(lp, fworker)


def test_archive(lp, here, fworker):
    fw = Firework(PyTask(func=THROW, args=["This should not happen"]))
    lp.add_wf(fw)
    lp.archive_wf(fw.fw_id)
    assert not launch_rocket(lp, fworker)


def test_stats(lp, here, fworker):
    fw = Firework(printing())
    lp.add_wf(fw)
    lp.add_wf(fw)
    launch_rocket(lp, fworker)
    launch_rocket(lp, fworker)
    stats = FWStats(lp)
    launch_results = stats.get_launch_summary(time_field="updated_on")[0]
    assert (launch_results["_id"], launch_results["count"]) == ("COMPLETED", 2)
    lp.add_wf(fw)
    fireworks_results = stats.get_fireworks_summary(time_field="updated_on")
    assert (fireworks_results[1]["_id"], fireworks_results[1]["count"]) == ("READY", 1)
    launch_rocket(lp, fworker)
    workflow_results = stats.get_workflow_summary(time_field="updated_on")
    assert (workflow_results[0]["_id"], workflow_results[0]["count"]) == ("COMPLETED", 3)
