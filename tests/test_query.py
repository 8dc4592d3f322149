"""User queries: parsing and vetting, matching, projection and sorting."""

import pytest

from launchpad.errors import InvalidQueryError
from launchpad.query import matches, parse_query, project, sort_docs

DOC = {
    "fw_id": 3,
    "name": "relax",
    "state": "READY",
    "spec": {
        "param": 5,
        "tags": ["a", "b"],
        "_tasks": [{"_fw_name": "ScriptTask", "script": "x"}, {"_fw_name": "PyTask"}, 7],
    },
}


# ---- parse_query ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (None, {}),
        ("", {}),
        ({}, {}),
        ('{"spec.param": {"$gt": 3}}', {"spec.param": {"$gt": 3}}),
        ({"state": "READY"}, {"state": "READY"}),
        (
            '{"$or": [{"state": "READY"}, {"name": {"$regex": "^re", "$options": "i"}}]}',
            {"$or": [{"state": "READY"}, {"name": {"$regex": "^re", "$options": "i"}}]},
        ),
        ('{"$expr": {"$gt": ["$spec.param", 4]}}', {"$expr": {"$gt": ["$spec.param", 4]}}),
    ],
)
def test_good_queries_parse(text, expected):
    assert parse_query(text) == expected


@pytest.mark.parametrize(
    "text, words",
    [
        ("{state: READY}", "not valid JSON \\(Expecting property name"),
        ('{"a": 1', "not valid JSON"),
        ("[1, 2]", "must be a JSON object, got list"),
        ('"READY"', "must be a JSON object, got str"),
        ("3", "must be a JSON object, got int"),
        ("null", "must be a JSON object, got NoneType"),
    ],
)
def test_bad_text_is_refused(text, words):
    with pytest.raises(InvalidQueryError, match=words) as info:
        parse_query(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "query",
    [
        {"$where": "this.a == 1"},
        {"$or": [{"state": "READY"}, {"$where": "sleep(1000)"}]},
        {"spec": {"$elemMatch": {"$where": "1"}}},
        {"$and": [{"$or": [{"$nor": [{"$where": "1"}]}]}]},
        {"$expr": {"$function": {"body": "function() {return 1}", "args": [], "lang": "js"}}},
        {"$expr": {"$gt": [{"$accumulator": {}}, 1]}},
        {"$expr": {"$and": [{"$eq": [1, 1]}, {"$function": {}}]}},
    ],
)
@pytest.mark.parametrize("as_text", [False, True])
def test_code_running_operators_are_refused_anywhere(query, as_text):
    import json

    with pytest.raises(InvalidQueryError, match="runs code on the server and is not allowed"):
        parse_query(json.dumps(query) if as_text else query)


def test_the_refusal_says_where():
    with pytest.raises(InvalidQueryError, match=r"^query\.\$or\[1\]: the operator \$where"):
        parse_query({"$or": [{}, {"$where": "1"}]})


@pytest.mark.parametrize(
    "query, words",
    [
        ({"spec.param": {"$foo": 1}}, "unknown query operator \\$foo"),
        ({"$bogus": []}, "unknown query operator \\$bogus"),
        ({"spec.param": {"$mod": [2, 1]}}, "unknown query operator \\$mod"),  # not on both stores
        ({"state": {"$in": "READY"}}, "\\$in needs a list"),
        ({"$or": {"state": "READY"}}, "\\$or needs a list"),
        ({"$and": ["READY"]}, "\\$and needs a list of conditions"),
        ({"spec.tags": {"$elemMatch": 3}}, "\\$elemMatch needs an object"),
        ({"name": {"$regex": "["}}, "bad \\$regex"),
        ({1: "x"}, "keys must be strings"),
    ],
)
def test_malformed_operators_fail_before_reaching_a_store(query, words):
    with pytest.raises(InvalidQueryError, match=words):
        parse_query(query)


# ---- matches --------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, True),
        (None, True),
        ({"spec.param": {"$gt": 3}}, True),
        ({"spec.param": {"$gt": 5}}, False),
        ({"spec.tags": "a"}, True),
        ({"spec.tags": {"$all": ["a", "b"]}}, True),
        ({"spec.tags": {"$size": 3}}, False),
        ({"spec._tasks._fw_name": "PyTask"}, True),
        ({"spec.missing": {"$exists": False}}, True),
        ({"$or": [{"state": "RUNNING"}, {"name": {"$regex": "^rel"}}]}, True),
        ({"$nor": [{"state": "READY"}]}, False),
        ({"fw_id": {"$in": [1, 2]}}, False),
        ({"spec.param": {"$not": {"$lt": 3}}}, True),
    ],
)
def test_matches_uses_mongo_semantics(query, expected):
    assert matches(query, DOC) is expected


@pytest.mark.parametrize(
    "query", [{"a": {"$foo": 1}}, {"name": {"$regex": "["}}, {"$and": 5}, {"state": {"$in": 5}}]
)
def test_matches_turns_engine_errors_into_query_errors(query):
    """Queries that skipped parse_query must still fail as InvalidQueryError, not a traceback."""
    with pytest.raises(InvalidQueryError, match="cannot evaluate query"):
        matches(query, DOC)


# ---- project --------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, expected",
    [
        (None, DOC),
        ([], {}),
        (["fw_id", "state"], {"fw_id": 3, "state": "READY"}),
        (["spec.param", "absent", "spec.absent"], {"spec": {"param": 5}}),
        (["spec.param", "spec.tags"], {"spec": {"param": 5, "tags": ["a", "b"]}}),
        (["spec.param.deeper"], {}),
        (
            ["spec._tasks._fw_name"],
            {"spec": {"_tasks": [{"_fw_name": "ScriptTask"}, {"_fw_name": "PyTask"}]}},
        ),
        (
            ["spec._tasks.script", "spec._tasks._fw_name"],
            {"spec": {"_tasks": [{"script": "x", "_fw_name": "ScriptTask"}, {"_fw_name": "PyTask"}]}},
        ),
    ],
)
def test_project_keeps_only_the_fields_asked(fields, expected):
    assert project(DOC, fields) == expected


def test_project_leaves_the_document_alone():
    import copy

    before = copy.deepcopy(DOC)
    project(DOC, ["spec.param", "spec", "spec._tasks._fw_name"])
    assert DOC == before


# ---- sort_docs ------------------------------------------------------------------


def _values(docs, field="p"):
    return [d.get(field, "<missing>") for d in docs]


def test_missing_and_null_sort_first_ascending_and_last_descending():
    docs = [{"p": 3}, {}, {"p": 1}, {"p": None}, {"p": 2.5}]
    assert _values(sort_docs(list(docs), [("p", 1)])) == ["<missing>", None, 1, 2.5, 3]
    assert _values(sort_docs(list(docs), [("p", -1)])) == [3, 2.5, 1, "<missing>", None]


def test_mixed_types_order_numbers_then_text_then_the_rest():
    docs = [{"p": "b"}, {"p": [1]}, {"p": 10}, {"p": "a"}, {"p": True}, {"p": -1}]
    assert _values(sort_docs(docs, [("p", 1)])) == [-1, 10, "a", "b", [1], True]


def test_multi_key_sort_with_directions_and_dotted_fields():
    docs = [
        {"spec": {"_priority": 1}, "fw_id": 2},
        {"spec": {"_priority": 5}, "fw_id": 3},
        {"spec": {"_priority": 1}, "fw_id": 1},
        {"fw_id": 4},
    ]
    ordered = sort_docs(docs, [("spec._priority", -1), ("fw_id", 1)])
    assert [d["fw_id"] for d in ordered] == [3, 1, 2, 4]


def test_sort_is_stable_and_none_means_unchanged():
    docs = [{"k": 1, "i": 0}, {"k": 0, "i": 1}, {"k": 1, "i": 2}]
    assert [d["i"] for d in sort_docs(list(docs), [("k", 1)])] == [1, 0, 2]
    assert sort_docs(list(docs), None) == docs
    assert sort_docs(list(docs), []) == docs
