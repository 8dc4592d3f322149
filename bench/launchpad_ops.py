"""LaunchPad costs that must not grow with workflow size (issue: the LaunchPad).

Times adding one N-firework workflow, and the checkout + completion of a
firework inside an N-firework workflow (chain: each completion readies the
next), for several N. Prints one JSON line per N on stdout.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from launchpad import Firework, LaunchPad, Workflow  # noqa: E402
from launchpad.stores import SQLiteStore  # noqa: E402
from launchpad.tasks import PyTask  # noqa: E402


def chain(n):
    fws = [Firework(PyTask(func="math.floor", args=[1]), fw_id=i) for i in range(1, n + 1)]
    return Workflow(fws, {i: [i + 1] for i in range(1, n)})


def measure(n, samples):
    scratch = tempfile.mkdtemp(prefix="starshell-ops-")
    try:
        lp = LaunchPad(SQLiteStore(os.path.join(scratch, "launchpad.sqlite")))
        wf = chain(n)
        t0 = time.perf_counter()
        lp.add_wf(wf)
        add_s = time.perf_counter() - t0
        costs = []
        for _ in range(min(samples, n)):
            t0 = time.perf_counter()
            fw, launch_id = lp.claim_to_run(launch_dir=scratch)
            lp.complete_launch(launch_id, fw_id=fw["fw_id"])
            costs.append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "n": n,
        "add_s": round(add_s, 4),
        "add_us_per_fw": round(add_s / n * 1e6, 1),
        "claim_complete_us_median": round(statistics.median(costs) * 1e6, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args(argv)
    for n in (int(x) for x in args.sizes.split(",")):
        print(json.dumps(measure(n, args.samples)), flush=True)


if __name__ == "__main__":
    main()
