"""The workflow graph the page draws: laid-out nodes, groups, links, and search.

One read of the workflow's fireworks (id, name, state, children), laid out
by ``layout``; groups carry their counts by state so a collapsed layer
still says what it holds.
"""

import re
import threading
from collections import Counter, OrderedDict

from launchpad.errors import InvalidQueryError

from .data import full_counts, workflow_summary
from .layout import layout

MAX_PARAM_IDS = 200  # expanded layers or pinned ids one request may name
MAX_PARAM_SPAN = 20000  # ... and the numbers their ranges may cover
FIND_LIMIT = 20
LIVE_STATES_LIMIT = 2000  # past this, a refresh sends counts and the page redraws on change


def id_list(raw, name):
    """``"1,2,5-7"`` -> ``[1, 2, 5, 6, 7]``; refuses anything but a short list of whole numbers."""
    parts = [p.strip() for p in (raw or "").split(",") if p.strip()]
    out = []
    for part in parts[: MAX_PARAM_IDS + 1]:
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            out = None
            break
        out.extend(range(int(low), int(high or low) + 1))
    if out is None or len(parts) > MAX_PARAM_IDS or len(out) > MAX_PARAM_SPAN:
        raise InvalidQueryError(
            f"{name} must be up to {MAX_PARAM_IDS} comma-separated whole numbers or ranges (3-7)"
        )
    return out


def too_large(info, limit):
    return {
        "wf_id": info["wf_id"],
        "too_large": True,
        "limit": limit,
        "nodes": [],
        "groups": [],
        "edges": [],
        "states": info["states"],
        "total": info["nodes"],
    }


class LayoutCache:
    """The layouts of the last few graphs drawn, by workflow, its firework ids, expanded
    layers and pinned ids. A workflow's links change only when fireworks are added or
    deleted, which changes its ids; so a 10,000-firework graph asked again (a reload, a
    redraw as its counts move) reads names and states (~30 ms) instead of also its links
    and a new layout (~150 ms more)."""

    def __init__(self, size=16):
        self.size, self.kept, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key, make):
        with self.lock:
            placed = self.kept.get(key)
            if placed is not None:
                self.kept.move_to_end(key)
                return placed
        placed = make()
        with self.lock:
            self.kept[key] = placed
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)
        return placed


def workflow_graph(lp, wf_id, limit, expanded=(), pinned=(), layouts=None):
    """The drawable graph of a workflow, dense layers grouped (``too_large`` past ``limit``);
    ``layouts``: a ``LayoutCache`` to keep layouts in.

    Reads plain ``(fw_id, state)`` and ``(parent, child)`` pairs, and names only for the
    fireworks drawn singly: at 10,000 fireworks a dict per firework cost more than the reads."""
    info = workflow_summary(lp, wf_id)
    if info["nodes"] > limit:
        return too_large(info, limit)
    state_of = dict(lp.get_wf_fw_states(wf_id))
    ids = tuple(state_of)  # by id

    def laid_out():
        links = {fw_id: [] for fw_id in ids}
        for parent, child in lp.get_wf_links(wf_id):
            # fireworks added or deleted between the two reads: drawn next time
            if child in state_of and parent in state_of:
                links[parent].append(child)
        return layout(links, expanded, pinned)

    key = (wf_id, len(ids), hash(ids), tuple(sorted(set(expanded))), tuple(sorted(set(pinned))))
    placed = layouts.get(key, laid_out) if layouts is not None else laid_out()
    drawn = list(placed["nodes"])
    names = {
        d["fw_id"]: d.get("name")
        for d in (
            lp.get_fws({"wf_id": wf_id, "fw_id": {"$in": drawn}}, fields=["fw_id", "name"]) if drawn else ()
        )
    }
    nodes = [
        {"fw_id": fw_id, "name": names.get(fw_id), "state": state_of[fw_id], **spot}
        for fw_id, spot in placed["nodes"].items()
    ]
    groups = []
    for group in placed["groups"]:
        counts = Counter(map(state_of.__getitem__, group["members"]))
        size = placed["layers"][group["layer"]]["size"]
        groups.append(
            {
                "key": group["key"],
                "layer": group["layer"],
                "last_layer": group["last_layer"],
                "count": len(group["members"]),
                "states": {s: n for s, n in full_counts(counts).items() if n},
                "expandable": group["layer"] not in set(expanded),
                "layer_size": size,
                "x": group["x"],
                "y": group["y"],
                "height": group["height"],
            }
        )
    return {
        "wf_id": wf_id,
        "too_large": False,
        "limit": limit,
        "nodes": nodes,
        "groups": groups,
        "edges": placed["edges"],
        "edges_hidden": placed["edges_hidden"],
        "layers": placed["layers"],
        "expanded": sorted(set(expanded)),
        "states": info["states"],
        "total": len(ids),
        "width": placed["width"],
        "height": placed["height"],
        "node_width": placed["node_width"],
        "node_height": placed["node_height"],
    }


def find_fireworks(lp, wf_id, text, limit=FIND_LIMIT):
    """Fireworks of the workflow whose id is ``text`` or whose name contains it."""
    workflow_summary(lp, wf_id)  # NotFoundError for an unknown workflow
    text = (text or "").strip()
    if not text:
        return []
    fields = ["fw_id", "name", "state"]
    found = []
    if text.lstrip("#").isdigit():
        found = lp.get_fws({"wf_id": wf_id, "fw_id": int(text.lstrip("#"))}, fields=fields)
    pattern = {"$regex": re.escape(text), "$options": "i"}
    named = lp.get_fws({"wf_id": wf_id, "name": pattern}, fields=fields, sort=[("fw_id", 1)], limit=limit)
    seen = {d["fw_id"] for d in found}
    return (found + [d for d in named if d["fw_id"] not in seen])[:limit]
