"""User queries: Mongo-style filters, parsed and vetted once for every store.

Queries come from ``lpad -q``, worker files and the web GUI. They run on
MongoDB natively and on SQLite through mongomock's filter engine, so the
same text means the same thing on both stores. Operators that run code on
the server are refused everywhere.
"""

import functools
import json
import re

from .errors import InvalidQueryError

FORBIDDEN_OPERATORS = frozenset({"$where", "$function", "$accumulator"})
# What both stores evaluate alike (MongoDB natively, SQLite through mongomock).
# Inside $expr the keys are aggregation operators and are left to the store.
QUERY_OPERATORS = frozenset({
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin",
    "$and", "$or", "$nor", "$not", "$exists", "$type", "$regex", "$options",
    "$all", "$elemMatch", "$size", "$expr", "$comment"})
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
            raise InvalidQueryError(
                f"the query is not valid JSON ({exc.msg} at character {exc.pos}): {text!r:.120}"
            ) from None
    if not isinstance(query, dict):
        raise InvalidQueryError(f"a query must be a JSON object, got {type(query).__name__}")
    check_safe(query)
    return query


def check_safe(value, path="query", in_expr=False):
    """Refuse operators that execute JavaScript on the database server, and
    malformed or unknown ones, so a bad query fails the same way on every store."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if not isinstance(key, str):
                raise InvalidQueryError(f"{path}: keys must be strings, got {key!r}")
            if key in FORBIDDEN_OPERATORS:
                raise InvalidQueryError(
                    f"{path}: the operator {key} runs code on the server and is not allowed")
            if key.startswith("$") and not in_expr:
                _check_operator(key, sub, path)
            check_safe(sub, f"{path}.{key}", in_expr or key == "$expr")
    elif isinstance(value, (list, tuple)):
        for i, sub in enumerate(value):
            check_safe(sub, f"{path}[{i}]", in_expr)


def _check_operator(op, operand, path):
    if op not in QUERY_OPERATORS:
        raise InvalidQueryError(f"{path}: unknown query operator {op}; use one of "
                                f"{', '.join(sorted(QUERY_OPERATORS))}")
    if op in _NEEDS_LIST and not isinstance(operand, list):
        raise InvalidQueryError(f"{path}: {op} needs a list, got {operand!r:.60}")
    if op in ("$and", "$or", "$nor") and not all(isinstance(c, dict) for c in operand):
        raise InvalidQueryError(f"{path}: {op} needs a list of conditions (objects)")
    if op in _NEEDS_MAPPING and not isinstance(operand, dict):
        raise InvalidQueryError(f"{path}: {op} needs an object, got {operand!r:.60}")
    if op == "$regex":
        try:
            re.compile(operand)
        except (re.error, TypeError) as exc:
            raise InvalidQueryError(f"{path}: bad $regex {operand!r:.60}: {exc}") from None


def matches(query, doc):
    """Whether ``doc`` satisfies the Mongo-style ``query`` (mongomock semantics)."""
    if not query:
        return True
    filter_applies, operation_failure = _filter_engine()
    try:
        return filter_applies(query, doc)
    except (operation_failure, re.error, TypeError, ValueError, KeyError, NotImplementedError,
            AssertionError) as exc:  # mongomock asserts on some malformed $expr
        raise InvalidQueryError(f"cannot evaluate query {query!r:.120}: {exc}") from None


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
        picked = _pick(doc, field)
        if picked is not _MISSING:
            _merge(out, picked)
    return out


_MISSING = object()


def _pick(value, path):
    """The part of ``value`` that the dotted ``path`` selects, or _MISSING."""
    if isinstance(value, list):
        return [p if p is not _MISSING else {} for p in
                (_pick(v, path) for v in value if isinstance(v, (dict, list)))]
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
