"""Check that FireWorks 2.1.x reads the offline runs starshell writes; records the result.

    python3 tests/data/fireworks_offline/check_fireworks_reads.py [--out RESULT.json]

Needs starshell installed for ``python3`` and FireWorks' venv
(bench/setup_fireworks.sh). CI has no FireWorks, so this is run by hand; its
last result is fireworks_reads.json beside it (docs/gateway.md says what it
shows). tests/test_offline_fireworks.py keeps the files' shape from drifting
in CI.

starshell's side (this interpreter): each case's workflow is added to an
embedded store, its firework reserved and its directory prepared as
``qlaunch -r`` does (``prepare_offline_run``: FW.json, FW_offline.json), and
the real ``rlaunch singleshot --offline`` runs there with no store it could
open (the ``running`` case is killed with SIGKILL after two heartbeats).

FireWorks' side (its venv, this file with ``--fireworks-side``): a
FireWorks LaunchPad on mongomock-persistence gets the same workflows with the
same firework ids (``add_wf(reassign_all=False)``), reads each FW.json with
``Firework.from_file``, reserves the same firework into the same directory
(the same launch ids) and marks it offline (``add_offline_run``); then
FireWorks' own ``lpad recover_offline`` command reads starshell's files, and
the fireworks and launches FireWorks ends up with are compared with what the
files say. Last, the mixed set-up: a run starshell prepared, run by FireWorks'
``rlaunch singleshot --offline`` and recovered by starshell. Exit 0 when
every check passed.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
FIREWORKS_PYTHON = os.path.join(ROOT, "bench", ".venv-fireworks", "bin", "python")


def script(text):
    return {"_fw_name": "ScriptTask", "script": [text], "use_shell": True}


ADDED = {"fw_id": -1, "name": "added child", "spec": {"_tasks": [script("echo added")]}}
CASES = {  # case: the parent's tasks (each has a child); make_files.py's cases, in starshell's tasks
    "plain": [script("echo hello"), script("echo again")],
    "fizzle": [{"_fw_name": "PyTask", "func": "json.loads", "args": ["{not json"]}],
    "action": [
        {
            "_fw_name": "PyTask",
            "func": "launchpad.actions.FWAction",
            "kwargs": {
                "stored_data": {"n": 3, "square": 9},
                "update_spec": {"grown": 3},
                "additions": [ADDED],
            },
        }
    ],
    "running": [script("echo $$ > task.pid; exec sleep 120")],  # its own session: killed by pid
}


def workflow(case, first_id):
    parent = {"fw_id": first_id, "name": case, "spec": {"_tasks": CASES[case]}}
    child = {"fw_id": first_id + 1, "name": f"after {case}", "spec": {"_tasks": [script("true")]}}
    return {
        "fws": [parent, child],
        "links": {str(first_id): [first_id + 1]},
        "name": f"offline {case}",
        "metadata": {},
    }


# -- starshell's side ---------------------------------------------------------------------
def starshell_prepare(root):
    """Each case reserved and its directory prepared as qlaunch -r does; the plan FireWorks'
    side follows."""
    from launchpad import LaunchPad
    from launchpad.stores import SQLiteStore, WorkerFilter
    from queue_adapters.launcher import prepare_offline_run

    lp = LaunchPad(SQLiteStore(os.path.join(root, "starshell.sqlite")))
    worker = WorkerFilter(name="login")
    plan = []
    for n, case in enumerate(CASES):
        wf = workflow(case, 2 * n + 1)
        lp.add_wf(wf)
        launch_dir = os.path.join(root, "runs", case)
        os.makedirs(launch_dir)
        fw, launch_id = lp.claim_for_queue(worker, launch_dir=launch_dir)
        prepare_offline_run(lp, fw, launch_id, launch_dir, worker)
        plan.append(
            {"case": case, "workflow": wf, "fw_id": fw["fw_id"], "launch_id": launch_id, "dir": launch_dir}
        )
    return plan


def starshell_run(root, plan):
    """The real ``rlaunch singleshot --offline`` in each directory, with no store it could open;
    the ``running`` case is killed after two heartbeats."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from user_commands import new_user

    node = new_user(_mkdir(os.path.join(root, "node")))
    env = {**node.env, "STARSHELL_LAUNCHPAD": os.path.join(root, "no_such_launchpad.yaml")}
    rocket = [sys.executable, "-m", "rocket.cli", "--ping_interval", "0.5", "singleshot", "--offline"]
    jobs = {p["case"]: subprocess.Popen(rocket, cwd=p["dir"], env=env, start_new_session=True) for p in plan}
    ping = os.path.join(root, "runs", "running", "FW_ping.json")
    _wait(lambda: os.path.exists(ping))
    first = open(ping).read()
    _wait(lambda: open(ping).read() != first)
    os.killpg(jobs["running"].pid, signal.SIGKILL)  # kill -9 of the rocket: its task lives on
    task_pid = os.path.join(root, "runs", "running", "task.pid")
    _wait(lambda: os.path.exists(task_pid) and open(task_pid).read().strip())
    os.kill(int(open(task_pid).read()), signal.SIGKILL)
    for case, job in jobs.items():
        job.wait(60)
        assert case == "running" or job.returncode == 0, f"starshell's rlaunch failed on {case}"


def fireworks_node(root):
    """starshell on the login node, FireWorks on the node: a run starshell prepared, run by
    FireWorks' ``rlaunch singleshot --offline``, recovered by starshell. Returns checks."""
    from launchpad import LaunchPad
    from launchpad.offline import recover_all
    from launchpad.stores import SQLiteStore, WorkerFilter
    from queue_adapters.launcher import prepare_offline_run

    lp = LaunchPad(SQLiteStore(os.path.join(root, "mixed.sqlite")))
    lp.add_wf(workflow("plain", 1))
    launch_dir = os.path.join(root, "mixed")
    os.makedirs(launch_dir)
    fw, launch_id = lp.claim_for_queue(WorkerFilter(name="login"), launch_dir=launch_dir)
    prepare_offline_run(lp, fw, launch_id, launch_dir, WorkerFilter(name="login"))
    rlaunch = os.path.join(os.path.dirname(FIREWORKS_PYTHON), "rlaunch")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FW_", "STARSHELL_"))}
    ran = subprocess.run(
        [rlaunch, "singleshot", "--offline", "--fw_id", str(fw["fw_id"])],
        cwd=launch_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    files = _read(launch_dir, "FW_offline.json")
    outcomes = [r.outcome for r in recover_all(lp)]
    child = lp.get_fw_dict(fw["fw_id"] + 1)
    stored = lp.get_launch(launch_id).get("action", {}).get("stored_data")
    return [
        {
            "what": "FireWorks' rlaunch --offline runs a directory starshell's qlaunch -r prepared",
            "ok": ran.returncode == 0 and files.get("state") == "COMPLETED",
            "detail": ran.stderr[-500:],
        },
        {
            "what": "starshell's recover_offline reads that run: completed, its child READY, stored_data",
            "ok": outcomes == ["completed"]
            and child["state"] == "READY"
            and stored == {"returncode": 0, "all_returncodes": [0]},
            "detail": str((outcomes, child["state"], stored)),
        },
    ]


def _mkdir(path):
    os.makedirs(path)
    from pathlib import Path

    return Path(path)


def _wait(condition, timeout=60):
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("an offline run did not get there in time")
        time.sleep(0.05)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(HERE, "fireworks_reads.json"))
    parser.add_argument("--fireworks-side", nargs=2, metavar=("STEP", "PLAN"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fireworks_side:
        return fireworks_side(*args.fireworks_side)
    root = tempfile.mkdtemp(prefix="starshell-offline-check-")
    plan = starshell_prepare(root)
    plan_file = os.path.join(root, "plan.json")
    with open(plan_file, "w") as fh:
        json.dump({"root": root, "cases": plan}, fh)

    def on_fireworks_side(step):
        done = subprocess.run([FIREWORKS_PYTHON, __file__, "--fireworks-side", step, plan_file], check=False)
        if done.returncode:
            raise SystemExit(f"FireWorks' side failed at {step}")

    on_fireworks_side("setup")  # FireWorks' store holds the same reservations
    starshell_run(root, plan)
    on_fireworks_side("recover")
    # FireWorks' first recovery of a run still going dates its start at the recovery; its
    # second, at the node's started_on (with FireWorks' own files as with these)
    on_fireworks_side("recover")
    on_fireworks_side("report")
    with open(os.path.join(root, "report.json")) as fh:
        report = json.load(fh)
    report["checks"] += fireworks_node(root)
    with open(args.out, "w") as fh:
        json.dump(report, fh, indent=1, sort_keys=True)
        fh.write("\n")
    failed = [c for c in report["checks"] if not c["ok"]]
    for c in report["checks"]:
        print(("ok    " if c["ok"] else "FAILED"), c["what"], "" if c["ok"] else f"({c['detail']})")
    print(f"{len(report['checks']) - len(failed)}/{len(report['checks'])} checks passed; wrote {args.out}")
    return 1 if failed else 0


# -- FireWorks' side (its venv) ----------------------------------------------------------
def fireworks_side(step, plan_file):
    with open(plan_file) as fh:
        plan = json.load(fh)
    scratch = os.path.join(plan["root"], "fireworks")
    config = os.path.join(scratch, "FW_config.yaml")
    store = os.path.join(scratch, "store.json")
    if step == "setup":
        os.makedirs(scratch)
        with open(store, "w") as fh:
            fh.write("{}")
        with open(config, "w") as fh:
            fh.write(f"MONGOMOCK_SERVERSTORE_FILE: {store}\nSTREAM_LOGLEVEL: ERROR\n")
    os.environ.update(FW_CONFIG_FILE=config, MONGOMOCK_SERVERSTORE_FILE=store)
    os.chdir(scratch)
    if step == "recover":  # FireWorks' own command, as a user runs it
        return subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "lpad"), "recover_offline"]
        ).returncode
    from fireworks import LaunchPad

    lp = LaunchPad(strm_lvl="ERROR")
    if step == "setup":
        fireworks_setup(lp, plan)
    else:
        with open(os.path.join(plan["root"], "report.json"), "w") as fh:
            json.dump(fireworks_report(lp, plan), fh)
    return 0


def fireworks_setup(lp, plan):
    from fireworks import FWorker, Workflow

    lp.reset("", require_password=False)
    for case in plan["cases"]:
        lp.add_wf(Workflow.from_dict(case["workflow"]), reassign_all=False)
        top = max(fw["fw_id"] for fw in case["workflow"]["fws"])
        lp.fw_id_assigner.find_one_and_update({}, {"$set": {"next_fw_id": top + 1}})
        _, launch_id = lp.reserve_fw(FWorker(name="login"), case["dir"], fw_id=case["fw_id"])
        assert launch_id == case["launch_id"], (launch_id, case)
        lp.add_offline_run(launch_id, case["fw_id"], case["case"])


def fireworks_report(lp, plan):
    checks = []

    def check(what, ok, detail=""):
        checks.append({"what": what, "ok": bool(ok), "detail": str(detail)})

    from fireworks import Firework

    by_case = {c["case"]: c for c in plan["cases"]}
    for name, case in by_case.items():
        from_file = Firework.from_file(os.path.join(case["dir"], "FW.json"))  # as FireWorks' rlaunch reads it
        stored = lp.get_fw_by_id(case["fw_id"])
        check(
            f"{name}: FireWorks' Firework.from_file reads starshell's FW.json (id, name, spec, tasks)",
            (from_file.fw_id, from_file.name, from_file.spec) == (stored.fw_id, stored.name, stored.spec),
            from_file.to_dict(),
        )
        files = _read(case["dir"], "FW_offline.json")
        ping = _read(case["dir"], "FW_ping.json")
        launch = lp.get_launch_by_id(case["launch_id"])
        fw = lp.get_fw_by_id(case["fw_id"])
        expected = files.get("state", "RUNNING")
        check(
            f"{name}: firework {fw.state}, launch {launch.state}",
            fw.state == launch.state == expected,
            expected,
        )
        last = launch.state_history[-1]
        if "completed_on" not in files:
            # FireWorks reads FW_ping.json (a missing ping_time would fizzle the run) but keeps
            # no heartbeat from it, with its own files too; its second recovery dates RUNNING
            running = [h for h in launch.state_history if h["state"] == "RUNNING"]
            check(
                f"{name}: FW_ping.json read without error; RUNNING dated at the node's started_on",
                running and _same_time(running[0]["created_on"], files["started_on"]) and "ping_time" in ping,
                launch.state_history,
            )
        if "completed_on" in files:
            check(
                f"{name}: the end entry is stamped at the node's completed_on",
                _same_time(last["created_on"], files["completed_on"]),
                (last, files["completed_on"]),
            )
            check(
                f"{name}: the launch's action is the file's fwaction",
                launch.action.to_dict()["stored_data"] == files["fwaction"]["stored_data"],
                launch.action.to_dict(),
            )
    action = by_case["action"]
    wf = lp.get_wf_by_fw_id(action["fw_id"])
    names = {f.name: f for f in wf.fws}
    check(
        "action: the addition was added READY",
        "added child" in names and names["added child"].state == "READY",
    )
    check(
        "action: the child got update_spec",
        names["after action"].spec.get("grown") == 3,
        names["after action"].spec,
    )
    check(
        "action: stored_data",
        lp.get_launch_by_id(action["launch_id"]).action.stored_data == {"n": 3, "square": 9},
    )
    fizzle = lp.get_launch_by_id(by_case["fizzle"]["launch_id"])
    trace = ((fizzle.action.stored_data or {}).get("_exception") or {}).get("_stacktrace") or ""
    check(
        "fizzle: FireWorks sees the failure's traceback (stored_data._exception)",
        "JSONDecodeError" in trace,
        fizzle.action.stored_data,
    )
    child = lp.get_fw_by_id(by_case["fizzle"]["fw_id"] + 1)
    check("fizzle: its child stays WAITING", child.state == "WAITING", child.state)
    done = {r["launch_id"]: r["completed"] for r in lp.offline_runs.find({})}
    check(
        "offline_runs: finished runs completed, the running one not",
        all(done[c["launch_id"]] == (n != "running") for n, c in by_case.items()),
        done,
    )
    import datetime
    import importlib.metadata

    return {
        "fireworks": importlib.metadata.version("fireworks"),
        "monty": importlib.metadata.version("monty"),
        "made_by": "tests/data/fireworks_offline/check_fireworks_reads.py",
        "run_on": datetime.date.today().isoformat(),
        "checks": checks,
    }


def _read(directory, name):
    with open(os.path.join(directory, name)) as fh:
        return json.load(fh)


def _same_time(stored, iso):
    """FireWorks keeps times as naive UTC datetimes (or ISO text); the files as ISO with offset."""
    import datetime

    if stored is None:
        return False

    def utc(value):
        value = value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(str(value))
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        )

    return abs((utc(stored) - utc(iso)).total_seconds()) < 0.001


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
