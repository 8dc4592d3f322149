"""Lost runs: RUNNING launches whose rocket stopped sending heartbeats.

Plain functions over a store and a clock. Declaring a run lost fences its
launch, so the rocket's late result, if it comes, is refused.
"""

from .duplicates import FW_FIELDS, settle
from .dynamics import release_after_fizzle
from .states import LaunchState, State
from .timestamps import cutoff, seconds_between, timestamp
from .transitions import rerun_fws

S = State


class LostRuns(tuple):
    """``(launch_ids, fw_ids)`` of lost runs, unpacked as before; ``spared`` holds the
    silent launches (``launch_id``, ``fw_id``, ``last_ping``, ``ping_interval``) whose
    own heartbeat interval says they may still be alive, left RUNNING; ``inconsistent``
    the fw_ids FireWorks returns third: RUNNING fireworks whose launch has finished."""

    def __new__(cls, launch_ids, fw_ids, spared=(), inconsistent=()):
        lost = super().__new__(cls, (launch_ids, fw_ids))
        lost.spared = list(spared)
        lost.inconsistent = list(inconsistent)
        return lost


def detect_lostruns(
    store,
    clock,
    expiration_secs=3600,
    fizzle=False,
    rerun=False,
    max_runtime=None,
    min_runtime=None,
    refresh=False,
    query=None,
    launch_query=None,
):
    """RUNNING launches whose last heartbeat is older than ``expiration_secs``.

    A launch that recorded its rocket's heartbeat interval is lost only once its
    heartbeat is also two intervals old: a healthy run's heartbeat can be a whole
    interval old, and a run declared lost runs a second time. Returns LostRuns,
    ``(launch_ids, fw_ids)`` with the launches spared so in ``.spared``. With
    ``fizzle`` the fireworks become FIZZLED, with ``rerun`` READY again; either
    fences the lost launch. FireWorks' narrowing: ``max_runtime``/``min_runtime``
    (seconds from the start to the last heartbeat), ``query`` on the fireworks,
    ``launch_query`` on the launches. ``refresh`` settles the inconsistent ones.
    """
    selection = {"state": S.RUNNING.value, "last_ping": {"$lt": cutoff(clock, expiration_secs)}}
    fw_ids = [d["fw_id"] for d in store.find_fireworks(query, ["fw_id"])] if query else None
    if fw_ids is not None or launch_query:
        narrower = [launch_query or {}, {"fw_id": {"$in": fw_ids}} if fw_ids is not None else {}]
        selection = {"$and": [selection, *narrower]}
    silent = store.find_launches(
        selection, fields=["launch_id", "fw_id", "last_ping", "ping_interval", "time_start"]
    )
    now = timestamp(clock)
    lost, spared = [], []
    for launch in silent:
        if _ran_for(launch, max_runtime, min_runtime):
            (spared if _may_be_alive(launch, now) else lost).append(launch)
    if lost and (fizzle or rerun):
        _declare_lost(store, clock, lost, rerun, expiration_secs)
    inconsistent = inconsistent_fireworks(store, fw_ids)
    if refresh and inconsistent:
        settle_inconsistent(store, clock, inconsistent)
    return LostRuns(
        [launch["launch_id"] for launch in lost],
        [launch["fw_id"] for launch in lost],
        spared,
        [d["fw_id"] for d in inconsistent],
    )


def _ran_for(launch, max_runtime, min_runtime):
    """FireWorks' runtime bounds: from the launch's start to its last heartbeat."""
    if not (max_runtime or min_runtime):
        return True
    ran = seconds_between(launch.get("time_start") or launch["last_ping"], launch["last_ping"])
    return (not max_runtime or ran <= max_runtime) and (not min_runtime or ran >= min_runtime)


def inconsistent_fireworks(store, fw_ids=None):
    """RUNNING fireworks whose current launch has finished (a completion a store outage
    cut between its two writes; MongoDB has no transactions), with that launch."""
    query = {"state": S.RUNNING.value}
    if fw_ids is not None:
        query["fw_id"] = {"$in": fw_ids}
    # ids and launches first: the specs are read only for the few that are inconsistent
    fields = ["fw_id", "current_launch"]
    running = [d for d in store.find_fireworks(query, fields) if d.get("current_launch") is not None]
    if not running:
        return []
    finished = {
        launch["launch_id"]: launch
        for launch in store.find_launches(
            {
                "launch_id": {"$in": [d["current_launch"] for d in running]},
                "state": {"$in": [LaunchState.COMPLETED.value, LaunchState.FIZZLED.value]},
            },
            fields=["launch_id", "state", "action"],
        )
    }
    ids = [d["fw_id"] for d in running if d["current_launch"] in finished]
    docs = store.get_fireworks(ids, FW_FIELDS) if ids else []
    return [{**d, "launch": finished[d["current_launch"]]} for d in docs if d["current_launch"] in finished]


def settle_inconsistent(store, clock, docs):
    """Give each inconsistent firework its launch's result, as the completion would have
    (FireWorks' refresh): a COMPLETED launch's action is applied, children released."""
    now = timestamp(clock)
    with store.transaction():
        for doc in docs:
            launch = doc["launch"]
            if store.update_fireworks(
                [doc["fw_id"]],
                {"state": launch["state"], "updated_on": now},
                expect={"state": S.RUNNING.value, "current_launch": launch["launch_id"]},
            ):
                settle(store, clock, doc, launch["state"], launch.get("action"), now)


def _may_be_alive(launch, now):
    """Whether a healthy rocket could have left this heartbeat: it is younger than two
    of the launch's recorded intervals. Launches without one (older stores, FireWorks
    imports) keep the plain --time rule."""
    interval = launch.get("ping_interval")
    if not isinstance(interval, (int, float)) or interval <= 0:
        return False
    return seconds_between(launch["last_ping"], now) < 2 * interval


def _declare_lost(store, clock, lost, rerun, expiration_secs):
    """Fence every lost launch, then fizzle or rerun their fireworks in bulk, in one
    transaction: one by one, 10,000 lost runs took 8.1 s (a dozen statements each).
    Each launch keeps its own ``last_ping``; the message is the batch's rule."""
    now = timestamp(clock)
    message = f"lost run: no heartbeat for over {expiration_secs:g} s (see last_ping)"
    with store.transaction():
        store.update_launches(
            [launch["launch_id"] for launch in lost],
            {
                "state": LaunchState.FIZZLED.value,
                "time_end": now,
                "exception": {"message": message, "lost": True},
            },
            expect_state=LaunchState.RUNNING.value,
        )
        fw_ids = sorted({launch["fw_id"] for launch in lost})
        # Duplicates that took over one of these runs (duplicates.py) go with it.
        fw_ids += followers(store, [launch["launch_id"] for launch in lost], fw_ids)
        # Only fireworks whose live launch is one of these: a rerun may have moved them on.
        expect = {"state": S.RUNNING.value, "current_launch": [launch["launch_id"] for launch in lost]}
        if rerun:
            fenced = store.update_fireworks(
                fw_ids, {"current_launch": None, "updated_on": now}, expect=expect
            )
            if fenced:
                rerun_fws(store, clock, fenced)
        else:
            changed = store.update_fireworks(
                fw_ids, {"state": S.FIZZLED.value, "updated_on": now}, expect=expect
            )
            _release_after_fizzles(store, changed, now)


def followers(store, launch_ids, owners):
    """The RUNNING duplicates that follow these launches (their ``owners`` left out)."""
    docs = store.find_fireworks({"current_launch": {"$in": launch_ids}, "state": S.RUNNING.value}, ["fw_id"])
    owners = set(owners)  # once: 10,000 lost runs made a set per firework (O(n^2), 24 s)
    return sorted(d["fw_id"] for d in docs if d["fw_id"] not in owners)


def _release_after_fizzles(store, fw_ids, now):
    """``release_after_fizzle`` for the fireworks with a child that accepts fizzled parents
    (read in two queries; the others have nothing to release)."""
    docs = store.get_fireworks(fw_ids, ["fw_id", "wf_id", "name", "children"])
    kids = sorted({child for d in docs for child in d["children"]})
    accepting = {
        d["fw_id"]
        for d in store.get_fireworks(kids, ["fw_id", "spec._allow_fizzled_parents"])
        if d.get("spec", {}).get("_allow_fizzled_parents")
    }
    for doc in docs:
        if accepting.intersection(doc["children"]):
            release_after_fizzle(store, doc, now)
