"""Task-level recovery on the LaunchPad's side: what ``rerun_fw(recover_launch=...)`` writes.

A rocket records FireWorks' checkpoint on a failed launch (in its exception
record, ``_recovery``; FireWorks keeps it in the launch's last state-history
entry, which imported launches still have), and on a running launch as each
task after the first starts (its ``checkpoint``), so a run killed or
interrupted in a task can be resumed there too. A task-level rerun copies it, with
the mode and the launch it came from, into the firework's ``spec._recovery``;
a plain rerun removes that key, so the next run starts from the first task.
"""

from . import duplicates, transitions
from .errors import InvalidArgumentError, NotFoundError
from .launch_records import CHECKPOINT_FIELD
from .states import LaunchState

RECOVERY_KEY = "_recovery"
TAKEN_KEY = "taken_launches"  # launches a duplicate took over (launchpad/duplicates.py)
MODES = ("cp", "prev_dir")


def get_recovery(store, launch_id):
    """FireWorks' ``get_recovery``: the launch's checkpoint with ``_prev_dir`` (its directory)
    and ``_launch_id``; None when there is nothing to resume (it completed, or still runs)."""
    launch = store.get_launch(int(launch_id))
    if launch is None:
        raise NotFoundError(f"no launch with id {launch_id}")
    recovery = (launch.get("exception") or {}).get(RECOVERY_KEY)
    if not recovery:
        history = launch.get("state_history") or []
        recovery = history[-1].get("checkpoint") if history else None
    if not recovery and launch.get("state") == LaunchState.FIZZLED.value:
        recovery = _last_checkpoint(launch)
    if not recovery:
        return None
    return {**recovery, "_prev_dir": launch.get("launch_dir"), "_launch_id": launch["launch_id"]}


def _last_checkpoint(launch):
    """Where a run that stopped outside a task's own failure (killed and declared lost,
    interrupted) stood: the checkpoint its rocket sent as its last task started; none
    sent means it stopped in the first task (the claim is that task's checkpoint)."""
    return launch.get(CHECKPOINT_FIELD) or {
        "_task_n": 0,
        "_all_stored_data": {},
        "_all_update_spec": {},
        "_all_mod_spec": [],
    }


def recovery_spec(store, fw_id, recover_launch="last", recover_mode=None):
    """The ``spec._recovery`` of a task-level rerun of ``fw_id`` from ``recover_launch`` (a
    launch id of that firework or one it took over as a duplicate, or ``"last"``), resumed
    in a copy of the old directory (``"cp"``) or in it (``"prev_dir"``); None: in a fresh
    one, as FireWorks."""
    if recover_mode not in (None, *MODES):
        raise InvalidArgumentError(f"recover_mode {recover_mode!r} is not one of: cp, prev_dir")
    doc = store.get_firework(int(fw_id), fields=["fw_id", TAKEN_KEY])
    if doc is None:
        raise NotFoundError(f"no firework with id {fw_id}")
    launches = store.find_launches({"fw_id": int(fw_id)}, fields=["launch_id"])
    ids = sorted({launch["launch_id"] for launch in launches} | set(doc.get(TAKEN_KEY) or []))
    if not ids:
        raise NotFoundError(f"firework {fw_id} has no launch to recover")
    if recover_launch in (None, "last"):
        launch_id = ids[-1]
    elif int(recover_launch) in ids:
        launch_id = int(recover_launch)
    else:
        raise NotFoundError(
            f"launch {recover_launch} is not a launch of firework {fw_id} (its launches: {ids})"
        )
    recovery = get_recovery(store, launch_id)
    if not recovery:
        raise NotFoundError(
            f"launch {launch_id} of firework {fw_id} kept no recovery data (only a launch that "
            "failed or stopped in a task does); rerun it without --task-level"
        )
    return {**recovery, "_mode": recover_mode}


def rerun_fw(store, clock, fw_id, rerun_duplicates=True, recover_launch=None, recover_mode=None):
    """FireWorks' ``rerun_fw``: the firework and its descendants back to READY/WAITING.

    ``recover_launch`` (``"last"`` or a launch id) resumes it at the task that
    launch failed in (``recover_mode`` ``"cp"``/``"prev_dir"``: see
    ``recovery_spec``); without it ``spec._recovery`` is removed, so it starts
    from the first task. ``rerun_duplicates`` also reruns the fireworks that
    share its run (duplicates.py), with the same recovery. Returns the ids reset.
    """
    others = duplicates.sharing_launch(store, fw_id) if rerun_duplicates else []
    recovery = None
    if recover_launch is not None:
        recovery = recovery_spec(store, fw_id, recover_launch, recover_mode)
    changed = list(transitions.rerun_fw(store, clock, fw_id))
    _set_recovery(store, fw_id, recovery)
    for other in others:
        if other not in changed:
            changed += transitions.rerun_fw(store, clock, other)
            _set_recovery(store, other, recovery)
    return changed


def _set_recovery(store, fw_id, recovery):
    """Write ``spec._recovery`` (or remove it: None); no write when nothing changes."""
    doc = store.get_firework(int(fw_id), fields=["spec"])
    spec = dict(doc["spec"])
    if recovery is not None:
        spec[RECOVERY_KEY] = recovery
    elif spec.pop(RECOVERY_KEY, None) is None:
        return
    store.update_fireworks([int(fw_id)], {"spec": spec})
