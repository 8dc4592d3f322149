"""User-driven state changes: defuse, pause, reignite, rerun, archive, spec edits.

Plain functions over a store and a clock. Every change asks ``states`` first
and writes with ``expect`` on the old state, so a concurrent rocket cannot be
overwritten silently. Changing a RUNNING firework fences its live launch:
the late result is refused.
"""

import math

from .actions import apply_mod
from .dag import descendants
from .errors import InvalidArgumentError, InvalidTransitionError
from .reads import ARCHIVED_BELOW, children_of, existing_fireworks, workflow_fw_ids
from .states import RERUNNABLE, LaunchState, State, check_transition, is_legal
from .timestamps import timestamp
from .workflow_ops import mongo_update_to_mods

S = State
_DONE = (S.COMPLETED.value,)
TAKEN_KEY = "taken_launches"  # launches a duplicate took over: never fenced for it (duplicates.py)
FENCE_FIELDS = ("fw_id", "state", "waiting_on", "current_launch", TAKEN_KEY)


def ready_or_waiting(doc):
    """The state a firework goes back to: READY unless parents are still unfinished."""
    return S.READY.value if doc.get("waiting_on", 0) <= 0 else S.WAITING.value


def move_fireworks(store, clock, fw_ids, target, strict=True, reset=False):
    """Move fireworks to ``target`` (or READY/WAITING when ``reset``).

    ``strict`` raises on an illegal move (single-firework commands);
    otherwise illegal ones are skipped (whole-workflow commands).
    Returns the ids that changed.
    """
    now, moved = timestamp(clock), []
    with store.transaction():
        # FireWorks archives an ARCHIVED firework's launches (archive_wf reruns it first)
        archived_below = store.next_ids("launch") if target == S.ARCHIVED.value else None
        for doc in existing_fireworks(store, fw_ids, fields=FENCE_FIELDS):
            goal = ready_or_waiting(doc) if reset else target
            if not is_legal(doc["state"], goal):
                if strict:
                    check_transition(doc["fw_id"], doc["state"], goal)
                continue
            changes = {"state": goal, "updated_on": now}
            if archived_below is not None:
                changes[ARCHIVED_BELOW] = archived_below
            if doc["state"] == S.RUNNING.value:
                fence_launch(store, clock, doc)
                changes["current_launch"] = None
            if store.update_fireworks([doc["fw_id"]], changes, expect={"state": doc["state"]}):
                moved.append(doc["fw_id"])
    return moved


def fence_launch(store, clock, doc):
    """Mark the firework's live launch so a late result cannot overwrite the new state.
    A launch a duplicate took over is its first firework's: that one's run goes on."""
    if doc.get("current_launch") is not None and doc["current_launch"] not in (doc.get(TAKEN_KEY) or ()):
        store.update_launch(
            doc["current_launch"],
            {"state": LaunchState.FENCED.value, "time_end": timestamp(clock)},
            expect_state=LaunchState.RUNNING.value,
        )


# -- single fireworks --------------------------------------------------------
def defuse_fw(store, clock, fw_id):
    """Stop a firework (and so its descendants) from running until reignited."""
    return move_fireworks(store, clock, [fw_id], S.DEFUSED.value)


def reignite_fw(store, clock, fw_id):
    return _bring_back(store, clock, fw_id, S.DEFUSED.value)


def pause_fw(store, clock, fw_id):
    return move_fireworks(store, clock, [fw_id], S.PAUSED.value)


def resume_fw(store, clock, fw_id):
    return _bring_back(store, clock, fw_id, S.PAUSED.value)


def _bring_back(store, clock, fw_id, held_state):
    doc = existing_fireworks(store, [fw_id])[0]
    if doc["state"] != held_state:
        raise InvalidTransitionError(f"firework {fw_id} is {doc['state']}, not {held_state}")
    return move_fireworks(store, clock, [fw_id], None, reset=True)


def rerun_fw(store, clock, fw_id):
    """Reset a firework and every descendant; returns the ids reset.

    Children wait again for their parents: each firework's count of
    unfinished parents is recomputed from the parents' states.
    """
    return rerun_fws(store, clock, [fw_id])


def rerun_fws(store, clock, fw_ids):
    """``rerun_fw`` for many fireworks at once (lost runs by the thousand): one walk
    down their descendants and one reset of them all."""
    fw_ids = [int(i) for i in fw_ids]
    for doc in existing_fireworks(store, fw_ids, fields=("fw_id", "state")):
        if doc["state"] not in RERUNNABLE:
            raise InvalidTransitionError(f"firework {doc['fw_id']} is {doc['state']}; it cannot be rerun")
    targets = set(fw_ids) | descendants(fw_ids, lambda ids: children_of(store, ids))
    return reset_fireworks(store, clock, targets)


def reset_fireworks(store, clock, targets):
    """Put ``targets`` back to READY/WAITING, fencing live launches; ARCHIVED stay."""
    now, changed = timestamp(clock), []
    docs = store.get_fireworks(
        sorted(targets), fields=["fw_id", "state", "parents", "current_launch", "spec", TAKEN_KEY]
    )
    outside = {p for d in docs for p in d["parents"]} - targets
    parent_state = {d["fw_id"]: d["state"] for d in store.get_fireworks(outside, ["fw_id", "state"])}
    groups = {}  # one update per (state, waiting_on): thousands of fireworks in a few statements
    with store.transaction():
        archived_below = store.next_ids("launch")  # FireWorks archives the launches a rerun resets
        for d in docs:
            if d["state"] == S.ARCHIVED.value:
                continue
            waiting = sum(
                1 for p in d["parents"] if p in targets or not _parent_done(parent_state.get(p), d["spec"])
            )
            goal = S.READY.value if waiting == 0 else S.WAITING.value
            if d["state"] == S.RUNNING.value:
                fence_launch(store, clock, d)
            groups.setdefault((goal, waiting), []).append(d["fw_id"])
            changed.append(d["fw_id"])
        for (goal, waiting), ids in groups.items():
            store.update_fireworks(
                ids,
                {
                    "state": goal,
                    "waiting_on": waiting,
                    "current_launch": None,
                    "updated_on": now,
                    ARCHIVED_BELOW: archived_below,
                },
            )
    return changed


def update_spec(store, clock, fw_ids, updates, mongo=False):
    """Merge ``updates`` into each firework's spec (dotted keys reach inside).
    ``mongo``: ``updates`` is a MongoDB update document (FireWorks' option),
    limited to the spec and to operators FWAction's mod_spec also has."""
    mods = mongo_update_to_mods(updates) if mongo else [{"_set": updates}]
    with store.transaction():
        docs = existing_fireworks(store, fw_ids, fields=("fw_id", "spec"))
        for d in docs:
            spec = d["spec"]
            for mod in mods:
                spec = apply_mod(spec, mod)
            store.update_fireworks([d["fw_id"]], {"spec": spec, "updated_on": timestamp(clock)})
    return [d["fw_id"] for d in docs]


def set_priority(store, clock, fw_id, priority):
    if isinstance(priority, bool) or not isinstance(priority, (int, float)) or not math.isfinite(priority):
        raise InvalidArgumentError(f"priority must be a finite number, got {priority!r}")
    return update_spec(store, clock, [fw_id], {"_priority": priority})


# -- whole workflows (identified by any of their fireworks, as in FireWorks) ---
def defuse_wf(store, clock, fw_id, defuse_all_states=False):
    """``defuse_all_states`` (FireWorks' option): COMPLETED fireworks too, reset
    first with their descendants, and FIZZLED ones, as FireWorks does."""
    ids = workflow_fw_ids(store, fw_id)
    if defuse_all_states:
        for doc in store.get_fireworks(ids, ["fw_id", "state"]):
            if doc["state"] == S.COMPLETED.value:
                rerun_fw(store, clock, doc["fw_id"])
    else:  # as FireWorks: the finished ones, COMPLETED or FIZZLED, stay as they are
        ids = [
            d["fw_id"] for d in store.get_fireworks(ids, ["fw_id", "state"]) if d["state"] != S.FIZZLED.value
        ]
    return move_fireworks(store, clock, ids, S.DEFUSED.value, strict=False)


def pause_wf(store, clock, fw_id):
    held = (S.WAITING.value, S.READY.value, S.RESERVED.value)
    return move_fireworks(store, clock, _in_states(store, fw_id, held), S.PAUSED.value, strict=False)


def reignite_wf(store, clock, fw_id):
    """Bring back every DEFUSED or PAUSED firework of the workflow."""
    held = (S.DEFUSED.value, S.PAUSED.value)
    return move_fireworks(store, clock, _in_states(store, fw_id, held), None, strict=False, reset=True)


def archive_wf(store, clock, fw_id):
    return move_fireworks(store, clock, workflow_fw_ids(store, fw_id), S.ARCHIVED.value, strict=False)


def _in_states(store, fw_id, states):
    """The ids of the workflow's fireworks in ``states``."""
    return [
        d["fw_id"]
        for d in store.get_fireworks(workflow_fw_ids(store, fw_id), ["fw_id", "state"])
        if d["state"] in states
    ]


def _parent_done(parent_state, child_spec):
    if parent_state in _DONE:
        return True
    return parent_state == S.FIZZLED.value and bool(child_spec.get("_allow_fizzled_parents"))
