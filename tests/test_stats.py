"""FWStats (launchpad/stats.py): FireWorks' statistics class, on every store."""

import subprocess
import sys

import pytest

from launchpad import Firework, LaunchPad
from launchpad.errors import InvalidArgumentError
from launchpad.stats import FWStats
from launchpad.tasks import ScriptTask
from rocket import launch_rocket


def run_three(lp, tmp_path):
    """Two COMPLETED fireworks (one echo, one true) and one FIZZLED, run by a real rocket."""
    lp.add_wf(Firework(ScriptTask(script="echo a"), name="a", spec={"kind": "ok"}))
    lp.add_wf(Firework(ScriptTask(script="true"), name="b", spec={"kind": "ok"}))
    lp.add_wf(Firework(ScriptTask(script="exit 2"), name="c", spec={"kind": "bad"}))
    for _ in range(3):
        assert launch_rocket(lp, launch_root=str(tmp_path)) is not None


def test_summaries_by_state_as_fireworks_shapes_them(lp, tmp_path):
    run_three(lp, tmp_path)
    stats = FWStats(lp)
    assert stats.get_fireworks_summary() == [{"_id": "COMPLETED", "count": 2}, {"_id": "FIZZLED", "count": 1}]
    launches = stats.get_launch_summary(runtime_stats=True, include_ids=True)
    assert [(r["_id"], r["count"]) for r in launches] == [("COMPLETED", 2), ("FIZZLED", 1)]
    assert sorted(launches[0]["ids"]) == [1, 2] and launches[1]["ids"] == [3]
    assert (
        launches[0]["max_runtime(s)"] >= launches[0]["avg_runtime(s)"] >= launches[0]["min_runtime(s)"] >= 0
    )
    assert stats.get_launch_summary(query={"spec.kind": "bad"}) == [{"_id": "FIZZLED", "count": 1}]
    assert stats.get_workflow_summary() == [{"_id": "COMPLETED", "count": 2}, {"_id": "FIZZLED", "count": 1}]


def test_by_day_by_task_fizzled_groups_and_catastrophes(lp, tmp_path):
    run_three(lp, tmp_path)
    stats = FWStats(lp)
    today = lp.clock().strftime("%Y-%m-%d")
    daily = stats.get_daily_completion_summary()
    assert daily == [
        {"_id": today, "run_counts": [{"state": "COMPLETED", "count": 2}, {"state": "FIZZLED", "count": 1}]}
    ]
    assert stats.identify_catastrophes(error_ratio=0.3) == {today: [3]}
    assert stats.identify_catastrophes(error_ratio=0.5, include_ids=False) == []
    assert stats.group_fizzled_fireworks("spec.kind", include_ids=True) == [
        {"_id": "bad", "count": 1, "fw_id": [3]}
    ]
    tasks = {r["_id"]: r for r in stats.get_task_summary()}
    assert tasks["ScriptTask"]["count"] == 3 and tasks["ScriptTask"]["fizzled"] == 1


def test_time_window_and_bad_arguments(lp, tmp_path):
    run_three(lp, tmp_path)
    stats = FWStats(lp)
    assert stats.get_fireworks_summary(query_start="2000-01-01", query_end="2000-02-01") == []
    assert stats.get_launch_summary(days=1)[0]["count"] == 2
    with pytest.raises(InvalidArgumentError, match="not both"):
        stats.get_fireworks_summary(query_start="2000-01-01", days=2)
    with pytest.raises(InvalidArgumentError, match="earlier"):
        stats.get_fireworks_summary(query_start="2030-01-01", query_end="2029-01-01")
    with pytest.raises(TypeError):
        FWStats("not a launchpad")
    assert isinstance(stats._lpad, LaunchPad)


def test_importable_under_the_package_name_in_a_fresh_process():
    done = subprocess.run(
        [sys.executable, "-c", "from launchpad import FWStats; print(FWStats.__module__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.strip() == "launchpad.stats", done.stderr
