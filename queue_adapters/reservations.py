"""Fireworks and their queue jobs: queue ids, cancelling a job, freeing stale reservations.

A launch knows its queue job two ways: a reservation (``qlaunch -r``) records
the id on the launch (``reservation_id``); a pilot job's launches run inside
the pilot's launcher directory, where ``qlaunch`` wrote the id to
``FW_job_id``.  Everything that asks the scheduler goes through an adapter,
so tests replay recorded answers.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from launchpad.errors import InvalidTransitionError, NotFoundError
from launchpad.offline_files import PENDING, was_started
from launchpad.states import State

from .adapters import JobState
from .launcher import JOB_ID_FILE

log = logging.getLogger("qlaunch")
S = State

# A reservation with no queue id yet may belong to a qlaunch that is submitting right now.
NO_QID_GRACE = 300
# FireWorks' default for detect_unreserved --time: two weeks.
DEFAULT_MAX_WAIT = 14 * 24 * 3600


# -- queue ids -------------------------------------------------------------------
def launch_qid(launch: dict) -> Optional[str]:
    """The queue id a launch ran (or waits) in, or None when none was recorded."""
    if launch.get("reservation_id"):
        return str(launch["reservation_id"])
    launch_dir = launch.get("launch_dir")
    if not launch_dir:
        return None
    for directory in (launch_dir, os.path.dirname(launch_dir)):
        try:
            with open(os.path.join(directory, JOB_ID_FILE), encoding="utf-8") as handle:
                return handle.read().strip() or None
        except OSError:
            continue
    return None


def get_qids(lp, fw_ids: List[int]) -> List[dict]:
    """One row per launch of the fireworks: fw_id, launch_id, state, qid (or None)."""
    fw_ids = [int(i) for i in fw_ids]
    known = {d["fw_id"] for d in lp.get_fws({"fw_id": {"$in": fw_ids}}, fields=["fw_id"])}
    missing = [i for i in fw_ids if i not in known]
    if missing:
        raise NotFoundError(f"no firework with id {', '.join(map(str, missing))}")
    launches = lp.get_launches(
        {"fw_id": {"$in": fw_ids}},
        fields=["launch_id", "fw_id", "state", "launch_dir", "reservation_id"],
        sort=[("fw_id", 1), ("launch_id", 1)],
    )
    return [
        {
            "fw_id": launch["fw_id"],
            "launch_id": launch["launch_id"],
            "state": launch["state"],
            "qid": launch_qid(launch),
        }
        for launch in launches
    ]


def _live_reservation(lp, launch: dict) -> bool:
    """Whether the firework still waits on this reservation (not taken, rerun or moved on)."""
    docs = lp.get_fws({"fw_id": launch["fw_id"]}, fields=["state", "current_launch"])
    return (
        bool(docs)
        and docs[0]["state"] == S.RESERVED.value
        and docs[0].get("current_launch") == launch["launch_id"]
    )


def _running_on(lp, fw_id: int, launch_id: int) -> bool:
    docs = lp.get_fws({"fw_id": fw_id}, fields=["state", "current_launch"])
    return bool(docs) and docs[0]["state"] == S.RUNNING.value and docs[0].get("current_launch") == launch_id


# -- cancel_qid ------------------------------------------------------------------
@dataclass
class CancelResult:
    """What ``cancel_qid`` did to the fireworks tied to one job."""

    qid: str
    released: List[int] = field(default_factory=list)  # RESERVED -> READY
    handed_back: List[int] = field(default_factory=list)  # the rocket requeued it itself
    rerun: List[int] = field(default_factory=list)  # job gone, still RUNNING: fenced
    still_running: List[int] = field(default_factory=list)  # job not gone within --wait
    job_state: Optional[str] = None
    known: bool = True  # the scheduler knew the job
    asked: bool = True  # there was a scheduler to ask (a qadapter file)
    cancelled: bool = False  # it was queued or running, and we cancelled it

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @property
    def touched(self) -> bool:
        """Whether any firework was tied to the job."""
        return bool(self.released or self.handed_back or self.rerun or self.still_running)


def cancel_qid(
    lp,
    adapter,
    qid: str,
    wait: float = 15.0,
    poll: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> CancelResult:
    """Cancel queue job ``qid`` and free its fireworks.

    RESERVED fireworks waiting for the job become READY at once.  A RUNNING
    firework is left to its rocket, which turns the scheduler's SIGTERM into
    a requeue.  If the scheduler says the job has ended while the firework is
    still RUNNING on that launch (the rocket was killed outright), it is
    rerun, which fences the old launch.  If the job has not ended within
    ``wait`` seconds, the firework is left RUNNING for detect_lostruns.
    A job the scheduler does not know, or that already ended, is not
    cancelled (``scancel`` of an unknown id says nothing and succeeds), and
    the result says so. Without an ``adapter`` only the reservations are
    released and the job is left alone: FireWorks' ``cancel_qid``.
    """
    qid = str(qid)
    result = CancelResult(qid, asked=adapter is not None)
    before = adapter.job_state(qid) if adapter is not None else None
    result.known = before is not None
    result.job_state = str(before) if before is not None else None
    reserved = [
        launch
        for launch in lp.get_launches({"reservation_id": qid, "state": S.RESERVED.value})
        if _live_reservation(lp, launch)
    ]
    running = [
        launch
        for launch in lp.get_launches(
            {"state": S.RUNNING.value}, fields=["launch_id", "fw_id", "launch_dir", "reservation_id"]
        )
        if launch_qid(launch) == qid
    ]
    if before is not None and not before.finished:
        adapter.cancel(qid)
        result.cancelled = True
    for launch in reserved:
        try:
            result.released.append(lp.unreserve_fw(launch["fw_id"]))
        except InvalidTransitionError as exc:  # its job started it meanwhile
            log.warning("firework %s: %s", launch["fw_id"], exc)
    if running and adapter is not None:
        _settle_running(lp, adapter, result, running, wait, poll, clock, sleep)
    return result


def _settle_running(lp, adapter, result, running, wait, poll, clock, sleep):
    deadline = clock() + wait
    while True:
        state = adapter.job_state(result.qid)
        gone = state is None or state.finished
        left = [launch for launch in running if _running_on(lp, launch["fw_id"], launch["launch_id"])]
        if not left or gone or clock() >= deadline:  # once the job is gone, so is its rocket
            break
        sleep(poll)
    result.job_state = str(state) if state is not None else None
    result.handed_back = [launch["fw_id"] for launch in running if launch not in left]
    for launch in left:
        if gone:
            result.rerun.extend(lp.rerun_fw(launch["fw_id"])[:1])
        else:
            result.still_running.append(launch["fw_id"])


# -- detect_unreserved ---------------------------------------------------------------
@dataclass
class StaleReservation:
    launch_id: int
    fw_id: int
    qid: Optional[str]
    reason: str
    cancel_job: bool = False
    released: bool = False
    job_cancelled: bool = False  # its still-queued job was cancelled (with release)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def detect_unreserved(
    lp,
    adapter=None,
    max_wait: Optional[float] = DEFAULT_MAX_WAIT,
    release: bool = False,
    grace: float = NO_QID_GRACE,
) -> List[StaleReservation]:
    """RESERVED fireworks whose queue job vanished or that waited longer than ``max_wait``.

    With an adapter, a reservation whose job the scheduler no longer knows,
    or whose job ended without starting the firework, is stale at once.  A
    reservation waiting longer than ``max_wait`` seconds is stale unless its
    job is running (then the firework is about to start).  With ``release``
    the fireworks go back to READY and still-queued jobs of stale
    reservations are cancelled, so they do not start later for nothing.
    """
    old = {launch["launch_id"] for launch in lp.get_reservations(max_wait)} if max_wait is not None else set()
    no_qid_old = {launch["launch_id"] for launch in lp.get_reservations(grace)}
    stale = []
    for launch in lp.get_reservations():
        if not _live_reservation(lp, launch):
            continue
        if launch.get("offline") == PENDING and was_started(launch.get("launch_dir")):
            continue  # its job ran offline: lpad recover_offline brings the result in
        found = _why_stale(
            launch, adapter, launch["launch_id"] in old, launch["launch_id"] in no_qid_old, max_wait
        )
        if found is not None:
            stale.append(found)
    if release:
        for item in stale:
            _release(lp, adapter, item)
    return stale


def _why_stale(launch, adapter, too_old, past_grace, max_wait) -> Optional[StaleReservation]:
    qid = launch.get("reservation_id")
    make = lambda reason, cancel=False: StaleReservation(  # noqa: E731
        launch["launch_id"], launch["fw_id"], qid, reason, cancel
    )
    if not qid:
        if past_grace:
            return make("no queue job was recorded for it (qlaunch stopped while submitting?)")
        return None
    state = adapter.job_state(qid) if adapter is not None else None
    if adapter is not None and state is None:
        return make(f"its job {qid} is unknown to the scheduler")
    if state is not None and state.finished:
        return make(f"its job {qid} ended ({state}) without starting it")
    if too_old and state is not JobState.RUNNING:
        return make(f"it has waited longer than {max_wait:g} s for job {qid}", cancel=True)
    return None


def _release(lp, adapter, item: StaleReservation):
    if item.cancel_job and adapter is not None:
        adapter.cancel(item.qid)
        item.job_cancelled = True
        log.info("cancelled job %s: its reservation for firework %s waited too long", item.qid, item.fw_id)
    try:
        lp.unreserve_fw(item.fw_id)
        item.released = True
    except InvalidTransitionError as exc:  # its job started it meanwhile
        log.warning("firework %s: %s", item.fw_id, exc)


__all__ = [
    "launch_qid",
    "get_qids",
    "cancel_qid",
    "CancelResult",
    "detect_unreserved",
    "StaleReservation",
    "DEFAULT_MAX_WAIT",
    "NO_QID_GRACE",
]
