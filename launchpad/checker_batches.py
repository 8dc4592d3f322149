"""The store as ``lpad admin check`` reads it: in bounded batches, not all at once.

A million fireworks read at once took 2.4 GB; read a batch of whole workflows at
a time (about ``size`` fireworks, never splitting a workflow: a cycle is a
property of the whole), then the launches a page at a time, memory stays flat in
the number of workflows. A batch covers a range of workflow ids, so the fireworks
of a workflow that does not exist still fall into exactly one batch; a link to a
firework outside the batch is looked up by id.
"""

from .states import State

S = State
PENDING = (S.WAITING.value, S.READY.value, S.RESERVED.value, S.RUNNING.value, S.PAUSED.value)
LIVE = (S.RUNNING.value, S.RESERVED.value)
FW_FIELDS = [
    "fw_id",
    "wf_id",
    "name",
    "state",
    "parents",
    "children",
    "waiting_on",
    "current_launch",
    "created_on",
    "updated_on",
    "spec._allow_fizzled_parents",
    "taken_launches",
]
LINK_FIELDS = ["fw_id", "wf_id", "state", "parents", "children"]
LAUNCH_FIELDS = ["launch_id", "fw_id", "state", "last_ping", "time_start"]
DEFAULT_BATCH = 5_000
WORKFLOW_PAGE = 1_000


def _with_links(docs):
    for doc in docs:
        doc.setdefault("parents", [])
        doc.setdefault("children", [])
    return {doc["fw_id"]: doc for doc in docs}


class Batch:
    """Some whole workflows, their fireworks, the fireworks they link to elsewhere, and
    the launches their RUNNING and RESERVED fireworks point to."""

    def __init__(self, store, workflows, low, high):
        self.workflows = {d["wf_id"]: d for d in workflows}
        bounds = {**({"$gt": low} if low is not None else {}), **({"$lte": high} if high is not None else {})}
        query = {"wf_id": bounds} if bounds else None
        self.fws = _with_links(store.find_fireworks(query, fields=FW_FIELDS, sort=[("fw_id", 1)]))
        self.members = {}
        for fw in self.fws.values():
            self.members.setdefault(fw["wf_id"], []).append(fw["fw_id"])
        linked = {i for fw in self.fws.values() for i in fw["parents"] + fw["children"]}
        outside = sorted(linked - set(self.fws))
        self.others = _with_links(store.get_fireworks(outside, fields=LINK_FIELDS)) if outside else {}
        current = sorted({fw["current_launch"] for fw in self.fws.values() if fw["state"] in LIVE} - {None})
        found = store.find_launches({"launch_id": {"$in": current}}, fields=LAUNCH_FIELDS) if current else []
        self.launches = {d["launch_id"]: d for d in found}

    def firework(self, fw_id):
        """A firework of this batch, or one a link of it leads to (None: there is none)."""
        return self.fws.get(fw_id) or self.others.get(fw_id)

    def unfinished_parents(self, fw, lenient=False):
        """Parents that still hold ``fw`` back (``None`` when an ARCHIVED one hides the truth).

        ``lenient`` (for fireworks that already ran) accepts any parent that is
        no longer pending when ``fw`` allows fizzled parents: a FIZZLED parent
        may have been defused since.
        """
        allow = bool((fw.get("spec") or {}).get("_allow_fizzled_parents"))
        out = []
        for p in fw["parents"]:
            parent = self.firework(p)
            if parent is None:
                continue
            state = parent["state"]
            if state == S.ARCHIVED.value:
                return None
            done = state == S.COMPLETED.value or (
                allow and (state not in PENDING if lenient else state == S.FIZZLED.value)
            )
            if not done:
                out.append(p)
        return out


def batches(store, size=DEFAULT_BATCH):
    """Batches of whole workflows of about ``size`` fireworks in all, in wf_id order; the
    last one holds the fireworks whose wf_id is past every workflow's."""
    pending, count, low, after = [], 0, None, None
    while True:
        page = store.find_workflows(
            {"wf_id": {"$gt": after}} if after is not None else None,
            fields=["wf_id", "name", "created_on"],
            sort=[("wf_id", 1)],
            limit=WORKFLOW_PAGE,
        )
        if not page:
            break
        sizes = store.workflow_state_counts([d["wf_id"] for d in page])
        for wf in page:
            n = sum(sizes.get(wf["wf_id"], {}).values())
            if pending and count + n > size:
                yield Batch(store, pending, low, pending[-1]["wf_id"])
                pending, count, low = [], 0, pending[-1]["wf_id"]
            pending.append(wf)
            count += n
        after = page[-1]["wf_id"]
    if pending:
        yield Batch(store, pending, low, pending[-1]["wf_id"])
        low = pending[-1]["wf_id"]
    yield Batch(store, [], low, None)


def launch_pages(store, size=DEFAULT_BATCH):
    """Every launch, a page at a time in launch_id order, with the fireworks they name
    (``{fw_id: doc}``; a missing one does not exist)."""
    after = None
    while True:
        page = store.find_launches(
            {"launch_id": {"$gt": after}} if after is not None else None,
            fields=LAUNCH_FIELDS,
            sort=[("launch_id", 1)],
            limit=size,
        )
        if not page:
            return
        named = sorted({launch["fw_id"] for launch in page})
        fws = store.get_fireworks(named, fields=["fw_id", "state", "current_launch"])
        yield page, {d["fw_id"]: d for d in fws}
        after = page[-1]["launch_id"]
