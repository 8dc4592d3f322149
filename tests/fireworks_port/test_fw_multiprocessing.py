"""FireWorks' fireworks/tests/multiprocessing_tests.py: ``Workflow.Links`` pickles, and
``launch_multiprocess`` runs fireworks in several processes at once.

starshell's ``launch_multiprocess`` starts ``rlaunch`` processes that open the
store themselves (FireWorks shares one LaunchPad through a DataServer), so its
scenarios run on the embedded store; an in-memory mongomock store cannot be
opened by another process, which ``launch_multiprocess`` says (docs/fireworks.md).
"""

import pickle

import pytest

from launchpad import Firework, FWorker, ScriptTask, Workflow
from launchpad.errors import ConfigError
from rocket import launch_multiprocess


def test_pickle():
    links = Workflow.Links({1: 2, 3: [5, 7, 8]})
    assert str(pickle.loads(pickle.dumps(links))) == str(links)


def writing(text):
    return ScriptTask.from_str(f'echo "{text}"', parameters={"stdout_file": "task.out"})


def test_checkout_fw(sqlite_lp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sqlite_lp.add_wf(Firework(writing("hello 1"), fw_id=1))
    sqlite_lp.add_wf(Firework(writing("hello 2"), fw_id=2))
    assert launch_multiprocess(sqlite_lp, FWorker(), "DEBUG", 0, 2, 0.2) == 0
    for fw_id in (1, 2):
        launch = sqlite_lp.get_fw_by_id(fw_id).launches[0]
        assert launch.state_history[-1]["state"] == "COMPLETED"
        assert (tmp_path / launch.launch_dir / "task.out").read_text() == f"hello {fw_id}\n"


def test_early_exit(sqlite_lp, tmp_path, monkeypatch):
    """A diamond on two processes: neither exits while the other's firework can still
    ready more work, so the two middle fireworks run in different processes."""
    monkeypatch.chdir(tmp_path)
    script = "echo hello from process $PPID; sleep 1"
    fws = [Firework(writing("x"), fw_id=i) for i in (1, 2, 3, 4)]
    for fw in fws:
        fw.tasks[0]["script"] = [script]
    sqlite_lp.add_wf(Workflow(fws, {1: [2, 3], 2: [4], 3: [4]}))
    launch_multiprocess(sqlite_lp, FWorker(), "DEBUG", 0, 2, sleep_time=0.2)
    texts = [
        (tmp_path / sqlite_lp.get_fw_by_id(i).launches[0].launch_dir / "task.out").read_text() for i in (2, 3)
    ]
    assert texts[0] != texts[1]
    assert {sqlite_lp.get_fw_by_id(i).state for i in (1, 2, 3, 4)} == {"COMPLETED"}


@pytest.mark.parametrize("store", ["mongomock"], indirect=True)
def test_a_store_other_processes_cannot_open_is_refused(lp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lp.add_wf(Firework(writing("never")))
    with pytest.raises(ConfigError, match="other processes can open"):
        launch_multiprocess(lp, FWorker(), "INFO", 0, 2, 0)
