"""The firework page's live part and its explanations of where a launch's output went.

``live`` is what the page polls while the firework RUNS: a few fields, one
launch, no files read; ``state`` is what it polls, ever less often, while the
firework can still start. ``runtime`` gives every launch a runtime, also one
that was interrupted, fenced or lost (from its end or last heartbeat).
``output_note`` says where output went when the launch directory holds no
output file, as with a ScriptTask whose options leave stdout alone.
"""

import os
from datetime import datetime

from launchpad.errors import NotFoundError
from launchpad.states import LaunchState, State

LIVE_FIELDS = ["fw_id", "wf_id", "state", "updated_on", "current_launch"]
LAUNCH_FIELDS = [
    "launch_id",
    "fw_id",
    "state",
    "host",
    "launch_dir",
    "time_start",
    "time_end",
    "last_ping",
    "ping_interval",
    "runtime_secs",
    "trackers",
    "interrupted",
    "exception",
]


def _parse(stamp):
    try:
        return datetime.fromisoformat(str(stamp)[:26])
    except (TypeError, ValueError):
        return None


def seconds_between(start, end):
    a, b = _parse(start), _parse(end)
    return max((b - a).total_seconds(), 0.0) if a and b else None


def runtime(launch, now):
    """``(seconds, how)``: the recorded runtime, else what the launch's own stamps show."""
    if isinstance(launch.get("runtime_secs"), (int, float)):
        how = "until it was interrupted" if launch.get("interrupted") else ""
        return launch["runtime_secs"], how
    start = launch.get("time_start")
    if not start:
        return None, ""
    if launch.get("state") == LaunchState.RUNNING.value:
        return seconds_between(start, now), "so far"
    if launch.get("time_end"):
        return seconds_between(start, launch["time_end"]), f"until it was stopped ({launch.get('state')})"
    if launch.get("last_ping"):
        return seconds_between(start, launch["last_ping"]), "until its last heartbeat"
    return None, ""


def live(lp, fw_id):
    """State, the newest launch's times, heartbeat and tracker lines: the RUNNING page's refresh."""
    docs = lp.get_fws({"fw_id": fw_id}, fields=LIVE_FIELDS)
    if not docs:
        raise NotFoundError(f"no firework with id {fw_id}")
    doc, now = docs[0], lp.now()
    # Its live launch: also one it took over from a duplicate (launchpad/duplicates.py), whose
    # fw_id is the other firework's; else its newest own launch.
    current = doc.get("current_launch")
    newest = current is not None and lp.get_launches({"launch_id": current}, fields=LAUNCH_FIELDS)
    if not newest:
        newest = lp.get_launches({"fw_id": fw_id}, fields=LAUNCH_FIELDS, sort=[("launch_id", -1)], limit=1)
    launch = None
    if newest:
        launch = dict(newest[0])
        launch["runtime_secs"], launch["runtime_note"] = runtime(launch, now)
        launch["heartbeat_age_secs"] = seconds_between(launch.get("last_ping"), now)
        launch["trackers"] = launch.get("trackers") or []
    return {
        "fw_id": fw_id,
        "state": doc["state"],
        "updated_on": doc.get("updated_on"),
        "running": doc["state"] == State.RUNNING.value,
        "now": now,
        "launch": launch,
    }


# States from which a firework can still start running, so its page keeps asking.
CAN_START = {State.WAITING.value, State.READY.value, State.RESERVED.value}


def state(lp, fw_id):
    """Only the state and its time: what the page of a firework not yet running polls
    (one indexed read), to notice when it starts."""
    docs = lp.get_fws({"fw_id": fw_id}, fields=LIVE_FIELDS)
    if not docs:
        raise NotFoundError(f"no firework with id {fw_id}")
    doc = docs[0]
    return {
        "fw_id": fw_id,
        "state": doc["state"],
        "updated_on": doc.get("updated_on"),
        "can_start": doc["state"] in CAN_START,
    }


def _stream_note(task, stream):
    """Where a ScriptTask sent one stream, by its options."""
    if task.get(f"{stream}_file"):
        where = f"appended to {task[f'{stream}_file']} (relative paths: in the launch directory)"
    elif task.get(f"store_{stream}"):
        where = "kept in the launch's stored data (below)"
    elif stream == "stderr":
        where = (
            "not saved to a file: it went to the rlaunch process's own stderr (its terminal, "
            "or the batch job's error file under qlaunch); its end is quoted in the error "
            "when the command fails"
        )
    else:
        where = (
            "not saved: it went to the rlaunch process's own output (its terminal, or the batch "
            "job's output file under qlaunch)"
        )
    return f"{stream} {where}"


def output_note(tasks, launch):
    """Lines saying where each task's output went, for a launch with no output file shown."""
    directory = launch.get("launch_dir")
    if not directory:
        lines = ["This launch recorded no directory."]
    elif not os.path.isdir(directory):
        lines = [f"The launch directory {directory} cannot be read from this server (another host's disk?)."]
    else:
        lines = [f"No *.out, *.err or *.log file in the launch directory {directory}."]
    for i, task in enumerate(tasks, 1):
        name = task.get("_fw_name", "task") if isinstance(task, dict) else "task"
        if "ScriptTask" in str(name):
            lines.append(
                f"Task {i} ({name}): " + "; ".join(_stream_note(task, s) for s in ("stdout", "stderr")) + "."
            )
        else:
            lines.append(
                f"Task {i} ({name}) writes files of its own choosing; its printed output went "
                "to the rlaunch process's output (terminal or batch job file)."
            )
    lines.append(
        "To keep a ScriptTask's output with the launch, set stdout_file/stderr_file "
        "(e.g. run.out, run.err) or store_stdout/store_stderr."
    )
    return lines
