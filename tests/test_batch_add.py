"""``lpad add`` of many files (issue 14, "A million fireworks"): streamed, so memory
stays flat in the number of files; all or nothing; a progress bar on a terminal."""

import io
import json
import os
import pty
import subprocess
import sys
from contextlib import closing

import pytest
from user_commands import new_user

from launchpad import LaunchPad
from launchpad.batch_add import add_files
from launchpad.cli.add import ProgressBar
from launchpad.errors import WorkflowFileError
from launchpad.stores import SQLiteStore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEAK_RSS = os.path.join(ROOT, "bench", "peak_rss.py")


def workflow(n, name):
    fws = [
        {"fw_id": i, "name": f"fw{i}", "spec": {"_tasks": [{"_fw_name": "ScriptTask", "script": "true"}]}}
        for i in range(1, n + 1)
    ]
    links = {str(i): [k for k in (2 * i, 2 * i + 1) if k <= n] for i in range(1, n // 2 + 1)}
    return {"fws": fws, "links": links, "name": name}


def write_files(folder, count, per, bad_at=None):
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"wf{i:03d}.json"
        path.write_text(json.dumps(workflow(per, f"wf{i}")))
        if i == bad_at:
            path.write_text(
                json.dumps({"fws": [{"fw_id": 1, "spec": {"_tasks": [{"_fw_name": "NoSuchTask"}]}}]})
            )
        paths.append(str(path))
    return paths


def peak_rss_of_add(user, folder):
    done = subprocess.run(
        [sys.executable, PEAK_RSS, "launchpad.cli", "add", "-d", str(folder)],
        cwd=user.work,
        env=user.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["exit"] == 0, done.stderr
    return report["peak_rss_mb"]


def test_memory_stays_flat_in_the_number_of_files(tmp_path):
    """Ten times the files, about the same peak: before, every file was loaded before the
    first insert (4 -> 40 files of 250 fireworks: +12.6 MB; streamed: +1.2 MB)."""
    few, many = tmp_path / "few", tmp_path / "many"
    write_files(few, 4, 250)
    write_files(many, 40, 250)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    small = peak_rss_of_add(new_user(tmp_path / "a"), few)
    large = peak_rss_of_add(new_user(tmp_path / "b"), many)
    assert large - small < 5, (small, large)


@pytest.fixture
def user(tmp_path):
    (tmp_path / "u").mkdir()
    return new_user(tmp_path / "u")


@pytest.mark.parametrize("dir_option", [True, False])
def test_a_bad_file_in_the_middle_adds_nothing(user, dir_option):
    paths = write_files(user.work / "wfs", 12, 20, bad_at=6)
    argv = ["-d", "wfs"] if dir_option else paths
    bad = user.run("lpad", "add", *argv)
    assert bad.returncode == 2 and "wf006.json" in bad.stderr and "NoSuchTask" in bad.stderr
    assert bad.stdout == ""  # nothing reported added
    # Read the store the command used directly: two more lpad processes cost ~1.5 s in CI.
    with closing(SQLiteStore(user.home / "launchpad.sqlite")) as store:
        lp = LaunchPad(store)
        assert lp.get_fw_ids(count_only=True) == 0 and lp.count_wfs() == 0
    good = user.run("lpad", "add", paths[0])  # the ids an aborted add took are given back
    assert good.returncode == 0 and "fw_ids 1-20 -> 1-20" in good.stdout


def test_the_python_api_is_all_or_nothing_on_every_store(lp, tmp_path):
    """SQLite rolls its one transaction back; MongoDB checks every file before the first insert."""
    paths = write_files(tmp_path / "wfs", 5, 10, bad_at=3)
    with pytest.raises(WorkflowFileError, match="NoSuchTask"):
        add_files(lp.add_wf, lp.store, paths)
    assert lp.get_fw_ids(count_only=True) == 0 and lp.count_wfs() == 0
    results = add_files(lp.add_wf, lp.store, paths[:3])
    assert [r.fireworks for r in results] == [10, 10, 10]
    assert results[2].ids == {i: 20 + i for i in range(1, 11)}
    assert lp.get_fw_ids(count_only=True) == 30


def test_not_a_terminal_gets_one_summary_line(user):
    write_files(user.work / "wfs", 3, 5)
    done = user.run("lpad", "add", "-d", "wfs")
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("added 3 workflows with 15 fireworks in ")
    assert done.stdout.count(": added workflow") == 3


def test_a_terminal_gets_a_progress_bar(user):
    write_files(user.work / "wfs", 3, 5)
    leader, follower = pty.openpty()
    with open(os.devnull, "rb") as nothing:
        done = subprocess.run(
            [sys.executable, "-m", "launchpad.cli", "add", "-d", "wfs"],
            cwd=user.work,
            env=user.env,
            stdin=nothing,
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=60,
            check=False,
        )
    os.close(follower)
    shown = os.read(leader, 65536).decode()
    os.close(leader)
    assert done.returncode == 0
    assert "\radded 3/3 files, 15 fireworks [" + "#" * ProgressBar.WIDTH + "] 100%" in shown
    assert "added 3 workflows with 15 fireworks" in shown


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def __init__(self, tty=True):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def test_the_bar_redraws_at_most_ten_times_a_second_and_always_at_the_end():
    clock, term = Clock(), Terminal()
    bar = ProgressBar(term, clock)
    for files in range(1, 1001):
        clock.now += 0.001
        bar.update("added", files, 1000, files * 10)
    bar.close()
    assert 2 <= term.getvalue().count("\r") <= 11  # one second of updates: every 0.1 s, and the last
    assert term.getvalue().endswith("added 1000/1000 files, 10000 fireworks [" + "#" * 30 + "] 100% 1 s\n")
    quiet = Terminal(tty=False)
    bar = ProgressBar(quiet, clock)
    bar.update("added", 1, 1, 10)
    bar.close()
    assert quiet.getvalue() == ""
