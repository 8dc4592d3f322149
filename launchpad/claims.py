"""Claiming fireworks: a rocket's checkout, and queue reservations (``qlaunch -r``).

Plain functions over a store and a clock. A claim is one atomic store
operation (``claim_firework``) inside one transaction with the launch it
opens, so two rockets never run the same firework.
"""

import dataclasses
import functools
import socket

from . import duplicates
from .errors import InvalidArgumentError, InvalidTransitionError
from .models import Launch
from .reads import existing_fireworks
from .run_queries import worker_filter
from .states import LaunchState, State
from .timestamps import cutoff, timestamp
from .transitions import ready_or_waiting

RESERVATION_EXPIRATION_SECS = 60 * 60 * 24 * 14  # FireWorks' default: two weeks

S = State
# Launches this process opened, remembered so a completion saves a read; capped
# so launches finished elsewhere do not pile up.
OPENED_LAUNCHES_KEPT = 1000


def claim_to_run(
    store,
    clock,
    opened,
    worker=None,
    launch_dir="",
    fw_id=None,
    host=None,
    ip=None,
    states=(S.READY.value,),
    ping_interval=None,
):
    """The rocket's claim, as the stored dict: ``(fw_doc, launch_id)`` (see ``_checkout_once``).
    A firework that duplicates one that has run takes that run over instead of running
    (FireWorks' ``_dupefinder``, see duplicates), and the next is claimed."""
    while True:
        fw, launch_id = _checkout_once(
            store, clock, opened, worker, launch_dir, fw_id, host, ip, states, ping_interval
        )
        if fw is None or not duplicates.took_over(store, clock, opened, fw, launch_id):
            return fw, launch_id
        if fw_id is not None:
            return None, None


def _checkout_once(store, clock, opened, worker, launch_dir, fw_id, host, ip, states, ping_interval):
    """Atomically claim the best firework this worker may run and open a launch
    (arguments and their defaults: ``claim_to_run``).

    Returns ``(fw_doc, launch_id)`` or ``(None, None)`` when nothing fits; the
    new launch is remembered in ``opened`` (``{launch_id: {time_start, state_history}}``).
    A RESERVED firework's reservation launch becomes the running launch.
    ``ping_interval`` (the rocket's heartbeat, 0 for none) is recorded on the
    launch, so detect_lostruns knows how old a healthy run's heartbeat can be.
    """
    worker = worker_filter(worker)  # FireWorks passes its FWorker
    ping_interval = heartbeat_interval(ping_interval)
    now = timestamp(clock)
    host = host or socket.gethostname()
    ip = ip or _ip_of(host)  # before the write lock: a name lookup may be slow
    launch = Launch(
        launch_id=None,
        fw_id=None,
        host=host,
        ip=ip,
        launch_dir=launch_dir,
        state=LaunchState.RUNNING.value,
        fworker={"name": worker.name, "category": worker.category, "query": worker.query},
        state_history=[{"state": S.RUNNING.value, "created_on": now}],
        time_start=now,
        last_ping=now,
        ping_interval=ping_interval,
    )
    may_claim = _claim_filter(worker, fw_id)
    with store.transaction():
        if S.RESERVED.value not in states:  # the store claims, numbers and records in one go
            running = {"state": S.RUNNING.value, "updated_on": now}
            fw, launch_id = store.open_launch(
                may_claim, running, launch.to_dict(), states=states, fw_id=fw_id, not_before=now
            )
        else:
            fw, launch_id = _claim(store, may_claim, S.RUNNING.value, now, states=states, fw_id=fw_id)
        if fw is None:
            return None, None
        launch.launch_id, launch.fw_id = launch_id, fw["fw_id"]
        reserved = _reservation(store, fw) if S.RESERVED.value in states else None
        if reserved is None and S.RESERVED.value in states:
            store.insert_launch(launch.to_dict())
        elif reserved is not None:
            launch_id = _start_reservation(store, fw, reserved, launch, launch_id)
    if len(opened) > OPENED_LAUNCHES_KEPT:
        opened.clear()
    opened[launch_id] = {"time_start": now, "state_history": launch.state_history}
    return fw, launch_id


def _claim_filter(worker, fw_id):
    """What a worker may claim. A firework named by id is claimed whatever the worker's
    category and query, as FireWorks' checkout does (``rlaunch singleshot --fw_id``, a
    reserved job's rocket); a firework pinned to a worker by name (``_fworker``) still runs
    only there."""
    return worker if fw_id is None else dataclasses.replace(worker, category=None, query={})


def _claim(store, worker, state, now, **options):
    """Claim one firework into ``state`` under a new launch id: ``(fw, launch_id)``,
    ``fw`` None when nothing fits. Call inside the transaction that opens the launch."""
    launch_id = store.next_ids("launch")
    changes = {"state": state, "current_launch": launch_id, "updated_on": now}
    return store.claim_firework(worker, changes, not_before=now, **options), launch_id


def _reservation(store, fw):
    found = store.find_launches(
        {"fw_id": fw["fw_id"], "state": LaunchState.RESERVED.value}, sort=[("launch_id", -1)], limit=1
    )
    return found[0] if found else None


def _start_reservation(store, fw, reserved, launch, claimed_id):
    """The reservation's launch becomes the running one (as in FireWorks), so it is
    not left RESERVED for ever and keeps its queue id."""
    launch_id = reserved["launch_id"]
    store.update_fireworks(
        [fw["fw_id"]], {"current_launch": launch_id}, expect={"current_launch": claimed_id}
    )
    fw["current_launch"] = launch_id
    launch.state_history = reserved.get("state_history", []) + launch.state_history
    changes = {k: v for k, v in launch.to_dict().items() if k not in ("launch_id", "reservation_id")}
    store.update_launch(launch_id, changes, expect_state=LaunchState.RESERVED.value)
    return launch_id


def heartbeat_interval(value):
    """A rocket's heartbeat interval as a launch records it. It comes from rlaunch or
    through the gateway, and detect_lostruns does arithmetic with it."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        raise InvalidArgumentError(
            f"ping_interval {value!r} is not a number of seconds: give the rocket's heartbeat "
            "interval (rlaunch --ping_interval), 0 when it sends none"
        )
    return float(value)


@functools.lru_cache(maxsize=64)
def _ip_of(host):
    try:
        return socket.gethostbyname(host)
    except OSError:
        return None


# -- queue reservations ------------------------------------------------------
def claim_for_queue(store, clock, worker=None, launch_dir="", fw_id=None, host=None, ip=None):
    """Claim a READY firework (the best, or ``fw_id``) for a queue job not yet submitted
    (``qlaunch -r``), as the stored dict: ``(fw_doc, launch_id)`` or ``(None, None)``."""
    worker = worker_filter(worker)  # FireWorks passes its FWorker
    now = timestamp(clock)
    with store.transaction():
        fw, launch_id = _claim(store, _claim_filter(worker, fw_id), S.RESERVED.value, now, fw_id=fw_id)
        if fw is None:
            return None, None
        store.insert_launch(
            Launch(
                launch_id=launch_id,
                fw_id=fw["fw_id"],
                host=host,
                ip=ip,
                launch_dir=launch_dir,
                state=S.RESERVED.value,
                time_start=now,
                state_history=[{"state": S.RESERVED.value, "created_on": now}],
            ).to_dict()
        )
    return fw, launch_id


def fireworks_claim(store, clock, opened, fworker, launch_dir, fw_id, host, ip, state):
    """FireWorks' ``checkout_fw``/``reserve_fw`` claim: into RUNNING (``fw_id`` may name a
    READY or a RESERVED firework, as a reserved job's rocket does) or into RESERVED."""
    if state == S.RUNNING.value:
        states = (S.READY.value,) if fw_id is None else (S.READY.value, S.RESERVED.value)
        return claim_to_run(store, clock, opened, fworker, launch_dir, fw_id, host, ip, states)
    if state == S.RESERVED.value:
        return claim_for_queue(store, clock, fworker, launch_dir, fw_id, host, ip)
    raise InvalidArgumentError(f"state {state!r}: a firework is checked out RUNNING or RESERVED")


def set_reservation_id(store, launch_id, reservation_id):
    store.update_launch(launch_id, {"reservation_id": str(reservation_id)})


def unreserve_fw(store, clock, fw_id):
    """Give a RESERVED firework back to the pool (its job vanished or was cancelled)."""
    now = timestamp(clock)
    with store.transaction():
        doc = existing_fireworks(store, [fw_id])[0]
        if doc["state"] != S.RESERVED.value:
            raise InvalidTransitionError(f"firework {fw_id} is {doc['state']}, not RESERVED")
        if doc.get("current_launch") is not None:
            store.update_launch(
                doc["current_launch"],
                {"state": LaunchState.CANCELLED.value, "time_end": now},
                expect_state=LaunchState.RESERVED.value,
            )
        store.update_fireworks(
            [doc["fw_id"]],
            {"state": ready_or_waiting(doc), "current_launch": None, "updated_on": now},
            expect={"state": S.RESERVED.value},
        )
    return doc["fw_id"]


def reservations(store, clock, older_than_secs=None):
    """Launches still RESERVED (optionally only those older than a limit)."""
    query = {"state": S.RESERVED.value}
    if older_than_secs is not None:
        query["time_start"] = {"$lt": cutoff(clock, older_than_secs)}
    return store.find_launches(query)


def fw_ids_by_reservation(store, reservation_id):
    return [
        launch["fw_id"]
        for launch in store.find_launches({"reservation_id": str(reservation_id)}, fields=["fw_id"])
    ]


def detect_unreserved(store, clock, expiration_secs=RESERVATION_EXPIRATION_SECS, rerun=False):
    """FireWorks' ``detect_unreserved``: ids of launches RESERVED for over ``expiration_secs``
    (their queue job never started); ``rerun`` gives their fireworks back to the pool."""
    stale = reservations(store, clock, expiration_secs)
    if rerun:
        for launch in stale:
            try:
                unreserve_fw(store, clock, launch["fw_id"])
            except InvalidTransitionError:  # started or changed meanwhile: no longer reserved
                pass
    return [launch["launch_id"] for launch in stale]
