"""Nested fields of a read (``spec._tasks``) taken out of the JSON by SQLite, so a
projection decodes only the parts it asked for, not every document whole.

The web GUI's runtimes by task read 1,000 fireworks' task lists: decoding each
whole document and projecting it cost 12-20 ms at 100,000 fireworks (issue 13).
A row whose path does not reach a value through objects alone (a missing field,
a list on the way, which MongoDB's projection reaches into) is read whole and
projected in Python as before, so both ways give the same documents.
"""

import json
import sqlite3

from ..query import project
from .sqlite_filters import in_clause

# SQLite's ``->`` (3.38) returns the selected part as JSON text, numbers as written.
AVAILABLE = sqlite3.sqlite_version_info >= (3, 38, 0)


def not_json(exc):
    """SQLite's JSON functions refused a document Python wrote (a NaN in it): the read
    that used them is made again in Python."""
    return "malformed JSON" in str(exc)


def json_paths(fields, columns, link_fields):
    """The dotted fields SQLite can extract when every other field is a column, else None."""
    if not AVAILABLE or fields is None:
        return None
    paths = [f for f in fields if f not in columns]
    for field in paths:
        parts = field.split(".")
        if len(parts) < 2 or not all(parts) or parts[0] in columns or parts[0] in link_fields:
            return None
        if '"' in field or any(other.startswith(field + ".") for other in paths):
            return None
    return paths or None


def select_paths(columns, paths):
    """The select list (the columns asked for, each path's JSON text, and the whole
    document only for a row where some path reaches nothing through objects) and its
    parameters."""
    selectors = ["$." + ".".join(f'"{part}"' for part in p.split(".")) for p in paths]
    missing = " OR ".join("json_type(doc, ?) IS NULL" for _ in selectors)
    sql = ", ".join([*columns, *("doc -> ?" for _ in selectors), f"CASE WHEN {missing} THEN doc END"])
    return sql, selectors + selectors


def projected(rows, columns, paths, fields):
    """Each row as ``project`` gives it from the whole document, in the order of ``fields``."""
    width = len(columns)
    steps = {path: path.split(".") for path in paths}
    docs = []
    for row in rows:
        if row[-1] is not None:
            doc = dict(zip(columns, row))
            doc.update(json.loads(row[-1]))
            docs.append(project(doc, fields))
            continue
        values = dict(zip(columns, row))
        values.update(zip(paths, map(json.loads, row[width:-1])))
        doc = {}
        for field in fields:
            if field in steps:
                *parents, last = steps[field]
                inner = doc
                for part in parents:
                    inner = inner.setdefault(part, {})
                inner[last] = values[field]
            elif field not in doc:
                doc[field] = values[field]
        docs.append(doc)
    return docs


def task_names(conn, fw_ids):
    """``Store.task_names`` read by SQLite: only each task's ``_fw_name`` leaves the
    database (the runtimes by task of the web GUI and ``lpad report`` read 1,000 fireworks'
    names in ~5 ms, against ~15 ms decoding their task lists)."""
    params = []
    ids = in_clause("f.fw_id", sorted(set(fw_ids)), params)
    rows = conn.execute(
        "SELECT f.fw_id, t.type, json_extract(t.value, '$._fw_name') FROM fireworks f "
        "LEFT JOIN json_each(f.doc, '$.spec._tasks') t ON json_type(f.doc, '$.spec._tasks') = 'array' "
        f"WHERE {ids} ORDER BY f.fw_id, t.key",
        params,
    ).fetchall()
    names = {}
    for fw_id, kind, name in rows:
        found = names.setdefault(fw_id, [])
        if kind == "object":
            found.append("?" if name is None else str(name))
    return names
