"""User queries: Mongo-style filters, parsed and vetted once for every store.

Queries come from ``lpad -q``, worker files and the web GUI. They run on
MongoDB natively and on SQLite through mongomock's filter engine, so the
same text means the same thing on both stores. Operators that run code on
the server are refused everywhere.
"""

import json

from mongomock.filtering import filter_applies

from .errors import InvalidQueryError

FORBIDDEN_OPERATORS = frozenset({"$where", "$function", "$accumulator"})


def parse_query(text):
    """A filter dict from JSON text (or an already-parsed dict), vetted."""
    if text is None or text == "":
        return {}
    if isinstance(text, dict):
        query = text
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


def check_safe(value, path="query"):
    """Refuse operators that execute JavaScript on the database server."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if not isinstance(key, str):
                raise InvalidQueryError(f"{path}: keys must be strings, got {key!r}")
            if key in FORBIDDEN_OPERATORS:
                raise InvalidQueryError(
                    f"{path}: the operator {key} runs code on the server and is not allowed")
            check_safe(sub, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, sub in enumerate(value):
            check_safe(sub, f"{path}[{i}]")


def matches(query, doc):
    """Whether ``doc`` satisfies the Mongo-style ``query`` (mongomock semantics)."""
    if not query:
        return True
    try:
        return filter_applies(query, doc)
    except (TypeError, ValueError, KeyError, NotImplementedError) as exc:
        raise InvalidQueryError(f"cannot evaluate query {query!r:.120}: {exc}") from None
    except Exception as exc:  # mongomock raises its own OperationFailure for bad operators
        if type(exc).__module__.startswith("mongomock"):
            raise InvalidQueryError(f"bad query {query!r:.120}: {exc}") from None
        raise


def project(doc, fields):
    """Keep only ``fields`` (top-level or dotted) of ``doc``; None keeps all."""
    if fields is None:
        return doc
    out = {}
    for field in fields:
        head, _, rest = field.partition(".")
        if head not in doc:
            continue
        if not rest:
            out[head] = doc[head]
            continue
        value = doc[head]
        if isinstance(value, dict):
            sub = project(value, [rest])
            if sub:
                out.setdefault(head, {}).update(sub)
    return out


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
