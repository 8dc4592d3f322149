"""Adding a workflow is all or nothing, even when the process dies in the middle.

SQLite: a process adding a 100,000-firework workflow is killed (kill -9) at
random moments of its insert; the store then holds the whole workflow or none
of it. MongoDB has no multi-document transactions here: a crash in the middle
of an add, a delete or an append leaves pieces that the checker names and
``--fix`` removes or completes (simulated on mongomock by stopping the write
half-way).
"""

import random
import signal
import time
from datetime import timedelta

import pytest

from launchpad import Firework, LaunchPad, Workflow
from launchpad.checker import check
from launchpad.stores import SQLiteStore
from launchpad.tasks import PyTask

from .conftest import assert_clean, make_lp, record_figures, size, spawn

pytestmark = pytest.mark.faults

BIG = 100_000
ADDER = [
    "-c",
    """
import sys, time
from launchpad import Firework, LaunchPad, Workflow
from launchpad.stores import SQLiteStore
from launchpad.tasks import PyTask
n = int(sys.argv[2])
fws = [Firework(PyTask(func="len", args=[[i]]), fw_id=i, name=f"fw{i}") for i in range(1, n + 1)]
links = {i: [i + 1] for i in range(1, n, 2)}  # pairs, so every firework has a link
wf = Workflow(fws, links, name="big")
store = SQLiteStore(sys.argv[1])
insert = store.insert_workflow
def announced(*args):
    print("inserting", flush=True)
    started = time.monotonic()
    insert(*args)
    print(f"inserted {time.monotonic() - started:.3f}", flush=True)
store.insert_workflow = announced
LaunchPad(store).add_wf(wf)
""",
]


def _adder(work, store_path, n, name):
    return spawn([*ADDER, str(store_path), str(n)], work, name, stdout=-1)


@pytest.mark.timeout(size(150, 900))
def test_kill_9_while_adding_a_100k_workflow_leaves_all_or_nothing(work, store_path):
    kills = size(3, 12)
    full = _adder(work, store_path, BIG, "full")
    assert full.stdout.readline().strip() == "inserting"
    insert_secs = float(full.stdout.readline().split()[1])
    assert full.wait(60) == 0, full.err_path.read_text()
    lp = LaunchPad(SQLiteStore(store_path))
    assert lp.get_fw_ids(count_only=True) == BIG and lp.count_wfs() == 1
    rng = random.Random(100)
    outcomes = []
    for k in range(kills):
        before = lp.get_fw_ids(count_only=True)
        proc = _adder(work, store_path, BIG, f"killed{k}")
        assert proc.stdout.readline().strip() == "inserting"
        time.sleep(rng.uniform(0.05, 1.2) * insert_secs)  # past the end: the commit may win
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        added = lp.get_fw_ids(count_only=True) - before
        assert added in (0, BIG), f"kill {k} left {added} of {BIG} fireworks"
        outcomes.append(added)
    assert_clean(lp)
    assert lp.count_wfs() == 1 + outcomes.count(BIG)
    lp.add_wf(Firework(PyTask(func="len", args=[[1]])))  # the store takes writes again
    record_figures(
        "kill_9_add_100k",
        kills=kills,
        fireworks_per_add=BIG,
        insert_seconds=round(insert_secs, 2),
        all_added=outcomes.count(BIG),
        none_added=outcomes.count(0),
        partial=0,
    )


# -- MongoDB: pieces a crash leaves, and the checker's repair --------------------------
class Crash(BaseException):
    """The process dying in the middle of a write: nothing catches it."""


class Crashing:
    """A collection whose ``method`` writes the first ``keep`` documents, then crashes."""

    def __init__(self, inner, method, keep=0):
        self.inner, self.method, self.keep = inner, method, keep

    def __getattr__(self, attr):
        if attr != self.method:
            return getattr(self.inner, attr)

        def crashing(docs_or_filter, *args, **kwargs):
            if attr == "insert_many" and self.keep:
                self.inner.insert_many(list(docs_or_filter)[: self.keep], *args, **kwargs)
            raise Crash()

        return crashing


class Clock:
    def __init__(self, lp):
        self.now = lp.clock()

    def __call__(self):
        return self.now


def _chain(n, prefix="f"):
    fws = [Firework(PyTask(func="len", args=[[i]]), fw_id=i, name=f"{prefix}{i}") for i in range(1, n + 1)]
    return Workflow(fws, {i: [i + 1] for i in range(1, n)})


@pytest.mark.timeout(60)
@pytest.mark.parametrize("keep", [0, 500, 1000])
def test_mongodb_add_cut_short_leaves_nothing_after_the_fix(tmp_path, keep):
    lp = make_lp("mongomock", tmp_path)
    lp.clock = Clock(lp)
    lp.add_wf(_chain(3, "kept"))
    lp.store.fireworks = Crashing(lp.store.fireworks, "insert_many", keep)
    with pytest.raises(Crash):
        lp.add_wf(_chain(1000))
    lp.store.fireworks = lp.store.fireworks.inner
    assert lp.count_wfs() == 1 and lp.get_fw_ids(count_only=True) == 3 + keep
    report = check(lp, fix=True)  # just now: perhaps still being added, so left alone
    if keep:
        assert [p.kind for p in report.remaining] == ["orphan_firework"]
        assert "perhaps still being added; left alone" in report.remaining[0].message
    lp.clock.now += timedelta(seconds=600)
    report = check(lp, fix=True)
    assert report.ok, report.lines()
    assert lp.get_fw_ids(count_only=True) == 3 and check(lp).ok
    lp.add_wf(_chain(10))
    assert_clean(lp)


@pytest.mark.timeout(60)
def test_mongodb_delete_cut_short_is_finished_by_the_fix(tmp_path):
    lp = make_lp("mongomock", tmp_path)
    lp.add_wf(_chain(5))
    lp.add_wf(_chain(2, "other"))
    fw, launch_id = lp.claim_to_run()
    lp.complete_launch(launch_id, fw_id=fw["fw_id"])
    lp.store.launches = Crashing(lp.store.launches, "delete_many")
    with pytest.raises(Crash):
        lp.delete_wf(1)  # the workflow document went first
    lp.store.launches = lp.store.launches.inner
    report = check(lp, fix=True, grace_secs=0)
    assert [p.kind for p in report.problems] == ["orphan_firework"] and report.ok
    assert lp.get_fw_ids() == [6, 7] and lp.get_launches() == []
    assert_clean(lp)


@pytest.mark.timeout(60)
def test_mongodb_append_cut_short_is_completed_by_the_fix(tmp_path):
    """New fireworks were written but the parent never learned of them."""
    lp = make_lp("mongomock", tmp_path)
    lp.add_wf(_chain(2))
    original = lp.store.update_fireworks
    calls = []

    def dies_on_the_parent(ids, changes, expect=None):
        if "children" in changes:
            calls.append(ids)
            raise Crash()
        return original(ids, changes, expect)

    lp.store.update_fireworks = dies_on_the_parent
    with pytest.raises(Crash):
        lp.append_wf(Workflow([Firework(PyTask(func="len", args=[[0]]), fw_id=1, name="new")]), [1])
    lp.store.update_fireworks = original
    report = check(lp, fix=True, grace_secs=0)
    assert [p.kind for p in report.problems] == ["one_sided_link"] and report.ok, report.lines()
    assert sorted(lp.get_fw_dict(1)["children"]) == [2, 3]
    while lp.claim_to_run()[0] is not None:
        pass
    assert_clean(lp)
