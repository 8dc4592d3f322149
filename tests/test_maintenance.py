"""``lpad admin`` upkeep (tuneup, refresh, unlock, maintain, orphaned): the API on
every backend, then the real ``lpad`` in a fresh process."""

import json
import os
import shutil
import subprocess
import sys
from contextlib import closing

import pytest

from launchpad import Firework, LaunchPad, Workflow
from launchpad.errors import NotFoundError
from launchpad.maintenance import maintain, orphaned, refresh, unlock
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask
from launchpad.workflow_ops import scripts_workflow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def chain(n=2):
    fws = [Firework(ScriptTask(script=f"echo {i}"), fw_id=i) for i in range(1, n + 1)]
    return Workflow(fws, {i: [i + 1] for i in range(1, n)}, name="chain")


def test_tuneup_reports_its_steps(lp):
    lp.add_wf(chain())
    assert lp.tuneup()[0] == "indexes checked"
    full = lp.tuneup(full=True)
    assert any("VACUUM" in s or "compact" in s for s in full)
    assert lp.get_fw_ids() == [1, 2]


def test_refresh_repairs_only_the_named_workflow(lp):
    lp.add_wf(chain())
    lp.add_wf(chain())
    lp.store.update_fireworks([2, 4], {"state": "READY", "waiting_on": 0})
    report = refresh(lp, [1])
    assert [p.fw_id for p in report.problems] == [2] and report.ok
    states = {d["fw_id"]: d["state"] for d in lp.get_fws()}
    assert states[2] == "WAITING" and states[4] == "READY"
    with pytest.raises(NotFoundError):
        refresh(lp, [99])


def test_unlock_only_checks_the_ids(lp):
    lp.add_wf(chain())
    assert unlock(lp, [1, 2]) == [1]
    with pytest.raises(NotFoundError):
        unlock(lp, [7])


def test_orphaned_finds_and_removes_pieces_without_a_workflow(lp):
    lp.add_wf(chain())
    lp.store.insert_launch(
        {"launch_id": lp.store.next_ids("launch"), "fw_id": 999, "state": "COMPLETED", "state_history": []}
    )
    lp.store.update_fireworks([2], {"state": "READY", "waiting_on": 0})  # not an orphan: left alone
    found = orphaned(lp)
    assert [p.kind for p in found.problems] == ["orphan_launch"] and not found.ok
    assert orphaned(lp, remove=True).ok and lp.get_launches() == []
    assert lp.get_fw_ids() == [1, 2]
    assert lp.get_fw_dict(2)["state"] == "READY"


def test_maintain_loops_with_an_injected_sleep(lp):
    lp.add_wf(chain())
    lp.store.update_fireworks([2], {"state": "READY", "waiting_on": 0})
    naps = []
    result = maintain(lp, infinite=True, interval=30, sleep=naps.append, max_loops=3)
    assert naps == [30, 30] and result["remaining"] == []
    assert lp.get_fw_dict(2)["state"] == "WAITING"
    assert lp.maintain(infinite=False)["tuneup"][0] == "indexes checked"


def test_lpad_admin_verbs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STARSHELL_")}
    env.update(STARSHELL_HOME=str(tmp_path), PYTHONPATH=os.pathsep.join([ROOT, env.get("PYTHONPATH", "")]))
    command = [shutil.which("lpad")] if shutil.which("lpad") else [sys.executable, "-m", "launchpad.cli"]

    def lpad(*argv):
        return subprocess.run(
            [*command, *argv], check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )

    # The store the commands use, filled through the API (lpad add_scripts has its own tests).
    with closing(SQLiteStore(tmp_path / "launchpad.sqlite")) as store:
        LaunchPad(store).add_wf(scripts_workflow(["echo 1", "echo 2"]))
    tuned = lpad("-o", "json", "admin", "tuneup", "--full")
    assert tuned.returncode == 0 and "ANALYZE" in json.loads(tuned.stdout)["steps"]
    assert lpad("admin", "refresh", "-i", "2").returncode == 0
    unlocked = lpad("admin", "unlock", "-i", "1")
    assert unlocked.returncode == 0 and "no workflow locks" in unlocked.stdout
    assert lpad("admin", "unlock", "-i", "5").returncode == 3
    assert lpad("admin", "maintain").returncode == 0
    assert lpad("admin", "maintain", "--lostruns_time", "10", "--maintain_interval", "5").returncode == 0
    assert "no problems found" in lpad("admin", "orphaned").stdout
