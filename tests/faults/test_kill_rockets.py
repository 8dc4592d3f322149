"""kill -9 of rocket processes at random moments during a large run.

Four rockets work through the fireworks while a random one is killed outright
(and replaced) again and again. Then, as an operator would: ``lpad
detect_lostruns --rerun`` and more rapidfire. Every firework must end
COMPLETED, nothing may have run twice except in a killed launch (counted from
an append-only log the tasks write, not from the store), and the invariant
checker must find nothing.
"""

import random
import signal
import time

import pytest

from .conftest import (
    assert_clean,
    assert_exactly_once,
    block_workflow,
    finish,
    lpad,
    record_figures,
    rlaunch,
    size,
)

pytestmark = pytest.mark.faults

ROCKETS = 4
ROCKET_ARGS = ("-s", "--ping_interval", "0.5", "rapidfire", "--sleep", "0.05", "--max_loops", "40")


@pytest.mark.timeout(size(200, 3600))
def test_kill_9_of_random_rockets(lp, work):
    n, kills = size(2000, 20000), size(20, 200)
    log_path = work / "ran.log"
    per_wf = 100
    for first in range(0, n, per_wf):
        lp.add_wf(block_workflow(first, per_wf // 10, log_path, seconds=0.005))
    rng = random.Random(9)
    started = time.monotonic()
    serial = 0

    def start():
        nonlocal serial
        serial += 1
        return rlaunch(work, f"rocket{serial}", *ROCKET_ARGS)

    rockets = [start() for _ in range(ROCKETS)]
    done_kills = 0
    while done_kills < kills:
        time.sleep(rng.uniform(0.05, 0.35))
        alive = [p for p in rockets if p.poll() is None]
        if not alive:
            break
        victim = rng.choice(alive)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        done_kills += 1
        rockets.append(start())
    assert done_kills == kills, f"the run ended after {done_kills} kills; make it longer"
    codes = finish(rockets, size(120, 1800))
    assert [c for c in codes if c not in (0, -signal.SIGKILL)] == [], _errors(rockets)

    time.sleep(1.2)  # the killed launches' last heartbeats are now older than 1 s
    code, out, err = lpad(work, "detect_lostruns", "--time", "1", "--rerun", "-o", "json")
    assert code == 0, err
    import json

    lost = json.loads(out)
    reruns = [rlaunch(work, f"rerun{i}", *ROCKET_ARGS) for i in range(ROCKETS)]
    assert finish(reruns, size(120, 1800)) == [0] * ROCKETS, _errors(reruns)

    figures = assert_exactly_once(lp, log_path, [str(i) for i in range(n)])
    assert len(lost["launch_ids"]) <= kills  # one killed process loses at most one launch
    assert_clean(lp)
    record_figures(
        "kill_9_rockets",
        kills=kills,
        rockets=ROCKETS,
        lost_runs_detected=len(lost["launch_ids"]),
        seconds=round(time.monotonic() - started, 1),
        **figures,
    )


def _errors(procs):
    return "\n".join(p.err_path.read_text()[-2000:] for p in procs if p.err_path.exists())
