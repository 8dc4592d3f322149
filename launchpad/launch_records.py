"""What a running launch records besides its result: its directory, heartbeats,
and the tails of the files it tracks (``_trackers``) and background task failures.

Plain functions over a store (and a clock for heartbeats).
"""

from .reads import wf_id_of
from .states import LaunchState
from .timestamps import timestamp
from .trackers import Tracker

CHECKPOINT_FIELD = "checkpoint"  # the launch's last task checkpoint (launchpad/recovery.py reads it)


def set_launch_dir(store, launch_id, path):
    """Record where a launch really runs (None: no directory could be made)."""
    store.update_launch(launch_id, {"launch_dir": path})


def ping_launch(store, clock, launch_id, trackers=None, checkpoint=None):
    """Record a heartbeat; False means the launch was fenced (rerun, defused, lost).

    ``trackers`` (the rocket's latest tails of the spec's ``_trackers``, as
    dicts) ride along in the same write, so a heartbeat stays one write.
    ``checkpoint`` (FireWorks' ``_task_n``, ``_all_stored_data``,
    ``_all_update_spec``, ``_all_mod_spec``, sent as a task starts) replaces
    the launch's last one, so a run killed in that task can be resumed there.
    """
    changes = {"last_ping": timestamp(clock)}
    if trackers is not None:
        changes["trackers"] = _tracker_records(trackers)
    if checkpoint is not None:
        changes[CHECKPOINT_FIELD] = dict(checkpoint)
    return store.update_launch(launch_id, changes, expect_state=LaunchState.RUNNING.value)


def record_tracking(store, launch_id, trackers=None, background_errors=None):
    """Keep a launch's last tracker tails and its background tasks' failures.

    The rocket calls it at the end of a run, before the result, whatever
    the launch's state: the tails of a failed or fenced run are what
    someone will want to read.
    """
    changes = {}
    if trackers is not None:
        changes["trackers"] = _tracker_records(trackers)
    if background_errors:
        changes["background_errors"] = list(background_errors)
    if changes:
        store.update_launch(int(launch_id), changes)


def tracker_data(store, fw_id):
    """``[{"launch_id", "trackers": [Tracker]}]`` for the firework's launches that track
    files, oldest first (FireWorks' ``get_tracker_data``)."""
    launches = store.find_launches(
        {"fw_id": int(fw_id)}, fields=["launch_id", "trackers"], sort=[("launch_id", 1)]
    )
    if not launches:
        wf_id_of(store, fw_id)  # raises NotFoundError for an unknown id
    return [
        {"launch_id": launch["launch_id"], "trackers": [Tracker.from_dict(t) for t in launch["trackers"]]}
        for launch in launches
        if launch.get("trackers")
    ]


def _tracker_records(trackers):
    """Tracker objects or dicts as the launch keeps them: FireWorks' form, vetted."""
    records = []
    for t in trackers:
        t = t if isinstance(t, Tracker) else Tracker.from_dict(t)
        records.append({**t.to_dict(), "content": t.content})
    return records
