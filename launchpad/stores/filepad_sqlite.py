"""FilePad files in the embedded store's own SQLite file.

Contents are rows of ``filepad_chunks`` (1 MiB blocks); docs are rows of
``filepad``, queried like the LaunchPad's tables. A file's row is written
first with ``complete = 0``, which hides it from every read and holds its
identifier; the chunks follow in short transactions (so rockets are not
locked out while a large file streams in), and one last transaction makes
the file visible. A crash part-way leaves an incomplete row that
``reset``, ``delete`` or a later ``put`` of the same identifier clears.
"""

import datetime
import itertools
import secrets

from ..errors import InvalidArgumentError
from .filepad_base import FileBackend
from .sqlite import _dumps, _Table

CHUNKS_PER_TRANSACTION = 2  # 2 MiB in memory, and in each write transaction
# An incomplete upload untouched this long is taken to be dead (its writer crashed).
STALE_UPLOAD = datetime.timedelta(hours=1)

_DDL = (
    (
        "CREATE TABLE IF NOT EXISTS filepad (seq INTEGER PRIMARY KEY, gfs_id TEXT NOT NULL UNIQUE, "
        "identifier TEXT UNIQUE, complete INTEGER NOT NULL DEFAULT 0, touched TEXT, "
        "doc TEXT NOT NULL)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS filepad_chunks (gfs_id TEXT NOT NULL, n INTEGER NOT NULL, "
        "data BLOB NOT NULL, PRIMARY KEY (gfs_id, n))"
    ),
)
_COLUMNS = {"seq": "int", "gfs_id": "text", "identifier": "text", "complete": "int", "touched": "text"}
_HIDDEN = ("seq", "complete", "touched")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


class SQLiteFileBackend(FileBackend):
    """Files beside the workflows of a ``SQLiteStore``, sharing its connections and locks."""

    def __init__(self, store):
        self.store = store
        with store.transaction() as conn:
            for statement in _DDL:
                conn.execute(statement)
        self.table = _Table(store, "filepad", "gfs_id", _COLUMNS)

    def describe(self):
        return self.store.describe()

    def new_id(self):
        return secrets.token_hex(12)

    def put(self, doc, blocks):
        gfs_id = doc["gfs_id"]
        if not self._reserve(doc):
            existing = self.find_one({"identifier": doc["identifier"]})
            if existing is None:
                raise InvalidArgumentError(
                    f"FilePad file {doc['identifier']!r} is being added by another process "
                    "right now; add it again once that is done (or under another identifier)"
                )
            return existing
        try:
            self._write_chunks(gfs_id, blocks)
            self.table.update([gfs_id], {"complete": 1, "touched": _now()})
        except BaseException:
            self._drop(gfs_id)
            raise
        return doc

    def _reserve(self, doc):
        """Claim the identifier with a hidden row; False if a live file holds it."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT gfs_id, complete, touched FROM filepad WHERE identifier = ?", (doc["identifier"],)
            ).fetchone()
            if row is not None:
                if row[1] or not _stale(row[2]):
                    return False
                self._drop(row[0])
            self.table.insert([{**doc, "complete": 0, "touched": _now()}])
        return True

    def _write_chunks(self, gfs_id, blocks):
        """Insert the blocks a few at a time, read before each short write transaction:
        the write lock is never held while the file is read or compressed."""
        blocks, n = iter(blocks), 0
        while batch := list(itertools.islice(blocks, CHUNKS_PER_TRANSACTION)):
            with self.store.transaction() as conn:
                conn.executemany(
                    "INSERT INTO filepad_chunks (gfs_id, n, data) VALUES (?, ?, ?)",
                    [(gfs_id, n + i, block) for i, block in enumerate(batch)],
                )
                conn.execute("UPDATE filepad SET touched = ? WHERE gfs_id = ?", (_now(), gfs_id))
            n += len(batch)

    def _drop(self, gfs_id):
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM filepad WHERE gfs_id = ?", (gfs_id,))
            conn.execute("DELETE FROM filepad_chunks WHERE gfs_id = ?", (gfs_id,))

    def find(self, query=None, sort=None):
        query = {"$and": [query, {"complete": 1}]} if query else {"complete": 1}
        docs = self.table.find(query, sort=sort or [("seq", 1)])
        return [_public(d) for d in docs]

    def read(self, gfs_id):
        with self.store.snapshot() as conn:
            cursor = conn.execute("SELECT data FROM filepad_chunks WHERE gfs_id = ? ORDER BY n", (gfs_id,))
            for (data,) in cursor:
                yield data

    def replace(self, doc, new_id, blocks, compressed):
        old_id = doc["gfs_id"]
        try:
            self._write_chunks(new_id, blocks)
            with self.store.transaction() as conn:
                done = conn.execute(
                    "UPDATE filepad SET gfs_id = ?, doc = json_set(doc, '$.compressed', json(?)) "
                    "WHERE gfs_id = ? AND complete = 1 RETURNING gfs_id",
                    (new_id, _dumps(bool(compressed)), old_id),
                ).fetchone()
                if done:
                    conn.execute("DELETE FROM filepad_chunks WHERE gfs_id = ?", (old_id,))
        except BaseException:
            self._drop_chunks(new_id)
            raise
        if not done:
            self._drop_chunks(new_id)
        return bool(done)

    def _drop_chunks(self, gfs_id):
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM filepad_chunks WHERE gfs_id = ?", (gfs_id,))

    def delete(self, gfs_id):
        self._drop(gfs_id)

    def count(self, query=None):
        query = {"$and": [query, {"complete": 1}]} if query else {"complete": 1}
        return self.table.count(query)

    def reset(self):
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM filepad")
            conn.execute("DELETE FROM filepad_chunks")


def _stale(touched):
    try:
        when = datetime.datetime.fromisoformat(touched)
    except (TypeError, ValueError):
        return True
    return datetime.datetime.now(datetime.timezone.utc) - when > STALE_UPLOAD


def _public(doc):
    """A doc as FireWorks shows it: without the upload's bookkeeping."""
    return {k: v for k, v in doc.items() if k not in _HIDDEN}
