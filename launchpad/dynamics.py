"""Workflows that change while they run: FWAction application and appending.

Plain functions over a store (and a clock where they stamp a time). A
completion reads and writes only the finished firework's children (or, with
``propagate``, its descendants) and the fireworks it adds: never the whole
workflow.
"""

import copy

from .actions import apply_action_to_spec
from .dag import descendants
from .errors import InvalidArgumentError, InvalidWorkflowError
from .insertion import firework_docs
from .models import as_workflow
from .reads import children_of, wf_id_of
from .states import State
from .timestamps import timestamp
from .transitions import move_fireworks
from .workflow_ops import pull_spec_mods as pull_completed_spec_mods

S = State


def plan_action(store, fw, action):
    """The children's new specs, computed before anything is written.

    A bad ``mod_spec`` raises here, so the firework fizzles cleanly
    instead of being left half-applied.
    """
    if not (action.update_spec or action.mod_spec):
        return {}
    targets = list(fw["children"])
    if action.propagate:
        targets = sorted(set(targets) | descendants(targets, lambda ids: children_of(store, ids)))
    return {
        doc["fw_id"]: apply_action_to_spec(doc["spec"], action)
        for doc in store.get_fireworks(targets, ["fw_id", "spec", "state"])
        if doc["state"] not in (S.RUNNING.value, S.COMPLETED.value, S.ARCHIVED.value)
    }


def apply_action(store, clock, fw, action, now, plan=None):
    """Apply a completed firework's FWAction, then release its children."""
    children = list(fw["children"])
    plan = plan_action(store, fw, action) if plan is None else plan
    for fw_id, spec in plan.items():
        store.update_fireworks([fw_id], {"spec": spec, "updated_on": now})
    # each detour sits between this firework and its old children; all in one insert
    attach_many(
        store, [as_workflow(d) for d in action.detours], [fw["fw_id"]], fw["wf_id"], now, True, children
    )
    for entry in action.append_wfs:  # FireWorks' order: after the detours, before the additions
        append_below(store, fw, action, entry, now, children)
    attach_many(store, [as_workflow(a) for a in action.additions], [fw["fw_id"]], fw["wf_id"], now)
    if action.defuse_workflow:
        ids = [
            d["fw_id"]
            for d in store.find_fireworks(
                {
                    "wf_id": fw["wf_id"],
                    "state": {"$in": [S.WAITING.value, S.READY.value, S.RESERVED.value, S.PAUSED.value]},
                },
                ["fw_id"],
            )
        ]
        move_fireworks(store, clock, ids, S.DEFUSED.value, strict=False)
    elif action.defuse_children:
        move_fireworks(store, clock, children, S.DEFUSED.value, strict=False)
    store.release_children(children, now)


def append_below(store, fw, action, entry, now, children):
    """FWAction ``append_wfs``: the workflow below this firework and ``parents``; its
    roots get this action's spec changes and those of the parents already COMPLETED
    (FireWorks' pull_spec_mods); a ``detour`` also goes before this firework's children."""
    wf = copy.deepcopy(entry["workflow"])
    for root in wf.root_fw_ids:
        wf.id_fw[root].spec = apply_action_to_spec(wf.id_fw[root].spec, action)
    pull_completed_spec_mods(store, wf, entry["parents"])
    parents = [fw["fw_id"], *entry["parents"]]
    attach(
        store,
        wf,
        parents,
        fw["wf_id"],
        now,
        detour=entry["detour"],
        below=children if entry["detour"] else [],
    )


def release_after_fizzle(store, fw, now):
    """Children that accept fizzled parents go on; they learn which parent failed."""
    allowed = [
        d
        for d in store.get_fireworks(fw["children"], ["fw_id", "spec"])
        if d["spec"].get("_allow_fizzled_parents")
    ]
    for doc in allowed:
        spec = dict(doc["spec"])
        spec["_fizzled_parents"] = spec.get("_fizzled_parents", []) + [
            {"fw_id": fw["fw_id"], "name": fw.get("name")}
        ]
        store.update_fireworks([doc["fw_id"]], {"spec": spec, "updated_on": now})
    store.release_children([d["fw_id"] for d in allowed], now)


def append_wf(store, clock, new_wf, fw_ids, detour=False, pull_spec_mods=True):
    """Add ``new_wf`` as children of ``fw_ids`` (as a detour: also before their children;
    ``detour`` may be one flag per parent, as in FireWorks).

    ``pull_spec_mods`` (FireWorks' default): the new roots get the
    update_spec/mod_spec of parents that already completed.
    Returns ``{file id: store id}`` for the new fireworks.
    """
    fw_ids = [int(i) for i in fw_ids]
    detours = detour_flags(detour, fw_ids)
    new_wf = as_workflow(new_wf)
    if pull_spec_mods:
        pull_completed_spec_mods(store, new_wf, fw_ids)
    wf_ids = {wf_id_of(store, i) for i in fw_ids}
    if len(wf_ids) != 1:
        raise InvalidWorkflowError("append_wf: the parent fireworks belong to different workflows")
    with store.transaction():
        below = {c for i, kids in children_of(store, fw_ids).items() if detours[i] for c in kids}
        id_map = attach(store, new_wf, fw_ids, wf_ids.pop(), timestamp(clock), any(detours.values()), below)
    new_wf.reassign_ids(id_map)  # the caller's objects carry the stored ids, as after add_wf
    return id_map


def detour_flags(detour, fw_ids):
    """FireWorks' ``detour``: one flag for every parent, or a list of one flag per parent."""
    if isinstance(detour, bool):
        return dict.fromkeys(fw_ids, detour)
    if not isinstance(detour, (list, tuple)) or len(detour) != len(fw_ids):
        raise InvalidArgumentError(
            f"append_wf: detour must be True/False or one flag per parent ({len(fw_ids)}), not {detour!r}"
        )
    return dict(zip(fw_ids, map(bool, detour)))


def attach(store, wf, parent_ids, wf_id, now, detour=False, below=None):
    """Insert ``wf`` into workflow ``wf_id`` below ``parent_ids``.

    A detour also becomes a parent of ``below`` (default: the parents'
    current children).
    """
    return attach_many(store, [wf], parent_ids, wf_id, now, detour, below)[0]


def attach_many(store, wfs, parent_ids, wf_id, now, detour=False, below=None):
    """``attach`` for several workflows side by side (an FWAction's detours or additions),
    with the ids FireWorks gives them one after the other, but one insert and one update
    per parent and child: 2,000 detours cost a few writes, not 2,000 rewrites of a
    growing list of children. Returns one id map per workflow."""
    if not wfs:
        return []
    first = store.next_ids("fw", sum(len(wf.id_fw) for wf in wfs))
    parents = store.get_fireworks(parent_ids, ["fw_id", "state", "children"])
    not_done = sum(1 for p in parents if p["state"] != S.COMPLETED.value)
    old_children = sorted(below if below is not None else {c for p in parents for c in p["children"]})
    id_maps, docs, roots, leaves = [], [], [], []
    for wf in wfs:
        id_map = {old: first + len(docs) + i for i, old in enumerate(sorted(wf.id_fw))}
        wf_roots = {id_map[r] for r in wf.root_fw_ids}
        wf_leaves = {id_map[leaf] for leaf in wf.leaf_fw_ids}
        for doc in firework_docs(wf, id_map, wf_id, now):
            if doc["fw_id"] in wf_roots:
                doc["parents"] = list(parent_ids) + doc["parents"]
                doc["waiting_on"] += not_done
                if doc["waiting_on"] and doc["state"] == S.READY.value:
                    doc["state"] = S.WAITING.value
            if detour and doc["fw_id"] in wf_leaves:
                doc["children"] = doc["children"] + old_children
            docs.append(doc)
        id_maps.append(id_map)
        roots += sorted(wf_roots)
        leaves += sorted(wf_leaves)
    store.insert_fireworks(docs)
    for p in parents:
        store.update_fireworks([p["fw_id"]], {"children": p["children"] + roots})
    if detour and old_children:
        for child in store.get_fireworks(old_children, ["fw_id", "parents", "waiting_on", "state"]):
            added = [leaf for leaf in leaves if leaf not in child["parents"]]  # no edge twice
            changes = {"parents": child["parents"] + added, "waiting_on": child["waiting_on"] + len(leaves)}
            if child["state"] == S.READY.value:
                changes["state"] = S.WAITING.value
            store.update_fireworks([child["fw_id"]], changes)
    return id_maps
