"""FireWorks' options of detect_lostruns (launchpad/lostruns.py): runtime bounds, queries,
inconsistent fireworks and --refresh; on every store, and through lpad."""

import pytest
from conftest import ManualClock

from launchpad import Firework, FWAction, LaunchPad, Workflow
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask


@pytest.fixture
def clocked(store):
    clock = ManualClock()
    return LaunchPad(store, clock=clock), clock


def three_runs(lp, clock):
    """Launches that ran 100 s, 1,000 s and 5,000 s (start to last heartbeat), then fell silent."""
    lp.add_wf(Workflow([Firework(ScriptTask(script="true"), fw_id=i, name=f"n{i}") for i in (1, 2, 3)]))
    launches = {fw_id: lp.claim_to_run(fw_id=fw_id, host=f"node{fw_id}")[1] for fw_id in (1, 2, 3)}
    for fw_id, ran in ((1, 100), (2, 1000), (3, 5000)):
        clock.advance(ran)
        lp.ping_launch(launches[fw_id])
    clock.advance(10_000)
    return launches


def test_runtime_bounds_and_queries_narrow_the_lost_runs(clocked):
    lp, clock = clocked
    launches = three_runs(lp, clock)
    assert lp.detect_lostruns(3600) == (list(launches.values()), [1, 2, 3])
    assert lp.detect_lostruns(3600, max_runtime=2000)[1] == [1, 2]
    assert lp.detect_lostruns(3600, min_runtime=500)[1] == [2, 3]
    assert lp.detect_lostruns(3600, min_runtime=500, max_runtime=2000)[1] == [2]
    assert lp.detect_lostruns(3600, query={"name": "n3"})[1] == [3]
    assert lp.detect_lostruns(3600, launch_query={"host": "node1"})[1] == [1]
    lp.detect_lostruns(3600, rerun=True, max_runtime=2000)
    assert [lp.get_fw_dict(i)["state"] for i in (1, 2, 3)] == ["READY", "READY", "RUNNING"]


def test_inconsistent_fireworks_are_listed_and_refresh_gives_them_their_result(clocked):
    lp, _ = clocked
    parent, child = Firework(ScriptTask(script="true"), fw_id=1), Firework(ScriptTask(script="true"), fw_id=2)
    lp.add_wf(Workflow([parent, child], {1: [2]}))
    _, launch_id = lp.claim_to_run()
    # what a MongoDB outage between the two writes of a completion leaves: the launch
    # closed, the firework still RUNNING
    lp.store.update_launch(
        launch_id, {"state": "COMPLETED", "action": FWAction(update_spec={"x": 1}).to_dict()}
    )
    found = lp.detect_lostruns(3600)
    assert found == ([], []) and found.inconsistent == [1]
    assert lp.get_fw_dict(1)["state"] == "RUNNING"
    assert lp.detect_lostruns(3600, refresh=True).inconsistent == [1]
    assert lp.get_fw_dict(1)["state"] == "COMPLETED"
    child_doc = lp.get_fw_dict(2)
    assert child_doc["state"] == "READY" and child_doc["spec"]["x"] == 1
    assert lp.detect_lostruns(3600).inconsistent == []


def test_lpad_detect_lostruns_options(tmp_path):
    from user_commands import new_user

    user = new_user(tmp_path)
    (user.work / "fw.yaml").write_text("spec:\n  _tasks:\n  - _fw_name: ScriptTask\n    script: 'true'\n")
    for _ in range(2):
        assert user.run("lpad", "add", "fw.yaml").returncode == 0
    clock = ManualClock()
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"), clock=clock)
    lp.claim_to_run(fw_id=1)
    clock.advance(300)
    lp.claim_to_run(fw_id=2)
    done = user.run("lpad", "detect_lostruns", "--time", "1", "--min_runtime", "0", "-q", "{'fw_id': 2}")
    assert done.returncode == 0, done.stderr
    assert "launches 2 of fireworks 2" in done.stdout, done.stdout
    rerun = user.run("lpad", "detect_lostruns", "--time", "1", "--rerun", "--max_runtime", "100", "--refresh")
    assert rerun.returncode == 0, rerun.stderr
    assert lp.get_fw_dict(1)["state"] == "READY"
