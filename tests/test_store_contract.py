"""The contract every store backend honours (run on SQLite and MongoDB)."""

import pytest

from launchpad.stores import WorkerFilter, index_fields


def fw_doc(fw_id, wf_id=1, state="READY", spec=None, **extra):
    spec = spec or {"_tasks": [], "x": fw_id}
    return {
        "fw_id": fw_id,
        "wf_id": wf_id,
        "name": f"fw{fw_id}",
        "state": state,
        "spec": spec,
        "created_on": f"2026-01-01T00:00:{fw_id % 60:02d}.000000",
        "updated_on": "t",
        "parents": [],
        "children": [],
        "waiting_on": 0,
        "current_launch": None,
        "not_before": None,
        **index_fields(spec),
        **extra,
    }


def add(store, docs, wf_id=1, name="wf"):
    store.insert_workflow(
        {"wf_id": wf_id, "name": name, "metadata": {"owner": "me"}, "created_on": "t", "updated_on": "t"},
        docs,
    )


def test_next_ids_are_consecutive_blocks(store):
    assert store.next_ids("fw", 3) == 1
    assert store.next_ids("fw", 2) == 4
    assert store.next_ids("launch") == 1
    store.reset()
    assert store.next_ids("fw") == 1


def test_insert_and_read_back_documents(store):
    add(store, [fw_doc(1), fw_doc(2, state="WAITING")])
    doc = store.get_firework(1)
    assert doc["spec"] == {"_tasks": [], "x": 1}
    assert doc["state"] == "READY" and doc["name"] == "fw1"
    assert "_id" not in doc
    assert store.get_firework(99) is None
    assert store.get_workflow(1)["metadata"] == {"owner": "me"}
    assert [d["fw_id"] for d in store.get_fireworks([2, 1])] == [1, 2]


def test_queries_on_columns_and_nested_fields(store):
    add(store, [fw_doc(i, state="READY" if i % 2 else "WAITING") for i in range(1, 11)])
    assert store.count_fireworks({"state": "READY"}) == 5
    assert store.count_fireworks({"spec.x": {"$gt": 7}}) == 3
    assert store.count_fireworks({"state": "READY", "spec.x": {"$lte": 3}}) == 2
    assert store.count_fireworks({"$or": [{"fw_id": 1}, {"spec.x": 10}]}) == 2
    assert store.count_fireworks({"fw_id": {"$in": [1, 2, 99]}}) == 2
    assert store.count_fireworks({"fw_id": {"$nin": [1, 2]}}) == 8
    assert store.count_fireworks({"category": None}) == 10
    assert store.count_fireworks({"category": {"$ne": "x"}}) == 10
    assert store.count_fireworks({"name": {"$regex": "^fw1"}}) == 2
    assert store.count_fireworks({"fw_id": "1"}) == 0  # types matter, as in MongoDB


def test_large_in_lists(store):
    add(store, [fw_doc(i) for i in range(1, 301)])
    ids = list(range(1, 301, 2))
    assert len(store.get_fireworks(ids + [10_000])) == 150


def test_projection_sort_limit_skip(store):
    add(store, [fw_doc(i, spec={"_tasks": [], "_priority": i % 3}) for i in range(1, 8)])
    docs = store.find_fireworks({}, fields=["fw_id", "priority"], sort=[("priority", -1), ("fw_id", 1)])
    assert [d["fw_id"] for d in docs] == [2, 5, 1, 4, 7, 3, 6]
    assert set(docs[0]) == {"fw_id", "priority"}
    page = store.find_fireworks({}, fields=["fw_id"], sort=[("fw_id", -1)], limit=2, skip=1)
    assert [d["fw_id"] for d in page] == [6, 5]
    nested = store.find_fireworks({"spec._priority": 2}, fields=["spec._priority"], limit=1)
    assert nested == [{"spec": {"_priority": 2}}]
    by_spec = store.find_fireworks({}, fields=["fw_id"], sort=[("spec._priority", 1), ("fw_id", 1)])
    assert [d["fw_id"] for d in by_spec] == [3, 6, 1, 4, 7, 2, 5]


def test_nested_projections_read_only_their_parts_the_same_way(store):
    """Task lists as the web GUI's runtimes read them: SQLite takes the paths out of the
    JSON; a missing part, a list on the way or a NaN reads the whole document, as before."""
    tasks = [{"_fw_name": "ScriptTask", "script": "echo é"}]
    specs = {
        1: {"_tasks": tasks, "big": "x" * 500, "n": 1.0},
        2: {"_tasks": None, "n": 1234567890123456789},
        3: {"n": 2},  # no _tasks
        4: {"_tasks": [], "n": [{"deep": 1}, {"deep": 2}]},  # a list on the way
        5: {"_tasks": tasks, "n": float("nan")},  # no JSON to SQLite
    }
    add(store, [fw_doc(i, spec=spec) for i, spec in specs.items()])
    docs = store.find_fireworks({}, fields=["fw_id", "spec._tasks", "state"], sort=[("fw_id", 1)])
    # A spec without _tasks: no "spec" on SQLite, {} on MongoDB (as before the paths).
    assert [d.get("spec") or None for d in docs] == [
        {"_tasks": tasks},
        {"_tasks": None},
        None,
        {"_tasks": []},
        {"_tasks": tasks},
    ]
    assert [[k for k in d if k != "spec"] for d in docs] == [["fw_id", "state"]] * 5
    two = store.find_fireworks({"fw_id": {"$in": [1, 2, 4]}}, fields=["spec.n", "spec._tasks"], limit=3)
    assert two[0] == {"spec": {"n": 1.0, "_tasks": tasks}} and isinstance(two[0]["spec"]["n"], float)
    assert two[1] == {"spec": {"n": 1234567890123456789, "_tasks": None}}
    deep = store.find_fireworks({"fw_id": 4}, fields=["spec.n.deep"])
    assert deep == [{"spec": {"n": [{"deep": 1}, {"deep": 2}]}}]


def test_task_names_are_read_as_from_whole_documents(store):
    """What runtimes are reported under, read by the store (SQLite: only the names leave
    the database) as from the whole task lists, odd ones and NaN included."""
    from launchpad.stores.base import Store

    specs = {
        1: {"_tasks": [{"_fw_name": "ScriptTask"}, {"_fw_name": "{{my.Task}}", "x": [1]}]},
        2: {"_tasks": []},
        3: {"n": 1},  # no _tasks
        4: {"_tasks": {"_fw_name": "NotAList"}},
        5: {"_tasks": [{"no_name": 1}, "text", {"_fw_name": "PyTask"}]},
        6: {"_tasks": [{"_fw_name": "PyTask"}], "n": float("nan")},  # no JSON to SQLite
        7: {"_tasks": None},
    }
    add(store, [fw_doc(i, spec=spec) for i, spec in specs.items()])
    expected = {1: ["ScriptTask", "{{my.Task}}"], 2: [], 3: [], 4: [], 5: ["?", "PyTask"], 7: []}
    assert store.task_names([1, 2, 3, 4, 5, 7, 99]) == expected  # 99: no such firework
    assert Store.task_names(store, [1, 2, 3, 4, 5, 7, 99]) == expected
    assert store.task_names([6, 1]) == {6: ["PyTask"], 1: expected[1]}
    assert store.task_names([]) == {}
    many = store.task_names(range(1, 2000))  # past the bound parameters of one statement
    assert many == {**expected, 6: ["PyTask"]}


def test_counts_by_state_and_per_workflow(store):
    add(store, [fw_doc(1), fw_doc(2, state="COMPLETED")], wf_id=1)
    add(store, [fw_doc(3, wf_id=2, state="FIZZLED")], wf_id=2)
    assert store.count_fireworks_by_state() == {"READY": 1, "COMPLETED": 1, "FIZZLED": 1}
    assert store.count_fireworks_by_state({"wf_id": 1}) == {"READY": 1, "COMPLETED": 1}
    assert store.workflow_state_counts([1, 2, 3]) == {
        1: {"READY": 1, "COMPLETED": 1},
        2: {"FIZZLED": 1},
        3: {},
    }
    assert store.count_workflows({"name": "wf"}) == 2


@pytest.mark.parametrize("per_workflow", [1, 3, 40])
def test_states_present_in_each_workflow_match_the_counts(store, per_workflow):
    """``workflow_states``: on SQLite a loose index scan when workflows are large (a few
    seeks per distinct state), a plain scan when they are small; both as the counts say."""
    import random

    rng = random.Random(per_workflow)
    states = ["READY", "WAITING", "COMPLETED", "FIZZLED", "RUNNING", "ARCHIVED", "DEFUSED", "PAUSED"]
    fw_id = 0
    for wf_id in (1, 2, 5, 9, 10, 30):  # gaps in the ids, and a workflow with no fireworks
        docs = []
        for _ in range(per_workflow if wf_id != 9 else 0):
            fw_id += 1
            docs.append(fw_doc(fw_id, wf_id=wf_id, state=rng.choice(states[: rng.randint(1, 8)])))
        add(store, docs, wf_id=wf_id)
    expected = {wf_id: set(counts) for wf_id, counts in store.workflow_state_counts().items()}
    assert store.workflow_states() == expected
    assert 9 not in expected and len(expected) == 5
    assert store.workflow_states([1, 9]) == {1: expected[1], 9: set()}


def test_conditional_update_is_fenced(store):
    add(store, [fw_doc(1, state="RUNNING", current_launch=7)])
    assert store.update_fireworks([1], {"state": "COMPLETED"}, expect={"current_launch": 8}) == []
    assert store.get_firework(1)["state"] == "RUNNING"
    assert store.update_fireworks(
        [1], {"state": "COMPLETED"}, expect={"state": "RUNNING", "current_launch": 7}
    ) == [1]
    assert store.get_firework(1)["state"] == "COMPLETED"
    assert store.update_fireworks([1], {"state": "READY"}, expect={"state": ["WAITING", "READY"]}) == []


def test_spec_update_refreshes_claim_fields(store):
    add(store, [fw_doc(1)])
    store.update_fireworks([1], {"spec": {"_tasks": [], "_priority": 9, "_category": "gpu"}})
    doc = store.get_firework(1)
    assert (doc["priority"], doc["category"]) == (9, "gpu")


def test_a_workflows_states_and_links_as_plain_pairs(store):
    """What the web GUI's graph reads: no document per firework, the same on every backend."""
    add(
        store,
        [
            fw_doc(3, children=[5, 4]),
            fw_doc(4, state="WAITING", parents=[3]),
            fw_doc(5, state="WAITING", parents=[3], children=[6]),
            fw_doc(6, state="WAITING", parents=[5]),
        ],
    )
    add(store, [fw_doc(7, wf_id=2, children=[8]), fw_doc(8, wf_id=2, parents=[7])], wf_id=2)
    assert store.workflow_fw_states(1) == [(3, "READY"), (4, "WAITING"), (5, "WAITING"), (6, "WAITING")]
    assert [tuple(pair) for pair in store.workflow_links(1)] == [(3, 5), (3, 4), (5, 6)]  # children in order
    assert [tuple(pair) for pair in store.workflow_links(2)] == [(7, 8)]
    assert store.workflow_fw_states(99) == [] and store.workflow_links(99) == []
    store.update_fireworks([4], {"state": "RUNNING"})
    assert store.workflow_fw_states(1)[1] == (4, "RUNNING")


def test_release_children_readies_at_zero(store):
    add(
        store,
        [
            fw_doc(1, state="WAITING", waiting_on=2),
            fw_doc(2, state="WAITING", waiting_on=1),
            fw_doc(3, state="PAUSED", waiting_on=1),
        ],
    )
    assert sorted(store.release_children([1, 2, 3], "now")) == [2]
    assert store.get_firework(1)["waiting_on"] == 1
    assert store.get_firework(3)["state"] == "PAUSED" and store.get_firework(3)["waiting_on"] == 0
    assert store.release_children([1], "now") == [1]
    assert store.release_children([], "now") == []


def test_claim_takes_best_priority_then_oldest(store):
    add(
        store,
        [
            fw_doc(1, spec={"_tasks": [], "_priority": 1}),
            fw_doc(2, spec={"_tasks": [], "_priority": 5}),
            fw_doc(3, spec={"_tasks": [], "_priority": 5}),
            fw_doc(4, state="WAITING", spec={"_tasks": [], "_priority": 99}),
        ],
    )
    order = []
    while True:
        doc = store.claim_firework(WorkerFilter(), {"state": "RUNNING"})
        if doc is None:
            break
        assert doc["state"] == "RUNNING"
        order.append(doc["fw_id"])
    assert order == [2, 3, 1]


def test_claim_honours_category_fworker_and_query(store):
    add(
        store,
        [
            fw_doc(1, spec={"_tasks": [], "_category": "gpu"}),
            fw_doc(2, spec={"_tasks": [], "_fworker": "alice"}),
            fw_doc(3, spec={"_tasks": [], "size": 10}),
            fw_doc(4, spec={"_tasks": [], "size": 1}),
        ],
    )
    bob = WorkerFilter(name="bob", category="__none__", query={"spec.size": {"$gt": 5}})
    assert store.count_claimable(bob) == 1
    assert store.claim_firework(bob, {"state": "RUNNING"})["fw_id"] == 3
    assert store.claim_firework(bob, {"state": "RUNNING"}) is None
    gpu = WorkerFilter(name="bob", category="gpu")
    assert store.claim_firework(gpu, {"state": "RUNNING"})["fw_id"] == 1
    anyone = WorkerFilter(name="bob")
    assert store.claim_firework(anyone, {"state": "RUNNING"})["fw_id"] == 4
    assert store.claim_firework(anyone, {"state": "RUNNING"}) is None
    alice = WorkerFilter(name="alice", category=["cpu", "other"])
    assert store.claim_firework(alice, {"state": "RUNNING"}) is None
    assert store.claim_firework(WorkerFilter(name="alice"), {"state": "RUNNING"})["fw_id"] == 2


def test_claim_by_id_and_state_and_not_before(store):
    add(store, [fw_doc(1, state="RESERVED"), fw_doc(2, not_before="2030-01-01T00:00:00.000000")])
    assert store.claim_firework(WorkerFilter(), {"state": "RUNNING"}, fw_id=1) is None
    assert (
        store.claim_firework(WorkerFilter(), {"state": "RUNNING"}, states=["RESERVED"], fw_id=1)["fw_id"] == 1
    )
    assert (
        store.claim_firework(WorkerFilter(), {"state": "RUNNING"}, not_before="2026-01-01T00:00:00.000000")
        is None
    )
    assert (
        store.claim_firework(WorkerFilter(), {"state": "RUNNING"}, not_before="2031-01-01T00:00:00.000000")[
            "fw_id"
        ]
        == 2
    )


def test_launches(store):
    store.insert_launch({"launch_id": 1, "fw_id": 5, "state": "RUNNING", "last_ping": "a", "host": "h"})
    assert store.update_launch(1, {"last_ping": "b"}, expect_state="RUNNING")
    assert not store.update_launch(1, {"last_ping": "c"}, expect_state="COMPLETED")
    assert store.get_launch(1)["last_ping"] == "b"
    assert store.update_launch(1, {"state": "COMPLETED", "action": {"stored_data": {"y": 1}}})
    assert store.find_launches({"action.stored_data.y": 1}, fields=["launch_id"]) == [{"launch_id": 1}]
    assert store.find_launches({"state": "RUNNING", "last_ping": {"$lt": "z"}}) == []


def test_newest_finished_launches_by_end_time(store):
    """The web GUI's runtimes by task: finished launches since a time, newest end first."""
    ends = {1: "2026-11-02T10:00:00", 2: "2026-11-03T09:00:00", 3: "2026-11-01T08:00:00", 4: "2026-10-01"}
    for launch_id, end in ends.items():
        state = "FIZZLED" if launch_id == 2 else "COMPLETED"
        store.insert_launch(
            {
                "launch_id": launch_id,
                "fw_id": 10 + launch_id,
                "state": state,
                "host": "h",
                "time_start": "2026-09-30",
                "time_end": end,
                "action": {"big": "x" * 100},
            }
        )
    store.insert_launch({"launch_id": 5, "fw_id": 15, "state": "RUNNING", "time_start": "2026-11-04"})
    query = {"state": {"$in": ["COMPLETED", "FIZZLED"]}, "time_end": {"$gte": "2026-10-30"}}
    fields = ["fw_id", "state", "time_start", "time_end"]
    newest = store.find_launches(query, fields=fields, sort=[("time_end", -1)], limit=2)
    assert newest == [
        {"fw_id": 12, "state": "FIZZLED", "time_start": "2026-09-30", "time_end": "2026-11-03T09:00:00"},
        {"fw_id": 11, "state": "COMPLETED", "time_start": "2026-09-30", "time_end": "2026-11-02T10:00:00"},
    ]
    every = store.find_launches(query, fields=["fw_id"], sort=[("time_end", -1)], limit=10)
    assert every == [{"fw_id": 12}, {"fw_id": 11}, {"fw_id": 13}]


def test_a_version_4_sqlite_file_gets_the_finished_launches_index(tmp_path):
    """Schema 5's only change is an index: an older file gains it on first open."""
    import sqlite3

    from launchpad.stores import SQLiteStore
    from launchpad.stores.schema import SCHEMA_VERSION

    path = tmp_path / "launchpad.sqlite"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX launches_ended")
    conn.execute("PRAGMA user_version = 4")
    conn.commit()
    conn.close()
    store = SQLiteStore(path)
    conn = store.conn()
    assert SCHEMA_VERSION == 5
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 5
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT fw_id, state, time_start, time_end FROM launches "
        "WHERE state IN ('COMPLETED', 'FIZZLED') AND time_end >= '2026' ORDER BY time_end DESC LIMIT 9"
    ).fetchall()
    assert "COVERING INDEX launches_ended" in str(plan)
    store.close()


def test_workflow_update_and_delete(store):
    add(store, [fw_doc(1), fw_doc(2)])
    store.insert_launch({"launch_id": 1, "fw_id": 1, "state": "RUNNING"})
    store.update_workflow(1, {"updated_on": "later", "metadata": {"a": 1}})
    assert store.get_workflow(1)["metadata"] == {"a": 1}
    store.delete_workflow(1)
    assert store.count_fireworks() == 0 and store.count_workflows() == 0
    assert store.get_launch(1) is None


def test_transaction_rolls_back_on_error(store):
    if store.kind != "sqlite":
        pytest.skip("MongoDB without a replica set has no multi-document transactions")
    with pytest.raises(RuntimeError):
        with store.transaction():
            add(store, [fw_doc(1)])
            raise RuntimeError("boom")
    assert store.count_fireworks() == 0


def test_describe_hides_credentials(store):
    assert "@" not in store.describe()


def test_dates_in_specs_are_stored(store):
    import datetime

    spec = {"_tasks": [], "when": datetime.datetime(2026, 1, 2, 3, 4, 5)}
    add(store, [fw_doc(1, spec=spec)])
    assert str(store.get_firework(1)["spec"]["when"]).startswith("2026-01-02")


def test_a_query_the_database_refuses_is_a_query_error(store):
    from launchpad.errors import InvalidQueryError

    add(store, [fw_doc(1)])
    with pytest.raises(InvalidQueryError):
        store.find_fireworks({"spec.x": {"$foo": 1}})
