"""The one interface every store backend implements.

The LaunchPad speaks only to this interface; only backends touch pymongo or
sqlite3, so the database schema stays private. Documents are plain dicts:

firework: fw_id, wf_id, name, state, spec, created_on, updated_on, parents,
    children, waiting_on (parents not yet done), launches, archived_launches,
    current_launch (the live launch, the fence for late results), not_before
    (a retry's back-off: not claimable earlier), priority,
    category, fworker (copies of spec keys, for indexed claims)
workflow: wf_id, name, metadata, created_on, updated_on
launch:   see ``launchpad.models.Launch.FIELDS``

Queries are Mongo-style filters (``launchpad.query``); ``fields`` is a list
of (dotted) field names to return; ``sort`` is ``[(field, 1 | -1)]``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple, Union

from ..states import State

# The shapes the interface speaks in (see the module docstring).
Doc = dict  # a firework, workflow or launch document: field name -> plain JSON-like value
Query = Optional[Mapping[str, Any]]  # a Mongo-style filter; None: everything
Fields = Optional[Sequence[str]]  # (dotted) field names to return; None: whole documents
Sort = Optional[Sequence[Tuple[str, int]]]  # [(field, 1 | -1)]

FIREWORK_INDEX_FIELDS = ("priority", "category", "fworker")

# The sort key of a firework without ``_priority``: below every number, as MongoDB sorts
# a missing spec._priority in FireWorks' claim. Internal only: displays read the spec.
NO_PRIORITY = float("-inf")


def spec_task_names(spec: Optional[Mapping[str, Any]]) -> list[str]:
    """The ``_fw_name`` of each task in a spec's ``_tasks`` ("?" for a task without one)."""
    tasks = (spec or {}).get("_tasks")
    if not isinstance(tasks, list):
        return []
    return [str(t.get("_fw_name", "?")) for t in tasks if isinstance(t, dict)]


def index_fields(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec keys a claim filters and sorts on, as top-level document fields."""
    if "_priority" not in spec and "_category" not in spec and "_fworker" not in spec:
        return {"priority": NO_PRIORITY, "category": None, "fworker": None}  # most: adds stay cheap
    priority = spec.get("_priority")
    if priority is None:
        priority = NO_PRIORITY  # null sorts as missing in MongoDB
    elif isinstance(priority, bool) or not isinstance(priority, (int, float)):
        try:
            priority = float(priority)
        except (TypeError, ValueError, OverflowError):
            priority = 0
    if isinstance(priority, float) and math.isnan(priority):
        priority = 0  # NaN sorts nowhere (and SQLite stores it as NULL)
    elif isinstance(priority, int):
        priority = max(-(2**63), min(priority, 2**63 - 1))  # what an 8-byte column holds
    category = spec.get("_category")
    fworker = spec.get("_fworker")
    return {
        "priority": priority,
        "category": None if category in (None, "") else str(category),
        "fworker": None if fworker in (None, "") else str(fworker),
    }


@dataclass(frozen=True)
class WorkerFilter:
    """Which fireworks a worker may run (FireWorks' FWorker rules).

    category: None or "" runs any category; "__none__" only fireworks without
    ``_category``; a string or list only those categories. A firework with
    ``_fworker`` runs only on the worker of that name.
    """

    name: str = "Automatically generated Worker"
    category: Union[None, str, Sequence[str]] = None
    query: dict = field(default_factory=dict)

    def categories(self) -> Optional[list]:
        if self.category in (None, "", []):
            return None
        if self.category == "__none__":
            return []
        return [self.category] if isinstance(self.category, str) else list(self.category)

    def mongo_filter(self) -> dict[str, Any]:
        """The same rules as a Mongo filter on the index fields."""
        clauses: list[dict[str, Any]] = [{"$or": [{"fworker": None}, {"fworker": self.name}]}]
        cats = self.categories()
        if cats is not None:
            clauses.append({"category": {"$in": cats} if cats else None})
        if self.query:
            clauses.append(self.query)
        return {"$and": clauses}


class Store(ABC):
    """Persistence for fireworks, workflows and launches."""

    # Whether one transaction() holds a whole batch of inserts, all or nothing
    # (``lpad add`` of many files then reads each file once, inside it).
    atomic_batches = False

    #: a short name shown to users ("sqlite", "mongodb")
    kind = "abstract"

    # -- lifecycle ---------------------------------------------------------
    @abstractmethod
    def reset(self) -> None:
        """Delete everything and start the id counters again."""

    def close(self) -> None:  # noqa: B027 - optional: a no-op for backends with nothing to release
        """Release connections; the store must not be used afterwards."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Any]:
        """Context manager grouping writes: all-or-nothing where the backend can."""

    def snapshot(self) -> AbstractContextManager[Any]:
        """Context manager for a series of reads that should see one state of the store
        (the checker's): where the backend can, without holding back writers."""
        return self.transaction()

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, without credentials (for messages and logs)."""

    def check_storable(self, value: Any) -> None:  # noqa: B027 - optional: a no-op where every value fits
        """Raise InvalidWorkflowError if ``value`` cannot be written to this store
        (e.g. nested too deeply), so a caller can refuse it before its first write."""

    # -- ids -------------------------------------------------------------------
    @abstractmethod
    def next_ids(self, kind: str, count: int = 1) -> int:
        """Reserve ``count`` consecutive ids of ``kind`` (fw, wf, launch); return the first."""

    # -- inserts -------------------------------------------------------------
    @abstractmethod
    def insert_workflow(self, wf: Doc, fireworks: list[Doc]) -> None:
        """Insert one workflow document and its fireworks, all or nothing."""

    @abstractmethod
    def insert_fireworks(self, fireworks: list[Doc]) -> None:
        """Insert fireworks into an existing workflow (dynamic additions)."""

    @abstractmethod
    def insert_launch(self, launch: Doc) -> None:
        """Insert one launch document."""

    # -- reads -------------------------------------------------------------------
    @abstractmethod
    def find_fireworks(
        self, query: Query = None, fields: Fields = None, sort: Sort = None, limit: int = 0, skip: int = 0
    ) -> list[Doc]:
        """Fireworks matching ``query``, in ``sort`` order (default: fw_id)."""

    @abstractmethod
    def count_fireworks(self, query: Query = None) -> int:
        """How many fireworks match."""

    @abstractmethod
    def count_fireworks_by_state(self, query: Query = None) -> dict[str, int]:
        """``{state: count}`` over the fireworks matching ``query``."""

    @abstractmethod
    def workflow_state_counts(self, wf_ids: Optional[Iterable[int]] = None) -> dict[int, dict[str, int]]:
        """``{wf_id: {state: count}}`` for the given workflows (None: all), from one query."""

    def workflow_states(self, wf_ids: Optional[Iterable[int]] = None) -> dict[int, set[str]]:
        """The states present in each workflow: all its state needs (``workflow_state``);
        a backend may find them without counting every firework."""
        return {wf_id: set(counts) for wf_id, counts in self.workflow_state_counts(wf_ids).items()}

    @abstractmethod
    def find_workflows(
        self, query: Query = None, fields: Fields = None, sort: Sort = None, limit: int = 0, skip: int = 0
    ) -> list[Doc]:
        """Workflow documents matching ``query``."""

    @abstractmethod
    def count_workflows(self, query: Query = None) -> int:
        """How many workflows match."""

    def wf_ids_of(self, fw_query: Query) -> list[int]:
        """The ids of the workflows holding a firework that matches ``fw_query``: what a
        ``WorkflowsOfFireworks`` stands for where a store cannot keep it in the database."""
        return sorted({d["wf_id"] for d in self.find_fireworks(fw_query, ["wf_id"])})

    def workflow_fw_states(self, wf_id: int) -> list[tuple[int, str]]:
        """``(fw_id, state)`` of each firework of the workflow, by id: a graph's nodes as
        plain pairs (a dict per firework costs more than the read at 10,000)."""
        return [(d["fw_id"], d["state"]) for d in self.find_fireworks({"wf_id": wf_id}, ["fw_id", "state"])]

    def workflow_links(self, wf_id: int) -> list[tuple[int, int]]:
        """``(parent, child)`` for each link from a firework of the workflow, each parent's
        children in their stored order: what drawing its graph needs, as plain pairs rather
        than a document per firework; a backend may read them without the documents."""
        docs = self.find_fireworks({"wf_id": wf_id}, ["fw_id", "children"])
        return [(d["fw_id"], child) for d in docs for child in d.get("children") or ()]

    @abstractmethod
    def find_launches(
        self, query: Query = None, fields: Fields = None, sort: Sort = None, limit: int = 0, skip: int = 0
    ) -> list[Doc]:
        """Launch documents matching ``query``."""

    def count_launches_by_period(
        self, width: int, since: Optional[str] = None, query: Query = None
    ) -> dict[str, dict[str, int]]:
        """``{period: {state: n}}`` of the launches matching ``query`` that ended (a non-empty
        ``time_end``, at or after ``since``), the period being the end stamp's first ``width``
        characters with "T" between date and time (13: the hour, 10: the day). Backends
        override this with a count in the database; this reads the window row by row."""
        ended: dict[str, Any] = {"time_end": {"$gte": since}} if since else {}
        window = {"$and": [dict(query), ended]} if query and ended else (dict(query or {}) or ended)
        counts: dict[str, dict[str, int]] = {}
        for doc in self.find_launches(window or None, fields=["state", "time_end"]):
            stamp = doc.get("time_end")
            if stamp:
                states = counts.setdefault(str(stamp).replace(" ", "T")[:width], {})
                states[doc["state"]] = states.get(doc["state"], 0) + 1
        return counts

    def get_firework(self, fw_id: int, fields: Fields = None) -> Optional[Doc]:
        found = self.find_fireworks({"fw_id": fw_id}, fields=fields, limit=1)
        return found[0] if found else None

    def get_fireworks(self, fw_ids: Iterable[int], fields: Fields = None) -> list[Doc]:
        return self.find_fireworks({"fw_id": {"$in": list(fw_ids)}}, fields=fields)

    def task_names(self, fw_ids: Iterable[int]) -> dict[int, list[str]]:
        """``{fw_id: its tasks' _fw_name, in order}`` for the fireworks that exist ("?" for a
        task without one): what runtimes are reported under. Backends override this to read
        the names without decoding whole task lists."""
        return {
            doc["fw_id"]: spec_task_names(doc.get("spec"))
            for doc in self.get_fireworks(fw_ids, fields=["fw_id", "spec._tasks"])
        }

    def get_workflow(self, wf_id: int) -> Optional[Doc]:
        found = self.find_workflows({"wf_id": wf_id}, limit=1)
        return found[0] if found else None

    def get_launch(self, launch_id: int) -> Optional[Doc]:
        found = self.find_launches({"launch_id": launch_id}, limit=1)
        return found[0] if found else None

    # -- writes ------------------------------------------------------------------
    @abstractmethod
    def update_fireworks(
        self, fw_ids: Iterable[int], changes: Mapping[str, Any], expect: Optional[Mapping[str, Any]] = None
    ) -> list[int]:
        """Set top-level ``changes`` on the fireworks whose fields equal ``expect``.

        ``expect`` maps a field to a value or a list of accepted values. The
        check and the write are one atomic step per firework; returns the ids
        that changed.
        """

    @abstractmethod
    def release_children(self, fw_ids: Iterable[int], updated_on: str) -> list[int]:
        """One parent of each of ``fw_ids`` is done: decrement ``waiting_on`` and
        move WAITING fireworks that reach zero to READY. Returns the readied ids."""

    @abstractmethod
    def claim_firework(
        self,
        worker: WorkerFilter,
        changes: Mapping[str, Any],
        states: Sequence[str] = (State.READY.value,),
        fw_id: Optional[int] = None,
        not_before: Optional[str] = None,
    ) -> Optional[Doc]:
        """Atomically pick the best firework in ``states`` that ``worker`` may run
        (highest priority, then lowest fw_id), apply ``changes``, return it.
        With ``not_before`` (a timestamp), skip fireworks held back until later."""

    # A rocket's hot path: a backend that can do these in fewer round trips overrides them.
    def open_launch(
        self,
        worker: WorkerFilter,
        changes: Mapping[str, Any],
        launch: Doc,
        states: Sequence[str] = (State.READY.value,),
        fw_id: Optional[int] = None,
        not_before: Optional[str] = None,
    ) -> Tuple[Optional[Doc], Optional[int]]:
        """Claim as ``claim_firework`` does under a new launch id (set as the firework's
        ``current_launch``) and insert ``launch`` with that id, in one transaction.
        Returns ``(fw, launch_id)``, the firework with its ``children``, or ``(None, None)``."""
        with self.transaction():
            launch_id = self.next_ids("launch")
            fw = self.claim_firework(
                worker, {**changes, "current_launch": launch_id}, states, fw_id, not_before
            )
            if fw is None:
                return None, None
            self.insert_launch({**launch, "launch_id": launch_id, "fw_id": fw["fw_id"]})
        return fw, launch_id

    def finish_firework(
        self, fw_id: int, launch_id: int, state: str, updated_on: str, launch_changes: Mapping[str, Any]
    ) -> bool:
        """Only if ``launch_id`` is still the RUNNING firework's live launch (fencing): set
        its final ``state``, set ``launch_changes`` on the launch and, if it COMPLETED,
        release its children, in that order (a store without transactions that fails
        half-way leaves what ``complete_launch`` can finish). Returns whether it changed."""
        with self.transaction():
            changed = self.update_fireworks(
                [fw_id],
                {"state": state, "updated_on": updated_on},
                expect={"state": State.RUNNING.value, "current_launch": launch_id},
            )
            if not changed:
                return False
            self.update_launch(launch_id, launch_changes)
            if state == State.COMPLETED.value:
                children = (self.get_firework(fw_id, fields=["children"]) or {}).get("children") or []
                self.release_children(children, updated_on)
        return True

    @abstractmethod
    def count_claimable(
        self,
        worker: WorkerFilter,
        states: Sequence[str] = (State.READY.value,),
        limit: Optional[int] = None,
        not_before: Optional[str] = None,
    ) -> int:
        """How many fireworks in ``states`` ``worker`` may take (stop counting at ``limit``;
        with ``not_before``, leave out those held back until later)."""

    @abstractmethod
    def count_waiting_descendants(
        self,
        worker: WorkerFilter,
        fw_ids: Iterable[int],
        limit: Optional[int] = None,
        children_only: bool = False,
    ) -> int:
        """How many WAITING descendants of ``fw_ids`` ``worker`` may take once they are
        READY (stop counting at ``limit``). The walk goes through WAITING fireworks only:
        what lies behind a PAUSED, DEFUSED or finished one cannot be readied by ``fw_ids``.
        ``children_only``: the next generation only (work about to become READY)."""

    @abstractmethod
    def activity_mark(self) -> Any:
        """A cheap fingerprint of the RUNNING and RESERVED fireworks (how many, the
        newest claim): an idle rocket polls it to learn that a run ended or began."""

    @abstractmethod
    def update_launch(
        self, launch_id: int, changes: Mapping[str, Any], expect_state: Optional[str] = None
    ) -> bool:
        """Set ``changes`` on a launch (only if its state is ``expect_state``)."""

    def update_launches(
        self, launch_ids: Iterable[int], changes: Mapping[str, Any], expect_state: Optional[str] = None
    ) -> list[int]:
        """``update_launch`` for many launches with the same changes (lost runs by the
        thousand); the ids changed. SQLite does it in one statement."""
        return [i for i in launch_ids if self.update_launch(i, changes, expect_state)]

    @abstractmethod
    def update_workflow(self, wf_id: int, changes: Mapping[str, Any]) -> None:
        """Set top-level ``changes`` on a workflow document."""

    @abstractmethod
    def delete_workflow(self, wf_id: int) -> None:
        """Delete a workflow, its fireworks and their launches."""

    @abstractmethod
    def delete_fireworks(self, fw_ids: Iterable[int]) -> None:
        """Delete fireworks and their launches: the checker's repair of pieces an
        interrupted add or delete left behind without their workflow."""

    def tuneup(self, full: bool = False) -> list[str]:
        """``lpad admin tuneup``: indexes and statistics (``full``: compaction);
        returns the steps done, in words."""
        return []

    @abstractmethod
    def delete_launches(self, launch_ids: Iterable[int]) -> None:
        """Delete launches whose firework no longer exists (the checker's repair)."""
