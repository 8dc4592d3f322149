"""FireWorks' offline mode: qlaunch -r prepares a reservation's directory, ``rlaunch
singleshot --offline`` runs it with no store, ``lpad recover_offline`` reads it back.

The rockets run as users run them: the real ``rlaunch`` in its own process, in an
environment whose launchpad file cannot be read, so a rocket that tried to open a
store would fail. The store side runs on both backends; the ``lpad`` commands on
the embedded store, which they share with the test across processes.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from test_queue_launcher import QADAPTER, Clock, FakeSlurm
from user_commands import User, new_user

from launchpad import LaunchPad
from launchpad.errors import ConfigError
from launchpad.offline import forget_offline, offline_runs, recover_all, recover_offline
from launchpad.offline_files import ACTION_JSON, FW_JSON, OFFLINE_JSON, PING_JSON, RECOVERED
from launchpad.stores import SQLiteStore, WorkerFilter
from launchpad.worker import FWorker
from queue_adapters import get_adapter
from queue_adapters.daemon import DaemonSettings, QueueDaemon
from queue_adapters.launcher import QueueLauncher, is_offline, pilot_command, prepare_offline_run
from queue_adapters.reservations import detect_unreserved

NOOP = {"_fw_name": "PyTask", "func": "os.getcwd"}
ADDED = {"fw_id": -1, "name": "added", "spec": {"_tasks": [NOOP]}}
ADDER = {
    "_fw_name": "PyTask",
    "func": "launchpad.actions.FWAction",
    "kwargs": {"stored_data": {"answer": 42}, "update_spec": {"seen": True}, "additions": [ADDED]},
}


def one_fw(lp, *tasks, **spec):
    lp.add_wf({"fws": [{"fw_id": 1, "name": "first", "spec": {"_tasks": list(tasks), **spec}}], "links": {}})
    return lp.get_fw_ids()[0]


def reserve(lp, root, worker=None):
    """What ``qlaunch -r`` does for a firework when rocket_launch has --offline."""
    worker = worker or WorkerFilter(name="login")
    launch_dir = Path(root) / f"launcher_{len(list(Path(root).glob('launcher_*')))}"
    launch_dir.mkdir(parents=True)
    fw, launch_id = lp.claim_for_queue(worker, launch_dir=str(launch_dir))
    assert fw is not None, "nothing to reserve"
    prepare_offline_run(lp, fw, launch_id, str(launch_dir), worker)
    return fw["fw_id"], launch_id, launch_dir


def node(tmp_path, launch_dir):
    """A compute node's user: the launchpad file named in the environment is unreadable."""
    place = tmp_path / f"node_{uuid.uuid4().hex[:8]}"
    place.mkdir()
    user = new_user(place)
    (user.home / "my_launchpad.yaml").write_text("host: nowhere\n")
    os.chmod(user.home / "my_launchpad.yaml", 0)
    env = {**user.env, "STARSHELL_LAUNCHPAD": str(user.home / "no_such_launchpad.yaml")}
    return User(home=user.home, work=launch_dir, env=env)


def run_offline(tmp_path, launch_dir, *argv):
    done = node(tmp_path, launch_dir).run(
        "rlaunch", "--ping_interval", "0.2", "singleshot", "--offline", *argv
    )
    assert done.returncode == 0, done.stderr
    return done


def snapshot(lp):
    return (
        sorted((f["fw_id"], json.dumps(f, sort_keys=True, default=str)) for f in lp.get_fws()),
        sorted((x["launch_id"], json.dumps(x, sort_keys=True, default=str)) for x in lp.get_launches()),
    )


def test_a_dynamic_workflow_completes_through_offline_runs(lp, tmp_path):
    fw_id = one_fw(lp, ADDER)
    _, launch_id, launch_dir = reserve(lp, tmp_path / "jobs")
    fw_json = json.loads((launch_dir / FW_JSON).read_text())
    assert fw_json["fw_id"] == fw_id and fw_json["spec"]["_tasks"][0]["func"] == "launchpad.actions.FWAction"
    assert json.loads((launch_dir / OFFLINE_JSON).read_text()) == {"launch_id": launch_id}

    run_offline(tmp_path, launch_dir)
    files = json.loads((launch_dir / OFFLINE_JSON).read_text())
    assert files["state"] == "COMPLETED" and files["started_on"] and files["completed_on"]
    assert files["fwaction"]["stored_data"] == {"answer": 42}  # FireWorks reads it here
    assert json.loads((launch_dir / ACTION_JSON).read_text())["stored_data"] == {"answer": 42}
    assert "ping_time" in json.loads((launch_dir / PING_JSON).read_text())
    assert lp.get_fw_dict(fw_id)["state"] == "RESERVED"  # nothing reached the store

    [result] = recover_all(lp)
    assert (result.outcome, result.steps) == ("completed", ("started", "finished"))
    first = lp.get_fw_dict(fw_id)
    assert first["state"] == "COMPLETED"
    launch = lp.get_launch(launch_id)
    assert launch["state"] == "COMPLETED" and launch["offline"] == RECOVERED
    assert launch["action"]["stored_data"] == {"answer": 42}
    assert launch["launch_dir"] == str(launch_dir)
    started = launch["time_start"]
    assert started.replace(" ", "T")[:19] == files["started_on"][:19]  # the node's times, not now
    assert launch["time_end"][:19] == files["completed_on"][:19]
    added = [f for f in lp.get_fws() if f["name"] == "added"]
    assert len(added) == 1 and added[0]["state"] == "READY"

    before = snapshot(lp)
    assert recover_all(lp) == []  # a second recovery changes nothing
    assert lp.recover_offline(launch_id) is None  # FireWorks' method: None when nothing failed
    assert snapshot(lp) == before

    _, second, second_dir = reserve(lp, tmp_path / "jobs")
    run_offline(tmp_path, second_dir)
    assert [r.outcome for r in recover_all(lp)] == ["completed"]
    assert {f["state"] for f in lp.get_fws()} == {"COMPLETED"}
    assert lp.get_launch(second)["launch_dir"] == str(second_dir)


def test_a_run_still_going_is_started_and_pinged_once(lp, tmp_path):
    """Recovered mid-run: RUNNING since the node's start time, last ping the node's;
    again: nothing changes; a newer heartbeat: only it is written."""
    fw_id = one_fw(lp, NOOP)
    _, launch_id, launch_dir = reserve(lp, tmp_path)
    data = {"launch_id": launch_id, "started_on": "2026-01-02T03:04:05.000006+00:00", "host": "node7"}
    (launch_dir / OFFLINE_JSON).write_text(json.dumps(data))
    (launch_dir / PING_JSON).write_text(json.dumps({"ping_time": "2026-01-02T03:09:05+00:00"}))

    [result] = recover_all(lp)
    assert (result.outcome, result.steps) == ("running", ("started",))
    launch = lp.get_launch(launch_id)
    assert (launch["state"], launch["host"]) == ("RUNNING", "node7")
    assert launch["time_start"] == "2026-01-02T03:04:05.000006"
    assert launch["last_ping"] == "2026-01-02T03:09:05.000000"
    assert [h["state"] for h in launch["state_history"]] == ["RESERVED", "RUNNING"]
    assert launch["state_history"][-1]["created_on"] == "2026-01-02T03:04:05.000006"
    assert lp.get_fw_dict(fw_id)["state"] == "RUNNING"

    before = snapshot(lp)
    assert [r.steps for r in recover_all(lp)] == [()]
    assert snapshot(lp) == before

    tail = {"filename": "out.txt", "nlines": 2, "allow_zipped": False, "content": "a\nb"}
    ping = {"ping_time": "2026-01-02T04:00:00+00:00", "trackers": [tail]}
    (launch_dir / PING_JSON).write_text(json.dumps(ping))
    assert [r.steps for r in recover_all(lp)] == [("pinged",)]
    launch = lp.get_launch(launch_id)
    assert launch["last_ping"] == "2026-01-02T04:00:00.000000"
    assert launch["trackers"] == [tail]  # the node's tracked tails, as rlaunch would have sent them
    assert [r.steps for r in recover_all(lp)] == [()]


def test_a_job_not_started_yet_is_left_waiting(lp, tmp_path):
    one_fw(lp, NOOP)
    fw_id, launch_id, _ = reserve(lp, tmp_path)
    before = snapshot(lp)
    assert [r.outcome for r in recover_all(lp)] == ["waiting"]
    assert snapshot(lp) == before
    assert [x["launch_id"] for x in offline_runs(lp)] == [launch_id]


def test_a_failing_task_fizzles_with_its_error(lp, tmp_path):
    fw_id = one_fw(lp, {"_fw_name": "ScriptTask", "script": "echo broken >&2; exit 3"})
    _, launch_id, launch_dir = reserve(lp, tmp_path)
    run_offline(tmp_path, launch_dir)
    assert [r.outcome for r in recover_all(lp)] == ["fizzled"]
    assert lp.get_fw_dict(fw_id)["state"] == "FIZZLED"
    assert "exit" in lp.get_launch(launch_id)["exception"]["message"].lower()


def test_a_stop_signal_hands_the_firework_back_through_the_files(lp, tmp_path):
    fw_id = one_fw(lp, {"_fw_name": "ScriptTask", "script": "sleep 30"})
    _, launch_id, launch_dir = reserve(lp, tmp_path)
    user = node(tmp_path, launch_dir)
    rocket = subprocess.Popen(
        [sys.executable, "-m", "rocket.cli", "singleshot", "--offline"],
        cwd=launch_dir,
        env=user.env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        end = time.monotonic() + 20
        while "started_on" not in (launch_dir / OFFLINE_JSON).read_text() and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.3)
        rocket.send_signal(signal.SIGTERM)
        _, err = rocket.communicate(timeout=20)
    finally:
        rocket.kill()
    assert rocket.returncode == 143, err
    assert json.loads((launch_dir / OFFLINE_JSON).read_text())["interrupted"]["requeue"] is True
    assert [r.outcome for r in recover_all(lp)] == ["handed back"]
    assert lp.get_fw_dict(fw_id)["state"] == "READY"
    launch = lp.get_launch(launch_id)
    assert launch["interrupted"] is True and launch["offline"] == RECOVERED


def test_a_stopped_offline_run_resumes_at_the_task_it_was_in(lp, tmp_path):
    """The checkpoint of the task a run was in travels in FW_offline.json (as FireWorks
    keeps it) to the store, so a task-level rerun resumes there."""
    pid_file = tmp_path / "t2_pid"
    fw_id = one_fw(
        lp,
        {"_fw_name": "ScriptTask", "script": "true"},
        {
            "_fw_name": "ScriptTask",
            "script": f"echo $$ > {pid_file}.tmp; mv {pid_file}.tmp {pid_file}; exec sleep 30",
        },
    )
    _, launch_id, launch_dir = reserve(lp, tmp_path)
    user = node(tmp_path, launch_dir)
    rocket = subprocess.Popen(
        [sys.executable, "-m", "rocket.cli", "--ping_interval", "0.1", "singleshot", "--offline"],
        cwd=launch_dir,
        env=user.env,
    )
    try:
        end = time.monotonic() + 20
        while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < end:
            time.sleep(0.05)
        rocket.send_signal(signal.SIGKILL)
        rocket.wait(20)
    finally:
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert json.loads((launch_dir / OFFLINE_JSON).read_text())["checkpoint"]["_task_n"] == 1
    assert [r.outcome for r in recover_all(lp)] == ["running"]
    time.sleep(0.3)  # two of its 0.1 s heartbeats missed: lost
    assert lp.detect_lostruns(expiration_secs=0.2, fizzle=True) == ([launch_id], [fw_id])
    assert lp.get_recovery(launch_id)["_task_n"] == 1
    assert lp.rerun_fw(fw_id, recover_launch="last", recover_mode="cp") == [fw_id]


def test_a_corrupt_action_file_is_left_with_ignore_errors_and_fizzles_without(lp, tmp_path):
    fw_id = one_fw(lp, ADDER)
    _, launch_id, launch_dir = reserve(lp, tmp_path)
    run_offline(tmp_path, launch_dir)
    (launch_dir / ACTION_JSON).write_text('{"stored_data": ')
    before = snapshot(lp)

    [result] = recover_all(lp, ignore_errors=True)
    assert result.failed and ACTION_JSON in result.error and "not valid JSON" in result.error
    assert snapshot(lp) == before  # nothing half-recovered
    assert lp.recover_offline(launch_id, ignore_errors=True) == fw_id
    assert recover_offline(lp, launch_id, ignore_errors=True) == fw_id

    [result] = recover_all(lp)
    assert result.outcome == "fizzled"
    assert lp.get_fw_dict(fw_id)["state"] == "FIZZLED"
    launch = lp.get_launch(launch_id)
    assert "recover_offline could not read" in launch["exception"]["message"]
    assert launch["offline"] == RECOVERED
    assert [f["name"] for f in lp.get_fws()] == ["first"]  # the unread action added nothing
    assert recover_all(lp) == []


def test_forget_offline_stops_the_recovery(lp, tmp_path):
    one_fw(lp, NOOP)
    fw_id, launch_id, launch_dir = reserve(lp, tmp_path)
    run_offline(tmp_path, launch_dir)
    assert lp.forget_offline(fw_id, launch_mode=False) == 1
    assert offline_runs(lp) == [] and recover_all(lp) == []
    assert lp.get_fw_dict(fw_id)["state"] == "RESERVED"
    assert forget_offline(lp, launch_id) == 0  # already forgotten


def test_recover_offline_w_takes_only_that_workers_runs(lp, tmp_path):
    lp.add_wf({"fws": [{"fw_id": i, "spec": {"_tasks": [NOOP]}} for i in (1, 2)], "links": {}})
    reserve(lp, tmp_path / "a", WorkerFilter(name="alpha"))
    reserve(lp, tmp_path / "b", WorkerFilter(name="beta"))
    assert [r.outcome for r in recover_all(lp, fworker_name="beta")] == ["waiting"]
    assert len(recover_all(lp)) == 2


def test_an_offline_reservation_whose_job_ran_is_not_stale(lp, tmp_path):
    one_fw(lp, NOOP)
    _, launch_id, launch_dir = reserve(lp, tmp_path)
    lp.set_reservation_id(launch_id, "4242")

    class Gone:  # the scheduler no longer knows the job
        def job_state(self, qid):
            return None

    assert [s.launch_id for s in detect_unreserved(lp, Gone())] == [launch_id]
    run_offline(tmp_path, launch_dir)
    assert detect_unreserved(lp, Gone(), release=True) == []
    assert [r.outcome for r in recover_all(lp)] == ["completed"]


def test_the_daemon_recovers_offline_runs(lp, tmp_path):
    one_fw(lp, NOOP)
    fw_id, _, launch_dir = reserve(lp, tmp_path)
    daemon = QueueDaemon(
        lp, DaemonSettings(topup_interval=0, offline_interval=5), status_file=str(tmp_path / "d.json")
    )
    assert "offline" in [name for name, _, _ in daemon.job_table()]
    assert daemon.offline() == "1 offline run(s): 1 waiting"
    run_offline(tmp_path, launch_dir)
    daemon.run_job("offline")
    assert lp.get_fw_dict(fw_id)["state"] == "COMPLETED"
    assert json.loads((tmp_path / "d.json").read_text())["jobs"]["offline"]["result"].endswith("1 completed")


def test_qlaunch_keeps_offline_in_the_reservations_command():
    assert pilot_command("rlaunch -w w.yaml singleshot --offline", 600, 7) == (
        "rlaunch -w w.yaml singleshot --offline --fw_id 7"
    )
    assert is_offline("rlaunch singleshot --offline") and not is_offline("rlaunch singleshot --offline_x")
    assert not is_offline("echo --offline; rlaunch rapidfire")


def test_qlaunch_prepares_offline_reservations_and_rapidfire_reads_them_back(lp, tmp_path):
    slurm, clock = FakeSlurm(), Clock()
    qadapter = {**QADAPTER, "rocket_launch": "rlaunch -w w.yaml singleshot --offline"}
    adapter = get_adapter(qadapter, run_command=slurm, user="alice")

    def launcher(reserve):
        return QueueLauncher(
            lp,
            adapter,
            FWorker(name="cluster"),
            launch_dir=tmp_path,
            reserve=reserve,
            clock=clock,
            sleep=clock.sleep,
        )

    fw_id = one_fw(lp, NOOP)
    with pytest.raises(ConfigError, match="use reservation mode"):
        launcher(reserve=False).singleshot()
    submission = launcher(reserve=True).singleshot()
    launch_dir = Path(submission.launcher_dir)
    assert "singleshot --offline --fw_id 1" in (launch_dir / "FW_submit.script").read_text()
    assert json.loads((launch_dir / FW_JSON).read_text())["fw_id"] == fw_id
    assert [x["fworker"]["name"] for x in offline_runs(lp)] == ["cluster"]

    run_offline(tmp_path, launch_dir)  # the job ran; rapidfire recovers it before its first round
    slurm.set_state("COMPLETED", submission.job_id)
    assert launcher(reserve=True).rapidfire(maxjobs_queue=1, sleep_time=10, timeout=60) == 0
    assert lp.get_fw_dict(fw_id)["state"] == "COMPLETED"


def test_rlaunch_offline_outside_a_prepared_directory_says_why(tmp_path):
    launch_dir = tmp_path / "empty"
    launch_dir.mkdir()
    (launch_dir / FW_JSON).write_text(json.dumps({"fw_id": 3, "spec": {"_tasks": [NOOP]}}))
    done = node(tmp_path, launch_dir).run("rlaunch", "singleshot", "--offline")
    assert done.returncode == 2
    assert "no FW_offline.json" in done.stderr and "qlaunch -r" in done.stderr


# -- the lpad commands, across processes on the embedded store --------------------------------
@pytest.fixture
def login(tmp_path):
    (tmp_path / "login").mkdir()
    user = new_user(tmp_path / "login")
    return user, LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))


def test_lpad_recover_offline_and_its_errors(login, tmp_path):
    user, lp = login
    fw_id = one_fw(lp, ADDER)
    _, launch_id, launch_dir = reserve(lp, tmp_path / "jobs")
    run_offline(tmp_path, launch_dir)
    (launch_dir / ACTION_JSON).write_text("[1, 2")

    done = user.run("lpad", "recover_offline", "--ignore_errors", "-pe", "--print-launches")
    assert done.returncode == 1, done.stderr
    assert f"launch {launch_id} of firework {fw_id}: failed" in done.stdout
    assert "not valid JSON" in done.stderr
    assert lp.get_fw_dict(fw_id)["state"] == "RESERVED"

    (launch_dir / ACTION_JSON).unlink()  # FireWorks' own rlaunch writes none: FW_offline.json has it
    done = user.run("lpad", "recover_offline", "--print-launches")
    assert done.returncode == 0, done.stderr
    assert f"launch {launch_id} of firework {fw_id}: completed (started, finished)" in done.stdout
    assert "1 offline run(s): 1 completed" in done.stdout
    assert {f["name"]: f["state"] for f in lp.get_fws()} == {"first": "COMPLETED", "added": "READY"}

    done = user.run("lpad", "-o", "json", "recover_offline")
    assert (done.returncode, json.loads(done.stdout)) == (0, [])


def test_lpad_forget_offline(login, tmp_path):
    user, lp = login
    one_fw(lp, NOOP)
    fw_id, _, launch_dir = reserve(lp, tmp_path / "jobs")
    done = user.run("lpad", "forget_offline", "-i", fw_id)
    assert done.returncode == 0, done.stderr
    assert f"forgot the offline runs of firework(s) {fw_id}" in done.stdout
    run_offline(tmp_path, launch_dir)
    done = user.run("lpad", "recover_offline")
    assert "no offline runs to recover" in done.stdout
    assert lp.get_fw_dict(fw_id)["state"] == "RESERVED"


def test_recovering_through_a_gateway_is_refused_before_anything_is_sent():
    from launchpad.errors import GatewayRefusedError
    from launchpad.gateway.client import GatewayClient, GatewayLaunchPad

    client = GatewayClient("http://127.0.0.1:9", "token", patience=0.1)
    gateway = GatewayLaunchPad(client=client)
    for call in (lambda: recover_all(gateway), lambda: forget_offline(gateway, 1)):
        with pytest.raises(GatewayRefusedError, match="run it where the store is"):
            call()


def test_a_failure_reported_in_fireworks_own_form_is_recovered(lp, tmp_path):
    """FireWorks' rlaunch --offline keeps the action (and a failure's traceback) in
    FW_offline.json and writes no FW_action.json."""
    fw_id = one_fw(lp, NOOP)
    _, launch_id, launch_dir = reserve(lp, tmp_path)
    trace = "Traceback (most recent call last):\n  ...\nValueError: bad input\n"
    action = {"stored_data": {"_message": "runtime error during task", "_exception": {"_stacktrace": trace}}}
    data = {
        "launch_id": launch_id,
        "started_on": "2026-01-02T03:04:05+00:00",
        "fwaction": {**action, "exit": True},
        "state": "FIZZLED",
        "completed_on": "2026-01-02T03:05:05+00:00",
    }
    (launch_dir / OFFLINE_JSON).write_text(json.dumps(data))
    assert [r.outcome for r in recover_all(lp)] == ["fizzled"]
    launch = lp.get_launch(launch_id)
    assert launch["exception"]["message"] == "ValueError: bad input"
    assert (launch["time_start"], launch["time_end"], launch["runtime_secs"]) == (
        "2026-01-02T03:04:05.000000",
        "2026-01-02T03:05:05.000000",
        60.0,
    )
    assert lp.get_fw_dict(fw_id)["state"] == "FIZZLED"


def action_task(**action):
    return {"_fw_name": "PyTask", "func": "launchpad.actions.FWAction", "kwargs": action}


def test_detours_spec_changes_and_defusing_apply_as_online(lp, tmp_path):
    detour = {"fw_id": -5, "name": "detour", "spec": {"_tasks": [NOOP]}}
    changes = action_task(update_spec={"x": 1}, mod_spec=[{"_push": {"seen": "a"}}], detours=[detour])
    fws = [
        {"fw_id": 1, "name": "a", "spec": {"_tasks": [changes]}},
        {"fw_id": 2, "name": "after a", "spec": {"_tasks": [NOOP]}},
        {"fw_id": 3, "name": "b", "spec": {"_tasks": [action_task(defuse_children=True)]}},
        {"fw_id": 4, "name": "after b", "spec": {"_tasks": [NOOP]}},
    ]
    lp.add_wf({"fws": fws, "links": {1: [2], 3: [4]}})
    for _ in range(2):
        _, _, launch_dir = reserve(lp, tmp_path / "jobs")
        run_offline(tmp_path, launch_dir)
    assert [r.outcome for r in recover_all(lp)] == ["completed", "completed"]
    by_name = {f["name"]: f for f in lp.get_fws()}
    assert by_name["detour"]["state"] == "READY" and by_name["after a"]["state"] == "WAITING"
    assert by_name["after a"]["spec"]["x"] == 1 and by_name["after a"]["spec"]["seen"] == ["a"]
    assert by_name["after b"]["state"] == "DEFUSED"
