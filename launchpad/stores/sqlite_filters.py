"""Mongo-style filters as SQL for the SQLite store: the parts of a query on columns
become WHERE clauses; the rest (the residual) is checked in Python on the documents.

Apart from sqlite.py so that the store module stays one concept (tables, transactions
and the Store interface) and within the size budget.
"""

import json
from typing import Any, NamedTuple

from ..query import WorkflowsOfFireworks, check_safe, compile_regex
from .sqlite_names import literal_text

_SQL_OPS = {"$eq": "=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_JSON_IN_THRESHOLD = 64


def _type_fits(kind, value):
    if kind == "text":
        return isinstance(value, str)
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**63) <= value < 2**63  # larger ones are compared in Python, not as SQL
    return isinstance(value, float)


def _all_fit(kind, values):
    """``_type_fits`` for every value; a long ``$in`` of plain ints (a page's ids) in one pass."""
    if kind != "text" and all(type(v) is int for v in values):  # noqa: E721 (bool is no id)
        return not values or (-(2**63) <= min(values) and max(values) < 2**63)
    return all(_type_fits(kind, v) for v in values)


def in_clause(col, values, params):
    if len(values) > _JSON_IN_THRESHOLD:
        params.append(json.dumps(values))
        return f"{col} IN (SELECT value FROM json_each(?))"
    params.extend(values)
    return f"{col} IN ({','.join('?' * len(values))})"


def _column_clause(col, kind, cond, params):
    """SQL for ``{col: cond}`` when SQL means exactly what Mongo means, else None."""
    if cond is None:
        return f"{col} IS NULL"
    if _type_fits(kind, cond):
        params.append(cond)
        return f"{col} = ?"
    if not isinstance(cond, dict) or not cond:
        return None
    parts, local = [], []
    for op, value in cond.items():
        if op in _SQL_OPS and _type_fits(kind, value):
            parts.append(f"{col} {_SQL_OPS[op]} ?")
            local.append(value)
        elif op == "$ne" and _type_fits(kind, value):
            parts.append(f"({col} IS NULL OR {col} != ?)")
            local.append(value)
        elif op in ("$in", "$nin") and isinstance(value, (list, tuple)):
            values = [v for v in value if v is not None]
            if not _all_fit(kind, values):
                return None
            has_null = len(values) != len(value)
            inner = in_clause(col, values, local) if values else "0"
            if op == "$in":
                parts.append(f"({inner} OR {col} IS NULL)" if has_null else inner)
            elif has_null:
                parts.append(f"({col} IS NOT NULL AND NOT {inner})")
            else:
                parts.append(f"({col} IS NULL OR NOT {inner})")
        else:
            return None
    params.extend(local)
    return " AND ".join(parts)


def sql_regex(pattern, options, value):
    """SQL function starshell_regex(pattern, options, value): MongoDB's $regex, on RE2."""
    return int(isinstance(value, str) and compile_regex(pattern, options).search(value) is not None)


def _regex_clause(col, cond, params):
    """``{"$regex": ..., "$options": ...}`` on a text column as SQL, or None.

    A plain word is found in SQLite's C code (instr, or LIKE when case does
    not matter), so a name search reads no JSON documents; any other pattern
    goes through RE2 (the SQL function starshell_regex). LIKE folds ASCII
    case only, so names holding other characters are left to RE2.
    """
    if not isinstance(cond, dict) or "$regex" not in cond or set(cond) - {"$regex", "$options"}:
        return None
    pattern, options = cond["$regex"], cond.get("$options", "")
    if not isinstance(pattern, str):
        return None
    compile_regex(pattern, options)
    literal = literal_text(pattern)
    text = f"typeof({col}) = 'text'"
    if literal is not None and "i" not in options:
        params.append(literal)
        return f"({text} AND instr({col}, ?) > 0)"
    regex = f"starshell_regex(?, ?, {col})"
    if literal is None or not literal.isascii():
        params += [pattern, options]
        return regex
    params += ["%" + "".join("\\" + c if c in "%_\\" else c for c in literal) + "%", pattern, options]
    # LIKE folds ASCII case only, RE2 more (the Kelvin sign is a k): a name LIKE finds is
    # RE2's too, and only a name LIKE misses that holds non-ASCII goes to RE2. Testing
    # LIKE first spares the length test on the matches (a common word: 1 name in 8).
    ascii_only = f"length({col}) = length(CAST({col} AS BLOB))"  # UTF-8: one byte a character
    return f"({text} AND ({col} LIKE ? ESCAPE '\\' OR NOT {ascii_only} AND {regex}))"


def _or_clause(branches, columns, params, names=None, subqueries=None):
    """``$or`` as SQL when every branch is all SQL, else None (it is then checked in Python)."""
    parts, local = [], []
    for sub in branches:
        sub_clauses, sub_params, sub_residual = compile_filter(sub, columns, names, subqueries)
        if sub_residual:
            return None
        parts.append(" AND ".join(sub_clauses) or "1")
        local += sub_params
    params += local
    return "(" + " OR ".join(f"({p})" for p in parts) + ")"


class Subqueries(NamedTuple):
    """What turns a WorkflowsOfFireworks into SQL: the fireworks table, the table the
    query reads (``outer``) and whether it reads one page (a LIMIT)."""

    fireworks: Any
    outer: str
    paged: bool = False


def _workflows_of(col, cond, subqueries, params):
    """``{col: {"$in": WorkflowsOfFireworks(q)}}`` as SQL when ``q`` is all SQL, else None
    (the table then resolves it to a list of ids).

    The ids are listed once by ``col IN (SELECT wf_id ...)``; but a page of a word the
    name index finds common is filled sooner workflow by workflow (EXISTS, through the
    ``wf_id`` index), stopping at the page, than by listing 12,000 names first."""
    if not (isinstance(cond, dict) and len(cond) == 1 and isinstance(cond.get("$in"), WorkflowsOfFireworks)):
        return None
    if subqueries is None:
        return None
    fireworks, query = subqueries.fireworks, cond["$in"].query
    clauses, local, residual = compile_filter(query, fireworks.columns, fireworks.names)
    if residual:
        return None
    params += local
    where = " AND ".join(clauses) or "1"
    if subqueries.paged and fireworks.names is not None and fireworks.names.common(query.get("name")):
        return f"EXISTS (SELECT 1 FROM fireworks f WHERE f.wf_id = {subqueries.outer}.{col} AND {where})"
    return f"{col} IN (SELECT wf_id FROM fireworks WHERE {where})"


def vetted(query):
    """Every query, even one from the Python API, is refused if it would run code."""
    check_safe(query or {})
    return query


def compile_filter(query, columns, names=None, subqueries=None):
    """Split a Mongo filter into SQL clauses on ``columns`` and a residual filter;
    ``names`` (a NameIndex) narrows name searches to its candidates; ``subqueries``
    (Subqueries) turns a WorkflowsOfFireworks into a subquery."""
    clauses, params, residual = [], [], {}
    for key, cond in (query or {}).items():
        if key == "$and" and isinstance(cond, list):
            rest = []
            for sub in cond:
                sub_clauses, sub_params, sub_residual = compile_filter(sub, columns, names, subqueries)
                clauses += sub_clauses
                params += sub_params
                if sub_residual:
                    rest.append(sub_residual)
            if rest:
                residual.setdefault("$and", []).extend(rest)
            continue
        sql, local = None, []
        if key == "$or" and isinstance(cond, list) and cond:
            sql = _or_clause(cond, columns, local, names, subqueries)
        elif key in columns:
            sql = _workflows_of(key, cond, subqueries, local)
            if sql is None:
                sql = _column_clause(key, columns[key], cond, local)
            if sql is None and columns[key] == "text":
                local = []
                sql = _regex_clause(key, cond, local)
                if sql is not None and key == "name" and names is not None:
                    sql, local = names.narrow(key, cond, sql, local)
        if sql is None:
            residual[key] = cond
        else:
            clauses.append(sql)
            params += local
    return clauses, params, residual
