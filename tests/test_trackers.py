"""``_trackers``: tails of a running firework's files on its launch, and ``lpad track_fws``."""

import gzip
import os
import subprocess
import sys
import time

import pytest
from conftest import CORPUS, ROOT

import launchpad.trackers as trackers_module
from launchpad import Firework, LaunchPad
from launchpad.errors import InvalidArgumentError
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask
from launchpad.trackers import Tracker, read_tail
from rocket import launch_rocket
from rocket.heartbeat import Heartbeat


# -- the Tracker object --------------------------------------------------------------------
def test_tracker_has_fireworks_form_and_text():
    t = Tracker("out.txt", nlines=3)
    assert t.to_dict() == {"filename": "out.txt", "nlines": 3, "allow_zipped": False}
    t.content = "a\nb"
    back = Tracker.from_dict(t.to_dict())
    assert (back.filename, back.nlines, back.content) == ("out.txt", 3, "a\nb")
    assert str(back) == "### Filename: out.txt\na\nb"
    assert Tracker("x").nlines == 25
    with pytest.raises(InvalidArgumentError, match="at most 1000"):
        Tracker("x", nlines=1001)
    with pytest.raises(InvalidArgumentError, match="filename"):
        Tracker.from_dict({"nlines": 3})


def test_tracker_is_importable_from_launchpad():
    import launchpad

    assert launchpad.Tracker is Tracker


def test_tail_of_lines(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("1\n2\n3\n4\n")
    assert read_tail(str(path), 2) == ["3", "4"]
    assert read_tail(str(path), 10) == ["1", "2", "3", "4"]
    path.write_text("1\r\n2\r\nno end")
    assert read_tail(str(path), 2) == ["2", "no end"]
    path.write_text("")
    assert read_tail(str(path), 2) == []
    assert read_tail(str(tmp_path / "missing"), 2) is None


def test_tail_of_a_big_file_reads_only_its_end(tmp_path, monkeypatch):
    path = tmp_path / "big.log"
    with open(path, "w") as fh:
        fh.writelines(f"line number {i}\n" for i in range(400_000))  # ~6 MB
    read = []
    real_open = open

    class Spy:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def seek(self, *args):
            return self.fh.seek(*args)

        def read(self, n=-1):
            data = self.fh.read(n)
            read.append(len(data))
            return data

    monkeypatch.setattr(trackers_module, "open", lambda *a, **k: Spy(real_open(*a, **k)), raising=False)
    assert read_tail(str(path), 3) == [f"line number {i}" for i in (399_997, 399_998, 399_999)]
    assert sum(read) <= 16 * 1024


def test_allow_zipped_reads_the_compressed_file(tmp_path):
    with gzip.open(tmp_path / "out.txt.gz", "wt") as fh:
        fh.write("a\nb\nc\n")
    assert Tracker("out.txt", nlines=2).track_file(str(tmp_path)) == ""
    assert Tracker("out.txt", nlines=2, allow_zipped=True).track_file(str(tmp_path)) == "b\nc"


# -- the launch record, on both stores -------------------------------------------------------
def test_trackers_recorded_at_the_end_completed_and_fizzled(lp, tmp_path):
    spec = {"_trackers": [Tracker("out.txt", nlines=2), {"filename": "none.txt", "nlines": 5}]}
    lp.add_wf(Firework(ScriptTask(script="printf '1\\n2\\n3\\n' > out.txt"), spec=spec))
    lp.add_wf(Firework(ScriptTask(script="echo oops > out.txt; exit 3"), spec=spec))
    assert launch_rocket(lp, launch_root=str(tmp_path), ping_interval=0)
    assert launch_rocket(lp, launch_root=str(tmp_path), ping_interval=0)
    states = {f["fw_id"]: f["state"] for f in lp.get_fws(fields=["fw_id", "state"])}
    assert states == {1: "COMPLETED", 2: "FIZZLED"}
    first, second = (lp.get_launches({"fw_id": i})[0] for i in (1, 2))
    assert first["trackers"] == [
        {"filename": "out.txt", "nlines": 2, "allow_zipped": False, "content": "2\n3"},
        {"filename": "none.txt", "nlines": 5, "allow_zipped": False, "content": ""},
    ]
    assert second["trackers"][0]["content"] == "oops"
    data = lp.get_tracker_data(1)
    assert [d["launch_id"] for d in data] == [first["launch_id"]]
    assert [str(t) for t in data[0]["trackers"]] == [
        "### Filename: out.txt\n2\n3",
        "### Filename: none.txt\n",
    ]
    assert lp.get_launch_by_id(first["launch_id"]).trackers[0]["content"] == "2\n3"


def test_firework_without_trackers_has_no_tracker_data(lp, tmp_path):
    lp.add_wf(Firework(ScriptTask(script="true")))
    launch_rocket(lp, launch_root=str(tmp_path), ping_interval=0)
    assert lp.get_tracker_data(1) == []
    assert "trackers" not in lp.get_launches({"fw_id": 1})[0]


def test_a_bad_tracker_fizzles_with_a_reason(lp, tmp_path):
    lp.add_wf(Firework(ScriptTask(script="true"), spec={"_trackers": [{"nlines": 3}]}))
    launch_rocket(lp, launch_root=str(tmp_path), ping_interval=0)
    launch = lp.get_launches({"fw_id": 1})[0]
    assert launch["state"] == "FIZZLED"
    assert "tracker is a mapping with a filename" in launch["exception"]["message"]


def test_a_ping_carries_trackers_in_its_one_write(lp, tmp_path):
    lp.add_wf(Firework(ScriptTask(script="true")))
    _fw, launch_id = lp.claim_to_run(launch_dir=str(tmp_path))
    writes = []
    real = lp.store.update_launch
    lp.store.update_launch = lambda *a, **k: writes.append(a) or real(*a, **k)
    tails = [{"filename": "a", "nlines": 2, "allow_zipped": False, "content": "x"}]
    assert lp.ping_launch(launch_id, trackers=tails) is True
    assert len(writes) == 1
    assert lp.get_launch(launch_id)["trackers"] == tails


def test_heartbeat_records_tails_while_the_firework_runs(sqlite_lp, tmp_path):
    lp = sqlite_lp
    lp.add_wf(Firework(ScriptTask(script="true")))
    _fw, launch_id = lp.claim_to_run(launch_dir=str(tmp_path))
    (tmp_path / "log").write_text("a\nb\n")
    beat = Heartbeat(lp, interval=0.05)
    beat.watch(launch_id)
    tracker = Tracker("log", nlines=1)
    beat.report(lambda: [{**tracker.to_dict(), "content": tracker.track_file(str(tmp_path))}])
    deadline = time.monotonic() + 5
    while not lp.get_launch(launch_id).get("trackers") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lp.get_launch(launch_id)["trackers"][0]["content"] == "b"
    beat.watch(None)


# -- the way users run it: lpad add, rlaunch, lpad track_fws ---------------------------------
@pytest.fixture
def env(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "simple_template.txt").write_text("option1 = {{opt1}}\noption2 = {{opt2}}\n")
    env = dict(
        os.environ,
        STARSHELL_HOME=str(tmp_path / "home"),
        STARSHELL_TEMPLATE_DIR=str(templates),
        PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    env.pop("STARSHELL_LAUNCHPAD", None)
    return env, work


def _run(env, work, *argv, module="launchpad.cli"):
    proc = subprocess.run(
        [sys.executable, "-m", module, *argv],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


TUTORIAL_OUTPUT = """\
# FW id: 1, FW name='Tracker FW'
## Launch id: 1
### Filename: words.txt
7
## Launch id: 1
### Filename: inputs.txt
option1 = 5.0
option2 = fast method
"""


@pytest.mark.corpus
def test_tracker_tutorial_runs_as_in_fireworks(env):
    env, work = env
    _run(env, work, "add", os.path.join(CORPUS, "tracker", "tracker_fw.yaml"))
    _run(env, work, "-s", "singleshot", module="rocket.cli")
    assert _run(env, work, "track_fws") == TUTORIAL_OUTPUT
    assert (
        _run(env, work, "track_fws", "-i", "1", "--include", "words.txt")
        == "\n".join(TUTORIAL_OUTPUT.splitlines()[:4]) + "\n"
    )
    assert _run(env, work, "track_fws", "--exclude", "words.txt", "inputs.txt") == ""
    assert _run(env, work, "track_fws", "-q", '{"name": "other"}') == ""


def test_track_fws_separates_fireworks_and_sees_a_running_one(env):
    env, work = env
    lp = LaunchPad(SQLiteStore(os.path.join(env["STARSHELL_HOME"], "launchpad.sqlite")))
    script = "for i in 1 2 3 4 5 6 7 8 9 10; do echo step $i >> prog.log; sleep 0.3; done"
    lp.add_wf(
        Firework(ScriptTask(script="echo done > a.txt"), name="first", spec={"_trackers": [Tracker("a.txt")]})
    )
    lp.add_wf(
        Firework(ScriptTask(script=script), name="slow", spec={"_trackers": [Tracker("prog.log", nlines=1)]})
    )
    _run(env, work, "-s", "singleshot", "-f", "1", module="rocket.cli")
    rocket = subprocess.Popen(
        [sys.executable, "-m", "rocket.cli", "--ping_interval", "0.2", "-s", "singleshot", "-f", "2"],
        env=env,
        cwd=work,
    )
    try:
        seen, deadline = "", time.monotonic() + 60
        while "step" not in seen and time.monotonic() < deadline:
            seen = _run(env, work, "track_fws", "-i", "2")
            time.sleep(0.2)
        assert lp.get_fws({"fw_id": 2}, fields=["state"])[0]["state"] == "RUNNING"
        assert "### Filename: prog.log\nstep" in seen
    finally:
        assert rocket.wait(timeout=60) == 0
    assert _run(env, work, "track_fws") == (
        "# FW id: 1, FW name='first'\n## Launch id: 1\n### Filename: a.txt\ndone\n>------<\n"
        "# FW id: 2, FW name='slow'\n## Launch id: 2\n### Filename: prog.log\nstep 10\n"
    )


def test_firework_page_shows_tracker_lines_escaped(sqlite_lp, tmp_path):
    from test_webgui_pages import log_in, make_client

    lp = sqlite_lp
    lp.add_wf(
        Firework(
            ScriptTask(script="echo '<script>x</script>' > out.txt; echo last >> out.txt"),
            spec={"_trackers": [Tracker("out.txt", nlines=2)]},
        )
    )
    launch_rocket(lp, launch_root=str(tmp_path), ping_interval=0)
    client = make_client(lp)
    log_in(client)
    page = client.get("/fireworks/1").get_data(as_text=True)
    assert "Tracker: out.txt" in page
    assert "&lt;script&gt;x&lt;/script&gt;\nlast" in page
    assert "<script>x</script>" not in page


def test_a_rocket_behind_a_gateway_records_trackers_and_background_errors(lp, tmp_path):
    """The heartbeat's trackers and the end's record_tracking cross the gateway."""
    import threading

    from launchpad import BackgroundTask
    from launchpad.gateway.client import GatewayClient, GatewayLaunchPad
    from launchpad.gateway.server import build_server, url_of
    from launchpad.tasks import PyTask

    pings, real_ping = [], lp.ping_launch
    lp.ping_launch = lambda launch_id, trackers=None: (
        pings.append(trackers) or real_ping(launch_id, trackers=trackers)
    )
    server, _ = build_server(lp, "127.0.0.1", 0, str(tmp_path / "gw.token"), threads=4)
    threading.Thread(target=server.serve, daemon=True).start()
    try:
        token = (tmp_path / "gw.token").read_text().splitlines()[1].split()[0]
        client_lp = GatewayLaunchPad(client=GatewayClient(url_of(server), token, patience=2.0), api=type(lp))
        spec = {
            "_trackers": [Tracker("out.txt")],
            "_background_tasks": [BackgroundTask(PyTask(func="math.sqrt", args=[-1]))],
        }
        lp.add_wf(Firework(ScriptTask(script="echo a > out.txt; sleep 0.4; echo b >> out.txt"), spec=spec))
        assert launch_rocket(client_lp, launch_root=str(tmp_path), ping_interval=0.1)
    finally:
        server.stop()
    launch = lp.get_launches({"fw_id": 1})[0]
    assert launch["state"] == "COMPLETED"
    assert launch["trackers"][0]["content"] == "a\nb"
    assert any(p and p[0]["filename"] == "out.txt" for p in pings)  # heartbeats carried them
    assert launch["background_errors"][0]["message"] == "ValueError: math domain error"


def test_trackers_recorded_when_rlaunch_is_stopped(env):
    """SIGTERM hands the firework back; the launch keeps what its files said by then."""
    import signal

    env, work = env
    lp = LaunchPad(SQLiteStore(os.path.join(env["STARSHELL_HOME"], "launchpad.sqlite")))
    lp.add_wf(
        Firework(
            ScriptTask(script="echo started > run.log; sleep 30"), spec={"_trackers": [Tracker("run.log")]}
        )
    )
    rocket = subprocess.Popen([sys.executable, "-m", "rocket.cli", "-s", "singleshot"], env=env, cwd=work)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        launches = lp.get_launches({"fw_id": 1})
        if (
            launches
            and launches[0].get("launch_dir")
            and os.path.exists(os.path.join(launches[0]["launch_dir"], "run.log"))
        ):
            break
        time.sleep(0.05)
    rocket.send_signal(signal.SIGTERM)
    assert rocket.wait(timeout=60) == 143
    launch = lp.get_launches({"fw_id": 1})[0]
    assert launch["interrupted"] is True
    assert launch["trackers"][0]["content"] == "started"


def test_a_tracker_that_cannot_be_read_never_stops_the_heartbeat(sqlite_lp, tmp_path):
    lp = sqlite_lp
    lp.add_wf(Firework(ScriptTask(script="true")))
    _fw, launch_id = lp.claim_to_run(launch_dir=str(tmp_path))
    first = lp.get_launch(launch_id)["last_ping"]
    beat = Heartbeat(lp, interval=0.05)
    beat.watch(launch_id)
    beat.report(lambda: 1 / 0)
    deadline = time.monotonic() + 5
    while lp.get_launch(launch_id)["last_ping"] == first and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lp.get_launch(launch_id)["last_ping"] > first
    assert beat._thread is not None and beat._thread.is_alive()
    beat.watch(None)


def test_a_damaged_archive_is_reported_in_the_content(tmp_path):
    (tmp_path / "out.txt.gz").write_bytes(gzip.compress(b"a\nb\n")[:-12] + b"garbage!")
    text = Tracker("out.txt", allow_zipped=True).track_file(str(tmp_path))
    assert text.startswith("(cannot read ")
