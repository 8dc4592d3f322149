"""Run every benchmark side by side and write BENCHMARKS.md.

    python bench/run_all.py            # full plan (about 30-40 minutes on 2 cores)
    python bench/run_all.py --quick    # smaller sizes, one repetition (a few minutes)

Each measurement is a separate process (bench/starshell_side.py,
bench/fireworks_side.py in FireWorks' own virtualenv, bench/raw_floor.py,
bench/launchpad_ops.py), so ratios compare runs made in the same session on
the same noisy machine. Raw results go to bench/results/<timestamp>.json.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
FW_PYTHON = os.path.join(BENCH, ".venv-fireworks", "bin", "python")
SHAPES = ("flat", "chain", "fan", "many")


def run_json(argv, timeout=3600):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(argv)} printed no result:\n{out.stderr[-2000:]}")
    return [json.loads(line) for line in lines]


def median_of(argv, reps):
    runs = [run_json(argv)[0] for _ in range(reps)]
    best = dict(runs[0])
    for key in ("add_s", "run_s", "fw_per_s", "peak_rss_mb"):
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            best[key] = round(statistics.median(values), 4)
    best["reps"] = reps
    return best


def ours(shape, n, task, reps, backend="sqlite"):
    return median_of(
        [
            sys.executable,
            "bench/starshell_side.py",
            "--shape",
            shape,
            "--n",
            str(n),
            "--task",
            task,
            "--backend",
            backend,
        ],
        reps,
    )


def fireworks(shape, n, task, timeout):
    with tempfile.TemporaryDirectory() as work:
        return run_json(
            [
                FW_PYTHON,
                "bench/fireworks_side.py",
                "--shape",
                shape,
                "--n",
                str(n),
                "--task",
                task,
                "--workdir",
                work,
                "--timeout",
                str(timeout),
            ]
        )[0]


def raw(shape, n, reps):
    return median_of([sys.executable, "bench/raw_floor.py", "--shape", shape, "--n", str(n)], reps)


def rocket_memory(n):
    """Peak RSS of one `rlaunch rapidfire` process draining an n-firework flat workflow."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, STARSHELL_HOME=home, PYTHONPATH=ROOT)
        env.pop("STARSHELL_LAUNCHPAD", None)
        subprocess.run(
            [
                sys.executable,
                "-c",
                (
                    "from launchpad import LaunchPad, Firework, Workflow;from launchpad.tasks import PyTask;"
                    f"LaunchPad.from_file().add_wf(Workflow([Firework(PyTask(func='math.floor', args=[1])) "
                    f"for _ in range({n})]))"
                ),
            ],
            env=env,
            check=True,
            cwd=home,
        )
        out = subprocess.run(
            [sys.executable, os.path.join(BENCH, "peak_rss.py"), "rocket.cli", "-s", "rapidfire"],
            env=env,
            check=True,
            cwd=home,
            capture_output=True,
            text=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def plan(quick):
    small = 300 if quick else 1000
    big = 10_000 if quick else 100_000
    reps = 1 if quick else 3
    return small, big, reps


def collect(args):
    small, big, reps = plan(args.quick)
    fw_ok = os.path.exists(FW_PYTHON)
    results = {
        "small": small,
        "big": big,
        "reps": reps,
        "rows": [],
        "raw": {},
        "ops": [],
        "mongo_ops": {},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    for shape in ("flat", "chain"):
        for n in (small, big):
            results["raw"][f"{shape}-{n}"] = raw(shape, n, reps)
            log(f"raw {shape} {n}: {results['raw'][f'{shape}-{n}']['fw_per_s']}")
    for task in ("pytask", "script"):
        for shape in SHAPES:
            row = {"shape": shape, "task": task, "small": ours(shape, small, task, reps)}
            if fw_ok:
                row["fireworks"] = fireworks(shape, small, task, args.fireworks_timeout)
            if task == "pytask" or not args.quick:
                row["big"] = ours(shape, big, task, 1)
            results["rows"].append(row)
            log(
                f"{task} {shape}: ours {row['small']['fw_per_s']}/s, "
                f"fireworks {row.get('fireworks', {}).get('fw_per_s')}/s, "
                f"big {row.get('big', {}).get('fw_per_s')}/s"
            )
    results["mongo_ops"] = ours("chain", 200, "pytask", 1, backend="mongomock")
    results["ops"] = run_json([sys.executable, "bench/launchpad_ops.py", "--sizes", f"1000,10000,{big}"])
    results["rocket_rss_mb"] = {small: rocket_memory(small), big: rocket_memory(big)}
    return results


def log(text):
    print(text, file=sys.stderr, flush=True)


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "–"


def summary(r):
    """One line per target of the issues, computed from the same results."""
    py = [x for x in r["rows"] if x["task"] == "pytask"]
    slowest = min(x["small"]["fw_per_s"] for x in py)
    vs_fw = [x["small"]["fw_per_s"] / x["fireworks"]["fw_per_s"] for x in py if x.get("fireworks")]
    flat = [x["big"]["fw_per_s"] / x["small"]["fw_per_s"] for x in py if x.get("big")]
    lines = [
        f"- At least 1,000 no-op fireworks/s on the embedded store in one process: slowest "
        f"PyTask shape {slowest:,.0f} fw/s."
    ]
    if vs_fw:
        lines.append(
            f"- At least 50x FireWorks on a {r['small']:,}-firework workflow: "
            f"{min(vs_fw):.0f}x to {max(vs_fw):.0f}x (PyTask shapes)."
        )
    if flat:
        lines.append(
            f"- Cost per firework flat from {r['small']:,} to {r['big']:,}: throughput at "
            f"{r['big']:,} is {min(flat):.2f}x to {max(flat):.2f}x that at {r['small']:,}."
        )
    lines.append(
        "- The gap to the raw floor is the work a real launch does that the floor does "
        "not: creating the launch directory (about 0.1–0.2 ms here), building the task "
        "and its spec, recording the launch, and ~10 SQL statements instead of 4."
    )
    return lines


def render(r, command):
    small, big = r["small"], r["big"]
    out = [
        "# Benchmarks",
        "",
        f"Produced by `{command}` on {time.strftime('%Y-%m-%d')} ({r['machine']}); "
        f"medians of {r['reps']} runs for N={small:,}, one run for N={big:,} and for FireWorks. "
        "Every number below comes from that one session, so the ratios compare like with like on "
        "a shared, noisy machine. Raw data: `bench/results/`.",
        "",
        "No-op fireworks, one rocket process (`rapidfire` from the Python API, launch directories "
        "created as in real use). *Raw floor*: the same claim + complete as two bare SQLite "
        "transactions (`bench/raw_floor.py`). *FireWorks*: 2.1.x from PyPI on its "
        "mongomock-persistence store, in its own virtualenv (`bench/fireworks_side.py`).",
        "",
        "## Against the targets",
        "",
        *summary(r),
        "",
        "## Throughput",
        "",
        f"| task | shape | starshell fw/s (N={small:,}) | FireWorks fw/s (N={small:,}) | x FireWorks "
        f"| starshell fw/s (N={big:,}) | raw floor fw/s | starshell / floor | add {big:,} (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        ours_small = row["small"]["fw_per_s"]
        fw = row.get("fireworks", {}).get("fw_per_s")
        big_row = row.get("big", {})
        floor = r["raw"].get(f"{'chain' if row['shape'] == 'chain' else 'flat'}-{small}", {}).get("fw_per_s")
        out.append(
            f"| {row['task']} | {row['shape']} | {ours_small:,.0f} | {fw if fw else '–'} | "
            f"{ratio(ours_small, fw)} | {big_row.get('fw_per_s', '–')} | {floor:,.0f} | "
            f"{ratio(ours_small, floor)} | {big_row.get('add_s', '–')} |"
        )
    flat = next(x for x in r["rows"] if x["shape"] == "flat" and x["task"] == "pytask")
    chain = next(x for x in r["rows"] if x["shape"] == "chain" and x["task"] == "pytask")
    out += [
        "",
        "## Store operations per launch",
        "",
        "Each is a round trip on a real server; counted where they leave the process.",
        "",
        "| system | flat | chain |",
        "|---|---|---|",
        f"| starshell, SQLite (SQL statements incl. BEGIN/COMMIT) | "
        f"{flat['small']['store_ops_per_launch']} | {chain['small']['store_ops_per_launch']} |",
        f"| starshell, MongoDB (collection calls, on mongomock) | – | "
        f"{r['mongo_ops']['store_ops_per_launch']} |",
    ]
    if "fireworks" in flat:
        out.append(
            f"| FireWorks, MongoDB (collection calls, on mongomock) | "
            f"{flat['fireworks']['store_ops_per_launch']} | "
            f"{chain['fireworks']['store_ops_per_launch']} |"
        )
    out += [
        "",
        "## Cost does not grow with the workflow",
        "",
        "`bench/launchpad_ops.py`: one chain workflow of N fireworks on SQLite.",
        "",
        "| N | add (s) | add per firework (µs) | claim + complete, median (µs) |",
        "|---|---|---|---|",
    ]
    for o in r["ops"]:
        out.append(f"| {o['n']:,} | {o['add_s']} | {o['add_us_per_fw']} | {o['claim_complete_us_median']} |")
    first, last = r["ops"][0], r["ops"][-1]
    out += [
        "",
        f"Claim + complete in a {last['n']:,}-firework workflow costs "
        f"{ratio(last['claim_complete_us_median'], first['claim_complete_us_median'])}x what it "
        f"costs in a {first['n']:,}-firework one.",
        "",
        "## Memory",
        "",
        "Peak resident memory of one `rlaunch rapidfire` process draining a flat workflow: "
        + ", ".join(f"{v} MB for N={int(k):,}" for k, v in r["rocket_rss_mb"].items())
        + ".",
        "",
    ]
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument("--fireworks-timeout", type=float, default=600)
    parser.add_argument("--output", default=os.path.join(ROOT, "BENCHMARKS.md"))
    parser.add_argument(
        "--render", metavar="RESULTS_JSON", help="only rewrite the report from saved results (no measuring)"
    )
    args = parser.parse_args(argv)
    if args.render:
        with open(args.render) as fh:
            results = json.load(fh)
        with open(args.output, "w") as fh:
            command = "python bench/run_all.py" + (" --quick" if results["reps"] == 1 else "")
            fh.write(render(results, command))
        return
    if not os.path.exists(FW_PYTHON):
        subprocess.run(["bash", os.path.join(BENCH, "setup_fireworks.sh")], check=False)
    results = collect(args)
    os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(BENCH, "results", f"{stamp}.json"), "w") as fh:
        json.dump(results, fh, indent=1)
    command = "python bench/run_all.py" + (" --quick" if args.quick else "")
    with open(args.output, "w") as fh:
        fh.write(render(results, command))
    log(f"wrote {args.output}")


if __name__ == "__main__":
    main()
