"""What the pages and the JSON API show, read through the LaunchPad API only.

Pages render these dicts as HTML and ``/api`` returns them as JSON, so the
two can never disagree. Listings ask for the fields they show and a page
of rows; only the firework page reads a full document.
"""

import time
from dataclasses import dataclass

from launchpad.errors import InvalidQueryError, NotFoundError
from launchpad.query import name_search, parse_query
from launchpad.states import ALL_STATES, State

from .colors import DISPLAY_ORDER
from .firework_view import output_note, runtime
from .tails import launch_tails

SORTS = {"newest": [("wf_id", -1)], "oldest": [("wf_id", 1)], "name": [("name", 1), ("wf_id", -1)]}
ROW_FIELDS = ["fw_id", "name", "state", "priority", "updated_on", "current_launch"]


def full_counts(counts):
    """Counts for every state (zeros included), in display order."""
    return {state: int(counts.get(state, 0)) for state in DISPLAY_ORDER}


@dataclass(frozen=True)
class Scope:
    """What this GUI shows at all: FireWorks' ``--fwquery`` and ``--wflowquery``.

    ``fw`` narrows the dashboard's firework counts and failures, ``wf`` the
    workflow counts and lists; pages reached by id are not narrowed.
    """

    fw: dict = None
    wf: dict = None


def both(first, second):
    """The conjunction of two filters (None or {} meaning everything)."""
    if not first or not second:
        return first or second or None
    return {"$and": [first, second]}


class CountsCache:
    """What is derived from every firework's state, kept while no firework changed.

    The workflows by state (the dashboard, every few seconds) and the ids of
    the workflows in a state (the workflow list filtered by state) group every
    firework: about 130 ms of SQLite at 100,000 fireworks. Every change to a
    firework moves its ``updated_on``, and adding or deleting changes the
    totals, so ``change_mark`` tells when to derive again; ``max_age`` bounds
    what an unforeseen change could leave stale. A few entries are kept.
    """

    def __init__(self, max_age=30.0, clock=time.monotonic, entries=8):
        self.max_age, self.clock, self.entries = max_age, clock, entries
        self._kept = {}  # key: (value, when); replaced whole, never changed in place (threads)

    def get(self, key, compute):
        value, when = self._kept.get(key, (None, float("-inf")))
        now = self.clock()
        if now - when > self.max_age:
            value = compute()
            newest = sorted(self._kept.items(), key=lambda item: item[1][1])[-(self.entries - 1) :]
            self._kept = {**dict(newest), key: (value, now)}
        return value


def change_mark(lp, fw_counts=None):
    """What moves whenever a firework's state, or the set of fireworks or workflows, changes:
    the fireworks by state (``fw_counts``, of all fireworks), the number of workflows and
    the newest ``updated_on``."""
    newest = lp.get_fws(None, fields=["updated_on"], sort=[("updated_on", -1)], limit=1)
    fw_counts = lp.fw_state_counts() if fw_counts is None else fw_counts
    return (tuple(sorted(fw_counts.items())), lp.count_wfs(), newest[0]["updated_on"] if newest else None)


def workflow_counts(lp, scope, cache=None, fw_counts=None):
    """``{state: number of workflows}`` in ``scope``, from ``cache`` while nothing changed."""
    if cache is None:
        return lp.wf_state_counts(scope.wf or None)
    key = ("counts", change_mark(lp, fw_counts))
    return cache.get(key, lambda: lp.wf_state_counts(scope.wf or None))


def summary(lp, recent=8, scope=Scope(), cache=None):
    """The dashboard: fireworks and workflows by state, and the latest failures."""
    all_counts = lp.fw_state_counts()
    fw_counts = full_counts(lp.fw_state_counts(scope.fw) if scope.fw else all_counts)
    wf_counts = workflow_counts(lp, scope, cache, all_counts)
    fizzled = lp.get_fws(
        both(scope.fw, {"state": State.FIZZLED.value}),
        fields=["fw_id", "wf_id", "name", "updated_on"],
        sort=[("updated_on", -1)],
        limit=recent,
    )
    return {
        "fireworks": fw_counts,
        "workflows": full_counts(wf_counts),
        "total_fireworks": sum(fw_counts.values()),
        "total_workflows": sum(wf_counts.values()),
        "recent_fizzled": fizzled,
        "recent_workflows": recent_workflows(lp, recent, scope),
    }


def recent_workflows(lp, count, scope=Scope()):
    """Workflows whose fireworks changed last (a workflow's own updated_on never moves)."""
    latest = {}
    for doc in lp.get_fws(
        scope.fw or None, fields=["wf_id", "updated_on"], sort=[("updated_on", -1)], limit=count * 20
    ):
        latest.setdefault(doc["wf_id"], doc["updated_on"])
        if len(latest) == count:
            break
    shown = both(scope.wf, {"wf_id": {"$in": list(latest)}})
    docs = {d["wf_id"]: d for d in lp.get_wf_summaries(shown)}
    rows = []
    for wf_id, changed in latest.items():
        if wf_id in docs:
            rows.append({**workflow_row(docs[wf_id]), "last_change": changed})
    return rows


def workflow_row(doc):
    return {
        "wf_id": doc["wf_id"],
        "name": doc.get("name"),
        "state": doc["state"],
        "states": full_counts(doc.get("states", {})),
        "nodes": doc.get("nodes", 0),
        "created_on": doc.get("created_on"),
        "updated_on": doc.get("updated_on"),
    }


def int_arg(args, name, default, low, high):
    raw = args.get(name, "")
    if raw in ("", None):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise InvalidQueryError(f"{name} must be a whole number, got {raw!r:.40}") from None
    return min(max(value, low), high)


def check_state(state):
    if state and state not in ALL_STATES:
        raise InvalidQueryError(f"unknown state {state!r:.40}; use one of {', '.join(ALL_STATES)}")
    return state or None


def check_sort(args, sorts, default):
    """The ``sort`` argument, one of ``sorts``' names (``default`` when absent)."""
    sort = args.get("sort") or default
    if sort not in sorts:
        raise InvalidQueryError(f"unknown sort {sort!r:.40}; use one of {', '.join(sorts)}")
    return sort


@dataclass(frozen=True)
class WorkflowFilters:
    """The workflow list's filters, read from request arguments and vetted."""

    state: str = None
    name: str = ""
    text: str = ""
    query: str = ""
    page: int = 1
    per_page: int = 25
    sort: str = "newest"

    @classmethod
    def from_args(cls, args):
        sort = check_sort(args, SORTS, "newest")
        return cls(
            state=check_state(args.get("state")),
            name=(args.get("name") or "").strip(),
            text=(args.get("q") or "").strip(),
            query=(args.get("query") or "").strip(),
            page=int_arg(args, "page", 1, 1, 10**6),
            per_page=int_arg(args, "per_page", 25, 1, 200),
            sort=sort,
        )

    @classmethod
    def raw(cls, args):
        """The filters as typed, unvetted: only to refill the form after an error."""
        return cls(name=args.get("name") or "", text=args.get("q") or "", query=args.get("query") or "")

    def mongo_query(self, lp):
        """The workflow filter: the query box, the exact name, and the text search."""
        parts = [parse_query(self.query)] if self.query else []
        if self.name:
            parts.append({"name": self.name})
        if self.text:
            parts.append(name_search(self.text))
        parts = [p for p in parts if p]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"$and": parts}

    def as_args(self):
        """The non-default filters, for links that keep them (pagination)."""
        out = {
            "state": self.state,
            "name": self.name,
            "q": self.text,
            "query": self.query,
            "sort": None if self.sort == "newest" else self.sort,
            "per_page": None if self.per_page == 25 else self.per_page,
        }
        return {k: v for k, v in out.items() if v}


def workflow_list(lp, filters, scope=Scope(), cache=None):
    """One page of workflows matching ``filters``, with the total for pagination.

    Without a query, the ids in a state come from ``cache`` while nothing changed
    (a query may match workflow documents, whose changes the cache does not see)."""
    query = both(scope.wf, filters.mongo_query(lp))
    skip = (filters.page - 1) * filters.per_page
    sort = SORTS[filters.sort]
    if filters.state:  # the workflow state is derived: ids first, documents for one page

        def find():
            return lp.get_wf_ids(query, sort=sort, state=filters.state)

        if cache is None or query:
            ids = find()
        else:
            ids = cache.get(("ids", filters.state, filters.sort, change_mark(lp)), find)
        total, shown = len(ids), ids[skip : skip + filters.per_page]
        found = {d["wf_id"]: d for d in lp.get_wf_summaries({"wf_id": {"$in": shown}})}
        docs = [found[i] for i in shown if i in found]
    else:
        total = lp.count_wfs(query)
        docs = lp.get_wf_summaries(query, sort=sort, limit=filters.per_page, skip=skip)
    pages = max((total + filters.per_page - 1) // filters.per_page, 1)
    return {
        "items": [workflow_row(d) for d in docs],
        "total": total,
        "page": filters.page,
        "per_page": filters.per_page,
        "pages": pages,
    }


def empty_page():
    return {"items": [], "total": 0, "page": 1, "per_page": 25, "pages": 1}


def workflow_summary(lp, wf_id):
    """A workflow's row: state and counts (raises NotFoundError)."""
    docs = lp.get_wf_summaries({"wf_id": wf_id})
    if not docs:
        raise NotFoundError(f"no workflow with id {wf_id}")
    return {**workflow_row(docs[0]), "metadata": docs[0].get("metadata") or {}}


def workflow(lp, wf_id):
    """``workflow_summary`` and the time of its last change (at 10,000 fireworks the
    newest of their ``updated_on``: ~4 ms, which the graph does without)."""
    info = workflow_summary(lp, wf_id)
    last = lp.get_fws({"wf_id": wf_id}, fields=["updated_on"], sort=[("updated_on", -1)], limit=1)
    return {**info, "last_change": last[0]["updated_on"] if last else info["updated_on"]}


def workflow_states(lp, wf_id, limit):
    """The live part of a workflow page: counts, and each firework's state up to ``limit``.

    Past ``limit`` fireworks the page redraws its (grouped) graph when the counts change.
    """
    info = workflow(lp, wf_id)
    out = {
        "wf_id": wf_id,
        "state": info["state"],
        "states": info["states"],
        "total": info["nodes"],
        "last_change": info["last_change"],
    }
    if info["nodes"] <= limit:
        docs = lp.get_fws({"wf_id": wf_id}, fields=["fw_id", "state"])
        out["fireworks"] = {str(d["fw_id"]): d["state"] for d in docs}
    return out


def workflow_fireworks(lp, wf_id, args, known=False):
    """One page of a workflow's fireworks (id, name, state, priority), by state if asked;
    ``known``: the caller has read the workflow already (it exists)."""
    if not known:
        workflow(lp, wf_id)
    state = check_state(args.get("state"))
    page = int_arg(args, "page", 1, 1, 10**6)
    per_page = int_arg(args, "per_page", 100, 1, 500)
    query = {"wf_id": wf_id, **({"state": state} if state else {})}
    total = lp.get_fw_ids(query, count_only=True)
    rows = lp.get_fws(
        query, fields=ROW_FIELDS, sort=[("fw_id", 1)], limit=per_page, skip=(page - 1) * per_page
    )
    return {
        "items": rows,
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": max((total + per_page - 1) // per_page, 1),
        "state": state,
    }


def firework(lp, fw_id, tail_lines=100, tail_bytes=64 * 1024, tailed_launches=3):
    """Everything the firework page shows; launches newest first.

    Only the newest ``tailed_launches`` launches get their output files read,
    so a firework rerun fifty times still loads quickly.
    """
    doc = lp.get_fw_dict(fw_id)
    doc.pop("_id", None)
    spec = dict(doc.get("spec") or {})
    tasks = spec.pop("_tasks", [])
    launches, now = [], lp.now()
    newest_first = sorted(doc.pop("launches", []), key=lambda launch: launch["launch_id"], reverse=True)
    for i, launch in enumerate(newest_first):
        launch = {k: v for k, v in launch.items() if k != "_id"}
        action = launch.get("action") or {}
        launch["stored_data"] = action.get("stored_data") or {}
        launch["taken_from"] = launch.get("fw_id") if launch.get("fw_id") not in (None, fw_id) else None
        tailed = i < tailed_launches
        launch["files"] = launch_tails(launch.get("launch_dir"), tail_lines, tail_bytes) if tailed else []
        launch["runtime_secs"], launch["runtime_note"] = runtime(launch, now)
        silent = tailed and not launch["files"] and launch.get("time_start")
        launch["output_note"] = output_note(tasks, launch) if silent else []
        launches.append(launch)
    return {**doc, "spec": spec, "tasks": tasks, "launches": launches}
