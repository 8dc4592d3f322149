"""Queries run in bounded time: regexes on RE2, a time budget, SQL for name searches.

A ``$regex`` like ``^(.|.){0,24}Q`` backtracks exponentially in Python's
``re`` (and holds the GIL meanwhile); the same text must come back at once
from ``lpad -q``, from the Python API on both stores, and through SQL.
"""

import time

import pytest
from pymongo.errors import ExecutionTimeout
from user_commands import new_user

from launchpad import Firework, Workflow
from launchpad.errors import InvalidQueryError, QueryTimeoutError
from launchpad.query import matches, parse_query, select
from launchpad.stores.mongo import MongoStore
from launchpad.stores.sqlite import SQLiteStore, compile_filter
from launchpad.tasks import PyTask

EXPONENTIAL = "^(.|.){0,22}Q"  # about a second a document in Python's re, on 40 characters


def add_named(lp, names, wf_name="wf"):
    fws = [
        Firework(PyTask(func="math.floor", args=[1]), fw_id=i + 1, name=name) for i, name in enumerate(names)
    ]
    lp.add_wf(Workflow(fws, {}, name=wf_name))


def test_lpad_query_with_an_exponential_regex_answers_at_once(tmp_path):
    """As the user hit it: ``lpad get_fws -q`` with a backtracking regex, in a fresh process."""
    spec = tmp_path / "wf.yaml"
    spec.write_text(
        "fws:\n"
        + "".join(
            f"- fw_id: {i}\n  name: {'a' * 40}\n"
            "  spec: {_tasks: [{_fw_name: ScriptTask, script: 'true'}]}\n"
            for i in range(1, 4)
        )
    )
    user = new_user(tmp_path)
    assert user.run("lpad", "add", spec, timeout=60).returncode == 0
    started = time.monotonic()
    result = user.run(
        "lpad",
        "-o",
        "json",
        "get_fws",
        "-q",
        '{"name": {"$regex": "^(.|.){0,24}Q"}}',
        "-d",
        "ids",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert time.monotonic() - started < 8  # Python's re: about 10 s for each of the 3 names


def test_lpad_query_with_look_around_is_refused_with_the_reason(tmp_path):
    result = new_user(tmp_path).run("lpad", "get_fws", "-q", '{"name": {"$regex": "(?=relax)"}}', timeout=60)
    assert result.returncode == 2
    assert "RE2" in result.stderr and "look-around" in result.stderr


@pytest.mark.parametrize("field", ["name", "spec.label"])
def test_exponential_regex_is_linear_on_both_stores(lp, field):
    """On a column (SQL on SQLite) and inside the JSON document (mongomock's engine)."""
    fws = [
        Firework(PyTask(func="math.floor", args=[1]), fw_id=i, name="a" * 40, spec={"label": "a" * 40})
        for i in range(1, 11)
    ]
    lp.add_wf(Workflow(fws, {}, name="a" * 40))
    started = time.monotonic()
    assert lp.get_fws({field: {"$regex": EXPONENTIAL}}) == []
    assert lp.get_fw_ids({field: {"$regex": EXPONENTIAL}}, count_only=True) == 0
    assert lp.fw_state_counts({field: {"$regex": EXPONENTIAL}}) == {}
    assert len(lp.get_fws({field: {"$regex": "^(.|.){0,22}a"}})) == 10
    assert time.monotonic() - started < 3  # Python's re: about 10 s


NAMES = [
    "relax-1",
    "Relax-2",
    "static",
    "RELAXED",
    "\u212aelvin",
    "kelvin",
    "100%_done",
    "a.b",
    "é-relax",
    "line\nbreak",
]
PATTERNS = [
    ("relax", ""),
    ("relax", "i"),
    ("^Relax", ""),
    ("K", "i"),
    ("kelvin", "i"),
    ("%_", ""),
    ("a\\.b", ""),
    ("a.b", ""),
    ("^line$", "m"),
    ("É", "i"),
    ("", ""),
    ("x{2,}|^s", ""),
]


@pytest.mark.parametrize("pattern, options", PATTERNS)
def test_sql_name_search_agrees_with_the_document_matcher(tmp_path, pattern, options):
    """The SQL for $regex on a column (instr, LIKE, or RE2 in SQL) finds exactly what the
    document matcher finds, Unicode case folding included."""
    store = SQLiteStore(tmp_path / "s.sqlite")
    from launchpad import LaunchPad

    lp = LaunchPad(store)
    add_named(lp, NAMES)
    cond = {"$regex": pattern, **({"$options": options} if options else {})}
    clauses, _, residual = compile_filter({"name": cond}, store.fireworks.columns)
    assert clauses and not residual
    expected = sorted(d["name"] for d in lp.get_fws(fields=["name"]) if matches({"name": cond}, d))
    found = sorted(d["name"] for d in lp.get_fws({"name": cond}, fields=["name"]))
    assert found == expected


def test_or_of_columns_is_one_sql_clause(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite")
    query = {"$or": [{"name": {"$regex": "relax", "$options": "i"}}, {"wf_id": {"$in": [1, 2]}}]}
    clauses, _, residual = compile_filter(query, store.workflows.columns)
    assert len(clauses) == 1 and residual == {}
    clauses, _, residual = compile_filter(
        {"$or": [{"name": "x"}, {"metadata.p": 1}]}, store.workflows.columns
    )
    assert clauses == [] and "$or" in residual


def test_python_api_compiled_patterns_run_on_re2_too(lp):
    import re

    add_named(lp, ["a" * 40, "Relax"])
    started = time.monotonic()
    assert lp.get_fws({"spec._tasks.0.args": re.compile(EXPONENTIAL)}) == []
    assert [d["name"] for d in lp.get_fws({"name": re.compile("^relax", re.I)}, fields=["name"])] == ["Relax"]
    assert time.monotonic() - started < 3


def test_scan_past_its_time_budget_stops_with_a_clear_error(tmp_path):
    """The budget is checked while documents are filtered in Python (a fake clock here)."""
    ticks = iter(range(0, 10_000, 1))
    docs = [{"spec": {"p": i}} for i in range(1000)]
    with pytest.raises(QueryTimeoutError, match="ran longer than 5 s and was stopped"):
        select({"spec.p": {"$gt": 5}}, docs, seconds=5, clock=lambda: next(ticks))
    assert len(select({"spec.p": {"$gt": 5}}, docs, seconds=None)) == 994


def test_sqlite_store_applies_its_time_budget(tmp_path):
    from launchpad import LaunchPad

    store = SQLiteStore(tmp_path / "s.sqlite")
    lp = LaunchPad(store)
    add_named(lp, ["x"] * 300)
    store.query_seconds = 1e-9
    with pytest.raises(QueryTimeoutError):
        lp.get_fws({"spec._tasks.0.args": 1})
    assert lp.get_fws({"name": "x"}, fields=["fw_id"], limit=1)  # all SQL: no scan to stop


def test_mongo_store_sends_max_time_ms_and_reports_timeouts():
    store = MongoStore.connect(mongomock=True, name="budget")
    seen = []
    real = store.fireworks.count_documents

    def count_documents(query, **kwargs):
        seen.append(kwargs)
        return real(query, **kwargs)

    store.fireworks.count_documents = count_documents
    store.count_fireworks({"name": {"$regex": "x"}})
    assert seen == [{"maxTimeMS": 60000}]

    def too_slow(*args, **kwargs):
        raise ExecutionTimeout("operation exceeded time limit", 50)

    store.fireworks.count_documents = too_slow
    with pytest.raises(QueryTimeoutError, match="ran longer than 60 s"):
        store.count_fireworks({"name": {"$regex": "x"}})


def test_regex_options_are_checked_alike_for_every_store():
    assert parse_query('{"name": {"$regex": "a", "$options": "ims"}}')
    for bad, words in [
        ('{"name": {"$regex": "a", "$options": "x"}}', "extended syntax"),
        ('{"name": {"$regex": "a", "$options": "q"}}', "unknown \\$options"),
        ('{"name": {"$regex": "(a)\\\\1"}}', "back-references"),
        ('{"name": {"$regex": "a{5000}"}}', "repetition"),
    ]:
        with pytest.raises(InvalidQueryError, match=words):
            parse_query(bad)


def test_gui_json_api_answers_an_exponential_regex_at_once_on_both_stores(lp):
    """The request the issue names, through the app, on SQLite and on mongomock."""
    from webgui import create_app

    for i in range(10):
        fw = Firework(PyTask(func="math.floor", args=[1]), fw_id=1, name="a" * 40)
        lp.add_wf(Workflow([fw], {}, name="b" * 40 + str(i), metadata={"x": "a" * 40}))
    client = create_app({"TESTING": True}, lp).test_client()
    started = time.monotonic()
    for query in ('{"name": {"$regex": "^(.|.){0,22}Q"}}', '{"metadata.x": {"$regex": "^(.|.){0,22}Q"}}'):
        response = client.get("/api/workflows", query_string={"query": query, "q": "a" * 30})
        assert response.status_code == 200 and response.get_json()["total"] == 0
    assert time.monotonic() - started < 3
    refused = client.get("/api/workflows", query_string={"query": '{"name": {"$regex": "(?<=a)b"}}'})
    assert refused.status_code == 400 and "look-around" in refused.get_json()["error"]


def test_a_worker_query_with_an_exponential_regex_claims_at_once(lp, tmp_path):
    """my_fworker.yaml's query runs on every claim: RE2 there too, on both stores."""
    from launchpad.worker import FWorker

    add_named(lp, ["a" * 40] * 10 + ["Q"])
    worker = FWorker(query={"name": {"$regex": EXPONENTIAL}})
    started = time.monotonic()
    fw, _launch_id = lp.claim_to_run(worker=worker.filter(), launch_dir=str(tmp_path))
    assert fw["name"] == "Q"
    assert time.monotonic() - started < 2  # Python's re: about 1 s for each of 10 names
