"""Many lost runs at once (issue 14, "A million fireworks"): ``detect_lostruns --rerun``
with 10,000 RUNNING launches took 8.1 s, a dozen store statements per lost run; now the
fireworks are fenced, fizzled or reset in bulk, in one transaction."""

import pytest
from conftest import ManualClock

from launchpad import LaunchPad, Workflow
from launchpad.models import Firework
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask

LOST = 60


def pairs_workflow(n):
    """n parents READY, each with one WAITING child; every fourth child accepts a fizzled parent."""
    parents = [Firework(ScriptTask(script="true"), fw_id=i, name=f"p{i}") for i in range(1, n + 1)]
    children = [
        Firework(
            ScriptTask(script="true"),
            fw_id=n + i,
            name=f"c{i}",
            spec={"_allow_fizzled_parents": True} if i % 4 == 0 else {},
        )
        for i in range(1, n + 1)
    ]
    return Workflow(parents + children, {i: [n + i] for i in range(1, n + 1)}, name="pairs")


def lost_runs(lp, clock, n=LOST):
    lp.add_wf(pairs_workflow(n))
    launches = [lp.claim_to_run()[1] for _ in range(n)]
    clock.advance(5 * 3600)
    return launches


@pytest.mark.parametrize("rerun", [True, False])
def test_many_lost_runs_are_fenced_and_their_fireworks_moved(store, rerun):
    clock = ManualClock()
    lp = LaunchPad(store, clock=clock)
    launches = lost_runs(lp, clock)
    lost_launches, lost_fws = lp.detect_lostruns(expiration_secs=3600, rerun=rerun, fizzle=not rerun)
    assert sorted(lost_launches) == sorted(launches) and sorted(lost_fws) == list(range(1, LOST + 1))
    states = {d["fw_id"]: d["state"] for d in lp.get_fws(fields=["fw_id", "state"])}
    parent_state = "READY" if rerun else "FIZZLED"
    assert {states[i] for i in range(1, LOST + 1)} == {parent_state}
    if rerun:
        assert {states[LOST + i] for i in range(1, LOST + 1)} == {"WAITING"}
    else:  # a child that accepts a fizzled parent goes on, and learns which parent failed
        ready = sorted(i for i in range(LOST + 1, 2 * LOST + 1) if states[i] == "READY")
        assert ready == [LOST + i for i in range(4, LOST + 1, 4)]
        spec = lp.get_fw_dict(LOST + 4, with_launches=False)["spec"]
        assert spec["_fizzled_parents"] == [{"fw_id": 4, "name": "p4"}]
    for launch_id in launches:
        launch = lp.get_launch(launch_id)
        assert launch["state"] == "FIZZLED" and launch["exception"]["lost"] is True
        assert "no heartbeat for over 3600 s" in launch["exception"]["message"]
        assert launch["last_ping"] < launch["time_end"]
    assert lp.detect_lostruns(expiration_secs=3600, rerun=True) == ([], [])


def test_the_statements_do_not_grow_a_dozen_per_lost_run(tmp_path):
    clock = ManualClock()
    lp = LaunchPad(SQLiteStore(tmp_path / "launchpad.sqlite"), clock=clock)
    lost_runs(lp, clock)
    statements = []
    lp.store.conn().set_trace_callback(statements.append)
    assert len(lp.detect_lostruns(expiration_secs=3600, rerun=True)[0]) == LOST
    # a few statements in all, however many runs were lost (one by one: 14 each)
    assert len(statements) <= 30, len(statements)


def test_the_followers_of_many_lost_runs_are_found_in_linear_time():
    """A set built per firework made 10,000 lost runs take 24 s in this step alone."""
    import time

    from launchpad.lostruns import followers

    class Store:
        def find_fireworks(self, query, fields):
            return [{"fw_id": i} for i in range(20_000)]

    start = time.process_time()
    assert followers(Store(), list(range(20_000)), list(range(1, 20_000))) == [0]
    assert time.process_time() - start < 2
