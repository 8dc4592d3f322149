"""User queries: Mongo-style filters, parsed and vetted once for every store.

Queries come from ``lpad -q``, worker files and the web GUI. They run on
MongoDB natively and on SQLite through mongomock's filter engine, so the
same text means the same thing on both stores. Operators that run code on
the server are refused everywhere.

Regular expressions run on RE2, which matches in time linear in the text:
a ``$regex`` such as ``^(.|.){0,18}Q`` would otherwise backtrack for
minutes while holding the interpreter (Python's ``re`` keeps the GIL), so
one anonymous web request could freeze the whole GUI. RE2 has no
look-around or back-references; such patterns are refused on both stores.
"""

import functools
import json
import re
import time

from .errors import InvalidQueryError, QueryTimeoutError

# How long one query may run before it is stopped (stores' ``query_seconds``).
QUERY_SECONDS = 60.0

FORBIDDEN_OPERATORS = frozenset({"$where", "$function", "$accumulator"})
# What both stores evaluate alike (MongoDB natively, SQLite through mongomock).
# Inside $expr the keys are aggregation operators and are left to the store.
QUERY_OPERATORS = frozenset(
    {
        "$eq",
        "$ne",
        "$gt",
        "$gte",
        "$lt",
        "$lte",
        "$in",
        "$nin",
        "$and",
        "$or",
        "$nor",
        "$not",
        "$exists",
        "$type",
        "$regex",
        "$options",
        "$all",
        "$elemMatch",
        "$size",
        "$expr",
        "$comment",
    }
)
_NEEDS_LIST = frozenset({"$in", "$nin", "$all", "$and", "$or", "$nor"})
_NEEDS_MAPPING = frozenset({"$elemMatch", "$not"})


def parse_query(text):
    """A filter dict from JSON text (or an already-parsed dict), vetted."""
    if text is None or text == "":
        return {}
    if isinstance(text, dict):
        query = text
    elif not isinstance(text, (str, bytes)):
        raise InvalidQueryError(f"a query must be a JSON object, got {type(text).__name__}")
    else:
        try:
            query = json.loads(text)
        except json.JSONDecodeError as exc:
            query = _python_literal(text, exc)
    if not isinstance(query, dict):
        raise InvalidQueryError(f"a query must be a JSON object, got {type(query).__name__}")
    check_safe(query)
    return query


def _python_literal(text, json_error):
    """FireWorks reads ``-q`` with ast.literal_eval, so ``"{'state': 'READY'}"``
    works there: accept a Python literal (never evaluated as code) when JSON fails."""
    import ast

    try:
        return ast.literal_eval(text if isinstance(text, str) else text.decode())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, UnicodeDecodeError):
        raise InvalidQueryError(
            f"the query is not valid JSON ({json_error.msg} at character {json_error.pos}) "
            f"nor a Python dict literal: {text!r:.120}"
        ) from None


class WorkflowsOfFireworks:
    """``{"wf_id": {"$in": WorkflowsOfFireworks(fw_query)}}``: the workflows holding a
    firework that matches ``fw_query``, resolved by the store (SQLite: a subquery, so
    12,000 ids of a common word never pass through Python; MongoDB: one grouping query).
    Only the Python API makes one (JSON cannot); it is not iterable, so code that
    does not know it fails instead of reading an empty list."""

    __slots__ = ("query",)

    def __init__(self, fw_query):
        check_safe(fw_query, "fireworks query")
        self.query = fw_query

    def __repr__(self):
        return f"WorkflowsOfFireworks({self.query!r})"


def resolved(query, wf_ids_of):
    """``query`` with each WorkflowsOfFireworks replaced by the list ``wf_ids_of(fw_query)``."""
    if isinstance(query, WorkflowsOfFireworks):
        return wf_ids_of(query.query)
    if isinstance(query, dict):
        return {key: resolved(value, wf_ids_of) for key, value in query.items()}
    if isinstance(query, list):
        return [resolved(value, wf_ids_of) for value in query]
    return query


def name_search(text):
    """The workflows whose name, or one of whose fireworks' names, holds ``text`` (any
    case): the web GUI's search box, as one query the store answers without listing ids."""
    pattern = {"$regex": re.escape(text), "$options": "i"}
    return {"$or": [{"name": pattern}, {"wf_id": {"$in": WorkflowsOfFireworks({"name": pattern})}}]}


def check_safe(value, path="query", in_expr=False):
    """Refuse operators that execute JavaScript on the database server, and
    malformed or unknown ones, so a bad query fails the same way on every store."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if not isinstance(key, str):
                raise InvalidQueryError(f"{path}: keys must be strings, got {key!r}")
            if key in FORBIDDEN_OPERATORS:
                raise InvalidQueryError(
                    f"{path}: the operator {key} runs code on the server and is not allowed"
                )
            if key.startswith("$") and not in_expr:
                _check_operator(key, sub, path)
            check_safe(sub, f"{path}.{key}", in_expr or key == "$expr")
    elif isinstance(value, (list, tuple)):
        for i, sub in enumerate(value):
            if isinstance(sub, (dict, list, tuple)):  # a long $in of ids holds no operators
                check_safe(sub, f"{path}[{i}]", in_expr)


def _check_operator(op, operand, path):
    if op not in QUERY_OPERATORS:
        raise InvalidQueryError(
            f"{path}: unknown query operator {op}; use one of {', '.join(sorted(QUERY_OPERATORS))}"
        )
    if op == "$in" and isinstance(operand, WorkflowsOfFireworks):
        return
    if op in _NEEDS_LIST and not isinstance(operand, list):
        raise InvalidQueryError(f"{path}: {op} needs a list, got {operand!r:.60}")
    if op in ("$and", "$or", "$nor") and not all(isinstance(c, dict) for c in operand):
        raise InvalidQueryError(f"{path}: {op} needs a list of conditions (objects)")
    if op in _NEEDS_MAPPING and not isinstance(operand, dict):
        raise InvalidQueryError(f"{path}: {op} needs an object, got {operand!r:.60}")
    if op == "$regex":
        if not isinstance(operand, str):
            raise InvalidQueryError(f"{path}: $regex needs a string, got {operand!r:.60}")
        compile_regex(operand, "", path)
    if op == "$options":
        regex_flags(operand, path)


# MongoDB's $options letters that RE2 honours ("u": text is always Unicode).
_RE2_FLAGS = {"i": "i", "m": "m", "s": "s", "u": ""}
_PY_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))


def regex_flags(options, path="query"):
    """RE2's inline flags for MongoDB ``$options`` letters; unknown letters are refused."""
    if not isinstance(options, str):
        raise InvalidQueryError(f"{path}: $options needs a string of letters, got {options!r:.40}")
    wrong = "".join(sorted(set(options) - set(_RE2_FLAGS)))
    if wrong:
        hint = (
            "; x (extended syntax) is not supported: leave spaces and comments out of the pattern"
            if "x" in wrong
            else ""
        )
        raise InvalidQueryError(f"{path}: unknown $options {wrong!r}: use i, m or s{hint}")
    return "".join(sorted({_RE2_FLAGS[c] for c in options} - {""}))


@functools.lru_cache(maxsize=None)
def _re2():
    """RE2 and its options, loaded on the first regex (start-up stays fast)."""
    import re2

    options = re2.Options()
    options.log_errors = False  # our error names the pattern; RE2 would also print to stderr
    return re2, options


@functools.lru_cache(maxsize=512)
def _compiled(pattern, flags):
    re2, options = _re2()
    return re2.compile(f"(?{flags}){pattern}" if flags else pattern, options)


def compile_regex(pattern, options="", path="query"):
    """``pattern`` compiled by RE2 (linear-time matching), or InvalidQueryError saying why not."""
    flags = regex_flags(options, path)
    try:
        return _compiled(pattern, flags)
    except _re2()[0].error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise InvalidQueryError(
            f"{path}: bad $regex {pattern!r:.60}: {reason}. Patterns run on RE2, in linear "
            "time: no look-around such as (?=...), no back-references such as \\1, "
            "repetition counts up to 1000"
        ) from None


@functools.lru_cache(maxsize=None)
def _linear_regex_class():
    """LinearRegex, a BSON regex that mongomock evaluates with RE2.

    mongomock calls ``try_compile`` on BSON regexes; pymongo sends this one
    to MongoDB as an ordinary regex with the same pattern and flags.
    (Built on first use: bson comes with pymongo, slow to import.)
    """
    from bson.regex import Regex

    class LinearRegex(Regex):
        def try_compile(self):
            return compile_regex(self.pattern, _flag_letters(self.flags))

    return Regex, LinearRegex


def _flag_letters(flags):
    if isinstance(flags, str):
        return flags
    if flags & re.VERBOSE:
        raise InvalidQueryError("regular expressions with the VERBOSE (x) flag are not supported")
    return "".join(letter for flag, letter in _PY_FLAGS if flags & flag)


def _linear_regex(value, options=""):
    regex, linear_regex = _linear_regex_class()
    if isinstance(value, linear_regex):
        return value
    if isinstance(value, (re.Pattern, regex)):
        if not isinstance(value.pattern, str):
            raise InvalidQueryError("a regular expression must be text, not bytes")
        options = _flag_letters(value.flags) + options
        value = value.pattern
    if not isinstance(value, str):
        raise InvalidQueryError(f"$regex needs a string, got {value!r:.60}")
    compile_regex(value, options)  # refuse it now, not at the first document
    return linear_regex(value, regex_flags(options))


def _is_regex(value):
    return isinstance(value, (re.Pattern, _linear_regex_class()[0]))


def linear(query):
    """``query`` with every regular expression as a LinearRegex (evaluated by RE2).

    ``{"$regex": p, "$options": o}`` becomes ``{"$regex": LinearRegex(p, o)}``,
    and compiled patterns from the Python API are converted too. ``$expr``
    is left to the store.
    """
    if isinstance(query, dict):
        out = {}
        for key, value in query.items():
            if key == "$regex":
                out[key] = _linear_regex(value, query.get("$options", ""))
            elif not (key == "$options" and "$regex" in query):
                out[key] = value if key == "$expr" else linear(value)
        return out
    if isinstance(query, list):
        return [linear(v) for v in query]
    return _linear_regex(query) if _is_regex(query) else query


def matcher(query):
    """A predicate ``doc -> bool`` for ``query``, its regexes prepared once for RE2."""
    if not query:
        return lambda doc: True
    try:
        prepared = linear(query)
    except InvalidQueryError as exc:
        raise InvalidQueryError(f"cannot evaluate query {query!r:.120}: {exc}") from None
    filter_applies, operation_failure = _filter_engine()

    def test(doc):
        try:
            return filter_applies(prepared, doc)
        except (
            operation_failure,
            re.error,
            TypeError,
            ValueError,
            KeyError,
            NotImplementedError,
            AssertionError,
        ) as exc:  # mongomock asserts on some malformed $expr
            raise InvalidQueryError(f"cannot evaluate query {query!r:.120}: {exc}") from None

    return test


def matches(query, doc):
    """Whether ``doc`` satisfies the Mongo-style ``query`` (mongomock semantics)."""
    return matcher(query)(doc)


def timed_out(seconds, query=None):
    """The error for a query stopped after ``seconds``."""
    what = "the query" if query is None else f"the query {query!r:.120}"
    return QueryTimeoutError(
        f"{what} ran longer than {seconds:g} s and was stopped; narrow it with fields the "
        "store indexes (fw_id, wf_id, state, name)"
    )


def select(query, docs, seconds=None, started=None, clock=time.monotonic):
    """The ``docs`` matching ``query``, stopping with QueryTimeoutError once the query
    has run ``seconds`` (counted from ``started``): a time budget for scans in Python."""
    test = matcher(query)
    deadline = None if seconds is None else (clock() if started is None else started) + seconds
    out = []
    for i, doc in enumerate(docs):
        if deadline is not None and i % 128 == 0 and clock() > deadline:
            raise timed_out(seconds, query)
        if test(doc):
            out.append(doc)
    return out


@functools.lru_cache(maxsize=None)
def _filter_engine():
    """mongomock's matcher, loaded on the first query that needs it: mongomock
    brings pymongo along, which would double the start-up of every command."""
    from mongomock import OperationFailure
    from mongomock.filtering import filter_applies

    return filter_applies, OperationFailure


def project(doc, fields):
    """Keep only ``fields`` (top-level or dotted) of ``doc``; None keeps all.

    As in MongoDB, a dotted field reaches into every document of a list
    (``spec._tasks._fw_name``), so both stores return the same shape.
    """
    if fields is None:
        return doc
    out = {}
    for field in fields:
        if "." not in field and field not in out:  # the common case, without _pick's copies
            if field in doc:
                out[field] = doc[field]
            continue
        picked = _pick(doc, field)
        if picked is not _MISSING:
            _merge(out, picked)
    return out


_MISSING = object()


def _pick(value, path):
    """The part of ``value`` that the dotted ``path`` selects, or _MISSING."""
    if isinstance(value, list):
        return [
            p if p is not _MISSING else {}
            for p in (_pick(v, path) for v in value if isinstance(v, (dict, list)))
        ]
    head, _, rest = path.partition(".")
    if not isinstance(value, dict) or head not in value:
        return _MISSING
    if not rest:
        return {head: value[head]}
    sub = _pick(value[head], rest)
    if sub is _MISSING or sub == {}:
        return _MISSING
    return {head: sub}


def _merge(into, picked):
    """Fold one field's selection into the projection built so far."""
    for key, value in picked.items():
        have = into.get(key, _MISSING)
        if isinstance(have, dict) and isinstance(value, dict):
            _merge(have, value)
        elif isinstance(have, list) and isinstance(value, list) and len(have) == len(value):
            for mine, theirs in zip(have, value):
                if isinstance(mine, dict) and isinstance(theirs, dict):
                    _merge(mine, theirs)
        else:
            into[key] = value


def sort_key(fields):
    """A Python sort key for ``[(field, direction)]`` that tolerates missing values."""

    def lookup(doc, field):
        for part in field.split("."):
            if not isinstance(doc, dict) or part not in doc:
                return None
            doc = doc[part]
        return doc

    def key(doc):
        out = []
        for field, _direction in fields:
            value = lookup(doc, field)
            out.append((value is not None, _orderable(value)))
        return out

    return key


def _orderable(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value, "")
    if isinstance(value, str):
        return (2, 0, value)
    return (3, 0, json.dumps(value, sort_keys=True, default=str))


def sort_docs(docs, sort):
    """Sort in place by a multi-key ``[(field, 1|-1)]`` spec, stable per key."""
    for field, direction in reversed(sort or []):
        docs.sort(key=sort_key([(field, direction)]), reverse=direction < 0)
    return docs
