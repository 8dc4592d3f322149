"""The embedded default store: one SQLite file in WAL mode.

Hot fields (state, priority, ids, pings) are real columns with indexes, so
claims and completions are single indexed statements; everything else of a
document is JSON in a ``doc`` column. Users' Mongo-style queries are split:
the parts on columns become SQL, the rest is evaluated with mongomock's
filter engine on the assembled documents (``launchpad.query``).

Every write runs in ``BEGIN IMMEDIATE`` so concurrent processes serialize on
SQLite's lock instead of failing half-way; a lock held too long is retried
with backoff and then reported as StoreUnavailableError.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import sqlite3
import threading
import time
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence, Tuple

from ..errors import ConfigError, InvalidWorkflowError, StoreUnavailableError
from ..query import QUERY_SECONDS, matches, project, resolved, select, sort_docs
from ..states import State
from . import sqlite_counts, sqlite_names, sqlite_paths
from .base import Doc, Fields, Query, Sort, Store, WorkerFilter, index_fields
from .schema import SCHEMA_VERSION, TABLES, create_schema, ensure_indexes, migrate
from .sqlite_filters import Subqueries, compile_filter, in_clause, sql_regex, vetted
from .sqlite_launches import (
    finish_firework,
    first_match,
    next_launch_ids,
    open_launch,
    pin_launch_counter,
    release_children,
)
from .sqlite_names import NameIndex

log = logging.getLogger(__name__)


def _dumps(value):
    try:
        return _ENCODER.encode(value)
    except RecursionError:
        raise InvalidWorkflowError(
            "cannot store a value nested hundreds of levels deep; flatten it"
        ) from None
    except ValueError as exc:  # a value that contains itself
        raise InvalidWorkflowError(f"cannot store this value: {exc}") from None


def _strict_json(value):
    """Whether SQLite's own JSON functions accept ``value`` (they refuse NaN and Infinity)."""
    try:
        json.dumps(value, allow_nan=False, default=str)
        return True
    except (ValueError, RecursionError):
        return False


def _json_default(value):
    """Dates from the Python API are stored as ISO text; anything else is refused clearly."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    raise InvalidWorkflowError(
        f"cannot store a {type(value).__name__} ({value!r:.60}): specs and results must hold "
        "JSON-like data (numbers, text, lists, mappings)"
    )


# One encoder for every write: json.dumps builds a new one per call (a bulk insert's cost).
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_json_default)


class _Table:
    """One document kind: column fields plus a JSON remainder."""

    def __init__(self, store, name, key, columns):
        self.store, self.name, self.key = store, name, key
        self.columns = columns  # {column: "int" | "num" | "text"}
        self.column_names = tuple(columns)
        self.select = f"SELECT {', '.join(self.column_names)}, doc FROM {name}"
        self.not_in_doc = frozenset(self.column_names + self.link_fields)

    link_fields: tuple[str, ...] = ()
    names = None  # the NameIndex, on tables whose names it holds

    def to_row(self, doc):
        skip = self.not_in_doc
        rest = {k: v for k, v in doc.items() if k not in skip}
        return [*map(doc.get, self.column_names), _dumps(rest)]

    def to_doc(self, row):
        doc = dict(zip(self.column_names, row))
        doc.update(json.loads(row[-1]))
        return doc

    def insert(self, docs):
        cols = self.column_names + ("doc",)
        sql = f"INSERT INTO {self.name} ({', '.join(cols)}) VALUES ({','.join('?' * len(cols))})"
        with self.store.transaction() as conn:
            conn.executemany(sql, (self.to_row(d) for d in docs))
            if self.names is not None and docs:
                sqlite_names.moved_back(conn, self.name, min(d[self.key] for d in docs))

    def find(self, query=None, fields=None, sort=None, limit=0, skip=0, json_paths=True):
        started = time.monotonic()
        subqueries = Subqueries(self.store.fireworks, self.name, paged=bool(limit))
        clauses, params, residual = compile_filter(vetted(query), self.columns, self.names, subqueries)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sort = list(sort or [(self.key, 1)])
        sql_sort = all(f in self.columns for f, _ in sort)
        # Columns and links only (``children`` for a walk down a workflow): no JSON to decode.
        linked = tuple(f for f in fields or () if f in self.link_fields)
        plain = [f for f in fields or () if f not in linked]
        fast = fields is not None and not residual and sql_sort and all(f in self.columns for f in plain)
        selected = plain + [self.key] if linked and self.key not in plain else plain
        sql = (f"SELECT {', '.join(selected)} FROM {self.name}" if fast and selected else self.select) + where
        # Nested fields only (a firework's task list): SQLite extracts them, no whole document is decoded.
        simple = json_paths and not (fast or residual or linked or not sql_sort)
        paths = sqlite_paths.json_paths(fields, self.columns, self.link_fields) if simple else None
        columns = [f for f in fields if f in self.columns] if paths else []
        head, head_params = sqlite_paths.select_paths(columns, paths) if paths else (None, [])
        if paths:
            sql = f"SELECT {head} FROM {self.name}{where}"
        if sql_sort:
            sql += " ORDER BY " + ", ".join(f"{f} {'DESC' if d < 0 else 'ASC'}" for f, d in sort)
            if not residual and limit:
                sql += f" LIMIT {int(limit)} OFFSET {int(skip)}"
            elif not residual and skip:
                sql += f" LIMIT -1 OFFSET {int(skip)}"
        conn = self.store.conn()
        try:
            rows = self.store.retrying(lambda: conn.execute(sql, head_params + params).fetchall())
        except StoreUnavailableError as exc:
            if not paths or not sqlite_paths.not_json(exc):
                raise
            return self.find(query, fields, sort, limit, skip, json_paths=False)
        if paths:
            return sqlite_paths.projected(rows, columns, paths, fields)
        if fast and not linked:
            return [dict(zip(fields, row)) for row in rows]
        if fast:
            docs = [dict(zip(selected, row)) for row in rows]
            self.attach_links(docs, linked)
            return [{f: d[f] for f in fields} for d in docs]
        docs = [self.to_doc(r) for r in rows]
        if self.link_fields:
            self.attach_links(docs, _wanted_links(fields, residual))
        if residual:
            residual = resolved(residual, self.store.wf_ids_of)
            docs = select(residual, docs, self.store.query_seconds, started)
        if not sql_sort:
            sort_docs(docs, sort)
        if residual or not sql_sort:
            docs = docs[skip : skip + limit] if limit else docs[skip:]
        return [project(d, fields) for d in docs] if fields is not None else docs

    def count(self, query=None):
        subqueries = Subqueries(self.store.fireworks, self.name)
        clauses, params, residual = compile_filter(vetted(query), self.columns, self.names, subqueries)
        if residual:
            return len(self.find(query, fields=[self.key]))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        conn = self.store.conn()
        return self.store.retrying(
            lambda: conn.execute(f"SELECT COUNT(*) FROM {self.name}{where}", params).fetchone()[0]
        )

    def update(self, ids, changes, expect=None):
        """Conditional update of column and JSON fields; returns changed ids."""
        ids = list(ids)
        if not ids:
            return []
        cond = {self.key: {"$in": ids}}
        for field, value in (expect or {}).items():
            cond[field] = {"$in": list(value)} if isinstance(value, (list, tuple)) else value
        clauses, params, residual = compile_filter(cond, self.columns)
        if residual:
            raise ValueError(f"expect= may only name columns of {self.name}: {residual}")
        sets, values = [], []
        for field, value in changes.items():
            if field in self.columns:
                sets.append(f"{field} = ?")
                values.append(value)
        doc_changes = [
            (f, v) for f, v in changes.items() if f not in self.columns and f not in self.link_fields
        ]
        in_python = not all(_strict_json(v) for _, v in doc_changes)
        if doc_changes and not in_python:  # one json_set replaces each top-level JSON field
            paths = ", ".join("?, json(?)" for _ in doc_changes)
            sets.append(f"doc = json_set(doc, {paths})")
            for field, value in doc_changes:
                if '"' in field:
                    raise ValueError(f"field names may not contain quotes: {field!r}")
                values += [f'$."{field}"', _dumps(value)]
        where = " AND ".join(clauses)
        with self.store.transaction() as conn:
            if not sets:  # only links change: still honour expect=
                sets, values = [f"{self.key} = {self.key}"], []
            cur = conn.execute(
                f"UPDATE {self.name} SET {', '.join(sets)} WHERE {where} RETURNING {self.key}",
                values + params,
            )
            changed = [r[0] for r in cur.fetchall()]
            if doc_changes and in_python:
                self._merge_docs(conn, changed, dict(doc_changes))
            self.replace_links(changed, changes)
            return changed

    def _merge_docs(self, conn, keys, doc_changes):
        """Set JSON fields in Python: for values (NaN, Infinity) SQLite's json() refuses."""
        params = []
        rows = conn.execute(
            f"SELECT {self.key}, doc FROM {self.name} WHERE {in_clause(self.key, list(keys), params)}",
            params,
        ).fetchall()
        conn.executemany(
            f"UPDATE {self.name} SET doc = ? WHERE {self.key} = ?",
            [(_dumps({**json.loads(doc), **doc_changes}), key) for key, doc in rows],
        )

    def attach_links(self, docs, wanted):
        """Hook: fill link fields kept in another table (fireworks only)."""

    def replace_links(self, keys, changes):
        """Hook: store changed link fields kept in another table (fireworks only)."""


def _wanted_links(fields, residual):
    """The link fields a read must fill: those projected or queried on."""
    names = _FireworkTable.link_fields
    if fields is None:
        return names
    wanted = {f.split(".")[0] for f in fields} & set(names)
    if residual:
        text = json.dumps(residual, default=str)  # a compiled pattern from the Python API
        wanted |= {f for f in names if f'"{f}' in text}
    return tuple(f for f in names if f in wanted)


class _FireworkTable(_Table):
    """Fireworks keep their links in a table of edges, not in their rows.

    A fan-in firework with 100,000 parents would otherwise carry a huge JSON
    array that SQLite rewrites on every parent's completion.
    """

    link_fields = ("parents", "children")

    def insert(self, docs):
        docs = list(docs)
        with self.store.transaction() as conn:
            super().insert(docs)
            conn.executemany(
                "INSERT OR IGNORE INTO links (parent, child) VALUES (?, ?)",
                ((d["fw_id"], c) for d in docs for c in d.get("children", ())),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO links (parent, child) VALUES (?, ?)",
                ((p, d["fw_id"]) for d in docs for p in d.get("parents", ())),
            )

    def attach_links(self, docs, wanted):
        if not docs or not wanted:
            return
        by_id = {d["fw_id"]: d for d in docs}
        for d in docs:
            for field in wanted:
                d[field] = []
        conn = self.store.conn()
        for own, other, field in (("parent", "child", "children"), ("child", "parent", "parents")):
            if field not in wanted:
                continue
            params = []
            inner = in_clause(own, list(by_id), params)
            for key, value in conn.execute(
                f"SELECT {own}, {other} FROM links WHERE {inner} ORDER BY rowid", params
            ):
                by_id[key][field].append(value)

    def replace_links(self, keys, changes):
        if not keys:
            return
        conn = self.store.conn()
        for field, own, other in (("children", "parent", "child"), ("parents", "child", "parent")):
            if field not in changes:
                continue
            params = []  # edges that stay keep their rowid: the order of children is kept
            owned = in_clause(own, list(keys), params)
            keep = in_clause(other, list(changes[field]), params) if changes[field] else "0"
            conn.execute(f"DELETE FROM links WHERE {owned} AND NOT {keep}", params)
            conn.executemany(
                f"INSERT OR IGNORE INTO links ({own}, {other}) VALUES (?, ?)",
                ((key, value) for key in keys for value in changes[field]),
            )


_WRITER_LOCKS: dict = {}
# a child forked while a thread held one must not inherit it held
os.register_at_fork(after_in_child=_WRITER_LOCKS.clear)


def _writer_lock(path):
    """One lock per file for a process's writing threads (a gateway's, a web GUI's): SQLite
    makes a second writer sleep and poll (1 ms, 2 ms, 5 ms... between tries), a lock hands
    the file over at once. Other processes are still waited for by SQLite."""
    return _WRITER_LOCKS.get(path) or _WRITER_LOCKS.setdefault(path, threading.Lock())


class SQLiteStore(Store):
    """A store in one SQLite file, shared safely by many processes on one node."""

    kind = "sqlite"
    atomic_batches = True
    query_seconds = QUERY_SECONDS  # a query scanning documents in Python stops after this

    # SQLite waits silently for busy_timeout; past it, retrying() says so and waits on.
    def __init__(self, path, busy_timeout=2.0, lock_patience=300.0, sleep=time.sleep):
        self.path = os.path.abspath(os.path.expanduser(str(path)))
        self.busy_timeout = busy_timeout
        self.lock_patience = lock_patience
        self._sleep = sleep
        self._local = threading.local()
        directory = os.path.dirname(self.path)
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the store directory {directory}: {exc}") from None
        self.fireworks = _FireworkTable(self, "fireworks", "fw_id", TABLES["fireworks"])
        self.workflows = _Table(self, "workflows", "wf_id", TABLES["workflows"])
        self.launches = _Table(self, "launches", "launch_id", TABLES["launches"])
        self.fireworks.names = self.workflows.names = NameIndex(self)
        self._prepare()

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def check_storable(self, value: Any) -> None:
        _dumps(value)

    # -- connections and transactions ----------------------------------------
    def conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.create_function("starshell_regex", 3, sql_regex, deterministic=True)
            except sqlite3.DatabaseError as exc:
                raise StoreUnavailableError(f"cannot open the store {self.path}: {exc}") from None
            self._local.conn, self._local.depth = conn, 0
        return conn

    def retrying(self, operation):
        """Run ``operation``; wait out a locked database with backoff, then give up clearly."""
        deadline, delay, warned = time.monotonic() + self.lock_patience, 0.05, False
        while True:
            try:
                result = operation()
                if warned:
                    log.warning("the store %s is free again; going on", self.path)
                return result
            except sqlite3.OperationalError as exc:
                text = str(exc)
                if "locked" not in text and "busy" not in text:
                    raise StoreUnavailableError(f"store {self.path}: {text}") from None
                if time.monotonic() >= deadline:
                    raise StoreUnavailableError(
                        f"the store {self.path} stayed locked for {self.lock_patience:g} s; "
                        "another process holds a write lock (a stuck lpad or rlaunch?)"
                    ) from None
                if not warned:
                    log.warning(
                        "the store %s is locked by another process; waiting up to %g s for it",
                        self.path,
                        self.lock_patience,
                    )
                    warned = True
                self._sleep(delay)
                delay = min(delay * 2, 2.0)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield conn
            finally:
                self._local.depth -= 1
            return
        with _writer_lock(self.path):  # this process's threads queue here, not in SQLite's busy wait
            self.retrying(lambda: conn.execute("BEGIN IMMEDIATE"))
            self._local.depth = 1
            try:
                yield conn
            except BaseException:
                self._local.depth = 0
                conn.execute("ROLLBACK")
                raise
            self._local.depth = 0
            try:
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                conn.execute("ROLLBACK")
                raise StoreUnavailableError(f"store {self.path}: commit failed: {exc}") from None

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one view of the file while writers go on (WAL)."""
        conn = self.conn()
        if self._local.depth:
            yield conn
            return
        self.retrying(lambda: conn.execute("BEGIN DEFERRED"))
        self._local.depth = 1
        try:
            yield conn
        finally:
            self._local.depth = 0
            conn.execute("ROLLBACK")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _prepare(self):
        # Read the version without the write lock: opening a store to read it must
        # not wait for a writer (a long add, another process's lock).
        reader = self.conn()
        if self.retrying(lambda: reader.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION:
            return
        with self.transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                create_schema(conn)
            elif version < SCHEMA_VERSION:
                migrate(conn, version)
            elif version > SCHEMA_VERSION:
                raise ConfigError(
                    f"the store {self.path} has schema version {version}, newer than this "
                    f"starshell understands ({SCHEMA_VERSION}); upgrade starshell"
                )

    def tuneup(self, full: bool = False) -> list[str]:
        """Missing indexes back and fresh planner statistics; ``full`` also VACUUMs,
        which rewrites the file and waits for every other writer (downtime only)."""
        with self.transaction() as conn:
            ensure_indexes(conn)
            names = sqlite_names.tuneup(conn, full)
            conn.execute("ANALYZE")
        steps = ["indexes checked", names, "ANALYZE"]
        if full:
            before = os.path.getsize(self.path)
            self.retrying(lambda: self.conn().execute("PRAGMA wal_checkpoint(TRUNCATE)"))
            self.retrying(lambda: self.conn().execute("VACUUM"))
            steps.append(f"VACUUM ({before} -> {os.path.getsize(self.path)} bytes)")
        return steps

    def reset(self) -> None:
        with self.transaction() as conn:
            for table in ("fireworks", "links", "workflows", "launches", "counters"):
                conn.execute(f"DELETE FROM {table}")
            sqlite_names.clear(conn)

    # -- ids and inserts -------------------------------------------------------
    def next_ids(self, kind: str, count: int = 1) -> int:
        with self.transaction() as conn:
            if kind == "launch":  # claims take launch ids without the counter: count past them
                return next_launch_ids(conn, count)
            row = conn.execute(
                "UPDATE counters SET last = last + ? WHERE name = ? RETURNING last", (count, kind)
            ).fetchone()
            if row is None:
                conn.execute("INSERT INTO counters (name, last) VALUES (?, ?)", (kind, count))
                row = (count,)
        return row[0] - count + 1

    def insert_workflow(self, wf: Doc, fireworks: list[Doc]) -> None:
        try:
            with self.transaction():
                self.workflows.insert([wf])
                self.fireworks.insert(fireworks)
        except sqlite3.IntegrityError as exc:  # nothing was written: the transaction rolled back
            raise InvalidWorkflowError(
                f"store {self.path}: cannot add workflow {wf.get('wf_id')}: {exc} "
                "(an id is already taken: the store's id counters are behind its data)"
            ) from None

    def insert_fireworks(self, fireworks: list[Doc]) -> None:
        self.fireworks.insert(fireworks)

    def insert_launch(self, launch: Doc) -> None:
        self.launches.insert([launch])

    # -- reads -------------------------------------------------------------------
    def find_fireworks(
        self, query: Query = None, fields: Fields = None, sort: Sort = None, limit: int = 0, skip: int = 0
    ) -> list[Doc]:
        return self.fireworks.find(query, fields, sort, limit, skip)

    def count_fireworks(self, query: Query = None) -> int:
        return self.fireworks.count(query)

    def count_fireworks_by_state(self, query: Query = None) -> dict[str, int]:
        clauses, params, residual = compile_filter(
            vetted(query), self.fireworks.columns, self.fireworks.names
        )
        if residual:
            counts: dict[str, int] = {}
            for doc in self.fireworks.find(query, fields=["state"]):
                counts[doc["state"]] = counts.get(doc["state"], 0) + 1
            return counts
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = (
            self.conn()
            .execute(f"SELECT state, COUNT(*) FROM fireworks{where} GROUP BY state", params)
            .fetchall()
        )
        return dict(rows)

    def workflow_state_counts(self, wf_ids: Optional[Iterable[int]] = None) -> dict[int, dict[str, int]]:
        params: list[Any] = []
        where = "" if wf_ids is None else " WHERE " + in_clause("wf_id", list(wf_ids), params)
        out: dict[int, dict[str, int]] = {wf_id: {} for wf_id in wf_ids or ()}
        for wf_id, state, n in self.conn().execute(
            f"SELECT wf_id, state, COUNT(*) FROM fireworks{where} GROUP BY wf_id, state", params
        ):
            out.setdefault(wf_id, {})[state] = n
        return out

    def workflow_states(self, wf_ids: Optional[Iterable[int]] = None) -> dict[int, set[str]]:
        if wf_ids is not None:
            return super().workflow_states(wf_ids)
        return sqlite_counts.workflow_states(self.conn())

    def workflow_fw_states(self, wf_id: int) -> list[tuple[int, str]]:
        # A JSON list of ids per state, not a row per firework: 10,000 fireworks in
        # ~7 ms, against ~13 for 10,000 rows (the web GUI's graph reads this each time).
        conn = self.conn()
        sql = "SELECT state, json_group_array(fw_id) FROM fireworks WHERE wf_id = ? GROUP BY state"
        rows = self.retrying(lambda: conn.execute(sql, (wf_id,)).fetchall())
        pairs = [(fw_id, state) for state, ids in rows for fw_id in json.loads(ids)]
        pairs.sort()
        return pairs

    def workflow_links(self, wf_id: int) -> list[tuple[int, int]]:
        # One join over two indexes: ~10 ms for 20,000 links, where a read of the
        # fireworks with their children built a dict per firework (~100 ms).
        conn = self.conn()
        sql = (
            "SELECT links.parent, links.child FROM fireworks JOIN links ON links.parent = fireworks.fw_id "
            "WHERE fireworks.wf_id = ? ORDER BY links.rowid"
        )
        return self.retrying(lambda: conn.execute(sql, (wf_id,)).fetchall())

    def find_workflows(
        self, query: Query = None, fields: Fields = None, sort: Sort = None, limit: int = 0, skip: int = 0
    ) -> list[Doc]:
        return self.workflows.find(query, fields, sort, limit, skip)

    def count_workflows(self, query: Query = None) -> int:
        return self.workflows.count(query)

    def find_launches(
        self, query: Query = None, fields: Fields = None, sort: Sort = None, limit: int = 0, skip: int = 0
    ) -> list[Doc]:
        return self.launches.find(query, fields, sort, limit, skip)

    def task_names(self, fw_ids: Iterable[int]) -> dict[int, list[str]]:
        conn = self.conn()
        try:
            return self.retrying(lambda: sqlite_paths.task_names(conn, fw_ids))
        except StoreUnavailableError as exc:
            if not sqlite_paths.not_json(exc):
                raise
            return super().task_names(fw_ids)

    def count_launches_by_period(
        self, width: int, since: Optional[str] = None, query: Query = None
    ) -> dict[str, dict[str, int]]:
        clauses, params, residual = compile_filter(vetted(query), self.launches.columns, self.launches.names)
        if residual:
            return super().count_launches_by_period(width, since, query)
        clauses = [*clauses, "time_end >= ?" if since else "time_end != ''"]
        # The space some stamps have between date and time becomes "T" after the count:
        # a replace() in SQL, run on each of 10,000 rows, took 40% of the query.
        where = " AND ".join(clauses)
        sql = f"SELECT substr(time_end, 1, ?), state, COUNT(*) FROM launches WHERE {where} GROUP BY 1, 2"
        counts: dict[str, dict[str, int]] = {}
        for key, state, n in self.conn().execute(sql, [width, *params, *([since] if since else [])]):
            states = counts.setdefault(key.replace(" ", "T"), {})
            states[state] = states.get(state, 0) + n
        return counts

    # -- writes ------------------------------------------------------------------
    def update_fireworks(
        self, fw_ids: Iterable[int], changes: Mapping[str, Any], expect: Optional[Mapping[str, Any]] = None
    ) -> list[int]:
        if "spec" in changes:
            changes = {**changes, **index_fields(changes["spec"])}
        return self.fireworks.update(fw_ids, changes, expect)

    def release_children(self, fw_ids: Iterable[int], updated_on: str) -> list[int]:
        ids = list(fw_ids)
        if not ids:
            return []
        with self.transaction() as conn:
            return release_children(conn, ids, updated_on, in_clause)

    def _claimable(self, worker, states, fw_id=None, not_before=None):
        """WHERE clause and parameters for fireworks ``worker`` may take."""
        params = []
        where = [in_clause("state", list(states), params), "(fworker IS NULL OR fworker = ?)"]
        params.append(worker.name)
        cats = worker.categories()
        if cats is not None:
            where.append(in_clause("category", cats, params) if cats else "category IS NULL")
        if fw_id is not None:
            where.append("fw_id = ?")
            params.append(fw_id)
        if not_before is not None:
            where.append("(not_before IS NULL OR not_before <= ?)")
            params.append(not_before)
        return " AND ".join(where), params

    def count_claimable(
        self,
        worker: WorkerFilter,
        states: Sequence[str] = (State.READY.value,),
        limit: Optional[int] = None,
        not_before: Optional[str] = None,
    ) -> int:
        where, params = self._claimable(worker, states, not_before=not_before)
        return self._count_fireworks(f"FROM fireworks WHERE {where}", params, worker.query, limit)

    def _count_fireworks(self, source, params, query, limit, prefix=""):
        """How many fireworks ``[prefix] SELECT ... source`` yields that match ``query``
        (a residual Mongo filter, checked in Python), stopping at ``limit``."""
        conn = self.conn()
        if not query:
            cap = f" LIMIT {int(limit)}" if limit else ""
            sql = f"{prefix}SELECT COUNT(*) FROM (SELECT fireworks.fw_id {source}{cap})"
            return self.retrying(lambda: conn.execute(sql, params).fetchone()[0])
        columns = ", ".join(f"fireworks.{c}" for c in self.fireworks.column_names)
        count = 0
        for row in conn.execute(f"{prefix}SELECT {columns}, fireworks.doc {source}", params):
            if matches(query, self.fireworks.to_doc(row)):
                count += 1
                if limit and count >= limit:
                    break
        return count

    def count_waiting_descendants(
        self,
        worker: WorkerFilter,
        fw_ids: Iterable[int],
        limit: Optional[int] = None,
        children_only: bool = False,
    ) -> int:
        roots = list(fw_ids)
        if not roots:
            return 0
        params: list[Any] = []
        step = (
            "SELECT links.child FROM {frm} JOIN fireworks ON fireworks.fw_id = links.child "
            "WHERE {cond} AND fireworks.state = 'WAITING'"
        )
        down = step.format(frm="links", cond=in_clause("links.parent", roots, params))
        if not children_only:  # UNION, not UNION ALL: a diamond's node is walked once
            down += " UNION " + step.format(frm="down JOIN links ON links.parent = down.node", cond="1")
        where, more = self._claimable(worker, (State.WAITING.value,))
        # CROSS JOIN keeps the walk as the outer loop, so a LIMIT stops it early instead
        # of SQLite scanning every WAITING firework by the state index (10x faster).
        return self._count_fireworks(
            f"FROM down CROSS JOIN fireworks ON fireworks.fw_id = down.node WHERE {where}",
            params + more,
            worker.query,
            limit,
            prefix=f"WITH RECURSIVE down(node) AS ({down}) ",
        )

    def activity_mark(self) -> Any:
        row = self.retrying(
            lambda: (
                self.conn()
                .execute(
                    "SELECT COUNT(*), MAX(current_launch) FROM fireworks "
                    "WHERE state IN ('RUNNING', 'RESERVED')"
                )
                .fetchone()
            )
        )
        return tuple(row)

    def claim_firework(
        self,
        worker: WorkerFilter,
        changes: Mapping[str, Any],
        states: Sequence[str] = (State.READY.value,),
        fw_id: Optional[int] = None,
        not_before: Optional[str] = None,
    ) -> Optional[Doc]:
        where, params = self._claimable(worker, states, fw_id, not_before)
        order = " ORDER BY priority DESC, fw_id ASC"
        sets = ", ".join(f"{c} = ?" for c in changes)
        returning = f" RETURNING {', '.join(self.fireworks.column_names)}, doc"
        with self.transaction() as conn:
            if not worker.query:
                row = conn.execute(
                    f"UPDATE fireworks SET {sets} WHERE fw_id = (SELECT fw_id FROM fireworks "
                    f"WHERE {where}{order} LIMIT 1){returning}",
                    list(changes.values()) + params,
                ).fetchone()
                return self.fireworks.to_doc(row) if row else None
            found = first_match(self, conn, worker, (where, params))
            if found is None:
                return None
            row = conn.execute(
                f"UPDATE fireworks SET {sets} WHERE fw_id = ?{returning}", list(changes.values()) + [found]
            ).fetchone()
            return self.fireworks.to_doc(row)

    def open_launch(
        self,
        worker: WorkerFilter,
        changes: Mapping[str, Any],
        launch: Doc,
        states: Sequence[str] = (State.READY.value,),
        fw_id: Optional[int] = None,
        not_before: Optional[str] = None,
    ) -> Tuple[Optional[Doc], Optional[int]]:
        claimable = self._claimable(worker, states, fw_id, not_before)
        with self.transaction() as conn:
            return open_launch(self, conn, worker, changes, launch, claimable)

    def finish_firework(
        self, fw_id: int, launch_id: int, state: str, updated_on: str, launch_changes: Mapping[str, Any]
    ) -> bool:
        with self.transaction() as conn:
            if not finish_firework(conn, fw_id, launch_id, state, updated_on):
                return False
            self.launches.update([launch_id], launch_changes)
        return True

    def update_launch(
        self, launch_id: int, changes: Mapping[str, Any], expect_state: Optional[str] = None
    ) -> bool:
        return bool(self.update_launches([launch_id], changes, expect_state))

    def update_launches(
        self, launch_ids: Iterable[int], changes: Mapping[str, Any], expect_state: Optional[str] = None
    ) -> list[int]:
        expect = {"state": expect_state} if expect_state is not None else None
        return self.launches.update(launch_ids, changes, expect)

    def update_workflow(self, wf_id: int, changes: Mapping[str, Any]) -> None:
        self.workflows.update([wf_id], changes)

    def delete_workflow(self, wf_id: int) -> None:
        with self.transaction() as conn:
            pin_launch_counter(conn)
            conn.execute(
                "DELETE FROM launches WHERE fw_id IN (SELECT fw_id FROM fireworks WHERE wf_id = ?)", (wf_id,)
            )
            conn.execute(
                "DELETE FROM links WHERE child IN (SELECT fw_id FROM fireworks WHERE wf_id = ?)", (wf_id,)
            )
            conn.execute("DELETE FROM fireworks WHERE wf_id = ?", (wf_id,))
            conn.execute("DELETE FROM workflows WHERE wf_id = ?", (wf_id,))

    def delete_fireworks(self, fw_ids: Iterable[int]) -> None:
        params: list[Any] = []
        inner = in_clause("fw_id", list(fw_ids), params)
        with self.transaction() as conn:
            pin_launch_counter(conn)
            conn.execute(f"DELETE FROM launches WHERE {inner}", params)
            for end in ("parent", "child"):
                conn.execute(f"DELETE FROM links WHERE {inner.replace('fw_id', end, 1)}", params)
            conn.execute(f"DELETE FROM fireworks WHERE {inner}", params)

    def delete_launches(self, launch_ids: Iterable[int]) -> None:
        params: list[Any] = []
        inner = in_clause("launch_id", list(launch_ids), params)
        with self.transaction() as conn:
            pin_launch_counter(conn)
            conn.execute(f"DELETE FROM launches WHERE {inner}", params)
