"""The store's hot path for rockets (open_launch, finish_firework), on every backend:
the same guarantees as the separate claim, insert, fenced update and release."""

from test_store_contract import add, fw_doc

from launchpad.stores import WorkerFilter

RUNNING = {"state": "RUNNING", "updated_on": "now"}
CLOSED = {"state": "COMPLETED", "time_end": "t"}


def launch_doc():
    return {"state": "RUNNING", "host": "h", "launch_dir": "/d", "time_start": "now", "last_ping": "now"}


def test_open_launch_claims_the_best_and_records_its_launch(store):
    add(store, [fw_doc(1, children=[3, 2]), fw_doc(2, spec={"_tasks": [], "_priority": 5}), fw_doc(3)])
    fw, launch_id = store.open_launch(WorkerFilter(), RUNNING, launch_doc())
    assert fw["fw_id"] == 2 and fw["children"] == [] and fw["current_launch"] == launch_id
    fw, second = store.open_launch(WorkerFilter(), RUNNING, launch_doc())
    assert fw["fw_id"] == 1 and fw["children"] == [3, 2] and second > launch_id
    assert store.get_firework(1)["state"] == "RUNNING" and store.get_firework(1)["current_launch"] == second
    launch = store.get_launch(second)
    assert (launch["fw_id"], launch["state"], launch["launch_dir"]) == (1, "RUNNING", "/d")
    assert store.open_launch(WorkerFilter(), RUNNING, launch_doc(), fw_id=2) == (None, None)


def test_open_launch_honours_the_worker_query(store):
    add(store, [fw_doc(1, spec={"_tasks": [], "size": 1}), fw_doc(2, spec={"_tasks": [], "size": 9})])
    big = WorkerFilter(query={"spec.size": {"$gt": 5}})
    fw, _ = store.open_launch(big, RUNNING, launch_doc())
    assert fw["fw_id"] == 2
    assert store.open_launch(big, RUNNING, launch_doc()) == (None, None)


def test_launch_ids_never_repeat_across_claims_counter_and_deletes(store):
    add(store, [fw_doc(i) for i in range(1, 5)])
    ids = [store.open_launch(WorkerFilter(), RUNNING, launch_doc())[1]]
    ids.append(store.next_ids("launch", 2))  # a reservation's or an import's block
    ids.append(ids[-1] + 1)
    ids.append(store.open_launch(WorkerFilter(), RUNNING, launch_doc())[1])
    store.delete_launches([ids[-1]])  # the newest launch goes: its id must not come back
    ids.append(store.open_launch(WorkerFilter(), RUNNING, launch_doc())[1])
    store.delete_fireworks([4])
    ids.append(store.next_ids("launch"))
    assert ids == sorted(set(ids)), ids


def test_finish_firework_releases_children_only_for_the_live_launch(store):
    add(
        store,
        [
            fw_doc(1, children=[2, 3, 4]),
            fw_doc(2, state="WAITING", waiting_on=1, parents=[1]),
            fw_doc(3, state="WAITING", waiting_on=2, parents=[1]),
            fw_doc(4, state="PAUSED", waiting_on=1, parents=[1]),
        ],
    )
    _, launch_id = store.open_launch(WorkerFilter(), RUNNING, launch_doc())
    assert store.finish_firework(1, launch_id + 1, "COMPLETED", "t1", CLOSED) is False  # fenced
    assert [store.get_firework(i)["waiting_on"] for i in (2, 3, 4)] == [1, 2, 1]
    assert store.get_firework(1)["state"] == "RUNNING"
    assert store.get_launch(launch_id)["state"] == "RUNNING"
    assert store.finish_firework(1, launch_id, "COMPLETED", "t2", CLOSED) is True
    got = {i: store.get_firework(i) for i in (1, 2, 3, 4)}
    assert (got[1]["state"], got[1]["updated_on"]) == ("COMPLETED", "t2")
    assert store.get_launch(launch_id)["time_end"] == "t"
    assert (got[2]["state"], got[2]["waiting_on"], got[2]["updated_on"]) == ("READY", 0, "t2")
    assert (got[3]["state"], got[3]["waiting_on"]) == ("WAITING", 1)
    assert (got[4]["state"], got[4]["waiting_on"]) == ("PAUSED", 0)
    assert store.finish_firework(1, launch_id, "COMPLETED", "t3", CLOSED) is False  # once only
    assert store.get_firework(3)["waiting_on"] == 1


def test_a_fizzled_finish_releases_nothing(store):
    add(store, [fw_doc(1, children=[2]), fw_doc(2, state="WAITING", waiting_on=1, parents=[1])])
    _, launch_id = store.open_launch(WorkerFilter(), RUNNING, launch_doc())
    assert store.finish_firework(1, launch_id, "FIZZLED", "t", CLOSED) is True
    assert store.get_firework(1)["state"] == "FIZZLED"
    assert (store.get_firework(2)["state"], store.get_firework(2)["waiting_on"]) == ("WAITING", 1)


def test_a_child_appended_while_the_parent_runs_is_released(store):
    add(store, [fw_doc(1)])
    _, launch_id = store.open_launch(WorkerFilter(), RUNNING, launch_doc())
    store.insert_fireworks([fw_doc(2, state="WAITING", waiting_on=1, parents=[1])])
    store.update_fireworks([1], {"children": [2]})
    assert store.finish_firework(1, launch_id, "COMPLETED", "t", CLOSED) is True
    assert store.get_firework(2)["state"] == "READY"
