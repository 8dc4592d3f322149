"""The invariant checker on both stores: each corruption a crash can leave is found,
said plainly, and repaired by ``fix`` only where the repair is safe."""

import pytest
from conftest import ManualClock

from launchpad import FiretaskBase, Firework, FWAction, LaunchPad, Workflow
from launchpad.checker import check
from launchpad.errors import StaleLaunchError


class CheckNoop(FiretaskBase):
    _fw_name = "Check Noop"

    def run_task(self, fw_spec):
        return None


@pytest.fixture
def clp(store):
    clock = ManualClock()
    lp = LaunchPad(store, clock=clock)
    lp.test_clock = clock
    return lp


def diamond():
    a = Firework(CheckNoop(), name="a", fw_id=1)
    b = Firework(CheckNoop(), name="b", fw_id=2, parents=[a])
    c = Firework(CheckNoop(), name="c", fw_id=3, parents=[a])
    d = Firework(CheckNoop(), name="d", fw_id=4, parents=[b, c])
    return Workflow([a, b, c, d], name="diamond")


def run_one(lp, state="COMPLETED", action=None):
    fw, launch_id = lp.claim_to_run()
    assert fw is not None
    lp.complete_launch(launch_id, action or FWAction(), state=state, fw_id=fw["fw_id"])
    return fw["fw_id"]


def kinds(report, remaining=False):
    return sorted(p.kind for p in (report.remaining if remaining else report.problems))


def doc(lp, fw_id):
    return lp.store.get_firework(fw_id)


def assert_repaired(lp, expected_kinds, grace_secs=0):
    """Found by a plain check, fixed by --fix, and nothing left after it."""
    found = check(lp)
    assert kinds(found) == sorted(expected_kinds), found.lines()
    assert not found.ok
    fixed = check(lp, fix=True, grace_secs=grace_secs)
    assert fixed.ok, fixed.lines()
    assert all(p.fixed for p in fixed.problems if p.kind in expected_kinds)
    assert check(lp).ok
    return found


# -- a healthy store ---------------------------------------------------------------
def test_clean_store_in_every_phase(clp):
    report = check(clp)
    assert report.ok and report.lines()[-1].startswith("no problems found")
    clp.add_wf(diamond())
    clp.add_wf(Firework(CheckNoop(), spec={"_allow_fizzled_parents": True}))
    assert check(clp).ok
    run_one(clp)
    fw, launch_id = clp.claim_to_run()
    assert check(clp).ok  # a firework RUNNING with its live launch
    clp.complete_launch(launch_id, fw_id=fw["fw_id"], state="FIZZLED")
    clp.defuse_fw(4)
    clp.pause_fw(3)
    assert check(clp).ok, check(clp).lines()
    clp.resume_fw(3)
    clp.reignite_fw(4)
    assert check(clp).ok, check(clp).lines()
    clp.rerun_fw(1)
    while clp.claim_to_run()[0] is not None:
        pass
    assert check(clp).ok


def test_clean_after_dynamic_additions_detours_and_archive(clp):
    clp.add_wf(diamond())
    extra = Firework(CheckNoop(), fw_id=10, name="extra")
    run_one(
        clp,
        action=FWAction(detours=[Workflow([extra])], additions=[Workflow([Firework(CheckNoop(), fw_id=11)])]),
    )
    assert check(clp).ok, check(clp).lines()
    clp.append_wf(Workflow([Firework(CheckNoop(), fw_id=1)]), [2])
    assert check(clp).ok, check(clp).lines()
    clp.archive_wf(1)
    assert check(clp).ok


def test_reserved_then_run_leaves_no_stray_reservation(clp):
    clp.add_wf(diamond())
    fw, reservation = clp.claim_for_queue()
    clp.set_reservation_id(reservation, 4711)
    assert check(clp).ok
    claimed, launch_id = clp.claim_to_run(fw_id=fw["fw_id"], states=("READY", "RESERVED"))
    assert check(clp).ok, check(clp).lines()
    clp.complete_launch(launch_id, fw_id=claimed["fw_id"])
    assert check(clp).ok, check(clp).lines()
    assert clp.get_reservations() == []
    assert clp.get_fw_ids_by_reservation(4711) == [1]


def test_fizzled_parent_allowed_then_defused_is_not_a_problem(clp):
    a = Firework(CheckNoop(), fw_id=1)
    b = Firework(CheckNoop(), fw_id=2, parents=[a], spec={"_allow_fizzled_parents": True})
    clp.add_wf(Workflow([a, b]))
    run_one(clp, state="FIZZLED")
    run_one(clp)
    clp.defuse_fw(1)
    assert check(clp).ok, check(clp).lines()


# -- counts and states against the parents ----------------------------------------
def test_child_left_waiting_after_its_parent_completed(clp):
    """A crash between the completion and the release of the children (MongoDB)."""
    clp.add_wf(diamond())
    clp.store.update_fireworks([1], {"state": "COMPLETED"})
    found = assert_repaired(clp, ["waiting_on", "waiting_on"])
    assert "would never run" in found.problems[0].message
    assert [doc(clp, i)["state"] for i in (2, 3, 4)] == ["READY", "READY", "WAITING"]
    assert doc(clp, 4)["waiting_on"] == 2


def test_ready_with_an_unfinished_parent(clp):
    clp.add_wf(diamond())
    clp.store.update_fireworks([4], {"state": "READY", "waiting_on": 0})
    found = assert_repaired(clp, ["waiting_on"])
    assert "counts 0 unfinished parent(s), but 2 are unfinished (2, 3)" in found.problems[0].message
    assert doc(clp, 4)["state"] == "WAITING" and doc(clp, 4)["waiting_on"] == 2


def test_count_off_by_one_from_a_repeated_release(clp):
    """A release applied twice (a retried write) counts a parent as done too early."""
    clp.add_wf(diamond())
    run_one(clp)
    run_one(clp)
    clp.store.release_children([4], clp.now())  # the same parent released twice
    assert doc(clp, 4)["state"] == "READY"
    assert_repaired(clp, ["waiting_on"])
    assert doc(clp, 4)["state"] == "WAITING" and doc(clp, 4)["waiting_on"] == 1


def test_paused_and_defused_keep_their_state_but_get_the_right_count(clp):
    clp.add_wf(diamond())
    clp.pause_fw(2)
    clp.defuse_fw(4)
    clp.store.update_fireworks([2, 4], {"waiting_on": 7})
    assert_repaired(clp, ["waiting_on", "waiting_on"])
    assert doc(clp, 2)["state"] == "PAUSED" and doc(clp, 2)["waiting_on"] == 1
    assert doc(clp, 4)["state"] == "DEFUSED" and doc(clp, 4)["waiting_on"] == 2


def test_ran_before_its_parents_is_reported_not_fixed(clp):
    clp.add_wf(diamond())
    clp.store.update_fireworks([2], {"state": "COMPLETED", "waiting_on": 0})
    report = check(clp, fix=True, grace_secs=0)
    assert kinds(report, remaining=True) == ["ran_too_early"]
    assert "firework 2 is COMPLETED although its parent(s) 1 are READY" in report.lines()[0]
    assert not report.ok


# -- links ----------------------------------------------------------------------------
def test_one_sided_links_are_completed(clp):
    if clp.store.kind == "sqlite":
        pytest.skip("SQLite keeps each link once, as an edge: it cannot be one-sided")
    clp.add_wf(diamond())
    clp.store.update_fireworks([1], {"children": [2]})  # lost 1 -> 3 on the parent
    clp.store.update_fireworks([4], {"parents": [2]})  # lost 3 -> 4 on the child
    found = assert_repaired(clp, ["one_sided_link", "one_sided_link", "waiting_on"])
    assert any(
        "firework 3 lists 1 among its parents, but 1 does not list 3" in p.message for p in found.problems
    )
    assert sorted(doc(clp, 1)["children"]) == [2, 3]
    assert sorted(doc(clp, 4)["parents"]) == [2, 3]


def test_dangling_links_are_dropped(clp):
    clp.add_wf(diamond())
    clp.store.update_fireworks([4], {"children": [99]})
    found = assert_repaired(clp, ["dangling_link"])
    assert "there is no firework 99" in found.problems[0].message
    assert doc(clp, 4)["children"] == []


def test_cycle_and_cross_workflow_link_are_reported(clp):
    clp.add_wf(diamond())
    clp.add_wf(Firework(CheckNoop(), fw_id=1))
    clp.store.update_fireworks([4], {"children": [1]})
    clp.store.update_fireworks([1], {"parents": [4]})
    clp.store.update_fireworks([5], {"parents": [3]})
    clp.store.update_fireworks([3], {"children": [4, 5]})
    report = check(clp, fix=True, grace_secs=0)
    assert "cycle" in kinds(report, remaining=True)
    assert "cross_workflow_link" in kinds(report, remaining=True)
    assert any("1 -> 2 -> 4 -> 1" in line or "1 -> 3 -> 4 -> 1" in line for line in report.lines())


# -- RUNNING fireworks and their launches ------------------------------------------
def test_running_firework_whose_launch_was_never_written(clp):
    """A crash between the claim and the launch insert (MongoDB) leaves it RUNNING for ever."""
    clp.add_wf(diamond())
    fw, launch_id = clp.claim_to_run()
    clp.store.delete_launches([launch_id])
    report = check(clp, fix=True)  # the default grace: too fresh to touch
    assert kinds(report, remaining=True) == ["no_live_launch"]
    assert "left alone" in report.remaining[0].message
    clp.test_clock.advance(301)
    found = assert_repaired(clp, ["no_live_launch"], grace_secs=300)
    assert "which does not exist" in found.problems[0].message
    assert doc(clp, 1)["state"] == "READY" and doc(clp, 1)["current_launch"] is None


def test_running_firework_whose_launch_was_declared_lost_half_way(clp):
    clp.add_wf(diamond())
    fw, launch_id = clp.claim_to_run()
    clp.store.update_launch(launch_id, {"state": "FIZZLED"})
    assert_repaired(clp, ["no_live_launch", "stray_launch"][:1])
    assert doc(clp, 1)["state"] == "READY"
    with pytest.raises(StaleLaunchError):  # the rocket, if alive, is refused
        clp.complete_launch(launch_id, fw_id=1)
    assert check(clp).ok


def test_running_launch_of_a_firework_that_moved_on(clp):
    """A crash between requeueing a firework and closing its launch (MongoDB)."""
    clp.add_wf(diamond())
    fw, launch_id = clp.claim_to_run()
    clp.store.update_fireworks([1], {"state": "READY", "current_launch": None})
    found = assert_repaired(clp, ["stray_launch"])
    assert f"launch {launch_id} is RUNNING but its firework 1 is READY" in found.problems[0].message
    assert clp.get_launch(launch_id)["state"] == "FIZZLED"


def test_completed_firework_whose_launch_was_not_closed(clp):
    clp.add_wf(diamond())
    fw, launch_id = clp.claim_to_run()
    clp.store.update_fireworks([1], {"state": "COMPLETED"})
    assert_repaired(clp, ["stray_launch", "waiting_on", "waiting_on"])
    assert clp.get_launch(launch_id)["state"] == "COMPLETED"


def test_reserved_firework_without_its_reservation(clp):
    clp.add_wf(diamond())
    fw, launch_id = clp.claim_for_queue()
    clp.store.delete_launches([launch_id])
    assert_repaired(clp, ["no_live_launch"])
    assert doc(clp, 1)["state"] == "READY"


# -- pieces without their workflow --------------------------------------------------
def _orphans(lp, wf_id=77):
    start = lp.store.next_ids("fw", 2)
    base = {
        "wf_id": wf_id,
        "name": "x",
        "state": "READY",
        "spec": {},
        "waiting_on": 0,
        "current_launch": None,
        "not_before": None,
        "priority": 0,
        "category": None,
        "fworker": None,
        "created_on": lp.now(),
        "updated_on": lp.now(),
    }
    lp.store.insert_fireworks(
        [
            {**base, "fw_id": start, "parents": [], "children": [start + 1]},
            {
                **base,
                "fw_id": start + 1,
                "parents": [start],
                "children": [],
                "state": "WAITING",
                "waiting_on": 1,
            },
        ]
    )
    return [start, start + 1]


def test_fireworks_of_an_interrupted_add_are_removed_once_settled(clp):
    clp.add_wf(diamond())
    ids = _orphans(clp)
    fresh = check(clp, fix=True)
    assert kinds(fresh, remaining=True) == ["orphan_firework"]
    assert "perhaps still being added; left alone" in fresh.remaining[0].message
    assert clp.get_fw_ids(count_only=True) == 6
    clp.test_clock.advance(600)
    found = assert_repaired(clp, ["orphan_firework"], grace_secs=300)
    assert (
        f"firework(s) {ids[0]}, {ids[1]} belong to workflow 77, which does not exist"
        in found.problems[0].message
    )
    assert clp.get_fw_ids() == [1, 2, 3, 4]


def test_launches_without_their_firework_are_removed(clp):
    clp.add_wf(diamond())
    clp.store.insert_launch(
        {"launch_id": clp.store.next_ids("launch"), "fw_id": 999, "state": "COMPLETED", "state_history": []}
    )
    assert_repaired(clp, ["orphan_launch"])
    assert clp.get_launches() == []


def test_empty_workflow_is_removed(clp):
    clp.store.insert_workflow(
        {
            "wf_id": clp.store.next_ids("wf"),
            "name": "hollow",
            "created_on": clp.now(),
            "updated_on": clp.now(),
        },
        [],
    )
    found = assert_repaired(clp, ["empty_workflow"])
    assert "'hollow'" in found.problems[0].message
    assert clp.count_wfs() == 0


def test_id_counter_behind_the_data(clp):
    """Data imported by hand past the counter: the next add would collide."""
    clp.add_wf(diamond())
    clp.store.insert_fireworks([dict(doc(clp, 1), fw_id=500, children=[])])
    found = assert_repaired(clp, ["id_counter"])
    assert "the next fw_id would be 5, but fireworks up to 500 exist" in found.problems[0].message
    assert clp.store.next_ids("fw", 0) == 501
    assert clp.add_wf(Firework(CheckNoop())) == {-1: 501} or clp.get_fw_ids()[-1] == 501


# -- repairs never overwrite a concurrent change -----------------------------------
def test_a_repair_gives_way_to_a_change_made_meanwhile(clp):
    clp.add_wf(diamond())
    clp.store.update_fireworks([4], {"state": "READY", "waiting_on": 0})
    problem = check(clp).problems[0]
    clp.defuse_fw(4)  # someone acts on the firework between the check and the fix
    assert problem.repair() is False
    assert doc(clp, 4)["state"] == "DEFUSED"


def test_report_forms(clp):
    clp.add_wf(diamond())
    clp.store.update_fireworks([4], {"state": "READY", "waiting_on": 0})
    report = check(clp)
    data = report.to_dict()
    assert data["ok"] is False and data["checked"] == {"workflows": 1, "fireworks": 4, "launches": 0}
    assert data["problems"][0]["fw_id"] == 4 and data["problems"][0]["fixable"] is True
    assert (
        report.lines()[-1] == "1 problem(s) left; 1 can be fixed with --fix "
        "(1 workflows, 4 fireworks, 0 launches)"
    )
    fixed = check(clp, fix=True)
    assert fixed.lines()[0].startswith("fixed: firework 4")
    assert fixed.lines()[-1].startswith("1 problem(s) fixed; none left")


# -- lpad admin check ------------------------------------------------------------------
class _EntryPoint:
    name, value = "admin", "launchpad.cli.admin:register"

    def load(self):
        from launchpad.cli import admin as cli_admin

        return cli_admin.register


@pytest.fixture
def lpad(monkeypatch):
    """``lpad`` with ``admin`` wired in the way the plugin hook does it."""
    from launchpad.cli import lpad as cli

    monkeypatch.setattr(cli, "plugin_entry_points", lambda: [_EntryPoint()])
    return cli.main


def test_lpad_admin_check_and_fix(lpad, sqlite_lp, capsys):
    sqlite_lp.add_wf(diamond())
    assert lpad(["admin", "check"], launchpad=sqlite_lp) == 0
    assert "no problems found (1 workflows, 4 fireworks, 0 launches)" in capsys.readouterr().out
    sqlite_lp.store.update_fireworks([4], {"state": "READY", "waiting_on": 0})
    assert lpad(["admin", "check"], launchpad=sqlite_lp) == 1
    out = capsys.readouterr().out
    assert "firework 4 counts 0 unfinished parent(s)" in out and "can be fixed with --fix" in out
    assert lpad(["admin", "check", "--fix"], launchpad=sqlite_lp) == 0
    assert capsys.readouterr().out.startswith("fixed: firework 4")
    assert lpad(["admin", "check", "-o", "json"], launchpad=sqlite_lp) == 0
    import json

    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_lpad_admin_check_usage_errors(lpad, sqlite_lp, capsys):
    assert lpad(["admin"], launchpad=sqlite_lp) == 2
    assert lpad(["admin", "check", "--grace", "-3"], launchpad=sqlite_lp) == 2
    assert "seconds cannot be negative" in capsys.readouterr().err
    assert lpad(["admin", "check", "--grace", "soon"], launchpad=sqlite_lp) == 2


# -- a store written before the links table ------------------------------------------
_V1_DDL = """
CREATE TABLE counters (name TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE workflows (wf_id INTEGER PRIMARY KEY, name TEXT, created_on TEXT, updated_on TEXT,
    doc TEXT NOT NULL);
CREATE TABLE fireworks (fw_id INTEGER PRIMARY KEY, wf_id INTEGER NOT NULL, name TEXT,
    state TEXT NOT NULL, priority NUMERIC NOT NULL DEFAULT 0, category TEXT, fworker TEXT,
    waiting_on INTEGER NOT NULL DEFAULT 0, current_launch INTEGER, not_before TEXT,
    created_on TEXT, updated_on TEXT, doc TEXT NOT NULL);
CREATE TABLE launches (launch_id INTEGER PRIMARY KEY, fw_id INTEGER NOT NULL, state TEXT,
    last_ping TEXT, reservation_id TEXT, host TEXT, launch_dir TEXT, time_start TEXT,
    time_end TEXT, doc TEXT NOT NULL);
"""


def test_a_store_from_before_the_links_table_keeps_its_links(tmp_path):
    """Version 1 files kept parents/children in each firework's JSON: opening one must
    move them to the links table, not lose them (the checker would see a broken DAG)."""
    import json
    import sqlite3

    from launchpad.stores import SQLiteStore

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(_V1_DDL + "PRAGMA user_version = 1;")
    conn.execute("INSERT INTO counters VALUES ('fw', 3), ('wf', 1)")
    conn.execute("INSERT INTO workflows VALUES (1, 'old', 't', 't', '{\"metadata\": {}}')")
    task = {"_tasks": [{"_fw_name": "Check Noop"}]}
    for fw_id, state, waiting, parents, children in [
        (1, "COMPLETED", 0, [], [2, 3]),
        (2, "READY", 0, [1], []),
        (3, "READY", 0, [1], []),
    ]:
        old = {"spec": task, "parents": parents, "children": children}
        conn.execute(
            "INSERT INTO fireworks (fw_id, wf_id, name, state, waiting_on, doc) VALUES (?, 1, ?, ?, ?, ?)",
            (fw_id, f"fw{fw_id}", state, waiting, json.dumps(old)),
        )
    conn.close()
    lp = LaunchPad(SQLiteStore(path))
    assert sorted(doc(lp, 1)["children"]) == [2, 3] and doc(lp, 3)["parents"] == [1]
    assert "parents" not in json.loads(
        sqlite3.connect(path).execute("SELECT doc FROM fireworks WHERE fw_id = 2").fetchone()[0]
    )
    assert check(lp).ok, check(lp).lines()
    lp.store.close()
    again = LaunchPad(SQLiteStore(path))  # a second open changes nothing
    assert sorted(doc(again, 1)["children"]) == [2, 3] and check(again).ok


def test_the_check_reads_one_view_without_holding_back_writers(tmp_path):
    from launchpad.stores import SQLiteStore

    path = tmp_path / "s.sqlite"
    reader = LaunchPad(SQLiteStore(path))
    writer = LaunchPad(SQLiteStore(path, busy_timeout=0.1, lock_patience=0.3))
    reader.add_wf(diamond())
    with reader.store.snapshot():
        before = reader.get_fw_ids(count_only=True)
        writer.add_wf(diamond())  # would time out if the check held the write lock
        assert reader.get_fw_ids(count_only=True) == before == 4  # the view does not move
    assert check(reader).checked["fireworks"] == 8
    assert check(reader).ok


# -- read in batches (issue 14: a million fireworks) ------------------------------------
def test_batches_find_what_one_read_finds(clp):
    """Batches of one workflow: links, parents and launches in other batches, fireworks of
    missing workflows between and past the workflows, give the same report as one read."""
    for _ in range(3):
        clp.add_wf(diamond())  # fw 1-4, 5-8, 9-12 in workflows 1, 2, 3
    clp.store.update_fireworks([5], {"state": "COMPLETED"})  # children 6, 7 left WAITING
    clp.store.update_fireworks([12], {"parents": [9, 10, 11, 1]})  # a parent in workflow 1
    clp.store.update_fireworks([1], {"children": [2, 3, 12]})
    clp.store.update_fireworks([10], {"children": [99]})  # dangling
    clp.store.update_fireworks([8], {"children": [5]})  # a cycle in workflow 2
    clp.store.update_fireworks([5], {"parents": [8]})
    fw, launch_id = clp.claim_to_run()  # firework 1 RUNNING, then its launch lost
    clp.store.delete_launches([launch_id])
    clp.store.insert_launch({"launch_id": clp.store.next_ids("launch"), "fw_id": 777, "state": "RUNNING"})
    clp.store.next_ids("wf")  # no workflow 4
    clp.add_wf(diamond())  # workflow 5
    _orphans(clp, wf_id=4)  # between two workflows
    _orphans(clp, wf_id=50)  # past every workflow: the last batch
    clp.store.insert_workflow({"wf_id": clp.store.next_ids("wf"), "name": "hollow"}, [])
    clp.test_clock.advance(600)
    whole = check(clp)
    assert {"cross_workflow_link", "dangling_link", "cycle", "no_live_launch", "orphan_launch"} <= set(
        kinds(whole)
    ), whole.lines()
    assert {"orphan_firework", "empty_workflow", "waiting_on"} <= set(kinds(whole)), whole.lines()
    assert [p.wf_id for p in whole.problems if p.kind == "orphan_firework"] == [4, 50]
    for size in (1, 4, 5):
        assert check(clp, batch=size).to_dict() == whole.to_dict(), size
    fixed = check(clp, fix=True, grace_secs=0, batch=1)
    assert fixed.to_dict()["remaining"] == check(clp).to_dict()["remaining"]
    assert {p.kind for p in fixed.remaining} <= {"cross_workflow_link", "cycle", "ran_too_early"}


def test_progress_is_reported_per_batch(clp):
    for _ in range(3):
        clp.add_wf(diamond())
    seen = []
    assert check(clp, batch=4, progress=lambda done, total: seen.append((done, total))).ok
    assert seen == [(4, 12), (8, 12), (12, 12)]


def test_lpad_admin_check_draws_progress_on_a_terminal_only():
    import io

    from launchpad.cli.admin import _check_progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert _check_progress(io.StringIO()) is None
    screen = Terminal()
    show = _check_progress(screen)
    show(4, 8)
    show(8, 8)
    assert screen.getvalue() == "\rchecked 4/8 fireworks\rchecked 8/8 fireworks\n"


_PEAK_OF_CHECK = """
import sys, tracemalloc
from launchpad import LaunchPad, Firework, Workflow, ScriptTask
from launchpad.checker import check
from launchpad.stores import SQLiteStore

lp = LaunchPad(SQLiteStore(sys.argv[1]))
for n in range(int(sys.argv[2])):
    fws = [Firework(ScriptTask.from_str("true"), name=f"f{i}") for i in range(50)]
    lp.add_wf(Workflow(fws, {a: [b] for a, b in zip(fws, fws[25:])}, name=f"wf{n}"))
tracemalloc.start()
report = check(lp, batch=100)
assert report.ok, report.lines()
print(tracemalloc.get_traced_memory()[1])
"""


def test_memory_of_a_check_stays_flat_in_the_number_of_workflows(tmp_path):
    """Ten times the workflows, about the same peak (it grew with the store when every
    workflow, firework and launch was read before the first rule ran)."""
    import subprocess
    import sys

    def peak(workflows):
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_OF_CHECK, str(tmp_path / f"{workflows}.sqlite"), str(workflows)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return int(done.stdout.split()[-1])

    small, large = peak(4), peak(40)
    assert large < small * 1.5, (small, large)
