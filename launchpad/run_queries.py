"""Questions rockets and queue launchers ask before they wait or stop: is there
work, will there be, which runs went silent.

Plain functions over a store and a clock; each is a few counting queries.
"""

from .states import State
from .stores import WorkerFilter
from .timestamps import cutoff, seconds_between, timestamp

S = State
_BUSY = (S.RUNNING.value, S.RESERVED.value)


def worker_filter(worker):
    """A WorkerFilter from None, a WorkerFilter, or a worker (FireWorks passes its FWorker)."""
    if worker is None:
        return WorkerFilter()
    return worker.filter() if callable(getattr(worker, "filter", None)) else worker


def run_exists(store, worker=None):
    """Whether anything may still need a rocket: READY fireworks for this worker,
    or RUNNING/RESERVED ones anywhere (their completion may ready others, and a
    walltime may hand them back). ``qlaunch rapidfire`` stops when it is False.

    Fireworks blocked only behind FIZZLED, DEFUSED or PAUSED parents do not
    count, so nothing waits for them for ever (FireWorks #234).
    """
    worker = worker_filter(worker)
    if store.count_fireworks({"state": {"$in": list(_BUSY)}}):
        return True
    return store.count_claimable(worker, limit=1) > 0


def future_run_exists(store, clock, fworker=None, lost_after=None):
    """Whether waiting can still bring work for this worker (FireWorks' name and
    rule, what ``rlaunch rapidfire`` waits for): a READY firework it may take (a
    retry's delay or not), or a WAITING descendant it may take of a RUNNING or
    RESERVED firework, whose completion starts readying them.

    With ``lost_after`` (seconds) a run silent that long does not count: its
    rocket is probably dead, and waiting for it would keep a pilot idle until
    its walltime. The runs are looked at before the READY fireworks: a run
    that completes in between has readied its children by then.
    """
    worker = worker_filter(fworker)
    if store.count_waiting_descendants(worker, live_runs(store, clock, lost_after), limit=1):
        return True
    return store.count_claimable(worker, limit=1) > 0


def count_upcoming(store, clock, worker=None, limit=None, lost_after=600.0):
    """WAITING children of live RUNNING/RESERVED fireworks that this worker may run:
    work about to become READY, which pilots should be queued for already
    (``lost_after``: ten default heartbeats)."""
    return store.count_waiting_descendants(
        worker_filter(worker), live_runs(store, clock, lost_after), limit=limit, children_only=True
    )


def count_ready(store, clock, worker=None, limit=None):
    """READY fireworks this worker may run (the queue launcher's demand)."""
    return store.count_claimable(worker or WorkerFilter(), limit=limit, not_before=timestamp(clock))


def silent_runs(store, clock, seconds):
    """RUNNING launches without a heartbeat for ``seconds``, as
    ``[(fw_id, launch_id, seconds silent)]``: rockets that probably died."""
    now = timestamp(clock)
    found = store.find_launches(
        {"state": S.RUNNING.value, "last_ping": {"$lt": cutoff(clock, seconds)}},
        fields=["fw_id", "launch_id", "last_ping"],
    )
    return [
        (launch["fw_id"], launch["launch_id"], seconds_between(launch["last_ping"], now)) for launch in found
    ]


def live_runs(store, clock, lost_after):
    """RUNNING and RESERVED fireworks, less those silent for ``lost_after`` seconds."""
    active = [d["fw_id"] for d in store.find_fireworks({"state": {"$in": list(_BUSY)}}, fields=["fw_id"])]
    if active and lost_after is not None:
        silent = {fw_id for fw_id, _, _ in silent_runs(store, clock, lost_after)}
        active = [fw_id for fw_id in active if fw_id not in silent]
    return active
