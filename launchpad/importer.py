"""Moving a FireWorks database into a starshell store (``lpad admin import_fireworks``).

The one place that maps FireWorks' stored documents onto starshell's: a
FireWorks workflow becomes a workflow document, its fireworks and launches
keep their ids (or get new ones with ``renumber``), states, specs, launch
history and timestamps. FireWorks has no workflow ids; each imported
workflow gets the next one of the store.

Each workflow is written in one store transaction (on MongoDB: fireworks,
then launches, then the workflow document, which marks it done), and the
workflow document records the FireWorks workflow it came from under
``fireworks_import``. A second run skips what is marked, so an import that
was stopped (Ctrl-C, kill -9, a lost connection) is finished by running it
again, and nothing is ever doubled.
"""

import json
import time
from dataclasses import dataclass, field

from .errors import ImportConflictError
from .models import utcnow
from .offline_files import FORGOTTEN, PENDING, RECOVERED
from .states import ALL_STATES, LaunchState, State
from .stores import index_fields
from .timestamps import parse_utc

S = State
IMPORT_KEY = "fireworks_import"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
_PENDING = (S.WAITING.value, S.READY.value, S.RESERVED.value, S.RUNNING.value, S.PAUSED.value)
_RAN = (S.RUNNING.value, S.COMPLETED.value, S.FIZZLED.value)
# A rerun in FireWorks archives a live launch as it is; in starshell such a launch is closed.
_ARCHIVED_LIVE = {
    LaunchState.RUNNING.value: LaunchState.FENCED.value,
    LaunchState.RESERVED.value: LaunchState.CANCELLED.value,
}


@dataclass
class ImportSummary:
    """What an import did, for the closing line and ``-o json``."""

    source: str
    target: str
    renumbered: bool = False
    workflows: int = 0
    fireworks: int = 0
    launches: int = 0
    skipped: int = 0
    failed: list = field(default_factory=list)

    def to_dict(self):
        return dict(self.__dict__)

    def lines(self):
        out = [f"not imported: {message}" for message in self.failed]
        ids = "with new ids (--renumber)" if self.renumbered else "with their FireWorks ids"
        out.append(
            f"imported {self.workflows} workflow(s) ({self.fireworks} firework(s), "
            f"{self.launches} launch(es)) {ids} from {self.source} into {self.target}"
        )
        out.append(f"skipped {self.skipped} already imported; {len(self.failed)} failed")
        return out


# -- the mapping: FireWorks documents -> starshell documents --------------------------
def stamp(value):
    """A FireWorks time (ISO text, naive UTC or with an offset) in the store's format."""
    moment = parse_utc(value) if isinstance(value, str) else None
    return value if moment is None else moment.strftime(TIME_FORMAT)


def _waiting_on(state, spec, parent_states):
    """Unfinished parents, counted as the LaunchPad and ``lpad admin check`` count them."""
    allow = bool(spec.get("_allow_fizzled_parents"))
    lenient = state in _RAN

    def done(parent):
        if parent == S.COMPLETED.value:
            return True
        return allow and (parent not in _PENDING if lenient else parent == S.FIZZLED.value)

    return sum(1 for p in parent_states if not done(p))


def _current_launch(state, launch_ids, launch_states):
    """The launch a RUNNING/RESERVED firework is on; otherwise its last one."""
    if state in (S.RUNNING.value, S.RESERVED.value):
        live = [i for i in launch_ids if launch_states.get(i) == state]
        return live[-1] if live else None
    return launch_ids[-1] if launch_ids else None


def _history(entries):
    return [
        {**h, **{k: stamp(h[k]) for k in ("created_on", "updated_on") if k in h}}
        for h in entries or ()
        if isinstance(h, dict)
    ]


def _last_ping(history):
    """FireWorks pings by touching the RUNNING entry's ``updated_on``."""
    running = [h for h in history if h.get("state") == S.RUNNING.value]
    return (running[-1].get("updated_on") or running[-1].get("created_on")) if running else None


def _exception(action, history):
    """FireWorks keeps a task's failure in ``stored_data._exception``; starshell on the launch."""
    data = (action or {}).get("stored_data") or {}
    exc = data.get("_exception") if isinstance(data, dict) else None
    if not isinstance(exc, dict):
        return None
    trace = str(exc.get("_stacktrace") or "")
    lines = [line for line in trace.splitlines() if line.strip()]
    task = data.get("_task") if isinstance(data.get("_task"), dict) else {}
    checkpoint = (history[-1].get("checkpoint") or {}) if history else {}
    return {
        "message": lines[-1].strip() if lines else str(data.get("_message") or "task failed"),
        "traceback": trace,
        "details": exc.get("_details"),
        "task_index": checkpoint.get("_task_n"),
        "task_name": task.get("_fw_name"),
    }


def _fworker(value):
    """FireWorks stores the worker's query as JSON text; starshell as a mapping."""
    if isinstance(value, dict) and isinstance(value.get("query"), str):
        try:
            return {**value, "query": json.loads(value["query"])}
        except ValueError:
            return value
    return value


def launch_doc(src, fw_id, launch_id, archived):
    """A FireWorks launch as a starshell launch document."""
    history = _history(src.get("state_history"))
    state = src.get("state")
    if archived and state in _ARCHIVED_LIVE:
        state = _ARCHIVED_LIVE[state]
    reservations = [h["reservation_id"] for h in history if h.get("reservation_id") is not None]
    doc = {k: v for k, v in src.items() if k != "_id"}
    doc.update(
        launch_id=launch_id,
        fw_id=fw_id,
        state=state,
        state_history=history,
        fworker=_fworker(src.get("fworker")),
        last_ping=_last_ping(history),
        reservation_id=str(reservations[-1]) if reservations else None,
        exception=_exception(src.get("action"), history),
        **{k: stamp(src.get(k)) for k in ("time_start", "time_end", "time_reserved")},
    )
    if launch_id != src.get("launch_id"):
        doc[IMPORT_KEY] = {"launch_id": src.get("launch_id")}
    return {k: v for k, v in doc.items() if v is not None}


@dataclass
class Mapped:
    """One FireWorks workflow as the documents to insert."""

    workflow: dict
    fireworks: list
    launches: list


def offline_mark(run):
    """FireWorks' ``offline_runs`` document of a launch as the launch's ``offline`` field, so
    ``lpad recover_offline`` carries on with the runs FireWorks had not recovered yet."""
    if run.get("deprecated"):
        return FORGOTTEN
    return RECOVERED if run.get("completed") else PENDING


def map_workflow(wf, fws, launches, wf_id, fw_ids, launch_ids, key, now, offline=None):
    """Documents for one workflow. ``fw_ids``/``launch_ids`` map FireWorks ids to the
    store's (the identity unless renumbering); ``key`` names the FireWorks workflow;
    ``offline``: ``{FireWorks launch id: offline mark}``."""
    links = {
        int(p): [int(c) for c in kids or () if int(c) in fw_ids]
        for p, kids in (wf.get("links") or {}).items()
        if int(p) in fw_ids
    }
    parents = {i: [] for i in fw_ids}
    for parent, kids in links.items():
        for child in kids:
            parents[child].append(parent)
    states = {f["fw_id"]: f.get("state") or S.WAITING.value for f in fws}
    launch_docs, launch_states = [], {}
    for f in fws:
        archived = set(f.get("archived_launches") or ())
        for old in dict.fromkeys(list(f.get("launches") or ()) + sorted(archived)):
            # FireWorks' duplicates (_dupefinder) list another firework's launch: it is
            # imported once, with the firework that ran it
            if old in launches and launches[old].get("fw_id", f["fw_id"]) == f["fw_id"]:
                doc = launch_doc(launches[old], fw_ids[f["fw_id"]], launch_ids[old], old in archived)
                if old in (offline or {}):
                    doc["offline"] = offline[old]
                launch_docs.append(doc)
                launch_states[doc["launch_id"]] = doc["state"]
    fw_docs = [
        _firework_doc(f, wf_id, fw_ids, launch_ids, links, parents, states, launch_states, key) for f in fws
    ]
    workflow = {
        "wf_id": wf_id,
        "name": str(wf.get("name") or "unnamed WF"),
        "metadata": wf.get("metadata") if isinstance(wf.get("metadata"), dict) else {},
        "created_on": stamp(wf.get("created_on")) or now,
        "updated_on": stamp(wf.get("updated_on")) or now,
        IMPORT_KEY: {"source_id": key, "imported_on": now},
    }
    return Mapped(workflow, fw_docs, sorted(launch_docs, key=lambda d: d["launch_id"]))


def _firework_doc(f, wf_id, fw_ids, launch_ids, links, parents, states, launch_states, key):
    old, state = f["fw_id"], states[f["fw_id"]]
    if state not in ALL_STATES:
        raise ValueError(f"firework {old} has the unknown state {state!r}")
    spec = dict(f["spec"]) if isinstance(f.get("spec"), dict) else {}
    spec.setdefault("_tasks", [])
    live = [launch_ids[i] for i in f.get("launches") or () if i in launch_ids]
    created = stamp(f.get("created_on")) or utcnow()
    return {
        "fw_id": fw_ids[old],
        "wf_id": wf_id,
        "name": str(f.get("name") or "Unnamed FW"),
        "state": state,
        "spec": spec,
        "created_on": created,
        "updated_on": stamp(f.get("updated_on")) or created,
        "parents": [fw_ids[p] for p in parents[old]],
        "children": [fw_ids[c] for c in links.get(old, [])],
        "waiting_on": _waiting_on(state, spec, [states[p] for p in parents[old]]),
        "current_launch": _current_launch(state, live, launch_states),
        "not_before": None,
        "archived_launches": [launch_ids[i] for i in f.get("archived_launches") or () if i in launch_ids],
        IMPORT_KEY: {"source_id": key, "fw_id": old},
        **index_fields(spec),
    }


# -- the run -------------------------------------------------------------------------
def source_key(wf):
    """What identifies a FireWorks workflow across runs: its ``_id`` (else its first node)."""
    if wf.get("_id") is not None:
        return str(wf["_id"])
    return f"nodes:{min(wf.get('nodes') or [0])}"


class Importer:
    """Copies every not yet imported workflow of ``source`` into ``launchpad``'s store."""

    def __init__(
        self, launchpad, source, renumber=False, progress=None, every_secs=5.0, monotonic=time.monotonic
    ):
        self.lp, self.store, self.source = launchpad, launchpad.store, source
        self.renumber = renumber
        self.progress = progress
        self.every_secs = every_secs
        self.monotonic = monotonic
        self.summary = ImportSummary(source.describe(), launchpad.describe(), renumber)

    def run(self):
        done = self._imported_keys()
        self._remove_leftovers()
        todo = [(source_key(wf), list(wf.get("nodes") or ())) for wf in self.source.workflows()]
        todo = [(key, nodes) for key, nodes in todo if key not in done]
        if not self.renumber:
            self._refuse_clashes([i for _, nodes in todo for i in nodes], set(done.values()))
            self._move_counters()
        last_note = self.monotonic()
        for wf in self.source.workflows():
            key = source_key(wf)
            if key in done:
                self.summary.skipped += 1
                continue
            self._import_one(wf, key)
            done[key] = True
            if self.progress and self.monotonic() - last_note >= self.every_secs:
                last_note = self.monotonic()
                self.progress(self.summary.workflows + len(self.summary.failed), len(todo))
        return self.summary

    def _imported_keys(self):
        found = self.store.find_workflows(
            {f"{IMPORT_KEY}.source_id": {"$exists": True}}, fields=["wf_id", f"{IMPORT_KEY}.source_id"]
        )
        return {d[IMPORT_KEY]["source_id"]: d["wf_id"] for d in found}

    def _remove_leftovers(self):
        """On MongoDB an import stopped half-way leaves fireworks (and launches) that no
        workflow document lists yet; they are this importer's own, marked, and go."""
        present = {d["wf_id"] for d in self.store.find_workflows(fields=["wf_id"])}
        orphans = {d["wf_id"] for d in self.store.find_fireworks(fields=["wf_id"])} - present
        if orphans:
            docs = self.store.find_fireworks(
                {"wf_id": {"$in": sorted(orphans)}}, fields=["fw_id", IMPORT_KEY]
            )
            ours = [d["fw_id"] for d in docs if d.get(IMPORT_KEY)]
            if ours:
                self.store.delete_fireworks(ours)

    def _refuse_clashes(self, fw_ids, imported_wf_ids):
        """Keeping ids needs them free in the target: say which other workflows use, before
        any write (what an earlier run imported from this database is not in the way here;
        a workflow whose ids it holds is reported on its own)."""
        wanted = set(fw_ids)
        present = self.store.find_fireworks(fields=["fw_id", "wf_id"])
        ours = {d["fw_id"] for d in present if d["wf_id"] in imported_wf_ids}
        taken_fws = sorted(wanted & ({d["fw_id"] for d in present} - ours))
        by_fw = self.source.launch_ids_of()
        wanted_launches = {i for fw_id in wanted for i in by_fw.get(fw_id, ())}
        taken_launches = sorted(
            wanted_launches
            & {
                d["launch_id"]
                for d in self.store.find_launches(fields=["launch_id", "fw_id"])
                if d["fw_id"] not in ours
            }
        )
        if not taken_fws and not taken_launches:
            return
        raise ImportConflictError(
            f"{_id_text(taken_fws, taken_launches)} of the FireWorks database are already used in "
            f"{self.lp.describe()} by other workflows; nothing was imported. Import into an "
            "empty store (-l another file) to keep FireWorks' ids, or pass --renumber to give "
            f"the imported fireworks and launches new ids (the old ones are kept in "
            f"{IMPORT_KEY}.fw_id and {IMPORT_KEY}.launch_id)"
        )

    def _move_counters(self):
        """New fireworks and launches must never take an imported id."""
        for kind, last in self.source.last_ids().items():
            gap = last - self.store.next_ids(kind, 0) + 1
            if gap > 0:
                self.store.next_ids(kind, gap)

    def _import_one(self, wf, key):
        nodes = sorted({int(i) for i in wf.get("nodes") or ()})
        fws = self.source.fireworks(nodes)
        missing = sorted(set(nodes) - {f["fw_id"] for f in fws})
        if not nodes or missing:
            why = f"firework(s) {_ids(missing)} are missing" if nodes else "it has no fireworks"
            self.summary.failed.append(
                f"workflow {wf.get('name')!r} ({key}): {why} in the FireWorks database"
            )
            return
        wanted = [i for f in fws for i in (f.get("launches") or []) + (f.get("archived_launches") or [])]
        launches = {d["launch_id"]: d for d in self.source.launches(sorted(set(wanted)))}
        offline = {d["launch_id"]: offline_mark(d) for d in self.source.offline_runs(sorted(launches))}
        try:
            mapped = self._write(wf, key, nodes, fws, launches, offline)
        except ValueError as exc:  # a document FireWorks itself could not have written
            mapped = f"{exc}"
        if isinstance(mapped, str):
            self.summary.failed.append(f"workflow {wf.get('name')!r} ({key}): {mapped}")
            return
        self.summary.workflows += 1
        self.summary.fireworks += len(mapped.fireworks)
        self.summary.launches += len(mapped.launches)

    def _write(self, wf, key, nodes, fws, launches, offline=None):
        """Insert one workflow; returns its documents, or why it was not written."""
        with self.store.transaction():  # on SQLite one commit: ids and documents together
            fw_ids, launch_ids = self._ids_for(nodes, sorted(launches))
            mapped = map_workflow(
                wf, fws, launches, self.store.next_ids("wf"), fw_ids, launch_ids, key, self.lp.now(), offline
            )
            taken = None if self.renumber else self._in_use(mapped)
            if taken:
                return (
                    f"{taken} are already in the store (listed by two FireWorks workflows, or "
                    "taken while importing); --renumber imports it with new ids"
                )
            self.store.insert_fireworks(mapped.fireworks)
            for launch in mapped.launches:
                self.store.insert_launch(launch)
            self.store.insert_workflow(mapped.workflow, [])  # last: it marks the import done
        return mapped

    def _in_use(self, mapped):
        fws = self.store.get_fireworks([d["fw_id"] for d in mapped.fireworks], fields=["fw_id"])
        launches = (
            self.store.find_launches(
                {"launch_id": {"$in": [d["launch_id"] for d in mapped.launches]}}, fields=["launch_id"]
            )
            if mapped.launches
            else []
        )
        return _id_text(sorted(d["fw_id"] for d in fws), sorted(d["launch_id"] for d in launches))

    def _ids_for(self, fw_ids, launch_ids):
        if not self.renumber:
            return {i: i for i in fw_ids}, {i: i for i in launch_ids}
        first = self.store.next_ids("fw", len(fw_ids))
        fws = {old: first + n for n, old in enumerate(fw_ids)}
        first = self.store.next_ids("launch", len(launch_ids)) if launch_ids else 0
        return fws, {old: first + n for n, old in enumerate(launch_ids)}


def _id_text(fw_ids, launch_ids):
    """ "fw_id(s) 1, 2 and launch_id(s) 3": the ids a message names ("" for none)."""
    what = [f"{kind}(s) {_ids(ids)}" for kind, ids in (("fw_id", fw_ids), ("launch_id", launch_ids)) if ids]
    return " and ".join(what)


def _ids(ids):
    return ", ".join(map(str, ids[:10])) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


def import_fireworks(launchpad, source, renumber=False, progress=None, every_secs=5.0):
    """Import ``source`` (a ``stores.fireworks_source.FireWorksSource``); returns the summary."""
    return Importer(launchpad, source, renumber, progress, every_secs).run()


__all__ = ["IMPORT_KEY", "ImportSummary", "Importer", "import_fireworks", "map_workflow"]
