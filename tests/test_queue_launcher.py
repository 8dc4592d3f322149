"""QueueLauncher, qlaunch and the queue's lpad commands against a fake Slurm.

``FakeSlurm`` answers sbatch/squeue/sacct/scancel the way the real Slurm 22.05
does (its error texts are the recorded ones in tests/data/queue/slurm.json),
and clock and sleep are injected, so no test waits or needs a cluster.
tests/test_queue_slurm_e2e.py runs the same code against the real Slurm.
"""

import argparse
import json
import os
import re
from pathlib import Path

import pytest
from conftest import ManualClock

from launchpad import LaunchPad
from launchpad.errors import ConfigError, NotFoundError, QueueError
from launchpad.worker import FWorker
from queue_adapters import cli as qcli
from queue_adapters import get_adapter
from queue_adapters.launcher import (
    JOB_ID_FILE,
    SUBMIT_SCRIPT,
    QueueLauncher,
    backoff,
    forward_signal,
    pilot_command,
    shield_shell,
    signal_lead,
    stop_margin,
)
from queue_adapters.lpad_commands import register
from queue_adapters.reservations import cancel_qid, detect_unreserved, get_qids, launch_qid

RECORDED = json.loads((Path(__file__).parent / "data" / "queue" / "slurm.json").read_text())
BAD_PARTITION = RECORDED["sbatch_bad_partition"][0]["stderr"]
CONTROLLER_DOWN = RECORDED["squeue_controller_down"][0]["stderr"]
INVALID_ID = RECORDED["state_unknown_id"][0]["stderr"]
NO_ACCOUNTING = RECORDED["state_unknown_id"][1]["stderr"]
NOOP = {"_fw_name": "PyTask", "func": "os.getcwd"}


class FakeSlurm:
    """A run_command that keeps jobs like slurmctld does, with Slurm's own output."""

    def __init__(self, user="alice"):
        self.user = user
        self.jobs = {}  # id -> {"name", "state", "script", "cwd"}
        self.calls = []
        self.next_id = 4711
        self.fail = {}  # program -> list of (rc, out, err) to answer next
        self.on_cancel = None  # callback(job_id): what the job's processes do on scancel

    def __call__(self, argv, cwd=None, timeout=None):
        self.calls.append(list(argv))
        queued = self.fail.get(argv[0])
        if queued:
            return queued.pop(0)
        return getattr(self, argv[0])(argv, cwd)

    def sbatch(self, argv, cwd):
        text = (Path(cwd or ".") / argv[-1]).read_text()
        if "--partition=nope" in text:
            return 1, "", BAD_PARTITION
        name = re.search(r"--job-name=(\S+)", text).group(1)
        partition = re.search(r"--partition=(\S+)", text)
        job_id = str(self.next_id)
        self.next_id += 1
        self.jobs[job_id] = {"name": name, "state": "PENDING", "script": text, "cwd": cwd}
        if partition:
            self.jobs[job_id]["partition"] = partition.group(1)
        return 0, f"{job_id}\n", ""

    def squeue(self, argv, cwd):
        if "-j" in argv:
            job = self.jobs.get(argv[argv.index("-j") + 1])
            return (0, f"{job['state']}\n", "") if job else (1, "", INVALID_ID)
        name = argv[argv.index("-n") + 1] if "-n" in argv else None
        partition = argv[argv.index("-p") + 1] if "-p" in argv else None
        lines = [
            f"{i} {j['state']}"
            for i, j in self.jobs.items()
            if j["state"] in ("PENDING", "RUNNING", "COMPLETING")
            and (name is None or j["name"] == name)
            and (partition is None or j.get("partition") == partition)
        ]
        return 0, "".join(line + "\n" for line in lines), ""

    def sacct(self, argv, cwd):
        return 1, "", NO_ACCOUNTING

    def scancel(self, argv, cwd):
        job = self.jobs.get(argv[-1])
        if job and job["state"] in ("PENDING", "RUNNING"):
            job["state"] = "CANCELLED"
            if self.on_cancel:
                self.on_cancel(argv[-1])
        return 0, "", ""

    def submitted(self):
        return [c for c in self.calls if c[0] == "sbatch"]

    def set_state(self, state, *job_ids):
        for job_id in job_ids or list(self.jobs):
            self.jobs[job_id]["state"] = state


class Clock:
    """A monotonic clock that moves only when the fake sleep is called."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


QADAPTER = {
    "_fw_q_type": "SLURM",
    "rocket_launch": "rlaunch -w my_fworker.yaml rapidfire",
    "job_name": "pilot",
    "walltime": "01:00:00",
    "queue": "debug",
}


@pytest.fixture
def slurm():
    return FakeSlurm()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_launcher(lp, slurm, clock, tmp_path):
    def make(reserve=False, worker=None, maxjobs_block=500, **params):
        adapter = get_adapter({**QADAPTER, **params}, run_command=slurm, user="alice")
        return QueueLauncher(
            lp,
            adapter,
            worker,
            launch_dir=tmp_path / "runs",
            reserve=reserve,
            maxjobs_block=maxjobs_block,
            submit_interval=2.0,
            clock=clock,
            sleep=clock.sleep,
        )

    (tmp_path / "runs").mkdir()
    return make


def add_fws(lp, n, **spec):
    fws = [{"fw_id": i + 1, "name": f"fw{i + 1}", "spec": {"_tasks": [NOOP], **spec}} for i in range(n)]
    return sorted(lp.add_wf({"fws": fws, "links": {}}).values())


def complete_all(lp):
    while True:
        fw, launch_id = lp.claim_to_run()
        if fw is None:
            return
        lp.complete_launch(launch_id, fw_id=fw["fw_id"])


# -- the pilot's command -----------------------------------------------------------
@pytest.mark.parametrize("walltime, margin", [(60, 6), (1800, 180), (3000, 300), (86400, 300)])
def test_margin_is_a_tenth_of_the_walltime_capped_at_five_minutes(walltime, margin):
    assert stop_margin(walltime) == margin
    assert signal_lead(walltime) == margin // 2


@pytest.mark.parametrize(
    "command, expected",
    [
        ("rlaunch rapidfire", "rlaunch rapidfire --timeout 3300"),
        (
            "rlaunch -w w.yaml rapidfire --sleep 5 > out.txt",
            "rlaunch -w w.yaml rapidfire --timeout 3300 --sleep 5 > out.txt",
        ),
        ("/opt/venv/bin/rlaunch multi 4 --sleep 2", "/opt/venv/bin/rlaunch multi 4 --timeout 3300 --sleep 2"),
        ("python -m rocket.cli rapidfire", "python -m rocket.cli rapidfire --timeout 3300"),
        ("rlaunch rapidfire --timeout 99", "rlaunch rapidfire --timeout 99"),
        ("rlaunch singleshot", "rlaunch singleshot"),
        ("my_own_script.sh rapidfire", "my_own_script.sh rapidfire"),
    ],
)
def test_rapidfire_pilots_stop_taking_work_before_the_walltime(command, expected):
    assert pilot_command(command, 3600) == expected
    assert pilot_command(command, None) == command


@pytest.mark.parametrize(
    "command, expected",
    [
        ("rlaunch rapidfire", "rlaunch singleshot --fw_id 7"),
        (
            "rlaunch -l lp.yaml rapidfire --nlaunches 2 --sleep=3; echo done",
            "rlaunch -l lp.yaml singleshot --fw_id 7; echo done",
        ),
        ("cd /scratch && rlaunch singleshot -f 3", "cd /scratch && rlaunch singleshot --fw_id 7"),
    ],
)
def test_reservation_mode_runs_its_own_firework(command, expected):
    assert pilot_command(command, 3600, fw_id=7) == expected


def test_reservation_mode_needs_rlaunch_in_rocket_launch():
    with pytest.raises(ConfigError, match="reservation mode .* needs rocket_launch to run rlaunch"):
        pilot_command("./run_my_code.sh", 3600, fw_id=7)


def test_signal_is_forwarded_only_to_a_simple_rlaunch_command():
    wrapped = forward_signal("rlaunch rapidfire --timeout 54")
    assert wrapped.startswith("trap 'kill -USR1 $pilot_pid 2>/dev/null' USR1; trap : TERM; ")
    assert "rlaunch rapidfire --timeout 54 & pilot_pid=$!" in wrapped
    assert forward_signal("rlaunch rapidfire > log 2>&1") is None
    assert forward_signal("module load x; rlaunch rapidfire") is None
    assert forward_signal("./my_code") is None


def test_the_batch_shell_outlives_sigterm_only_around_rlaunch():
    assert shield_shell("rlaunch singleshot") == "trap : TERM; rlaunch singleshot"
    assert shield_shell("module load x; rlaunch rapidfire") == "trap : TERM; module load x; rlaunch rapidfire"
    assert shield_shell("./my_code --fast") == "./my_code --fast"


FAKE_RLAUNCH = """#!/bin/bash
trap 'echo TERM >> "$LOG"; sleep 0.3; exit 7' TERM
trap 'echo USR1 >> "$LOG"; sleep 0.3; exit 7' USR1
echo started >> "$LOG"
while true; do sleep 0.05; done
"""


def start_pilot_line(tmp_path, line):
    """Run a pilot's rocket_launch line in bash with a fake rlaunch; wait until it runs."""
    import subprocess
    import time

    (tmp_path / "rlaunch").write_text(FAKE_RLAUNCH)
    (tmp_path / "rlaunch").chmod(0o755)
    log = tmp_path / "log"
    log.write_text("")
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "LOG": str(log)}
    shell = subprocess.Popen(
        ["bash", "-c", line + '\necho shell-done >> "$LOG"'], env=env, start_new_session=True
    )
    deadline = time.monotonic() + 10
    while "started" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    return shell, log


def test_the_wrapper_hands_usr1_on_once_and_waits_for_rlaunch(tmp_path):
    import signal
    import time

    shell, log = start_pilot_line(tmp_path, forward_signal("rlaunch rapidfire --timeout 54"))
    shell.send_signal(signal.SIGUSR1)  # Slurm's early warning, to the batch shell only
    time.sleep(0.05)
    shell.send_signal(signal.SIGTERM)  # the hard limit reaches the shell too
    assert shell.wait(10) == 0
    # rlaunch gets the warning itself (a walltime stop, not a Ctrl-C), once, then the shell goes on
    assert log.read_text().split() == ["started", "USR1", "shell-done"]


@pytest.mark.parametrize("shielded", [True, False])
def test_a_shielded_shell_waits_for_rlaunch_after_sigterm(tmp_path, shielded):
    import signal

    line = shield_shell("rlaunch rapidfire") if shielded else "rlaunch rapidfire"
    shell, log = start_pilot_line(tmp_path, line)
    os.killpg(shell.pid, signal.SIGTERM)  # scancel signals every process of the job
    if shielded:
        assert shell.wait(10) == 0
        assert log.read_text().split() == ["started", "TERM", "shell-done"]
    else:  # the shell dies at once; Slurm would then kill rlaunch before it hands back
        assert shell.wait(10) == -signal.SIGTERM
        assert "shell-done" not in log.read_text()


def test_backoff_doubles_up_to_ten_minutes():
    assert [backoff(n) for n in (1, 2, 3, 5, 9)] == [30, 60, 120, 480, 600]


# -- submitting ----------------------------------------------------------------------
def test_pilot_script_has_timeout_signal_and_its_directory(lp, slurm, make_launcher, tmp_path):
    add_fws(lp, 1)
    launcher = make_launcher()
    sub = launcher.singleshot()
    script = Path(sub.launcher_dir, SUBMIT_SCRIPT).read_text()
    assert Path(sub.launcher_dir).parent == tmp_path / "runs"
    assert Path(sub.launcher_dir).name.startswith("launcher_")
    assert "#SBATCH --time=01:00:00" in script
    assert "#SBATCH --signal=B:USR1@150" in script
    assert "rlaunch -w my_fworker.yaml rapidfire --timeout 3300 & pilot_pid=$!" in script
    assert f'cd "{sub.launcher_dir}"' in script
    assert Path(sub.launcher_dir, JOB_ID_FILE).read_text() == f"{sub.job_id}\n"
    assert slurm.jobs[sub.job_id]["cwd"] == sub.launcher_dir


def test_a_user_signal_setting_or_no_walltime_means_no_wrapper(lp, make_launcher):
    add_fws(lp, 2)
    own = make_launcher(signal="B:USR2@60").singleshot()
    script = Path(own.launcher_dir, SUBMIT_SCRIPT).read_text()
    assert "--signal=B:USR2@60" in script and "pilot_pid" not in script
    none = make_launcher(walltime=None).singleshot()
    script = Path(none.launcher_dir, SUBMIT_SCRIPT).read_text()
    assert "--signal" not in script and "--time" not in script
    assert "rlaunch -w my_fworker.yaml rapidfire\n" in script


def test_singleshot_without_ready_work_submits_nothing(lp, slurm, make_launcher):
    assert make_launcher().singleshot() is None
    assert make_launcher(reserve=True).singleshot() is None
    assert slurm.submitted() == []


def test_top_up_submits_no_more_than_the_ready_work(lp, slurm, make_launcher):
    add_fws(lp, 3)
    launcher = make_launcher()
    first = launcher.top_up(10)
    assert (first.ready, first.queued, first.wanted, len(first.submitted)) == (3, 0, 3, 3)
    again = launcher.top_up(10)
    assert (again.queued, again.wanted, again.submitted) == (3, 0, [])
    assert len(slurm.submitted()) == 3


def test_top_up_stops_at_maxjobs_queue_and_counts_only_our_jobs(lp, slurm, make_launcher):
    add_fws(lp, 9)
    slurm.jobs["99"] = {"name": "someone-else", "state": "RUNNING", "script": "", "cwd": None}
    slurm.jobs["98"] = {"name": "pilot", "state": "PENDING", "partition": "long", "script": "", "cwd": None}
    launcher = make_launcher()
    assert len(launcher.top_up(4).submitted) == 4
    assert launcher.top_up(4).submitted == []
    slurm.set_state("COMPLETED", *[j for j in slurm.jobs if j not in ("98", "99")][:2])
    refill = launcher.top_up(4)
    assert (refill.queued, len(refill.submitted)) == (2, 2)  # the pilot in "long" is another queue's
    assert ["squeue", "-h", "-u", "alice", "-o", "%i %T", "-n", "pilot", "-p", "debug"] in slurm.calls


def test_ready_work_counts_only_what_the_worker_may_run(lp, make_launcher):
    add_fws(lp, 2, _category="gpu")
    add_fws(lp, 1)
    cpu = make_launcher(worker=FWorker(name="cpu", category="__none__"))
    assert len(cpu.top_up(10).submitted) == 1
    gpu = make_launcher(worker=FWorker(name="gpu", category="gpu"), job_name="gpu-pilot")
    assert len(gpu.top_up(10).submitted) == 2


def test_submissions_are_spaced_by_the_interval(lp, make_launcher, clock):
    add_fws(lp, 3)
    make_launcher().top_up(10)
    assert clock.sleeps == [2.0, 2.0]


def test_block_directories_hold_at_most_maxjobs_block(lp, make_launcher, tmp_path):
    add_fws(lp, 5)
    launcher = make_launcher(maxjobs_block=2)
    subs = launcher.top_up(10).submitted
    blocks = [Path(s.launcher_dir).parent for s in subs]
    assert len(set(blocks)) == 3 and [blocks.count(b) for b in dict.fromkeys(blocks)] == [2, 2, 1]
    assert all(b.name.startswith("block_") and b.parent == tmp_path / "runs" for b in blocks)


def test_failed_submission_shows_sbatchs_words_and_reserves_nothing(lp, slurm, make_launcher):
    add_fws(lp, 1)
    with pytest.raises(QueueError) as info:
        make_launcher(queue="nope").singleshot()
    assert "invalid partition specified: nope" in str(info.value)
    assert "nothing was reserved" in str(info.value)
    assert lp.get_reservations() == []


# -- reservation mode ---------------------------------------------------------------------
def test_reservation_mode_ties_each_job_to_one_firework(lp, slurm, make_launcher):
    ids = add_fws(lp, 2)
    lp.update_spec([ids[1]], {"_queueadapter": {"walltime": "00:07:00", "nodes": 2}})
    subs = make_launcher(reserve=True).top_up(10).submitted
    assert [s.fw_id for s in subs] == ids
    for sub in subs:
        script = slurm.jobs[sub.job_id]["script"]
        assert f"singleshot --fw_id {sub.fw_id} & pilot_pid" in script
        launch = lp.get_launch(sub.launch_id)
        assert (launch["state"], launch["reservation_id"], launch["launch_dir"]) == (
            "RESERVED",
            sub.job_id,
            sub.launcher_dir,
        )
    assert "--time=01:00:00" in slurm.jobs[subs[0].job_id]["script"]
    assert "--time=00:07:00" in slurm.jobs[subs[1].job_id]["script"]
    assert "--nodes=2" in slurm.jobs[subs[1].job_id]["script"]
    assert {d["state"] for d in lp.get_fws()} == {"RESERVED"}


def test_a_reserved_firework_with_an_absolute_launch_dir_is_submitted_from_there(
    lp, slurm, make_launcher, tmp_path
):
    """qlaunch -r as FireWorks': the job of a firework whose spec names a scratch
    ``_launch_dir`` runs there (script, queue output, the launch's directory); a relative
    one stays the rocket's, under the launcher directory; a confined worker keeps it."""
    scratch = tmp_path / "scratch" / "run1"
    add_fws(lp, 1, _launch_dir=str(scratch))
    sub = make_launcher(reserve=True).singleshot()
    assert sub.launcher_dir == str(scratch) and slurm.jobs[sub.job_id]["cwd"] == str(scratch)
    assert (scratch / "FW_submit.script").exists()
    assert lp.get_launch(sub.launch_id)["launch_dir"] == str(scratch)
    assert list((tmp_path / "runs").iterdir()) == []  # no empty launcher_ directory left

    lp.reset("", require_password=False)
    add_fws(lp, 1, _launch_dir="relative/here")
    sub = make_launcher(reserve=True).singleshot()
    assert os.path.dirname(sub.launcher_dir) == str(tmp_path / "runs")

    lp.reset("", require_password=False)
    add_fws(lp, 1, _launch_dir=str(tmp_path / "elsewhere"))
    confined = FWorker(name="site", confine_launch_dir=True)
    sub = make_launcher(reserve=True, worker=confined).singleshot()
    assert os.path.dirname(sub.launcher_dir) == str(tmp_path / "runs")
    assert not (tmp_path / "elsewhere").exists()


def test_a_firework_cannot_rename_its_job_out_of_the_count(lp, slurm, make_launcher, caplog):
    add_fws(lp, 1, _queueadapter={"job_name": "hidden", "walltime": 5})
    sub = make_launcher(reserve=True).singleshot()
    assert slurm.jobs[sub.job_id]["name"] == "pilot"
    assert "--time=00:05:00" in slurm.jobs[sub.job_id]["script"]
    assert "_queueadapter job_name ignored" in caplog.text


def test_reservation_demand_counts_reserved_work_once(lp, make_launcher):
    add_fws(lp, 3)
    launcher = make_launcher(reserve=True)
    assert len(launcher.top_up(2).submitted) == 2
    third = launcher.top_up(3)
    assert (third.ready, third.queued, len(third.submitted)) == (1, 2, 1)


def test_failed_reserved_submission_gives_the_firework_back(lp, make_launcher):
    (fw_id,) = add_fws(lp, 1)
    with pytest.raises(
        QueueError, match=f"(?s)firework {fw_id}: .*invalid partition.*the firework is READY again"
    ):
        make_launcher(reserve=True, queue="nope").singleshot()
    assert lp.get_fw_dict(fw_id)["state"] == "READY"
    assert [launch["state"] for launch in lp.get_launches()] == ["CANCELLED"]


def test_bad_queueadapter_of_a_firework_names_it_and_gives_it_back(lp, make_launcher):
    (fw_id,) = add_fws(lp, 1, _queueadapter={"walltime": "soon"})
    with pytest.raises(ConfigError, match=f"firework {fw_id}: .*walltime 'soon'.*READY again"):
        make_launcher(reserve=True).singleshot()
    assert lp.get_fw_dict(fw_id)["state"] == "READY"


# -- rapidfire ------------------------------------------------------------------------------
def test_rapidfire_sleeps_exactly_as_asked_and_keeps_to_timeout(lp, make_launcher, clock):
    add_fws(lp, 2)
    launcher = make_launcher()
    launcher.submit_interval = 0
    n = launcher.rapidfire(maxjobs_queue=5, nlaunches=-1, sleep_time=7, timeout=30)
    assert n == 2
    assert clock.sleeps == [7, 7, 7, 7]  # a fifth would end past 30 s


def test_rapidfire_refills_as_jobs_finish_and_stops_when_work_is_done(lp, slurm, make_launcher, clock):
    add_fws(lp, 5)
    launcher = make_launcher()
    launcher.submit_interval = 0
    launcher.poll = 60  # one sleep call per round: this test counts rounds by them
    rounds = []

    def sleep(seconds):
        clock.sleep(seconds)
        rounds.append(len(slurm.submitted()))
        slurm.set_state("COMPLETED", *[j for j, job in slurm.jobs.items() if job["state"] == "PENDING"][:1])
        if len(rounds) == 4:
            complete_all(lp)

    launcher.sleep = sleep
    n = launcher.rapidfire(maxjobs_queue=2, nlaunches=0, sleep_time=60)
    assert rounds[:3] == [2, 3, 4]
    assert n == len(slurm.submitted()) and set(clock.sleeps) == {60}
    assert lp.fw_state_counts() == {"COMPLETED": 5}


def test_rapidfire_ends_within_a_poll_of_the_last_firework(lp, slurm, make_launcher, clock):
    """Not a whole --sleep later: qlaunch looks every 5 s whether work is left."""
    add_fws(lp, 1)
    launcher = make_launcher()
    seen = []

    def sleep(seconds):
        clock.sleep(seconds)
        seen.append(seconds)
        if len(seen) == 2:
            complete_all(lp)

    launcher.sleep = sleep
    assert launcher.rapidfire(maxjobs_queue=2, nlaunches=0, sleep_time=60) == 1
    assert seen == [5, 5]


def test_rapidfire_stops_after_nlaunches(lp, slurm, make_launcher):
    add_fws(lp, 10)
    assert make_launcher().rapidfire(maxjobs_queue=10, nlaunches=3, sleep_time=5) == 3
    assert len(slurm.submitted()) == 3


def test_rapidfire_first_failure_stops_at_once(lp, make_launcher, clock):
    add_fws(lp, 3)
    with pytest.raises(QueueError, match="invalid partition"):
        make_launcher(queue="nope").rapidfire(maxjobs_queue=3, sleep_time=5)
    assert 5 not in clock.sleeps


def test_rapidfire_backs_off_on_later_errors_then_gives_up(lp, slurm, make_launcher, clock):
    add_fws(lp, 3)
    launcher = make_launcher()
    launcher.submit_interval = 0
    launcher.rapidfire(maxjobs_queue=1, nlaunches=1, sleep_time=5)
    slurm.fail["squeue"] = [(1, "", CONTROLLER_DOWN)] * 3
    with pytest.raises(QueueError, match="Unable to contact slurm controller"):
        launcher.rapidfire(maxjobs_queue=1, nlaunches=-1, sleep_time=5, max_errors=3)
    assert clock.sleeps == [30, 60]


def test_rapidfire_recovers_after_an_error(lp, slurm, make_launcher, clock):
    add_fws(lp, 2)
    launcher = make_launcher()
    launcher.rapidfire(maxjobs_queue=1, nlaunches=1, sleep_time=5)
    slurm.fail["squeue"] = [(1, "", CONTROLLER_DOWN)]
    slurm.set_state("COMPLETED")
    assert launcher.rapidfire(maxjobs_queue=1, nlaunches=1, sleep_time=5) == 1
    assert clock.sleeps == [30]


# -- queue ids, cancel_qid, detect_unreserved ------------------------------------------------
def test_get_qids_from_reservations_and_pilot_directories(lp, make_launcher, tmp_path):
    ids = add_fws(lp, 2)
    sub = make_launcher(reserve=True).singleshot()
    pilot = make_launcher().singleshot()
    fw, launch_id = lp.claim_to_run(launch_dir=os.path.join(pilot.launcher_dir, "launcher_x"))
    rows = get_qids(lp, ids)
    assert {(r["fw_id"], r["state"], r["qid"]) for r in rows} == {
        (ids[0], "RESERVED", sub.job_id),
        (ids[1], "RUNNING", pilot.job_id),
    }
    assert launch_qid({"launch_dir": str(tmp_path / "nowhere")}) is None
    with pytest.raises(NotFoundError, match="no firework with id 99"):
        get_qids(lp, [99])


def test_cancel_qid_releases_a_reserved_firework(lp, slurm, make_launcher):
    (fw_id,) = add_fws(lp, 1)
    sub = make_launcher(reserve=True).singleshot()
    result = cancel_qid(lp, get_adapter(QADAPTER, run_command=slurm), sub.job_id)
    assert ["scancel", sub.job_id] in slurm.calls
    assert (result.released, result.rerun) == ([fw_id], [])
    assert lp.get_fw_dict(fw_id)["state"] == "READY"
    assert slurm.jobs[sub.job_id]["state"] == "CANCELLED"


def test_cancel_qid_of_an_unknown_or_ended_job_cancels_nothing(lp, slurm, make_launcher):
    adapter = get_adapter(QADAPTER, run_command=slurm)
    result = cancel_qid(lp, adapter, "999")
    assert (result.known, result.cancelled, result.touched) == (False, False, False)
    assert not any(c[0] == "scancel" for c in slurm.calls)
    (fw_id,) = add_fws(lp, 1)
    sub = make_launcher(reserve=True).singleshot()
    slurm.set_state("FAILED", sub.job_id)
    result = cancel_qid(lp, adapter, sub.job_id)
    assert (result.known, result.cancelled, result.job_state) == (True, False, "FAILED")
    assert result.released == [fw_id]  # its reservation is freed all the same


def test_a_failed_submission_leaves_no_directory(lp, slurm, make_launcher, tmp_path):
    add_fws(lp, 2)
    for reserve in (False, True):
        launcher = make_launcher(reserve=reserve, queue="nope")
        with pytest.raises(QueueError):
            launcher.singleshot()
        with pytest.raises(QueueError):
            launcher.top_up(2)
    assert list((tmp_path / "runs").iterdir()) == []
    launcher = make_launcher()
    launcher.top_up(1)
    slurm.fail["sbatch"] = [(1, "", BAD_PARTITION)]
    with pytest.raises(QueueError):
        launcher.top_up(2)  # the block keeps its first job, loses the refused one
    (block,) = (tmp_path / "runs").iterdir()
    assert len(list(block.iterdir())) == 1


def running_pilot(lp, launcher, slurm):
    sub = launcher.singleshot()
    slurm.set_state("RUNNING", sub.job_id)
    fw, launch_id = lp.claim_to_run(launch_dir=os.path.join(sub.launcher_dir, "launcher_1"))
    return sub, fw["fw_id"], launch_id


def test_cancel_qid_lets_the_rocket_hand_back_a_running_firework(lp, slurm, make_launcher, clock):
    add_fws(lp, 1)
    sub, fw_id, launch_id = running_pilot(lp, make_launcher(), slurm)
    slurm.on_cancel = lambda job_id: lp.interrupt_launch(launch_id, fw_id, reason="SIGTERM")
    result = cancel_qid(
        lp, get_adapter(QADAPTER, run_command=slurm), sub.job_id, clock=clock, sleep=clock.sleep
    )
    assert (result.handed_back, result.rerun, result.still_running) == ([fw_id], [], [])
    assert lp.get_fw_dict(fw_id)["state"] == "READY"


def test_cancel_qid_reruns_a_firework_whose_rocket_died_with_the_job(lp, slurm, make_launcher, clock):
    add_fws(lp, 1)
    sub, fw_id, launch_id = running_pilot(lp, make_launcher(), slurm)
    result = cancel_qid(
        lp, get_adapter(QADAPTER, run_command=slurm), sub.job_id, clock=clock, sleep=clock.sleep
    )
    assert (result.rerun, result.job_state) == ([fw_id], "CANCELLED")
    assert lp.get_fw_dict(fw_id)["state"] == "READY"
    assert lp.get_launch(launch_id)["state"] == "FENCED"


def test_cancel_qid_leaves_a_job_that_does_not_end_to_lost_run_detection(lp, slurm, make_launcher, clock):
    add_fws(lp, 1)
    sub, fw_id, _ = running_pilot(lp, make_launcher(), slurm)
    slurm.on_cancel = lambda job_id: slurm.set_state("COMPLETING", job_id)
    result = cancel_qid(
        lp,
        get_adapter(QADAPTER, run_command=slurm),
        sub.job_id,
        wait=10,
        poll=1,
        clock=clock,
        sleep=clock.sleep,
    )
    assert (result.still_running, result.job_state) == ([fw_id], "RUNNING")
    assert sum(clock.sleeps) == 10
    assert lp.get_fw_dict(fw_id)["state"] == "RUNNING"


@pytest.fixture
def timed(store, slurm, tmp_path):
    """A LaunchPad on a hand-moved clock, with a reservation launcher and its adapter."""
    step = ManualClock()
    lp = LaunchPad(store, clock=step)
    adapter = get_adapter(QADAPTER, run_command=slurm, user="alice")
    launcher = QueueLauncher(lp, adapter, launch_dir=tmp_path, reserve=True, submit_interval=0)
    return lp, step, adapter, launcher


def test_detect_unreserved_finds_vanished_and_finished_jobs(timed, slurm):
    lp, step, adapter, launcher = timed
    add_fws(lp, 3)
    gone, ended, waiting = [launcher.singleshot() for _ in range(3)]
    del slurm.jobs[gone.job_id]
    slurm.set_state("FAILED", ended.job_id)
    stale = detect_unreserved(lp, adapter, max_wait=3600)
    assert [(s.fw_id, s.reason) for s in stale] == [
        (gone.fw_id, f"its job {gone.job_id} is unknown to the scheduler"),
        (ended.fw_id, f"its job {ended.job_id} ended (FAILED) without starting it"),
    ]
    assert not any(s.released for s in stale)
    assert {d["state"] for d in lp.get_fws()} == {"RESERVED"}
    detect_unreserved(lp, adapter, max_wait=3600, release=True)
    states = {d["fw_id"]: d["state"] for d in lp.get_fws()}
    assert states == {gone.fw_id: "READY", ended.fw_id: "READY", waiting.fw_id: "RESERVED"}


def test_detect_unreserved_releases_long_waits_and_cancels_their_jobs(timed, slurm):
    lp, step, adapter, launcher = timed
    add_fws(lp, 2)
    pending, running = launcher.singleshot(), launcher.singleshot()
    slurm.set_state("RUNNING", running.job_id)
    step.advance(7200)
    stale = detect_unreserved(lp, adapter, max_wait=3600, release=True)
    assert [(s.fw_id, s.released) for s in stale] == [(pending.fw_id, True)]
    assert "waited longer than 3600 s" in stale[0].reason
    assert slurm.jobs[pending.job_id]["state"] == "CANCELLED"
    assert slurm.jobs[running.job_id]["state"] == "RUNNING"


def test_detect_unreserved_without_an_adapter_uses_time_only(timed):
    lp, step, _, launcher = timed
    add_fws(lp, 1)
    launcher.singleshot()
    assert detect_unreserved(lp, None, max_wait=3600) == []
    step.advance(3601)
    assert len(detect_unreserved(lp, None, max_wait=3600, release=True)) == 1
    assert lp.fw_state_counts() == {"READY": 1}


def test_a_reservation_without_a_job_id_is_stale_after_the_grace(timed):
    lp, step, adapter, _ = timed
    add_fws(lp, 1)
    lp.claim_for_queue()
    assert detect_unreserved(lp, adapter, max_wait=None) == []
    step.advance(301)
    (stale,) = detect_unreserved(lp, adapter, max_wait=None, release=True)
    assert "no queue job was recorded" in stale.reason and stale.released


def test_a_reservation_already_started_is_not_stale(timed, slurm):
    lp, step, adapter, launcher = timed
    add_fws(lp, 1)
    sub = launcher.singleshot()
    lp.claim_to_run(fw_id=sub.fw_id, states=("RESERVED",))
    slurm.set_state("COMPLETED", sub.job_id)
    step.advance(10**7)
    assert detect_unreserved(lp, adapter, max_wait=60, release=True) == []
    assert lp.get_fw_dict(sub.fw_id)["state"] == "RUNNING"


# -- the commands --------------------------------------------------------------------------
def write_qadapter(path, **params):
    from launchpad.files import dumps

    path.write_text(dumps({**QADAPTER, **params}, "yaml"))
    return str(path)


def test_qlaunch_singleshot_and_rapidfire(lp, slurm, tmp_path, capsys):
    add_fws(lp, 3)
    qa = write_qadapter(tmp_path / "qa.yaml")
    args = ["-q", qa, "-d", str(tmp_path), "--submit_interval", "0"]
    assert qcli.main(args + ["singleshot"], launchpad=lp, run_command=slurm) == 0
    assert re.search(r"submitted job 4711 from .*launcher_", capsys.readouterr().out)
    assert (
        qcli.main(
            args + ["rapidfire", "-m", "2", "--nlaunches", "5", "--sleep", "0"],
            launchpad=lp,
            run_command=slurm,
            sleep=lambda s: slurm.set_state("COMPLETED"),
        )
        == 0
    )
    assert "submitted 5 pilot job(s)" in capsys.readouterr().out


def test_qlaunch_reports_scheduler_errors_with_an_exit_code(lp, slurm, tmp_path, capsys):
    add_fws(lp, 1)
    qa = write_qadapter(tmp_path / "qa.yaml", queue="nope")
    assert (
        qcli.main(["-q", qa, "-d", str(tmp_path), "-r", "singleshot"], launchpad=lp, run_command=slurm) == 6
    )
    err = capsys.readouterr().err
    assert "qlaunch: error: could not submit a pilot job" in err and "invalid partition" in err
    assert lp.fw_state_counts() == {"READY": 1}


def test_qlaunch_without_a_qadapter_says_where_it_looked(lp, isolated_home, capsys):
    assert qcli.main(["singleshot"], launchpad=lp) == 2
    err = capsys.readouterr().err
    assert "no queue adapter file: pass -q FILE, or put my_qadapter.yaml" in err


def test_qlaunch_finds_the_qadapter_in_starshell_home(isolated_home, monkeypatch):
    home = Path(os.environ["STARSHELL_HOME"])
    write_qadapter(home / "my_qadapter.yaml")
    assert qcli.find_qadapter_file() == str(home / "my_qadapter.yaml")
    write_qadapter(isolated_home / "my_qadapter.yaml")
    assert qcli.find_qadapter_file() == "my_qadapter.yaml"


def test_qlaunch_rejects_bad_options(capsys):
    with pytest.raises(SystemExit):
        qcli.main(["rapidfire", "--nlaunches", "lots"])
    assert "expected a number >= 0 or 'infinite'" in capsys.readouterr().err


def lpad(argv, lp):
    parser = argparse.ArgumentParser(prog="lpad")
    parser.add_argument("-o", "--output", choices=["json", "yaml"])
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args, lp)


def test_lpad_get_qids_and_cancel_qid(lp, slurm, tmp_path, capsys, monkeypatch):
    ids = add_fws(lp, 2)
    qa = write_qadapter(tmp_path / "qa.yaml")
    adapter = get_adapter(qa, run_command=slurm, user="alice")
    sub = QueueLauncher(lp, adapter, launch_dir=tmp_path, reserve=True).singleshot()
    assert lpad(["get_qids", "-i", f"{ids[0]},{ids[1]}"], lp) == 0
    out = capsys.readouterr()
    assert re.search(rf"{ids[0]}\s+\d+\s+RESERVED\s+{sub.job_id}", out.out)
    assert f"never launched or reserved: fireworks {ids[1]}" in out.err
    assert lpad(["-o", "json", "get_qids", "-i", str(ids[0])], lp) == 0
    assert json.loads(capsys.readouterr().out)[0]["qid"] == sub.job_id
    monkeypatch.setattr("queue_adapters.lpad_commands.get_adapter", lambda path: adapter)
    assert lpad(["cancel_qid", sub.job_id, "-q", qa], lp) == 0
    out = capsys.readouterr().out
    assert f"cancelled job {sub.job_id}" in out
    assert f"firework {ids[0]}: its reservation was released; it is READY again" in out


def test_lpad_detect_unreserved(timed, slurm, tmp_path, capsys, monkeypatch):
    lp, step, adapter, launcher = timed
    add_fws(lp, 1)
    sub = launcher.singleshot()
    del slurm.jobs[sub.job_id]
    qa = write_qadapter(tmp_path / "qa.yaml")
    monkeypatch.setattr("queue_adapters.lpad_commands.get_adapter", lambda path: adapter)
    assert lpad(["detect_unreserved", "-q", qa], lp) == 0
    assert "pass --rerun to make them READY again" in capsys.readouterr().out
    assert lpad(["detect_unreserved", "-q", qa, "--rerun"], lp) == 0
    assert "is unknown to the scheduler -> READY" in capsys.readouterr().out
    assert lp.fw_state_counts() == {"READY": 1}


def test_lpad_detect_unreserved_says_which_jobs_it_cancels(timed, slurm, tmp_path, capsys, monkeypatch):
    lp, step, adapter, launcher = timed
    add_fws(lp, 1)
    sub = launcher.singleshot()
    step.advance(7200)
    qa = write_qadapter(tmp_path / "qa.yaml")
    monkeypatch.setattr("queue_adapters.lpad_commands.get_adapter", lambda path: adapter)
    assert lpad(["detect_unreserved", "-q", qa, "--time", "3600"], lp) == 0
    assert f"(--rerun also cancels its queued job {sub.job_id})" in capsys.readouterr().out
    assert lpad(["detect_unreserved", "-q", qa, "--time", "3600", "--rerun"], lp) == 0
    assert f"-> READY; its queued job {sub.job_id} was cancelled" in capsys.readouterr().out
    assert slurm.jobs[sub.job_id]["state"] == "CANCELLED"


def test_the_architecture_keeps_queue_adapters_away_from_rocket():
    import ast

    for path in Path(qcli.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not any(name.split(".")[0] in ("rocket", "webgui") for name in names), path
        assert len(path.read_text().splitlines()) < 600, path


def test_an_interrupted_reservation_is_given_back(lp, slurm, tmp_path, capsys):
    (fw_id,) = add_fws(lp, 1)
    qa = write_qadapter(tmp_path / "qa.yaml")

    def interrupted(argv, cwd):
        raise KeyboardInterrupt  # Ctrl-C, or SIGTERM, which qlaunch turns into the same

    slurm.sbatch = interrupted
    assert (
        qcli.main(["-q", qa, "-d", str(tmp_path), "-r", "singleshot"], launchpad=lp, run_command=slurm) == 130
    )
    assert "interrupted" in capsys.readouterr().err
    assert lp.get_fw_dict(fw_id)["state"] == "READY" and lp.get_reservations() == []


def test_lpad_cancel_qid_with_fireworks_qid_option_and_no_qadapter(tmp_path):
    """FireWorks' ``cancel_qid --qid N``: without a qadapter file the reservation is
    released and the job is left in the queue (FireWorks never cancels it)."""
    from user_commands import new_user

    from launchpad import LaunchPad
    from launchpad.stores import SQLiteStore

    user = new_user(tmp_path)
    (user.work / "fw.yaml").write_text("spec:\n  _tasks:\n  - _fw_name: ScriptTask\n    script: 'true'\n")
    assert user.run("lpad", "add", "fw.yaml").returncode == 0
    store = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    fw, launch_id = store.claim_for_queue()
    store.set_reservation_id(launch_id, "4242")
    done = user.run("lpad", "cancel_qid", "--qid", "4242")
    assert done.returncode == 0, done.stderr
    assert "job 4242 was left in the queue" in done.stdout
    assert store.get_fw_dict(fw["fw_id"])["state"] == "READY"
    again = user.run("lpad", "cancel_qid", "--qid", "4242")
    assert again.returncode == 3 and "no firework is reserved for job 4242" in again.stderr
    assert user.run("lpad", "cancel_qid", "1", "--qid", "2").returncode != 0
