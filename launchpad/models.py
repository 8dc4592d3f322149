"""Firework, Workflow and Launch: plain data with no I/O, in FireWorks' shape.

Their dict forms are FireWorks' (``spec._tasks``, ``fws``/``links``/
``metadata``), so files written for FireWorks load unchanged, and so are
their attributes (``Firework.launches`` holds Launch objects, dates are
datetimes, ``Workflow.state`` is computed as FireWorks computes it). Ids
given in a file or by the user are local: the LaunchPad maps them to fresh
store ids. Launches are stored apart from fireworks; the LaunchPad attaches
them when it builds these objects.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any, ClassVar, Iterable, Mapping, Optional, Sequence, Union

from . import workflow_edits
from .errors import InvalidWorkflowError, TaskError
from .firetask import FiretaskBase, load_task
from .serializable import FWSerializable, OwnDatesSerializable, as_datetime, date_text, plain_dict
from .serializable import utcnow as _now
from .states import ALL_STATES, LAUNCH_ONLY_STATES, LaunchState, State, fireworks_workflow_state
from .worker import FWorker

_local_ids = itertools.count(-1, -1)
WAITING = State.WAITING.value


def utcnow():
    """The store's timestamp format: ISO-8601 UTC, sortable as text (the objects hold datetimes)."""
    return date_text(_now())


# LAUNCH_ONLY_STATES (from states.py), kept importable from here: a reservation whose job
# went away, a run whose firework was rerun or defused under it.


class Firework(OwnDatesSerializable):
    """One job: a list of Firetasks run in order with one spec."""

    # FireWorks' ranking of states: the launch that speaks for a firework is the highest.
    STATE_RANKS: ClassVar[dict] = {
        s.value: rank
        for s, rank in (
            (State.ARCHIVED, -2),
            (State.FIZZLED, -1),
            (State.DEFUSED, 0),
            (State.PAUSED, 0),
            (State.WAITING, 1),
            (State.READY, 2),
            (State.RESERVED, 3),
            (State.RUNNING, 4),
            (State.COMPLETED, 5),
        )
    }

    def __init__(
        self,
        tasks: Union[FiretaskBase, Mapping[str, Any], Sequence[Union[FiretaskBase, Mapping[str, Any]]]],
        spec: Optional[Mapping[str, Any]] = None,
        name: Optional[str] = None,
        launches: Optional[Sequence[Any]] = None,
        archived_launches: Optional[Sequence[Any]] = None,
        state: str = WAITING,
        created_on: Union[datetime, str, None] = None,
        fw_id: Optional[int] = None,
        parents: Union[Firework, Sequence[Firework], None] = None,
        updated_on: Union[datetime, str, None] = None,
    ) -> None:
        given: Sequence[Any] = tasks if isinstance(tasks, (list, tuple)) else [tasks]
        self.tasks: list[FiretaskBase] = [
            load_task(t) if isinstance(t, dict) and not isinstance(t, FiretaskBase) else t for t in given
        ]
        for t in self.tasks:
            if not isinstance(t, FiretaskBase):
                raise InvalidWorkflowError(f"not a Firetask: {t!r:.80}")
        self.spec = dict(spec or {})
        self.spec.pop("_tasks", None)
        self.name = "Unnamed FW" if name is None or name == "" else str(name)
        self.fw_id = next(_local_ids) if fw_id is None else _fw_id(fw_id)
        if parents is None:
            parents = []
        self.parents = parents if isinstance(parents, (list, tuple)) else [parents]
        self._state = _checked_state(state, self.fw_id)
        self.created_on = as_datetime(created_on) or _now()
        self.updated_on = as_datetime(updated_on) or self.created_on
        self.launches = [_as_launch(x) for x in launches or []]
        self.archived_launches = [_as_launch(x) for x in archived_launches or []]

    @property
    def state(self):
        return self._state

    @state.setter
    def state(self, state):
        """Setting a state also sets ``updated_on``, as in FireWorks."""
        self._state = _checked_state(state, self.fw_id)
        self.updated_on = _now()

    def full_spec(self) -> dict[str, Any]:
        """The spec as stored: with ``_tasks``."""
        return {**self.spec, "_tasks": [t.to_dict() for t in self.tasks]}

    def to_dict(self) -> dict[str, Any]:
        """FireWorks' form: launches only when there are some, state only when not WAITING."""
        d = {
            "spec": self.full_spec(),
            "fw_id": self.fw_id,
            "created_on": self.created_on,
            "updated_on": self.updated_on,
        }
        if self.launches:
            d["launches"] = self.launches
        if self.archived_launches:
            d["archived_launches"] = self.archived_launches
        if self.state != WAITING:
            d["state"] = self.state
        d["name"] = self.name
        return plain_dict(d)

    def to_db_dict(self):
        """As stored: launches by id, and always a state."""
        return {
            **self.to_dict(),
            "state": self.state,
            "launches": [_launch_id(x) for x in self.launches],
            "archived_launches": [_launch_id(x) for x in self.archived_launches],
        }

    @classmethod
    def from_dict(cls, d: Any) -> Firework:
        if not isinstance(d, dict):
            raise InvalidWorkflowError(f"a firework must be a mapping, got {type(d).__name__}")
        spec = d.get("spec")
        if not isinstance(spec, dict):
            raise InvalidWorkflowError(f"firework {d.get('fw_id', '?')} has no spec mapping")
        tasks = spec.get("_tasks", [])
        if not isinstance(tasks, list):
            raise InvalidWorkflowError(f"firework {d.get('fw_id', '?')}: spec._tasks must be a list")
        return cls(
            [load_task(t) for t in tasks],
            spec=spec,
            name=d.get("name"),
            fw_id=d.get("fw_id"),
            state=d.get("state", WAITING),
            created_on=d.get("created_on"),
            updated_on=d.get("updated_on"),
            launches=d.get("launches"),
            archived_launches=d.get("archived_launches"),
        )

    # A firework iterates over its tasks, as in FireWorks; it stays true with none.
    def __iter__(self):
        return iter(self.tasks)

    def __len__(self):
        return len(self.tasks)

    def __getitem__(self, index):
        return self.tasks[index]

    def __bool__(self):
        return True

    def __repr__(self):
        return f"<Firework {self.fw_id} {self.name!r} {self.state}>"

    def __eq__(self, other):
        return isinstance(other, Firework) and self._key() == other._key()

    def _key(self):
        return (self.fw_id, self.name, self.full_spec(), self.state)

    __hash__ = object.__hash__


def _checked_state(state, fw_id):
    if state not in ALL_STATES:
        raise InvalidWorkflowError(f"firework {fw_id}: unknown state {state!r}")
    return str(state)


def _as_launch(value):
    """Launch objects for launch dicts; a bare launch id (a store document's) stays an id."""
    return Launch.from_dict(value) if isinstance(value, dict) else value


def _launch_id(value):
    return value.launch_id if isinstance(value, Launch) else value


def _fw_id(value):
    """A firework id as an int; ids in files may be written as "3" (FireWorks' link keys are)."""
    if not isinstance(value, bool):
        try:
            if int(value) == value or (isinstance(value, str) and str(int(value)) == value.strip()):
                return int(value)
        except (TypeError, ValueError, OverflowError):
            pass
    raise InvalidWorkflowError(f"firework id {value!r} is not an integer")


class Links(dict, FWSerializable):
    """``{parent id: [child ids]}`` with FireWorks' views (``Workflow.Links``)."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        for key, kids in dict(*args, **kwargs).items():  # "1" and 1 are one parent
            kids = [] if kids is None else kids if isinstance(kids, (list, tuple)) else [kids]
            self.setdefault(_link_id(key), []).extend(_link_id(k) for k in kids)

    @property
    def nodes(self):
        """Every id, parent or child, in ascending order (as FireWorks' list comes out)."""
        return sorted({*self, *(c for kids in self.values() for c in kids)})

    @property
    def parent_links(self):
        """``{child: [parents]}``; roots are absent, as in FireWorks."""
        parents = {}
        for parent, kids in self.items():
            for child in kids:
                parents.setdefault(child, []).append(parent)
        return parents

    def to_dict(self) -> dict[str, Any]:
        return {str(k): list(v) for k, v in self.items()}

    def to_db_dict(self):
        return {
            "links": self.to_dict(),
            "nodes": self.nodes,
            "parent_links": {str(k): v for k, v in self.parent_links.items()},
        }

    @classmethod
    def from_dict(cls, m_dict):
        return cls(m_dict)


class Workflow(OwnDatesSerializable):
    """Fireworks plus parent->child links and free-form metadata."""

    Links = Links

    def __init__(
        self,
        fireworks: Union[Firework, Iterable[Firework]],
        links_dict: Optional[Mapping[Any, Any]] = None,
        name: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        created_on: Union[datetime, str, None] = None,
        updated_on: Union[datetime, str, None] = None,
        fw_states: Optional[Mapping[Any, str]] = None,
        wf_id: Optional[int] = None,
    ) -> None:
        if isinstance(fireworks, Firework):
            fireworks = [fireworks]
        fireworks = list(fireworks)
        if not fireworks:
            raise InvalidWorkflowError("a workflow needs at least one firework")
        if not isinstance(links_dict or {}, dict):
            raise InvalidWorkflowError("'links' must map a parent id to a list of child ids")
        self.id_fw: dict[int, Firework] = {}
        for fw in fireworks:
            if not isinstance(fw, Firework):
                raise InvalidWorkflowError(f"a workflow holds Fireworks, got {fw!r:.80}")
            if fw.fw_id in self.id_fw:
                raise InvalidWorkflowError(f"duplicate firework id {fw.fw_id}")
            self.id_fw[fw.fw_id] = fw
        self.links = Links({fw_id: [] for fw_id in self.id_fw})
        for parent, children in Links(links_dict or {}).items():
            for child in children:
                self._add_link(parent, child)
        for fw in fireworks:  # Firework(parents=[...]) as in FireWorks
            for parent in fw.parents:
                self._add_link(_link_id(parent), fw.fw_id)
        if name is None or name == "":
            name = fireworks[0].name if len(fireworks) == 1 else "unnamed WF"
        self.name = str(name)
        self.metadata = dict(metadata or {})
        self.created_on = as_datetime(created_on) or _now()
        self.updated_on = as_datetime(updated_on) or self.created_on
        self.wf_id = wf_id
        for fw_id, state in (fw_states or {}).items():
            self.id_fw[_link_id(fw_id)]._state = _checked_state(state, fw_id)
        self._check()

    def _check(self):
        from .dag import check_acyclic

        check_acyclic(self.links)

    def _add_link(self, parent, child):
        for fw_id in (parent, child):
            if fw_id not in self.id_fw:
                raise InvalidWorkflowError(
                    f"link {parent} -> {child} names firework {fw_id}, which is not in the workflow"
                )
        if parent == child:
            raise InvalidWorkflowError(f"firework {parent} is linked to itself")
        if child not in self.links[parent]:
            self.links[parent].append(child)

    @property
    def fws(self):
        return list(self.id_fw.values())

    @property
    def fw_states(self):
        return {fw_id: fw.state for fw_id, fw in self.id_fw.items()}

    @property
    def state(self):
        """The workflow's state, computed from its fireworks as FireWorks does."""
        tolerated = {
            fw_id
            for fw_id, kids in self.links.items()
            if kids and all(self.id_fw[k].spec.get("_allow_fizzled_parents") for k in kids)
        }
        return fireworks_workflow_state(self.fw_states, self.leaf_fw_ids, tolerated)

    def parent_links(self):
        """``{id: [parents]}`` for every firework, roots included (with none)."""
        parents = {fw_id: [] for fw_id in self.id_fw}
        for parent, kids in self.links.items():
            for child in kids:
                parents[child].append(parent)
        return parents

    @property
    def root_fw_ids(self):
        """Fireworks without parents (a property, as in FireWorks)."""
        return [fw_id for fw_id, ps in self.parent_links().items() if not ps]

    @property
    def leaf_fw_ids(self):
        """Fireworks without children."""
        return [fw_id for fw_id, kids in self.links.items() if not kids]

    # A workflow iterates over its fireworks, as in FireWorks.
    def __iter__(self):
        return iter(self.id_fw.values())

    def __len__(self):
        return len(self.id_fw)

    def __getitem__(self, index):
        return self.fws[index]

    def to_dict(self) -> dict[str, Any]:
        return plain_dict(
            {
                "fws": [fw.to_dict() for fw in self.id_fw.values()],
                "links": self.links.to_dict(),
                "name": self.name,
                "metadata": self.metadata,
                "updated_on": self.updated_on,
                "created_on": self.created_on,
            }
        )

    def to_db_dict(self):
        return plain_dict(
            {
                **self.links.to_db_dict(),
                "metadata": self.metadata,
                "state": self.state,
                "name": self.name,
                "created_on": self.created_on,
                "updated_on": self.updated_on,
                "fw_states": {str(k): v for k, v in self.fw_states.items()},
            }
        )

    @classmethod
    def from_dict(cls, d: Any) -> Workflow:
        if not isinstance(d, dict):
            raise InvalidWorkflowError(f"a workflow must be a mapping, got {type(d).__name__}")
        if "fws" not in d:
            if "spec" not in d:
                found = ", ".join(map(str, list(d)[:5])) or "nothing"
                raise InvalidWorkflowError(
                    "neither a workflow (a 'fws' list) nor a firework (a 'spec' mapping); "
                    f"found keys: {found}"
                )
            return cls.from_firework(Firework.from_dict(d))
        if not isinstance(d["fws"], list):
            raise InvalidWorkflowError("'fws' must be a list of fireworks")
        links = d.get("links") or {}
        metadata = d.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise InvalidWorkflowError("'metadata' must be a mapping")
        return cls(
            [Firework.from_dict(f) for f in d["fws"]],
            links,
            d.get("name"),
            metadata,
            d.get("created_on"),
            d.get("updated_on"),
        )

    @classmethod
    def from_firework(
        cls, fw: Firework, name: Optional[str] = None, metadata: Optional[Mapping[str, Any]] = None
    ) -> Workflow:
        return cls(
            [fw],
            None,
            name=name or fw.name,
            metadata=metadata,
            created_on=fw.created_on,
            updated_on=fw.updated_on,
        )

    from_Firework = from_firework  # FireWorks' older spelling

    @classmethod
    def from_wflow(cls, wflow):
        """A copy of ``wflow`` with fresh local ids and every firework WAITING."""
        new_wf = cls.from_dict(wflow.to_dict())
        new_wf.reset(reset_ids=True)
        return new_wf

    def reset(self, reset_ids=True):
        """Every firework back to WAITING; with ``reset_ids``, each gets a fresh local id."""
        if reset_ids:
            self._reassign_ids({fw_id: next(_local_ids) for fw_id in self.id_fw})
        for fw in self.id_fw.values():
            fw.state = WAITING

    def reassign_ids(self, old_new):
        """Take the ids the store gave (``add_wf`` renumbers the caller's objects, as FireWorks)."""
        self._reassign_ids(old_new)

    def _reassign_ids(self, old_new):
        for old, fw in self.id_fw.items():
            fw.fw_id = old_new.get(old, old)
        self.id_fw = {fw.fw_id: fw for fw in self.id_fw.values()}
        self.links = Links(
            {old_new.get(p, p): [old_new.get(c, c) for c in kids] for p, kids in self.links.items()}
        )

    def __repr__(self):
        return f"<Workflow {self.name!r} with {len(self.id_fw)} fireworks>"

    def __eq__(self, other):
        if not isinstance(other, Workflow):
            return False

        def norm(links):
            return {k: sorted(v) for k, v in links.items()}

        return (
            self.name == other.name
            and self.metadata == other.metadata
            and self.fws == other.fws
            and norm(self.links) == norm(other.links)
        )

    __hash__ = object.__hash__

    # -- editing in memory, as FireWorks' Workflow allows (see workflow_edits) --
    def append_wf(
        self,
        new_wf: Workflow,
        fw_ids: Sequence[int],
        detour: Union[bool, Sequence[bool]] = False,
        pull_spec_mods: bool = False,
    ) -> list[int]:
        """Add ``new_wf`` as a child of each of ``fw_ids`` (FireWorks' rules); returns the
        ids that changed."""
        return workflow_edits.append_wf(self, new_wf, fw_ids, detour, pull_spec_mods)

    def refresh(self, fw_id: int, updated_ids: Optional[Iterable[int]] = None) -> set[int]:
        """Recompute ``fw_id``'s state from its parents and launches, then its children's
        if it finished; returns the set of ids whose state changed."""
        return workflow_edits.refresh(self, fw_id, updated_ids)

    def remove_fws(self, fw_ids: Iterable[int]) -> None:
        """Remove fireworks; their parents adopt their only-child children (FireWorks' rule)."""
        workflow_edits.remove_fws(self, fw_ids)


def as_workflow(wf: Union[Workflow, Firework, Mapping[str, Any]]) -> Workflow:
    """A Workflow from a Workflow, a Firework (a one-firework workflow) or a dict."""
    if isinstance(wf, Workflow):
        return wf
    if isinstance(wf, Firework):
        return Workflow.from_firework(wf)
    if isinstance(wf, dict):
        return Workflow.from_dict(wf)
    raise TypeError(f"expected a Workflow, Firework or dict, got {type(wf).__name__}")


def _link_id(value):
    if isinstance(value, Firework):
        return value.fw_id
    if isinstance(value, bool):
        raise InvalidWorkflowError(f"link id {value!r} is not an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidWorkflowError(f"link id {value!r} is not an integer") from None


class Launch(OwnDatesSerializable):
    """One attempt to run a firework: where, when, and what came of it.

    FireWorks' constructor and attributes (``action`` an FWAction, ``fworker``
    an FWorker, dates as datetimes, ``runtime_secs`` computed); the LaunchPad
    builds it from the launch record, whose extra fields (``last_ping``,
    ``exception``...) are attributes too.
    """

    FIELDS = (
        "launch_id",
        "fw_id",
        "fworker",
        "host",
        "ip",
        "launch_dir",
        "state",
        "state_history",
        "trackers",
        "time_start",
        "time_end",
        "runtime_secs",
        "action",
        "last_ping",
        "reservation_id",
        "exception",
        "interrupted",
        "walltime",
        "handed_back",
        "late_result",
        "ping_interval",
    )
    _DATES = ("time_start", "time_end", "last_ping")

    def __init__(
        self,
        state: Optional[str] = None,
        launch_dir: Optional[str] = None,
        fworker: Any = None,
        host: Optional[str] = None,
        ip: Optional[str] = None,
        trackers: Optional[Sequence[Any]] = None,
        action: Union[FWAction, Mapping[str, Any], None] = None,
        state_history: Optional[Sequence[Mapping[str, Any]]] = None,
        launch_id: Optional[int] = None,
        fw_id: Optional[int] = None,
        **fields: Any,
    ) -> None:
        unknown = set(fields) - set(self.FIELDS)
        if unknown:
            raise TypeError(f"unknown launch fields: {sorted(unknown)}")
        if state is not None and state not in ALL_STATES + LAUNCH_ONLY_STATES:
            raise InvalidWorkflowError(f"launch {launch_id}: unknown state {state!r}")
        self._state, self.launch_dir, self.host, self.ip = state, launch_dir, host, ip
        self.launch_id, self.fw_id = launch_id, fw_id
        self.fworker = fworker
        self.action = FWAction.from_dict(action) if isinstance(action, dict) else action
        self.trackers = list(trackers or [])
        self.state_history = state_history if state_history is not None else []
        for name in (
            set(self.FIELDS)
            - set(vars(self))
            - {"state", "fworker", "runtime_secs", "time_start", "time_end"}
        ):
            setattr(self, name, fields.get(name))
        self._time_start, self._time_end = fields.get("time_start"), fields.get("time_end")
        self._runtime_secs = fields.get("runtime_secs")

    @property
    def fworker(self):
        """The worker as an FWorker (the record keeps the mapping it was given)."""
        raw = self._fworker
        return FWorker.from_dict(raw) if isinstance(raw, dict) else raw

    @fworker.setter
    def fworker(self, value):
        self._fworker = value

    @property
    def state(self):
        return self._state

    @state.setter
    def state(self, state):
        """A new state is also written to ``state_history``, as in FireWorks."""
        if not self.state_history or self.state_history[-1].get("state") != state:
            self.state_history.append({"state": state, "created_on": _now()})
        self._state = state

    def _history_time(self, states):
        for entry in self.state_history:
            if entry.get("state") in states:
                return as_datetime(entry.get("created_on"))
        return None

    @property
    def time_start(self):
        """When the launch started RUNNING (an aware UTC datetime), or None."""
        return as_datetime(self._time_start) or self._history_time((LaunchState.RUNNING.value,))

    @property
    def time_end(self):
        """When the launch was COMPLETED or FIZZLED, or None."""
        return as_datetime(self._time_end) or self._history_time(
            (LaunchState.COMPLETED.value, LaunchState.FIZZLED.value)
        )

    @property
    def runtime_secs(self):
        """Seconds between start and end (None while running), mixing naive and aware times."""
        start, end = self.time_start, self.time_end
        if start is not None and end is not None:
            return (end - start).total_seconds()
        return self._runtime_secs

    def to_dict(self) -> dict[str, Any]:
        """The launch record: fields that are set, with dates in the store's form."""
        own = {"state": self._state, "fworker": self._fworker, "runtime_secs": self.runtime_secs}
        own.update(time_start=self._time_start, time_end=self._time_end)  # not parsed forms
        d = {name: own[name] if name in own else getattr(self, name) for name in self.FIELDS}
        for name in ("trackers", "state_history"):
            if not d[name]:
                del d[name]
        return plain_dict({k: v for k, v in d.items() if v is not None})

    @classmethod
    def from_dict(cls, d: Any) -> Launch:
        """A Launch from its record; its dates become datetimes, as FireWorks reads them."""
        fields = {k: v for k, v in d.items() if k in cls.FIELDS}
        for name in cls._DATES:
            if fields.get(name) is not None:
                fields[name] = as_datetime(fields[name])
        fields["state_history"] = [
            {**entry, **{k: as_datetime(entry[k]) for k in ("created_on", "updated_on") if k in entry}}
            if isinstance(entry, dict)
            else entry
            for entry in fields.get("state_history") or []
        ]
        return cls(**fields)

    def __repr__(self):
        return f"<Launch {self.launch_id} of fw {self.fw_id} {self.state}>"


class FWAction(OwnDatesSerializable):
    """The result of a Firetask: data to store and changes to the workflow."""

    KEYS = (
        "stored_data",
        "exit",
        "update_spec",
        "mod_spec",
        "additions",
        "detours",
        "append_wfs",
        "defuse_children",
        "defuse_workflow",
        "propagate",
    )

    def __init__(
        self,
        stored_data: Optional[Mapping[str, Any]] = None,
        exit: bool = False,
        update_spec: Optional[Mapping[str, Any]] = None,
        mod_spec: Union[Mapping[str, Any], Sequence[Mapping[str, Any]], None] = None,
        additions: Any = None,
        detours: Any = None,
        append_wfs: Any = None,
        defuse_children: bool = False,
        defuse_workflow: bool = False,
        propagate: bool = False,
    ) -> None:
        self.stored_data = _as_mapping(stored_data, "stored_data")
        self.exit = bool(exit)
        self.update_spec = _as_mapping(update_spec, "update_spec")
        self.mod_spec = _as_list(mod_spec)
        # a Firework stays itself, as in FireWorks (users read action.detours[0].tasks)
        self.additions = [w if isinstance(w, Firework) else _as_workflow(w) for w in _as_list(additions)]
        self.detours = [w if isinstance(w, Firework) else _as_workflow(w) for w in _as_list(detours)]
        self.append_wfs = [_as_append_wf(entry) for entry in _as_list(append_wfs)]
        self.defuse_children = bool(defuse_children)
        self.defuse_workflow = bool(defuse_workflow)
        self.propagate = bool(propagate)
        for mod in self.mod_spec:
            if not isinstance(mod, dict):
                raise TaskError(f"mod_spec entries must be mappings, got {mod!r:.80}")

    @property
    def skip_remaining_tasks(self):
        return self.exit or self.defuse_children or self.defuse_workflow

    @property
    def changes_workflow(self):
        return bool(
            self.update_spec
            or self.mod_spec
            or self.additions
            or self.detours
            or self.append_wfs
            or self.defuse_children
            or self.defuse_workflow
        )

    def to_dict(self) -> dict[str, Any]:
        d = {
            "stored_data": self.stored_data,
            "exit": self.exit,
            "update_spec": self.update_spec,
            "mod_spec": self.mod_spec,
            "additions": [_as_workflow(w).to_dict() for w in self.additions],
            "detours": [_as_workflow(w).to_dict() for w in self.detours],
            "defuse_children": self.defuse_children,
            "defuse_workflow": self.defuse_workflow,
            "propagate": self.propagate,
        }
        if self.append_wfs:  # written only when used: most actions have none
            d["append_wfs"] = [{**e, "workflow": e["workflow"].to_dict()} for e in self.append_wfs]
        return d

    @classmethod
    def from_dict(cls, d: Any) -> FWAction:
        if not isinstance(d, dict):
            raise TaskError(f"an FWAction must be a mapping, got {type(d).__name__}")
        if "append_wfs" in d and not d["append_wfs"]:  # FireWorks 2.1 writes it, mostly empty
            d = {k: v for k, v in d.items() if k != "append_wfs"}
        unknown = set(d) - set(cls.KEYS)
        if unknown:
            raise TaskError(f"unknown FWAction keys: {', '.join(sorted(unknown))}")
        return cls(**d)

    def merged_with(self, other: FWAction) -> FWAction:
        """Combine the actions of successive tasks of one firework."""
        return FWAction(
            stored_data={**self.stored_data, **other.stored_data},
            exit=self.exit or other.exit,
            update_spec={**self.update_spec, **other.update_spec},
            mod_spec=self.mod_spec + other.mod_spec,
            additions=self.additions + other.additions,
            detours=self.detours + other.detours,
            append_wfs=self.append_wfs + other.append_wfs,
            defuse_children=self.defuse_children or other.defuse_children,
            defuse_workflow=self.defuse_workflow or other.defuse_workflow,
            propagate=self.propagate or other.propagate,
        )

    def __repr__(self):
        parts = [f"{k}={getattr(self, k)!r}" for k in self.KEYS if getattr(self, k)]
        return f"FWAction({', '.join(parts)})"

    def __eq__(self, other):
        return isinstance(other, FWAction) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: unhashable, as FireWorks'


def _as_mapping(value, name):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TaskError(
            f"FWAction {name} must be a mapping of keys to values, got {type(value).__name__}: {value!r:.60}"
        )
    return dict(value)


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _as_append_wf(entry):
    """One ``append_wfs`` entry (FireWorks'): the workflow, more parents' ids, detour."""
    if not isinstance(entry, dict) or "workflow" not in entry:
        raise TaskError(f"FWAction append_wfs entries must be mappings with a workflow, got {entry!r:.80}")
    parents = entry.get("parents") or []
    if not isinstance(parents, (list, tuple)) or not all(isinstance(p, int) for p in parents):
        raise TaskError(f"FWAction append_wfs parents must be a list of fw_ids, got {parents!r:.80}")
    return {
        "workflow": _as_workflow(entry["workflow"]),
        "parents": list(parents),
        "detour": bool(entry.get("detour")),
    }


def _as_workflow(value):
    if not isinstance(value, (Workflow, Firework, dict)):
        raise TaskError(f"FWAction additions/detours must be workflows or fireworks, got {value!r:.80}")
    try:
        return as_workflow(value)
    except InvalidWorkflowError as exc:
        raise TaskError(f"bad workflow in FWAction: {exc}") from None
