"""``rlaunch rapidfire`` as users run it, against the raw SQLite floor and FireWorks.

N no-op PyTask fireworks (``math.floor(1)``, one flat workflow) on a fresh
embedded store, drained by the installed ``rlaunch`` console script in its
own process with its default heartbeat and logging (stderr to a file, as a
batch job's log), once with the default store and once with ``-l
my_launchpad.yaml``. Two rates per run: fireworks over the whole process
(start-up included) and over the span from the first launch's start to the
last one's end (once started). ``bench/raw_floor.py`` and FireWorks
(``bench/fireworks_side.py`` in ``bench/.venv-fireworks``) run in the same
session, so the ratios compare runs on the same noisy machine.

    python bench/rlaunch_cli.py [--n 1000] [--runs 3] [--fireworks_n 1000 | 0]

Prints one JSON line on stdout and a summary on stderr.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from datetime import datetime

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)

from launchpad import Firework, LaunchPad, Workflow  # noqa: E402
from launchpad.stores import SQLiteStore  # noqa: E402
from launchpad.tasks import PyTask  # noqa: E402

FW_PYTHON = os.path.join(BENCH, ".venv-fireworks", "bin", "python")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def rlaunch_exe():
    script = os.path.join(sysconfig.get_path("scripts"), "rlaunch")
    return [script] if os.access(script, os.X_OK) else [sys.executable, "-m", "rocket.cli"]


def user_env(home, pycache):
    """A fresh user: no STARSHELL_* settings, its own home, bytecode cached as after pip install."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STARSHELL_", "PYTHONDONTWRITEBYTECODE"))}
    env.update(STARSHELL_HOME=home, PYTHONPYCACHEPREFIX=pycache, PYTHONPATH=ROOT)
    return env


def fill(path, n):
    lp = LaunchPad(SQLiteStore(path))
    lp.add_wf(Workflow([Firework(PyTask(func="math.floor", args=[1]), fw_id=i) for i in range(1, n + 1)]))
    return lp


def launch_span(lp):
    """(completed, seconds from the first launch's start to the last one's end)."""
    launches = lp.get_launches({"state": "COMPLETED"}, fields=["time_start", "time_end"])
    if not launches:
        return 0, None
    first = min(datetime.strptime(x["time_start"], TIME_FORMAT) for x in launches)
    last = max(datetime.strptime(x["time_end"], TIME_FORMAT) for x in launches)
    return len(launches), (last - first).total_seconds()


def run_rlaunch(scratch, pycache, n, with_file):
    """One ``rlaunch [-l my_launchpad.yaml] rapidfire`` over n fresh fireworks."""
    home = tempfile.mkdtemp(prefix="home-", dir=scratch)
    work = tempfile.mkdtemp(prefix="work-", dir=scratch)
    store = os.path.join(home, "launchpad.sqlite")
    lp = fill(store, n)
    argv = rlaunch_exe()
    if with_file:
        with open(os.path.join(work, "my_launchpad.yaml"), "w") as fh:
            fh.write(f"store: sqlite\npath: {store}\n")
        argv += ["-l", "my_launchpad.yaml"]
    argv += ["rapidfire"]
    with open(os.path.join(work, "rlaunch.log"), "w") as log:
        cpu0, t0 = children_cpu(), time.perf_counter()
        code = subprocess.run(argv, cwd=work, env=user_env(home, pycache), stderr=log, check=False).returncode
        wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    done, span = launch_span(lp)
    lp.store.close()
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    return {
        "completed": done,
        "ok": code == 0 and done == n,
        "wall_s": round(wall, 4),
        "fw_per_s_total": round(done / wall, 1),
        "fw_per_s_started": round(done / span, 1) if span else None,
        "cpu_ms_per_fw": round(1000 * cpu / max(done, 1), 3),  # start-up included; steadier under load
    }


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_json(argv, timeout=3600):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(argv)} printed no result:\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def median(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(statistics.median(values), 2) if values else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="rounds; each runs every case once")
    parser.add_argument("--fireworks_n", type=int, default=None, help="FireWorks' N (default --n; 0: skip)")
    args = parser.parse_args(argv)
    fw_n = args.n if args.fireworks_n is None else args.fireworks_n
    scratch = tempfile.mkdtemp(prefix="rlaunch-bench-")
    pycache = os.path.join(scratch, "pycache")
    try:
        run_rlaunch(scratch, pycache, 5, False)  # warm-up: bytecode cached, as after pip install
        rows = {"floor": [], "rlaunch": [], "rlaunch_l": []}
        for _ in range(args.runs):
            rows["floor"].append(
                run_json([sys.executable, os.path.join(BENCH, "raw_floor.py"), "--n", str(args.n)])
            )
            rows["rlaunch"].append(run_rlaunch(scratch, pycache, args.n, False))
            rows["rlaunch_l"].append(run_rlaunch(scratch, pycache, args.n, True))
        fireworks = None
        if fw_n and os.access(FW_PYTHON, os.X_OK):
            fireworks = run_json(
                [FW_PYTHON, os.path.join(BENCH, "fireworks_side.py"), "--shape", "flat", "--n", str(fw_n)],
                timeout=7200,
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    floor = median(rows["floor"], "fw_per_s")
    result = {
        "n": args.n,
        "runs": args.runs,
        "floor_fw_per_s": floor,
        "load_avg": round(os.getloadavg()[0], 1),
    }
    for case in ("rlaunch", "rlaunch_l"):
        total, started = median(rows[case], "fw_per_s_total"), median(rows[case], "fw_per_s_started")
        result[case] = {
            "fw_per_s_total": total,
            "fw_per_s_started": started,
            "total_over_floor": round(total / floor, 3),
            "started_over_floor": round(started / floor, 3),
            "cpu_ms_per_fw": median(rows[case], "cpu_ms_per_fw"),
            "ok": all(r["ok"] for r in rows[case]),
            "raw": rows[case],
        }
        if fireworks:
            result[case]["total_x_fireworks"] = round(total / fireworks["fw_per_s"], 1)
    if fireworks:
        result["fireworks"] = {k: fireworks.get(k) for k in ("n", "fw_per_s", "run_s", "completed")}
    result["floor_raw"] = [r["fw_per_s"] for r in rows["floor"]]
    print(json.dumps(result), flush=True)
    for case in ("rlaunch", "rlaunch_l"):
        r = result[case]
        print(
            f"{case}: {r['fw_per_s_total']} fw/s total ({r['total_over_floor']:.0%} of floor), "
            f"{r['fw_per_s_started']} once started ({r['started_over_floor']:.0%}); floor {floor}",
            file=sys.stderr,
        )
    return 0 if all(result[c]["ok"] for c in ("rlaunch", "rlaunch_l")) else 1


if __name__ == "__main__":
    sys.exit(main())
