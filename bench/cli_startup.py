"""CLI start-up (issue 14): a command's time from the shell, against ``python -c pass``.

Every command runs as a user runs it: the installed console script, in its own
process, with its own ``$STARSHELL_HOME`` and a scratch working directory.
The cases take turns (one run of each, N rounds) so that the load of a shared
machine falls on all of them alike; each is reported as its median and its
ratio to a bare interpreter start, in wall-clock time and in CPU time (user +
system, which other users of a shared machine disturb less). Bytecode is
cached in a private ``PYTHONPYCACHEPREFIX`` after one warm-up run, as an
installed package has its ``.pyc`` files; one row shows a command without them.

    python bench/cli_startup.py [--runs 10] [--fireworks 10000] [--before DIR]

``--before DIR`` adds two rows run on another checkout of starshell (its
``launchpad`` and ``rocket`` put first on PYTHONPATH), e.g. the commit before
a change: ``git archive REV | tar -x -C DIR``.

Prints a Markdown table (for BENCHMARKS.md) and one JSON line per case on stderr.
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

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)

from launchpad import Firework, LaunchPad, Workflow  # noqa: E402
from launchpad.stores import SQLiteStore  # noqa: E402
from launchpad.tasks import PyTask  # noqa: E402

SCRIPTS = sysconfig.get_path("scripts")
FW_VENV = os.path.join(BENCH, ".venv-fireworks", "bin")


class Case:
    """One command line, run in ``cwd`` with ``env``; ``python`` cases run sys.executable."""

    def __init__(self, label, argv, cwd, env):
        self.label, self.argv, self.cwd, self.env = label, argv, cwd, env
        self.times, self.cpu_times = [], []

    def run_once(self):
        """Wall-clock and CPU (user + system) seconds of one run."""
        cpu0, t0 = _children_cpu(), time.perf_counter()
        proc = subprocess.run(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        elapsed, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
        if proc.returncode != 0:
            raise SystemExit(f"{self.label}: exit {proc.returncode}\n{proc.stderr}")
        return elapsed, cpu

    @property
    def median_ms(self):
        return statistics.median(self.times) * 1000

    @property
    def median_cpu_ms(self):
        return statistics.median(self.cpu_times) * 1000


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def user_env(home, pycache, bytecode=True):
    """A fresh user's environment: no STARSHELL_* settings but its own home."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STARSHELL_", "PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE"))
    }
    env["STARSHELL_HOME"] = home
    if bytecode:
        env["PYTHONPYCACHEPREFIX"] = pycache
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def fill_store(home, n):
    """``n`` no-op fireworks in one flat workflow, in the store ``lpad`` finds for ``home``."""
    lp = LaunchPad(SQLiteStore(os.path.join(home, "launchpad.sqlite")))
    try:
        lp.add_wf(Workflow([Firework(PyTask(func="math.floor", args=[1]), fw_id=i) for i in range(1, n + 1)]))
    finally:
        lp.store.close()


def make_dirs(scratch, name):
    home, work = os.path.join(scratch, name, "home"), os.path.join(scratch, name, "work")
    os.makedirs(home)
    os.makedirs(work)
    return home, work


def starshell_cases(scratch, pycache, runs, n_fireworks):
    lpad, rlaunch = os.path.join(SCRIPTS, "lpad"), os.path.join(SCRIPTS, "rlaunch")
    count = [lpad, "get_fws", "-d", "count"]
    cases = []
    home, work = make_dirs(scratch, "python")
    cases.append(Case("python -c pass", [sys.executable, "-c", "pass"], work, user_env(home, pycache)))
    cases.append(
        Case(
            "entry-point scan alone (python -c: importlib.metadata.entry_points())",
            [sys.executable, "-c", "import importlib.metadata as m; m.entry_points()"],
            work,
            user_env(home, pycache),
        )
    )
    home, work = make_dirs(scratch, "empty")
    cases.append(
        Case("lpad get_fws -d count (empty store, no launchpad file)", count, work, user_env(home, pycache))
    )
    cases.append(
        Case(
            "the same without bytecode files (PYTHONDONTWRITEBYTECODE=1)",
            count,
            work,
            user_env(home, pycache, bytecode=False),
        )
    )
    home, work = make_dirs(scratch, "init")
    subprocess.run(
        [lpad, "init"], cwd=work, env=user_env(home, pycache), check=True, stdout=subprocess.DEVNULL
    )
    cases.append(
        Case(
            "lpad get_fws -d count (empty store, my_launchpad.yaml from lpad init)",
            count,
            work,
            user_env(home, pycache),
        )
    )
    home, work = make_dirs(scratch, "full")
    fill_store(home, n_fireworks)
    cases.append(
        Case(f"lpad get_fws -d count ({n_fireworks:,} fireworks)", count, work, user_env(home, pycache))
    )
    home, work = make_dirs(scratch, "table")
    fill_store(home, 10)
    cases.append(
        Case(
            "lpad get_fws (10 fireworks: a table, loads tabulate)",
            [lpad, "get_fws"],
            work,
            user_env(home, pycache),
        )
    )
    home, work = make_dirs(scratch, "help")
    cases.append(Case("lpad --help (loads the plugins)", [lpad, "--help"], work, user_env(home, pycache)))
    home, work = make_dirs(scratch, "rocket")
    fill_store(home, runs + 1)  # one per run, and one for the warm-up
    cases.append(
        Case(
            "rlaunch -s singleshot (a no-op PyTask)",
            [rlaunch, "-s", "singleshot"],
            work,
            user_env(home, pycache),
        )
    )
    return cases


def before_cases(scratch, pycache, runs, tree):
    """The empty-store count and the no-op singleshot, on the code in ``tree``."""
    lpad, rlaunch = os.path.join(SCRIPTS, "lpad"), os.path.join(SCRIPTS, "rlaunch")
    home, work = make_dirs(scratch, "before-empty")
    env = {**user_env(home, pycache), "PYTHONPATH": os.path.abspath(tree)}
    count = Case(
        f"before ({tree}): lpad get_fws -d count (empty store)", [lpad, "get_fws", "-d", "count"], work, env
    )
    home, work = make_dirs(scratch, "before-rocket")
    fill_store(home, runs + 1)
    env = {**user_env(home, pycache), "PYTHONPATH": os.path.abspath(tree)}
    return [count, Case(f"before ({tree}): rlaunch -s singleshot", [rlaunch, "-s", "singleshot"], work, env)]


def fireworks_case(scratch, pycache):
    """FireWorks' ``lpad get_fws -d count`` on its embedded (mongomock-persistence) store."""
    if not os.access(os.path.join(FW_VENV, "lpad"), os.X_OK):
        return None
    home, work = make_dirs(scratch, "fireworks")
    store = os.path.join(work, "store.json")
    with open(store, "w") as fh:
        fh.write("{}")
    with open(os.path.join(work, "FW_config.yaml"), "w") as fh:
        fh.write(f"MONGOMOCK_SERVERSTORE_FILE: {store}\n")
    env = user_env(home, pycache)
    env.update(MONGOMOCK_SERVERSTORE_FILE=store)
    env.pop("FW_CONFIG_FILE", None)
    return Case(
        "FireWorks 2.1 lpad get_fws -d count (empty store)",
        [os.path.join(FW_VENV, "lpad"), "get_fws", "-d", "count"],
        work,
        env,
    )


def measure(cases, runs):
    for case in cases:  # warm-up: writes the bytecode caches
        case.run_once()
    for _ in range(runs):
        for case in cases:
            elapsed, cpu = case.run_once()
            case.times.append(elapsed)
            case.cpu_times.append(cpu)


def report(cases, runs):
    base, base_cpu = cases[0].median_ms, cases[0].median_cpu_ms
    print(
        f"| command (median of {runs} runs) | wall ms | x `python -c pass` | CPU ms "
        "| CPU x `python -c pass` |"
    )
    print("|---|---|---|---|---|")
    for case in cases:
        print(
            f"| {case.label} | {case.median_ms:.0f} | {case.median_ms / base:.1f} "
            f"| {case.median_cpu_ms:.0f} | {case.median_cpu_ms / base_cpu:.1f} |"
        )
        print(
            json.dumps(
                {
                    "case": case.label,
                    "median_ms": round(case.median_ms, 1),
                    "ratio": round(case.median_ms / base, 2),
                    "median_cpu_ms": round(case.median_cpu_ms, 1),
                    "runs_ms": [round(t * 1000, 1) for t in case.times],
                }
            ),
            file=sys.stderr,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per case (default 10)")
    parser.add_argument(
        "--fireworks", type=int, default=10000, help="fireworks in the large store (default 10000)"
    )
    parser.add_argument(
        "--before", metavar="DIR", help="also time two commands on the starshell checkout in DIR"
    )
    args = parser.parse_args(argv)
    scratch = tempfile.mkdtemp(prefix="starshell-startup-")
    try:
        pycache = os.path.join(scratch, "pycache")
        cases = starshell_cases(scratch, pycache, args.runs, args.fireworks)
        if args.before:
            cases += before_cases(scratch, pycache, args.runs, args.before)
        fireworks = fireworks_case(scratch, pycache)
        if fireworks is None:
            print("FireWorks' venv is missing (bench/setup_fireworks.sh): no FireWorks row", file=sys.stderr)
        else:
            cases.append(fireworks)
        measure(cases, args.runs)
        report(cases, args.runs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
