"""FireWorks' claim order: spec._priority descending, a firework without one below every
number (MongoDB sorts a missing field last in a descending sort)."""

import json
import sqlite3

import pytest
from user_commands import new_user

from launchpad import Firework, FWorker, LaunchPad, ScriptTask, Workflow
from launchpad.stores import SQLiteStore
from launchpad.stores.mongo import _PRIORITY_MIGRATED
from rocket import rapidfire

PRIORITIES = [5, None, -3, 0]
FIREWORKS_ORDER = [5, 0, -3, None]  # what FireWorks' claim query gives


def priority_workflow():
    fws = []
    for i, priority in enumerate(PRIORITIES):
        spec = {} if priority is None else {"_priority": priority}
        fws.append(Firework([ScriptTask.from_str("true")], spec=spec, name=f"p{priority}", fw_id=-1 - i))
    return Workflow(fws, name="priorities")


def run_order(lp):
    launches = [launch for fw_id in lp.get_fw_ids() for launch in lp.get_fw_by_id(fw_id).launches]
    return [
        lp.get_fw_by_id(launch.fw_id).spec.get("_priority")
        for launch in sorted(launches, key=lambda x: x.launch_id)
    ]


def test_unprioritised_fireworks_run_after_negative_ones(lp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lp.add_wf(priority_workflow())
    assert rapidfire(lp, FWorker(), sleep_time=0) == 4
    assert run_order(lp) == FIREWORKS_ORDER


def test_listings_sorted_by_priority_put_none_last_and_show_none(lp):
    lp.add_wf(priority_workflow())
    docs = lp.get_fws({}, fields=["fw_id", "priority", "spec._priority"], sort=[("priority", -1)])
    assert [d["priority"] for d in docs] == FIREWORKS_ORDER
    by_spec = lp.get_fws({}, fields=["spec"], sort=[("spec._priority", -1)])
    assert [d["spec"].get("_priority") for d in by_spec] == FIREWORKS_ORDER
    json.dumps(docs, allow_nan=False)  # the internal key never leaks as -Infinity
    unset = lp.get_fw_ids({"name": "pNone"})[0]
    assert lp.get_fw_dict_by_id(unset)["priority"] is None
    lp.set_priority(unset, -10)
    assert run_order_after_claims(lp) == [5, 0, -3, -10]


def run_order_after_claims(lp):
    docs = lp.get_fws({"state": "READY"}, fields=["priority"], sort=[("priority", -1), ("fw_id", 1)])
    return [d["priority"] for d in docs]


def test_rlaunch_claims_in_fireworks_order(tmp_path):
    user = new_user(tmp_path)
    path = tmp_path / "wf.yaml"
    priority_workflow().to_file(str(path))
    assert user.run("lpad", "add", str(path), timeout=60).returncode == 0
    ran = user.run("rlaunch", "rapidfire", timeout=120)
    assert ran.returncode == 0, ran.stderr
    store = SQLiteStore(user.home / "launchpad.sqlite")
    try:
        assert run_order(LaunchPad(store)) == FIREWORKS_ORDER
    finally:
        store.close()


def test_stores_written_before_migrate_on_open(store, tmp_path, monkeypatch):
    """Older stores hold 0 as the key of a firework without _priority."""
    LaunchPad(store).add_wf(priority_workflow())
    if isinstance(store, SQLiteStore):
        path = tmp_path / "launchpad.sqlite"
        store.close()
        conn = sqlite3.connect(path)
        conn.execute("UPDATE fireworks SET priority = 0 WHERE priority < -1e308")
        conn.execute("PRAGMA user_version = 3")
        conn.commit()
        conn.close()
        reopened = SQLiteStore(path)
    else:
        store.fireworks.update_many({"spec._priority": None}, {"$set": {"priority": 0}})
        store.counters.delete_one({"_id": _PRIORITY_MIGRATED})
        reopened = type(store)(store.db)
    monkeypatch.chdir(tmp_path)
    lp = LaunchPad(reopened)
    assert rapidfire(lp, FWorker(), sleep_time=0) == 4
    assert run_order(lp) == FIREWORKS_ORDER


@pytest.mark.parametrize("spec", [{"_priority": None}, {"_category": "x"}])
def test_a_null_priority_is_no_priority(spec):
    from launchpad.stores import index_fields

    assert index_fields(spec)["priority"] == float("-inf")
