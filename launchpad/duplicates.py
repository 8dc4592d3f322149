"""Duplicate detection at checkout: a firework that duplicates one that ran takes that run over.

FireWorks' rule (its LaunchPad's ``_check_fw_for_uniqueness``): when a
firework whose spec has a ``_dupefinder`` is checked out, the fireworks its
finder's ``query(spec)`` selects, and ``verify`` accepts if the finder
defines it, are its duplicates. If one of them has a run (its current launch,
RUNNING, COMPLETED or FIZZLED) that this firework has not taken before, the
firework runs nothing: it takes that launch over (``taken_launches``; the
launch stays its first firework's), gets its state, and when that state is
COMPLETED its children are released with the launch's FWAction applied, as if
it had run. One that takes over a RUNNING launch follows it when it ends.
A rerun forgets nothing of this: a firework rerun alone keeps the launches it
took, so it really runs next time; ``rerun_duplicates`` reruns every firework
that shares the launch.
"""

import logging

from . import transitions
from .actions import FWAction
from .dupefinder import dupefinder_of
from .dynamics import apply_action, plan_action, release_after_fizzle
from .query import check_safe
from .states import LaunchState, State
from .timestamps import timestamp

log = logging.getLogger("starshell.duplicates")
S = State
TAKEN_KEY = "taken_launches"  # on the firework: launches it took over from a duplicate
TAKEN_STATES = (LaunchState.RUNNING.value, LaunchState.COMPLETED.value, LaunchState.FIZZLED.value)
FW_FIELDS = ["fw_id", "wf_id", "name", "children", "spec", "current_launch", TAKEN_KEY]


def duplicate_launch(store, fw):
    """The launch of a duplicate of ``fw`` that it may take over, or None (also without a
    ``_dupefinder``, at the cost of one dict lookup)."""
    if "_dupefinder" not in (fw.get("spec") or {}):
        return None
    finder = dupefinder_of(fw["spec"])
    query = finder.query(dict(fw["spec"]))
    check_safe(query, "the _dupefinder's query")
    taken = set(fw.get(TAKEN_KEY) or [])
    verify = _verifier(finder)
    candidates = store.find_fireworks(
        {"$and": [query, {"fw_id": {"$ne": fw["fw_id"]}}]},
        ["fw_id", "spec", "current_launch"],
        sort=[("fw_id", 1)],
    )
    for other in candidates:
        launch_id = other.get("current_launch")
        if launch_id is None or launch_id in taken:
            continue
        if verify and not verify(dict(fw["spec"]), dict(other["spec"])):
            continue
        launch = store.get_launch(launch_id)
        if launch is not None and launch["state"] in TAKEN_STATES:
            log.info(
                "firework %s duplicates firework %s: it takes over launch %s",
                fw["fw_id"],
                other["fw_id"],
                launch_id,
            )
            return launch
    return None


def _verifier(finder):
    """``finder.verify`` when the finder defines it; None when every query match counts
    (FireWorks tries ``verify({}, {})``: NotImplementedError means not defined)."""
    try:
        finder.verify({}, {})
    except NotImplementedError:
        return None
    except Exception:  # noqa: BLE001 - a verify made for real specs may fail on empty ones: it is defined
        pass
    return finder.verify


def took_over(store, clock, opened, fw, claimed_launch):
    """Right after ``fw`` was claimed RUNNING on ``claimed_launch``: whether it duplicates a
    firework that has run and took that run over instead (the claimed launch is then
    deleted: it never ran). A firework with a ``_dupefinder`` that runs is marked in
    ``opened``, so its completion looks for fireworks that follow its launch."""
    if "_dupefinder" not in (fw.get("spec") or {}):
        return False
    with store.transaction():
        launch = duplicate_launch(store, fw)
        if launch is None:
            opened.get(claimed_launch, {})["dupefinder"] = True
            return False
        now = timestamp(clock)
        changed = store.update_fireworks(
            [fw["fw_id"]],
            {
                "state": launch["state"],
                "current_launch": launch["launch_id"],
                TAKEN_KEY: list(fw.get(TAKEN_KEY) or []) + [launch["launch_id"]],
                "updated_on": now,
            },
            expect={"state": S.RUNNING.value, "current_launch": claimed_launch},
        )
        if not changed:  # moved on meanwhile (rerun, defused): its own launch says so
            return False
        store.delete_launches([claimed_launch])
        opened.pop(claimed_launch, None)
        full = store.get_firework(fw["fw_id"], fields=FW_FIELDS)  # a claim may leave out children
        settle(store, clock, full, launch["state"], launch.get("action"), now)
    return True


def follow_launch(store, clock, fw, launch_id, state, action, now):
    """The fireworks that took over ``launch_id`` while it ran get its end: its state and,
    when COMPLETED, its action applied to their own children. A launch handed back
    (requeued) hands them back too: they will look for a duplicate again or run."""
    if "_dupefinder" not in (fw.get("spec") or {}):
        return []
    followers = store.find_fireworks(
        {"current_launch": launch_id, "state": S.RUNNING.value, "fw_id": {"$ne": fw["fw_id"]}}, FW_FIELDS
    )
    done = []
    for other in followers:
        goal = state if state in (S.COMPLETED.value, S.FIZZLED.value) else S.READY.value
        changes = {"state": goal, "updated_on": now}
        if goal == S.READY.value:
            changes["current_launch"] = None
        if store.update_fireworks(
            [other["fw_id"]], changes, expect={"state": S.RUNNING.value, "current_launch": launch_id}
        ):
            settle(store, clock, other, goal, action, now)
            done.append(other["fw_id"])
    return done


def sharing_launch(store, fw_id):
    """FireWorks' duplicates of a firework for ``rerun_duplicates``: the other fireworks
    whose current launch is its current launch (only for a spec with ``_dupefinder``)."""
    doc = store.get_firework(int(fw_id), fields=["fw_id", "spec", "current_launch"])
    if not doc or doc.get("current_launch") is None or "_dupefinder" not in (doc.get("spec") or {}):
        return []
    others = store.find_fireworks({"current_launch": doc["current_launch"]}, ["fw_id"], sort=[("fw_id", 1)])
    return [d["fw_id"] for d in others if d["fw_id"] != doc["fw_id"]]


def settle(store, clock, fw, state, action, now):
    """What a firework's finished launch means for it, once its state is set: a COMPLETED
    one's action applied and children released, a FIZZLED one's fizzle-accepting children."""
    if state == S.COMPLETED.value:
        action = action if isinstance(action, FWAction) else FWAction.from_dict(action or {})
        apply_action(store, clock, fw, action, now, plan_action(store, fw, action))
    elif state == S.FIZZLED.value:
        release_after_fizzle(store, fw, now)


def defuse_fw(store, clock, fw_id, rerun_duplicates=True):
    """FireWorks' ``defuse_fw(fw_id, rerun_duplicates)``: defuse it, and rerun the fireworks
    that shared its run, which would otherwise stand on a run withdrawn (a fenced or
    failed launch)."""
    others = sharing_launch(store, fw_id) if rerun_duplicates else []
    doc = store.get_firework(int(fw_id), fields=["state"])
    if doc is not None and doc["state"] == S.COMPLETED.value:  # as FireWorks: rerun, then defuse
        transitions.rerun_fw(store, clock, fw_id)
    changed = transitions.defuse_fw(store, clock, fw_id)
    for other in others:
        transitions.rerun_fw(store, clock, other)
    return changed
