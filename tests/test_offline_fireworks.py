"""Offline runs that FireWorks 2.1.x itself prepared and ran, recovered by starshell.

tests/data/fireworks_offline/runs/ holds the files FireWorks' qlaunch -r and
FireWorks' ``rlaunch singleshot --offline`` wrote (make_files.py there made
them, in FireWorks' venv); manifest.json says which workflow each run belongs
to and what FireWorks' own recover_offline made of the files. Here the store
holds the same workflows and reservations (same firework and launch ids), the
files are copied into the reservations' directories, and starshell's recovery
must read them as FireWorks does: completion, the FWAction applied, the
failure, the heartbeats of a run still going, and the node's times.
"""

import datetime
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_store
from user_commands import new_user

from launchpad import LaunchPad
from launchpad.launch_records import CHECKPOINT_FIELD
from launchpad.offline import add_offline_run, recover_all
from launchpad.offline_files import RECOVERED
from launchpad.stores import SQLiteStore, WorkerFilter

DATA = Path(__file__).parent / "data" / "fireworks_offline"
MANIFEST = json.loads((DATA / "manifest.json").read_text())
CASES = dict(sorted(MANIFEST["cases"].items(), key=lambda item: item[1]["fw_id"]))  # as FireWorks added them


def store_form(iso):
    """FireWorks' ISO time with its UTC offset, in the store's form (UTC, no offset)."""
    value = datetime.datetime.fromisoformat(iso)
    assert value.utcoffset() == datetime.timedelta(0), iso
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def hold_fireworks_reservations(lp, root):
    """What FireWorks' store held when its jobs ran: each case's workflow with its ids, its
    firework reserved (qlaunch -r) into a directory holding FireWorks' files, marked offline."""
    worker = WorkerFilter(name="login")
    for case, expected in CASES.items():
        assert lp.add_wf(expected["workflow"])[expected["fw_id"]] == expected["fw_id"]
        launch_dir = root / case
        shutil.copytree(DATA / "runs" / case, launch_dir)
        fw, launch_id = lp.claim_for_queue(worker, launch_dir=str(launch_dir))
        assert (fw["fw_id"], launch_id) == (expected["fw_id"], expected["launch_id"])
        add_offline_run(lp, launch_id, fw["fw_id"], fw["name"], fworker=worker)


def check_read_as_fireworks_reads(lp, root):
    fws = {f["name"]: f for f in lp.get_fws()}
    for case, expected in CASES.items():
        reference = expected["fireworks_recovered"]
        for name, fw in reference["fireworks"].items():
            assert fws[name]["state"] == fw["state"], (case, name)
            assert {k: fws[name]["spec"].get(k) for k in fw["spec"]} == fw["spec"], (case, name)
        launch = lp.get_launch(expected["launch_id"])
        assert launch["state"] == reference["launch"]["state"], case
        assert [h["state"] for h in launch["state_history"]] == reference["launch"]["states"], case
        if reference["launch"]["stored_data"] is not None:
            assert launch["action"]["stored_data"] == reference["launch"]["stored_data"], case
        # the node's times, which FireWorks' own recovery loses for the start
        files = json.loads((root / case / "FW_offline.json").read_text())
        ping = json.loads((root / case / "FW_ping.json").read_text())
        assert launch["time_start"] == store_form(files["started_on"]), case
        assert launch["last_ping"] == store_form(ping["ping_time"]), case
        assert launch[CHECKPOINT_FIELD] == files["checkpoint"], case  # FireWorks writes one per task
        if "completed_on" in files:
            assert launch["time_end"] == store_form(files["completed_on"]), case
            assert launch["offline"] == RECOVERED
    assert fws["added child"]["state"] == "READY"  # the FWAction's addition
    assert fws["after action"]["spec"]["grown"] == 3  # its update_spec
    fizzled = lp.get_launch(CASES["fizzle"]["launch_id"])
    assert fizzled["exception"]["message"] == "ValueError: bad input"
    assert "fw_offline_helpers.py" in fizzled["exception"]["traceback"]
    assert lp.get_launch(CASES["running"]["launch_id"])["offline"] == "pending"  # still going


def test_the_files_are_fireworks_own():
    assert MANIFEST["fireworks"].startswith("2.1.")
    for case, expected in CASES.items():
        assert sorted(p.name for p in (DATA / "runs" / case).iterdir()) == sorted(expected["files"])
        assert json.loads((DATA / "runs" / case / "FW.json").read_text())["fw_id"] == expected["fw_id"]
    assert "FW_action.json" not in {f for c in CASES.values() for f in c["files"]}  # FireWorks writes none


def test_lpad_recover_offline_reads_fireworks_files(tmp_path):
    """The real command, in its own process, on the embedded store."""
    (tmp_path / "login").mkdir()
    user = new_user(tmp_path / "login")
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    hold_fireworks_reservations(lp, tmp_path / "jobs")

    done = user.run("lpad", "recover_offline", "--print-launches", timeout=60)
    assert done.returncode == 0, done.stderr
    ids = {case: (c["launch_id"], c["fw_id"]) for case, c in CASES.items()}
    assert done.stdout.splitlines() == [
        "launch %d of firework %d: completed (started, pinged, finished)" % ids["plain"],
        "launch %d of firework %d: fizzled (started, pinged, finished)" % ids["fizzle"],
        "launch %d of firework %d: completed (started, pinged, finished)" % ids["action"],
        "launch %d of firework %d: running (started, pinged)" % ids["running"],
        "4 offline run(s): 2 completed, 1 fizzled, 1 running",
    ]
    check_read_as_fireworks_reads(lp, tmp_path / "jobs")

    done = user.run("lpad", "recover_offline", "--print-launches", timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "launch %d of firework %d: running" % ids["running"],
        "1 offline run(s): 1 running",
    ]


def fireworks_store_moved_to(jobs):
    """fireworks_store.json's text, its runs' directories copied to ``jobs``."""
    for case in CASES:
        shutil.copytree(DATA / "runs" / case, jobs / case)
    return (DATA / "fireworks_store.json").read_text().replace(MANIFEST["scratch"], str(jobs))


def test_fireworks_offline_runs_in_flight_survive_import_fireworks(tmp_path):
    """A FireWorks user moves to starshell while offline jobs run: FireWorks' database as the
    jobs left it (fireworks_store.json) goes in with lpad admin import_fireworks, and
    lpad recover_offline then reads the jobs' files."""
    jobs = tmp_path / "jobs"
    (tmp_path / "fireworks_store.json").write_text(fireworks_store_moved_to(jobs))
    (tmp_path / "login").mkdir()
    user = new_user(tmp_path / "login")
    done = user.run(
        "lpad", "admin", "import_fireworks", "--mongomock_file", tmp_path / "fireworks_store.json", timeout=60
    )
    assert done.returncode == 0, done.stderr

    done = user.run("lpad", "recover_offline", "--print-launches", timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "4 offline run(s): 2 completed, 1 fizzled, 1 running"
    check_read_as_fireworks_reads(LaunchPad(SQLiteStore(user.home / "launchpad.sqlite")), jobs)


def test_fireworks_offline_runs_in_flight_survive_an_import_from_mongodb(tmp_path):
    """The same from FireWorks' database on a (mongomock) server into a MongoDB store."""
    import mongomock
    from bson import json_util

    from launchpad.importer import import_fireworks
    from launchpad.stores.fireworks_source import MongoSource

    jobs = tmp_path / "jobs"
    source = mongomock.MongoClient()["fireworks"]
    for name, collection in json_util.loads(fireworks_store_moved_to(jobs))["fireworks"].items():
        if collection["documents"]:
            source[name].insert_many([doc for _key, doc in collection["documents"]])
    store = make_store("mongomock", tmp_path)
    try:
        lp = LaunchPad(store)
        assert import_fireworks(lp, MongoSource(source, "mongomock")).launches == len(CASES)
        assert [r.outcome for r in recover_all(lp)] == ["completed", "fizzled", "completed", "running"]
        check_read_as_fireworks_reads(lp, jobs)
    finally:
        store.close()


def test_recover_offline_reads_fireworks_files_on_mongodb(tmp_path):
    """The same through the Python API on MongoDB (mongomock lives in this process only)."""
    store = make_store("mongomock", tmp_path)
    try:
        lp = LaunchPad(store)
        hold_fireworks_reservations(lp, tmp_path / "jobs")
        outcomes = [(r.outcome, r.steps) for r in recover_all(lp)]
        assert outcomes == [
            ("completed", ("started", "pinged", "finished")),
            ("fizzled", ("started", "pinged", "finished")),
            ("completed", ("started", "pinged", "finished")),
            ("running", ("started", "pinged")),
        ]
        check_read_as_fireworks_reads(lp, tmp_path / "jobs")
        assert [(r.outcome, r.steps) for r in recover_all(lp)] == [("running", ())]
    finally:
        store.close()


# -- the files starshell writes keep FireWorks' shape ------------------------------------------
# Keys FireWorks writes and reads with a default, which starshell may leave out (FireWorks 2.1.4:
# Firework.from_dict, FWAction.from_dict and LaunchPad.recover_offline use .get for them).
OPTIONAL = {
    "FW.json:launches",  # FireWorks writes the reservation's launch; nothing reads it offline
    "FW_offline.json:checkpoint",  # starshell writes it as each task after the first starts
    "FW_offline.json:fwaction.append_wfs",  # starshell writes it only when used
}
# Keys starshell adds, which FireWorks' readers never look at.
EXTRA = {
    "FW_offline.json:host",
    "FW_offline.json:ip",
    "FW_offline.json:ping_interval",
    "FW_offline.json:fworker",
    "FW_offline.json:exception",
    "FW_ping.json:trackers",
}
# Record times starshell writes in its store's form (UTC without the offset), which
# FireWorks' reconstitute_dates reads as it reads its own; the run's times (started_on,
# completed_on, ping_time) are FireWorks' form exactly.
NAIVE_TIMES = {"FW.json:created_on", "FW.json:updated_on"}
# FireWorks writes an addition as a Firework, starshell as a one-firework Workflow; FireWorks'
# FWAction.from_dict reads both (Workflow.from_dict takes either): the firework is compared.
ADDITION = "FW_offline.json:fwaction.additions[]"


def kind(value):
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            return "str"
        return "time+offset" if parsed.utcoffset() is not None else "time"
    return type(value).__name__


def differences(fireworks, starshell, path):
    """Where starshell's JSON value differs from FireWorks' in keys, types, time formats or nesting."""
    if path == ADDITION and isinstance(starshell, dict) and "fws" in starshell:
        starshell = starshell["fws"][0]
    if path.endswith(":spec._tasks") or path.endswith("._task"):
        return []  # the cases' own tasks
    if isinstance(fireworks, dict) and isinstance(starshell, dict):
        found = []
        for key in sorted(set(fireworks) | set(starshell)):
            where = f"{path}.{key}" if not path.endswith(":") else f"{path}{key}"
            if key not in starshell:
                found += [] if where in OPTIONAL else [f"{where}: missing"]
            elif key not in fireworks:
                found += [] if where in EXTRA or path.startswith(ADDITION) else [f"{where}: not FireWorks'"]
            else:
                found += differences(fireworks[key], starshell[key], where)
        return found
    if isinstance(fireworks, list) and isinstance(starshell, list):
        if not fireworks or not starshell:
            return []
        return differences(fireworks[0], starshell[0], f"{path}[]")
    theirs, ours = kind(fireworks), kind(starshell)
    if (theirs, ours) == ("time+offset", "time") and path in NAIVE_TIMES:
        return []
    if path.startswith(ADDITION) and theirs.startswith("time") and ours.startswith("time"):
        return []  # the addition's record times, as FW.json's
    return [] if theirs == ours else [f"{path}: {ours}, FireWorks writes {theirs}"]


@pytest.fixture(scope="module")
def starshell_files(tmp_path_factory):
    """make_files.py's cases prepared (qlaunch -r's prepare_offline_run) and run (the real
    rlaunch singleshot --offline) by starshell: check_fireworks_reads.py's starshell side."""
    sys.path.insert(0, str(DATA))
    import check_fireworks_reads as check

    root = tmp_path_factory.mktemp("starshell_offline")
    plan = check.starshell_prepare(str(root))
    check.starshell_run(str(root), plan)
    return {p["case"]: Path(p["dir"]) for p in plan}


@pytest.mark.parametrize("case", sorted(CASES))
def test_starshell_writes_the_files_fireworks_writes(case, starshell_files):
    """A drift from FireWorks' files (a key lost or renamed, a type, a time format, the nesting
    of the action, the checkpoint or the exception) fails here, though CI has no FireWorks."""
    found = []
    for name in CASES[case]["files"]:
        theirs = json.loads((DATA / "runs" / case / name).read_text())
        ours = json.loads((starshell_files[case] / name).read_text())
        found += differences(theirs, ours, f"{name}:")
    assert found == []


def test_starshell_runs_a_directory_fireworks_qlaunch_prepared(tmp_path):
    """FireWorks' qlaunch -r on the login node, starshell's rlaunch on the node: FireWorks'
    FW.json, and FW_offline.json as its setup_offline_job writes it (no spaces)."""
    launch_dir = tmp_path / "plain"
    launch_dir.mkdir()
    shutil.copy(DATA / "runs" / "plain" / "FW.json", launch_dir)
    (launch_dir / "FW_offline.json").write_text('{"launch_id":%d}' % CASES["plain"]["launch_id"])
    (tmp_path / "node").mkdir()
    node = new_user(tmp_path / "node")
    done = subprocess.run(
        [sys.executable, "-m", "rocket.cli", "singleshot", "--offline"],
        cwd=launch_dir,
        env={**node.env, "STARSHELL_LAUNCHPAD": str(tmp_path / "no_such_launchpad.yaml")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["hello", "again"]
    files = json.loads((launch_dir / "FW_offline.json").read_text())
    assert (files["launch_id"], files["state"]) == (CASES["plain"]["launch_id"], "COMPLETED")
    assert files["fwaction"]["stored_data"] == {"returncode": 0, "all_returncodes": [0]}
