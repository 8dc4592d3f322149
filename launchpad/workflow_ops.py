"""Workflow edits behind FireWorks' maintenance verbs (append, delete fireworks,
scripts, launch directories), as plain functions over a LaunchPad.

They keep the store consistent where FireWorks does not: its ``delete_fws``
leaves links to deleted fireworks behind; ours refuses to strand a child.
"""

import os
import shutil

from .actions import FWAction, apply_action_to_spec
from .errors import InvalidArgumentError, InvalidTransitionError, NotFoundError
from .states import LaunchState
from .states import State as S

WORKFLOW_SUFFIXES = (".yaml", ".yml", ".json")
_BUSY = (S.RUNNING.value, S.RESERVED.value)


def pull_spec_mods(store, wf, parent_ids):
    """Give ``wf``'s roots the update_spec/mod_spec of parents already COMPLETED:
    what they would have received had they been children at the time."""
    done = [
        p["fw_id"]
        for p in store.get_fireworks(parent_ids, ["fw_id", "state"])
        if p["state"] == S.COMPLETED.value
    ]
    actions = []
    for fw_id in sorted(done):
        last = store.find_launches(
            {"fw_id": fw_id, "state": LaunchState.COMPLETED.value}, sort=[("launch_id", -1)], limit=1
        )
        action = last[0].get("action") if last else None
        if action:
            actions.append(action if isinstance(action, FWAction) else FWAction.from_dict(action))
    for root in wf.root_fw_ids:
        fw = wf.id_fw[root]
        for action in actions:
            fw.spec = apply_action_to_spec(fw.spec, action)
    return wf


def delete_fws(lp, fw_ids, delete_launch_dirs=False):
    """Delete fireworks, their launches and the links to them; a workflow left
    empty goes too. Returns the ids, emptied workflows and removed/kept directories."""
    ids = sorted({int(i) for i in fw_ids})
    docs = lp.store.get_fireworks(ids, ["fw_id", "wf_id", "state", "parents", "children"])
    _check_deletable(ids, docs)
    dirs = launch_dirs_of(lp, ids)
    gone = set(ids)
    with lp.store.transaction():
        outside_parents = sorted({p for d in docs for p in d["parents"]} - gone)
        for parent in lp.store.get_fireworks(outside_parents, ["fw_id", "children"]):
            lp.store.update_fireworks(
                [parent["fw_id"]], {"children": [c for c in parent["children"] if c not in gone]}
            )
        lp.store.delete_fireworks(ids)
        emptied = []
        for wf_id in sorted({d["wf_id"] for d in docs}):
            if lp.store.count_fireworks({"wf_id": wf_id}) == 0:
                lp.store.delete_workflow(wf_id)
                emptied.append(wf_id)
            else:
                lp.store.update_workflow(wf_id, {"updated_on": lp.now()})
    removed, kept = remove_launch_dirs(lp, dirs, ids) if delete_launch_dirs else ([], {})
    return {"fw_ids": ids, "wf_ids_removed": emptied, "launch_dirs": removed, "kept_dirs": kept}


def delete_wf_and_dirs(lp, wf_id):
    """Delete a workflow, then its launch directories that are safe to remove."""
    fw_ids = [d["fw_id"] for d in lp.store.find_fireworks({"wf_id": wf_id}, ["fw_id"])]
    dirs = launch_dirs_of(lp, fw_ids)
    lp.store.delete_workflow(wf_id)
    removed, kept = remove_launch_dirs(lp, dirs, fw_ids)
    return {"wf_id": wf_id, "launch_dirs": removed, "kept_dirs": kept}


def _check_deletable(ids, docs):
    missing = sorted(set(ids) - {d["fw_id"] for d in docs})
    if missing:
        raise NotFoundError(f"no firework with id {', '.join(map(str, missing))}")
    busy = [d["fw_id"] for d in docs if d["state"] in _BUSY]
    if busy:
        raise InvalidTransitionError(
            f"firework {', '.join(map(str, busy))} is RUNNING or RESERVED: defuse it (lpad "
            "defuse_fws) or let it finish before deleting it"
        )
    stranded = {d["fw_id"]: sorted(set(d["children"]) - set(ids)) for d in docs}
    stranded = {k: v for k, v in stranded.items() if v}
    if stranded:
        parent, kids = next(iter(stranded.items()))
        raise InvalidArgumentError(
            f"firework {parent} has children {', '.join(map(str, kids))} that would wait for "
            f"ever on a deleted parent: delete them too (-i {parent} {' '.join(map(str, kids))}) "
            "or delete the whole workflow (lpad delete_wflows)"
        )


def launch_dirs_of(lp, fw_ids):
    """The launch directories recorded on the launches of ``fw_ids``."""
    if not fw_ids:
        return []
    found = lp.store.find_launches({"fw_id": {"$in": list(fw_ids)}}, ["launch_dir"])
    return sorted({d["launch_dir"] for d in found if d.get("launch_dir")})


def remove_launch_dirs(lp, dirs, deleted_fw_ids):
    """Remove recorded launch directories, except those that are not safe to:
    shared with a firework that stays, the home, working or root directory or
    one above them, a symlink, or gone. Returns ``(removed, {dir: why kept})``."""
    shared = set()
    if dirs:
        shared = {
            d["launch_dir"]
            for d in lp.store.find_launches(
                {"launch_dir": {"$in": list(dirs)}, "fw_id": {"$nin": list(deleted_fw_ids)}}, ["launch_dir"]
            )
        }
    removed, kept = [], {}
    for path in dirs:
        why = _unsafe_dir(path, shared)
        if why:
            kept[path] = why
            continue
        shutil.rmtree(path)
        removed.append(path)
    return removed, kept


def _unsafe_dir(path, shared):
    if path in shared:
        return "another firework's launch also ran there"
    if not os.path.isabs(path):
        return "not an absolute path"
    if os.path.islink(path) or not os.path.isdir(path):
        return "not a directory (gone, or a symlink)"
    real = os.path.realpath(path)
    for guarded in ("/", os.path.expanduser("~"), os.getcwd()):
        guarded = os.path.realpath(guarded)
        if guarded == real or guarded.startswith(real.rstrip(os.sep) + os.sep):
            return f"it is or holds {guarded}"
    return None


def scripts_workflow(scripts, names=None, wf_name=None):
    """FireWorks' add_scripts: one ScriptTask firework per script, run in a chain."""
    from .models import Firework, Workflow
    from .tasks import ScriptTask

    if not scripts:
        raise InvalidArgumentError("give at least one script, e.g. lpad add_scripts 'echo hi'")
    names = list(names or [])
    if names and len(names) != len(scripts):
        raise InvalidArgumentError(
            f"{len(scripts)} scripts but {len(names)} names (-n): give one name per script, or none"
        )
    names = names or [None] * len(scripts)
    fws = [
        Firework(ScriptTask(script=s, use_shell=True), name=n, fw_id=i)
        for i, (s, n) in enumerate(zip(scripts, names))
    ]
    links = {i: [i + 1] for i in range(len(fws) - 1)}
    return Workflow(fws, links, name=wf_name or names[0])


def workflow_files(paths):
    """``lpad add -d``: the workflow files (.yaml/.yml/.json) directly in each folder, sorted."""
    files = []
    for folder in paths:
        if not os.path.isdir(folder):
            raise InvalidArgumentError(f"{folder}: not a directory (with -d, give folders)")
        files.extend(
            sorted(
                os.path.join(folder, name)
                for name in os.listdir(folder)
                if name.lower().endswith(WORKFLOW_SUFFIXES) and os.path.isfile(os.path.join(folder, name))
            )
        )
    return files


_MONGO_TO_MOD = {
    "$set": "_set",
    "$unset": "_unset",
    "$inc": "_inc",
    "$push": "_push",
    "$pull": "_pull",
    "$pullAll": "_pull_all",
    "$addToSet": "_add_to_set",
    "$pop": "_pop",
    "$rename": "_rename",
}


def mongo_update_to_mods(update):
    """FireWorks' ``update_fws --mongo`` document as mod_spec operations on the spec.

    Only ``spec.`` fields and the operators mod_spec has are allowed: the rest
    of a firework document is the store's, and a raw write could break it.
    """
    if not isinstance(update, dict) or not update:
        raise InvalidArgumentError('--mongo needs an update document, e.g. \'{"$set": {"spec.param": 7}}\'')
    mods = []
    for op, fields in update.items():
        if op not in _MONGO_TO_MOD:
            raise InvalidArgumentError(
                f"--mongo: operator {op!r} is not allowed; use one of {', '.join(_MONGO_TO_MOD)}"
            )
        if not isinstance(fields, dict):
            raise InvalidArgumentError(f"--mongo: {op} takes an object of fields")
        mods.append({_MONGO_TO_MOD[op]: {_spec_path(k): _spec_value(op, v) for k, v in fields.items()}})
    return [_each_to_all(mod) for mod in mods]


def _spec_path(key):
    if not key.startswith("spec.") or key == "spec.":
        raise InvalidArgumentError(
            f"--mongo: {key!r} is outside the spec; only fields starting with 'spec.' may change"
        )
    return key[len("spec.") :]


def _spec_value(op, value):
    return _spec_path(value) if op == "$rename" else value


def _each_to_all(mod):
    """``$push``/``$addToSet`` with ``{"$each": [...]}`` push every item, as MongoDB does."""
    ((op, fields),) = mod.items()
    if op == "_push" and any(isinstance(v, dict) and "$each" in v for v in fields.values()):
        return {
            "_push_all": {
                k: v["$each"] if isinstance(v, dict) and "$each" in v else [v] for k, v in fields.items()
            }
        }
    return mod
