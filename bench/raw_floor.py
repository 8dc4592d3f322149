"""The raw SQLite floor: the least store work one firework needs, in one process.

Each firework costs one claim transaction (an atomic UPDATE ... RETURNING of the
best READY row) and one complete transaction, on a WAL database with
synchronous=NORMAL. No workflow manager can beat this on the same store, so
our numbers are reported as a ratio to it, measured in the same run.
Shapes: flat (all READY) and chain (completing a row readies the next one).
Stdlib only; prints one JSON line on stdout.
"""

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time

SCHEMA = """
CREATE TABLE fireworks (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    doc TEXT NOT NULL
);
-- priority DESC makes "ORDER BY priority DESC, id" a plain index scan (rowid
-- rides along ascending); with ASC, SQLite sorts every READY row per claim.
CREATE INDEX fireworks_state_priority ON fireworks (state, priority DESC);
"""
CLAIM = """
UPDATE fireworks SET state = 'RUNNING'
WHERE id = (SELECT id FROM fireworks WHERE state = 'READY'
            ORDER BY priority DESC, id LIMIT 1)
RETURNING id, doc
"""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, required=True, help="number of fireworks")
    parser.add_argument("--shape", choices=("flat", "chain"), default="flat")
    parser.add_argument(
        "--db", help="database path, replaced if it exists (default: a temporary file, removed afterwards)"
    )
    return parser.parse_args(argv)


def connect(path):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    conn = sqlite3.connect(path, isolation_level=None)  # we issue BEGIN/COMMIT
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(SCHEMA)
    return conn


def add(conn, n, shape):
    def row(i):
        state = "READY" if shape == "flat" or i == 1 else "WAITING"
        doc = {
            "fw_id": i,
            "name": f"fw{i}",
            "spec": {"_tasks": [{"_fw_name": "PyTask", "func": "math.floor", "args": [1]}]},
        }
        return i, state, json.dumps(doc)

    with conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO fireworks (id, state, doc) VALUES (?, ?, ?)", (row(i) for i in range(1, n + 1))
        )


def run(conn, shape):
    """Claim and complete until nothing is READY; returns how many completed."""
    completed = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        claimed = conn.execute(CLAIM).fetchall()
        conn.execute("COMMIT")
        if not claimed:
            return completed
        fw_id, doc = claimed[0]
        json.loads(doc)  # a real rocket reads its tasks
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE fireworks SET state = 'COMPLETED' WHERE id = ?", (fw_id,))
        if shape == "chain":
            conn.execute(
                "UPDATE fireworks SET state = 'READY' WHERE id = ? AND state = 'WAITING'", (fw_id + 1,)
            )
        conn.execute("COMMIT")
        completed += 1


def measure(path, n, shape):
    conn = connect(path)
    try:
        start = time.perf_counter()
        add(conn, n, shape)
        add_s = time.perf_counter() - start
        start = time.perf_counter()
        completed = run(conn, shape)
        run_s = time.perf_counter() - start
    finally:
        conn.close()
    return {
        "system": "raw-sqlite",
        "shape": shape,
        "n": n,
        "add_s": round(add_s, 4),
        "run_s": round(run_s, 4),
        "fw_per_s": round(completed / run_s, 1),
        "completed": completed,
    }


def main(argv=None):
    args = parse_args(argv)
    if args.db:
        result = measure(args.db, args.n, args.shape)
    else:
        with tempfile.TemporaryDirectory(prefix="raw-floor-") as tmp:
            result = measure(os.path.join(tmp, "floor.sqlite"), args.n, args.shape)
    print(json.dumps(result), flush=True)
    return 0 if result["completed"] == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
