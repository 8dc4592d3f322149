"""Rockets stop waiting for rockets that died (issue 9, item 2).

``kill -9`` leaves a firework RUNNING. Surviving ``rlaunch rapidfire``
processes used to sleep round after round for it, so a pilot job idled to its
walltime. Now a run keeps rockets waiting only while its heartbeat is fresh
and it has WAITING descendants they could run; then, as an operator would:
``lpad detect_lostruns --rerun`` and one more rapidfire finish the work, and
nothing ran twice except the killed launches.
"""

import random
import signal
import time
from datetime import datetime, timezone

import pytest

from launchpad import Workflow
from launchpad.launchpad import TIME_FORMAT

from .conftest import (
    assert_clean,
    assert_exactly_once,
    finish,
    lpad,
    recording_fw,
    rlaunch,
    size,
    wait_for,
)
from .tasks import read_log

pytestmark = pytest.mark.faults

SLEEP = 1.0
# Heartbeats every 0.2 s: a run looks lost after 10 of them (2 s).
ROCKET_ARGS = ("--ping_interval", "0.2", "rapidfire", "--sleep", str(SLEEP))
LOST_RUNS = ("--time", "2", "--rerun")  # the rockets recorded their 0.2 s heartbeat


def _utc(timestamp):
    return datetime.strptime(timestamp, TIME_FORMAT).replace(tzinfo=timezone.utc)


def _exit_times(procs, timeout):
    """When each process ended (UTC), polling them; fails if some never end."""
    ended, deadline = {}, time.monotonic() + timeout
    while len(ended) < len(procs) and time.monotonic() < deadline:
        for i, p in enumerate(procs):
            if i not in ended and p.poll() is not None:
                ended[i] = datetime.now(timezone.utc)
        time.sleep(0.02)
    waiting = [i for i in range(len(procs)) if i not in ended]
    if waiting:
        for i in waiting:
            procs[i].send_signal(signal.SIGKILL)
        raise AssertionError(
            f"{len(waiting)} rocket(s) still waiting {timeout} s on: "
            "they wait for runs whose rockets were killed"
        )
    return [ended[i] for i in range(len(procs))]


def _errors(procs):
    return "\n".join(p.err_path.read_text()[-2000:] for p in procs if p.err_path.exists())


@pytest.mark.timeout(size(180, 900))
def test_rockets_exit_when_only_killed_runs_are_left(lp, work):
    n, kills = size(300, 600), size(3, 10)
    log_path, hold = work / "ran.log", work / "hold"
    hold.touch()
    fws = [recording_fw(str(i), log_path, 0.02, hold=hold if i < 3 else None) for i in range(n)]
    for fw_id, fw in enumerate(fws, 1):
        fw.fw_id = fw_id  # the held ones are claimed first
    lp.add_wf(Workflow(fws))
    rockets = [rlaunch(work, f"rocket{i}", "-s", *ROCKET_ARGS) for i in range(3)]
    killed = set()
    # Each rocket holds one of the first three fireworks: the first kill leaves one RUNNING.
    wait_for(lambda: len(read_log(log_path)) == 3, 60, "three rockets in their first task")
    rng = random.Random(7)
    for k in range(kills):
        alive = [i for i, p in enumerate(rockets) if p.poll() is None]
        victim = rng.choice(alive)
        rockets[victim].send_signal(signal.SIGKILL)
        rockets[victim].wait()
        killed.add(victim)
        rockets.append(rlaunch(work, f"rocket{len(rockets)}", "-s", *ROCKET_ARGS))
        if k == 0:
            hold.unlink()
        time.sleep(rng.uniform(0.1, 0.4))
        if not lp.fw_state_counts().get("READY"):
            break
    last_kill = time.monotonic()

    exits = _exit_times(rockets, size(60, 300))
    survivors = [i for i in range(len(rockets)) if i not in killed]
    assert [rockets[i].returncode for i in survivors] == [0] * len(survivors), _errors(rockets)
    counts = lp.fw_state_counts()
    assert 1 <= counts.get("RUNNING", 0) <= len(killed) and set(counts) == {"COMPLETED", "RUNNING"}
    last_done = max(
        _utc(launch["time_end"]) for launch in lp.get_launches({"state": "COMPLETED"}, fields=["time_end"])
    )
    late = max((exits[i] - last_done).total_seconds() for i in survivors)
    assert late <= 2 * SLEEP + 1.5, f"a rocket ended {late:.1f} s after the last firework"

    time.sleep(max(0.0, last_kill + 2.5 - time.monotonic()))  # the killed runs' pings are old
    code, _, err = lpad(work, "detect_lostruns", *LOST_RUNS)
    assert code == 0, err
    rerun = rlaunch(work, "rerun", "-s", *ROCKET_ARGS)
    assert finish([rerun], size(60, 300)) == [0], _errors([rerun])
    assert_exactly_once(lp, log_path, [str(i) for i in range(n)])
    assert_clean(lp)


@pytest.mark.timeout(120)
def test_a_lost_parent_keeps_no_one_waiting_and_is_reported(lp, work):
    log_path, hold = work / "ran.log", work / "hold"
    hold.touch()
    fws = [recording_fw("parent", log_path, hold=hold)] + [
        recording_fw(f"child{i}", log_path) for i in range(4)
    ]
    for fw_id, fw in enumerate(fws, 1):
        fw.fw_id = fw_id
    lp.add_wf(Workflow(fws, {1: [2, 3, 4, 5]}))
    runner = rlaunch(work, "runner", "-s", *ROCKET_ARGS)
    wait_for(lambda: read_log(log_path), 60, "the parent to start")
    waiter = rlaunch(work, "waiter", *ROCKET_ARGS)
    time.sleep(3.0)  # longer than the lost-run limit: a live parent keeps the waiter waiting
    assert waiter.poll() is None, _errors([waiter])
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    killed = datetime.now(timezone.utc)
    [ended] = _exit_times([waiter], 30)
    assert waiter.returncode == 0, _errors([waiter])
    assert (ended - killed).total_seconds() <= 2 + 2 * SLEEP + 1.5
    log_text = waiter.err_path.read_text()
    assert "firework 1 looks lost (no heartbeat for" in log_text
    assert log_text.count("looks lost") == 1 and "run lpad detect_lostruns" in log_text
    assert lp.fw_state_counts() == {"RUNNING": 1, "WAITING": 4}

    hold.unlink()
    code, out, err = lpad(work, "detect_lostruns", *LOST_RUNS)
    assert code == 0 and "1 lost run" in out, out + err
    rerun = rlaunch(work, "rerun", "-s", *ROCKET_ARGS)
    assert finish([rerun], 60) == [0], _errors([rerun])
    assert_exactly_once(lp, log_path, ["parent"] + [f"child{i}" for i in range(4)])
    assert_clean(lp)
