"""The LaunchPad API on both stores: adding, state commands, lost runs, reservations."""

import pytest
from conftest import ManualClock

from launchpad import FiretaskBase, Firework, FWAction, LaunchPad, Workflow
from launchpad.errors import (
    InvalidArgumentError,
    InvalidTransitionError,
    NotFoundError,
    StaleLaunchError,
    StarshellError,
)
from launchpad.stores import WorkerFilter


class Noop(FiretaskBase):
    _fw_name = "Test Noop"

    def run_task(self, fw_spec):
        return None


def diamond():
    a = Firework(Noop(), name="a", fw_id=1)
    b = Firework(Noop(), name="b", fw_id=2, parents=[a])
    c = Firework(Noop(), name="c", fw_id=3, parents=[a])
    d = Firework(Noop(), name="d", fw_id=4, parents=[b, c])
    return Workflow([a, b, c, d], name="diamond", metadata={"project": "x"})


def run_one(lp, action=None, state="COMPLETED", worker=None):
    fw, launch_id = lp.claim_to_run(worker)
    assert fw is not None, "nothing was READY"
    lp.complete_launch(launch_id, action or FWAction(), state=state, fw_id=fw["fw_id"])
    return fw["fw_id"]


def states(lp):
    return {d["fw_id"]: d["state"] for d in lp.get_fws(fields=["fw_id", "state"])}


def test_add_maps_file_ids_to_fresh_ids(lp):
    assert lp.add_wf(diamond()) == {1: 1, 2: 2, 3: 3, 4: 4}
    assert lp.add_wf(diamond()) == {1: 5, 2: 6, 3: 7, 4: 8}
    assert states(lp)[5] == "READY" and states(lp)[8] == "WAITING"
    wf = lp.get_wf_by_fw_id(6)
    assert wf.name == "diamond" and sorted(wf.links[5]) == [6, 7] and wf.metadata == {"project": "x"}
    assert wf.state == "READY"


def test_add_single_firework_and_dict(lp):
    lp.add_wf(Firework(Noop(), name="solo"))
    lp.add_wf({"fws": [{"fw_id": 7, "spec": {"_tasks": [{"_fw_name": "Test Noop"}]}}], "links": {}})
    assert lp.get_fw_ids() == [1, 2]


def test_diamond_runs_in_dependency_order(lp):
    lp.add_wf(diamond())
    order = [run_one(lp) for _ in range(4)]
    assert order[0] == 1 and order[-1] == 4 and sorted(order[1:3]) == [2, 3]
    assert lp.claim_to_run() == (None, None)
    summary = lp.get_wf_summaries()[0]
    assert summary["state"] == "COMPLETED" and summary["nodes"] == 4
    lp.add_wf(diamond())
    assert lp.wf_state_counts() == {"COMPLETED": 1, "READY": 1}
    assert lp.wf_state_counts({"wf_id": 2}) == {"READY": 1}


def test_fizzled_parent_blocks_children_unless_allowed(lp):
    a = Firework(Noop(), fw_id=1)
    b = Firework(Noop(), fw_id=2, parents=[a])
    c = Firework(Noop(), fw_id=3, parents=[a], spec={"_allow_fizzled_parents": True})
    lp.add_wf(Workflow([a, b, c]))
    run_one(lp, state="FIZZLED")
    assert states(lp) == {1: "FIZZLED", 2: "WAITING", 3: "READY"}
    assert lp.get_fw_dict(3)["spec"]["_fizzled_parents"][0]["fw_id"] == 1
    assert not lp.run_exists() or lp.count_ready() == 1


def test_rerun_resets_descendants_and_recounts_parents(lp):
    lp.add_wf(diamond())
    for _ in range(4):
        run_one(lp)
    assert sorted(lp.rerun_fw(2)) == [2, 4]
    assert states(lp) == {1: "COMPLETED", 2: "READY", 3: "COMPLETED", 4: "WAITING"}
    run_one(lp)
    assert states(lp)[4] == "READY"


def test_defuse_reignite_pause_resume(lp):
    lp.add_wf(diamond())
    lp.defuse_fw(1)
    assert lp.claim_to_run() == (None, None)
    assert not lp.run_exists()
    lp.reignite_fw(1)
    assert states(lp)[1] == "READY"
    lp.pause_fw(1)
    assert states(lp)[1] == "PAUSED"
    with pytest.raises(InvalidTransitionError):
        lp.reignite_fw(1)
    lp.resume_fw(1)
    run_one(lp)
    lp.pause_fw(4)
    run_one(lp), run_one(lp)
    assert states(lp)[4] == "PAUSED"
    lp.resume_fw(4)
    assert states(lp)[4] == "READY"


def test_illegal_transitions_are_refused(lp):
    lp.add_wf(diamond())
    for _ in range(4):
        run_one(lp)
    with pytest.raises(InvalidTransitionError):
        lp.pause_fw(1)
    lp.archive_wf(1)
    assert set(states(lp).values()) == {"ARCHIVED"}
    with pytest.raises(InvalidTransitionError):
        lp.rerun_fw(1)
    with pytest.raises(NotFoundError):
        lp.defuse_fw(99)


def test_workflow_commands_take_any_member_id(lp):
    lp.add_wf(diamond())
    lp.pause_wf(3)
    assert set(states(lp).values()) == {"PAUSED"}
    lp.reignite_wf(2)
    assert states(lp) == {1: "READY", 2: "WAITING", 3: "WAITING", 4: "WAITING"}
    lp.defuse_wf(4)
    assert lp.get_wf_summaries()[0]["state"] == "DEFUSED"
    lp.delete_wf(1)
    assert lp.get_fw_ids() == [] and lp.count_wfs() == 0


def test_rerun_of_running_firework_fences_the_late_result(lp):
    lp.add_wf(diamond())
    fw, launch_id = lp.claim_to_run()
    lp.rerun_fw(fw["fw_id"])
    assert lp.get_launch(launch_id)["state"] == "FENCED"
    assert not lp.ping_launch(launch_id)
    with pytest.raises(StaleLaunchError):
        lp.complete_launch(launch_id, FWAction(update_spec={"bad": 1}), fw_id=fw["fw_id"])
    assert states(lp)[1] == "READY"
    assert "bad" not in lp.get_fw_dict(2)["spec"]
    assert lp.get_launch(launch_id)["late_result"]["state"] == "COMPLETED"
    run_one(lp)
    assert states(lp)[2] == "READY"


def test_defuse_of_running_firework_fences_it(lp):
    lp.add_wf(diamond())
    fw, launch_id = lp.claim_to_run()
    lp.defuse_fw(fw["fw_id"])
    with pytest.raises(StaleLaunchError):
        lp.complete_launch(launch_id, fw_id=fw["fw_id"])
    assert states(lp)[1] == "DEFUSED"


@pytest.fixture
def clocked(store):
    clock = ManualClock()
    return LaunchPad(store, clock=clock), clock


def test_detect_lostruns_then_rerun(clocked):
    lp, clock = clocked
    lp.add_wf(diamond())
    fw, launch_id = lp.claim_to_run()
    clock.advance(100)
    assert lp.detect_lostruns(expiration_secs=200) == ([], [])
    lp.ping_launch(launch_id)
    clock.advance(300)
    assert lp.detect_lostruns(expiration_secs=200) == ([launch_id], [1])
    assert states(lp)[1] == "RUNNING"  # only reported
    lp.detect_lostruns(expiration_secs=200, rerun=True)
    assert states(lp)[1] == "READY"
    assert lp.get_launch(launch_id)["state"] == "FIZZLED"
    with pytest.raises(StaleLaunchError):  # the lost rocket comes back
        lp.complete_launch(launch_id, fw_id=1)
    assert states(lp)[1] == "READY"


def test_detect_lostruns_fizzle(clocked):
    lp, clock = clocked
    lp.add_wf(diamond())
    lp.claim_to_run()
    clock.advance(1000)
    lp.detect_lostruns(expiration_secs=10, fizzle=True)
    assert states(lp)[1] == "FIZZLED"


def test_detect_lostruns_spares_a_run_whose_own_heartbeat_can_be_that_old(clocked):
    lp, clock = clocked
    lp.add_wf(Workflow([Firework(Noop(), fw_id=i) for i in (1, 2, 3)]))
    _, healthy = lp.claim_to_run(fw_id=1, ping_interval=60)
    _, silent = lp.claim_to_run(fw_id=2, ping_interval=60)
    _, unknown = lp.claim_to_run(fw_id=3)  # an older store's launch: no recorded interval
    assert lp.get_launch(healthy)["ping_interval"] == 60
    clock.advance(50)
    lp.ping_launch(healthy)
    clock.advance(70)  # healthy: pinged 70 s ago, less than 2 x 60; silent: 120 s ago
    found = lp.detect_lostruns(expiration_secs=1, rerun=True)
    assert found == ([silent, unknown], [2, 3])
    assert [(s["launch_id"], s["fw_id"], s["ping_interval"]) for s in found.spared] == [(healthy, 1, 60)]
    assert states(lp) == {1: "RUNNING", 2: "READY", 3: "READY"}
    assert lp.get_launch(healthy)["state"] == "RUNNING"
    clock.advance(50)  # now silent for 120 s: two heartbeats missed
    assert lp.detect_lostruns(expiration_secs=1) == ([healthy], [1])


def test_a_reservation_records_the_interval_of_the_rocket_that_starts_it(lp):
    lp.add_wf(diamond())
    _, reserved = lp.claim_for_queue()
    assert "ping_interval" not in lp.get_launch(reserved)
    _, launch_id = lp.claim_to_run(fw_id=1, states=("READY", "RESERVED"), ping_interval=5)
    assert launch_id == reserved and lp.get_launch(reserved)["ping_interval"] == 5


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "60", True])
def test_a_claim_refuses_a_heartbeat_interval_that_is_not_seconds(lp, bad):
    lp.add_wf(diamond())
    with pytest.raises(InvalidArgumentError, match="rlaunch --ping_interval"):
        lp.claim_to_run(ping_interval=bad)
    assert states(lp)[1] == "READY"


def test_retries_with_backoff(clocked):
    lp, clock = clocked
    lp.add_wf(Firework(Noop(), spec={"_retries": 2, "_retry_delay": 10}))
    run_one(lp, state="FIZZLED")
    assert states(lp)[1] == "READY"
    assert lp.claim_to_run() == (None, None)  # held back for 10 s
    assert lp.count_ready() == 0 and lp.claim_for_queue() == (None, None)  # no demand for pilots yet
    assert lp.run_exists()  # but rapidfire should wait for it
    clock.advance(11)
    run_one(lp, state="FIZZLED")
    clock.advance(15)
    assert lp.claim_to_run() == (None, None)  # back-off doubled to 20 s
    clock.advance(10)
    run_one(lp, state="FIZZLED")
    assert states(lp)[1] == "FIZZLED"


def test_interrupt_requeues_or_fizzles(lp):
    lp.add_wf(diamond())
    fw, launch_id = lp.claim_to_run()
    assert lp.interrupt_launch(launch_id, fw["fw_id"], requeue=True)
    assert states(lp)[1] == "READY"
    assert lp.get_launch(launch_id)["interrupted"] is True
    fw, launch_id = lp.claim_to_run()
    lp.interrupt_launch(launch_id, fw["fw_id"], requeue=False)
    assert states(lp)[1] == "FIZZLED"


def test_reservations(lp):
    lp.add_wf(diamond())
    fw, launch_id = lp.claim_for_queue()
    lp.set_reservation_id(launch_id, 4711)
    assert states(lp)[1] == "RESERVED"
    assert lp.get_fw_ids_by_reservation(4711) == [1]
    assert lp.claim_to_run() == (None, None)
    assert [r["launch_id"] for r in lp.get_reservations()] == [launch_id]
    lp.unreserve_fw(1)
    assert states(lp)[1] == "READY"
    fw, launch_id = lp.claim_for_queue()
    claimed, running_launch = lp.claim_to_run(fw_id=1, states=("READY", "RESERVED"))
    assert claimed["fw_id"] == 1


def test_update_spec_and_priority(lp):
    lp.add_wf(Workflow([Firework(Noop(), fw_id=1), Firework(Noop(), fw_id=2)]))
    lp.set_priority(2, 10)
    lp.update_spec([1], {"param": 7, "nested.deep": 1})
    assert lp.get_fw_dict(1)["spec"]["nested"] == {"deep": 1}
    assert run_one(lp) == 2
    assert lp.get_fws({"spec.param": {"$gt": 3}}, fields=["fw_id"]) == [{"fw_id": 1}]
    with pytest.raises(InvalidArgumentError):
        lp.set_priority(1, "high")


def test_worker_filter_in_checkout(lp):
    lp.add_wf(
        Workflow(
            [
                Firework(Noop(), fw_id=1, spec={"_category": "gpu"}),
                Firework(Noop(), fw_id=2, spec={"_fworker": "alice"}),
            ]
        )
    )
    assert lp.claim_to_run(WorkerFilter(name="bob", category="__none__")) == (None, None)
    assert lp.count_ready(WorkerFilter(name="alice")) == 2
    assert lp.claim_to_run(WorkerFilter(name="bob", category="gpu"))[0]["fw_id"] == 1


def test_get_launchdir(lp):
    lp.add_wf(diamond())
    with pytest.raises(NotFoundError):
        lp.get_launchdir(1)
    fw, launch_id = lp.claim_to_run(launch_dir="/scratch/x")
    assert lp.get_launchdir(1) == "/scratch/x"
    with pytest.raises(NotFoundError):
        lp.get_launchdir(77)


def test_reset_needs_todays_date(lp):
    lp.add_wf(diamond())
    with pytest.raises(StarshellError):
        lp.reset("1999-01-01")
    lp.reset(lp.today())
    assert lp.get_fw_ids() == []


def test_workflow_ids_by_derived_state_in_sort_order(lp):
    """get_wf_ids(state=...) and get_wf_summaries(state=...) page through ids, not documents."""
    wf_ids = []
    for i in range(5):
        ids = lp.add_wf(Workflow([Firework(Noop(), name=f"only {i}", fw_id=1)], name=f"wf {i}"))
        wf_ids.append(lp.wf_id_of(ids[1]))
        if i in (1, 3, 4):
            lp.pause_fw(ids[1])
    paused = [wf_ids[1], wf_ids[3], wf_ids[4]]
    assert lp.get_wf_ids(state="PAUSED") == paused
    assert lp.get_wf_ids(state="PAUSED", sort=[("wf_id", -1)], limit=2) == paused[::-1][:2]
    assert lp.get_wf_ids(state="READY", count_only=True) == 2
    assert lp.get_wf_ids({"name": {"$in": ["wf 0", "wf 3"]}}, state="PAUSED") == [wf_ids[3]]
    assert lp.get_wf_ids(sort=[("name", -1)]) == wf_ids[::-1]
    page = lp.get_wf_summaries(state="PAUSED", sort=[("wf_id", 1)], limit=1, skip=1)
    assert [(d["wf_id"], d["state"], d["nodes"]) for d in page] == [(wf_ids[3], "PAUSED", 1)]
