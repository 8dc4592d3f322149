"""What the name index costs ``add_wf``: N fireworks added with unique or repeated names.

Adds N fireworks in workflows of 5 to a fresh embedded store through
``LaunchPad.add_wf``, once with every name unique (``relax-17-3``) and once with
names drawn from 8 words, and prints one JSON line per case: wall and CPU
seconds. It imports the starshell of its own tree, so running the script of
two checkouts in turn compares them on the same machine. ``--ab ROUNDS``
instead alternates, in one process, stores with the name index and stores
stripped of it (no names table, triggers or FTS table, the index on name
alone, no watermark update): one JSON line per case with both medians.

    python bench/add_names.py --fireworks 50000
    python bench/add_names.py --fireworks 10000 --ab 6
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from launchpad import Firework, LaunchPad, Workflow  # noqa: E402
from launchpad.stores import SQLiteStore  # noqa: E402
from launchpad.tasks import PyTask  # noqa: E402

WORDS = ["relax", "static", "band", "dos", "phonon", "elastic", "md", "nscf"]
PER_WORKFLOW = 5


def workflows(n_fireworks, unique, seed=1):
    rng = random.Random(seed)
    for w in range(n_fireworks // PER_WORKFLOW):
        names = [f"{rng.choice(WORDS)}-{w}-{i}" if unique else rng.choice(WORDS) for i in range(PER_WORKFLOW)]
        fws = [
            Firework(PyTask(func="math.floor", args=[1]), fw_id=i + 1, name=n) for i, n in enumerate(names)
        ]
        links = {i + 1: [i + 2] for i in range(PER_WORKFLOW - 1)}
        yield Workflow(fws, links, name=f"mp-{w}-{rng.choice(WORDS)}" if unique else "mp")


STRIP = (
    "DROP TRIGGER fireworks_rename",
    "DROP TRIGGER workflows_rename",
    "DROP TABLE names_fts",
    "DROP TABLE names",
    "DROP INDEX fireworks_name_wf",
    "CREATE INDEX fireworks_name ON fireworks (name)",
)


def new_store(path, with_index):
    store = SQLiteStore(path)
    if not with_index:  # the store as before the name index
        for statement in STRIP:
            store.conn().execute(statement)
        store.fireworks.names = store.workflows.names = None
    return store


def measure(n, unique, with_index=True):
    scratch = tempfile.mkdtemp(prefix="starshell-add-")
    try:
        lp = LaunchPad(new_store(os.path.join(scratch, "launchpad.sqlite"), with_index))
        wfs = list(workflows(n, unique))  # built before the clock starts: only add_wf is timed
        started, started_cpu = time.perf_counter(), time.process_time()
        for wf in wfs:
            lp.add_wf(wf)
        row = {
            "fireworks": n,
            "names": "unique" if unique else "repeated",
            "wall_s": round(time.perf_counter() - started, 2),
            "cpu_s": round(time.process_time() - started_cpu, 2),
        }
        lp.store.close()
        return row
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def alternate(n, rounds):
    """Stores with and without the index in turn (the order flips each round)."""
    for unique in (True, False):
        cpu = {True: [], False: []}
        for r in range(rounds):
            for with_index in (True, False) if r % 2 else (False, True):
                cpu[with_index].append(measure(n, unique, with_index)["cpu_s"])
        print(
            json.dumps(
                {
                    "fireworks": n,
                    "names": "unique" if unique else "repeated",
                    "without_index_cpu_s": statistics.median(cpu[False]),
                    "with_index_cpu_s": statistics.median(cpu[True]),
                    "runs": rounds,
                }
            ),
            flush=True,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fireworks", type=int, default=50000)
    parser.add_argument("--ab", type=int, default=0, metavar="ROUNDS")
    args = parser.parse_args(argv)
    if args.ab:
        return alternate(args.fireworks, args.ab)
    for unique in (True, False):
        print(json.dumps(measure(args.fireworks, unique)), flush=True)


if __name__ == "__main__":
    main()
