"""kill -9 of the gateway and of rockets behind it, mid-run.

The gateway killed and restarted while four rockets work through it loses
nothing and runs nothing twice: the rockets retry with the same request ids
and a restarted gateway finds in the store what a claim or completion whose
reply was lost had done. A rocket killed behind the gateway is a lost run,
found and rerun from the login node as without a gateway. What ran is
counted from an append-only log the tasks write (tests/faults/tasks.py),
not from the store.
"""

import random
import signal
import time
from collections import Counter

import pytest
import test_gateway
from faults.conftest import (
    assert_clean,
    assert_exactly_once,
    block_workflow,
    finish,
    record_figures,
    size,
)
from faults.tasks import read_log
from test_gateway import Gateway, Node, run

# the compute-node fixtures of test_gateway
login, login_lp, gateway, node = (
    test_gateway.login,
    test_gateway.login_lp,
    test_gateway.gateway,
    test_gateway.node,
)

pytestmark = pytest.mark.faults

ROCKET_ARGS = ("-s", "--ping_interval", "0.5", "rapidfire", "--sleep", "0.05")


def _errors(procs):
    return "\n".join(p.err_path.read_text()[-2000:] for p in procs)


@pytest.mark.timeout(size(240, 3600))
def test_kill_9_of_the_gateway_mid_run_loses_nothing_and_runs_nothing_twice(tmp_path, login, login_lp):
    n, kills = size(400, 5000), size(6, 60)
    log_path = tmp_path / "ran.log"
    for first in range(0, n, 100):
        login_lp.add_wf(block_workflow(first, 10, log_path, seconds=0.01))
    gateway = Gateway(login).start()
    node = Node(tmp_path / "node", gateway)
    rockets = [node.spawn_rlaunch(f"rocket{i}", *ROCKET_ARGS) for i in range(4)]
    rng = random.Random(12)
    done_kills = 0
    try:
        while done_kills < kills and any(p.poll() is None for p in rockets):
            time.sleep(rng.uniform(0.2, 1.0))
            gateway.kill()
            done_kills += 1
            time.sleep(rng.uniform(0.0, 1.5))  # down for a while: rockets wait and retry
            gateway.start()  # the same port
        assert done_kills == kills, f"the run ended after {done_kills} kills; make it longer"
        codes = finish(rockets, size(180, 3000))
    finally:
        gateway.kill(signal.SIGTERM)
    assert codes == [0] * len(rockets), _errors(rockets)
    tags = [str(i) for i in range(n)]
    figures = assert_exactly_once(login_lp, log_path, tags)
    runs = Counter(tag for tag, _ in read_log(log_path))
    assert [t for t, count in runs.items() if count > 1] == [], "a firework ran twice"
    assert login_lp.get_launches({"state": {"$ne": "COMPLETED"}}) == []
    assert all("late_result" not in launch for launch in login_lp.get_launches())
    assert_clean(login_lp)
    node.assert_no_store()
    record_figures("gateway kill -9", gateway_kills=done_kills, **figures)


@pytest.mark.timeout(size(120, 1200))
def test_a_rocket_killed_behind_the_gateway_is_a_lost_run_rerun_from_the_login_node(
    tmp_path, login, login_lp, gateway, node
):
    log_path, hold = tmp_path / "ran.log", tmp_path / "hold"
    hold.touch()  # both roots wait until it is gone: the victim is killed mid-firework
    login_lp.add_wf(block_workflow(0, 2, log_path, seconds=0.3, hold_roots=hold))
    victim = node.spawn_rlaunch("victim", *ROCKET_ARGS)
    deadline = time.monotonic() + 60
    while not read_log(log_path) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(read_log(log_path)) == 1, _errors([victim])
    other = node.spawn_rlaunch("other", *ROCKET_ARGS)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    hold.unlink()
    assert finish([other], 90) == [0], _errors([other])
    lost = login_lp.get_fws({"state": "RUNNING"}, fields=["fw_id"])
    assert len(lost) == 1, "the killed rocket's firework is left RUNNING, as without a gateway"
    time.sleep(1.0)
    code, _, err = run(["launchpad.cli", "detect_lostruns", "--time", "1", "--rerun"], login, login)
    assert code == 0, err
    code, _, err = node.rlaunch(*ROCKET_ARGS)
    assert code == 0, err
    assert_exactly_once(login_lp, log_path, [str(i) for i in range(20)])
    assert_clean(login_lp)
