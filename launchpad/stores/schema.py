"""The SQLite schema, its version, and the hook that migrates older files.

Bump ``SCHEMA_VERSION`` and add a step to ``MIGRATIONS`` whenever a table
changes, so stores written by an older starshell open without data loss.
"""

import sqlite3

SCHEMA_VERSION = 5

# Column fields per table: {column: kind}. Everything else lives in ``doc``.
TABLES = {
    "fireworks": {
        "fw_id": "int",
        "wf_id": "int",
        "name": "text",
        "state": "text",
        "priority": "num",
        "category": "text",
        "fworker": "text",
        "waiting_on": "int",
        "current_launch": "int",
        "not_before": "text",
        "created_on": "text",
        "updated_on": "text",
    },
    "workflows": {"wf_id": "int", "name": "text", "created_on": "text", "updated_on": "text"},
    "launches": {
        "launch_id": "int",
        "fw_id": "int",
        "state": "text",
        "last_ping": "text",
        "reservation_id": "text",
        "host": "text",
        "launch_dir": "text",
        "time_start": "text",
        "time_end": "text",
    },
}

_DDL = """
CREATE TABLE counters (name TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE workflows (
    wf_id INTEGER PRIMARY KEY, name TEXT, created_on TEXT, updated_on TEXT,
    doc TEXT NOT NULL);
CREATE TABLE fireworks (
    fw_id INTEGER PRIMARY KEY, wf_id INTEGER NOT NULL, name TEXT, state TEXT NOT NULL,
    priority NUMERIC NOT NULL DEFAULT 0, category TEXT, fworker TEXT,
    waiting_on INTEGER NOT NULL DEFAULT 0, current_launch INTEGER, not_before TEXT,
    created_on TEXT, updated_on TEXT, doc TEXT NOT NULL);
CREATE INDEX fireworks_claim ON fireworks (state, priority DESC, fw_id);
CREATE INDEX fireworks_wf ON fireworks (wf_id, state);
CREATE INDEX fireworks_updated ON fireworks (updated_on);
CREATE INDEX fireworks_name_wf ON fireworks (name, wf_id);
CREATE TABLE links (
    parent INTEGER NOT NULL, child INTEGER NOT NULL, PRIMARY KEY (parent, child));
CREATE INDEX links_child ON links (child);
CREATE TABLE launches (
    launch_id INTEGER PRIMARY KEY, fw_id INTEGER NOT NULL, state TEXT, last_ping TEXT,
    reservation_id TEXT, host TEXT, launch_dir TEXT, time_start TEXT, time_end TEXT,
    doc TEXT NOT NULL);
CREATE INDEX launches_fw ON launches (fw_id);
CREATE INDEX launches_state ON launches (state, last_ping);
CREATE INDEX launches_reservation ON launches (reservation_id);
CREATE INDEX launches_ended ON launches (state, time_end, fw_id, time_start);
CREATE INDEX workflows_name ON workflows (name);
CREATE TABLE names (name_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, ascii INTEGER NOT NULL);
CREATE INDEX names_non_ascii ON names (name_id) WHERE ascii = 0;
"""

NAMES_FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS names_fts USING fts5(name, content='names', "
    "content_rowid='name_id', tokenize='trigram')"
)

# The distinct names of fireworks and workflows, for the name search's index
# (launchpad/stores/sqlite_names.py). New documents' names are copied in bulk
# when the index is refreshed (a trigger on insert cost add_wf 13-28%); only a
# rename, which is rare, adds its name at once. Names of deleted or renamed
# documents stay until ``lpad admin tuneup --full`` (they only widen the candidates).
_NAME_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS {table}_rename AFTER UPDATE OF name ON {table} "
    "WHEN typeof(new.name) = 'text' BEGIN INSERT OR IGNORE INTO names (name, ascii) "
    "VALUES (new.name, length(new.name) = length(CAST(new.name AS BLOB))); END"
    for table in ("fireworks", "workflows")
]


def _links_to_edge_table(conn):
    """1 -> 2: parents/children move from each firework's JSON into the links table.

    Version 1 files exist in both layouts (the table came without a version
    bump), so every step is idempotent: it creates what is missing, copies
    the links a document still holds, then drops them from the document.
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS links (parent INTEGER NOT NULL, "
        "child INTEGER NOT NULL, PRIMARY KEY (parent, child))"
    )
    conn.execute("CREATE INDEX IF NOT EXISTS links_child ON links (child)")
    conn.execute(
        "INSERT OR IGNORE INTO links (parent, child) SELECT f.fw_id, j.value "
        "FROM fireworks f, json_each(f.doc, '$.children') j ORDER BY f.fw_id, j.key"
    )
    conn.execute(
        "INSERT OR IGNORE INTO links (parent, child) SELECT j.value, f.fw_id "
        "FROM fireworks f, json_each(f.doc, '$.parents') j ORDER BY f.fw_id, j.key"
    )
    conn.execute(
        "UPDATE fireworks SET doc = json_remove(doc, '$.parents', '$.children') "
        "WHERE json_type(doc, '$.parents') IS NOT NULL "
        "OR json_type(doc, '$.children') IS NOT NULL"
    )


def _names_table(conn):
    """2 -> 3: the table of distinct names (and its triggers) behind the name search's
    index; the covering (name, wf_id) index replaces the one on name alone. The names
    are copied when the index is first refreshed (a search or ``lpad admin tuneup``)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS names (name_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
        "ascii INTEGER NOT NULL)"
    )
    conn.execute("DROP INDEX IF EXISTS fireworks_name")
    ensure_indexes(conn)
    for trigger in _NAME_TRIGGERS:
        conn.execute(trigger)


def _unset_priority_lowest(conn):
    """3 -> 4: a firework without ``_priority`` sorts below every number (FireWorks'
    claim order), not as 0; the column keeps the NOT NULL rule (-inf is the key)."""
    conn.execute(
        "UPDATE fireworks SET priority = ? WHERE json_type(doc, '$.spec._priority') IS NULL "
        "OR json_type(doc, '$.spec._priority') = 'null'",
        (float("-inf"),),
    )


def _ended_index(conn):
    """4 -> 5: the newest finished launches (the web GUI's runtimes by task) read from
    an index of (state, time_end) that also holds the columns they show, not from each
    finished launch's row and JSON."""
    ensure_indexes(conn)


# {from_version: function(conn)} each moving the file one version up.
MIGRATIONS = {1: _links_to_edge_table, 2: _names_table, 3: _unset_priority_lowest, 4: _ended_index}


def ensure_indexes(conn):
    """Create any index of the schema that is missing (``lpad admin tuneup``)."""
    for statement in _DDL.split(";"):
        if statement.strip().startswith("CREATE INDEX"):
            conn.execute(statement.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
    try:
        conn.execute(NAMES_FTS_DDL)
    except sqlite3.OperationalError:  # no FTS5 in this SQLite: name searches stay scans
        pass


def create_schema(conn):
    for statement in _DDL.split(";"):
        if statement.strip():
            conn.execute(statement)
    for trigger in _NAME_TRIGGERS:
        conn.execute(trigger)
    ensure_indexes(conn)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def migrate(conn, version):
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](conn)
        version += 1
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
