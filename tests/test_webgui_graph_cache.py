"""The graph API keeps a workflow's layout while its fireworks stay the same ones, and lays
it out again when fireworks are added or deleted, so a kept layout never shows stale links."""

from launchpad import Firework, Workflow
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask
from webgui import create_app, graph_view


def chain(n, name):
    fws = [Firework(ScriptTask(script="true"), name=f"{name} {i}", fw_id=i + 1) for i in range(n)]
    return Workflow(fws, {i + 1: [i + 2] for i in range(n - 1)}, name=name)


def test_layout_kept_while_fireworks_stay_and_redone_when_they_change(lp, monkeypatch):
    ids = lp.add_wf(chain(3, "kept"))
    first, last = min(ids.values()), max(ids.values())
    wf_id = lp.wf_id_of(first)
    lp.add_wf(chain(2, "other"))  # another workflow's graph has its own layout
    laid = []
    real = graph_view.layout
    monkeypatch.setattr(graph_view, "layout", lambda *a, **k: laid.append(a) or real(*a, **k))
    client = create_app({"TESTING": True}, lp).test_client()

    graph = client.get(f"/api/workflows/{wf_id}/graph").get_json()
    lp.pause_fw(last)  # a state changes, the links do not
    again = client.get(f"/api/workflows/{wf_id}/graph").get_json()
    assert len(laid) == 1
    assert {n["fw_id"]: n["state"] for n in again["nodes"]}[last] == "PAUSED"
    assert again["edges"] == graph["edges"] and len(again["nodes"]) == 3
    client.get(f"/api/workflows/{lp.wf_id_of(max(ids.values()) + 1)}/graph")
    client.get(f"/api/workflows/{wf_id}/graph?expand=0")
    assert len(laid) == 3  # another workflow, another expansion: their own layouts

    lp.append_wf(Workflow([Firework(ScriptTask(script="true"), name="added")]), [last])
    grown = client.get(f"/api/workflows/{wf_id}/graph").get_json()
    assert len(laid) == 4 and len(grown["nodes"]) == 4
    added = max(n["fw_id"] for n in grown["nodes"])
    assert [last, added, 1] in grown["edges"]
    fresh = graph_view.workflow_graph(lp, wf_id, 20_000)  # no cache at all: the same graph
    assert fresh == grown


def test_graph_reads_pairs_and_drawn_names_not_documents(lp, monkeypatch):
    """At 10,000 fireworks a dict per firework cost more than the reads: the graph reads
    (fw_id, state) and (parent, child) pairs, and names only of the fireworks drawn singly."""
    from webgui.demo import layered

    ids = lp.add_wf(layered([1, 60, 60, 1], "wide"))
    wf_id = lp.wf_id_of(min(ids.values()))
    reads = []
    real = lp.store.find_fireworks
    monkeypatch.setattr(
        lp.store,
        "find_fireworks",
        lambda query=None, fields=None, *a, **k: (
            reads.append((query, fields)) or real(query, fields, *a, **k)
        ),
    )
    graph = create_app({"TESTING": True}, lp).test_client().get(f"/api/workflows/{wf_id}/graph").get_json()
    assert len(graph["nodes"]) == 2 and [g["count"] for g in graph["groups"]] == [60, 60]
    assert {n["name"] for n in graph["nodes"]} == {"L0 step 0", "L3 step 0"}
    assert all(fields and not {"parents", "spec"} & set(fields) for _, fields in reads), reads
    if isinstance(lp.store, SQLiteStore):  # its links come from one join, not per firework
        assert all("children" not in fields for _, fields in reads), reads
    named = [q["fw_id"]["$in"] for q, fields in reads if fields and "name" in fields and "fw_id" in (q or {})]
    assert [sorted(n) for n in named] == [sorted(n["fw_id"] for n in graph["nodes"])]
