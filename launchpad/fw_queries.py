"""FireWorks' id queries and workflow summaries: ``get_fw_ids``, ``get_fw_ids_in_wfs``,
``get_wf_summary_dict``, in FireWorks' shapes, over any store.

``launches_mode`` queries launch fields (``{"state": "FIZZLED"}`` on launches)
and gives the fw_id of each matching launch, as FireWorks does.
"""

from .errors import InvalidArgumentError, NotFoundError
from .reads import last_change
from .states import fireworks_workflow_state


def fw_ids(store, query=None, sort=None, limit=0, count_only=False, launches_mode=False):
    """Firework ids matching ``query`` (launch fields with ``launches_mode``)."""
    if count_only and limit:
        raise InvalidArgumentError("count_only and limit cannot be used together")
    if launches_mode:
        found = store.find_launches(query, ["fw_id"], sort, limit)
        return len(found) if count_only else [d["fw_id"] for d in found]
    if count_only:
        return store.count_fireworks(query)
    return [d["fw_id"] for d in store.find_fireworks(query, ["fw_id"], sort, limit)]


def fw_ids_in_wfs(
    store, wf_query=None, fw_query=None, sort=None, limit=0, count_only=False, launches_mode=False
):
    """Ids of the fireworks matching ``fw_query`` in the workflows matching ``wf_query``."""
    if count_only and limit:
        raise InvalidArgumentError("count_only and limit cannot be used together")
    wf_ids = [d["wf_id"] for d in store.find_workflows(wf_query, ["wf_id"])]
    members = [d["fw_id"] for d in store.find_fireworks({"wf_id": {"$in": wf_ids}}, ["fw_id"])]
    query = {"$and": [{"fw_id": {"$in": members}}, fw_query]} if fw_query else {"fw_id": {"$in": members}}
    return fw_ids(store, query, sort, limit, count_only, launches_mode)


def wf_summary_dict(store, fw_id, mode="more"):
    """FireWorks' ``get_wf_summary_dict``: a workflow's summary in ``mode`` less, more, all
    or reservations, keyed as FireWorks keys it (``"name--fw_id"``)."""
    if mode not in ("less", "more", "all", "reservations"):
        raise InvalidArgumentError(f"mode must be less, more, all or reservations, got {mode!r}")
    member = store.get_firework(int(fw_id), fields=["wf_id"])
    if member is None:
        raise NotFoundError(f"no firework with id {fw_id}")
    wf = store.get_workflow(member["wf_id"])
    docs = store.find_fireworks(
        {"wf_id": wf["wf_id"]}, ["fw_id", "name", "state", "children", "spec", "updated_on"]
    )
    summary = {"name": wf["name"], "created_on": wf["created_on"], "state": _state(docs)}
    if mode == "less":
        summary["states_list"] = "-".join(_short(d["state"]) for d in docs)
        return summary
    summary["updated_on"] = last_change(wf, docs)
    key = {d["fw_id"]: f"{d['name']}--{d['fw_id']}" for d in docs}
    summary["states"] = {key[d["fw_id"]]: d["state"] for d in docs}
    launches = _launches_by_fw(store, list(key), mode == "reservations")
    if mode == "reservations":
        summary["launches"] = {key[i]: launches.get(i, []) for i in key}
        return summary
    summary["launch_dirs"] = {key[i]: [x["launch_dir"] for x in launches.get(i, [])] for i in key}
    if mode == "all":
        parents = {i: [] for i in key}
        for d in docs:
            for child in d["children"]:
                parents[child].append(d["fw_id"])
        summary["metadata"] = wf.get("metadata") or {}
        summary["links"] = {key[d["fw_id"]]: [key[c] for c in d["children"]] for d in docs}
        summary["parent_links"] = {key[c]: [key[p] for p in ps] for c, ps in parents.items() if ps}
    return summary


def _state(docs):
    """FireWorks' in-memory rule (``Workflow.state``), from the documents."""
    spec_of = {d["fw_id"]: d["spec"] for d in docs}
    tolerated = {
        d["fw_id"]
        for d in docs
        if d["children"] and all(spec_of[c].get("_allow_fizzled_parents") for c in d["children"])
    }
    leaves = [d["fw_id"] for d in docs if not d["children"]]
    return fireworks_workflow_state({d["fw_id"]: d["state"] for d in docs}, leaves, tolerated)


def _short(state):
    """FireWorks' ``states_list`` letters: RUNNING/RESERVED as RUN/RES, others one letter."""
    return state[:3] if state.startswith("R") else state[0]


def _launches_by_fw(store, ids, reservations):
    fields = ["launch_id", "fw_id", "launch_dir"] + (["state_history"] if reservations else [])
    out = {}
    for launch in store.find_launches({"fw_id": {"$in": ids}}, fields, [("launch_id", 1)]):
        fw = launch.pop("fw_id")
        if reservations:
            launch["state_history"] = [
                {"reservation_id": h["reservation_id"]}
                for h in launch.get("state_history") or []
                if "reservation_id" in h
            ]
        out.setdefault(fw, []).append(launch)
    return out
