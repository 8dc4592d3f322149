"""Run a command's Python entry point in this process and report its peak memory.

    python bench/peak_rss.py rocket.cli -s rapidfire

Prints one JSON line: {"module": ..., "exit": ..., "peak_rss_mb": ...}.
"""

import json
import resource
import runpy
import sys


def main():
    module, args = sys.argv[1], sys.argv[2:]
    sys.argv = [module] + args
    code = 0
    try:
        runpy.run_module(module, run_name="__main__")
    except SystemExit as exc:
        code = exc.code or 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"module": module, "exit": code, "peak_rss_mb": round(rss, 1)}), flush=True)


if __name__ == "__main__":
    main()
