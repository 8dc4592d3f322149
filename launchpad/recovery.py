"""Task-level recovery on the LaunchPad's side: what ``rerun_fw(recover_launch=...)`` writes.

A rocket records FireWorks' checkpoint on a failed launch (in its exception
record, ``_recovery``; FireWorks keeps it in the launch's last state-history
entry, which imported launches still have). A task-level rerun copies it, with
the mode and the launch it came from, into the firework's ``spec._recovery``;
a plain rerun removes that key, so the next run starts from the first task.
"""

from .errors import InvalidArgumentError, NotFoundError

RECOVERY_KEY = "_recovery"
MODES = ("cp", "prev_dir")


def get_recovery(lp, launch_id):
    """FireWorks' ``get_recovery``: the launch's checkpoint with ``_prev_dir`` (its directory)
    and ``_launch_id``; None when the launch kept none (it did not fail in a task)."""
    launch = lp.get_launch(launch_id)
    recovery = (launch.get("exception") or {}).get(RECOVERY_KEY)
    if not recovery:
        history = launch.get("state_history") or []
        recovery = history[-1].get("checkpoint") if history else None
    if not recovery:
        return None
    return {**recovery, "_prev_dir": launch.get("launch_dir"), "_launch_id": launch["launch_id"]}


def recovery_spec(lp, fw_id, recover_launch="last", recover_mode=None):
    """The ``spec._recovery`` of a task-level rerun of ``fw_id`` from ``recover_launch``
    (a launch id of that firework, or ``"last"``), resumed in a copy of the old
    directory (``"cp"``) or in it (``"prev_dir"``); None: in a fresh one, as FireWorks."""
    if recover_mode not in (None, *MODES):
        raise InvalidArgumentError(f"recover_mode {recover_mode!r} is not one of: cp, prev_dir")
    launches = lp.get_launches({"fw_id": int(fw_id)}, fields=["launch_id"], sort=[("launch_id", 1)])
    ids = [launch["launch_id"] for launch in launches]
    if not ids:
        lp.wf_id_of(fw_id)  # NotFoundError for an unknown firework
        raise NotFoundError(f"firework {fw_id} has no launch to recover")
    if recover_launch in (None, "last"):
        launch_id = ids[-1]
    elif int(recover_launch) in ids:
        launch_id = int(recover_launch)
    else:
        raise NotFoundError(
            f"launch {recover_launch} is not a launch of firework {fw_id} (its launches: {ids})"
        )
    recovery = get_recovery(lp, launch_id)
    if not recovery:
        raise NotFoundError(
            f"launch {launch_id} of firework {fw_id} kept no recovery data (only a launch that "
            "failed in a task does); rerun it without --task-level"
        )
    return {**recovery, "_mode": recover_mode}
