"""Many rockets on one store: aggregate no-op fireworks per second, and duplicates.

SQLite: N no-op PyTask fireworks (one flat workflow) on a fresh embedded
store, drained by R real ``rlaunch -s rapidfire --sleep 0.2`` processes
started together. MongoDB (mongomock, in one process): R threads each
running the real rapidfire loop on one shared store. fw/s is completed
fireworks over the span from the first launch's start to the last one's end;
``wall_fw_per_s`` includes the processes' start-up. Duplicates: launches
beyond one per firework, and fireworks with more than one COMPLETED launch
(both must be 0). ``lock_waits``: the store's "locked by another process"
warnings (a wait past SQLite's busy timeout) in the rockets' logs.

    python bench/many_rockets.py [--n 2000] [--rockets 1,2,4,8,16] [--backend sqlite,mongomock]

Prints one JSON line on stdout and a table on stderr.
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)

from launchpad import Firework, LaunchPad, Workflow  # noqa: E402
from launchpad.stores import SQLiteStore  # noqa: E402
from launchpad.tasks import PyTask  # noqa: E402

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def workflow(n):
    return Workflow([Firework(PyTask(func="math.floor", args=[1]), fw_id=i) for i in range(1, n + 1)])


def tally(lp, n):
    """Rates and duplicates read back from the store."""
    launches = lp.get_launches({}, fields=["fw_id", "state", "time_start", "time_end"])
    done = [x for x in launches if x["state"] == "COMPLETED"]
    per_fw = collections.Counter(x["fw_id"] for x in done)
    first = min(datetime.strptime(x["time_start"], TIME_FORMAT) for x in done)
    last = max(datetime.strptime(x["time_end"], TIME_FORMAT) for x in done)
    return {
        "completed": len(per_fw),
        "fw_per_s": round(len(done) / (last - first).total_seconds(), 1),
        "extra_launches": len(launches) - n,
        "fireworks_completed_twice": sum(1 for c in per_fw.values() if c > 1),
    }


def sqlite_run(rockets, n):
    work = tempfile.mkdtemp(prefix="rockets-")
    try:
        lp = LaunchPad(SQLiteStore(os.path.join(work, "launchpad.sqlite")))
        lp.add_wf(workflow(n))
        env = dict(os.environ, STARSHELL_HOME=work, PYTHONPATH=ROOT)
        env.pop("STARSHELL_LAUNCHPAD", None)
        logs = [open(os.path.join(work, f"rocket{i}.log"), "w+") for i in range(rockets)]  # noqa: SIM115
        t0 = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "rocket.cli", "rapidfire", "--sleep", "0.2"],
                cwd=work,
                env=env,
                stderr=log,
                stdout=subprocess.DEVNULL,
            )
            for log in logs
        ]
        codes = [p.wait() for p in procs]
        wall = time.perf_counter() - t0
        waits = 0
        for log in logs:
            log.seek(0)
            waits += log.read().count("locked by another process")
            log.close()
        row = tally(lp, n)
        lp.store.close()
        row.update(wall_fw_per_s=round(row["completed"] / wall, 1), lock_waits=waits)
        row["ok"] = codes == [0] * rockets
        return row
    finally:
        shutil.rmtree(work, ignore_errors=True)


def mongomock_run(rockets, n):
    from launchpad.stores.mongo import MongoStore
    from rocket import rapidfire

    work = tempfile.mkdtemp(prefix="rockets-mongo-")
    try:
        lp = LaunchPad(MongoStore.connect(mongomock=True, name=f"bench{rockets}"))
        lp.add_wf(workflow(n))
        errors = []

        def rocket():
            try:
                rapidfire(lp, launch_root=work, sleep_time=0.2)
            except Exception as exc:  # noqa: BLE001 - reported in the row
                errors.append(repr(exc))

        t0 = time.perf_counter()
        threads = [threading.Thread(target=rocket) for _ in range(rockets)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        row = tally(lp, n)
        row.update(wall_fw_per_s=round(row["completed"] / wall, 1), ok=not errors, errors=errors[:3])
        return row
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rockets", default="1,2,4,8,16")
    parser.add_argument("--backend", default="sqlite,mongomock")
    args = parser.parse_args(argv)
    rows = []
    for backend in args.backend.split(","):
        run = sqlite_run if backend == "sqlite" else mongomock_run
        for rockets in (int(r) for r in args.rockets.split(",")):
            row = {"backend": backend, "rockets": rockets, "n": args.n, **run(rockets, args.n)}
            row["load_avg"] = round(os.getloadavg()[0], 1)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps({"rows": rows}), flush=True)
    ok = all(r["ok"] and r["completed"] == r["n"] and not r["fireworks_completed_twice"] for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
