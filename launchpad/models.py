"""Firework, Workflow and Launch: plain data with no I/O.

Their dict forms are FireWorks' (``spec._tasks``, ``fws``/``links``/
``metadata``), so files written for FireWorks load unchanged. Ids given in
a file or by the user are local: the LaunchPad maps them to fresh store ids.
"""

import itertools
from datetime import datetime, timezone

from .errors import InvalidWorkflowError
from .firetask import FiretaskBase, load_task
from .states import ALL_STATES, State

_local_ids = itertools.count(-1, -1)


def utcnow():
    """The store's timestamp format: ISO-8601 UTC, sortable as text."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


class Firework:
    """One job: a list of Firetasks run in order with one spec."""

    def __init__(self, tasks, spec=None, name=None, fw_id=None, parents=None,
                 state=State.WAITING.value, created_on=None, updated_on=None,
                 launches=None, archived_launches=None):
        tasks = tasks if isinstance(tasks, (list, tuple)) else [tasks]
        self.tasks = [load_task(t) if isinstance(t, dict) and not isinstance(t, FiretaskBase) else t
                      for t in tasks]
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
        if state not in ALL_STATES:
            raise InvalidWorkflowError(f"firework {self.fw_id}: unknown state {state!r}")
        self.state = state
        self.created_on = created_on or utcnow()
        self.updated_on = updated_on or self.created_on
        self.launches = list(launches or [])
        self.archived_launches = list(archived_launches or [])

    def full_spec(self):
        """The spec as stored: with ``_tasks``."""
        return {**self.spec, "_tasks": [t.to_dict() for t in self.tasks]}

    def to_dict(self):
        return {"fw_id": self.fw_id, "name": self.name, "spec": self.full_spec(),
                "state": self.state, "created_on": self.created_on,
                "updated_on": self.updated_on, "launches": self.launches,
                "archived_launches": self.archived_launches}

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict):
            raise InvalidWorkflowError(f"a firework must be a mapping, got {type(d).__name__}")
        spec = d.get("spec")
        if not isinstance(spec, dict):
            raise InvalidWorkflowError(f"firework {d.get('fw_id', '?')} has no spec mapping")
        tasks = spec.get("_tasks", [])
        if not isinstance(tasks, list):
            raise InvalidWorkflowError(f"firework {d.get('fw_id', '?')}: spec._tasks must be a list")
        return cls([load_task(t) for t in tasks], spec=spec, name=d.get("name"),
                   fw_id=d.get("fw_id"), state=d.get("state", State.WAITING.value),
                   created_on=d.get("created_on"), updated_on=d.get("updated_on"),
                   launches=d.get("launches"), archived_launches=d.get("archived_launches"))

    def __repr__(self):
        return f"<Firework {self.fw_id} {self.name!r} {self.state}>"

    def __eq__(self, other):
        return isinstance(other, Firework) and self._key() == other._key()

    def _key(self):
        return (self.fw_id, self.name, self.full_spec(), self.state)

    __hash__ = object.__hash__


def _fw_id(value):
    """A firework id as an int; ids in files may be written as "3" (FireWorks' link keys are)."""
    if not isinstance(value, bool):
        try:
            if int(value) == value or (isinstance(value, str) and str(int(value)) == value.strip()):
                return int(value)
        except (TypeError, ValueError, OverflowError):
            pass
    raise InvalidWorkflowError(f"firework id {value!r} is not an integer")


class Workflow:
    """Fireworks plus parent->child links and free-form metadata."""

    def __init__(self, fireworks, links_dict=None, name=None, metadata=None,
                 created_on=None, updated_on=None, state=None, wf_id=None):
        if isinstance(fireworks, Firework):
            fireworks = [fireworks]
        self.fws = list(fireworks)
        if not self.fws:
            raise InvalidWorkflowError("a workflow needs at least one firework")
        for fw in self.fws:
            if not isinstance(fw, Firework):
                raise InvalidWorkflowError(f"a workflow holds Fireworks, got {fw!r:.80}")
        if not isinstance(links_dict or {}, dict):
            raise InvalidWorkflowError("'links' must map a parent id to a list of child ids")
        self.id_fw = {}
        for fw in self.fws:
            if fw.fw_id in self.id_fw:
                raise InvalidWorkflowError(f"duplicate firework id {fw.fw_id}")
            self.id_fw[fw.fw_id] = fw
        self.links = {fw.fw_id: [] for fw in self.fws}
        for parent, children in (links_dict or {}).items():
            parent_id = _link_id(parent)
            if children is None:  # "3:" with nothing after it in YAML: no children
                children = []
            kids = children if isinstance(children, (list, tuple)) else [children]
            for child in kids:
                self._add_link(parent_id, _link_id(child))
        for fw in self.fws:  # Firework(parents=[...]) as in FireWorks
            for parent in fw.parents:
                self._add_link(_link_id(parent), fw.fw_id)
        if name is None or name == "":
            name = self.fws[0].name if len(self.fws) == 1 else "unnamed WF"
        self.name = str(name)
        self.metadata = dict(metadata or {})
        self.created_on = created_on or utcnow()
        self.updated_on = updated_on or self.created_on
        self.state = state
        self.wf_id = wf_id
        from .dag import check_acyclic
        check_acyclic(self.links)

    def _add_link(self, parent, child):
        for fw_id in (parent, child):
            if fw_id not in self.id_fw:
                raise InvalidWorkflowError(f"link {parent} -> {child} names firework {fw_id}, "
                                           "which is not in the workflow")
        if parent == child:
            raise InvalidWorkflowError(f"firework {parent} is linked to itself")
        if child not in self.links[parent]:
            self.links[parent].append(child)

    @property
    def fw_states(self):
        return {fw.fw_id: fw.state for fw in self.fws}

    def parent_links(self):
        parents = {fw_id: [] for fw_id in self.id_fw}
        for parent, kids in self.links.items():
            for child in kids:
                parents[child].append(parent)
        return parents

    def root_fw_ids(self):
        parents = self.parent_links()
        return [fw_id for fw_id, ps in parents.items() if not ps]

    def leaf_fw_ids(self):
        return [fw_id for fw_id, kids in self.links.items() if not kids]

    def to_dict(self):
        return {"fws": [fw.to_dict() for fw in self.fws],
                "links": {str(k): list(v) for k, v in self.links.items()},
                "name": self.name, "metadata": self.metadata,
                "created_on": self.created_on, "updated_on": self.updated_on}

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict):
            raise InvalidWorkflowError(f"a workflow must be a mapping, got {type(d).__name__}")
        if "fws" not in d:
            if "spec" not in d:
                found = ", ".join(map(str, list(d)[:5])) or "nothing"
                raise InvalidWorkflowError(
                    "neither a workflow (a 'fws' list) nor a firework (a 'spec' mapping); "
                    f"found keys: {found}")
            return cls.from_firework(Firework.from_dict(d))
        if not isinstance(d["fws"], list):
            raise InvalidWorkflowError("'fws' must be a list of fireworks")
        links = d.get("links") or {}
        metadata = d.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise InvalidWorkflowError("'metadata' must be a mapping")
        return cls([Firework.from_dict(f) for f in d["fws"]], links, d.get("name"),
                   metadata, d.get("created_on"), d.get("updated_on"))

    @classmethod
    def from_firework(cls, fw, name=None, metadata=None):
        return cls([fw], None, name=name or fw.name, metadata=metadata)

    def __repr__(self):
        return f"<Workflow {self.name!r} with {len(self.fws)} fireworks>"

    def __eq__(self, other):
        if not isinstance(other, Workflow):
            return False
        norm = lambda links: {k: sorted(v) for k, v in links.items()}  # noqa: E731
        return (self.name == other.name and self.metadata == other.metadata
                and self.fws == other.fws and norm(self.links) == norm(other.links))

    __hash__ = object.__hash__


def _link_id(value):
    if isinstance(value, Firework):
        return value.fw_id
    if isinstance(value, bool):
        raise InvalidWorkflowError(f"link id {value!r} is not an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidWorkflowError(f"link id {value!r} is not an integer") from None


class Launch:
    """One attempt to run a firework: where, when, and what came of it."""

    FIELDS = ("launch_id", "fw_id", "fworker", "host", "ip", "launch_dir", "state",
              "state_history", "time_start", "time_end", "runtime_secs", "action",
              "last_ping", "reservation_id", "exception", "interrupted")

    def __init__(self, **fields):
        unknown = set(fields) - set(self.FIELDS)
        if unknown:
            raise TypeError(f"unknown launch fields: {sorted(unknown)}")
        for name in self.FIELDS:
            setattr(self, name, fields.get(name))

    def to_dict(self):
        return {name: getattr(self, name) for name in self.FIELDS if getattr(self, name) is not None}

    @classmethod
    def from_dict(cls, d):
        return cls(**{k: v for k, v in d.items() if k in cls.FIELDS})

    def __repr__(self):
        return f"<Launch {self.launch_id} of fw {self.fw_id} {self.state}>"
