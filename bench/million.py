"""A million fireworks, timed as a user runs the commands (each its own process).

    python3 bench/million.py --files 1000 --per 1000 [--format json|yaml] [--lost 10000]
        [--fizzled 1000] [--workdir DIR] [--mongo 20000] [--only dir,files,one]

Writes ``--files`` workflow files of ``--per`` fireworks (each firework one
ScriptTask; half of them parents of the other half) and one file holding a single
workflow of files x per fireworks, then times, with each command's peak RSS:

- ``lpad add f1 ... fN``, ``lpad add -d DIR`` and ``lpad add big.json``, each
  into its own fresh store;
- on an empty store and on the ``-d`` store: ``lpad get_fws -d count``,
  ``lpad get_wflows -m 20``, ``lpad get_fws -s FIZZLED -m 20``,
  ``lpad admin check`` and the web GUI's dashboard (GET / through the Flask
  app, in a process of its own; the figure is the request alone);
- ``lpad detect_lostruns --rerun`` with ``--lost`` RUNNING launches whose
  heartbeat is five hours old (made through the Python API before timing).

``--mongo N`` also times the Python API on mongomock (in one process: mongomock
keeps nothing between processes) at N fireworks. Prints one JSON line on
stdout; progress goes to stderr.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
READS = {
    "get_fws -d count": ["get_fws", "-d", "count"],
    "get_wflows -m 20": ["get_wflows", "-m", "20"],
    "get_fws -s FIZZLED -m 20": ["get_fws", "-s", "FIZZLED", "-m", "20"],
    "admin check": ["admin", "check"],
}
DASHBOARD = """
import sys, time
from launchpad import LaunchPad
from webgui import create_app
client = create_app(launchpad=LaunchPad.from_file()).test_client()
start = time.perf_counter()
status = client.get("/").status_code
print(status, time.perf_counter() - start)
"""


def write_files(folder, files, per, fmt):
    os.makedirs(folder, exist_ok=True)
    paths = []
    for n in range(files):
        path = os.path.join(folder, f"wf{n:05d}.{fmt}")
        _write(path, workflow(per, f"wf{n}"), fmt)
        paths.append(path)
    return paths


def workflow(per, name):
    """``per`` ScriptTask fireworks in pairs: firework i the parent of i + per/2, so half of
    them are READY (enough to claim ``--lost`` of them) and each has a child to reset."""
    fws = [
        {
            "fw_id": i,
            "name": f"fw{i}",
            "spec": {"_tasks": [{"_fw_name": "ScriptTask", "script": f"echo {i}"}]},
        }
        for i in range(1, per + 1)
    ]
    links = {str(i): [i + per // 2] for i in range(1, per // 2 + 1)}
    return {"fws": fws, "links": links, "name": name, "metadata": {"bench": "million"}}


def _write(path, data, fmt):
    with open(path, "w", encoding="utf-8") as fh:
        if fmt == "json":
            json.dump(data, fh)
        else:
            import yaml  # PyYAML's C emitter: ruamel's pure one takes minutes here

            yaml.dump(data, fh, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))


def run(home, *argv, script=None):
    """Run ``lpad argv`` (or ``python -c script``) as a user would, in its own process, under
    bench/peak_rss.py: (seconds, peak RSS MB, output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STARSHELL_")}
    env.update(STARSHELL_HOME=home, PYTHONPATH=ROOT)
    peak_rss = os.path.join(ROOT, "bench", "peak_rss.py")
    exe = [sys.executable, "-c", script] if script else [sys.executable, peak_rss, "launchpad.cli", *argv]
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(exe, env=env, cwd=home, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    CPU_SECONDS[" ".join(argv) or "script"] = round(_children_cpu() - cpu, 3)
    if done.returncode != 0:
        raise CommandFailed(
            f"{' '.join(argv[:3]) or 'script'} exited {done.returncode}: {done.stderr.strip()[-300:]}"
        )
    if script:
        return round(seconds, 3), None, done.stdout
    *out, last = done.stdout.splitlines()
    report = json.loads(last)
    if report["exit"] != 0:
        raise CommandFailed(
            f"lpad {' '.join(argv[:3])} exited {report['exit']}: {done.stderr.strip()[-300:]}"
        )
    return round(seconds, 3), report["peak_rss_mb"], "\n".join(out)


class CommandFailed(Exception):
    """A timed command failed: its figure becomes the error, and the run goes on."""


CPU_SECONDS = {}  # each command's user + system CPU: the figure a busy shared machine distorts least


def _children_cpu():
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fresh_home(base, name):
    home = os.path.join(base, name)
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(home)
    return home


def timed_add(results, key, home, argv):
    log(f"lpad add {key} ...")
    try:
        seconds, peak, _ = run(home, "add", *argv)
    except CommandFailed as exc:
        results[key] = {"error": str(exc)}
        log(f"  {exc}")
        return
    results[key] = {"s": seconds, "cpu_s": CPU_SECONDS[" ".join(["add", *argv])], "peak_rss_mb": peak}
    log(f"  {seconds:.1f} s ({results[key]['cpu_s']:.1f} s CPU), {peak} MB")


def time_reads(home):
    figures = {}
    for label, argv in READS.items():
        try:
            seconds, peak, _ = run(home, *argv)
            figures[label] = {"s": seconds, "cpu_s": CPU_SECONDS[" ".join(argv)], "peak_rss_mb": peak}
        except CommandFailed as exc:
            figures[label] = {"error": str(exc)}
        log(f"  {label}: {figures[label]}")
    seconds, peak, out = run(home, script=DASHBOARD)
    status, request_s = out.split()
    figures["webgui GET /"] = {"s": seconds, "request_s": round(float(request_s), 3), "status": int(status)}
    log(f"  webgui GET /: {figures['webgui GET /']}")
    return figures


def run_python(code):
    """Run ``code`` with bench/ importable, in its own process (see the peak RSS note)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.path.join(ROOT, "bench")])}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def make_lost_runs(home, lost, fizzled):
    """``fizzled`` FIZZLED fireworks and ``lost`` RUNNING launches with five-hour-old heartbeats."""
    sys.path.insert(0, ROOT)
    from datetime import datetime, timedelta, timezone

    from launchpad import LaunchPad
    from launchpad.stores.sqlite import SQLiteStore

    past = datetime.now(timezone.utc) - timedelta(hours=5)
    lp = LaunchPad(SQLiteStore(os.path.join(home, "launchpad.sqlite")), clock=lambda: past)
    for _ in range(fizzled):
        _, launch_id = lp.claim_to_run()
        lp.complete_launch(launch_id, state="FIZZLED")
    for _ in range(lost):
        lp.claim_to_run()
    lp.store.close()


def mongo_figures(n, per):
    """The Python API on mongomock at ``n`` fireworks: add, the reads, lost runs."""
    sys.path.insert(0, ROOT)
    from launchpad import LaunchPad
    from launchpad.config import LaunchpadConfig
    from launchpad.stores import open_store

    lp = LaunchPad(open_store(LaunchpadConfig(kind="mongomock", name=f"bench{os.getpid()}")))
    folder = tempfile.mkdtemp(prefix="million-mongo-")
    paths = write_files(folder, max(1, n // per), per, "json")
    from launchpad.batch_add import add_files

    figures = {"fireworks": n}
    start = time.perf_counter()
    add_files(lp.add_wf, lp.store, paths)
    figures["add"] = round(time.perf_counter() - start, 3)
    for label, call in (
        ("count", lambda: lp.get_fw_ids(count_only=True)),
        ("wflows -m 20", lambda: lp.get_wf_summaries(limit=20)),
        ("fizzled -m 20", lambda: lp.get_fws({"state": "FIZZLED"}, limit=20)),
    ):
        start = time.perf_counter()
        call()
        figures[label] = round(time.perf_counter() - start, 4)
    shutil.rmtree(folder)
    return figures


def raw_floor(paths, workdir):
    """The same rows into the same schema by plain sqlite3, no model and no checks: what
    parsing and inserting alone cost on this machine now (seconds wall, seconds CPU)."""
    import sqlite3

    sys.path.insert(0, ROOT)
    from launchpad.stores.schema import create_schema

    path = os.path.join(workdir, "floor.sqlite")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    create_schema(conn)
    sql = (
        "INSERT INTO fireworks (fw_id, wf_id, name, state, priority, waiting_on, created_on, "
        "updated_on, doc) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)"
    )
    start, cpu, first = time.perf_counter(), time.process_time(), 0
    conn.execute("BEGIN IMMEDIATE")
    for wf_id, name in enumerate(paths, 1):
        with open(name, encoding="utf-8") as fh:
            data = json.load(fh)
        parents = {c: int(p) for p, kids in data["links"].items() for c in kids}
        now = "2026-01-01T00:00:00.000000"
        conn.executemany(
            sql,
            [
                (
                    first + f["fw_id"],
                    wf_id,
                    f["name"],
                    "WAITING" if f["fw_id"] in parents else "READY",
                    int(f["fw_id"] in parents),
                    now,
                    now,
                    json.dumps({"spec": f["spec"]}, separators=(",", ":")),
                )
                for f in data["fws"]
            ],
        )
        conn.executemany(
            "INSERT INTO links (parent, child) VALUES (?, ?)",
            [(first + p, first + c) for c, p in parents.items()],
        )
        conn.execute("INSERT INTO workflows (wf_id, name, doc) VALUES (?, ?, '{}')", (wf_id, data["name"]))
        first += len(data["fws"])
    conn.execute("COMMIT")
    conn.close()
    figures = {"s": round(time.perf_counter() - start, 3), "cpu_s": round(time.process_time() - cpu, 3)}
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return figures


def log(text):
    print(text, file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--per", type=int, default=1000)
    parser.add_argument("--format", choices=("json", "yaml"), default="json")
    parser.add_argument("--lost", type=int, default=10000)
    parser.add_argument("--fizzled", type=int, default=100)
    parser.add_argument("--mongo", type=int, default=0, help="fireworks for the mongomock figures (0: none)")
    parser.add_argument("--only", default="files,dir,one", help="which adds to time")
    parser.add_argument("--workdir", default=None)
    parser.add_argument(
        "--keep", action="store_true", help="keep the stores and files (the path goes to stderr)"
    )
    args = parser.parse_args()
    base = tempfile.mkdtemp(prefix="million-", dir=args.workdir)
    only = set(args.only.split(","))
    try:
        results = {"files": args.files, "per": args.per, "format": args.format, "lost": args.lost}
        log("writing the files ...")
        paths = write_files(os.path.join(base, "files"), args.files, args.per, args.format)
        results["empty"] = time_reads(fresh_home(base, "empty"))
        log("raw floor ...")
        results["raw floor"] = raw_floor(paths, base)
        log(f"  {results['raw floor']}")
        if "files" in only:
            timed_add(results, "files", fresh_home(base, "files-store"), paths)
            shutil.rmtree(os.path.join(base, "files-store"))
        if "one" in only:
            big = os.path.join(base, f"big.{args.format}")
            # In a child process: a child forked from a big parent reports the parent's
            # RSS as its own peak (Linux keeps the high-water mark across fork and exec).
            run_python(
                f"import million; million._write({big!r}, "
                f"million.workflow({args.files * args.per}, 'big'), {args.format!r})"
            )
            timed_add(results, "one", fresh_home(base, "one-store"), [big])
            shutil.rmtree(os.path.join(base, "one-store"))
            os.remove(big)
        home = fresh_home(base, "dir-store")
        timed_add(results, "dir", home, ["-d", os.path.join(base, "files")])
        log("making lost runs ...")
        run_python(f"import million; million.make_lost_runs({home!r}, {args.lost}, {args.fizzled})")
        log("timing reads ...")
        results["full"] = time_reads(home)
        try:
            seconds, peak, out = run(home, "detect_lostruns", "--rerun")
            cpu = CPU_SECONDS["detect_lostruns --rerun"]
            results["detect_lostruns --rerun"] = {"s": seconds, "cpu_s": cpu, "peak_rss_mb": peak}
        except CommandFailed as exc:
            results["detect_lostruns --rerun"] = {"error": str(exc)}
        log(f"  detect_lostruns --rerun: {results['detect_lostruns --rerun']}")
        if args.mongo:
            results["mongomock"] = mongo_figures(args.mongo, args.per)
        print(json.dumps(results), flush=True)
    finally:
        if args.keep:
            log(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
