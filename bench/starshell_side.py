"""starshell's side of the benchmarks: add and rapidfire one shape, one process.

Same shapes, tasks and JSON fields as bench/fireworks_side.py, so the driver
(bench/run_all.py) can put them side by side. Store operations are counted
where they leave the process: SQL statements on the SQLite connection
(BEGIN and COMMIT included), collection calls on MongoDB (mongomock).
Prints one JSON line on stdout.
"""

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.append(os.path.join(ROOT, "tests"))  # store_op_counting, shared with the tests

from store_op_counting import count_outermost_calls  # noqa: E402

from launchpad import Firework, LaunchPad, Workflow  # noqa: E402
from launchpad.stores import SQLiteStore  # noqa: E402
from launchpad.stores.mongo import MongoStore  # noqa: E402
from launchpad.tasks import PyTask, ScriptTask  # noqa: E402
from rocket import rapidfire  # noqa: E402


def make_task(kind):
    if kind == "pytask":
        return PyTask(func="math.floor", args=[1])
    return ScriptTask(script="true")


def build(shape, n, kind):
    """Workflows for one shape: flat, chain, fan (1 -> n-2 -> 1) or many one-firework ones."""
    fws = [Firework(make_task(kind), fw_id=i) for i in range(1, n + 1)]
    if shape == "flat":
        return [Workflow(fws)]
    if shape == "chain":
        return [Workflow(fws, {i: [i + 1] for i in range(1, n)})]
    if shape == "fan":
        links = {1: list(range(2, n))}
        links.update({i: [n] for i in range(2, n)})
        return [Workflow(fws, links)]
    return [Workflow([fw]) for fw in fws]


class OpCounter:
    def __init__(self):
        self.count = 0
        self.active = False

    def hit(self, *_):
        if self.active:
            self.count += 1

    def wrap_mongomock(self):
        import mongomock

        count_outermost_calls(mongomock.collection.Collection, self.hit)


def open_store(backend, scratch, counter):
    if backend == "sqlite":
        store = SQLiteStore(os.path.join(scratch, "launchpad.sqlite"))
        store.conn().set_trace_callback(counter.hit)
        return store
    counter.wrap_mongomock()
    return MongoStore.connect(mongomock=True, name="bench")


def run(args):
    scratch = tempfile.mkdtemp(prefix="starshell-", dir=args.workdir)
    counter = OpCounter()
    try:
        lp = LaunchPad(open_store(args.backend, scratch, counter))
        wfs = build(args.shape, args.n, args.task)
        t0 = time.perf_counter()
        for wf in wfs:
            lp.add_wf(wf)
        add_s = time.perf_counter() - t0
        counter.active = True
        t0 = time.perf_counter()
        # the default heartbeat, as rlaunch runs it (issue 14): no ping_interval=0 here
        done = rapidfire(lp, launch_root=scratch, sleep_time=0.01, timeout=args.timeout)
        run_s = time.perf_counter() - t0
        counter.active = False
        completed = lp.fw_state_counts().get("COMPLETED", 0)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "system": "starshell",
        "backend": args.backend,
        "shape": args.shape,
        "n": args.n,
        "task": args.task,
        "add_s": round(add_s, 4),
        "run_s": round(run_s, 4),
        "fw_per_s": round(done / run_s, 1) if run_s else None,
        "completed": completed,
        "timed_out": completed < args.n,
        "store_ops": counter.count,
        "store_ops_per_launch": round(counter.count / done, 2) if done else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("flat", "chain", "fan", "many"), default="flat")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--task", choices=("pytask", "script"), default="pytask")
    parser.add_argument("--backend", choices=("sqlite", "mongomock"), default="sqlite")
    parser.add_argument("--workdir", default=None, help="where the scratch dir goes (default: tmp)")
    parser.add_argument("--timeout", type=float, default=None, help="stop launching after S seconds")
    result = run(parser.parse_args(argv))
    print(json.dumps(result), flush=True)
    return 0 if result["completed"] == result["n"] else 1


if __name__ == "__main__":
    sys.exit(main())
