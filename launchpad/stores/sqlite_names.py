"""The name search's index on SQLite: FTS5 trigrams over the distinct names.

A word in the web GUI's search box (``/workflows?q=relax``) becomes a
case-insensitive ``$regex`` on the ``name`` of fireworks and workflows, which
SQL can only answer by reading every name. A table of distinct names
(schema.py) and an FTS5 trigram table over it are brought up to date in bulk,
past watermarks, by ``lpad admin tuneup`` and by a search that finds many
unindexed names, never per insert, so adding workflows costs what it did. A
search takes its candidate names from the index, plus by a short scan the
names past the watermarks (new documents, renames) and the non-ASCII ones
(the tokenizer's case folding need not be RE2's); the exact matcher still
filters every row, so the results are a scan's. Without FTS5 in this SQLite,
searches stay scans.
"""

import sqlite3
import threading
import time

# counters rows: the last name_id the index holds, the last fw_id and wf_id copied to names
MARKS = {"names": "names_fts", "fireworks": "names_fireworks", "workflows": "names_workflows"}
MIN_WORD = 3  # trigrams: a shorter word cannot use the index
REFRESH_TAIL = 5000  # a search with more unindexed names than this refreshes first
REFRESH_PATIENCE_MS = 100  # a search waits this long for the write lock, then scans the tail
REFRESH_PAUSE = 60.0  # seconds before a search tries again after a refresh could not run
# A word in more than this share of the names (and more than COMMON_MIN of them) is
# answered by the scan: it finds a page of 25 sooner than the index lists them all.
COMMON_SHARE = 20
COMMON_MIN = 2000
DECISION_SECONDS = 60.0  # how long a word's "common or not" is remembered

_REGEX_META = frozenset(".^$*+?{}[]\\|()")

_KEYS = {"names": "name_id", "fireworks": "fw_id", "workflows": "wf_id"}
_ASCII = "length(name) = length(CAST(name AS BLOB))"  # UTF-8: one byte a character


def _mark(table):
    return f"coalesce((SELECT last FROM counters WHERE name = '{MARKS[table]}'), 0)"


_CANDIDATES = (
    "{col} IN (SELECT n.name FROM names n WHERE n.name_id IN "
    "(SELECT rowid FROM names_fts WHERE names_fts MATCH ?) "
    "UNION ALL SELECT name FROM names WHERE ascii = 0"
    + "".join(f" UNION ALL SELECT name FROM {t} WHERE {k} > {_mark(t)}" for t, k in _KEYS.items())
    + ")"
)


def literal_text(pattern):
    """The text a regex matches literally (``re.escape`` output, a plain word), else None."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escaped = pattern[i + 1 : i + 2]
            if not escaped or escaped.isalnum() or not escaped.isascii():
                return None
            out.append(escaped)
            i += 2
            continue
        if char in _REGEX_META:
            return None
        out.append(char)
        i += 1
    return "".join(out)


def _indexable(cond):
    """The word of a ``$regex`` the index can narrow (ASCII, 3+ characters), else None."""
    pattern = cond.get("$regex") if isinstance(cond, dict) else None
    word = literal_text(pattern) if isinstance(pattern, str) else None
    return word if word and len(word) >= MIN_WORD and word.isascii() else None


def unindexed(conn):
    """About how many names the index does not hold yet (ids past the watermarks)."""
    tails = " + ".join(f"(SELECT coalesce(max({k}), 0) - {_mark(t)} FROM {t})" for t, k in _KEYS.items())
    return conn.execute(f"SELECT {tails}").fetchone()[0]


def _set_marks(conn):
    for table, key in _KEYS.items():
        conn.execute(
            f"INSERT OR REPLACE INTO counters (name, last) SELECT ?, coalesce(max({key}), 0) FROM {table}",
            (MARKS[table],),
        )


def _copy_names(conn, new_only=True):
    for table in ("workflows", "fireworks"):
        since = f"{_KEYS[table]} > {_mark(table)} AND " if new_only else ""
        conn.execute(
            f"INSERT OR IGNORE INTO names (name, ascii) SELECT name, {_ASCII} FROM {table} "
            f"WHERE {since}typeof(name) = 'text'"
        )


def refresh(conn):
    """Copy the new documents' names and index the new names, in bulk (in a write
    transaction); how many names were indexed."""
    _copy_names(conn)
    added = conn.execute(
        "INSERT INTO names_fts (rowid, name) SELECT name_id, name FROM names "
        f"WHERE name_id > {_mark('names')}"
    ).rowcount
    _set_marks(conn)
    return added


def rebuild(conn):
    """Forget the names no firework or workflow holds any more, and index the rest anew."""
    conn.execute(
        "DELETE FROM names WHERE name NOT IN (SELECT name FROM fireworks WHERE name IS NOT NULL) "
        "AND name NOT IN (SELECT name FROM workflows WHERE name IS NOT NULL)"
    )
    _copy_names(conn, new_only=False)
    conn.execute("INSERT INTO names_fts (names_fts) VALUES ('rebuild')")
    _set_marks(conn)


def moved_back(conn, table, lowest):
    """Documents inserted with ids at or below the watermark (an import keeping its
    ids): the watermark moves back, so the scan of the tail sees them."""
    conn.execute(
        "UPDATE counters SET last = ? WHERE name = ? AND last >= ?", (lowest - 1, MARKS[table], lowest)
    )


def tuneup(conn, full):
    """``lpad admin tuneup``'s step: index the new names (``full``: rebuild); what it did."""
    if not has_index(conn):
        return "name index: none (this SQLite has no FTS5; name searches scan)"
    if full:
        rebuild(conn)
        return "name index rebuilt"
    return f"name index: {refresh(conn)} new name(s)"


def clear(conn):
    """Empty the names and their index (``lpad reset``); the caller empties counters."""
    conn.execute("DELETE FROM names")
    if has_index(conn):
        conn.execute("INSERT INTO names_fts (names_fts) VALUES ('delete-all')")


def has_index(conn):
    """Whether this file has the FTS5 table and this SQLite can read it."""
    try:
        conn.execute("SELECT rowid FROM names_fts LIMIT 0")
    except sqlite3.OperationalError:  # no such table, or no such module: fts5
        return False
    return True


class NameIndex:
    """One store's name index, checked once per connection (a connection per thread)."""

    def __init__(self, store):
        self.store = store
        self._local = threading.local()
        self._paused_until = 0.0
        self._common = {}  # {word: (common?, when decided)}

    def ready(self, conn):
        """Whether searches on ``conn`` can use the index (FTS5 here, and the table made)."""
        if getattr(self._local, "conn", None) is not conn:
            self._local.conn, self._local.ready = conn, has_index(conn)
        return self._local.ready

    def narrow(self, col, cond, sql, params):
        """``sql`` (the exact match of ``cond`` on ``col``) behind the index's candidates.

        Returns ``(sql, params)``: unchanged for what the index cannot answer
        (short or non-ASCII words, patterns, no FTS5) or would not speed up (a
        store whose unindexed tail is most of it), which stays a scan.
        """
        word = _indexable(cond)
        conn = self.store.conn()
        if word is None or not self.ready(conn) or not self._catch_up(conn):
            return sql, params
        phrase = '"' + word.replace('"', '""') + '"'
        if self._is_common(conn, word, phrase):
            return sql, params
        return f"({_CANDIDATES.format(col=col)} AND {sql})", [phrase, *params]

    def common(self, cond):
        """Whether the last search for ``cond`` found its word common (and so scanned)."""
        word = _indexable(cond)
        known = self._common.get(word) if word is not None else None
        return bool(known and known[0])

    def _is_common(self, conn, word, phrase):
        """Whether ``word`` is in so many names that the scan is quicker (remembered a while)."""
        known = self._common.get(word)
        if known and time.monotonic() - known[1] < DECISION_SECONDS:
            return known[0]
        top = conn.execute("SELECT coalesce(max(name_id), 0) FROM names").fetchone()[0]
        limit = max(COMMON_MIN, top // COMMON_SHARE)
        found = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM names_fts WHERE names_fts MATCH ? LIMIT ?)",
            (phrase, limit + 1),
        ).fetchone()[0]
        if len(self._common) > 1000:
            self._common.clear()
        self._common[word] = (found > limit, time.monotonic())
        return found > limit

    def _catch_up(self, conn):
        """Index the new names when there are many; whether the index then holds more
        names than the tail it leaves to the scan. A busy or read-only file just waits
        for ``lpad admin tuneup`` (the scan of the tail keeps the results right)."""
        tail = unindexed(conn)
        if tail > REFRESH_TAIL and not conn.in_transaction and time.monotonic() >= self._paused_until:
            conn.execute(f"PRAGMA busy_timeout = {REFRESH_PATIENCE_MS}")
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    refresh(conn)
                    conn.execute("COMMIT")
                    tail = 0
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError:
                self._paused_until = time.monotonic() + REFRESH_PAUSE
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(self.store.busy_timeout * 1000)}")
        indexed = conn.execute(f"SELECT {_mark('names')}").fetchone()[0]
        return indexed > tail
