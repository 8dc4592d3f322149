"""Make runs/: offline-mode files written by FireWorks 2.1.x itself, for tests/test_offline_fireworks.py.

Run it with FireWorks' own Python (bench/setup_fireworks.sh builds that venv,
with the monty its offline rocket needs):

    bench/.venv-fireworks/bin/python tests/data/fireworks_offline/make_files.py

Everything is FireWorks' own code: its LaunchPad (on mongomock-persistence,
as in tests/data/fireworks_db/make_db.py) holds the workflows; FireWorks'
qlaunch code (``launch_rocket_to_queue`` in reservation mode, with
``rlaunch singleshot --offline`` in the qadapter) reserves each firework and
writes FW.json, FW_offline.json and the job script into the run's directory;
the job is FireWorks' ``rlaunch singleshot --offline --fw_id N``, run in the
background by LocalShellAdapter (the batch system's stand-in). Each case's
files are copied to runs/CASE/, FireWorks' database as the jobs left it (the
reservations, marked offline, not yet recovered) to fireworks_store.json (its
launch directories are under the manifest's ``scratch``), and manifest.json
records, per case, the
workflow as FireWorks added it (with its ids), the firework and launch ids,
and what FireWorks' own ``LaunchPad.recover_offline`` makes of the files (the
reference the starshell test compares its recovery with: states, stored data,
specs; not times, since FireWorks' recovery stamps the launch's start with the
time of the recovery).

The cases: ``plain`` (two script tasks, completed), ``fizzle`` (a task that
raises), ``action`` (an FWAction with stored_data, update_spec and an
addition), ``running`` (a job killed with SIGKILL after its heartbeats,
FW_ping.json, started: still running as far as the files say).
"""

import importlib.metadata
import json
import os
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ("FW.json", "FW_offline.json", "FW_ping.json", "FW_action.json")


def enter_scratch():
    """A fresh FireWorks store and FW_config.yaml (1 s heartbeats), before fireworks is imported;
    the jobs find the same config through FW_CONFIG_FILE and the helpers through PYTHONPATH."""
    scratch = tempfile.mkdtemp(prefix="fireworks-offline-")
    store = os.path.join(scratch, "store.json")
    with open(store, "w") as fh:
        fh.write("{}")
    config = os.path.join(scratch, "FW_config.yaml")
    with open(config, "w") as fh:
        fh.write(f"MONGOMOCK_SERVERSTORE_FILE: {store}\nPING_TIME_SECS: 1\nSTREAM_LOGLEVEL: ERROR\n")
    os.environ.update(
        FW_CONFIG_FILE=config,
        MONGOMOCK_SERVERSTORE_FILE=store,
        PYTHONPATH=os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")])),
    )
    sys.path.insert(0, HERE)
    os.chdir(scratch)
    return scratch


def workflows():
    """(case, Workflow): each case's firework with a child that waits for it."""
    from fireworks import Firework, PyTask, ScriptTask, Workflow

    def with_child(case, *tasks):
        parent = Firework(list(tasks), name=case)
        child = Firework(ScriptTask.from_str(f"echo after {case}"), name=f"after {case}")
        return case, Workflow([parent, child], {parent: [child]}, name=f"offline {case}")

    return [
        with_child("plain", ScriptTask.from_str("echo hello"), ScriptTask.from_str("echo again")),
        with_child("fizzle", PyTask(func="fw_offline_helpers.fail", args=["bad input"])),
        with_child("action", PyTask(func="fw_offline_helpers.act", args=[3])),
        with_child("running", ScriptTask.from_str("sleep 120")),
    ]


def submit(lp, fw_id, launcher_dir):
    """FireWorks' qlaunch -r for one firework, with rlaunch --offline in the job."""
    from fireworks import FWorker
    from fireworks.queue.queue_launcher import launch_rocket_to_queue
    from fw_offline_helpers import LocalShellAdapter

    rlaunch = os.path.join(os.path.dirname(sys.executable), "rlaunch")
    qadapter = LocalShellAdapter(rocket_launch=f"{rlaunch} singleshot --offline")
    os.makedirs(launcher_dir)
    assert launch_rocket_to_queue(
        lp, FWorker(name="login"), qadapter, launcher_dir, reserve=True, fw_id=fw_id
    )
    with open(os.path.join(launcher_dir, "job.pid")) as fh:
        return int(fh.read())


def wait_for(condition, timeout=60):
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("a FireWorks job did not get there in time")
        time.sleep(0.1)


def run_jobs(lp, cases, scratch):
    """Submit every case; the ``running`` one is killed once its heartbeat thread has pinged."""
    pids = {}
    for case, fw_id in cases:
        pids[case] = submit(lp, fw_id, os.path.join(scratch, case))
    running_ping = os.path.join(scratch, "running", "FW_ping.json")
    wait_for(lambda: os.path.exists(running_ping))
    first = open(running_ping).read()
    wait_for(lambda: open(running_ping).read() != first)  # a second heartbeat: the thread's
    os.killpg(pids["running"], signal.SIGKILL)
    for pid in pids.values():
        os.waitpid(pid, 0)


def fireworks_reading(lp, wf_fw_id, launch_id):
    """What FireWorks' recover_offline made of one run: the workflow's fireworks and the launch."""
    wf = lp.get_wf_by_fw_id(wf_fw_id)
    launch = lp.get_launch_by_id(launch_id)
    return {
        "fireworks": {fw.name: {"state": fw.state, "spec": _plain_spec(fw.spec)} for fw in wf.fws},
        "launch": {
            "state": launch.state,
            "stored_data": launch.action.stored_data if launch.action else None,
            "states": [h["state"] for h in launch.state_history],
        },
    }


def save_store(lp, path):
    """FireWorks' whole database as mongomock-persistence writes it at exit, written now."""
    from bson import json_util

    with open(path, "w") as fh:
        fh.write(json_util.dumps(lp.connection._store.to_dict()))


def _plain_spec(spec):
    return {k: v for k, v in spec.items() if k != "_tasks"}


def main(argv):
    out = os.path.abspath(argv[0] if argv else HERE)
    scratch = enter_scratch()
    from fireworks import LaunchPad

    lp = LaunchPad(strm_lvl="ERROR")
    lp.reset("", require_password=False)
    cases, added = [], {}
    for case, wf in workflows():
        lp.add_wf(wf)  # gives the workflow's fireworks their ids, in place
        added[case] = wf.to_dict()
        cases.append((case, wf.fws[0].fw_id))
    run_jobs(lp, cases, scratch)
    save_store(lp, os.path.join(out, "fireworks_store.json"))  # the runs not yet recovered

    manifest = {
        "made_by": "tests/data/fireworks_offline/make_files.py",
        "scratch": scratch,  # where the runs were: fireworks_store.json's launch_dir paths
        "fireworks": importlib.metadata.version("fireworks"),
        "monty": importlib.metadata.version("monty"),
        "cases": {},
    }
    shutil.rmtree(os.path.join(out, "runs"), ignore_errors=True)
    for case, fw_id in cases:
        [launch_id] = [r["launch_id"] for r in lp.offline_runs.find({"fw_id": fw_id})]
        target = os.path.join(out, "runs", case)
        os.makedirs(target)
        written = [f for f in FILES if os.path.exists(os.path.join(scratch, case, f))]
        for name in written:
            shutil.copy(os.path.join(scratch, case, name), target)
        assert lp.recover_offline(launch_id, print_errors=True) is None, f"FireWorks could not recover {case}"
        manifest["cases"][case] = {
            "fw_id": fw_id,
            "launch_id": launch_id,
            "files": written,
            "workflow": added[case],
            "fireworks_recovered": fireworks_reading(lp, fw_id, launch_id),
        }
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True, default=str)
        fh.write("\n")
    print(f"wrote {out}/runs and manifest.json (FireWorks' store and launch dirs under {scratch})")


if __name__ == "__main__":
    main(sys.argv[1:])
