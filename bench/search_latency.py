"""Web GUI search latency: ``/workflows?q=WORD`` at several store sizes.

Builds an embedded store of N fireworks (workflows of 5, names drawn from
8 words, so a common word matches about 1 in 8 fireworks), then times the
workflow list page through Flask's test client (the whole request: query,
counts, rendering) for a common word, a rare one and an absent one, first
with the name index (``first_ms``: the first search, which indexes every
name added so far), then with it switched off, as a scan (``scan_*``: what
a SQLite without FTS5 does). Prints one JSON line per N: median wall and CPU
milliseconds.

    python bench/search_latency.py --sizes 1000,20000,100000
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
from webgui import create_app  # noqa: E402

WORDS = ["relax", "static", "band", "dos", "phonon", "elastic", "md", "nscf"]
PER_WORKFLOW = 5
SEARCHES = {"common": "relax", "rare": "phonon-12", "absent": "zzz"}


def build(lp, n_fireworks, seed=1):
    rng = random.Random(seed)
    for w in range(n_fireworks // PER_WORKFLOW):
        fws = [
            Firework(PyTask(func="math.floor", args=[1]), fw_id=i + 1, name=f"{rng.choice(WORDS)}-{w}-{i}")
            for i in range(PER_WORKFLOW)
        ]
        links = {i + 1: [i + 2] for i in range(PER_WORKFLOW - 1)}
        lp.add_wf(Workflow(fws, links, name=f"mp-{w}-{rng.choice(WORDS)}"))


def time_page(client, word, repeats):
    """Median wall and CPU milliseconds of the page (CPU time: others' load counts less)."""
    client.get("/workflows", query_string={"q": word})  # warm: connection, compiled SQL
    wall, cpu = [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get("/workflows", query_string={"q": word})
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        assert response.status_code == 200, response.status_code
    return round(statistics.median(wall) * 1000, 1), round(statistics.median(cpu) * 1000, 1)


def measure(n, repeats):
    scratch = tempfile.mkdtemp(prefix="starshell-search-")
    try:
        lp = LaunchPad(SQLiteStore(os.path.join(scratch, "launchpad.sqlite")))
        started = time.perf_counter()
        build(lp, n)
        build_s = time.perf_counter() - started
        client = create_app({"TESTING": True}, lp).test_client()
        row = {"fireworks": n, "build_s": round(build_s, 1)}
        started = time.perf_counter()
        client.get("/workflows", query_string={"q": SEARCHES["rare"] + "x"})
        row["first_ms"] = round((time.perf_counter() - started) * 1000, 1)
        for label, word in SEARCHES.items():
            row[f"{label}_ms"], row[f"{label}_cpu_ms"] = time_page(client, word, repeats)
        lp.store.fireworks.names = lp.store.workflows.names = None  # the scan, as without FTS5
        for label, word in SEARCHES.items():
            row[f"scan_{label}_ms"], row[f"scan_{label}_cpu_ms"] = time_page(client, word, repeats)
        return row
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,20000,100000")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    for n in (int(x) for x in args.sizes.split(",")):
        print(json.dumps(measure(n, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
