"""Finishing launches: results, retries, interruptions, and what a late result gets.

Plain functions over a store, a clock and ``opened`` (the launches this
process opened: ``{launch_id: {time_start, state_history}}``, saving a read
per completion). A firework changes state only if its live launch is still
the one finishing (``expect``): a fenced launch's result is kept on the launch
but not applied.
"""

from .actions import FWAction
from .duplicates import follow_launch
from .dynamics import apply_action, plan_action, release_after_fizzle
from .errors import StaleLaunchError, StarshellError, TaskError
from .reads import launch_doc
from .states import LaunchState, State
from .timestamps import cutoff, seconds_between, timestamp

S = State
# A firework handed back by a pilot's walltime this many times in a row is FIZZLED.
WALLTIME_HANDBACKS_KEY = "_walltime_handbacks"
DEFAULT_WALLTIME_HANDBACKS = 3


def complete_launch(
    store, clock, opened, launch_id, action=None, state=S.COMPLETED.value, exception=None, fw_id=None
):
    """Finish a launch: record its result and apply its FWAction.

    A launch that was fenced meanwhile (rerun, defused, declared lost)
    raises StaleLaunchError and changes nothing but its own record.
    """
    action = action if isinstance(action, FWAction) else FWAction.from_dict(action or {})
    now = timestamp(clock)
    if fw_id is None:
        fw_id = launch_doc(store, launch_id)["fw_id"]
    # a firework with a _dupefinder may have duplicates following its launch: the general
    # path settles them (duplicates.follow_launch)
    if state == S.COMPLETED.value and _plain(action) and not opened.get(launch_id, {}).get("dupefinder"):
        if _finish_plain(store, opened, launch_id, fw_id, action, exception, now):
            return fw_id
    with store.transaction():
        fw = store.get_firework(fw_id, fields=["fw_id", "wf_id", "name", "children", "spec"])
        plan, action, state, exception = vet_result(store, fw, action, state, exception)
        changed = store.update_fireworks(
            [fw_id],
            {"state": state, "updated_on": now},
            expect={"state": S.RUNNING.value, "current_launch": launch_id},
        )
        if not changed and _cut_short(store, fw_id, launch_id, state):
            changed = [fw_id]
        if changed:
            _close_launch(store, opened, launch_id, state, action, exception, now)
            if plan is not None:
                apply_action(store, clock, fw, action, now, plan)
            elif not retry_later(store, clock, fw):
                release_after_fizzle(store, fw, now)
            follow_launch(store, clock, fw, launch_id, state, action, now)
        else:
            _record_stale(store, launch_id, state, action, exception, now)
    if not changed:
        raise StaleLaunchError(
            f"launch {launch_id} of firework {fw_id} was fenced (rerun, defused or "
            "declared lost) before it finished; its result was recorded but not applied"
        )
    return fw_id


def vet_result(store, fw, action, state, exception):
    """Work out all that can fail before the first write: the children's new specs,
    and whether the store can hold the result at all. A result that cannot be applied
    or stored fizzles the firework with the reason, instead of failing half-way
    through the writes. Returns ``(plan, action, state, exception)``."""
    try:
        store.check_storable(_serialized(action))
        if state != S.COMPLETED.value or fw is None:
            return None, action, state, exception
        plan = plan_action(store, fw, action)
        store.check_storable(list(plan.values()))
        return plan, action, state, exception
    except StarshellError as exc:
        kept = FWAction(stored_data=action.stored_data)
        try:
            store.check_storable(kept.to_dict())
        except StarshellError:
            kept = FWAction()
        problem = {
            "message": f"the task's FWAction could not be applied: {exc}",
            "task_index": None,
            "task_name": None,
        }
        return None, kept, S.FIZZLED.value, exception or problem


def _serialized(action):
    """The action as a dict. A user object in it that cannot serialize itself (an added
    firework's task whose ``to_dict`` raises) fizzles the firework, as in FireWorks,
    instead of crashing the rocket with the launch left RUNNING."""
    try:
        return action.to_dict()
    except StarshellError:
        raise
    except Exception as exc:  # noqa: BLE001 - user code: any failure is the task's
        raise TaskError(f"it cannot be serialized: {type(exc).__name__}: {exc}") from exc


def _cut_short(store, fw_id, launch_id, state):
    """Whether an earlier call for this launch set the firework's state and then
    lost the store (MongoDB has no transactions) before closing the launch: the
    rocket's retry then finishes that completion instead of calling it stale."""
    fw = store.get_firework(fw_id, fields=["state", "current_launch"])
    if not fw or fw["state"] != state or fw.get("current_launch") != launch_id:
        return False
    launch = store.get_launch(launch_id)
    return launch is not None and launch["state"] == LaunchState.RUNNING.value


def retry_later(store, clock, fw):
    """Put a fizzled firework back to READY while its ``_retries`` last.

    ``_retry_delay`` seconds (doubled each attempt, ``_retry_backoff``
    factor) hold it back so a flaky resource gets time to recover.
    Returns whether it was put back.
    """
    retries = fw["spec"].get("_retries") or 0
    if not isinstance(retries, int) or retries <= 0:
        return False
    failures = len(
        store.find_launches({"fw_id": fw["fw_id"], "state": S.FIZZLED.value}, fields=["launch_id"])
    )
    if failures > retries:
        return False
    delay = float(fw["spec"].get("_retry_delay", 0) or 0)
    delay *= float(fw["spec"].get("_retry_backoff", 2) or 1) ** (failures - 1)
    not_before = cutoff(clock, -delay) if delay > 0 else None
    store.update_fireworks(
        [fw["fw_id"]],
        {"state": S.READY.value, "not_before": not_before, "updated_on": timestamp(clock)},
        expect={"state": S.FIZZLED.value},
    )
    return True


def interrupt_launch(
    store,
    clock,
    opened,
    launch_id,
    fw_id,
    requeue=True,
    reason="interrupted",
    walltime=False,
    not_started=False,
):
    """A rocket was stopped (SIGTERM, Ctrl-C, walltime) mid-run.

    The launch is recorded as interrupted, with ``walltime: true`` when the
    batch job's time ran out, and the firework goes back to READY
    (``requeue``) or becomes FIZZLED; never left RUNNING silently. A
    firework the walltime stops ``_walltime_handbacks`` times in a row does
    not fit in its pilots: it is FIZZLED rather than handed back for ever.
    ``not_started``: a pilot gave it back before running it (too little time
    left); the launch is CANCELLED and counts as no attempt.
    Returns the firework's new state, or None if it had moved on already.
    """
    now = timestamp(clock)
    exception = {
        "message": reason,
        "interrupted": True,
        "walltime": bool(walltime),
        **({"not_started": True} if not_started else {}),
    }
    with store.transaction():
        too_many = walltime_give_up(store, fw_id, launch_id) if requeue and walltime else None
        if too_many:
            requeue, exception["message"] = False, too_many
        state = S.READY.value if requeue else S.FIZZLED.value
        changed = store.update_fireworks(
            [fw_id],
            {"state": state, "updated_on": now, **({"current_launch": None} if requeue else {})},
            expect={"state": S.RUNNING.value, "current_launch": launch_id},
        )
        started = opened.pop(launch_id, None) or store.get_launch(launch_id) or {}
        store.update_launch(
            launch_id,
            {
                "state": LaunchState.CANCELLED.value if not_started else LaunchState.FIZZLED.value,
                "time_end": now,
                "interrupted": True,
                "walltime": bool(walltime),
                "handed_back": bool(changed and requeue),
                "runtime_secs": seconds_between(started.get("time_start") or now, now),
                "exception": exception,
            },
        )
        if changed and not requeue:
            fw = store.get_firework(fw_id, fields=["fw_id", "wf_id", "name", "children", "spec"])
            release_after_fizzle(store, fw, now)
        if changed:  # duplicates that followed this run are handed back or fizzle with it
            fw = store.get_firework(fw_id, fields=["fw_id", "spec"])
            follow_launch(store, clock, fw, launch_id, state, None, now)
    return state if changed else None


def walltime_give_up(store, fw_id, launch_id):
    """Why this walltime stop must FIZZLE the firework, or None to hand it back.

    Only stops in a row count: a completion, a failure or a user's Ctrl-C in
    between starts the count again, and so does the FIZZLED that ends a count.
    """
    spec = (store.get_firework(fw_id, fields=["spec"]) or {}).get("spec", {})
    limit = spec.get(WALLTIME_HANDBACKS_KEY, DEFAULT_WALLTIME_HANDBACKS)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        limit = DEFAULT_WALLTIME_HANDBACKS
    if limit == 0:
        return None
    earlier = store.find_launches(
        {
            "fw_id": int(fw_id),
            "launch_id": {"$lt": int(launch_id)},
            "state": {"$nin": [LaunchState.RESERVED.value, LaunchState.CANCELLED.value]},
        },
        fields=["walltime", "handed_back"],
        sort=[("launch_id", -1)],
        limit=max(limit - 1, 1),
    )
    stops = 1  # this stop; only the limit - 1 launches before it can complete the count
    for launch in earlier:
        if not (launch.get("walltime") and launch.get("handed_back")):
            break
        stops += 1
    if stops < limit:
        return None
    return (
        f"stopped by its pilot job's walltime {stops} times in a row: firework {fw_id} "
        "does not fit in the time its pilots have. Give it more: a longer walltime in "
        "my_qadapter.yaml, or its own job (qlaunch -r with spec._queueadapter.walltime), "
        f"then lpad rerun_fws -i {fw_id} (spec.{WALLTIME_HANDBACKS_KEY} sets how many "
        f"stops in a row are tolerated, default {DEFAULT_WALLTIME_HANDBACKS}; 0: no limit)"
    )


def _plain(action):
    """Whether an FWAction changes nothing beyond its own launch record (most do not):
    completing it needs no read of the firework, only its fenced finish."""
    return not (
        action.update_spec
        or action.mod_spec
        or action.detours
        or action.additions
        or action.defuse_children
        or action.defuse_workflow
    )


def _finish_plain(store, opened, launch_id, fw_id, action, exception, now):
    """The fenced state change, the launch's record and the release of the children in
    one store call. False sends the caller down the general path: a result the store
    cannot hold, a fenced launch, a completion an outage cut short."""
    try:
        store.check_storable(action.to_dict())
    except StarshellError:
        return False
    state = S.COMPLETED.value
    with store.transaction():
        changes = _closing_changes(store, opened, launch_id, state, action, exception, now)
        if not store.finish_firework(fw_id, launch_id, state, now, changes):
            return False
    opened.pop(launch_id, None)
    return True


def _close_launch(store, opened, launch_id, state, action, exception, now):
    store.update_launch(launch_id, _closing_changes(store, opened, launch_id, state, action, exception, now))
    opened.pop(launch_id, None)


def _closing_changes(store, opened, launch_id, state, action, exception, now):
    """What a finished launch records; its start comes from ``opened`` when this process
    opened it (no read)."""
    started = opened.get(launch_id)
    if started is None:
        started = store.get_launch(launch_id)
    changes = {
        "state": state,
        "time_end": now,
        "runtime_secs": seconds_between(started["time_start"], now),
        "action": action.to_dict(),
        "state_history": started.get("state_history", []) + [{"state": state, "created_on": now}],
    }
    if exception is not None:
        changes["exception"] = exception
    return changes


def _record_stale(store, launch_id, state, action, exception, now):
    store.update_launch(
        launch_id,
        {
            "late_result": {
                "state": state,
                "action": action.to_dict(),
                "exception": exception,
                "received_on": now,
            }
        },
    )
