"""Port of FireWorks' fireworks/core/tests/test_launchpad.py.

Each FireWorks test class is a section here; every scenario runs on the embedded
SQLite store and on MongoDB (mongomock) through the ``lp`` fixture, which stands
for FireWorks' ``LaunchPad(name=TEST_DB_NAME, strm_lvl="ERROR")`` after a reset.
Rockets run in this process, in a temporary directory, as FireWorks' tests run
them. Where FireWorks kills a rocket running in another process, the port opens
the launch and abandons it (what a killed rocket leaves behind) and moves a
ManualClock instead of sleeping. What is not carried over, and why, is listed in
docs/fireworks.md ("FireWorks' own tests, ported").
"""

import datetime
import filecmp
import glob
import multiprocessing
import os
import re
import shutil
import threading
import time
from datetime import timezone

import pytest

from launchpad import Firework, FWorker, LaunchPad, PyTask, ScriptTask, Workflow
from launchpad.errors import NoRawCollectionError
from launchpad.stores import SQLiteStore
from queue_adapters.queue_launcher import setup_offline_job
from rocket import launch_rocket, rapidfire
from tests.conftest import ManualClock
from tests.fireworks_port.core_tasks import (
    DetoursTask,
    ExceptionTestTask,
    ExecutionCounterTask,
    FastUpdateTask,
    SlowAdditionTask,
)


@pytest.fixture
def here(tmp_path, monkeypatch):
    """FireWorks' MODULE_DIR: where rockets run and launcher_* directories appear."""
    monkeypatch.chdir(tmp_path)
    return str(tmp_path)


@pytest.fixture
def fworker():
    return FWorker()


def _on_mongo(lp):
    return lp.store.kind != "sqlite"


def _echo(text):
    return ScriptTask.from_str(f'echo "{text}"', {"store_stdout": True})


# -- AuthenticationTest ----------------------------------------------------------------------
@pytest.mark.parametrize(("authsource", "expected"), [(None, "not_the_admin_db"), ("admin", "admin")])
def test_authsource(monkeypatch, authsource, expected):
    """Which database a user authenticates against: the one named (FireWorks'
    test_authsource_inferred_from_db_name), unless ``authsource`` names another. Whether the
    server then refuses a user without rights there needs a real MongoDB with users, which
    mongomock does not have: the client is mongomock here, and the test reads what it was given."""
    import mongomock
    import pymongo

    given = {}

    def client(*args, **kwargs):
        given.update(kwargs)
        return mongomock.MongoClient()

    monkeypatch.setattr(pymongo, "MongoClient", client)
    lp = LaunchPad(name="not_the_admin_db", username="my-user", password="my-password", authsource=authsource)
    assert (given["username"], given["authSource"]) == ("my-user", expected)
    assert lp.to_dict()["authsource"] == expected
    assert lp.get_fw_ids() == []


# -- LaunchPadTest ---------------------------------------------------------------------------
def test_dict_from_file(lp, here):
    """to_file, from_file, to_dict and from_dict give a LaunchPad back."""
    path = os.path.join(here, "launchpad.yaml")
    lp.to_file(path)
    from_file = LaunchPad.from_file(path)
    assert isinstance(LaunchPad.from_dict(from_file.to_dict()), LaunchPad)


def _count_wfs(lp):
    """FireWorks' ``lp.workflows.count_documents({})``: raw collections exist on MongoDB only."""
    if _on_mongo(lp):
        return lp.workflows.count_documents({})
    with pytest.raises(NoRawCollectionError):
        lp.workflows  # noqa: B018 - the embedded store has no raw collections: the error names the API
    return len(lp.get_wf_ids())


def test_reset(lp):
    """reset without a password only below max_reset_wo_password, with FireWorks' messages."""
    lp.add_wf(Workflow([Firework(ScriptTask.from_str('echo "hello"'), name="hello")], name="test_workflow"))
    refused = (
        "Password check cannot be overridden since the size of DB (1 workflows) "
        "is greater than the max_reset_wo_password parameter (0)."
    )
    with pytest.raises(ValueError, match=re.escape(refused)):
        lp.reset("", require_password=False, max_reset_wo_password=0)
    assert _count_wfs(lp) == 1
    lp.reset("", require_password=False)
    assert not lp.get_fw_ids()
    assert not lp.get_wf_ids()

    for _ in range(30):
        lp.add_wf(Workflow([Firework(ScriptTask.from_str('echo "hello"'))]))
    with pytest.raises(ValueError, match=r"Invalid password! Password is today's date: "):
        lp.reset("")
    lp.reset("", False, 100)
    assert not lp.get_wf_ids()


def test_pw_check(lp):
    lp.add_wf(Firework(ScriptTask.from_str('echo "hello"'), name="hello"))
    with pytest.raises(ValueError, match=r"Invalid password! Password is today's date: "):
        lp.reset("")


def test_add_wf(lp):
    """A bare Firework is a workflow; adding it again inside a new workflow gives it a new id."""
    fw = Firework(ScriptTask.from_str('echo "hello"'), name="hello")
    lp.add_wf(fw)
    assert len(lp.get_wf_ids()) == 1
    for fw_id in lp.get_wf_ids():
        assert len(lp.get_wf_by_fw_id_lzyfw(fw_id).id_fw) == 1
    fw2 = Firework(ScriptTask.from_str('echo "goodbye"'), name="goodbye")
    lp.add_wf(Workflow([fw, fw2], name="test_workflow"))
    assert len(lp.get_fw_ids()) == 3


def test_add_wfs(lp):
    """bulk_add_wfs: every firework gets its own id, every workflow is stored."""
    task = ScriptTask.from_str('echo "lorem ipsum"')
    wfs = []
    for _ in range(50):
        wfs.append(Workflow([Firework(task, name="lorem") for _ in range(3)], name="lorem wf"))
        wfs.append(Workflow([Firework(task, name="lorem") for _ in range(5)], name="lorem wf"))
    lp.bulk_add_wfs(wfs)
    total = sum(len(wf) for wf in wfs)
    if _on_mongo(lp):
        assert len(lp.fireworks.distinct("fw_id", {"name": "lorem"})) == total
    assert len(set(lp.get_fw_ids({"name": "lorem"}))) == total
    assert len(lp.get_wf_ids({"name": "lorem wf"})) == len(wfs)


def _forget_id_counters(lp):
    """What FireWorks' test_uninitialized_database simulates: the id counters are gone."""
    if _on_mongo(lp):
        lp.store.counters.delete_many({})
    else:
        with lp.store.transaction() as conn:
            conn.execute("DELETE FROM counters")


def test_uninitialized_database(lp):
    """With its id counters gone, the store refuses to add a workflow (a ValueError, as
    FireWorks' "Could not get next FW id") rather than give an id twice."""
    lp.add_wf(Firework(ScriptTask.from_str("echo"), name="first"))
    _forget_id_counters(lp)
    with pytest.raises(ValueError):
        lp.add_wf(Firework(ScriptTask.from_str("echo"), name="second"))
    assert [lp.get_fw_by_id(i).name for i in lp.get_fw_ids()] == ["first"]


def test_database_operation_failure(mongomock_lp):
    """MongoDB refusing the id counter ("not authorized") reaches the caller with the
    server's reason, and nothing is added. (MongoDB only: the failure is the server's.)"""
    from pymongo.errors import OperationFailure

    class Refusing:
        def __init__(self, collection):
            self.collection = collection

        def find_one_and_update(self, *args, **kwargs):
            raise OperationFailure("not authorized")

        def __getattr__(self, name):
            return getattr(self.collection, name)

    mongomock_lp.store.counters = Refusing(mongomock_lp.store.counters)
    with pytest.raises(ValueError, match="not authorized"):
        mongomock_lp.add_wf(Firework(ScriptTask.from_str("echo")))
    assert mongomock_lp.get_fw_ids() == []


@pytest.fixture
def mongomock_lp(tmp_path):
    from tests.conftest import make_store

    return LaunchPad(make_store("mongomock", tmp_path))


# -- LaunchPadDefuseReigniteRerunArchiveDeleteTest and WorkflowFireworkStatesTest ------------
ZEUS = 2
ZEUS_CHILDREN = {7, 8, 9, 11, 14}
LAPETUS_DESCENDANTS = {6, 10, 12, 13}
ZEUS_SIBLINGS = {3, 4, 5}
ALL_IDS = ZEUS_CHILDREN | LAPETUS_DESCENDANTS | ZEUS_SIBLINGS | {ZEUS, 1}


def _titans(zeus_task=None):
    """FireWorks' 14-firework family: Cronus (1) over Zeus (2) and his siblings, Lapetus (6)
    apart, and their children, some with two parents."""
    fws = {1: Firework(_echo("Cronus"), name="parent", fw_id=1)}

    def add(fw_id, name, parents, task=None):
        fws[fw_id] = Firework(task or _echo(name), name=name, fw_id=fw_id, parents=[fws[p] for p in parents])

    add(2, "sib1", [1], zeus_task)
    for fw_id in (3, 4, 5):
        add(fw_id, f"sib{fw_id - 1}", [1])
    add(6, "cousin1", [])
    add(7, "c1", [2])
    add(8, "c2", [2, 5])
    add(9, "c3", [4, 8])
    add(10, "c4", [6])
    add(11, "c5", [2, 10])
    add(12, "c6", [6])
    add(13, "c7", [12])
    add(14, "c8", [2, 13])
    return Workflow(list(fws.values()))


@pytest.fixture
def titans(lp, here):
    lp.add_wf(_titans())
    return lp


def _ids(lp, state):
    return set(lp.get_fw_ids({"state": state}))


def _not_completed(lp):
    return set(lp.get_fw_ids({"state": {"$nin": ["COMPLETED"]}}))


def _hold_zeus_and_run(lp, fworker, here, hold, state):
    """Pause or defuse Zeus, then rapidfire: all but Zeus and his children complete."""
    hold(ZEUS)
    assert ZEUS in lp.get_fw_ids({"state": state})
    rapidfire(lp, fworker, m_dir=here)
    completed = _ids(lp, "COMPLETED")
    assert LAPETUS_DESCENDANTS <= completed
    assert ZEUS_SIBLINGS <= completed
    assert {ZEUS} | ZEUS_CHILDREN <= _not_completed(lp)


def test_pause_fw(titans, fworker, here):
    _hold_zeus_and_run(titans, fworker, here, titans.pause_fw, "PAUSED")
    titans.resume_fw(ZEUS)
    rapidfire(titans, fworker, m_dir=here)
    assert {ZEUS} | ZEUS_CHILDREN <= _ids(titans, "COMPLETED")


def test_defuse_fw(titans, fworker, here):
    _hold_zeus_and_run(titans, fworker, here, titans.defuse_fw, "DEFUSED")


def test_defuse_fw_after_completion(titans, fworker, here):
    lp = titans
    rapidfire(lp, fworker, m_dir=here)
    lp.defuse_fw(ZEUS)
    assert ZEUS in lp.get_fw_ids({"state": "DEFUSED"})
    assert not ZEUS_CHILDREN <= _ids(lp, "COMPLETED")


def test_reignite_fw(titans, fworker, here):
    _hold_zeus_and_run(titans, fworker, here, titans.defuse_fw, "DEFUSED")
    titans.reignite_fw(ZEUS)
    rapidfire(titans, fworker, m_dir=here)
    assert {ZEUS} | ZEUS_CHILDREN <= _ids(titans, "COMPLETED")


def _hold_wf_and_run(lp, fworker, here, hold, state):
    """Pause or defuse Zeus' workflow, then rapidfire: nothing runs."""
    hold(ZEUS)
    assert ZEUS in lp.get_fw_ids({"state": state})
    rapidfire(lp, fworker, m_dir=here)
    assert _not_completed(lp) == ALL_IDS


def test_pause_wf(titans, fworker, here):
    _hold_wf_and_run(titans, fworker, here, titans.pause_wf, "PAUSED")


def test_defuse_wf(titans, fworker, here):
    _hold_wf_and_run(titans, fworker, here, titans.defuse_wf, "DEFUSED")


@pytest.mark.parametrize("all_states", [False, True])
def test_defuse_wf_leaves_finished_fireworks_unless_all_states(lp, fworker, here, all_states):
    """FireWorks' defuse_wf rule behind these scenarios: COMPLETED and FIZZLED fireworks
    are defused only with ``defuse_all_states`` (its default, not its lpad's)."""
    done = Firework(ScriptTask.from_str("true"), name="done")
    failed = Firework(ScriptTask.from_str("false"), name="failed")
    waiting = Firework(ScriptTask.from_str("true"), name="waiting", parents=[done])
    lp.add_wf(Workflow([done, failed, waiting]))  # renumbers the objects in place
    ids = (done.fw_id, failed.fw_id, waiting.fw_id)
    launch_rocket(lp, fworker, fw_id=done.fw_id)
    launch_rocket(lp, fworker, fw_id=failed.fw_id)
    assert [lp.get_fw_by_id(i).state for i in ids] == ["COMPLETED", "FIZZLED", "READY"]
    lp.defuse_wf(done.fw_id, defuse_all_states=all_states)
    states = [lp.get_fw_by_id(i).state for i in ids]
    assert states == (["DEFUSED"] * 3 if all_states else ["COMPLETED", "FIZZLED", "DEFUSED"])


def test_defuse_wf_after_partial_run(titans, fworker, here):
    """defuse_wf's default (``defuse_all_states=True``) defuses the firework that already
    ran too: nothing is COMPLETED afterwards, and nothing runs."""
    lp = titans
    launch_rocket(lp, fworker)
    assert _ids(lp, "COMPLETED") == {1}
    lp.defuse_wf(ZEUS)
    assert ZEUS in lp.get_fw_ids({"state": "DEFUSED"})
    assert not _ids(lp, "COMPLETED")
    rapidfire(lp, fworker, m_dir=here)
    assert not _ids(lp, "COMPLETED")


def test_reignite_wf(titans, fworker, here):
    _hold_wf_and_run(titans, fworker, here, titans.defuse_wf, "DEFUSED")
    titans.reignite_wf(ZEUS)
    rapidfire(titans, FWorker(), m_dir=here)
    assert _ids(titans, "COMPLETED") == ALL_IDS


def test_archive_wf(titans, fworker, here):
    lp = titans
    launch_rocket(lp, fworker)
    lp.archive_wf(ZEUS)
    assert _ids(lp, "ARCHIVED") == ALL_IDS
    rapidfire(lp, fworker, m_dir=here)
    assert not _ids(lp, "COMPLETED")
    assert lp.get_fw_by_id(ZEUS).state == "ARCHIVED"


@pytest.mark.parametrize("delete_launch_dirs", [False, True])
def test_delete_wf(titans, fworker, here, delete_launch_dirs):
    """test_delete_wf and test_delete_wf_and_files: the workflow goes; its launch
    directory stays unless asked."""
    lp = titans
    rapidfire(lp, fworker, nlaunches=1)
    first_ldir = lp.get_fw_by_id(lp.get_fw_ids({"state": "COMPLETED"})[0]).launches[0].launch_dir
    assert os.path.isdir(first_ldir)
    if delete_launch_dirs:
        lp.delete_wf(ZEUS, delete_launch_dirs=True)
    else:
        lp.delete_wf(ZEUS)
    with pytest.raises(ValueError, match=f"no firework with id {ZEUS}"):  # starshell's words
        lp.get_wf_by_fw_id(ZEUS)
    assert not lp.get_fw_ids()
    assert not lp.get_wf_ids()
    assert os.path.isdir(first_ldir) is not delete_launch_dirs


def test_rerun_fws2(titans, fworker, here):
    """A rerun sends the descendants back to WAITING; the new launches start later, in a new
    directory, and the siblings keep their first launch."""
    lp = titans
    rapidfire(lp, fworker, m_dir=here)
    first_ldir = lp.get_fw_by_id(ZEUS).launches[0].launch_dir
    ts = datetime.datetime.now(timezone.utc)
    assert ZEUS_CHILDREN <= _ids(lp, "COMPLETED")

    lp.rerun_fw(ZEUS, rerun_duplicates=True)
    assert ZEUS_CHILDREN <= _ids(lp, "WAITING")
    rapidfire(lp, fworker, m_dir=here)

    launch = lp.get_fw_by_id(ZEUS).launches[0]
    assert launch.launch_dir != first_ldir
    assert launch.time_start > ts
    for fw_id in ZEUS_CHILDREN:
        assert lp.get_fw_by_id(fw_id).launches[0].time_start > ts
    for fw_id in ZEUS_SIBLINGS:
        assert not lp.get_fw_by_id(fw_id).launches[0].time_start > ts


def _assert_states_in_sync(lp, fw_id):
    """WorkflowFireworkStatesTest's check: the workflow's fw_states are its fireworks' states."""
    wf = lp.get_wf_by_fw_id_lzyfw(fw_id)
    assert set(wf.fw_states) == set(wf.id_fw)
    for each, state in wf.fw_states.items():
        assert wf.id_fw[each].state == state


def test_states_in_sync_defuse_fw(titans, fworker, here):
    lp = titans
    lp.defuse_fw(ZEUS)
    _assert_states_in_sync(lp, ZEUS)
    rapidfire(lp, fworker, m_dir=here)
    _assert_states_in_sync(lp, ZEUS)


def test_states_in_sync_defuse_fw_after_completion(titans, fworker, here):
    lp = titans
    rapidfire(lp, fworker, m_dir=here)
    lp.defuse_fw(ZEUS)
    _assert_states_in_sync(lp, ZEUS)


def test_states_in_sync_defuse_wf(titans):
    lp = titans
    lp.defuse_wf(ZEUS)
    assert ZEUS in lp.get_fw_ids({"state": "DEFUSED"})
    _assert_states_in_sync(lp, ZEUS)


@pytest.mark.parametrize("scope", ["fw", "wf"])
def test_states_in_sync_reignite(titans, fworker, here, scope):
    """test_reignite_fw and test_reignite_wf of WorkflowFireworkStatesTest."""
    lp = titans
    getattr(lp, f"defuse_{scope}")(ZEUS)
    rapidfire(lp, fworker, m_dir=here)
    getattr(lp, f"reignite_{scope}")(ZEUS)
    _assert_states_in_sync(lp, ZEUS)


def test_states_in_sync_archive_wf(titans, fworker):
    lp = titans
    launch_rocket(lp, fworker)
    lp.archive_wf(ZEUS)
    _assert_states_in_sync(lp, ZEUS)


def test_states_in_sync_rerun_fws(titans, fworker, here):
    lp = titans
    rapidfire(lp, fworker, m_dir=here)
    assert lp.get_fw_by_id(ZEUS).launches[0].launch_dir
    lp.rerun_fw(ZEUS, rerun_duplicates=True)
    _assert_states_in_sync(lp, ZEUS)


@pytest.fixture
def clocked_lp(store):
    """A LaunchPad whose time moves only when the test says (FireWorks' tests sleep)."""
    return LaunchPad(store, clock=ManualClock(datetime.datetime.now(timezone.utc)))


def _abandon_a_run(lp, fworker, here, fw_id=None):
    """What FireWorks' tests get by terminating a rocket's process: a RUNNING launch
    that will never report again."""
    fw, launch_id = lp.checkout_fw(fworker, here, fw_id=fw_id)
    assert fw is not None
    return launch_id


def test_states_in_sync_rerun_timed_fws(clocked_lp, fworker, here):
    """A rapidfire killed while Zeus (a timed task) runs: lost runs are found and refreshed,
    states stay in sync, and the rerun completes."""
    lp = clocked_lp
    lp.add_wf(_titans(zeus_task=PyTask(func="time.sleep", args=[0.01])))
    launch_rocket(lp, fworker)  # Cronus
    _abandon_a_run(lp, fworker, here, fw_id=ZEUS)
    lp.clock.advance(1)
    lost_launch_ids, lost_fw_ids = lp.detect_lostruns(expiration_secs=0.5, refresh=True)
    assert lost_fw_ids == [ZEUS]
    _assert_states_in_sync(lp, ZEUS)
    for fw_id in lost_fw_ids:
        lp.rerun_fw(fw_id)
    _assert_states_in_sync(lp, ZEUS)
    rapidfire(lp, fworker, m_dir=here)
    _assert_states_in_sync(lp, ZEUS)
    assert _ids(lp, "COMPLETED") == ALL_IDS


# -- LaunchPadLostRunsDetectTest ------------------------------------------------------------
@pytest.fixture
def timer(clocked_lp):
    clocked_lp.add_wf(Firework(PyTask(func="time.sleep", args=[5]), name="timer"))
    return clocked_lp.get_fw_ids({"name": "timer"}, limit=1)[0]


def test_detect_lostruns(clocked_lp, timer, fworker, here):
    """detect_lostruns by silence, by runtime bounds, and with rerun. starshell returns the
    pair (launch ids, fw ids); FireWorks' third item is ``.inconsistent``."""
    lp = clocked_lp
    _abandon_a_run(lp, fworker, here)
    lp.clock.advance(1)
    assert lp.detect_lostruns(0.01, max_runtime=5, min_runtime=0) == ([1], [1])
    lp.clock.advance(4)
    lost_launch_ids, lost_fw_ids = lp.detect_lostruns(2)
    assert (lost_launch_ids, lost_fw_ids) == ([1], [1])
    assert lp.detect_lostruns(2).inconsistent == []
    assert lp.detect_lostruns(2, min_runtime=10) == ([], [])  # it did not run for 10 s
    assert lp.detect_lostruns(2, max_runtime=-1) == ([], [])  # it ran more than -1 s
    assert lp.detect_lostruns(0.01, max_runtime=5, min_runtime=0, rerun=True) == ([1], [1])
    assert lp.get_fw_by_id(timer).state == "READY"


def test_detect_lostruns_defuse(clocked_lp, timer, fworker, here):
    """A lost run defused in the meantime is not rerun. FireWorks still reports its launch
    as lost (``([1], [])``); starshell's defuse fences the running launch at once, so
    there is no lost run left to report (a deliberate difference)."""
    lp = clocked_lp
    _abandon_a_run(lp, fworker, here)
    lp.clock.advance(1)
    assert lp.detect_lostruns(0.01) == ([1], [1])
    lp.defuse_fw(timer)
    assert lp.get_launch_by_id(1).state == "FENCED"
    assert lp.detect_lostruns(0.01, rerun=True) == ([], [])
    assert lp.get_fw_by_id(timer).state == "DEFUSED"


def test_state_after_run_start(clocked_lp, timer, fworker, here):
    lp = clocked_lp
    _abandon_a_run(lp, fworker, here)
    wf = lp.get_wf_by_fw_id_lzyfw(timer)
    for fw_id in wf.fw_states:
        assert wf.id_fw[fw_id].state == wf.fw_states[fw_id]
        assert wf.fw_states[fw_id] == "RUNNING"


def _run_rocket_from(path, workdir):
    """FireWorks' _run_rocket, in a process of its own: its own LaunchPad on the same file,
    with a short heartbeat (a run is lost once silent for two of its rocket's intervals)."""
    os.chdir(workdir)
    launch_rocket(LaunchPad(SQLiteStore(path)), FWorker(), ping_interval=0.2)


def test_detect_lostruns_of_a_killed_rocket_process(tmp_path, here):
    """FireWorks' way, on the embedded store (a process of its own cannot open mongomock):
    the rocket's process is killed while the firework runs; the run is then lost. starshell
    spares a launch whose heartbeat is younger than two of its rocket's intervals, whatever
    ``expiration_secs`` says, so the test waits for that (0.4 s) instead of none."""
    path = tmp_path / "launchpad.sqlite"
    lp = LaunchPad(SQLiteStore(path))
    lp.add_wf(Firework(PyTask(func="time.sleep", args=[30]), name="timer"))
    rocket = multiprocessing.get_context("fork").Process(target=_run_rocket_from, args=(path, here))
    rocket.start()
    try:
        deadline = time.monotonic() + 20
        while not any(f.state == "RUNNING" for f in lp.get_wf_by_fw_id_lzyfw(1).fws):
            assert time.monotonic() < deadline, "FW never starts running"
            time.sleep(0.05)
    finally:
        rocket.kill()
        rocket.join()
    deadline = time.monotonic() + 10
    while lp.detect_lostruns(0.01, max_runtime=5, min_runtime=0) != ([1], [1]):
        assert time.monotonic() < deadline, "the killed run is never found lost"
        time.sleep(0.1)
    assert lp.detect_lostruns(0.01, min_runtime=10) == ([], [])
    assert lp.detect_lostruns(0.01, max_runtime=-1) == ([], [])
    assert lp.detect_lostruns(0.01, rerun=True) == ([1], [1])
    assert lp.get_fw_by_id(1).state == "READY"


# -- LaunchPadRerunExceptionTest ------------------------------------------------------------
ERROR_DETAILS = {"error": "description", "error_code": 1}


@pytest.fixture
def failing(lp, here):
    """One firework: count, write the date to a file, then fail with details."""
    lp.add_wf(
        Firework(
            [
                ExecutionCounterTask(),
                ScriptTask.from_str('date +"%s %N"', parameters={"stdout_file": "date_file"}),
                ExceptionTestTask(exc_details=ERROR_DETAILS),
            ]
        )
    )
    ExecutionCounterTask.exec_counter = 0
    ExceptionTestTask.exec_counter = 0
    return lp


def _launcher_dirs(here):
    return sorted(glob.glob(os.path.join(here, "launcher_*")))


def test_except_details_on_rerun(failing, fworker, here):
    """FireWorks copies the exception into ``spec._exception_details`` on rerun when
    EXCEPT_DETAILS_ON_RERUN is set; starshell ignores that key and keeps the details on
    the archived FIZZLED launch (a deliberate difference)."""
    lp = failing
    rapidfire(lp, fworker, m_dir=here)
    assert os.getcwd() == here
    lp.rerun_fw(1)
    fw = lp.get_fw_by_id(1)
    assert "_exception_details" not in fw.spec
    assert fw.archived_launches[-1].action.stored_data["_exception"]["_details"] == ERROR_DETAILS


def _recover_and_finish(lp, fworker, here, **recover):
    rapidfire(lp, fworker, m_dir=here)
    assert os.getcwd() == here
    lp.rerun_fw(1, recover_launch="last", **recover)
    lp.update_spec([1], {"skip_exception": True})
    rapidfire(lp, fworker, m_dir=here)
    assert os.getcwd() == here
    fw = lp.get_fw_by_id(1)
    assert fw.state == "COMPLETED"
    assert ExecutionCounterTask.exec_counter == 1
    assert ExceptionTestTask.exec_counter == 2
    return fw


def test_task_level_rerun(failing, fworker, here):
    """The rerun resumes at the failed task, in a new directory; a plain rerun then drops
    the recovery."""
    lp = failing
    _recover_and_finish(lp, fworker, here)
    dirs = _launcher_dirs(here)
    assert not os.path.exists(os.path.join(dirs[1], "date_file"))
    lp.rerun_fw(1)
    assert "_recovery" not in lp.get_fw_by_id(1).spec


def test_task_level_rerun_cp(failing, fworker, here):
    _recover_and_finish(failing, fworker, here, recover_mode="cp")
    dirs = _launcher_dirs(here)
    assert filecmp.cmp(os.path.join(dirs[0], "date_file"), os.path.join(dirs[1], "date_file"))


def test_task_level_rerun_prev_dir(failing, fworker, here):
    fw = _recover_and_finish(failing, fworker, here, recover_mode="prev_dir")
    assert fw.launches[0].launch_dir == fw.archived_launches[0].launch_dir


def test_task_level_rerun_wrong_fw_id(failing):
    with pytest.raises(ValueError, match="no firework with id 999"):
        failing.rerun_fw(999)


def test_task_level_rerun_recover_launch_id(failing, fworker, here):
    rapidfire(failing, fworker, m_dir=here)
    failing.rerun_fw(fw_id=1, recover_launch=1)
    spec = failing.get_fw_by_id(1).spec
    assert isinstance(spec["_recovery"], dict)
    assert spec["_recovery"]["_task_n"] == 2


def test_task_level_rerun_wrong_launch_id(failing, fworker, here):
    rapidfire(failing, fworker, m_dir=here)
    assert os.getcwd() == here
    with pytest.raises(ValueError, match="launch 999 is not a launch of firework 1"):
        failing.rerun_fw(1, recover_launch=999)


def test_task_level_rerun_wrong_state(failing):
    with pytest.raises(ValueError, match="firework 1 has no launch to recover"):
        failing.rerun_fw(1, recover_launch="last")


def test_task_level_rerun_no_recovery_info(failing, fworker, here):
    failing.add_wf(Firework(ScriptTask.from_str("echo")))
    launch_rocket(failing, fworker, fw_id=2)
    with pytest.raises(ValueError, match="launch 1 of firework 2 kept no recovery data"):
        failing.rerun_fw(2, recover_launch="last")


def test_get_recovery_wrong_launch_id(failing):
    with pytest.raises(ValueError, match="no launch with id 999"):
        failing.get_recovery(launch_id=999)


# -- WFLockTest -----------------------------------------------------------------------------
@pytest.mark.parametrize("fizzle", [False, True])
def test_two_parents_finish_around_each_other(lp, fworker, here, fizzle):
    """test_fix_db_inconsistencies_completed / _fizzled: two parents of one child finish
    while the other still runs (the slow one in a thread here, a process in FireWorks).
    FireWorks holds a workflow lock, so the second can be left RUNNING until
    ``_refresh_wf`` repairs it; starshell takes no workflow lock: each result is applied
    as it comes, and the child ends with both parents' spec updates."""
    slow = Firework(SlowAdditionTask(), fw_id=1)
    fast = Firework(FastUpdateTask(), spec={"fizzle": fizzle}, fw_id=2)
    child = Firework(ScriptTask.from_str('echo "child"'), fw_id=3)
    lp.add_wf(Workflow([slow, fast, child], {slow: [child], fast: [child]}))
    SlowAdditionTask.running.clear()
    SlowAdditionTask.release.clear()
    slow_rocket = threading.Thread(target=launch_rocket, args=(lp, fworker, 1))
    slow_rocket.start()
    try:
        assert SlowAdditionTask.running.wait(10), "the slow parent never started"
        launch_rocket(lp, fworker, fw_id=2)
        assert lp.get_fw_by_id(2).state == ("FIZZLED" if fizzle else "COMPLETED")
        assert lp.get_fw_by_id(1).state == "RUNNING"
        spec = lp.get_fw_by_id(3).spec
        assert "SlowAdditionTask" not in spec
        assert ("WaitWFLockTask" in spec) is not fizzle
    finally:
        SlowAdditionTask.release.set()
        slow_rocket.join(20)
    assert lp.get_fw_by_id(1).state == "COMPLETED"
    child = lp.get_fw_by_id(3)
    assert "SlowAdditionTask" in child.spec
    assert ("WaitWFLockTask" in child.spec) is not fizzle
    assert child.state == ("WAITING" if fizzle else "READY")


# -- LaunchPadOfflineTest -------------------------------------------------------------------
@pytest.fixture
def offline(lp, here):
    lp.add_wf(Firework(_echo("test offline"), name="offline_fw", fw_id=1))
    launch_dir = os.path.join(here, "launcher_offline")
    os.makedirs(launch_dir)
    return launch_dir


def test_recover_completed(lp, offline, fworker, monkeypatch):
    """A reserved firework run with no LaunchPad (offline) is recovered as COMPLETED."""
    _fw, launch_id = lp.reserve_fw(fworker, offline)
    fw = lp.get_fw_by_id(1)
    monkeypatch.chdir(offline)
    setup_offline_job(lp, fw, launch_id)
    launch_rocket(launchpad=None, fworker=fworker, fw_id=1)
    assert lp.recover_offline(launch_id) is None
    assert lp.get_fw_by_id(1).state == "COMPLETED"


def test_recover_errors(lp, offline, fworker, monkeypatch, here):
    """With its directory gone, recovery reports the firework: ignoring errors it stays
    RESERVED, otherwise it is FIZZLED."""
    _fw, launch_id = lp.reserve_fw(fworker, offline)
    fw = lp.get_fw_by_id(1)
    monkeypatch.chdir(offline)
    setup_offline_job(lp, fw, launch_id)
    monkeypatch.chdir(here)
    shutil.rmtree(offline)
    assert lp.recover_offline(launch_id, ignore_errors=True, print_errors=True) is not None
    assert lp.get_fw_by_id(1).state == "RESERVED"
    assert lp.recover_offline(launch_id, ignore_errors=False) is not None
    assert lp.get_fw_by_id(1).state == "FIZZLED"


# -- GridfsStoredDataTest -------------------------------------------------------------------
DETOURS = 300  # FireWorks: 2,000 with 1 MB each, to pass MongoDB's 16 MB document limit


def test_many_detours(lp, fworker, here, monkeypatch):
    """An FWAction with many detours is stored whole and read back whole, in a few writes
    (one per detour made 2,000 detours take 13 s on SQLite, 72 s on mongomock)."""
    lp.add_wf(Firework([DetoursTask(n_detours=DETOURS)]))
    updates = []
    real_update = lp.store.update_fireworks
    monkeypatch.setattr(
        lp.store, "update_fireworks", lambda *a, **k: updates.append(a) or real_update(*a, **k)
    )
    rapidfire(lp, fworker, nlaunches=1)
    assert len(updates) < 10
    assert lp.get_fw_by_id(1).state == "COMPLETED"
    assert lp.get_fw_ids(count_only=True) == DETOURS + 1
    assert len(lp.get_launch_by_id(1).action.detours) == DETOURS
    wf = lp.get_wf_by_fw_id_lzyfw(1)
    assert len(wf.id_fw[1].launches[0].action.detours) == DETOURS
    assert wf.links[1] == list(range(2, DETOURS + 2))
    assert lp.get_fw_ids({"state": "READY"}, count_only=True) == DETOURS


def test_many_detours_offline(lp, fworker, here, monkeypatch):
    """The same FWAction, from a firework run offline and recovered with recover_offline."""
    lp.add_wf(Firework([DetoursTask(n_detours=DETOURS)]))
    launch_dir = os.path.join(here, "launcher_offline")
    os.makedirs(launch_dir)
    _fw, launch_id = lp.reserve_fw(fworker, launch_dir)
    monkeypatch.chdir(launch_dir)
    setup_offline_job(lp, lp.get_fw_by_id(1), launch_id)
    launch_rocket(launchpad=None, fworker=fworker, fw_id=1)
    assert lp.recover_offline(launch_id) is None
    assert lp.get_fw_by_id(1).state == "COMPLETED"
    assert len(lp.get_launch_by_id(launch_id).action.detours) == DETOURS
    assert lp.get_fw_ids(count_only=True) == DETOURS + 1


def test_an_action_over_mongodbs_document_limit(lp, fworker, here):
    """FireWorks' detours at 17 MB in all: the embedded store keeps them. On MongoDB, where
    FireWorks falls back to GridFS, starshell fizzles the firework with the reason (the
    write used to fail half-way on a real server; mongomock itself has no limit)."""
    lp.add_wf(Firework([DetoursTask(n_detours=16, data_per_detour=["a" * 100] * 10_000)]))
    rapidfire(lp, fworker, nlaunches=1)
    fw = lp.get_fw_by_id(1)
    if _on_mongo(lp):
        assert fw.state == "FIZZLED"
        assert "16 MB document limit" in lp.get_launch(1)["exception"]["message"]
        assert lp.get_fw_ids(count_only=True) == 1
    else:
        assert fw.state == "COMPLETED"
        assert lp.get_fw_ids(count_only=True) == 17
