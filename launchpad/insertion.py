"""Workflows into store documents: what ``add_wf`` writes, and what appending reuses.

A workflow lands in one store write: all of it or none.
"""

import datetime

from .models import as_workflow
from .serializable import FWSerializable
from .states import State
from .stores import index_fields
from .timestamps import timestamp

S = State


def add_workflow(store, clock, wf):
    """Insert a Workflow (or Firework, or dict); returns ``{file id: store id}``."""
    wf = as_workflow(wf)
    old_ids = sorted(wf.id_fw)
    first = store.next_ids("fw", len(old_ids))
    id_map = {old: first + i for i, old in enumerate(old_ids)}
    wf_id = store.next_ids("wf")
    now = timestamp(clock)
    docs = firework_docs(wf, id_map, wf_id, now)
    store.insert_workflow(
        {
            "wf_id": wf_id,
            "name": wf.name,
            "metadata": dates_as_text(wf.metadata),
            "created_on": now,
            "updated_on": now,
        },
        docs,
    )
    wf.reassign_ids(id_map)  # the caller's objects now carry the stored ids and states
    for doc in docs:
        wf.id_fw[doc["fw_id"]].state = doc["state"]
    return id_map


def firework_docs(wf, id_map, wf_id, now):
    """Store documents for ``wf``'s fireworks, renumbered by ``id_map``."""
    parents = wf.parent_links()
    docs = []
    for old_id, fw in wf.id_fw.items():
        waiting_on = len(parents[old_id])
        state = (
            fw.state
            if fw.state in (S.DEFUSED.value, S.PAUSED.value)
            else (S.READY.value if waiting_on == 0 else S.WAITING.value)
        )
        spec = dates_as_text(_plain_spec_objects(fw.full_spec()))
        docs.append(
            {
                "fw_id": id_map[old_id],
                "wf_id": wf_id,
                "name": fw.name,
                "state": state,
                "spec": spec,
                "created_on": now,
                "updated_on": now,
                "parents": [id_map[p] for p in parents[old_id]],
                "children": [id_map[c] for c in wf.links[old_id]],
                "waiting_on": waiting_on,
                "current_launch": None,
                "not_before": None,
                **index_fields(spec),
            }
        )
    return docs


def dates_as_text(value):
    """Dates (unquoted in a YAML file, or built in Python) in the store's text form, so a
    spec reads back the same on every store (JSON has no dates; BSON has no bare date)."""
    try:
        return _dates_as_text(value)
    except RecursionError:  # nested too deeply: the store names the problem
        return value


def _dates_as_text(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _dates_as_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dates_as_text(v) for v in value]
    return value


def _plain_spec_objects(spec):
    """``_trackers`` and ``_background_tasks`` given as objects, in their dict form, as
    FireWorks writes them: the store keeps data, and the rocket rebuilds them."""
    for key in ("_trackers", "_background_tasks"):
        if isinstance(spec.get(key), (list, tuple)):
            spec[key] = [x.to_dict() if isinstance(x, FWSerializable) else x for x in spec[key]]
    if isinstance(spec.get("_dupefinder"), FWSerializable):  # DupeFinderExact(): {_fw_name: ...}
        spec["_dupefinder"] = spec["_dupefinder"].to_dict()
    return spec
