"""Statistics for ``lpad report`` and ``lpad introspect``, from LaunchPad calls only.

Nothing here touches a store: it reads through the public API (counts,
projected listings), so the same numbers come out of every backend and
the web GUI can show them too.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from .states import State
from .stores.base import spec_task_names as task_names

S = State
FINISHED = (S.COMPLETED.value, S.FIZZLED.value)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
_VALUE_CHARS = 40


def state_summary(lp):
    """``{"fireworks": {state: n}, "workflows": {state: n}}``."""
    wf_counts = defaultdict(int)
    for wf in lp.get_wf_summaries():
        wf_counts[wf["state"]] += 1
    return {"fireworks": dict(lp.fw_state_counts()), "workflows": dict(wf_counts)}


def label_of(names):
    """The name a firework's runtime is reported under: its tasks, in order."""
    return " + ".join(names) or "(no tasks)"


def task_labels(lp, fw_ids):
    """``{fw_id: task_label}`` of the fireworks that exist, read by the store at once."""
    return {fw_id: label_of(names) for fw_id, names in lp.get_task_names(fw_ids).items()}


def since(lp, days):
    """The timestamp ``days`` before the LaunchPad's now, or None for all time."""
    if not days:
        return None
    return (lp.clock() - timedelta(days=days)).strftime(_TIME_FORMAT)


def runtime_summary(lp, days=None):
    """Runtimes of launches started in the last ``days`` (all when None or 0).

    ``by_task``: launches, completed, fizzled, mean and total seconds per
    task label; ``by_day``: the same counts and total per start day.
    """
    query = {"time_start": {"$gte": since(lp, days)}} if days else None
    launches = lp.get_launches(query, fields=["fw_id", "state", "runtime_secs", "time_start", "time_end"])
    fw_ids = sorted({launch["fw_id"] for launch in launches})
    labels = task_labels(lp, fw_ids)
    by_task, by_day = defaultdict(_Tally), defaultdict(_Tally)
    for launch in launches:
        secs = launch_runtime(launch)
        by_task[labels.get(launch["fw_id"], "(deleted)")].add(launch["state"], secs)
        by_day[(launch.get("time_start") or "?")[:10]].add(launch["state"], secs)
    return {
        "days": days or None,
        "by_task": [{"task": k, **v.as_dict()} for k, v in sorted(by_task.items())],
        "by_day": [{"day": k, **v.as_dict()} for k, v in sorted(by_day.items())],
    }


def launch_runtime(launch):
    """Seconds a finished launch ran (from its times when the runtime was not recorded)."""
    if launch.get("runtime_secs") is not None:
        return float(launch["runtime_secs"])
    if launch.get("state") in FINISHED and launch.get("time_start") and launch.get("time_end"):
        start = datetime.strptime(launch["time_start"], _TIME_FORMAT)
        return (datetime.strptime(launch["time_end"], _TIME_FORMAT) - start).total_seconds()
    return None


class _Tally:
    def __init__(self):
        self.launches = self.completed = self.fizzled = self.timed = 0
        self.total = 0.0

    def add(self, state, secs):
        self.launches += 1
        self.completed += state == S.COMPLETED.value
        self.fizzled += state == S.FIZZLED.value
        if secs is not None:
            self.timed += 1
            self.total += secs

    def as_dict(self):
        mean = self.total / self.timed if self.timed else None
        return {
            "launches": self.launches,
            "completed": self.completed,
            "fizzled": self.fizzled,
            "mean_secs": mean,
            "total_secs": self.total,
        }


# -- introspect ----------------------------------------------------------------
def features(spec):
    """What a firework is made of: its task names, spec keys, and short spec values."""
    found = set()
    for name in task_names(spec):
        found.add(("task", name))
    for key, value in (spec or {}).items():
        if key == "_tasks":
            continue
        found.add(("key", key))
        if value is None or isinstance(value, (str, int, float, bool)):
            text = f"{key}={value}"
            if len(text) <= _VALUE_CHARS:
                found.add(("value", text))
    return found


def introspect(lp, limit=1000):
    """Features of the latest ``limit`` FIZZLED and COMPLETED fireworks, worst first.

    Each row gives how many fizzled and completed fireworks have the
    feature and the fraction that fizzled; only features seen on a
    fizzled firework are listed, since those are the leads to follow.
    """
    counts = {}
    for state in FINISHED:
        docs = lp.get_fws({"state": state}, fields=["fw_id", "spec"], sort=[("updated_on", -1)], limit=limit)
        counts[state] = (len(docs), _count_features(docs))
    n_fizzled, fizzled = counts[S.FIZZLED.value]
    n_completed, completed = counts[S.COMPLETED.value]
    rows = []
    for (kind, name), f in fizzled.items():
        c = completed.get((kind, name), 0)
        rows.append(
            {"kind": kind, "feature": name, "fizzled": f, "completed": c, "fizzled_fraction": f / (f + c)}
        )
    rows.sort(key=lambda r: (-r["fizzled_fraction"], -r["fizzled"], r["kind"], r["feature"]))
    return {"fizzled": n_fizzled, "completed": n_completed, "features": rows}


# FireWorks' introspection keys (fireworks.features.introspect), for scripts that build
# their own statistics from them: "a.b" + separator_str + "value" for each leaf.
separator_str = ":%%:"
TRUNCATED = "<TRUNCATED_OBJECT>"


def flatten_to_keys(doc, curr_recurs=1, max_recurs=2):
    """A nested dict's leaves as keys with their value; a list gives one key per plain item,
    and what lies deeper than ``max_recurs`` levels (or in a list) stands as TRUNCATED."""
    if isinstance(doc, dict):
        if curr_recurs > max_recurs:
            return [separator_str + TRUNCATED]
        dot = "" if curr_recurs == 1 else "."
        return [
            dot + str(key) + rest
            for key, value in doc.items()
            for rest in flatten_to_keys(value, curr_recurs + 1, max_recurs)
        ]
    if isinstance(doc, (list, tuple)):
        if any(isinstance(item, (dict, list, tuple)) for item in doc):
            return [separator_str + TRUNCATED]
        return [separator_str + str(item) for item in doc]
    return [separator_str + str(doc)]


def _count_features(docs):
    counts = defaultdict(int)
    for doc in docs:
        for feature in features(doc.get("spec")):
            counts[feature] += 1
    return counts


# -- FireWorks' `lpad report -c COLL -i INTERVAL`: counts by state per time interval -----
INTERVALS = {
    "minutes": (16, timedelta(minutes=1)),
    "hours": (13, timedelta(hours=1)),
    "days": (10, timedelta(days=1)),
    "months": (7, timedelta(days=31)),
    "years": (4, timedelta(days=366)),
}
COLLECTIONS = {
    "fws": "fireworks",
    "fireworks": "fireworks",
    "wflows": "workflows",
    "workflows": "workflows",
    "launches": "launches",
}


def interval_stats(lp, coll="fws", interval="days", num_intervals=5, query=None):
    """Documents by state per interval of their last change (launches: their end),
    newest first, as FireWorks' FWReport: ``[{"date", "states", "total", "fizzled_pct"}]``."""
    width, step = INTERVALS[interval]
    coll = COLLECTIONS[coll]
    start = (lp.clock() - step * num_intervals).strftime(_TIME_FORMAT)[:width] if num_intervals else None
    if coll == "launches":  # counted in the store: the web GUI's plots ask every few seconds
        counts = lp.store.count_launches_by_period(width, start, query or None)
    else:
        counts = _counts_by_rows(lp, coll, width, start, query)
    rows = []
    for date in sorted(counts, reverse=True):
        states = dict(counts[date])
        total = sum(states.values())
        rows.append(
            {
                "date": date,
                "states": states,
                "total": total,
                "fizzled_pct": round(100.0 * states.get(S.FIZZLED.value, 0) / total, 1),
            }
        )
    return rows


def _counts_by_rows(lp, coll, width, start, query):
    """``{period: {state: n}}`` read document by document."""
    field = "time_end" if coll == "launches" else "updated_on"
    query = dict(query or {})
    if start:
        query = {"$and": [query, {field: {"$gte": start}}]} if query else {field: {"$gte": start}}
    counts = defaultdict(lambda: defaultdict(int))
    for doc in _interval_docs(lp, coll, field, query):
        stamp = doc.get(field)
        if stamp:
            counts[str(stamp).replace(" ", "T")[:width]][doc["state"]] += 1
    return counts


def _interval_docs(lp, coll, field, query):
    if coll == "launches":
        return lp.get_launches(query, fields=["state", field])
    if coll == "fireworks":
        return lp.get_fws(query, fields=["state", field])
    return lp.get_wf_summaries(query or None)
