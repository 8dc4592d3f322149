"""What the "Over time" page and the workflow timeline plot: finished launches
per hour or day, runtimes by task, and a workflow's launches per host.

Every series is read over a bounded window (the last N hours or days, the
newest ``sample`` launches, one workflow's launches), with column-only
projections the store answers from its indexes, so the plots cost the
same at 100,000 fireworks as at 100.
"""

import statistics
from datetime import datetime, timezone

from launchpad.errors import InvalidQueryError
from launchpad.reports import INTERVALS, interval_stats, since, task_labels
from launchpad.states import LaunchState

from .data import int_arg, workflow_summary

WINDOWS = {"hours": (48, 24 * 14), "days": (30, 366)}  # interval: (default count, most)
FINISHED = [LaunchState.COMPLETED.value, LaunchState.FIZZLED.value]
MAX_TASKS = 12
POINTS_PER_TASK = 400
TIMELINE_FIELDS = ["launch_id", "fw_id", "state", "host", "time_start", "time_end"]


def epoch(stamp):
    """A stored UTC timestamp (``2026-11-30T01:02:03.456789``) as Unix seconds, or None."""
    if not stamp:
        return None
    try:
        parsed = datetime.fromisoformat(str(stamp).replace(" ", "T"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def seconds_between(start, end):
    """``end - start`` in seconds for two stored timestamps, or None: one subtraction of
    parsed times (1,000 launches' runtimes in ~1 ms), ``epoch`` for anything unusual."""
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except (TypeError, ValueError):
        first, last = epoch(start), epoch(end)
        return last - first if first is not None and last is not None else None


def finished_per_interval(lp, args):
    """Launches that ended COMPLETED or FIZZLED in each of the last N hours or days."""
    interval = args.get("interval") or "hours"
    if interval not in WINDOWS:
        raise InvalidQueryError(f"unknown interval {interval!r:.40}; use one of {', '.join(WINDOWS)}")
    default, most = WINDOWS[interval]
    count = int_arg(args, "count", default, 1, most)
    rows = {row["date"]: row["states"] for row in interval_stats(lp, "launches", interval, count)}
    width, step = INTERVALS[interval]
    now = lp.clock()
    buckets = []
    for back in range(count - 1, -1, -1):
        key = (now - step * back).strftime("%Y-%m-%dT%H:%M:%S")[:width]
        states = rows.get(key, {})
        buckets.append(
            {
                "start": key,
                "completed": states.get(LaunchState.COMPLETED.value, 0),
                "fizzled": states.get(LaunchState.FIZZLED.value, 0),
            }
        )
    return {
        "interval": interval,
        "count": count,
        "buckets": buckets,
        "completed": sum(b["completed"] for b in buckets),
        "fizzled": sum(b["fizzled"] for b in buckets),
    }


def runtimes_by_task(lp, args):
    """Runtimes of the newest ``sample`` finished launches, grouped by task label."""
    days = int_arg(args, "days", 30, 1, 3660)
    sample = int_arg(args, "sample", 1000, 1, 10_000)
    launches = lp.get_launches(
        {"state": {"$in": FINISHED}, "time_end": {"$gte": since(lp, days)}},
        fields=["fw_id", "state", "time_start", "time_end"],
        sort=[("time_end", -1)],
        limit=sample,
    )
    fw_ids = sorted({launch["fw_id"] for launch in launches})
    labels = task_labels(lp, fw_ids)
    by_task = {}
    for launch in launches:
        secs = seconds_between(launch["time_start"], launch["time_end"])
        if secs is not None:
            by_task.setdefault(labels.get(launch["fw_id"], "(deleted)"), []).append((secs, launch["state"]))
    tasks = sorted(by_task.items(), key=lambda item: (-len(item[1]), item[0]))[:MAX_TASKS]
    return {
        "days": days,
        "sample": sample,
        "launches": len(launches),
        "tasks": [task_runtimes(task, runs) for task, runs in tasks],
    }


def task_runtimes(task, runs):
    """One task's runtime summary and (at most ``POINTS_PER_TASK``) of its points."""
    secs = sorted(s for s, _ in runs)
    every = max(len(runs) // POINTS_PER_TASK, 1)
    return {
        "task": task,
        "launches": len(runs),
        "fizzled": sum(state == LaunchState.FIZZLED.value for _, state in runs),
        "min": secs[0],
        "median": statistics.median(secs),
        "p90": secs[min(int(len(secs) * 0.9), len(secs) - 1)],
        "max": secs[-1],
        "points": [[round(s, 3), state] for s, state in runs[::every]],
    }


def workflow_timeline(lp, wf_id, limit=5000):
    """A workflow's launches (newest ``limit``) as bars on one lane per host."""
    info = workflow_summary(lp, wf_id)
    names = {d["fw_id"]: d.get("name") for d in lp.get_fws({"wf_id": wf_id}, fields=["fw_id", "name"])}
    launches = lp.get_launches(
        {"fw_id": {"$in": sorted(names)}}, fields=TIMELINE_FIELDS, sort=[("launch_id", -1)], limit=limit
    )
    now = lp.clock().replace(tzinfo=timezone.utc).timestamp()
    bars = []
    for launch in reversed(launches):
        start = epoch(launch.get("time_start"))
        if start is None:
            continue
        running = launch.get("time_end") is None
        end = now if running else epoch(launch["time_end"])
        bars.append(
            {
                "launch_id": launch["launch_id"],
                "fw_id": launch["fw_id"],
                "name": names.get(launch["fw_id"]),
                "host": launch.get("host") or "(unknown host)",
                "state": launch["state"],
                "start": start,
                "end": max(end or start, start),
                "running": running,
            }
        )
    return {
        "wf_id": wf_id,
        "name": info["name"],
        "hosts": sorted({bar["host"] for bar in bars}),
        "launches": bars,
        "truncated": len(launches) == limit,
        "start": min((b["start"] for b in bars), default=None),
        "end": max((b["end"] for b in bars), default=None),
    }
