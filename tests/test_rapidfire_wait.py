"""When rapidfire waits, and for how long: only while work can still come for its worker.

Store-level rules run on both backends; the user's cases (``--nlaunches
infinite``, ``rlaunch multi`` ending promptly, ``qlaunch`` demand for a wide
step) run the real commands in their own processes.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

import pytest
from conftest import ManualClock
from faults.conftest import process_env
from test_queue_slurm_e2e import script_fw, site  # noqa: F401  (site: the Slurm fixture)
from test_slurm_real import slurm_up  # noqa: F401  (site's own fixture)

from launchpad import Firework, LaunchPad, Workflow
from launchpad.launchpad import TIME_FORMAT
from launchpad.stores import SQLiteStore, WorkerFilter
from launchpad.tasks import PyTask, ScriptTask
from launchpad.worker import FWorker
from queue_adapters.launcher import QueueLauncher
from rocket import rapidfire
from rocket.launcher import Waiting


def noop(name=None, fw_id=None, parents=None, **spec):
    return Firework(
        PyTask(func="math.floor", args=[1]), name=name, fw_id=fw_id, parents=parents, spec=spec or None
    )


# -- the store's walk over WAITING descendants ---------------------------------------
def test_waiting_descendants_respect_the_worker_and_stop_at_blocked_ones(lp):
    root = noop("root", 1)
    gpu = noop("gpu", 2, [root], _category="gpu")
    cpu = noop("cpu", 3, [gpu], _category="cpu")
    paused = noop("paused", 4, [root])
    behind = noop("behind", 5, [paused], _category="cpu")
    lp.add_wf(Workflow([root, gpu, cpu, paused, behind]))
    lp.pause_fw(4)
    lp.claim_to_run()
    count = lp.store.count_waiting_descendants
    assert count(WorkerFilter(category="cpu"), [1]) == 1  # a grandchild, not 5
    assert count(WorkerFilter(category="cpu"), [1], children_only=True) == 0
    assert count(WorkerFilter(category="gpu"), [1], children_only=True) == 1
    assert count(WorkerFilter(), [1]) == 2 and count(WorkerFilter(), [1], limit=1) == 1
    assert count(WorkerFilter(query={"name": "cpu"}), [1]) == 1
    assert count(WorkerFilter(query={"name": "behind"}), [1]) == 0
    assert count(WorkerFilter(), []) == 0
    assert lp.future_run_exists(WorkerFilter(category="cpu"))
    assert lp.future_run_exists(FWorker(category="cpu"))
    assert not lp.future_run_exists(WorkerFilter(category="bigmem"))
    assert lp.run_exists(WorkerFilter(category="bigmem"))  # qlaunch's: something runs


def test_a_diamond_counts_once_and_long_lists_of_runs_work(lp):
    top = noop("top", 1)
    left, right = noop("l", 2, [top]), noop("r", 3, [top])
    lp.add_wf(Workflow([top, left, right, noop("bottom", 4, [left, right])]))
    parents = [noop(f"p{i}", 10 + i) for i in range(70)]
    lp.add_wf(Workflow(parents + [noop(f"c{i}", 100 + i, [parents[i]]) for i in range(70)]))
    for doc in lp.get_fws({"state": "READY"}, fields=["fw_id"]):
        lp.claim_to_run(fw_id=doc["fw_id"])
    running = [d["fw_id"] for d in lp.get_fws({"state": "RUNNING"}, fields=["fw_id"])]
    assert len(running) == 71
    assert lp.store.count_waiting_descendants(WorkerFilter(), running) == 3 + 70
    assert lp.count_upcoming() == 2 + 70 and lp.count_upcoming(limit=5) == 5


def test_silent_runs_keep_no_one_waiting_and_are_reported_once(store, caplog):
    clock = ManualClock()
    lp = LaunchPad(store, clock=clock)
    x = noop("x", 1)
    lp.add_wf(Workflow([x, noop("child", 2, [x])]))
    a = noop("a", 3)
    lp.add_wf(Workflow([a, noop("b", 4, [a])]))
    _, alive_launch = lp.claim_to_run(fw_id=1)
    _, lost_launch = lp.claim_to_run(fw_id=3)
    assert lp.future_run_exists(lost_after=600) and lp.count_upcoming() == 2
    clock.advance(400)
    lp.ping_launch(alive_launch)  # the rocket of firework 1 is alive; that of firework 3 is not
    clock.advance(210)
    assert lp.silent_runs(600) == [(3, lost_launch, 610.0)]
    assert lp.count_upcoming() == 1
    waiting = Waiting(lp, WorkerFilter(query={"name": "b"}), lost_after=600)
    with caplog.at_level(logging.WARNING, logger="rocket"):
        assert not waiting.work_may_come()
        assert not waiting.work_may_come()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["firework 3 looks lost (no heartbeat for 610 s); run lpad detect_lostruns"]
    assert lp.future_run_exists(WorkerFilter(query={"name": "b"}))  # FireWorks': no heartbeats
    assert Waiting(lp, WorkerFilter(query={"name": "child"}), lost_after=600).work_may_come()


# -- an idle rocket: cheap while it waits, prompt when the run it waits for ends ------
class CountingStore:
    """The store, counting the calls the LaunchPad makes to it."""

    def __init__(self, store):
        self._store, self.calls = store, 0

    def __getattr__(self, name):
        value = getattr(self._store, name)
        if not callable(value):
            return value

        def counted(*args, **kwargs):
            self.calls += 1
            return value(*args, **kwargs)

        return counted


def test_an_idle_rocket_polls_lightly_and_ends_soon_after_the_run(store, tmp_path):
    lp = LaunchPad(store)
    parent = noop("parent", 1)
    lp.add_wf(Workflow([parent, noop("child", 2, [parent]), noop("first", 3)]))
    _, launch_id = lp.claim_to_run(fw_id=1)  # another rocket runs the parent
    counting = CountingStore(store)
    done = {}

    def rocket():
        done["n"] = rapidfire(
            LaunchPad(counting), launch_root=str(tmp_path), sleep_time=60, ping_interval=0, chdir=False
        )
        done["at"] = time.monotonic()

    thread = threading.Thread(target=rocket, daemon=True)
    thread.start()
    time.sleep(1.0)  # fw 3 ran; now it waits for fw 1
    before, started = counting.calls, time.monotonic()
    time.sleep(3.0)
    rate = (counting.calls - before) / (time.monotonic() - started)
    assert thread.is_alive() and rate <= 2.5, f"{rate:.1f} store calls a second while idle"
    ended = time.monotonic()
    lp.complete_launch(launch_id, fw_id=1)
    thread.join(timeout=10)
    assert not thread.is_alive() and done["n"] == 2
    assert done["at"] - ended < 2.0  # not the 60 s of --sleep
    assert lp.fw_state_counts() == {"COMPLETED": 3}


class BusyStore:
    """A LaunchPad stand-in on a busy cluster: runs start and end at every poll, and a
    closer look (a worker query over a huge workflow) takes ``look`` seconds."""

    def __init__(self, clock, look):
        self.clock, self.look, self.marks, self.looks = clock, look, 0, 0

    def activity_mark(self):
        self.marks += 1
        return self.marks

    def count_ready(self, worker, limit=None):
        self.looks += 1
        self.clock.now += self.look
        return 0

    def silent_runs(self, seconds):
        return []

    def future_run_exists(self, worker, lost_after=None):
        return True


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.mark.parametrize("look,most", [(0.001, 60), (1.0, 6)])
def test_slow_looks_are_spaced_out(look, most):
    clock = FakeTime()
    busy = BusyStore(clock, look)
    Waiting(busy, WorkerFilter(), None, clock=clock, sleep=clock.sleep).nap(60)
    assert most - 2 <= busy.looks <= most  # cheap: every 1 s nap; slow: a tenth of the time


# -- the real commands ------------------------------------------------------------------
@pytest.fixture
def home(tmp_path):
    """A fresh STARSHELL_HOME and working directory for real rlaunch/lpad processes."""
    work = tmp_path / "work"
    work.mkdir()
    return process_env(tmp_path / "home"), work, tmp_path / "home" / "launchpad.sqlite"


def command(module, args, env, work, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        env=env,
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def wait_until(predicate, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.mark.timeout(90)
@pytest.mark.parametrize("nlaunches", ["infinite", "-1"])
def test_infinite_rapidfire_waits_for_work_added_later(home, nlaunches):
    env, work, db = home
    proc = command("rocket.cli", ["rapidfire", "--nlaunches", nlaunches, "--sleep", "0.5"], env, work)
    time.sleep(2.0)
    assert proc.poll() is None, proc.communicate()[1]  # no work yet: it waits, as in FireWorks
    (work / "later.yaml").write_text(
        "name: later\nspec:\n  _tasks:\n  - _fw_name: ScriptTask\n    script: echo added later\n"
    )
    added = subprocess.run(
        [sys.executable, "-m", "launchpad.cli", "add", "later.yaml"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    lp = LaunchPad(SQLiteStore(db))
    wait_until(lambda: lp.fw_state_counts() == {"COMPLETED": 1}, 30, "the added firework to run")
    time.sleep(1.0)
    assert proc.poll() is None  # still waiting for more
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM; no firework was left RUNNING" in err
    assert lp.fw_state_counts() == {"COMPLETED": 1}


@pytest.mark.timeout(60)
def test_infinite_rapidfire_ends_at_its_timeout(home):
    env, work, _ = home
    started = time.monotonic()
    proc = command(
        "rocket.cli", ["rapidfire", "--nlaunches", "infinite", "--sleep", "30", "--timeout", "2"], env, work
    )
    _, err = proc.communicate(timeout=40)
    assert proc.returncode == 0, err
    assert 1.5 < time.monotonic() - started < 15  # it waited, and the timeout cut the 30 s short
    assert "rapidfire finished after 0 firework(s)" in err


@pytest.mark.timeout(120)
def test_multi_ends_within_about_a_second_of_the_last_firework(home):
    """Issue 14: one rocket used to sleep a whole --sleep round while the other ran the
    last firework."""
    env, work, db = home
    lp = LaunchPad(SQLiteStore(db))
    slow = Firework(ScriptTask(script="sleep 2"), name="slow", fw_id=1)
    after = noop("after", 2, [slow])
    lp.add_wf(Workflow([slow, after] + [noop(f"quick{i}", 10 + i) for i in range(30)]))
    started = time.monotonic()
    proc = command("rocket.cli", ["-s", "multi", "2", "--sleep", "60"], env, work)
    _, err = proc.communicate(timeout=100)
    ended = datetime.now(timezone.utc)
    assert proc.returncode == 0, err
    assert lp.fw_state_counts() == {"COMPLETED": 32}
    last = max(
        datetime.strptime(launch["time_end"], TIME_FORMAT).replace(tzinfo=timezone.utc)
        for launch in lp.get_launches(fields=["time_end"])
    )
    assert (ended - last).total_seconds() < 2.5, f"ended {ended - last} after the last firework"
    assert time.monotonic() - started < 40


# -- pilot demand: work about to become READY -----------------------------------------------
class Queue:
    """Just enough of a queue adapter for ``demand``: ``queued`` jobs of ours."""

    q_type = "none"
    job_name = "pilot"
    queue = None

    def __init__(self, queued):
        self.queued = queued

    def count_jobs(self, name, queue=None):
        return self.queued


def test_demand_counts_the_children_of_running_fireworks(lp, tmp_path):
    root = noop("root", 1)
    lp.add_wf(Workflow([root] + [noop(f"branch{i}", 2 + i, [root]) for i in range(4)]))
    lp.add_wf(noop("gpu only", 10, _category="gpu"))
    lp.claim_to_run(fw_id=1)  # the first pilot runs the root
    launcher = QueueLauncher(lp, Queue(queued=1), FWorker(category="__none__"), launch_dir=str(tmp_path))
    first = launcher.demand(maxjobs_queue=4)
    assert (first.ready, first.upcoming, first.queued, first.wanted) == (0, 4, 1, 3)
    assert "0 (+4 about to be) READY firework(s)" in first.summary(4)
    assert launcher.demand(maxjobs_queue=2).wanted == 1
    reserving = QueueLauncher(lp, Queue(queued=1), reserve=True, launch_dir=str(tmp_path))
    assert reserving.demand(maxjobs_queue=4).upcoming == 0  # only READY work can be reserved


@pytest.mark.slurm
@pytest.mark.timeout(240)
def test_qlaunch_queues_pilots_for_a_wide_step_while_its_parent_runs(site):  # noqa: F811
    """Issue 9 item 9: four parallel fireworks behind a running root got one pilot, and
    the next round came a whole --sleep later; now the root's WAITING children count."""
    hold = site.work / "hold"
    hold.touch()
    wait = f"for i in $(seq 600); do [ -e {hold} ] || break; sleep 0.1; done"
    fws = [script_fw(1, wait)] + [script_fw(i, "sleep 1") for i in range(2, 6)]
    site.lp.add_wf({"fws": fws, "links": {1: [2, 3, 4, 5]}, "name": "wide"})
    qa = site.qadapter()

    def pilots():
        return len(list(site.work.glob("block_*/launcher_*/FW_job_id")))

    qlaunch = command(
        "queue_adapters.cli",
        ["--submit_interval", "0.2", "-q", qa, "rapidfire", "-m", "4", "--sleep", "2", "--timeout", "150"],
        dict(os.environ),
        site.work,
    )
    try:
        site.wait_for("the root running in the first pilot", lambda: site.states().get("RUNNING") == 1)
        site.wait_for("a pilot for each branch while the root runs", lambda: pilots() == 4, 20)
        assert site.states() == {"RUNNING": 1, "WAITING": 4}
        hold.unlink()
        _, err = qlaunch.communicate(timeout=180)
    finally:
        if qlaunch.poll() is None:
            qlaunch.kill()
    assert qlaunch.returncode == 0, err
    site.wait_for("the branches to complete in the pilots", lambda: site.states() == {"COMPLETED": 5})
    branches = site.lp.get_launches({"fw_id": {"$gt": 1}}, fields=["launch_dir"])
    branch_pilots = {os.path.dirname(launch["launch_dir"]) for launch in branches}
    assert len(branch_pilots) >= 2, site.pilot_logs()  # the branches ran side by side
    assert pilots() == 4 and "(+4 about to be) READY" in err
