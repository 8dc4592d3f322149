"""A rocket's hot path on SQLite: the claim that opens a launch, and the completion
that releases the children, each in as few statements as the guarantees allow.

A no-op firework is all store work, so every statement shows in throughput
(issue 14). The claim takes its launch id inside its own UPDATE (one past the
larger of the launch counter and the newest launch, under the write lock), so
no counter statement is needed; ``next_ids("launch")`` and deletions keep the
counter at least as high, so an id is never handed out twice. A completion
whose FWAction changes nothing else sets the firework's state and releases its
children in one UPDATE: SQLite evaluates an UPDATE's WHERE clause, with its
subqueries on the same table, before it changes any row, so the children are
released only if the parent's live launch was still the one finishing.
"""

import json

from ..query import matches
from ..states import State

CLAIM_ORDER = "ORDER BY priority DESC, fw_id ASC"

# One past every launch id handed out: by the counter or by an earlier claim.
NEXT_LAUNCH_ID = (
    "(SELECT MAX(COALESCE((SELECT last FROM counters WHERE name = 'launch'), 0), "
    "COALESCE((SELECT MAX(launch_id) FROM launches), 0)) + 1)"
)
# The claimed firework's children, in the order they were linked.
CHILDREN = (
    "(SELECT json_group_array(child) FROM "
    "(SELECT child FROM links WHERE parent = fireworks.fw_id ORDER BY rowid))"
)
PIN_LAUNCH_COUNTER = (
    "INSERT INTO counters (name, last) VALUES ('launch', (SELECT COALESCE(MAX(launch_id), 0) FROM launches)) "
    "ON CONFLICT(name) DO UPDATE SET last = MAX(last, excluded.last)"
)


def next_launch_ids(conn, count):
    """The first of ``count`` new launch ids, counted past launches claims opened."""
    row = conn.execute(
        "UPDATE counters SET last = MAX(last, (SELECT COALESCE(MAX(launch_id), 0) FROM launches)) + ? "
        "WHERE name = 'launch' RETURNING last",
        (count,),
    ).fetchone()
    if row is None:
        row = conn.execute(
            "INSERT INTO counters (name, last) VALUES ('launch', "
            "(SELECT COALESCE(MAX(launch_id), 0) FROM launches) + ?) RETURNING last",
            (count,),
        ).fetchone()
    return row[0] - count + 1


def pin_launch_counter(conn):
    """Before launches are deleted: the counter remembers the newest id, never reused."""
    conn.execute(PIN_LAUNCH_COUNTER)


def first_match(store, conn, worker, claimable):
    """The best claimable firework's id when the worker's query has parts only Python
    can match (``claimable``: the SQL part, a WHERE clause and its parameters)."""
    where, params = claimable
    cursor = conn.execute(f"{store.fireworks.select} WHERE {where} {CLAIM_ORDER}", params)
    found = next((row[0] for row in cursor if matches(worker.query, store.fireworks.to_doc(row))), None)
    cursor.close()
    return found


def open_launch(store, conn, worker, changes, launch, claimable):
    """Claim one firework (``claimable``: its WHERE clause and parameters) under a new
    launch id and insert ``launch`` for it: two statements. Returns ``(fw, launch_id)``
    with the firework's ``children``, or ``(None, None)``."""
    table = store.fireworks
    sets = ", ".join([f"{c} = ?" for c in changes] + [f"current_launch = {NEXT_LAUNCH_ID}"])
    returning = f" RETURNING {', '.join(table.column_names)}, doc, {CHILDREN}"
    where, params = claimable
    if not worker.query:
        target = f"(SELECT fw_id FROM fireworks WHERE {where} {CLAIM_ORDER} LIMIT 1)"
    else:
        fw_id = first_match(store, conn, worker, claimable)
        if fw_id is None:
            return None, None
        target, params = "?", [fw_id]
    row = conn.execute(
        f"UPDATE fireworks SET {sets} WHERE fw_id = {target}{returning}", list(changes.values()) + params
    ).fetchone()
    if row is None:
        return None, None
    fw = table.to_doc(row[:-1])
    fw["children"] = json.loads(row[-1])
    launch_id = fw["current_launch"]
    store.launches.insert([{**launch, "launch_id": launch_id, "fw_id": fw["fw_id"]}])
    return fw, launch_id


def finish_firework(conn, fw_id, launch_id, state, updated_on):
    """Set a RUNNING firework's final ``state`` if ``launch_id`` is still its live launch
    and, when it COMPLETED, release its children (as ``release_children``) in the same
    statement. Returns whether the firework changed."""
    params = {"fw": fw_id, "launch": launch_id, "state": state, "now": updated_on}
    if state != State.COMPLETED.value:
        rows = conn.execute(
            "UPDATE fireworks SET state = :state, updated_on = :now "
            "WHERE fw_id = :fw AND state = 'RUNNING' AND current_launch = :launch RETURNING fw_id",
            params,
        ).fetchall()
        return bool(rows)
    readied = "fw_id <> :fw AND state = 'WAITING' AND waiting_on <= 1"
    rows = conn.execute(
        "UPDATE fireworks SET "
        f"state = CASE WHEN fw_id = :fw THEN :state WHEN {readied} THEN 'READY' ELSE state END, "
        f"updated_on = CASE WHEN fw_id = :fw OR ({readied}) THEN :now ELSE updated_on END, "
        "waiting_on = CASE WHEN fw_id = :fw THEN waiting_on ELSE MAX(waiting_on - 1, 0) END "
        "WHERE (fw_id = :fw AND state = 'RUNNING' AND current_launch = :launch) "
        "OR (fw_id IN (SELECT child FROM links WHERE parent = :fw) AND fw_id <> :fw "
        "AND (waiting_on > 0 OR state = 'WAITING') "
        "AND EXISTS (SELECT 1 FROM fireworks AS parent WHERE parent.fw_id = :fw "
        "AND parent.state = 'RUNNING' AND parent.current_launch = :launch)) RETURNING fw_id",
        params,
    ).fetchall()
    return any(r[0] == fw_id for r in rows)


def release_children(conn, ids, updated_on, in_clause):
    """One statement: decrement ``waiting_on``; WAITING fireworks that reach zero become READY."""
    params = []
    inner = in_clause("fw_id", ids, params)
    readied = "state = 'WAITING' AND waiting_on <= 1"
    rows = conn.execute(
        f"UPDATE fireworks SET state = CASE WHEN {readied} THEN 'READY' ELSE state END, "
        f"updated_on = CASE WHEN {readied} THEN ? ELSE updated_on END, "
        "waiting_on = MAX(waiting_on - 1, 0) "
        f"WHERE {inner} AND (waiting_on > 0 OR state = 'WAITING') RETURNING fw_id, state, updated_on",
        [updated_on] + params,
    ).fetchall()
    return [fw_id for fw_id, state, when in rows if state == State.READY.value and when == updated_on]
