"""Port of FireWorks' fireworks/core/tests/test_tracker.py: ``_trackers`` in a spec show a
file's last lines, after a firework completes, after it fails half-way, and under
``launch_multiprocess``.

The echo loops are shorter than FireWorks' (15 lines instead of 95) to keep the test
fast; what is checked is the same: the last two lines written before the end. The
multiprocess scenario runs on the embedded store only: its rockets are separate
``rlaunch`` processes, which cannot open an in-memory mongomock database
(docs/fireworks.md, "The rockets").
"""

import pytest

from launchpad import Firework, FWorker, LaunchPad, ScriptTask, Tracker, Workflow
from launchpad.stores import SQLiteStore
from rocket import launch_multiprocess, launch_rocket


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _echoes(numbers, dest):
    return [ScriptTask.from_str(f'echo "{i}" >> {dest}', {"store_stdout": True}) for i in numbers]


def test_tracker(lp, here):
    """After the firework ran, the tracker shows the file's last two lines."""
    dest = here / "numbers1.txt"
    tracker = Tracker(str(dest), nlines=2)
    lp.add_wf(Firework(_echoes(range(5, 20), dest), spec={"_trackers": [tracker]}, fw_id=20, name="test_fw"))
    launch_rocket(lp, FWorker())
    assert tracker.track_file() == "18\n19"
    assert lp.get_tracker_data(1)[0]["trackers"][0].content == "18\n19"


def test_tracker_failed_fw(lp, here):
    """A task that fails stops the firework: the tracker shows the lines written before it."""
    dest = here / "numbers1.txt"
    tracker = Tracker(str(dest), nlines=2)
    tasks = [
        *_echoes(range(5, 12), dest),
        ScriptTask.from_str(f"cat 4 >> {dest}"),
        *_echoes(range(13, 20), dest),
    ]
    lp.add_wf(Firework(tasks, spec={"_trackers": [tracker]}, fw_id=21, name="test_fw"))
    launch_rocket(lp, FWorker())
    assert lp.get_fw_by_id(1).state == "FIZZLED"
    assert tracker.track_file() == "10\n11"


def test_tracker_mlaunch(tmp_path, here):
    """Two workflows under launch_multiprocess (two processes): each tracker shows the
    last lines of its own file."""
    lp = LaunchPad(SQLiteStore(tmp_path / "launchpad.sqlite"))
    trackers = []
    for start, name in ((0, "a_test"), (50, "b_test")):
        dest = here / f"numbers_{name}.txt"
        tracker = Tracker(str(dest), nlines=2)
        first = Firework(
            _echoes(range(start, start + 5), dest), spec={"_trackers": [tracker]}, name=name + "1"
        )
        second = Firework(
            _echoes(range(start + 5, start + 10), dest), spec={"_trackers": [tracker]}, name=name + "2"
        )
        lp.add_wf(Workflow([first, second], links_dict={first: [second]}))
        trackers.append(tracker)
    launch_multiprocess(lp, FWorker(), "ERROR", 0, 2, 0, ppn=2)
    assert trackers[0].track_file() == "8\n9"
    assert trackers[1].track_file() == "58\n59"
