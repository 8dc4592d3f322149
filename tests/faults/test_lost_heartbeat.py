"""``lpad detect_lostruns`` knows how often each rocket pings.

Each rocket records its ``--ping_interval`` on the launch it claims, so a
short ``--time`` catches rockets that pinged fast and were killed, with no
extra option, while a live rocket that pings seldom is left RUNNING, and the
command says why: declaring it lost would run its firework a second time.
"""

import json
import signal
import time

import pytest

from launchpad import Workflow

from .conftest import assert_clean, assert_exactly_once, finish, lpad, recording_fw, rlaunch, wait_for
from .tasks import read_log

pytestmark = pytest.mark.faults


@pytest.mark.timeout(120)
def test_a_short_time_reruns_killed_fast_rockets_and_spares_a_live_slow_one(lp, work):
    log_path, hold = work / "ran.log", work / "hold"
    hold.write_text("")  # every task waits while it exists
    lp.add_wf(Workflow([recording_fw(str(i), log_path, hold=hold) for i in (1, 2, 3)]))
    fast = [rlaunch(work, f"fast{i}", "--ping_interval", "0.2", "singleshot", "-f", str(i)) for i in (1, 2)]
    slow = rlaunch(work, "slow", "--ping_interval", "5", "singleshot", "-f", "3")
    wait_for(lambda: len(read_log(log_path)) == 3, 60, "three rockets to start their tasks")
    for rocket in fast:
        rocket.send_signal(signal.SIGKILL)
    assert finish(fast, 10) == [-signal.SIGKILL] * 2
    time.sleep(2.5)  # the killed rockets' last heartbeats are older than --time 2

    code, out, err = lpad(work, "detect_lostruns", "--time", "2", "--rerun", "-o", "json")
    assert code == 0, err
    (slow_launch,) = lp.get_launches({"fw_id": 3}, fields=["launch_id", "ping_interval"])
    assert slow_launch["ping_interval"] == 5
    found = json.loads(out)
    assert sorted(found["fw_ids"]) == [1, 2] and found["action"] == "rerun"
    assert [s["launch_id"] for s in found["spared"]] == [slow_launch["launch_id"]]

    code, out, err = lpad(work, "detect_lostruns", "--time", "1", "--rerun")
    assert (code, out.strip()) == (0, "no lost runs"), err
    assert (
        f"warning: launch {slow_launch['launch_id']} pings every 5 s: --time 1 cannot tell "
        "it from a lost run; left RUNNING"
    ) in err
    assert {d["fw_id"]: d["state"] for d in lp.get_fws(fields=["fw_id", "state"])} == {
        1: "READY",
        2: "READY",
        3: "RUNNING",
    }

    hold.unlink()
    assert finish([slow], 30) == [0], slow.err_path.read_text()
    rerun = rlaunch(work, "rerun", "--ping_interval", "0.2", "rapidfire", "--sleep", "0.1")
    assert finish([rerun], 60) == [0], rerun.err_path.read_text()
    assert_exactly_once(lp, log_path, ["1", "2", "3"])
    assert_clean(lp)
