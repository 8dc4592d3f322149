"""FireWorks' side of the benchmarks: one workflow shape, added and run in one process.

Run with bench/.venv-fireworks/bin/python (see setup_fireworks.sh). FireWorks
has no server here, only its embedded mongomock store, which loads and saves a
whole JSON file per process: so adding and running happen in this one process,
through FireWorks' public Python API (LaunchPad, Workflow, rapidfire).

Prints exactly one JSON line on stdout, for a driver that runs this as a
subprocess; everything FireWorks or its tasks print goes to stderr. Store ops
count calls on mongomock's Collection during the run phase: each one would be
a round trip to a real MongoDB, so they compare across hardware.
"""

import argparse
import contextlib
import datetime
import json
import os
import resource
import sys
import tempfile
import threading
import time

sys.path.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from store_op_counting import count_outermost_calls  # noqa: E402  (stdlib only)

SHAPES = ("flat", "chain", "fan", "many")


class StoreOpCounter:
    """Counts outermost Collection calls (mongomock's find_one calls find: one op)."""

    def __init__(self):
        self.ops = 0
        self.active = False
        self._lock = threading.Lock()

    def install(self, collection_cls):
        count_outermost_calls(collection_cls, self._hit)

    def _hit(self, *_):
        if self.active:
            with self._lock:  # the rocket's ping thread calls too
                self.ops += 1


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shape", choices=SHAPES, required=True, help="fan = 1 -> N-2 -> 1; many = N one-firework workflows"
    )
    parser.add_argument("--n", type=int, required=True, help="number of fireworks")
    parser.add_argument(
        "--task",
        choices=("pytask", "script"),
        default="pytask",
        help="pytask: PyTask math.floor(1); script: ScriptTask `true`",
    )
    parser.add_argument(
        "--workdir",
        default=tempfile.gettempdir(),
        help="parent of the scratch dir (store, config, launch dirs)",
    )
    parser.add_argument(
        "--timeout", type=int, default=None, help="stop launching after this many seconds of run phase"
    )
    args = parser.parse_args(argv)
    if args.n < (3 if args.shape == "fan" else 1):
        parser.error(f"--n {args.n} is too small for shape {args.shape}")
    return args


def enter_scratch(workdir):
    """Make a fresh store + FW_config.yaml and chdir there, before fireworks is imported.

    FireWorks reads FW_config.yaml from the cwd (first) at import time, and the
    store file from MONGOMOCK_SERVERSTORE_FILE when its MongoClient is made.
    """
    os.makedirs(workdir, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="fireworks-", dir=os.path.abspath(workdir))
    store = os.path.join(scratch, "store.json")
    with open(store, "w") as f:
        f.write("{}")
    with open(os.path.join(scratch, "FW_config.yaml"), "w") as f:
        f.write(
            f"MONGOMOCK_SERVERSTORE_FILE: {store}\n"
            "STREAM_LOGLEVEL: CRITICAL\nROCKET_STREAM_LOGLEVEL: CRITICAL\n"
        )
    os.environ["MONGOMOCK_SERVERSTORE_FILE"] = store
    os.environ.pop("FW_CONFIG_FILE", None)
    os.chdir(scratch)
    return scratch


def build_workflows(shape, n, task):
    from fireworks import Firework, PyTask, ScriptTask, Workflow

    def make_fw(i):
        if task == "pytask":
            firetask = PyTask(func="math.floor", args=[1])
        else:
            firetask = ScriptTask.from_str("true")
        return Firework([firetask], name=f"fw{i}")

    if shape == "many":
        return [Workflow([make_fw(i)], name=f"wf{i}") for i in range(n)]
    fws = [make_fw(i) for i in range(n)]
    if shape == "flat":
        links = {}
    elif shape == "chain":
        links = {fws[i]: [fws[i + 1]] for i in range(n - 1)}
    else:
        middle = fws[1:-1]
        links = {fws[0]: middle, **{fw: [fws[-1]] for fw in middle}}
    return [Workflow(fws, links, name=shape)]


def run(args):
    scratch = enter_scratch(args.workdir)
    import mongomock
    from fireworks import FWorker, LaunchPad
    from fireworks.core.rocket_launcher import rapidfire

    counter = StoreOpCounter()
    counter.install(mongomock.collection.Collection)
    lp = LaunchPad(strm_lvl="CRITICAL")
    lp.reset(datetime.date.today().strftime("%Y-%m-%d"))
    workflows = build_workflows(args.shape, args.n, args.task)

    start = time.perf_counter()
    for wf in workflows:
        lp.add_wf(wf)
    add_s = time.perf_counter() - start

    launch_dir = os.path.join(scratch, "launches")
    os.makedirs(launch_dir)
    counter.active = True
    start = time.perf_counter()
    # A tiny sleep_time: the default (60 s) is slept once when a timeout cuts the run short.
    rapidfire(lp, FWorker(), m_dir=launch_dir, strm_lvl="CRITICAL", timeout=args.timeout, sleep_time=0.001)
    run_s = time.perf_counter() - start
    counter.active = False

    completed = lp.fireworks.count_documents({"state": "COMPLETED"})
    return {
        "system": "fireworks",
        "shape": args.shape,
        "n": args.n,
        "task": args.task,
        "add_s": round(add_s, 4),
        "run_s": round(run_s, 4),
        "fw_per_s": round(completed / run_s, 2) if run_s else None,
        "completed": completed,
        "timed_out": completed < args.n and args.timeout is not None and run_s >= args.timeout,
        "store_ops": counter.ops,
        "store_ops_per_launch": round(counter.ops / completed, 2) if completed else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


@contextlib.contextmanager
def stdout_to_stderr():
    """Keep fd 1 for our JSON line: FireWorks prints, and task subprocesses inherit fd 1."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def main(argv=None):
    args = parse_args(argv)
    with stdout_to_stderr():
        result = run(args)
    print(json.dumps(result), flush=True)
    return 0 if result["completed"] == args.n or result["timed_out"] else 1


if __name__ == "__main__":
    sys.exit(main())
