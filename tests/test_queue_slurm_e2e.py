"""qlaunch, pilot jobs, the lpad queue commands and the daemon against the real local Slurm.

ci/slurm-up.sh starts a one-node Slurm; without it these tests skip (and fail
when CI=true).  Every test has its own store: STARSHELL_HOME points into
tmp_path and sbatch exports the environment, so the pilot jobs' rlaunch uses
the same store.  Each test names its jobs uniquely and cancels them at the end.
"""

import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from test_slurm_real import slurm_up  # noqa: F401  (the fixture: skip or fail without Slurm)

from launchpad import LaunchPad
from launchpad.cli import main as lpad
from launchpad.files import dumps
from queue_adapters import cli as qcli
from queue_adapters import get_adapter, run_subprocess
from queue_adapters.daemon import DaemonSettings, QueueDaemon
from queue_adapters.launcher import QueueLauncher
from queue_adapters.reservations import get_qids

pytestmark = pytest.mark.slurm

ROOT = Path(__file__).resolve().parents[1]
NOOP = {"_fw_name": "PyTask", "func": "os.getcwd"}
PILOT = "rlaunch --ping_interval 1 rapidfire --sleep 1"


class Site:
    """A private store, work directory and job name for one test."""

    def __init__(self, tmp_path, monkeypatch):
        home = tmp_path / "home"
        self.work = tmp_path / "work"
        self.work.mkdir()
        monkeypatch.setenv("STARSHELL_HOME", str(home))
        monkeypatch.delenv("STARSHELL_LAUNCHPAD", raising=False)
        monkeypatch.setenv("PYTHONPATH", str(ROOT))
        monkeypatch.chdir(self.work)
        self.name = f"ss-{uuid.uuid4().hex[:10]}"
        self.lp = LaunchPad.from_file()
        self.tmp = tmp_path

    def qadapter(self, **params):
        """Write my_qadapter.yaml in the work directory; returns its path."""
        data = {
            "_fw_q_type": "SLURM",
            "rocket_launch": PILOT,
            "job_name": self.name,
            "walltime": "00:10:00",
            **params,
        }
        path = self.work / "my_qadapter.yaml"
        path.write_text(dumps(data, "yaml"))
        return str(path)

    def qlaunch(self, *argv, run_command=run_subprocess):
        return qcli.main(["--submit_interval", "0.2", *argv], launchpad=self.lp, run_command=run_command)

    def states(self):
        return self.lp.fw_state_counts()

    def pilot_logs(self):
        return "\n".join(f"--- {p}\n{p.read_text()}" for p in sorted(self.work.rglob("slurm-*.out")))

    def wait_for(self, what, predicate, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.2)
        pytest.fail(f"{what} not reached after {timeout} s; states {self.states()}\n{self.pilot_logs()}")

    def watching(self):
        """A run_command that notes how many of our jobs are queued after each sbatch."""
        seen = []

        def run(argv, cwd=None, timeout=120):
            answer = run_subprocess(argv, cwd=cwd, timeout=timeout)
            if argv[0] == "sbatch":
                seen.append(self.queued())
            return answer

        return run, seen

    def queued(self):
        rc, out, _ = run_subprocess(["squeue", "-h", "-n", self.name, "-o", "%i"])
        assert rc == 0
        return len(out.split())


@pytest.fixture
def site(slurm_up, tmp_path, monkeypatch):  # noqa: F811
    s = Site(tmp_path, monkeypatch)
    yield s
    run_subprocess(["scancel", "-n", s.name])


# A task that outlives SIGTERM, as many real codes do for a while.  scancel sends
# SIGCONT then SIGTERM to every process of the job; rlaunch normally turns its
# TERM into a requeue, but CPython may deliver it to the heartbeat thread and
# act on it late (docs/queue.md, "Known limits").  With the task still
# alive, a late TERM cannot turn into a failed task: either rlaunch hands the
# firework back, or the job's SIGKILL after KillWait makes it a lost run.
STUBBORN = "trap '' TERM; sleep 120"


def script_fw(fw_id, script, **spec):
    return {
        "fw_id": fw_id,
        "name": f"fw{fw_id}",
        "spec": {"_tasks": [{"_fw_name": "ScriptTask", "script": script}], **spec},
    }


def first_time(marker, then):
    """A script that runs ``then`` on its first attempt only (the marker remembers)."""
    return f"if [ -e {marker} ]; then exit 0; fi; touch {marker}; {then}"


def job_state(job_id):
    rc, out, _ = run_subprocess(["squeue", "-h", "-j", job_id, "-t", "all", "-o", "%T"])
    return out.strip() if rc == 0 else None


def running_qid(site, fw_id):
    rows = [r for r in get_qids(site.lp, [fw_id]) if r["state"] == "RUNNING"]
    return rows[0]["qid"] if rows else None


# -- qlaunch rapidfire ----------------------------------------------------------------------
def test_rapidfire_fills_and_refills_the_queue_up_to_m(site):
    """Singleshot pilots, one 2 s firework each: the queue holds 3, refilled as they end."""
    site.lp.add_wf({"fws": [script_fw(i, "sleep 2") for i in range(1, 9)], "links": {}})
    qa = site.qadapter(rocket_launch="rlaunch singleshot")
    watching, seen = site.watching()

    assert (
        site.qlaunch(
            "-q", qa, "rapidfire", "-m", "3", "--sleep", "1", "--timeout", "80", run_command=watching
        )
        == 0
    )
    assert site.states() == {"COMPLETED": 8}, site.pilot_logs()
    assert len(seen) == 8 and max(seen) <= 3 and seen[:3] == [1, 2, 3]
    blocks = list(site.work.glob("block_*/launcher_*/FW_submit.script"))
    assert len(blocks) == 8


def test_200_firework_workflow_completes_with_rapidfire_m4(site, capsys):
    """The issue's 'done when': qlaunch rapidfire -m 4 drives 200 fireworks to COMPLETED.

    One root, 198 fireworks of 0.1 s in parallel, one final: the root's pilot
    alone cannot drain them quickly, so qlaunch adds pilots, never past 4.
    """
    nap = {"_fw_name": "PyTask", "func": "time.sleep", "args": [0.1]}
    fws = [
        {"fw_id": i, "name": f"n{i}", "spec": {"_tasks": [nap if 1 < i < 200 else NOOP]}}
        for i in range(1, 201)
    ]
    links = {1: list(range(2, 200)), **{i: [200] for i in range(2, 200)}}
    site.lp.add_wf({"fws": fws, "links": links, "name": "two hundred"})
    qa = site.qadapter()
    watching, seen = site.watching()

    started = time.monotonic()
    assert (
        site.qlaunch(
            "-q", qa, "rapidfire", "-m", "4", "--sleep", "1", "--timeout", "85", run_command=watching
        )
        == 0
    )
    took = time.monotonic() - started
    assert site.states() == {"COMPLETED": 200}, site.pilot_logs()
    submitted = int(re.search(r"submitted (\d+) pilot", capsys.readouterr().out).group(1))
    assert submitted == len(seen) and 2 <= submitted <= 8 and max(seen) <= 4
    pilots = {Path(launch["launch_dir"]).parent for launch in site.lp.get_launches()}
    assert len(pilots) >= 2 and all(p.parent.name.startswith("block_") for p in pilots)
    assert took < 85


def test_failed_submission_shows_sbatchs_message_and_reserves_nothing(site, capsys):
    site.lp.add_wf({"fws": [script_fw(1, "true")], "links": {}})
    qa = site.qadapter(queue="no-such-partition")
    assert site.qlaunch("-q", qa, "-r", "singleshot") == 6
    err = capsys.readouterr().err
    assert "invalid partition specified: no-such-partition" in err
    assert "the firework is READY again, nothing stays reserved" in err
    assert site.states() == {"READY": 1}
    assert site.lp.get_reservations() == []
    assert site.qlaunch("-q", qa, "rapidfire", "-m", "2", "--sleep", "1") == 6
    assert "invalid partition specified" in capsys.readouterr().err
    assert site.queued() == 0


# -- reservation mode ------------------------------------------------------------------------
def test_reservation_mode_end_to_end(site):
    fws = [script_fw(i, "true") for i in (1, 2, 3)]
    fws[2]["spec"]["_queueadapter"] = {"walltime": "00:07:00"}
    site.lp.add_wf({"fws": fws, "links": {}})
    qa = site.qadapter(rocket_launch="rlaunch singleshot")
    assert site.qlaunch("-q", qa, "-r", "rapidfire", "-m", "3", "--sleep", "1", "--timeout", "60") == 0
    assert site.states() == {"COMPLETED": 3}, site.pilot_logs()
    qids = {}
    for row in get_qids(site.lp, [1, 2, 3]):
        qids.setdefault(row["fw_id"], set()).add(row["qid"])
    assert all(len(ids) == 1 for ids in qids.values()), qids  # each ran in its own job
    ran = {fw_id: ids.pop() for fw_id, ids in qids.items()}
    assert len(set(ran.values())) == 3
    limits = {
        fw_id: run_subprocess(["squeue", "-h", "-j", qid, "-t", "all", "-o", "%l"])[1].strip()
        for fw_id, qid in ran.items()
    }
    assert limits == {1: "10:00", 2: "10:00", 3: "7:00"}
    scripts = [p.read_text() for p in site.work.glob("block_*/launcher_*/FW_submit.script")]
    assert sorted(re.search(r"singleshot --fw_id (\d)", s).group(1) for s in scripts) == ["1", "2", "3"]


def test_cancel_qid_frees_reserved_and_running_fireworks(site, capsys):
    site.lp.add_wf({"fws": [script_fw(1, "true"), script_fw(2, STUBBORN)], "links": {}})
    qa = site.qadapter(pre_rocket="sleep 120", rocket_launch="rlaunch singleshot")
    assert site.qlaunch("-q", qa, "-r", "singleshot") == 0
    held = get_qids(site.lp, [1])[0]["qid"]
    assert lpad(["cancel_qid", held, "-q", qa], launchpad=site.lp) == 0
    assert "firework 1: its reservation was released; it is READY again" in capsys.readouterr().out
    assert site.lp.get_fw_dict(1)["state"] == "READY"
    site.wait_for("job cancelled", lambda: job_state(held) == "CANCELLED", 15)

    site.lp.pause_fw(1)
    qa = site.qadapter()
    assert site.qlaunch("-q", qa, "singleshot") == 0
    site.wait_for("firework 2 running", lambda: site.lp.get_fw_dict(2)["state"] == "RUNNING")
    assert lpad(["cancel_qid", running_qid(site, 2), "-q", qa], launchpad=site.lp) == 0
    out = capsys.readouterr().out
    launch = site.lp.get_launches({"fw_id": 2})[-1]
    if "its rocket handed it back; it is READY again" in out:
        assert launch["interrupted"] is True
    else:  # the rocket missed its SIGTERM and died by SIGKILL: the job ended, so it is rerun
        assert "firework 2: the job ended without handing it back; it was rerun" in out
        assert launch["state"] == "FENCED"
    assert site.lp.get_fw_dict(2)["state"] == "READY"


# -- walltime ------------------------------------------------------------------------------------
def test_walltime_signal_hands_a_running_firework_back(site):
    """Slurm's early warning (--signal=B:USR1@secs), sent by hand, requeues the firework."""
    marker = site.tmp / "marker"
    site.lp.add_wf({"fws": [script_fw(1, first_time(marker, "sleep 120"))], "links": {}})
    qa = site.qadapter()
    assert site.qlaunch("-q", qa, "singleshot") == 0
    script = next(site.work.glob("launcher_*/FW_submit.script")).read_text()
    assert "#SBATCH --signal=B:USR1@30" in script and "--timeout 540" in script
    site.wait_for("firework running", lambda: site.lp.get_fw_dict(1)["state"] == "RUNNING")
    qid = running_qid(site, 1)
    assert run_subprocess(["scancel", "--batch", "--signal=USR1", qid])[0] == 0
    site.wait_for("firework handed back", lambda: site.lp.get_fw_dict(1)["state"] == "READY", 20)
    assert site.lp.get_launches({"fw_id": 1})[0]["interrupted"] is True
    site.wait_for("pilot ended", lambda: job_state(qid) in ("COMPLETED", "FAILED"), 20)
    assert site.qlaunch("-q", qa, "singleshot") == 0
    site.wait_for("firework completed", lambda: site.states() == {"COMPLETED": 1})


@pytest.mark.slow
def test_real_walltime_expiry_mid_task_is_recovered(site):
    """A one-minute pilot with a five-minute task, killed by Slurm at its real time limit.

    ``signal: B:CONT@1`` replaces the early warning with a harmless one, so this
    is the hard limit itself: Slurm TERMs every process, the job script waits
    for rlaunch (trap : TERM), rlaunch hands the firework back before KILL.
    The warning path is test_walltime_signal_hands_a_running_firework_back.
    """
    marker = site.tmp / "marker"
    site.lp.add_wf({"fws": [script_fw(1, first_time(marker, "sleep 300"))], "links": {}})
    qa = site.qadapter(walltime=1, signal="B:CONT@1")
    assert site.qlaunch("-q", qa, "singleshot") == 0
    script = next(site.work.glob("launcher_*/FW_submit.script")).read_text()
    assert "trap : TERM; rlaunch --ping_interval 1 rapidfire --timeout 54 --sleep 1" in script
    site.wait_for("firework running", lambda: site.lp.get_fw_dict(1)["state"] == "RUNNING")
    qid = running_qid(site, 1)
    site.wait_for(
        "firework handed back at the walltime", lambda: site.lp.get_fw_dict(1)["state"] == "READY", 150
    )
    site.wait_for("pilot timed out", lambda: job_state(qid) == "TIMEOUT", 30)
    launch = site.lp.get_launches({"fw_id": 1})[0]
    assert launch["interrupted"] is True
    assert launch["walltime"] is True  # a SIGTERM after the pilot's --timeout: the hard limit
    assert site.qlaunch("-q", qa, "singleshot") == 0
    site.wait_for("firework completed", lambda: site.states() == {"COMPLETED": 1})


@pytest.mark.slow
def test_a_firework_longer_than_the_walltime_fizzles_instead_of_running_for_ever(site):
    """The issue's case: one-minute pilots, a 90 s task. Each pilot's walltime warning
    hands it back; the second stop in a row (``_walltime_handbacks: 2``) fizzles it, with
    the reason, and qlaunch rapidfire ends (about two minutes)."""
    site.lp.add_wf({"fws": [script_fw(1, "sleep 90", _walltime_handbacks=2)], "links": {}})
    qa = site.qadapter(walltime=1)
    done = subprocess.run(
        [sys.executable, "-m", "queue_adapters.cli", "-q", qa, "rapidfire", "-m", "1", "--sleep", "2"],
        cwd=site.work,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr + site.pilot_logs()
    assert "submitted 2 pilot job(s)" in done.stdout, done.stderr
    assert site.states() == {"FIZZLED": 1}, site.pilot_logs()
    first, second = site.lp.get_launches({"fw_id": 1})
    assert (first["walltime"], first["handed_back"]) == (True, True), first
    assert (second["walltime"], second["handed_back"]) == (True, False), second
    message = second["exception"]["message"]
    assert "walltime 2 times in a row" in message and "does not fit" in message
    assert "firework 1 FIZZLED: stopped by its pilot job's walltime" in site.pilot_logs()


# -- the daemon ----------------------------------------------------------------------------------
@pytest.fixture
def daemon(site):
    """Start the daemon in this process with short intervals; stop it afterwards."""
    made = []

    def start(**settings):
        adapter = get_adapter(site.qadapter())
        launcher = QueueLauncher(site.lp, adapter, launch_dir=site.work, submit_interval=0.2)
        d = QueueDaemon(
            site.lp,
            DaemonSettings(
                **{
                    "maxjobs_queue": 2,
                    "topup_interval": 1,
                    "lostruns_interval": 1,
                    "lostruns_time": 5,
                    "ping_interval": 1,
                    "unreserved_interval": 0,
                    **settings,
                }
            ),
            launcher,
            status_file=str(site.tmp / "daemon.json"),
        )
        stop = threading.Event()
        thread = threading.Thread(target=d.serve, args=(stop, False), daemon=True)
        thread.start()
        made.append((stop, thread))
        return d

    yield start
    for stop, thread in made:
        stop.set()
        thread.join(30)


def test_daemon_recovers_a_pilot_killed_by_scancel(site, daemon):
    marker = site.tmp / "marker"
    site.lp.add_wf({"fws": [script_fw(1, first_time(marker, STUBBORN))], "links": {}})
    daemon()
    site.wait_for("firework running", lambda: site.lp.get_fw_dict(1)["state"] == "RUNNING")
    first = running_qid(site, 1)
    assert run_subprocess(["scancel", first])[0] == 0
    site.wait_for("firework completed", lambda: site.states() == {"COMPLETED": 1})
    qids = [r["qid"] for r in get_qids(site.lp, [1])]
    assert qids[0] == first and qids[-1] != first


def test_daemon_reruns_a_lost_run(site, daemon):
    """The rocket dies outright (SIGKILL, as on a node crash): lost-run detection reruns it."""
    marker = site.tmp / "marker"
    site.lp.add_wf({"fws": [script_fw(1, first_time(marker, "kill -9 $PPID; sleep 5"))], "links": {}})
    daemon()
    site.wait_for("firework completed", lambda: site.states() == {"COMPLETED": 1}, 90)
    launches = site.lp.get_launches({"fw_id": 1})
    assert launches[0]["state"] == "FIZZLED" and launches[0]["exception"]["lost"] is True
    assert launches[-1]["state"] == "COMPLETED" and len(launches) == 2
