"""FireWorks' ``FWStats``: counts and runtimes by state, by day and by task, as it returns them.

FireWorks runs MongoDB aggregations on its raw collections; here the same
answers come from the LaunchPad's projected listings (``launchpad.reports``
does the sums), so they work on every store. Results keep FireWorks' shape:
lists of ``{"_id": state, "count": n, ...}`` sorted by ``_id``.
"""

from collections import defaultdict
from datetime import datetime, timedelta, timezone

from .errors import InvalidArgumentError
from .reports import launch_runtime, task_labels
from .states import State

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
DEFAULT_DAYS = 30  # FireWorks' window when neither query_start nor a timedelta is given


class FWStats:
    """Statistics of a LaunchPad's fireworks, launches and workflows over a time window.

    Every method takes FireWorks' ``query_start``/``query_end`` (ISO text;
    the start inclusive, the end exclusive) or timedelta keywords
    (``days=7``, ``hours=3``) counted back from the end; 30 days by default.
    """

    def __init__(self, lpad):
        if not all(hasattr(lpad, name) for name in ("get_fws", "get_launches", "get_wf_summaries")):
            raise TypeError(f"FWStats needs a LaunchPad, not {type(lpad).__name__}")
        self._lpad = lpad

    # -- FireWorks' methods --------------------------------------------------------
    def get_fireworks_summary(
        self, query_start=None, query_end=None, query=None, time_field="updated_on", **args
    ):
        """``[{"_id": state, "count": n}]`` of fireworks whose ``time_field`` is in the window."""
        window = self._window(query_start, query_end, args)
        docs = self._lpad.get_fws(query or None, fields=["fw_id", "state", time_field])
        return _by_state([d for d in docs if _within(d.get(time_field), window, allow_null=True)], None)

    def get_launch_summary(
        self,
        query_start=None,
        query_end=None,
        time_field="time_end",
        query=None,
        runtime_stats=False,
        include_ids=False,
        **args,
    ):
        """Launches of the fireworks ``query`` selects, by state; a launch still running (no
        ``time_end``) counts too, as in FireWorks. ``runtime_stats`` adds
        ``max_runtime(s)``, ``min_runtime(s)`` and ``avg_runtime(s)``; ``include_ids``
        the ``ids`` (fw_ids) of each state."""
        window = self._window(query_start, query_end, args)
        launches = self._launches(query, ["fw_id", "state", "runtime_secs", "time_start", time_field])
        chosen = [launch for launch in launches if _within(launch.get(time_field), window, allow_null=True)]
        return _by_state(chosen, "fw_id" if include_ids else None, runtime_stats)

    def get_workflow_summary(
        self, query_start=None, query_end=None, query=None, time_field="updated_on", **args
    ):
        """``[{"_id": state, "count": n}]`` of workflows changed in the window."""
        window = self._window(query_start, query_end, args)
        docs = self._lpad.get_wf_summaries(query or None)
        return _by_state([d for d in docs if _within(d.get(time_field), window, allow_null=False)], None)

    def get_daily_completion_summary(
        self, query_start=None, query_end=None, query=None, time_field="time_end", **args
    ):
        """``[{"_id": "YYYY-MM-DD", "run_counts": [{"state", "count"}]}]``: launches per day."""
        window = self._window(query_start, query_end, args)
        days = defaultdict(lambda: defaultdict(int))
        for launch in self._launches(query, ["state", time_field]):
            stamp = launch.get(time_field)
            if stamp and _within(stamp, window, allow_null=False):
                days[_text(stamp)[:10]][launch["state"]] += 1
        return [
            {"_id": day, "run_counts": [{"state": s, "count": n} for s, n in sorted(days[day].items())]}
            for day in sorted(days)
        ]

    def group_fizzled_fireworks(
        self, group_by, query_start=None, query_end=None, query=None, include_ids=False, **args
    ):
        """FIZZLED fireworks created in the window, counted by the value at the dotted
        path ``group_by`` (e.g. ``"spec.task_type"``); ``include_ids`` adds ``fw_id`` lists."""
        window = self._window(query_start, query_end, args)
        selection = {"state": State.FIZZLED.value, **(query or {})}
        docs = self._lpad.get_fws(selection, fields=["fw_id", "created_on", group_by])
        groups = defaultdict(list)
        for doc in docs:
            if _within(doc.get("created_on"), window, allow_null=False):
                groups[_hashable(_dig(doc, group_by))].append(doc["fw_id"])
        rows = []
        for key in sorted(groups, key=_sort_key):
            row = {"_id": key, "count": len(groups[key])}
            if include_ids:
                row["fw_id"] = sorted(groups[key])
            rows.append(row)
        return rows

    def identify_catastrophes(
        self,
        error_ratio=0.01,
        query_start=None,
        query_end=None,
        query=None,
        time_field="time_end",
        include_ids=True,
        **args,
    ):
        """Days on which at least ``error_ratio`` of the launches FIZZLED: ``{day: [fw_ids]}``
        (``include_ids``), else the list of days."""
        daily = self.get_daily_completion_summary(query_start, query_end, query, time_field, **args)
        bad = []
        for day in daily:
            total = sum(c["count"] for c in day["run_counts"])
            fizzled = sum(c["count"] for c in day["run_counts"] if c["state"] == State.FIZZLED.value)
            if total and fizzled / total >= error_ratio:
                bad.append(day["_id"])
        if not include_ids:
            return bad
        found = defaultdict(list)
        for launch in self._launches(query, ["fw_id", "state", time_field]):
            day = _text(launch.get(time_field))[:10]
            if launch["state"] == State.FIZZLED.value and day in bad:
                found[day].append(launch["fw_id"])
        return dict(found)

    # -- starshell's addition: FireWorks has no per-task view ------------------------
    def get_task_summary(self, query_start=None, query_end=None, query=None, time_field="time_start", **args):
        """``[{"_id": task names, "count", "completed", "fizzled", runtimes}]``: launches in the
        window by the firework's task names (``lpad report``'s "by task" table)."""
        window = self._window(query_start, query_end, args)
        launches = self._launches(query, ["fw_id", "state", "runtime_secs", "time_start", "time_end"])
        chosen = [launch for launch in launches if _within(launch.get(time_field), window, allow_null=False)]
        fw_ids = sorted({launch["fw_id"] for launch in chosen})
        labels = task_labels(self._lpad, fw_ids)
        groups = defaultdict(list)
        for launch in chosen:
            groups[labels.get(launch["fw_id"], "(deleted)")].append(launch)
        rows = []
        for label in sorted(groups):
            states = [launch["state"] for launch in groups[label]]
            rows.append(
                {
                    "_id": label,
                    "count": len(states),
                    "completed": states.count(State.COMPLETED.value),
                    "fizzled": states.count(State.FIZZLED.value),
                    **_runtimes(groups[label]),
                }
            )
        return rows

    # -- helpers -------------------------------------------------------------------
    def _launches(self, query, fields):
        """Launches of the fireworks ``query`` selects (all launches without one)."""
        if not query:
            return self._lpad.get_launches(None, fields=fields)
        fw_ids = [d["fw_id"] for d in self._lpad.get_fws(query, fields=["fw_id"])]
        return self._lpad.get_launches({"fw_id": {"$in": fw_ids}}, fields=fields)

    def _window(self, query_start, query_end, delta):
        """``(start, end)`` as store text, checked as FireWorks checks them."""
        if query_start and delta:
            raise InvalidArgumentError("give query_start or a timedelta (days=...), not both")
        end = _parse(query_end) if query_end else self._now()
        try:
            start = (
                _parse(query_start) if query_start else end - timedelta(**(delta or {"days": DEFAULT_DAYS}))
            )
        except TypeError as exc:
            raise InvalidArgumentError(f"FWStats: {exc}") from None
        if start > end:
            raise InvalidArgumentError("query_start should be earlier than query_end")
        return start.strftime(_TIME_FORMAT), end.strftime(_TIME_FORMAT)

    def _now(self):
        clock = getattr(self._lpad, "clock", None)
        now = clock() if clock else datetime.now(timezone.utc)
        return now.astimezone(timezone.utc).replace(tzinfo=None)


def _parse(text):
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgumentError(
            f"FWStats: {text!r} is not an ISO date such as 2026-11-30T12:00:00"
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _text(stamp):
    """A stored time as comparable text (the stores keep ISO text; FireWorks imports may hold
    datetimes)."""
    if isinstance(stamp, datetime):
        return stamp.strftime(_TIME_FORMAT)
    return str(stamp or "").replace(" ", "T")


def _within(stamp, window, allow_null):
    if not stamp:
        return allow_null
    return window[0] <= _text(stamp) < window[1]


def _by_state(docs, id_field, runtime_stats=False):
    groups = defaultdict(list)
    for doc in docs:
        groups[doc.get("state")].append(doc)
    rows = []
    for state in sorted(groups, key=_sort_key):
        row = {"_id": state, "count": len(groups[state])}
        if runtime_stats:
            row.update(_runtimes(groups[state], names=("max_runtime(s)", "min_runtime(s)", "avg_runtime(s)")))
        if id_field:
            row["ids"] = [doc[id_field] for doc in groups[state]]
        rows.append(row)
    return rows


def _runtimes(launches, names=("max_runtime_secs", "min_runtime_secs", "avg_runtime_secs")):
    secs = [t for t in (launch_runtime(launch) for launch in launches) if t is not None]
    if not secs:
        return dict.fromkeys(names)
    return dict(zip(names, (max(secs), min(secs), sum(secs) / len(secs))))


def _dig(doc, path):
    value = doc
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _hashable(value):
    return repr(value) if isinstance(value, (dict, list)) else value


def _sort_key(value):
    return (value is None, str(value))
