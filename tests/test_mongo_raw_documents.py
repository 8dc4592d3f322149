"""The raw MongoDB documents as FireWorks users' scripts read them (issue 10, raw collections).

FireWorks' scripts query ``lp.fireworks``, ``lp.launches`` and ``lp.workflows``
themselves. These tests ask the queries such scripts ask, on mongomock, and
compare the answers with what the LaunchPad's own API says (FireWorks' view)
and with the documents FireWorks 2.1.4 wrote (tests/data/fireworks_db).
"""

import json
import os
import subprocess
import uuid
from datetime import datetime, timedelta

import pytest

from launchpad import Firework, FWAction, LaunchPad, Workflow
from launchpad.dupefinder import DupeFinderExact
from launchpad.importer import import_fireworks
from launchpad.stores import mongo_shape
from launchpad.stores.fireworks_source import JsonFileSource
from launchpad.stores.mongo import MongoStore
from launchpad.tasks import ScriptTask

DATA = os.path.join(os.path.dirname(__file__), "data", "fireworks_db", "fireworks_db.json")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIREWORKS_PYTHON = os.path.join(ROOT, "bench", ".venv-fireworks", "bin", "python")
FIREWORKS_WORKER = "Automatically generated Worker"

# FireWorks 2.1.4's own LaunchPad over the documents (bson JSON on stdin) in mongomock.
FIREWORKS_READS = """
import json, sys
import gridfs, mongomock, pymongo
from bson import json_util
server = mongomock.MongoClient()
pymongo.MongoClient = lambda *args, **kwargs: server
gridfs.GridFS = lambda *args, **kwargs: None  # its large-action fallback: not mongomock's
for name, docs in json_util.loads(sys.stdin.read()).items():
    server["fw"][name].insert_many(docs)
from fireworks import LaunchPad
lp = LaunchPad(name="fw")
fws = {}
for fw_id in lp.get_fw_ids():
    fw = lp.get_fw_by_id(fw_id)
    fws[fw_id] = {
        "state": fw.state,
        "launches": [[x.launch_id, x.state, x.launch_dir, x.fworker.name] for x in fw.launches],
        "archived": [x.launch_id for x in fw.archived_launches],
    }
wf = lp.get_wf_by_fw_id(min(fws))
print(json.dumps({
    "fws": fws,
    "links": {str(k): sorted(v) for k, v in wf.links.items()},
    "summary": lp.get_wf_summary_dict(min(fws), "more")["states"],
    "completed": sorted(lp.get_fw_ids({"state": "COMPLETED"})),
}))
"""


def mongo_lp():
    return LaunchPad(MongoStore.connect(mongomock=True, name=f"raw_{uuid.uuid4().hex[:8]}"))


def echo(name, fw_id, parents=None, spec=None):
    return Firework(ScriptTask(script=f"echo {name}"), name=name, fw_id=fw_id, parents=parents, spec=spec)


def claim(lp, **options):
    """The rocket's claim, ``(fw_doc, launch_id)``: ``claim_to_run`` where the LaunchPad
    has it (``checkout_fw`` becomes FireWorks' own, returning a Firework)."""
    return (getattr(lp, "claim_to_run", None) or lp.checkout_fw)(**options)


def run(lp, fw_id=None, action=None, state="COMPLETED"):
    fw, launch_id = claim(lp, fw_id=fw_id, launch_dir="/scratch/run", host="node1")
    assert fw is not None
    lp.complete_launch(launch_id, action or FWAction(), state=state, fw_id=fw["fw_id"])
    return launch_id


def diamond(lp, name="diamond"):
    a = echo("a", -1)
    b, c = echo("b", -2, [a]), echo("c", -3, [a])
    d = echo("d", -4, [b, c])
    return lp.add_wf(Workflow([a, b, c, d], name=name))


def assert_lists_match_the_api(lp):
    """Every firework's raw ``launches``/``archived_launches`` are the launch ids of
    ``get_fw_by_id``'s Launch objects (FireWorks' meaning)."""
    for raw in lp.fireworks.find({}, {"_id": 0, "fw_id": 1, "launches": 1, "archived_launches": 1}):
        fw = lp.get_fw_by_id(raw["fw_id"])
        assert sorted(raw["launches"]) == [x.launch_id for x in fw.launches], raw
        assert sorted(raw["archived_launches"]) == [x.launch_id for x in fw.archived_launches], raw


def assert_links_match_the_api(lp):
    """Each workflow document's nodes, links and parent_links are FireWorks' Workflow.Links."""
    for raw in lp.workflows.find({}, {"_id": 0}):
        wf = lp.get_wf_by_fw_id(raw["nodes"][0])
        assert sorted(raw["nodes"]) == sorted(wf.links.nodes)
        assert {k: sorted(v) for k, v in raw["links"].items()} == {
            str(k): sorted(v) for k, v in wf.links.items()
        }
        assert {k: sorted(v) for k, v in raw["parent_links"].items()} == {
            str(k): sorted(v) for k, v in wf.links.parent_links.items() if v
        }


def test_a_completed_fireworks_launches_are_found_as_fireworks_scripts_find_them():
    lp = mongo_lp()
    ids = diamond(lp)
    first = run(lp, ids[-1])
    done = list(lp.fireworks.find({"state": "COMPLETED"}, {"fw_id": 1, "launches": 1}))
    assert [(d["fw_id"], d["launches"]) for d in done] == [(ids[-1], [first])]
    launches = list(lp.launches.find({"launch_id": {"$in": done[0]["launches"]}}))
    assert [(x["fw_id"], x["state"], x["launch_dir"]) for x in launches] == [
        (ids[-1], "COMPLETED", "/scratch/run")
    ]
    assert [d["fw_id"] for d in lp.fireworks.find({"launches": first})] == [ids[-1]]
    assert lp.fireworks.count_documents({"launches": []}) == 3  # the others never ran
    assert_lists_match_the_api(lp)


def test_a_rerun_moves_the_launches_to_archived_launches_as_fireworks_does():
    lp = mongo_lp()
    ids = diamond(lp)
    first = run(lp, ids[-1], state="FIZZLED")
    lp.rerun_fw(ids[-1])
    raw = lp.fireworks.find_one({"fw_id": ids[-1]})
    assert (raw["launches"], raw["archived_launches"]) == ([], [first])
    second = run(lp, ids[-1])
    raw = lp.fireworks.find_one({"fw_id": ids[-1]})
    assert (raw["launches"], raw["archived_launches"]) == ([second], [first])
    assert [d["fw_id"] for d in lp.fireworks.find({"archived_launches": first})] == [ids[-1]]
    assert_lists_match_the_api(lp)


def test_a_rerun_archives_the_launches_of_every_firework_it_resets_in_one_write():
    lp = mongo_lp()
    ids = diamond(lp)
    ran = {run(lp): None for _ in ids}  # all four, in order
    lp.rerun_fw(ids[-1])  # the root: its descendants are reset with it
    assert lp.fireworks.count_documents({"launches": []}) == 4
    assert sorted(i for d in lp.fireworks.find() for i in d["archived_launches"]) == sorted(ran)
    assert_lists_match_the_api(lp)


def test_a_rerun_of_a_running_firework_archives_its_fenced_launch():
    lp = mongo_lp()
    ids = diamond(lp)
    _, running = claim(lp, fw_id=ids[-1])
    lp.rerun_fw(ids[-1])
    raw = lp.fireworks.find_one({"fw_id": ids[-1]})
    assert (raw["launches"], raw["archived_launches"]) == ([], [running])
    assert_lists_match_the_api(lp)


def test_archiving_a_workflow_archives_its_launches_as_fireworks_does():
    lp = mongo_lp()
    ids = diamond(lp)
    launch = run(lp, ids[-1])
    lp.archive_wf(ids[-1])
    raw = lp.fireworks.find_one({"fw_id": ids[-1]})
    assert (raw["state"], raw["launches"], raw["archived_launches"]) == ("ARCHIVED", [], [launch])
    fw = lp.get_fw_by_id(ids[-1])  # the API's view agrees (FireWorks: launches [], archived [9])
    assert fw.launches == [] and [x.launch_id for x in fw.archived_launches] == [launch]
    assert_lists_match_the_api(lp)


def test_a_queue_reservation_lists_one_launch_that_the_rocket_then_runs():
    lp = mongo_lp()
    diamond(lp)
    _, reservation = lp.reserve_fw()
    fw_id = lp.launches.find_one({"launch_id": reservation})["fw_id"]
    assert lp.fireworks.find_one({"fw_id": fw_id})["launches"] == [reservation]
    _, launch_id = claim(lp, fw_id=fw_id, states=("READY", "RESERVED"))
    lp.complete_launch(launch_id, fw_id=fw_id)
    assert launch_id == reservation
    assert lp.fireworks.find_one({"fw_id": fw_id})["launches"] == [reservation]
    assert_lists_match_the_api(lp)


def test_a_duplicate_lists_the_launch_it_took_over_and_not_its_own_claim():
    lp = mongo_lp()
    dupe = {"_dupefinder": DupeFinderExact()}
    first = lp.add_wf(Workflow([echo("same", -1, spec=dupe)]))[-1]
    ran = run(lp, first)
    second = lp.add_wf(Workflow([echo("same", -1, spec=dupe)]))[-1]
    assert claim(lp, fw_id=second) == (None, None)  # it took the run over: nothing to run
    assert lp.get_fw_by_id(second).state == "COMPLETED"
    assert lp.fireworks.find_one({"fw_id": second})["launches"] == [ran]  # as FireWorks' thief
    assert sorted(d["fw_id"] for d in lp.fireworks.find({"launches": ran})) == [first, second]
    assert_lists_match_the_api(lp)


def test_workflow_documents_have_nodes_and_links_kept_through_additions_detours_and_deletes():
    lp = mongo_lp()
    ids = diamond(lp)
    wf = lp.workflows.find_one({"nodes": ids[-1]})
    assert wf["name"] == "diamond" and sorted(wf["nodes"]) == sorted(ids.values())
    assert sorted(wf["links"][str(ids[-1])]) == sorted([ids[-2], ids[-3]])
    assert sorted(wf["parent_links"][str(ids[-4])]) == sorted([ids[-2], ids[-3]])
    assert str(ids[-1]) not in wf["parent_links"]  # FireWorks lists only fireworks with parents
    run(lp, ids[-1], action=FWAction(additions=[echo("added", -9)]))
    run(lp, ids[-2], action=FWAction(detours=[echo("detour", -8)]))
    lp.append_wf(Workflow([echo("appended", -7)]), [ids[-4]])
    assert len(lp.workflows.find_one({"nodes": ids[-1]})["nodes"]) == 7
    assert_links_match_the_api(lp)
    added = max(lp.workflows.find_one({"nodes": ids[-1]})["nodes"])
    lp.delete_fws([added])
    assert lp.workflows.count_documents({"nodes": added}) == 0
    assert_links_match_the_api(lp)


def test_date_range_queries_compare_as_fireworks_text_dates_do():
    lp = mongo_lp()
    ids = diamond(lp)
    before = lp.fireworks.find_one({"fw_id": ids[-1]})["created_on"]
    launch = run(lp, ids[-1])
    ended = lp.launches.find_one({"launch_id": launch})["time_end"]
    # FireWorks keeps these as ISO text: scripts compare them with ISO text
    assert isinstance(before, str) and isinstance(ended, str)
    assert lp.fireworks.count_documents({"created_on": {"$gte": before[:10]}}) == 4
    assert [d["fw_id"] for d in lp.fireworks.find({"updated_on": {"$gt": before}, "state": "COMPLETED"})] == [
        ids[-1]
    ]
    assert [d["launch_id"] for d in lp.launches.find({"time_end": {"$gte": before[:10]}})] == [launch]
    assert lp.launches.count_documents({"time_end": {"$lt": before[:10]}}) == 0


def test_workflow_dates_are_bson_dates_as_fireworks_writes_them():
    """FireWorks' workflows hold BSON dates (its own report asks them with datetimes),
    while the LaunchPad and a query in text still see text."""
    lp = mongo_lp()
    ids = diamond(lp, name="old")
    raw = lp.workflows.find_one({"nodes": ids[-1]})
    assert isinstance(raw["created_on"], datetime) and isinstance(raw["updated_on"], datetime)
    since = raw["created_on"] - timedelta(seconds=1)
    assert lp.workflows.count_documents({"created_on": {"$gte": since}}) == 1
    assert lp.workflows.count_documents({"updated_on": {"$lt": since}}) == 0
    text = lp.get_wf_by_fw_id(ids[-1]).created_on
    assert text.replace(tzinfo=None) - raw["created_on"] < timedelta(milliseconds=1)
    day = raw["created_on"].strftime("%Y-%m-%d")
    assert lp.get_wf_ids({"created_on": {"$gte": day}}) == lp.get_wf_ids({"name": "old"})
    assert lp.get_wf_ids({"created_on": {"$lt": day}}) == []
    doc = lp.store.find_workflows({"name": "old"})[0]
    assert isinstance(doc["created_on"], str) and doc["created_on"].startswith(day)


def test_a_database_written_before_these_fields_gets_them_once(monkeypatch, caplog):
    """Earlier starshell versions wrote no lists and no links: a store opened on such a
    database fills them in, once (marked in counters), batch after batch."""
    monkeypatch.setattr(mongo_shape, "BATCH", 2)
    lp = mongo_lp()
    ids = diamond(lp)
    first = run(lp, ids[-1], state="FIZZLED")
    lp.rerun_fw(ids[-1])
    run(lp, ids[-1])
    run(lp, ids[-2], action=FWAction(additions=[echo("added", -9)]))
    db = lp.store.db
    db.fireworks.update_many({}, {"$unset": {"launches": "", "archived_launches": ""}})
    db.workflows.update_many({}, {"$unset": {"nodes": "", "links": "", "parent_links": ""}})
    for wf in db.workflows.find():  # text dates, as earlier versions wrote them
        db.workflows.update_one({"_id": wf["_id"]}, {"$set": {"created_on": "2026-01-02T03:04:05.123456"}})
    db.counters.delete_many({"_id": {"$in": ["migrated:fireworks_fields", "migrated:workflow_dates"]}})
    reopened = LaunchPad(MongoStore(db))
    assert "adding FireWorks' launch lists and workflow links" in caplog.text
    assert db.workflows.find_one()["created_on"] == datetime(2026, 1, 2, 3, 4, 5, 123000)
    assert reopened.fireworks.find_one({"fw_id": ids[-1]})["archived_launches"] == [first]
    assert_lists_match_the_api(reopened)
    assert_links_match_the_api(reopened)
    db.fireworks.update_one({"fw_id": ids[-1]}, {"$unset": {"launches": ""}})
    LaunchPad(MongoStore(db))  # done once: a later opening reads no launches again
    assert "launches" not in db.fireworks.find_one({"fw_id": ids[-1]})


def _fireworks_own_documents():
    with open(DATA, encoding="utf-8") as fh:
        db = json.load(fh)["fireworks"]
    return {name: [pair[1] for pair in db[name]["documents"]] for name in ("workflows", "fireworks")}


def test_an_imported_fireworks_database_reads_as_fireworks_wrote_it():
    lp = mongo_lp()
    import_fireworks(lp, JsonFileSource(DATA))
    theirs = _fireworks_own_documents()
    for fw in theirs["fireworks"]:
        ours = lp.fireworks.find_one({"fw_id": fw["fw_id"]})
        assert (ours["state"], ours["name"], ours["launches"], ours["archived_launches"]) == (
            fw["state"],
            fw["name"],
            fw["launches"],
            fw["archived_launches"],
        ), fw["fw_id"]
    for wf in theirs["workflows"]:
        ours = lp.workflows.find_one({"nodes": wf["nodes"][0]})
        assert (ours["name"], ours["nodes"], ours["links"], ours["parent_links"]) == (
            wf["name"],
            sorted(wf["nodes"]),
            {k: sorted(v) for k, v in sorted(wf["links"].items(), key=lambda kv: int(kv[0]))},
            {k: sorted(v) for k, v in sorted(wf["parent_links"].items(), key=lambda kv: int(kv[0]))},
        ), wf["name"]
        for key in ("created_on", "updated_on"):  # BSON dates on both sides, to the millisecond
            assert ours[key] == datetime.fromisoformat(wf[key]["$date"].replace("Z", "")), (wf["name"], key)
    assert_lists_match_the_api(lp)


@pytest.mark.parametrize("query", [{"launches": {"$size": 0}}, {"archived_launches.0": {"$exists": True}}])
def test_fireworks_launch_list_queries_from_fireworks_scripts(query):
    """Queries FireWorks' own code and scripts ask of the lists give FireWorks' answers."""
    lp = mongo_lp()
    import_fireworks(lp, JsonFileSource(DATA))
    theirs = _fireworks_own_documents()["fireworks"]
    import mongomock

    expected = mongomock.MongoClient().db.fws
    expected.insert_many([{k: v for k, v in d.items() if k != "_id"} for d in theirs])
    assert sorted(d["fw_id"] for d in lp.fireworks.find(query)) == sorted(
        d["fw_id"] for d in expected.find(query)
    )


@pytest.mark.skipif(not os.path.exists(FIREWORKS_PYTHON), reason="no FireWorks virtualenv in bench/")
def test_fireworks_own_launchpad_reads_the_documents_we_write(tmp_path):
    """The documents mean what FireWorks' mean to FireWorks itself: its LaunchPad, given
    a database starshell wrote, finds the same launches, archives, links and states."""
    from bson import json_util

    lp = mongo_lp()
    ids = diamond(lp)
    run(lp, ids[-1], state="FIZZLED")
    lp.rerun_fw(ids[-1])
    run(lp, ids[-1], action=FWAction(stored_data={"x": 1}, additions=[echo("added", -9)]))
    run(lp, ids[-2])
    lp.reserve_fw()
    docs = {name: list(lp.db[name].find({}, {"_id": 0})) for name in ("fireworks", "launches", "workflows")}
    done = subprocess.run(
        [FIREWORKS_PYTHON, "-c", FIREWORKS_READS],
        input=json_util.dumps(docs),
        capture_output=True,
        text=True,
        cwd=tmp_path,  # FireWorks reads FW_config.yaml from the working directory
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.splitlines()[-1])
    for fw_id, seen in theirs["fws"].items():
        fw = lp.get_fw_by_id(int(fw_id))
        assert seen == {
            "state": fw.state,
            "launches": [
                # FireWorks' Launch always has a worker: its default one where none was recorded
                [x.launch_id, x.state, x.launch_dir, x.fworker.name if x.fworker else FIREWORKS_WORKER]
                for x in fw.launches
            ],
            "archived": [x.launch_id for x in fw.archived_launches],
        }, fw_id
    wf = lp.get_wf_by_fw_id(ids[-1])
    assert theirs["links"] == {str(k): sorted(v) for k, v in wf.links.items()}
    assert theirs["summary"] == lp.get_wf_summary_dict(ids[-1], "more")["states"]
    assert theirs["completed"] == sorted(lp.get_fw_ids({"state": "COMPLETED"}))
