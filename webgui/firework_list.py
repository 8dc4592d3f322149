"""The fireworks page: every firework (FIZZLED first of all) by state, workflow,
name, worker host and date, a page at a time.

Each filter is a store query on an indexed column or a bounded projection,
so a page costs a count, one page of rows and one launch query for those
rows, however many fireworks the store holds. A FIZZLED row carries the
error message its newest launch recorded.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from launchpad.errors import InvalidQueryError

from .data import Scope, both, check_sort, check_state, int_arg

SORTS = {
    "updated": [("updated_on", -1), ("fw_id", -1)],
    "oldest": [("updated_on", 1), ("fw_id", 1)],
    "id": [("fw_id", 1)],
    "name": [("name", 1), ("fw_id", 1)],
    "state": [("state", 1), ("fw_id", 1)],
}
ROW_FIELDS = ["fw_id", "wf_id", "name", "state", "updated_on", "created_on"]
LAUNCH_FIELDS = ["launch_id", "fw_id", "host", "fworker", "exception", "time_start", "time_end"]
HOST_LIMIT = 20_000  # launches a host filter may match before it asks to be narrowed
MESSAGE_CHARS = 300


def parse_day(args, name):
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidQueryError(f"{name} must be a date like 2026-11-30, got {raw!r:.40}") from None


@dataclass(frozen=True)
class FireworkFilters:
    """The fireworks page's filters, read from request arguments and vetted."""

    state: str = None
    wf_id: int = None
    name: str = ""
    host: str = ""
    since: date = None
    until: date = None
    page: int = 1
    per_page: int = 50
    sort: str = "updated"

    @classmethod
    def from_args(cls, args):
        sort = check_sort(args, SORTS, "updated")
        return cls(
            state=check_state(args.get("state")),
            wf_id=int_arg(args, "wf_id", None, 0, 2**62),
            name=(args.get("name") or "").strip(),
            host=(args.get("host") or "").strip(),
            since=parse_day(args, "since"),
            until=parse_day(args, "until"),
            page=int_arg(args, "page", 1, 1, 10**6),
            per_page=int_arg(args, "per_page", 50, 1, 200),
            sort=sort,
        )

    @classmethod
    def raw(cls, args):
        """The filters as typed, unvetted: only to refill the form after an error."""
        return cls(name=args.get("name") or "", host=args.get("host") or "")

    def mongo_query(self, lp):
        """The firework filter; a host filter first finds the fireworks launched there."""
        parts = []
        if self.state:
            parts.append({"state": self.state})
        if self.wf_id is not None:
            parts.append({"wf_id": self.wf_id})
        if self.name:
            parts.append({"name": {"$regex": re.escape(self.name), "$options": "i"}})
        changed = {}
        if self.since:
            changed["$gte"] = self.since.isoformat()
        if self.until:
            changed["$lt"] = (self.until + timedelta(days=1)).isoformat()
        if changed:
            parts.append({"updated_on": changed})
        if self.host:
            parts.append({"fw_id": {"$in": fireworks_on_host(lp, self.host)}})
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"$and": parts}

    def as_args(self, **changes):
        """The non-default filters (with ``changes``), for links that keep them."""
        out = {
            "state": self.state,
            "wf_id": self.wf_id,
            "name": self.name,
            "host": self.host,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "sort": None if self.sort == "updated" else self.sort,
            "per_page": None if self.per_page == 50 else self.per_page,
            **changes,
        }
        return {k: v for k, v in out.items() if v is not None and v != ""}


def fireworks_on_host(lp, host):
    """Ids of fireworks with a launch on a host whose name holds ``host`` (bounded)."""
    pattern = {"$regex": re.escape(host), "$options": "i"}
    docs = lp.get_launches({"host": pattern}, fields=["fw_id"], limit=HOST_LIMIT + 1)
    if len(docs) > HOST_LIMIT:
        raise InvalidQueryError(
            f"host {host!r:.40} matches over {HOST_LIMIT} launches; add a state, workflow or date filter"
        )
    return sorted({d["fw_id"] for d in docs})


def firework_list(lp, filters, scope=None):
    """One page of fireworks matching ``filters`` (within the GUI's ``scope``),
    each with its newest launch's host, worker and error message."""
    query = both((scope or Scope()).fw, filters.mongo_query(lp))
    total = lp.get_fw_ids(query, count_only=True)
    rows = lp.get_fws(
        query,
        fields=ROW_FIELDS,
        sort=SORTS[filters.sort],
        limit=filters.per_page,
        skip=(filters.page - 1) * filters.per_page,
    )
    newest = newest_launches(lp, [r["fw_id"] for r in rows])
    items = [{**row, **launch_facts(newest.get(row["fw_id"]))} for row in rows]
    return {
        "items": items,
        "total": total,
        "page": filters.page,
        "per_page": filters.per_page,
        "pages": max((total + filters.per_page - 1) // filters.per_page, 1),
        "sort": filters.sort,
    }


def newest_launches(lp, fw_ids):
    """``{fw_id: newest launch}`` for one page of fireworks, from one query."""
    if not fw_ids:
        return {}
    newest = {}
    for launch in lp.get_launches({"fw_id": {"$in": fw_ids}}, fields=LAUNCH_FIELDS, sort=[("launch_id", 1)]):
        newest[launch["fw_id"]] = launch
    return newest


def launch_facts(launch):
    """What a row shows of a launch: where it ran and, when it failed, why."""
    if not launch:
        return {"launch_id": None, "host": None, "worker": None, "error": None}
    worker = launch.get("fworker")
    if isinstance(worker, dict):
        worker = worker.get("name")
    return {
        "launch_id": launch["launch_id"],
        "host": launch.get("host"),
        "worker": worker,
        "error": error_message(launch.get("exception")),
    }


def error_message(exception):
    """The one line that says why a launch failed (its exception's message)."""
    if not exception:
        return None
    if isinstance(exception, dict):
        text = exception.get("message") or exception.get("traceback") or ""
        if not exception.get("message"):
            lines = [line for line in str(text).splitlines() if line.strip()]
            text = lines[-1] if lines else ""
    else:
        text = exception
    text = " ".join(str(text).split())
    return text[: MESSAGE_CHARS - 1] + "…" if len(text) > MESSAGE_CHARS else text or None
