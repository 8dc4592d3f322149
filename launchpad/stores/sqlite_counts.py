"""The states present in each workflow, found by seeking through an index, not counting.

A workflow's state depends only on which states its fireworks are in
(launchpad/states.py's ``workflow_state``), not on how many are in each. The
``(wf_id, state)`` index holds each (workflow, state) pair once per firework; a
loose index scan jumps from one distinct pair to the next with a few B-tree
seeks, so the dashboard's workflows by state cost about (workflows x states)
seeks instead of a read of every firework's index entry (200,000 fireworks in
200 workflows: 5 ms instead of 35 ms of CPU).
"""

_NEXT_STATE = "(SELECT MIN(state) FROM fireworks WHERE wf_id = p.wf_id AND state > p.state)"
_NEXT_WF = "(SELECT MIN(wf_id) FROM fireworks WHERE wf_id > p.wf_id)"
LOOSE_SCAN = f"""
WITH RECURSIVE pairs(wf_id, state) AS (
    SELECT wf_id, MIN(state) FROM fireworks WHERE wf_id = (SELECT MIN(wf_id) FROM fireworks)
    UNION ALL
    SELECT CASE WHEN {_NEXT_STATE} IS NULL THEN {_NEXT_WF} ELSE p.wf_id END,
           COALESCE({_NEXT_STATE}, (SELECT MIN(state) FROM fireworks WHERE wf_id = {_NEXT_WF}))
    FROM pairs p WHERE p.wf_id IS NOT NULL
)
SELECT wf_id, state FROM pairs WHERE wf_id IS NOT NULL
"""
PLAIN_SCAN = "SELECT DISTINCT wf_id, state FROM fireworks"
# Below this many fireworks per workflow (about), a pair is nearly a firework and the
# seeks cost more than reading the index through once.
SEEKS_PAY_OFF = 8


def workflow_states(conn):
    """``{wf_id: {state, ...}}`` for every workflow that has fireworks."""
    workflows = conn.execute("SELECT COUNT(*) FROM workflows").fetchone()[0]
    highest = conn.execute("SELECT MAX(fw_id) FROM fireworks").fetchone()[0] or 0
    sql = LOOSE_SCAN if highest > SEEKS_PAY_OFF * workflows else PLAIN_SCAN
    out: dict[int, set[str]] = {}
    for wf_id, state in conn.execute(sql):
        out.setdefault(wf_id, set()).add(state)
    return out
