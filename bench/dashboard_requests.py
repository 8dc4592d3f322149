"""The web GUI dashboard (GET /) on the store of ``$STARSHELL_HOME``, through the Flask app.

    STARSHELL_HOME=DIR python3 bench/dashboard_requests.py [--requests 6]

Prints one JSON line: each request's wall and CPU seconds (the first one compiles the
templates and reads the store cold), ``summary_nocache_cpu`` (the dashboard's data with
every count derived, as on a store that changes between requests) and the peak RSS.
"""

import argparse
import json
import resource
import time

from launchpad import LaunchPad
from webgui import create_app, data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6)
    args = parser.parse_args()
    lp = LaunchPad.from_file()
    client = create_app(launchpad=lp).test_client()
    out = {"wall": [], "cpu": []}
    for _ in range(args.requests):
        start, cpu = time.perf_counter(), time.process_time()
        assert client.get("/").status_code == 200
        out["wall"].append(round(time.perf_counter() - start, 4))
        out["cpu"].append(round(time.process_time() - cpu, 4))
    cpu = time.process_time()
    for _ in range(5):
        data.summary(lp)
    out["summary_nocache_cpu"] = round((time.process_time() - cpu) / 5, 4)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
