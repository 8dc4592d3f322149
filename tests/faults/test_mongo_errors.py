"""MongoDB connection errors (AutoReconnect, ServerSelectionTimeoutError) injected into
the pymongo layer: short outages are retried with backoff and change nothing; a lost
reply to a write that did happen is not applied twice; a long outage ends in one clear
StoreUnavailableError."""

import threading
import uuid

import pytest

from launchpad import Firework, FWAction, LaunchPad, Workflow
from launchpad.errors import StoreUnavailableError
from launchpad.stores.mongo import MongoStore
from launchpad.tasks import PyTask
from rocket import rapidfire

from .conftest import assert_clean, record_figures, size
from .flaky_mongo import Faults, make_flaky

pytestmark = [pytest.mark.faults, pytest.mark.timeout(size(120, 900))]

RAN = []
_RAN_LOCK = threading.Lock()


def note_run(tag):
    with _RAN_LOCK:
        RAN.append(tag)


def flaky_lp(**fault_options):
    faults = Faults(**fault_options)
    store = make_flaky(MongoStore.connect(mongomock=True, name=f"flaky_{uuid.uuid4().hex[:8]}"), faults)
    return LaunchPad(store), faults


def fw(tag, **kwargs):
    return Firework(PyTask(func="faults.test_mongo_errors.note_run", args=[tag]), name=tag, **kwargs)


def fan_in():
    """Two parents, one child: a parent's release applied twice would free the child early."""
    a, b = fw("a", fw_id=1), fw("b", fw_id=2)
    return Workflow([a, b, fw("c", fw_id=3, parents=[a, b])])


def states(lp):
    return {d["name"]: d["state"] for d in lp.get_fws(fields=["name", "state"])}


def run_one(lp, fw_id=None):
    fw_doc, launch_id = lp.claim_to_run(fw_id=fw_id)
    lp.complete_launch(launch_id, FWAction(), fw_id=fw_doc["fw_id"])
    return fw_doc["fw_id"]


# -- short outages -----------------------------------------------------------------
def test_errors_before_the_request_are_retried_with_backoff():
    lp, faults = flaky_lp()
    faults.script = [
        ("fireworks.insert_many", "before"),
        ("fireworks.find", "before"),
        ("fireworks.insert_many", "before"),
    ]
    lp.add_wf(fan_in())
    assert lp.store.slept == [0.2, 0.4, 0.8]  # three failures in a row, the wait doubling
    faults.script = [
        ("find_one_and_update", "before"),
        ("find", "before"),
        ("update_one", "before"),
        ("update_many", "before"),
        ("count_documents", "before"),
    ]
    run_one(lp)
    run_one(lp)
    assert lp.run_exists()
    assert states(lp) == {"a": "COMPLETED", "b": "COMPLETED", "c": "READY"}
    assert len(faults.injected) == 8
    assert_clean(lp)


# -- a lost reply to a write the server applied ------------------------------------
@pytest.mark.parametrize("target", ["fireworks.insert_many", "workflows.insert_many"])
def test_lost_reply_to_an_insert_does_not_fail_the_add(target):
    lp, faults = flaky_lp(script=[(target, "after")])
    lp.add_wf(fan_in())
    assert faults.injected and lp.get_fw_ids() == [1, 2, 3] and lp.count_wfs() == 1
    assert_clean(lp)


def test_lost_reply_to_a_claim_does_not_claim_a_second_firework():
    lp, faults = flaky_lp(script=[("find_one_and_update", "after")])
    lp.add_wf(Workflow([fw("a"), fw("b")]))
    lp.store.next_ids("launch")  # the counter call is not the one that fails
    faults.script = [("fireworks.find_one_and_update", "after")]
    claimed, launch_id = lp.claim_to_run()
    assert faults.injected
    assert lp.fw_state_counts() == {"RUNNING": 1, "READY": 1}
    assert lp.get_fw_dict(claimed["fw_id"])["current_launch"] == launch_id
    assert_clean(lp)


def test_lost_reply_to_a_completion_is_not_taken_for_a_fenced_launch():
    lp, faults = flaky_lp()
    lp.add_wf(fan_in())
    claimed, launch_id = lp.claim_to_run()
    faults.script = [("fireworks.update_one", "after")]
    lp.complete_launch(launch_id, FWAction(), fw_id=claimed["fw_id"])  # no StaleLaunchError
    assert faults.injected
    assert lp.get_launch(launch_id)["state"] == "COMPLETED"
    assert_clean(lp)


def test_lost_reply_to_a_release_does_not_free_the_child_early():
    lp, faults = flaky_lp()
    lp.add_wf(fan_in())
    faults.script = [("fireworks.update_many", "after")]
    run_one(lp, fw_id=1)
    assert faults.injected
    assert states(lp)["c"] == "WAITING" and lp.get_fw_dict(3)["waiting_on"] == 1
    assert_clean(lp)


def test_lost_reply_to_a_heartbeat_still_counts():
    lp, faults = flaky_lp()
    lp.add_wf(fan_in())
    claimed, launch_id = lp.claim_to_run()
    faults.script = [("launches.update_one", "after")]
    assert lp.ping_launch(launch_id) is True
    assert faults.injected


# -- many errors, everywhere -------------------------------------------------------
def test_random_errors_everywhere_change_nothing_but_time():
    """Rockets in threads over a flaky store: each firework runs exactly once."""
    n = size(300, 1200)
    lp, faults = flaky_lp(rate=0.05, seed=66)
    fws = [fw(str(i), fw_id=i) for i in range(1, n + 1)]
    links = {i: [i + 1] for i in range(1, 20)}
    links[20] = list(range(21, 61))
    links.update({i: [61] for i in range(21, 61)})
    lp.add_wf(Workflow(fws, links))
    RAN.clear()
    errors = []

    def rocket():
        try:
            rapidfire(lp, launch_root="/tmp", sleep_time=0.01, max_loops=500, chdir=False, ping_interval=0)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=rocket, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=size(100, 800))
    assert not errors, errors
    assert sorted(RAN, key=int) == [str(i) for i in range(1, n + 1)], "a firework ran twice or never"
    assert lp.fw_state_counts() == {"COMPLETED": n}
    assert_clean(lp)
    record_figures(
        "mongo_injected_errors",
        fireworks=n,
        runs=len(RAN),
        injected_errors=len(faults.injected),
        lost_replies=sum(1 for f in faults.injected if f[2] == "after"),
        duplicates=len(RAN) - n,
        lost=n - len(set(RAN)),
    )


# -- a long outage -------------------------------------------------------------------
def test_an_outage_that_lasts_ends_in_one_clear_error():
    lp, faults = flaky_lp()
    lp.add_wf(fan_in())
    faults.always = "*"
    with pytest.raises(StoreUnavailableError) as err:
        lp.claim_to_run()
    message = str(err.value)
    assert message.startswith("cannot reach mongomock:flaky_") and "after 6 tries" in message
    assert "AutoReconnect" in message or "ServerSelectionTimeoutError" in message
    assert lp.store.slept == [0.2, 0.4, 0.8, 1.6, 3.2]
    faults.always = None
    assert lp.fw_state_counts() == {"READY": 2, "WAITING": 1}  # nothing half-done
    assert_clean(lp)


def test_lpad_reports_an_outage_in_one_line(capsys):
    from launchpad import cli

    lp, faults = flaky_lp()
    lp.add_wf(fan_in())
    faults.always = "*"
    assert cli.main(["get_fws"], launchpad=lp) == StoreUnavailableError.exit_code
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach mongomock:") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_completion_cut_short_by_an_outage_is_finished_by_the_retry():
    """The firework's new state was written, then the store went away for longer than the
    store's own retries: the rocket tries again later and the completion is finished,
    children released, instead of being refused as stale."""
    lp, faults = flaky_lp()
    lp.add_wf(fan_in())
    run_one(lp, fw_id=2)
    claimed, launch_id = lp.claim_to_run(fw_id=1)
    faults.script = [("launches.update_one", "before")] * 6  # closing the launch fails 6 times
    with pytest.raises(StoreUnavailableError):
        lp.complete_launch(launch_id, FWAction(), fw_id=1)
    assert states(lp) == {"a": "COMPLETED", "b": "COMPLETED", "c": "WAITING"}  # half done
    lp.complete_launch(launch_id, FWAction(), fw_id=1)  # the rocket's retry
    assert states(lp) == {"a": "COMPLETED", "b": "COMPLETED", "c": "READY"}
    assert lp.get_launch(launch_id)["state"] == "COMPLETED"
    assert_clean(lp)


def test_a_rocket_waits_out_an_outage_before_giving_up_a_result(caplog):
    from rocket.rocket import Rocket

    lp, faults = flaky_lp()
    lp.add_wf(fan_in())
    slept = []
    rocket = Rocket(
        lp,
        launch_root="/tmp",
        chdir=False,
        ping_interval=0,
        store_patience=100,
        sleep=slept.append,
        clock=lambda: sum(slept),
    )
    faults.script = [("launches.update_one", "before")] * 13  # two store-level rounds of retries
    RAN.clear()
    assert rocket.run_once() == 1
    assert RAN == ["a"] and states(lp)["a"] == "COMPLETED"
    assert slept == [1.0, 2.0]
    assert "store unavailable while recording the result of firework 1" in caplog.text
    faults.always = "*"
    with pytest.raises(StoreUnavailableError):  # the patience runs out: a clear error
        rocket.run_once()
    assert sum(slept) <= 100
