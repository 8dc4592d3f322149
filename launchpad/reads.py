"""Reading fireworks, workflows and launches out of a store, as documents or models.

Plain functions over a store; ``LaunchPad`` offers them under FireWorks' names.
A missing id raises NotFoundError with the id, never a bare None.
"""

from .errors import NotFoundError
from .models import Firework, Workflow
from .states import workflow_state
from .stores.base import NO_PRIORITY

ARCHIVED_BELOW = "archived_below"  # a firework's field: its launches with lower ids are archived


def shown_priority(doc):
    """The document as users see it: no ``_priority`` shows as None, not the sort key."""
    if doc.get("priority") == NO_PRIORITY:
        doc["priority"] = None
    return doc


def fw_dict(store, fw_id, with_launches=True):
    doc = store.get_firework(int(fw_id))
    if doc is None:
        raise NotFoundError(f"no firework with id {fw_id}")
    shown_priority(doc)
    if with_launches:
        doc["launches"] = store.find_launches({"fw_id": doc["fw_id"]})
        if doc.get("taken_launches"):  # a duplicate's: the runs it took over (duplicates.py)
            taken = store.find_launches({"launch_id": {"$in": doc["taken_launches"]}})
            doc["launches"] = sorted(doc["launches"] + taken, key=lambda launch: launch["launch_id"])
    return doc


def with_archived_launches(doc):
    """FireWorks' view of a firework: launches from before its last rerun move to
    ``archived_launches`` (a rerun stores the first launch id it did not archive; a
    firework imported from FireWorks keeps its list of archived ids)."""
    below = doc.pop(ARCHIVED_BELOW, 0) or 0
    imported = {_launch_id(x) for x in doc.get("archived_launches") or ()}
    launches = doc.get("launches") or []
    archived = [x for x in launches if _launch_id(x) < below or _launch_id(x) in imported]
    doc["archived_launches"] = archived
    doc["launches"] = [x for x in launches if x not in archived]
    return doc


def _launch_id(launch):
    return launch if isinstance(launch, int) else launch["launch_id"]


def wf_id_of(store, fw_id):
    doc = store.get_firework(int(fw_id), fields=["wf_id"])
    if doc is None:
        raise NotFoundError(f"no firework with id {fw_id}")
    return doc["wf_id"]


def existing_fireworks(store, fw_ids, fields=("fw_id", "state", "waiting_on", "current_launch")):
    """The fireworks' documents; any unknown id raises NotFoundError naming it."""
    docs = store.get_fireworks([int(i) for i in fw_ids], fields=list(fields))
    missing = set(int(i) for i in fw_ids) - {d["fw_id"] for d in docs}
    if missing:
        raise NotFoundError(f"no firework with id {', '.join(map(str, sorted(missing)))}")
    return docs


def children_of(store, fw_ids):
    """``{fw_id: [child ids]}``: the shape ``dag.descendants`` walks."""
    return {d["fw_id"]: d["children"] for d in store.get_fireworks(fw_ids, ["fw_id", "children"])}


def workflow_fw_ids(store, fw_id):
    """Every firework id of the workflow holding ``fw_id``."""
    wf_id = wf_id_of(store, fw_id)
    return [d["fw_id"] for d in store.find_fireworks({"wf_id": wf_id}, ["fw_id"])]


def workflow(store, wf_id):
    """A Workflow model with its fireworks' Launch objects (one query for all launches)."""
    wf_doc = store.get_workflow(wf_id)
    if wf_doc is None:
        raise NotFoundError(f"no workflow with id {wf_id}")
    docs = store.find_fireworks({"wf_id": wf_id})
    launches = {}
    for launch in store.find_launches(
        {"fw_id": {"$in": [d["fw_id"] for d in docs]}}, sort=[("launch_id", 1)]
    ):
        launches.setdefault(launch["fw_id"], []).append(launch)
    for d in docs:  # a duplicate's taken runs (duplicates.py): rare, one read each
        if d.get("taken_launches"):
            taken = store.find_launches({"launch_id": {"$in": d["taken_launches"]}})
            launches[d["fw_id"]] = sorted(launches.get(d["fw_id"], []) + taken, key=lambda x: x["launch_id"])
    fws = [
        Firework.from_dict(with_archived_launches({**d, "launches": launches.get(d["fw_id"], [])}))
        for d in docs
    ]
    links = {d["fw_id"]: d["children"] for d in docs}
    return Workflow(
        fws,
        links,
        name=wf_doc["name"],
        metadata=wf_doc.get("metadata"),
        created_on=wf_doc["created_on"],
        updated_on=last_change(wf_doc, docs),
        wf_id=wf_id,
    )


def last_change(wf_doc, fw_docs):
    """When a workflow last changed, as FireWorks' ``updated_on`` says: the latest of its
    own and its fireworks' times (the stored workflow is not rewritten at every launch)."""
    times = [d["updated_on"] for d in fw_docs if d.get("updated_on")]
    return max([wf_doc["updated_on"], *times]) if times else wf_doc["updated_on"]


def wf_summaries(store, query=None, state=None, sort=None, limit=0, skip=0):
    """Workflow documents with ``state``, ``states`` (counts) and ``nodes`` added.

    The counts for all listed workflows come from one grouped query.
    """
    if state is None:
        docs = store.find_workflows(query, sort=sort, limit=limit, skip=skip)
    else:  # the state is derived: find the ids in it first, then read only their page
        ids = wf_ids(store, query, state, sort)
        ids = ids[skip : skip + limit] if limit else ids[skip:]
        found = {d["wf_id"]: d for d in store.find_workflows({"wf_id": {"$in": ids}})}
        docs = [found[i] for i in ids if i in found]
    counts = store.workflow_state_counts([d["wf_id"] for d in docs])
    for d in docs:
        c = counts.get(d["wf_id"], {})
        d.update(state=workflow_state(c), states=c, nodes=sum(c.values()))
    return docs


def wf_ids(store, query=None, state=None, sort=None, limit=0):
    """Ids of the workflows matching ``query`` (and in ``state``), in ``sort`` order.

    A state filter groups the fireworks once (all of them when there is no
    query) and reads no workflow document.
    """
    ids = [d["wf_id"] for d in store.find_workflows(query, ["wf_id"], sort=sort, limit=0 if state else limit)]
    if state:
        present = store.workflow_states(ids if query else None)
        ids = [i for i in ids if workflow_state(dict.fromkeys(present.get(i, ()), 1)) == state]
    return ids[:limit] if limit else ids


def wf_state_counts(store, query=None):
    """``{state: number of workflows}`` from the states present in each (launchpad/stores/
    sqlite_counts.py: index seeks on SQLite, not a count of every firework)."""
    ids = None if not query else [d["wf_id"] for d in store.find_workflows(query, ["wf_id"])]
    totals = {}
    for states in store.workflow_states(ids).values():
        state = workflow_state(dict.fromkeys(states, 1))
        totals[state] = totals.get(state, 0) + 1
    return totals


def launch_doc(store, launch_id):
    doc = store.get_launch(int(launch_id))
    if doc is None:
        raise NotFoundError(f"no launch with id {launch_id}")
    return doc


def launch_dir(store, fw_id, launch_idx=-1):
    launches = store.find_launches({"fw_id": int(fw_id)}, fields=["launch_dir"])
    if not launches:
        wf_id_of(store, fw_id)  # raises NotFoundError for an unknown id
        raise NotFoundError(f"firework {fw_id} has not been launched yet")
    try:
        return launches[launch_idx]["launch_dir"]
    except IndexError:
        raise NotFoundError(f"firework {fw_id} has no launch number {launch_idx}") from None
