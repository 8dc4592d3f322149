"""Editing a Workflow in memory, as FireWorks' ``Workflow`` allows: append,
refresh states from launches, remove fireworks.

Functions over a Workflow object (``Workflow.append_wf``/``refresh``/
``remove_fws`` call them), apart from ``models`` so that the models stay plain
data and under the size budget; they use only the objects they are given.
"""

from .dag import check_acyclic
from .errors import InvalidWorkflowError
from .serializable import utcnow as _now
from .spec_mods import apply_action_to_spec
from .states import LaunchState, State

WAITING = State.WAITING.value


def append_wf(wf, new_wf, fw_ids, detour=False, pull_spec_mods=False):
    """Add ``new_wf`` as a child of each of ``fw_ids`` (FireWorks' rules: the new
    fireworks need negative ids; a detour also gets the parents' children, which
    must not have started). Returns the ids that changed."""
    detours = _detours(detour, fw_ids)
    for fw_id, det in zip(fw_ids, detours):
        started = [
            c for c in wf.links.get(fw_id, []) if c >= 0 and wf.id_fw[c].STATE_RANKS[wf.id_fw[c].state] > 1
        ]
        if det and started:
            raise InvalidWorkflowError(
                f"firework {fw_id}: a detour needs children that have not been readied or run; {started} have"
            )
    for fw in new_wf:
        if fw.fw_id >= 0 or fw.fw_id in wf.id_fw:
            raise InvalidWorkflowError(
                f"fireworks appended to a workflow need new negative ids; got {fw.fw_id}"
            )
    roots, leaves = new_wf.root_fw_ids, set(new_wf.leaf_fw_ids)
    for fw in new_wf:
        wf.id_fw[fw.fw_id] = fw
        kids = list(new_wf.links[fw.fw_id])
        if fw.fw_id in leaves:
            for fw_id, det in zip(fw_ids, detours):
                kids += [c for c in wf.links[fw_id] if c >= 0] if det else []
        wf.links[fw.fw_id] = kids
        fw.state = WAITING
    for fw_id in fw_ids:
        wf.links[fw_id].extend(roots)
        if pull_spec_mods:
            _pull_spec_mods(wf, fw_id, [new_wf.id_fw[r] for r in roots])
    check_acyclic(wf.links)
    updated = {fw.fw_id for fw in new_wf}
    for fw in new_wf:
        updated = refresh(wf, fw.fw_id, updated)
    return sorted(updated)


def _pull_spec_mods(wf, fw_id, roots):
    launch = representative_launch(wf.id_fw[fw_id])
    if launch is None or launch.state != LaunchState.COMPLETED.value or launch.action is None:
        return
    for fw in roots:
        fw.spec = apply_action_to_spec(fw.spec, launch.action)


def refresh(wf, fw_id, updated_ids=None):
    """Recompute ``fw_id``'s state from its parents and launches, then its
    children's if it finished; returns the set of ids whose state changed.
    (A COMPLETED launch's FWAction is not applied here: the LaunchPad applies
    it when the launch completes.)"""
    updated = set(updated_ids or ())
    todo = [fw_id]
    while todo:
        fw = wf.id_fw[todo.pop()]
        before, after = fw.state, _state_from_parents(wf, fw)
        if after == before:
            continue
        fw.state = after
        updated.add(fw.fw_id)
        if after in (State.COMPLETED.value, State.FIZZLED.value):
            todo.extend(wf.links[fw.fw_id])
    wf.updated_on = _now()
    return updated


def _state_from_parents(wf, fw):
    if fw.state in (State.DEFUSED.value, State.ARCHIVED.value, State.PAUSED.value):
        return fw.state
    done = {State.COMPLETED.value}
    if fw.spec.get("_allow_fizzled_parents"):
        done.add(State.FIZZLED.value)
    parents = wf.links.parent_links.get(fw.fw_id, [])
    if any(wf.id_fw[p].state not in done for p in parents):
        return WAITING
    launch = representative_launch(fw)
    return launch.state if launch is not None else State.READY.value


def remove_fws(wf, fw_ids):
    """Remove fireworks; each one's parents adopt those of its children that had no
    other parent (FireWorks' rule)."""
    gone = set(fw_ids)
    parents_of = wf.links.parent_links
    links = type(wf.links)({p: list(kids) for p, kids in wf.links.items()})
    for fw_id in fw_ids:
        children = links.pop(fw_id, [])
        for parent in parents_of.get(fw_id, []):
            if parent in links:
                links[parent].remove(fw_id)
                links[parent] += [c for c in children if len(parents_of.get(c, [])) == 1]
    if not wf.id_fw.keys() - gone:
        raise InvalidWorkflowError("removing these fireworks would leave an empty workflow")
    wf.id_fw = {i: fw for i, fw in wf.id_fw.items() if i not in gone}
    wf.links = type(links)({p: [c for c in kids if c not in gone] for p, kids in links.items()})


def _detours(detour, fw_ids):
    if isinstance(detour, bool):
        return [detour] * len(fw_ids)
    if not isinstance(detour, (list, tuple)):
        raise TypeError("detour must be a bool or a list of bools")
    if len(detour) != len(fw_ids):
        raise InvalidWorkflowError("detour needs one bool per parent id")
    return list(detour)


def representative_launch(fw):
    """The launch that speaks for ``fw`` (FireWorks' rule): the highest-ranked state,
    and among COMPLETED ones the one that ended last."""
    best, rank, completed = None, fw.STATE_RANKS[State.ARCHIVED.value], []
    for launch in fw.launches:
        if isinstance(launch, int):  # a bare launch id (a store document's), no object
            continue
        score = fw.STATE_RANKS.get(launch.state, rank)
        if score > rank:
            best, rank = launch, score
            if launch.state == LaunchState.COMPLETED.value:
                completed.append(launch)
    if completed:
        return max(completed, key=lambda x: x.time_end or x.time_start or _now())
    return best
