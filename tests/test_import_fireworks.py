"""``lpad admin import_fireworks`` on a database FireWorks 2.1.4 wrote itself.

tests/data/fireworks_db/fireworks_db.json was made by make_db.py (next to
it) with FireWorks' own API: a workflow in every state, FWAction additions,
a detour, stored data, a failure, a rerun with an archived launch, RUNNING
and RESERVED launches. It is read here with plain ``json`` for what FireWorks
says, then imported into SQLite (the real ``lpad`` in a subprocess) and into
mongomock (in-process), and the two are compared.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from user_commands import new_user

from launchpad import LaunchPad
from launchpad.checker import check
from launchpad.importer import IMPORT_KEY, import_fireworks, stamp
from launchpad.stores.fireworks_source import JsonFileSource, MongoSource
from launchpad.stores.mongo import MongoStore
from launchpad.stores.sqlite import SQLiteStore

DATA = os.path.join(os.path.dirname(__file__), "data", "fireworks_db", "fireworks_db.json")


def _raw():
    with open(DATA, encoding="utf-8") as fh:
        db = json.load(fh)["fireworks"]
    return {
        name: [pair[1] for pair in db[name]["documents"]]
        for name in ("workflows", "fireworks", "launches", "fw_id_assigner")
    }


RAW = _raw()
FWS = {d["fw_id"]: d for d in RAW["fireworks"]}
LAUNCHES = {d["launch_id"]: d for d in RAW["launches"]}


def _mongo_lp():
    return LaunchPad(MongoStore.connect(mongomock=True, name=f"imp_{uuid.uuid4().hex[:8]}"))


def _store_dump(lp):
    """Everything in a store, to compare two imports."""

    def strip(docs):
        return [{k: v for k, v in d.items() if k != "_id"} for d in docs]

    return {
        "workflows": strip(lp.store.find_workflows()),
        "fireworks": strip(lp.store.find_fireworks()),
        "launches": strip(lp.store.find_launches()),
    }


def check_matches_fireworks(fws, launches, workflows):
    """Imported documents (as ``lpad -o records`` or the API gives them) against FireWorks'."""
    assert {f["fw_id"]: f["state"] for f in fws} == {i: d["state"] for i, d in FWS.items()}
    for f in fws:
        src = FWS[f["fw_id"]]
        assert f["name"] == src["name"]
        assert f["spec"] == src["spec"]
        assert f["created_on"] == src["created_on"][:26]
        mine = sorted(launch["launch_id"] for launch in launches if launch["fw_id"] == f["fw_id"])
        assert mine == sorted(src["launches"] + src["archived_launches"])
    assert len(launches) == len(LAUNCHES)
    for launch in launches:
        src = LAUNCHES[launch["launch_id"]]
        assert (launch["fw_id"], launch["host"], launch["launch_dir"]) == (
            src["fw_id"],
            src["host"],
            src["launch_dir"],
        )
        assert launch["state"] == src["state"]
        assert launch["fworker"]["name"] == src["fworker"]["name"]
        assert [h["state"] for h in launch["state_history"]] == [h["state"] for h in src["state_history"]]
        assert launch.get("action") == src["action"]
        for key in ("time_start", "time_end"):
            assert launch.get(key) == (src[key][:26] if src.get(key) else None)
        assert launch.get("runtime_secs") == src.get("runtime_secs")
    by_first = {min(w["nodes"]): w for w in RAW["workflows"]}
    assert len(workflows) == len(by_first)
    for w in workflows:
        src = by_first[min(f["fw_id"] for f in fws if f["wf_id"] == w["wf_id"])]
        assert (w["name"], w["state"], w["nodes"]) == (src["name"], src["state"], len(src["nodes"]))
    children = {f["fw_id"]: sorted(f["children"]) for f in fws}
    for w in RAW["workflows"]:
        for parent, kids in w["links"].items():
            assert children[int(parent)] == sorted(kids)


def _what_fireworks_did():
    """The data holds what the scenarios promise (so the checks below mean something)."""
    states = {d["state"] for d in FWS.values()}
    assert states == {
        "COMPLETED",
        "FIZZLED",
        "RUNNING",
        "RESERVED",
        "READY",
        "WAITING",
        "PAUSED",
        "DEFUSED",
        "ARCHIVED",
    }
    actions = [launch["action"] or {} for launch in LAUNCHES.values()]
    assert any(a.get("additions") for a in actions) and any(a.get("detours") for a in actions)
    assert any(d["archived_launches"] for d in FWS.values())
    assert os.path.getsize(DATA) < 1_000_000


def test_the_data_covers_every_case():
    _what_fireworks_did()


# -- SQLite through the real commands -------------------------------------------------
@pytest.fixture
def user(tmp_path):
    u = new_user(tmp_path)
    (u.work / "lp.yaml").write_text(f"path: {u.work / 'store.sqlite'}\n")
    return u


def lpad_json(user, *argv):
    result = user.run("lpad", "-l", "lp.yaml", "-o", "records", *argv)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_import_into_sqlite_with_lpad(user):
    result = user.run("lpad", "-l", "lp.yaml", "admin", "import_fireworks", "--mongomock_file", DATA)
    assert result.returncode == 0, result.stderr
    assert "imported 8 workflow(s) (17 firework(s), 11 launch(es)) with their FireWorks ids" in result.stdout
    fws = lpad_json(user, "get_fws", "-d", "all")
    launches = [launch for f in fws for launch in f["launches"]]
    wf_of = {f["fw_id"]: f["wf_id"] for f in lpad_json(user, "get_fws", "-d", "more")}
    for f in fws:
        f["wf_id"] = wf_of[f["fw_id"]]
    check_matches_fireworks(fws, launches, lpad_json(user, "get_wflows", "-d", "more"))
    assert user.run("lpad", "-l", "lp.yaml", "admin", "check").returncode == 0

    # a second run changes nothing
    before = _store_dump(LaunchPad(SQLiteStore(user.work / "store.sqlite")))
    again = user.run("lpad", "-l", "lp.yaml", "admin", "import_fireworks", "--mongomock_file", DATA)
    assert again.returncode == 0 and "skipped 8 already imported" in again.stdout
    assert _store_dump(LaunchPad(SQLiteStore(user.work / "store.sqlite"))) == before

    # the READY chain runs under rlaunch, each completion releasing the next
    ran = user.run("rlaunch", "-l", "lp.yaml", "rapidfire", "--nlaunches", "3", timeout=120)
    assert ran.returncode == 0, ran.stderr
    states = {f["fw_id"]: f["state"] for f in lpad_json(user, "get_fws")}
    assert [states[i] for i in (14, 13, 12)] == ["COMPLETED"] * 3
    assert states[6] == "WAITING" and states[15] == "WAITING"  # behind FIZZLED / RUNNING parents
    new = lpad_json(user, "add", os.path.join(os.path.dirname(__file__), "..", "examples", "hello.yaml"))
    assert min(new[0]["id_map"].values()) > 17  # the counters moved past FireWorks' ids


def test_ids_in_use_are_refused_or_renumbered(user):
    (user.work / "wf.yaml").write_text(
        "fws:\n- fw_id: 1\n  spec:\n    _tasks:\n    - _fw_name: ScriptTask\n      script: echo mine\n"
    )
    assert user.run("lpad", "-l", "lp.yaml", "add", "wf.yaml").returncode == 0
    refused = user.run("lpad", "-l", "lp.yaml", "admin", "import_fireworks", "--mongomock_file", DATA)
    assert refused.returncode == 2
    assert "fw_id(s) 1 of the FireWorks database are already used" in refused.stderr
    assert "--renumber" in refused.stderr
    assert len(lpad_json(user, "get_fws")) == 1  # nothing was written

    result = user.run(
        "lpad", "-l", "lp.yaml", "admin", "import_fireworks", "--renumber", "--mongomock_file", DATA
    )
    assert result.returncode == 0, result.stderr
    fws = lpad_json(user, "get_fws", "-d", "all")
    assert len(fws) == 18 and min(f["fw_id"] for f in fws[1:]) == 2
    lp = LaunchPad(SQLiteStore(user.work / "store.sqlite"))
    old = {d[IMPORT_KEY]["fw_id"]: d for d in lp.get_fws({IMPORT_KEY: {"$exists": True}})}
    assert {i: d["state"] for i, d in old.items()} == {i: d["state"] for i, d in FWS.items()}
    assert {i: d["name"] for i, d in old.items()} == {i: d["name"] for i, d in FWS.items()}
    assert check(lp).ok


def test_bad_source_is_one_line(user):
    result = user.run("lpad", "-l", "lp.yaml", "admin", "import_fireworks", "--mongomock_file", "nope.json")
    assert result.returncode == 2 and "cannot read the FireWorks store file" in result.stderr
    assert "Traceback" not in result.stderr
    result = user.run("lpad", "-l", "lp.yaml", "admin", "import_fireworks")
    assert result.returncode == 2  # a source is required


# -- mongomock in-process ---------------------------------------------------------------
def _compare_in_process(lp):
    fws = lp.get_fws()
    summaries = lp.get_wf_summaries()
    check_matches_fireworks(fws, lp.get_launches(), summaries)
    assert check(lp).ok
    assert {w["wf_id"]: w["metadata"] for w in summaries}[1] == {"project": "demo", "tags": ["a", "b"]}
    running = lp.get_fw_dict(16)
    assert running["current_launch"] == 10 and running["launches"][0]["last_ping"]
    reserved = lp.get_launch(11)
    assert reserved["reservation_id"] == "4242" and reserved["state"] == "RESERVED"
    failed = lp.get_launch(6)
    assert failed["exception"]["message"] == "ValueError: bad input"
    assert lp.get_fw_dict(8)["archived_launches"] == [7]
    rerun = lp.get_fw_by_id(8)  # FireWorks' view: the archived run is not among the launches
    assert [x.launch_id for x in rerun.archived_launches] == [7] and 7 not in [
        x.launch_id for x in rerun.launches
    ]


def test_import_into_mongomock():
    lp = _mongo_lp()
    summary = import_fireworks(lp, JsonFileSource(DATA))
    assert (summary.workflows, summary.fireworks, summary.launches) == (8, 17, 11)
    _compare_in_process(lp)
    before = _store_dump(lp)
    again = import_fireworks(lp, JsonFileSource(DATA))
    assert (again.workflows, again.skipped) == (0, 8)
    assert _store_dump(lp) == before
    assert lp.store.next_ids("fw", 0) == 18 and lp.store.next_ids("launch", 0) == 12


def _mongomock_fireworks_db():
    """The same data in a (mongomock) MongoDB, as FireWorks keeps it on a server."""
    import mongomock
    from bson import json_util

    with open(DATA, encoding="utf-8") as fh:
        db = json_util.loads(fh.read())["fireworks"]
    target = mongomock.MongoClient()[f"fw_{uuid.uuid4().hex[:8]}"]
    for name, coll in db.items():
        if coll["documents"]:
            target[name].insert_many([doc for _key, doc in coll["documents"]])
    return target


def test_import_from_a_mongodb_source():
    lp = _mongo_lp()
    import_fireworks(lp, MongoSource(_mongomock_fireworks_db(), "mongomock"))
    _compare_in_process(lp)


def test_failure_half_way_is_finished_by_the_next_run(monkeypatch):
    """MongoDB has no transactions: a crash after a workflow's fireworks and launches, before
    its workflow document, leaves pieces that the next run removes and writes again."""
    lp = _mongo_lp()
    real = lp.store.insert_workflow
    calls = []

    def crash_on_fourth(wf, fireworks):
        calls.append(wf["wf_id"])
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(wf, fireworks)

    monkeypatch.setattr(lp.store, "insert_workflow", crash_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        import_fireworks(lp, JsonFileSource(DATA))
    assert lp.store.count_workflows() == 3 and lp.store.count_fireworks() > 6  # pieces left
    monkeypatch.setattr(lp.store, "insert_workflow", real)
    summary = import_fireworks(lp, JsonFileSource(DATA))
    assert (summary.workflows, summary.skipped) == (5, 3)
    _compare_in_process_ids(lp)


def _compare_in_process_ids(lp):
    fws = lp.get_fws()
    assert sorted(f["fw_id"] for f in fws) == sorted(FWS)
    assert sorted(launch["launch_id"] for launch in lp.get_launches()) == sorted(LAUNCHES)
    assert lp.count_wfs() == 8 and check(lp).ok


def test_stamp_reads_every_fireworks_time():
    assert stamp("2026-11-29T22:22:16.474771+00:00") == "2026-11-29T22:22:16.474771"
    assert stamp("2016-03-01T10:00:00.5") == "2016-03-01T10:00:00.500000"  # FireWorks 1.x, naive
    assert stamp("2026-11-29T23:22:16+01:00") == "2026-11-29T22:22:16.000000"
    assert stamp("not a time") == "not a time" and stamp(None) is None


# -- kill -9 half-way on a larger database -------------------------------------------------
def _big_copy(path, copies):
    """The test data ``copies`` times over, with shifted ids and fresh _ids."""
    from bson import ObjectId, json_util

    with open(DATA, encoding="utf-8") as fh:
        data = json_util.loads(fh.read())
    db = data["fireworks"]
    fw_step, launch_step = len(FWS) + 1, len(LAUNCHES) + 1
    out = {name: [] for name in ("workflows", "fireworks", "launches")}
    for n in range(copies):

        def shift_fw(i, n=n):
            return i + n * fw_step

        def shift_l(i, n=n):
            return i + n * launch_step

        for _k, w in db["workflows"]["documents"]:
            out["workflows"].append(
                {
                    **w,
                    "_id": ObjectId(),
                    "nodes": [shift_fw(i) for i in w["nodes"]],
                    "links": {
                        str(shift_fw(int(p))): [shift_fw(c) for c in kids] for p, kids in w["links"].items()
                    },
                }
            )
        for _k, f in db["fireworks"]["documents"]:
            out["fireworks"].append(
                {
                    **f,
                    "_id": ObjectId(),
                    "fw_id": shift_fw(f["fw_id"]),
                    "launches": [shift_l(i) for i in f["launches"]],
                    "archived_launches": [shift_l(i) for i in f["archived_launches"]],
                }
            )
        for _k, launch in db["launches"]["documents"]:
            out["launches"].append(
                {
                    **launch,
                    "_id": ObjectId(),
                    "launch_id": shift_l(launch["launch_id"]),
                    "fw_id": shift_fw(launch["fw_id"]),
                }
            )
    for name, docs in out.items():
        db[name]["documents"] = [[d["_id"], d] for d in docs]
    db["fw_id_assigner"]["documents"] = []
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json_util.dumps(data))
    return len(out["workflows"]), len(out["fireworks"]), len(out["launches"])


@pytest.mark.faults
@pytest.mark.slow
def test_kill_9_half_way_then_resume(user):
    big = user.work / "big.json"
    n_wfs, n_fws, n_launches = _big_copy(big, 150)
    store_path = user.work / "store.sqlite"
    SQLiteStore(store_path).close()  # the file exists, so the test can watch it fill
    cmd = [
        os.path.join(os.path.dirname(sys.executable), "lpad"),
        "-l",
        "lp.yaml",
        "admin",
        "import_fireworks",
        "--mongomock_file",
        str(big),
    ]
    if not os.access(cmd[0], os.X_OK):
        cmd[:1] = [sys.executable, "-m", "launchpad.cli"]
    proc = subprocess.Popen(cmd, cwd=user.work, env=user.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    watcher = SQLiteStore(store_path)
    deadline, seen = time.monotonic() + 120, 0
    while time.monotonic() < deadline and proc.poll() is None:
        seen = watcher.count_workflows()
        if seen >= 50:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the import finished before it could be killed: make the data bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = watcher.count_workflows()
    assert 0 < partial < n_wfs
    result = user.run(
        "lpad", "-l", "lp.yaml", "admin", "import_fireworks", "--mongomock_file", big, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert f"skipped {partial} already imported" in result.stdout
    lp = LaunchPad(SQLiteStore(store_path))
    assert (lp.count_wfs(), lp.store.count_fireworks(), len(lp.get_launches())) == (n_wfs, n_fws, n_launches)
    keys = [w[IMPORT_KEY]["source_id"] for w in lp.store.find_workflows()]
    assert len(set(keys)) == len(keys) == n_wfs  # none twice
    assert check(lp).ok
    clean = LaunchPad(SQLiteStore(user.work / "clean.sqlite"))
    import_fireworks(clean, JsonFileSource(str(big)))
    assert _without_import_times(_store_dump(lp)) == _without_import_times(_store_dump(clean))


def _without_import_times(dump):
    for wf in dump["workflows"]:
        wf[IMPORT_KEY].pop("imported_on")
    return dump


def test_fireworks_launchpad_file_names_the_source(tmp_path):
    from launchpad.stores.fireworks_source import open_source

    path = tmp_path / "my_launchpad.yaml"  # as FireWorks' `lpad init` writes it
    path.write_text(
        "host: db.example.org\nport: 27017\nname: fw_prod\nusername: alice\n"
        "password: s3cret\nauthsource: admin\nssl: false\nuri_mode: false\n"
        "logdir: null\nstrm_lvl: INFO\nuser_indices: []\nwf_user_indices: []\n"
        "mongoclient_kwargs: {}\n"
    )
    source = open_source(launchpad_file=str(path))  # pymongo connects on first use only
    try:
        assert "fw_prod" in source.describe() and "s3cret" not in source.describe()
        assert source.db.name == "fw_prod"
    finally:
        source.close()
    other = open_source(launchpad_file=str(path), name="fw_old")
    assert other.db.name == "fw_old"
    other.close()


def test_unreachable_server_is_exit_5(user):
    result = user.run(
        "lpad",
        "-l",
        "lp.yaml",
        "admin",
        "import_fireworks",
        "--uri",
        "mongodb://localhost:27999/fw?serverSelectionTimeoutMS=300",
        timeout=60,
    )
    assert result.returncode == 5, result.stderr
    assert "cannot read the FireWorks database" in result.stderr and "Traceback" not in result.stderr


def test_shared_launches_and_a_firework_in_two_workflows(tmp_path):
    """FireWorks' duplicates list another firework's launch: it is imported once, with the
    firework that ran it. A firework listed by two workflows is imported with the first;
    the second workflow is reported and left out."""
    from bson import ObjectId, json_util

    with open(DATA, encoding="utf-8") as fh:
        data = json_util.loads(fh.read())
    db = data["fireworks"]
    fws = {doc["fw_id"]: doc for _k, doc in db["fireworks"]["documents"]}
    fws[1]["launches"] = fws[1]["launches"] + [1]  # fw 3 ran launch 1; fw 1 is its duplicate
    twice = {"_id": ObjectId(), "nodes": [9], "links": {"9": []}, "name": "again 9", "metadata": {}}
    db["workflows"]["documents"].append([twice["_id"], twice])
    path = tmp_path / "dupes.json"
    path.write_text(json_util.dumps(data))
    lp = _mongo_lp()
    summary = import_fireworks(lp, JsonFileSource(str(path)))
    assert (summary.workflows, summary.launches) == (8, 11)
    assert len(summary.failed) == 1 and "'again 9'" in summary.failed[0]
    assert "fw_id(s) 9 and launch_id(s) 9 are already in the store" in summary.failed[0]
    assert lp.get_launch(1)["fw_id"] == 3 and check(lp).ok
    again = import_fireworks(lp, JsonFileSource(str(path)))  # reported again, not refused
    assert (again.workflows, again.skipped, len(again.failed)) == (0, 8, 1)


def test_progress_is_reported_as_it_goes():
    seen = []
    import_fireworks(_mongo_lp(), JsonFileSource(DATA), progress=lambda *a: seen.append(a), every_secs=0)
    assert seen == [(n, 8) for n in range(1, 9)]
