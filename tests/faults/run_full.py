"""Run the reliability suite by hand and print its figures (the table in RELIABILITY.md).

    python tests/faults/run_full.py            # full sizes (tens of minutes)
    python tests/faults/run_full.py --ci       # the sizes CI runs
    python tests/faults/run_full.py --write    # also put the table into RELIABILITY.md

It runs the fault suite (tests/faults), the fuzz tests, the checker and the
security tests with ``STARSHELL_FAULTS=full`` (unless --ci), collects the
figures each test appends, and prints them as Markdown.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SUITE = ["tests/faults", "tests/test_fuzz_inputs.py", "tests/test_checker.py", "tests/test_security.py"]
START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def run(ci, extra):
    figures = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
    env = dict(os.environ, STARSHELL_FAULTS_FIGURES=figures)
    if ci:
        env.pop("STARSHELL_FAULTS", None)
    else:
        env["STARSHELL_FAULTS"] = "full"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=15", *SUITE, *extra],
        cwd=ROOT,
        env=env,
    )
    seconds = time.monotonic() - started
    with open(figures, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    os.unlink(figures)
    return done.returncode, seconds, rows


def table(rows, seconds, ci, code=0):
    """The figures as Markdown: one line per fault family, then the fuzzing."""
    by = {r["test"]: r for r in rows}
    size = "CI" if ci else "full"
    out = [
        f"Sizes: **{size}**; the whole suite took {seconds / 60:.1f} min on {os.cpu_count()} cores.",
        "",
        "| fault | injected | fireworks | runs | re-runs of killed launches | "
        "unintended duplicates | lost | time |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]

    def line(key, label, injected):
        r = by.get(key)
        if r is None:
            return
        out.append(
            f"| {label} | {injected(r)} | {r.get('fireworks', '')} | {r.get('runs', '')} | "
            f"{r.get('reruns_of_killed_launches', r.get('duplicates', 0))} | "
            f"{r.get('unexplained_duplicates', 0)} | {r.get('lost', 0)} | "
            f"{_secs(r.get('seconds'))} |"
        )

    line(
        "kill_9_rockets",
        "kill -9 of rockets (4 running)",
        lambda r: f"{r['kills']} kills, {r['lost_runs_detected']} lost runs detected",
    )
    line(
        "sigterm_storm",
        "SIGTERM at random moments",
        lambda r: f"{r['signals']} signals, {r['interrupted_launches']} launches handed back",
    )
    line(
        "sqlite_locked",
        "SQLite locked by another process",
        lambda r: f"lock held {r['lock_seconds']} s, waited {r['waited_seconds']} s",
    )
    line(
        "mongo_injected_errors",
        "MongoDB errors injected (3 rocket threads)",
        lambda r: f"{r['injected_errors']} errors ({r['lost_replies']} lost replies)",
    )
    line(
        "late_rocket_process",
        "frozen rocket declared lost, then resumed",
        lambda r: f"{r['late_results_refused']} late result refused",
    )
    add = by.get("kill_9_add_100k")
    if add:
        out += [
            "",
            f"kill -9 while adding a {add['fireworks_per_add']:,}-firework workflow "
            f"(insert {add['insert_seconds']} s): {add['kills']} kills, "
            f"{add['none_added']} left nothing, {add['all_added']} left all of it, "
            f"{add['partial']} partial.",
        ]
    fuzz = by.get("fuzz")
    if fuzz:
        cases = ", ".join(f"{k} {v:,}" for k, v in sorted(fuzz["cases"].items()))
        outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(fuzz.get("outcomes", {}).items()))
        verdict = (
            "every one ended in success or the project's own error"
            if code == 0
            else "SOME TESTS FAILED: see the pytest report"
        )
        out += [
            "",
            f"Fuzzing: {fuzz['total_cases']:,} generated inputs ({cases}); {verdict}. Outcomes: {outcomes}.",
        ]
    return "\n".join(out)


def _secs(value):
    return f"{value:.0f} s" if isinstance(value, (int, float)) else ""


def write(text):
    path = os.path.join(ROOT, "RELIABILITY.md")
    with open(path, encoding="utf-8") as fh:
        doc = fh.read()
    head, _, rest = doc.partition(START)
    _, _, tail = rest.partition(END)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"{head}{START}\n{text}\n{END}{tail}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ci", action="store_true", help="the CI sizes instead of the full ones")
    parser.add_argument("--write", action="store_true", help="update the table in RELIABILITY.md")
    args, extra = parser.parse_known_args(argv)
    code, seconds, rows = run(args.ci, extra)
    text = table(rows, seconds, args.ci, code)
    print("\n" + text)
    if args.write and code == 0:
        write(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
