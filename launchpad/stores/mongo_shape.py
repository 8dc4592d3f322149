"""The MongoDB documents' FireWorks fields, for scripts that read the raw collections.

FireWorks users' scripts query ``lp.fireworks``, ``lp.launches`` and
``lp.workflows`` directly (``{"launches": 5}``, ``{"nodes": 3}``), so the
MongoDB store keeps, next to its own fields, the ones FireWorks 2.x writes:

- a firework's ``launches`` and ``archived_launches``: launch ids, the same
  split ``LaunchPad.get_fw_by_id`` makes (a rerun or an archive moves the
  launches below the firework's ``archived_below`` to ``archived_launches``);
- a workflow's ``nodes`` (fw_ids), ``links`` (``{"fw_id": [children]}``, every
  node) and ``parent_links`` (``{"fw_id": [parents]}``, nodes with parents);
- a launch's ``fworker.query`` as JSON text, as FireWorks' ``FWorker.to_dict``
  writes it, and its ``fworker``, ``host``, ``ip``, ``launch_dir`` and
  ``state_history`` always present (null when unknown): FireWorks'
  ``Launch.from_dict`` needs them;
- a workflow's ``created_on``/``updated_on`` as BSON dates, as FireWorks writes
  them there (its fireworks' and launches' dates are ISO text, as ours). The
  store speaks text to the LaunchPad: dates go out as text, and text dates in
  a workflow query are compared as dates.

A claim adds its launch id in the same ``find_one_and_update`` (no extra round
trip per launch), and a rerun or an archive moves them in its own write; the
rarer changes (additions, deletions, duplicates) cost one more write each.
Every write here is ``$set`` (also as a pipeline update), ``$addToSet``,
``$pull`` or ``$unset``: safe to try again, and what mongomock implements as
MongoDB does. Databases written before these fields existed get them once
(``fill_missing``), marked in ``counters``.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from ..timestamps import TIME_FORMAT, parse_utc

ARCHIVED_BELOW = "archived_below"  # a rerun's mark: the firework's launches below it are archived
TAKEN = "taken_launches"  # launches a duplicate took over (launchpad/duplicates.py)
FILLED = "migrated:fireworks_fields"  # a counters document, not an id counter
DATED = "migrated:workflow_dates"
BATCH = 1000
log = logging.getLogger("starshell.store")
WORKFLOW_DATES = ("created_on", "updated_on")


def _as_date(value):
    """ISO text as a naive UTC datetime (what pymongo stores); anything else as it is."""
    parsed = parse_utc(value) if isinstance(value, str) else None
    return value if parsed is None else parsed


def launch_in(doc):
    """A launch document or ``$set`` with its worker's query as JSON text."""
    worker = doc.get("fworker")
    if isinstance(worker, dict) and "query" in worker and not isinstance(worker["query"], str):
        return {**doc, "fworker": {**worker, "query": json.dumps(worker["query"], sort_keys=True)}}
    return doc


# Keys FireWorks' Launch.from_dict requires; starshell leaves an unknown value out.
LAUNCH_KEYS = ("fworker", "host", "ip", "launch_dir")


def new_launch(doc):
    """A launch document to insert, as ``launch_in``, with FireWorks' required keys."""
    return launch_in({**dict.fromkeys(LAUNCH_KEYS), "state_history": [], **doc})


def launch_out(doc):
    """A launch document as the LaunchPad wrote it: its worker's query a mapping, and
    no null that ``new_launch`` added."""
    for key in LAUNCH_KEYS:
        if key in doc and doc[key] is None:
            del doc[key]
    worker = doc.get("fworker")
    if isinstance(worker, dict) and isinstance(worker.get("query"), str):
        try:
            doc["fworker"] = {**worker, "query": json.loads(worker["query"])}
        except ValueError:  # not JSON: left as written
            pass
    return doc


def workflow_in(doc):
    """A workflow document or ``$set`` with its dates as BSON dates."""
    return {k: _as_date(v) if k in WORKFLOW_DATES else v for k, v in doc.items()}


def workflow_out(doc):
    """A workflow document with its dates as the store's text (to the millisecond: BSON's)."""
    for key in WORKFLOW_DATES:
        if isinstance(doc.get(key), datetime):
            doc[key] = doc[key].strftime(TIME_FORMAT)
    return doc


def dated_query(query):
    """A workflow query whose text dates compare with the BSON dates as they compared
    with text (``{"created_on": {"$gte": "2026-11-29"}}``: from that midnight on)."""
    if isinstance(query, list):
        return [dated_query(q) for q in query]
    if not isinstance(query, dict):
        return query
    return {k: _dated_operand(v) if k in WORKFLOW_DATES else dated_query(v) for k, v in query.items()}


def _dated_operand(value):
    if isinstance(value, dict):
        return {
            op: [_as_date(x) for x in arg] if isinstance(arg, list) else _as_date(arg)
            for op, arg in value.items()
        }
    return _as_date(value)


def links_of(fireworks):
    """A workflow's ``nodes``, ``links`` and ``parent_links`` from its firework documents."""
    fws = sorted(fireworks, key=lambda d: d["fw_id"])
    return {
        "nodes": [d["fw_id"] for d in fws],
        "links": {str(d["fw_id"]): list(d.get("children") or ()) for d in fws},
        "parent_links": {str(d["fw_id"]): list(d["parents"]) for d in fws if d.get("parents")},
    }


def add_nodes(workflows, fireworks):
    """Fireworks added to existing workflows (FWAction additions, ``append_wf``)."""
    by_wf = {}
    for d in fireworks:
        by_wf.setdefault(d["wf_id"], []).append(d)
    for wf_id, docs in by_wf.items():
        shape = links_of(docs)
        changes = {f"links.{k}": v for k, v in shape["links"].items()}
        changes.update({f"parent_links.{k}": v for k, v in shape["parent_links"].items()})
        workflows.update_one(
            {"wf_id": wf_id}, {"$set": changes, "$addToSet": {"nodes": {"$each": shape["nodes"]}}}
        )


def relink(workflows, fw_ids, changes):
    """A firework's ``children``/``parents`` changed: its entries in its workflow's links."""
    for fw_id in fw_ids:
        update = {}
        if "children" in changes:
            update.setdefault("$set", {})[f"links.{fw_id}"] = list(changes["children"] or ())
        if changes.get("parents"):
            update.setdefault("$set", {})[f"parent_links.{fw_id}"] = list(changes["parents"])
        elif "parents" in changes:
            update["$unset"] = {f"parent_links.{fw_id}": ""}
        if update:
            workflows.update_one({"nodes": fw_id}, update)


def drop_nodes(workflows, fw_ids):
    """Deleted fireworks leave their workflow's nodes and links."""
    ids = list(fw_ids)
    unset = {f"{field}.{i}": "" for i in ids for field in ("links", "parent_links")}
    workflows.update_many({"nodes": {"$in": ids}}, {"$pull": {"nodes": {"$in": ids}}, "$unset": unset})


def drop_launches(fireworks, launch_ids):
    """Deleted launches (a duplicate's unused claim, the checker's repair) leave the lists."""
    ids = list(launch_ids)
    fireworks.update_many(
        {"$or": [{"launches": {"$in": ids}}, {"archived_launches": {"$in": ids}}]},
        {"$pull": {"launches": {"$in": ids}, "archived_launches": {"$in": ids}}},
    )


def list_launch(fireworks, fw_id, launch_id):
    """A launch inserted outside a claim (a queue reservation, an import) joins its
    firework's ``launches``, unless the firework already lists it as archived."""
    fireworks.update_one(
        {"fw_id": fw_id, "archived_launches": {"$ne": launch_id}}, {"$addToSet": {"launches": launch_id}}
    )


def archiving(changes):
    """The update that sets ``changes`` (top-level fields, with ``archived_below``: a
    rerun's or an archive's) and moves the launches under that mark from ``launches``
    to ``archived_launches`` in the same atomic write, however many fireworks it
    matches: a pipeline update (MongoDB 4.2 or newer), values as literals."""
    below = changes[ARCHIVED_BELOW]
    listed = {"$ifNull": ["$launches", []]}

    def launches(compare):
        return {"$filter": {"input": listed, "cond": {compare: ["$$this", below]}}}

    kept = {"$ifNull": ["$archived_launches", []]}
    return [
        {
            "$set": {
                **{k: {"$literal": v} for k, v in changes.items()},
                "archived_launches": {"$concatArrays": [kept, launches("$lt")]},
                "launches": launches("$gte"),
            }
        }
    ]


def archive_below(fireworks, fw_ids):
    """A duplicate took a launch over: the launches under the firework's ``archived_below``
    go (back) to ``archived_launches`` (one write per firework that has any)."""
    query = {"fw_id": {"$in": list(fw_ids)}, "launches.0": {"$exists": True}}
    for d in list(fireworks.find(query, {"_id": 0, "fw_id": 1, "launches": 1, ARCHIVED_BELOW: 1})):
        old = [i for i in d["launches"] if i < (d.get(ARCHIVED_BELOW) or 0)]
        if old:
            fireworks.update_one(
                {"fw_id": d["fw_id"]},
                {"$pull": {"launches": {"$in": old}}, "$addToSet": {"archived_launches": {"$each": old}}},
            )


def split(doc, own_ids):
    """``(launches, archived_launches)`` of a firework document and the ids of the
    launches that name it: the split ``reads.with_archived_launches`` makes."""
    below = doc.get(ARCHIVED_BELOW) or 0
    kept = set(doc.get("archived_launches") or ())
    every = sorted(set(own_ids) | set(doc.get(TAKEN) or ()) | set(doc.get("launches") or ()))
    archived = [i for i in every if i < below or i in kept]
    return [i for i in every if i not in set(archived)], archived


def fill_missing(db):
    """Once per database: the fields above on documents written before them, in one
    pass over the fireworks by fw_id (indexed) and the launches of each batch."""
    fireworks, workflows, launches, counters = (
        db[n] for n in ("fireworks", "workflows", "launches", "counters")
    )
    if counters.find_one({"_id": FILLED}):
        return
    if fireworks.find_one({"launches": {"$exists": False}}, {"_id": 1}) is not None:
        log.warning("adding FireWorks' launch lists and workflow links to %s (once)", db.name)
    fields = {"_id": 0, "fw_id": 1, "launches": 1, "archived_launches": 1, ARCHIVED_BELOW: 1, TAKEN: 1}
    after = None
    while True:
        query = {} if after is None else {"fw_id": {"$gt": after}}
        docs = list(fireworks.find(query, fields).sort("fw_id", 1).limit(BATCH))
        if not docs:
            break
        after = docs[-1]["fw_id"]
        docs = [d for d in docs if "launches" not in d]
        own = {}
        for launch in launches.find(
            {"fw_id": {"$in": [d["fw_id"] for d in docs]}}, {"_id": 0, "fw_id": 1, "launch_id": 1}
        ):
            own.setdefault(launch["fw_id"], []).append(launch["launch_id"])
        for d in docs:
            live, archived = split(d, own.get(d["fw_id"], ()))
            fireworks.update_one(
                {"fw_id": d["fw_id"]}, {"$set": {"launches": live, "archived_launches": archived}}
            )
    for wf in list(workflows.find({"nodes": {"$exists": False}}, {"_id": 0, "wf_id": 1})):
        members = fireworks.find({"wf_id": wf["wf_id"]}, {"_id": 0, "fw_id": 1, "children": 1, "parents": 1})
        workflows.update_one({"wf_id": wf["wf_id"]}, {"$set": links_of(list(members))})
    counters.update_one({"_id": FILLED}, {"$set": {"last": 1}}, upsert=True)


def date_workflows(db):
    """Once per database: workflows written with text dates get BSON dates."""
    workflows, counters = db["workflows"], db["counters"]
    if counters.find_one({"_id": DATED}):
        return
    for wf in list(workflows.find({}, {"_id": 0, "wf_id": 1, **dict.fromkeys(WORKFLOW_DATES, 1)})):
        texts = {k: v for k, v in wf.items() if k in WORKFLOW_DATES and isinstance(v, str)}
        if texts:
            workflows.update_one({"wf_id": wf["wf_id"]}, {"$set": workflow_in(texts)})
    counters.update_one({"_id": DATED}, {"$set": {"last": 1}}, upsert=True)
