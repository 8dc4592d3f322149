"""FireWorks' offline mode, the login node's side: mark, recover and forget offline runs.

``qlaunch -r`` with ``rlaunch singleshot --offline`` in the qadapter reserves
a firework, writes FW.json and FW_offline.json into the reservation's
directory (launchpad.offline_files) and marks the launch ``offline:
pending`` (``add_offline_run``). The job runs with no store at all;
``recover_offline`` later reads its files and replays them through the
LaunchPad's own operations: the start (``claim_to_run`` of the reservation),
the heartbeats, the completion with its FWAction (``complete_launch``) or a
stop signal (``interrupt_launch``), with the times the node recorded.

Recovering is idempotent: each step is taken only when the store is behind
the files, so running it twice changes nothing. Every file is read and
checked before the first write, so a corrupt file never leaves a run half
recovered: the run fizzles with the reason (FireWorks' behaviour) or, with
``ignore_errors``, is left for a later try.
"""

import logging
import os
from dataclasses import asdict, dataclass
from typing import Optional

from .actions import FWAction
from .errors import StaleLaunchError, StarshellError, StoreUnavailableError, WorkflowFileError
from .launch_records import CHECKPOINT_FIELD
from .offline_files import (
    ACTION_JSON,
    FORGOTTEN,
    OFFLINE_JSON,
    PENDING,
    RECOVERED,
    ping_time,
    read_json,
    read_optional_json,
    store_time,
)
from .serializable import as_datetime
from .states import LaunchState, State
from .stores import WorkerFilter

log = logging.getLogger("launchpad.offline")

_OPEN = [LaunchState.RESERVED.value, LaunchState.RUNNING.value]
_FINAL = (State.COMPLETED.value, State.FIZZLED.value)


@dataclass
class Recovery:
    """What ``recover_offline`` did with one offline run."""

    launch_id: int
    fw_id: int
    outcome: str  # waiting, running, completed, fizzled, handed back, fenced, failed
    steps: tuple = ()  # started, pinged, finished: the writes made this time
    error: Optional[str] = None

    @property
    def failed(self):
        return self.outcome == "failed"

    def to_dict(self):
        return {**asdict(self), "steps": list(self.steps)}


# -- marking ------------------------------------------------------------------------------
def add_offline_run(lp, launch_id, fw_id=None, name=None, fworker=None):
    """Mark a reservation's launch as run offline (FireWorks' ``add_offline_run``), with the
    worker that reserved it (what ``recover_offline -w`` selects by)."""
    changes = {"offline": PENDING}
    if fworker is not None:
        changes["fworker"] = {
            "name": fworker.name,
            "category": getattr(fworker, "category", None),
            "query": getattr(fworker, "query", None) or {},
        }
    lp.store.update_launch(int(launch_id), changes)


def offline_runs(lp, fworker_name=None):
    """The launches waiting to be recovered, oldest first (``fworker_name``: only that worker's)."""
    found = lp.get_launches(
        {"state": {"$in": _OPEN}, "offline": PENDING},
        # what recover_launch compares with the files: without the checkpoint, each round
        # would write a run's unchanged checkpoint again
        fields=[
            "launch_id",
            "fw_id",
            "state",
            "launch_dir",
            "last_ping",
            "fworker",
            "trackers",
            CHECKPOINT_FIELD,
        ],
        sort=[("launch_id", 1)],
    )
    if fworker_name:
        found = [x for x in found if (x.get("fworker") or {}).get("name") == fworker_name]
    return found


def forget_offline(lp, launchid_or_fwid, launch_mode=True):
    """Stop recovering an offline run (FireWorks' ``forget_offline``): by launch id, or
    (``launch_mode=False``) every pending run of a firework. Returns how many were forgotten."""
    _needs_store(lp)
    key = "launch_id" if launch_mode else "fw_id"
    found = lp.get_launches({key: int(launchid_or_fwid), "offline": PENDING}, fields=["launch_id"])
    for launch in found:
        lp.store.update_launch(launch["launch_id"], {"offline": FORGOTTEN})
    return len(found)


# -- recovering ---------------------------------------------------------------------------
def _needs_store(lp):
    """Offline runs are kept where the store is: through a gateway (which offers no launch
    edits) this refuses before the first call, not half-way through a recovery."""
    return lp.store.update_launch


def recover_all(lp, fworker_name=None, ignore_errors=False, print_errors=False):
    """Recover every pending offline run (``lpad recover_offline``); a list of Recovery."""
    _needs_store(lp)
    return [
        recover_launch(lp, launch, ignore_errors, print_errors) for launch in offline_runs(lp, fworker_name)
    ]


def recover_offline(lp, launch_id, ignore_errors=False, print_errors=False):
    """FireWorks' ``LaunchPad.recover_offline``: the firework id when the run's files could
    not be read (left as it was with ``ignore_errors``, else fizzled), None otherwise."""
    _needs_store(lp)
    result = recover_launch(lp, lp.get_launch(launch_id), ignore_errors, print_errors)
    return result.fw_id if result.error else None


def recover_launch(lp, launch, ignore_errors=False, print_errors=False):
    """Bring one offline run's record up to what its files say; returns a Recovery."""
    launch_id, fw_id = launch["launch_id"], launch["fw_id"]
    if launch.get("offline") not in (None, PENDING) or launch["state"] not in _OPEN:
        return Recovery(launch_id, fw_id, "unchanged")  # finished, forgotten or fenced already
    try:
        report = _read_reports(launch)
    except (OSError, StarshellError) as exc:
        if isinstance(exc, StoreUnavailableError):
            raise
        return _failed(lp, launch, exc, ignore_errors, print_errors)
    if report is None:
        return Recovery(launch_id, fw_id, "waiting")  # its job has not started yet
    steps = []
    if launch["state"] == LaunchState.RESERVED.value:
        if not _start(lp, launch, report):
            return Recovery(launch_id, fw_id, "fenced", ("started",))
        steps.append("started")
        launch = lp.get_launch(launch_id)
    if _ping(lp, launch, report):
        steps.append("pinged")
    if report["end"] is None:
        return Recovery(launch_id, fw_id, "running", tuple(steps))
    outcome = _end(lp, launch, report)
    return Recovery(launch_id, fw_id, outcome, (*steps, "finished"))


def _read_reports(launch):
    """Everything the run's files say, checked, before anything is written; None when the
    run has not started."""
    launch_dir = launch.get("launch_dir")
    if not launch_dir:
        raise WorkflowFileError(f"launch {launch['launch_id']} has no launch directory to recover from")
    data = read_json(os.path.join(launch_dir, OFFLINE_JSON))
    if not data.get("started_on"):
        return None
    report = {
        "data": data,
        "started_on": store_time(data["started_on"]),
        "ping": ping_time(launch_dir),
        "end": None,
    }
    if data.get("state"):
        if data["state"] not in _FINAL:
            raise WorkflowFileError(f"{OFFLINE_JSON} in {launch_dir}: unknown state {data['state']!r}")
        action = read_optional_json(os.path.join(launch_dir, ACTION_JSON))
        action = action if action is not None else data.get("fwaction") or {}
        report["end"] = {
            "state": data["state"],
            "action": FWAction.from_dict(action),
            "on": store_time(data.get("completed_on")),
            "exception": data.get("exception") or _fireworks_exception(data["state"], action),
        }
    elif isinstance(data.get("interrupted"), dict):
        report["end"] = {"interrupted": data["interrupted"], "on": store_time(data["interrupted"].get("on"))}
    return report


def _fireworks_exception(state, action):
    """FireWorks keeps a failed task's traceback in the action's stored_data; the launch's
    ``exception`` record in starshell's form."""
    if state != State.FIZZLED.value:
        return None
    trace = ((action.get("stored_data") or {}).get("_exception") or {}).get("_stacktrace") or ""
    last = [line for line in trace.strip().splitlines() if line.strip()][-1:] or ["the task failed offline"]
    return {"message": last[0].strip(), "traceback": trace, "task_index": None, "task_name": None}


def _start(lp, launch, report):
    """The reservation's launch becomes RUNNING, as it did on the node, at its time."""
    data, started = report["data"], report["started_on"]
    fw_id = launch["fw_id"]
    spec = lp.get_fw_dict(fw_id, with_launches=False).get("spec", {})
    worker = WorkerFilter(name=spec.get("_fworker") or (launch.get("fworker") or {}).get("name") or "offline")
    fw, launch_id = lp.claim_to_run(
        worker,
        launch["launch_dir"],
        fw_id=fw_id,
        host=data.get("host"),
        ip=data.get("ip"),
        states=(State.RESERVED.value,),
        ping_interval=data.get("ping_interval"),
    )
    if fw is None or launch_id != launch["launch_id"]:
        return False
    record = lp.get_launch(launch_id)
    history = [
        {**entry, "created_on": started} if entry.get("state") == LaunchState.RUNNING.value else entry
        for entry in record.get("state_history", [])
    ]
    pinged = report["ping"][0]
    lp.store.update_launch(
        launch_id,
        {"time_start": started, "state_history": history, "last_ping": max(started, pinged or started)},
    )
    return True


def _ping(lp, launch, report):
    """The node's latest heartbeat, tracker tails and task checkpoint, when newer than the
    store's."""
    pinged, trackers = report["ping"]
    wrote = False
    if pinged and (launch.get("last_ping") or "") < pinged:
        wrote = lp.store.update_launch(
            launch["launch_id"], {"last_ping": pinged}, expect_state=LaunchState.RUNNING.value
        )
    if trackers and trackers != launch.get("trackers"):
        lp.record_tracking(launch["launch_id"], trackers=trackers)
        wrote = True
    checkpoint = report["data"].get(CHECKPOINT_FIELD)  # the task it was in, for a task-level rerun
    if isinstance(checkpoint, dict) and checkpoint != launch.get(CHECKPOINT_FIELD):
        wrote = lp.store.update_launch(launch["launch_id"], {CHECKPOINT_FIELD: checkpoint}) or wrote
    return bool(wrote)


def _end(lp, launch, report):
    """The run's end, through the LaunchPad: a completion (its FWAction applied) or a stop."""
    launch_id, fw_id, end, data = launch["launch_id"], launch["fw_id"], report["end"], report["data"]
    if data.get("trackers") or data.get("background_errors"):
        lp.record_tracking(
            launch_id, trackers=data.get("trackers"), background_errors=data.get("background_errors")
        )
    if "interrupted" in end:
        stop = end["interrupted"]
        state = lp.interrupt_launch(
            launch_id,
            fw_id,
            requeue=bool(stop.get("requeue", True)),
            reason=str(stop.get("reason") or "interrupted"),
            walltime=bool(stop.get("walltime")),
            not_started=bool(stop.get("not_started")),
        )
        outcome = "handed back" if state == State.READY.value else "fizzled" if state else "fenced"
    else:
        try:
            lp.complete_launch(
                launch_id, end["action"], state=end["state"], exception=end["exception"], fw_id=fw_id
            )
            outcome = end["state"].lower()
        except StaleLaunchError:
            outcome = "fenced"
    _stamp_end(lp, launch_id, report["started_on"], end["on"])
    return outcome


def _stamp_end(lp, launch_id, started, ended):
    """The end time the node recorded, not the time of the recovery."""
    changes = {"offline": RECOVERED}
    if ended:
        record = lp.get_launch(launch_id)
        history = list(record.get("state_history", []))
        if history and history[-1].get("state") == record.get("state"):
            history[-1] = {**history[-1], "created_on": ended}
        changes.update(time_end=ended, state_history=history)
        if started and record.get("time_start"):
            changes["runtime_secs"] = _seconds(record["time_start"], ended)
    lp.store.update_launch(launch_id, changes)


def _seconds(start, end):
    return max((as_datetime(end) - as_datetime(start)).total_seconds(), 0.0)


def _failed(lp, launch, exc, ignore_errors, print_errors):
    """A run whose files cannot be read: left for a later try (``ignore_errors``), or
    fizzled with the reason, as FireWorks does."""
    launch_id, fw_id = launch["launch_id"], launch["fw_id"]
    message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, StarshellError) else str(exc)
    if print_errors:
        log.error("could not recover launch %s of firework %s: %s", launch_id, fw_id, message)
    if ignore_errors:
        return Recovery(launch_id, fw_id, "failed", error=message)
    problem = {"message": f"recover_offline could not read the offline run's files: {message}"}
    if launch["state"] == LaunchState.RESERVED.value:
        report = {"data": {}, "started_on": lp.now(), "ping": (None, None)}
        if not _start(lp, launch, report):
            return Recovery(launch_id, fw_id, "fenced", error=message)
    try:
        lp.complete_launch(launch_id, FWAction(), state=State.FIZZLED.value, exception=problem, fw_id=fw_id)
    except StaleLaunchError:
        pass
    lp.store.update_launch(launch_id, {"offline": RECOVERED})
    return Recovery(launch_id, fw_id, "fizzled", ("finished",), error=message)


def recovery_summary(results):
    """One line on what a recovery did: counts by outcome, and each failure with its reason."""
    if not results:
        return "no offline runs to recover"
    counts = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    line = f"{len(results)} offline run(s): " + ", ".join(f"{n} {what}" for what, n in counts.items())
    failed = [f"launch {r.launch_id} (firework {r.fw_id}): {r.error}" for r in results if r.failed]
    return "; ".join([line, *failed])


__all__ = [
    "Recovery",
    "add_offline_run",
    "offline_runs",
    "forget_offline",
    "recover_all",
    "recover_offline",
    "recover_launch",
    "recovery_summary",
]
