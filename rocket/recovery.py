"""Task-level recovery (FireWorks' ``_recovery``): a rerun firework resumes at the task that failed.

A failed launch keeps FireWorks' checkpoint (which task failed, and the
stored data, update_spec and mod_spec of the tasks before it) in its
exception record; a running one gets it as each task after the first starts,
so a run killed or interrupted in a task is resumable too. ``lpad rerun_fws
--task-level`` copies it, with the mode and the old directory, into the spec's
``_recovery``; the rocket then skips the tasks that already ran, starts from
their results, and runs in a copy of the old directory (``cp``) or in the old
directory itself (``prev_dir``).
"""

import logging
import os
import shutil

from launchpad.actions import FWAction, apply_action_to_spec
from launchpad.errors import TaskError

log = logging.getLogger("rocket")

RECOVERY_KEY = "_recovery"
CHECKPOINT_KEY = "_recovery"  # in the failed launch's exception record
MODES = ("cp", "prev_dir")


def checkpoint(task_index, action, launch_dir=None):
    """FireWorks' checkpoint of a launch at the start of task ``task_index``: what it needs
    to be resumed there (a failed launch's also names its directory, ``_prev_dir``)."""
    point = {
        "_task_n": task_index,
        "_all_stored_data": dict(action.stored_data),
        "_all_update_spec": dict(action.update_spec),
        "_all_mod_spec": list(action.mod_spec),
    }
    return {**point, "_prev_dir": launch_dir} if launch_dir is not None else point


def recovery_of(spec):
    """The spec's ``_recovery`` when it asks to resume, else None."""
    recovery = spec.get(RECOVERY_KEY)
    return recovery if isinstance(recovery, dict) and recovery.get("_task_n") is not None else None


def previous_dir(lp, fw):
    """The old directory a ``prev_dir`` recovery runs in, checked against the launch it
    came from: a spec alone must not send a rocket to write anywhere it likes."""
    recovery = recovery_of(fw["spec"])
    if not recovery or recovery.get("_mode") != "prev_dir":
        return None
    wanted, launch_id = recovery.get("_prev_dir"), recovery.get("_launch_id")
    launch = lp.get_launch(launch_id) if launch_id is not None else None
    ours = launch and (launch.get("fw_id") == fw["fw_id"] or launch_id in (fw.get("taken_launches") or ()))
    if not wanted or not ours or launch.get("launch_dir") != wanted:
        raise TaskError(
            f"_recovery names directory {wanted!r}, which is not the directory of launch "
            f"{launch_id} of firework {fw['fw_id']}; rerun it with lpad rerun_fws --task-level"
        )
    if not os.path.isdir(wanted):
        raise TaskError(
            f"the previous launch directory {wanted} is gone; rerun with --copy-data or without --task-level"
        )
    return wanted


def resume(spec, launch_dir):
    """``(first task index, results so far, spec)`` for this run: from the start without a
    recovery; else from the failed task, in a copy of the old directory for ``cp``."""
    recovery = recovery_of(spec)
    if recovery is None:
        return 0, FWAction(), spec
    action = FWAction(
        stored_data=recovery.get("_all_stored_data") or {},
        update_spec=recovery.get("_all_update_spec") or {},
        mod_spec=recovery.get("_all_mod_spec") or [],
    )
    old = recovery.get("_prev_dir")
    if recovery.get("_mode") == "cp" and old and os.path.realpath(old) != os.path.realpath(launch_dir):
        log.info("copying the files of %s to %s", old, launch_dir)
        shutil.copytree(old, launch_dir, dirs_exist_ok=True, symlinks=True)
    start = int(recovery["_task_n"])
    log.info("resuming at task %d (the tasks before it ran in %s)", start, old)
    if action.update_spec or action.mod_spec:  # the later tasks see what the earlier ones set
        spec = apply_action_to_spec(spec, action)
    return start, action, spec
