"""Which actions the GUI offers, how many fireworks each would change, and applying them.

The states each command accepts come from ``launchpad.states`` (the one
table); this module only counts what a command would touch, so the page can
ask "Rerun firework 12 and its 40 descendants?" before it posts. The
LaunchPad re-checks every change when it is applied.
"""

from launchpad.dag import descendants
from launchpad.errors import InvalidArgumentError, InvalidTransitionError, NotFoundError
from launchpad.states import COMMAND_SOURCES, DEFUSABLE, PAUSABLE, State, commands_from, sources_of

S = State
MAX_SELECTION = 5000

# One firework: action -> (label, LaunchPad method). ``priority`` is not a state change.
FIREWORK_ACTIONS = {
    "rerun": ("Rerun", "rerun_fw"),
    "defuse": ("Defuse", "defuse_fw"),
    "reignite": ("Reignite", "reignite_fw"),
    "pause": ("Pause", "pause_fw"),
    "resume": ("Resume", "resume_fw"),
    "priority": ("Set priority", "set_priority"),
}
# A whole workflow: action -> (label, LaunchPad method, the states of the fireworks it changes).
WORKFLOW_ACTIONS = {
    "pause": ("Pause workflow", "pause_wf", PAUSABLE),
    "resume": (
        "Resume workflow",
        "reignite_wf",
        tuple(COMMAND_SOURCES["reignite"]) + tuple(COMMAND_SOURCES["resume"]),
    ),
    "defuse": ("Defuse workflow", "defuse_wf", DEFUSABLE),
    "archive": ("Archive workflow", "archive_wf", sources_of(S.ARCHIVED)),
    "delete": ("Delete workflow", "delete_wf", None),  # every firework, whatever its state
}
# Actions that ask before they act even when they change one firework.
ALWAYS_CONFIRM = {"archive", "delete"}


def legal_actions(state):
    """The single-firework actions offered for a firework in ``state``."""
    legal = commands_from(state)
    return legal + (["priority"] if state != S.ARCHIVED.value else [])


def check_legal(fw_id, state, action):
    """Refuse, with the actions that would work, an action the state does not allow."""
    if action not in FIREWORK_ACTIONS:
        raise InvalidArgumentError(f"unknown action {action!r:.40}; use one of {', '.join(FIREWORK_ACTIONS)}")
    legal = legal_actions(state)
    if action not in legal:
        allowed = ", ".join(legal) or "none"
        raise InvalidTransitionError(
            f"firework {fw_id} is {state}: {action} is not possible (possible: {allowed})"
        )


def _workflow_docs(lp, wf_id, cache=None):
    """The workflow's fireworks (id, state, children), read once per ``cache``; from plain
    pairs, which at 10,000 fireworks cost a third of documents with their children."""
    cache = {} if cache is None else cache
    if wf_id not in cache:
        children = {}
        for parent, child in lp.get_wf_links(wf_id):
            children.setdefault(parent, []).append(child)
        cache[wf_id] = [
            {"fw_id": fw_id, "state": state, "children": children.get(fw_id, [])}
            for fw_id, state in lp.get_wf_fw_states(wf_id)
        ]
    return cache[wf_id]


def _changed_by(action, chosen, docs):
    """Ids ``action`` on the fireworks ``chosen`` would change, read from the workflow's docs."""
    by_id = {d["fw_id"]: d for d in docs}
    legal = [i for i in chosen if action in legal_actions(by_id[i]["state"])]
    if action != "rerun":
        return legal
    links = {d["fw_id"]: d.get("children") or [] for d in docs}
    reached = set(legal) | descendants(legal, lambda ids: {i: links.get(i, []) for i in ids})
    return [i for i in sorted(reached) if by_id.get(i, {}).get("state") != S.ARCHIVED.value]


def _describe(label, changes, chosen, extra=""):
    what = f"{changes} firework{'' if changes == 1 else 's'}"
    target = "this firework" if chosen == 1 else f"the {chosen} chosen fireworks"
    return f"{label} {target}? This changes {what}{extra}."


def plan(lp, action, fw_ids):
    """What ``action`` on ``fw_ids`` (one workflow or several) would do, without doing it."""
    if action not in FIREWORK_ACTIONS:
        raise InvalidArgumentError(f"unknown action {action!r:.40}; use one of {', '.join(FIREWORK_ACTIONS)}")
    docs = lp.get_fws({"fw_id": {"$in": list(fw_ids)}}, fields=["fw_id", "wf_id", "state"])
    found = {d["fw_id"]: d for d in docs}
    missing = [i for i in fw_ids if i not in found]
    if missing:
        raise NotFoundError(f"no firework with id {', '.join(map(str, missing[:10]))}")
    changed, refused, cache = [], [], {}
    for wf_id in sorted({d["wf_id"] for d in docs}):
        wf_docs = _workflow_docs(lp, wf_id, cache)
        mine = [i for i in fw_ids if found[i]["wf_id"] == wf_id]
        changed += _changed_by(action, mine, wf_docs)
    for i in fw_ids:
        if action not in legal_actions(found[i]["state"]):
            refused.append({"fw_id": i, "state": found[i]["state"]})
    label = FIREWORK_ACTIONS[action][0]
    extra = ""
    if action == "rerun":
        below = len(changed) - len(fw_ids) + len(refused)
        whose = "it and its" if len(fw_ids) == 1 else "them and their"
        extra = f": {whose} {below} descendant{'' if below == 1 else 's'}"
        extra = extra if below > 0 else ""
    if action == "defuse":
        kept = [i for i in fw_ids if i not in {r["fw_id"] for r in refused}]
        blocked = _blocked_below(lp, kept, found, cache)
        extra = (
            f"; {blocked} descendant{'' if blocked == 1 else 's'} cannot run until reignited"
            if blocked
            else ""
        )
    return {
        "action": action,
        "label": label,
        "fw_ids": list(fw_ids),
        "changes": len(changed),
        "changed": changed[:MAX_SELECTION],
        "refused": refused,
        "confirm": _describe(label, len(changed), len(fw_ids), extra),
        "needs_confirm": len(changed) > 1 or bool(extra) or len(fw_ids) > 1,
    }


def _blocked_below(lp, fw_ids, found, cache):
    """Descendants of ``fw_ids`` (outside them) that a defuse would hold back."""
    blocked = set()
    for wf_id in sorted({found[i]["wf_id"] for i in fw_ids}):
        links = {d["fw_id"]: d.get("children") or [] for d in _workflow_docs(lp, wf_id, cache)}
        mine = [i for i in fw_ids if found[i]["wf_id"] == wf_id]
        blocked |= descendants(mine, lambda ids, links=links: {i: links.get(i, []) for i in ids})
    return len(blocked - set(fw_ids))


def workflow_plan(lp, wf_id, action, state=None, cache=None):
    """What a bulk ``action`` over workflow ``wf_id`` would change.

    ``rerun`` takes the fireworks in ``state`` (e.g. every FIZZLED one, with
    their descendants); the others are the LaunchPad's whole-workflow commands.
    """
    docs = _workflow_docs(lp, wf_id, cache)
    if not docs:
        raise NotFoundError(f"no workflow with id {wf_id}")
    if action == "rerun":
        if not state:
            raise InvalidArgumentError("rerun over a workflow needs a state (e.g. FIZZLED)")
        chosen = [d["fw_id"] for d in docs if d["state"] == state]
        changed = _changed_by("rerun", chosen, docs)
        label = f"Rerun every {state} firework"
        text = (
            f"Rerun the {len(chosen)} {state} fireworks of workflow {wf_id}? "
            f"This changes {len(changed)} firework{'' if len(changed) == 1 else 's'} "
            "(with their descendants)."
        )
        return {
            "action": action,
            "state": state,
            "label": label,
            "fw_ids": chosen,
            "changes": len(changed),
            "confirm": text,
            "needs_confirm": True,
        }
    if action not in WORKFLOW_ACTIONS:
        raise InvalidArgumentError(
            f"unknown workflow action {action!r:.40}; use rerun or one of {', '.join(WORKFLOW_ACTIONS)}"
        )
    label, _, sources = WORKFLOW_ACTIONS[action]
    changed = [d["fw_id"] for d in docs if sources is None or d["state"] in sources]
    what = f"{len(changed)} of its {len(docs)} firework{'' if len(docs) == 1 else 's'}"
    verb = "deletes all" if action == "delete" else "changes"
    if action == "delete":
        what = f"{len(docs)} firework{'' if len(docs) == 1 else 's'} and their launches"
    return {
        "action": action,
        "label": label,
        "fw_ids": changed,
        "changes": len(changed),
        "confirm": f"{label} {wf_id}? This {verb} {what}.",
        "needs_confirm": True,
    }


def shown(planned, limit=100):
    """A plan as the API returns it: its id lists cut to ``limit`` (the counts stay whole)."""
    return {k: v[:limit] if k in ("fw_ids", "changed") else v for k, v in planned.items()}


def workflow_actions(lp, wf_id, filtered=None):
    """Every bulk action with its count, for the workflow page (those changing nothing left out).

    Rerun takes every FIZZLED firework, and those in ``filtered`` too (the
    state the page's table is filtered by) when a rerun is legal for it.
    """
    cache = {}
    docs = _workflow_docs(lp, wf_id, cache)
    counts = {}
    for d in docs:
        counts[d["state"]] = counts.get(d["state"], 0) + 1
    offered = []
    for state in dict.fromkeys([S.FIZZLED.value, filtered]):
        if state and counts.get(state) and "rerun" in legal_actions(state):
            offered.append(workflow_plan(lp, wf_id, "rerun", state, cache))
    for action in WORKFLOW_ACTIONS:
        planned = workflow_plan(lp, wf_id, action, cache=cache)
        if planned["changes"]:
            offered.append(planned)
    return offered


def firework_actions(lp, fw_id):
    """The firework page's buttons: the actions legal in its state, then its workflow's.

    Counts come later, from ``plan``/``workflow_plan``, when a button is pressed.
    """
    doc = lp.get_fws({"fw_id": fw_id}, fields=["fw_id", "wf_id", "state"])
    if not doc:
        raise NotFoundError(f"no firework with id {fw_id}")
    state, wf_id = doc[0]["state"], doc[0]["wf_id"]
    single = [{"action": a, "label": FIREWORK_ACTIONS[a][0]} for a in legal_actions(state)]
    whole = [{"action": a, "label": WORKFLOW_ACTIONS[a][0]} for a in ("archive", "delete")]
    if state == S.ARCHIVED.value:
        whole = whole[1:]
    return {"fw_id": fw_id, "wf_id": wf_id, "state": state, "actions": single, "workflow": whole}


def apply(lp, action, fw_id, priority=None):
    """One action on one firework, refused up front when its state does not allow it."""
    docs = lp.get_fws({"fw_id": fw_id}, fields=["fw_id", "state"])
    if not docs:
        raise NotFoundError(f"no firework with id {fw_id}")
    check_legal(fw_id, docs[0]["state"], action)
    method = getattr(lp, FIREWORK_ACTIONS[action][1])
    return method(fw_id, priority) if action == "priority" else method(fw_id)


def apply_to_workflow(lp, wf_id, action, state=None):
    """A bulk action over workflow ``wf_id``; returns the ids changed (or deleted)."""
    planned = workflow_plan(lp, wf_id, action, state)
    if not planned["fw_ids"]:
        raise InvalidTransitionError(
            f"{planned['label'].lower()}: no firework of workflow {wf_id} can change"
        )
    if action == "rerun":
        changed = set()
        for fw_id in planned["fw_ids"]:
            changed.update(lp.rerun_fw(fw_id) or [])
        return sorted(changed)
    method = getattr(lp, WORKFLOW_ACTIONS[action][1])
    result = method(planned["fw_ids"][0])
    return planned["fw_ids"] if action == "delete" else sorted(result or [])
