"""Bad input, fuzzed (hypothesis): workflow files, -q queries, FWActions returned by
tasks, my_*.yaml files and lpad command lines.

Every failure must be the project's own error (or argparse's exit 2) with a
message, never a traceback, and never a partial write. Examples are bounded
so the suite stays fast; ``STARSHELL_FAULTS=full`` tries many more, with a
random seed (the CI runs a fixed set).
"""

import io
import json
import math
import os
from contextlib import redirect_stderr, redirect_stdout

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launchpad import FiretaskBase, Firework, LaunchPad, Workflow
from launchpad.checker import check
from launchpad.config import load_config
from launchpad.errors import StarshellError
from launchpad.files import dumps
from launchpad.query import parse_query
from launchpad.stores import SQLiteStore
from launchpad.stores.mongo import MongoStore
from launchpad.worker import load_fworker
from launchpad.workflow_files import load_workflow

FULL = os.environ.get("STARSHELL_FAULTS") == "full"
TRIED = {}  # generated inputs per fuzz target
OUTCOMES = {}  # what became of them (added, accepted, completed, fizzled, known bug...)


def fuzz(examples, full_examples=None):
    """Hypothesis settings: a fixed, small set in CI; many random ones under --full."""
    return settings(
        max_examples=(full_examples or examples * 20) if FULL else examples,
        deadline=None,
        derandomize=not FULL,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def tried(name):
    TRIED[name] = TRIED.get(name, 0) + 1


def outcome(name):
    OUTCOMES[name] = OUTCOMES.get(name, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def figures():
    yield
    target = os.environ.get("STARSHELL_FAULTS_FIGURES")
    if target and TRIED:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(
                json.dumps(
                    {
                        "test": "fuzz",
                        "full": FULL,
                        "cases": dict(TRIED),
                        "outcomes": dict(OUTCOMES),
                        "total_cases": sum(TRIED.values()),
                    }
                )
                + "\n"
            )


# -- strategies ------------------------------------------------------------------------
SPECIAL_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "é",
        "☃",
        "🚀",
        "a" * 300,
        "$where",
        "a.b",
        "_tasks",
        "_fw_name",
        "../../etc",
        "~",
        "null",
        "1e400",
    ]
)
TEXT = st.text(max_size=12) | SPECIAL_TEXT
NUMBERS = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, -1, 2**63, 2**64, 10**30, -(10**30)])
    | st.floats(allow_nan=True, allow_infinity=True)
)
LEAVES = st.none() | st.booleans() | NUMBERS | TEXT
JSON_LIKE = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
IDS = st.integers(min_value=-5, max_value=8) | NUMBERS | TEXT | st.none()
TASK = st.fixed_dictionaries(
    {"_fw_name": st.sampled_from(["Fuzz Noop", "PyTask", "NoSuchTask"]) | TEXT},
    optional={"func": TEXT, "args": JSON_LIKE},
)
SPEC = st.fixed_dictionaries(
    {},
    optional={
        "_tasks": st.lists(TASK, max_size=3) | JSON_LIKE,
        "_priority": NUMBERS | TEXT,
        "_category": JSON_LIKE,
        "_launch_dir": TEXT,
        "_allow_fizzled_parents": JSON_LIKE,
        "data": JSON_LIKE,
    },
)
FIREWORK = st.fixed_dictionaries(
    {"fw_id": IDS, "spec": SPEC | JSON_LIKE}, optional={"name": JSON_LIKE, "parents": JSON_LIKE}
)
WORKFLOW = st.fixed_dictionaries(
    {"fws": st.lists(FIREWORK, max_size=5) | JSON_LIKE},
    optional={
        "links": st.dictionaries(IDS.map(str) | IDS, st.lists(IDS, max_size=3) | JSON_LIKE, max_size=4)
        | JSON_LIKE,
        "name": JSON_LIKE,
        "metadata": JSON_LIKE,
    },
)


@st.composite
def nearly_valid_workflows(draw):
    """Workflows that mostly make sense, with odd data: unicode, huge numbers, odd links."""
    ids = draw(
        st.lists(st.integers(-3, 10**6) | st.sampled_from([0, 2**62]), min_size=1, max_size=6, unique=True)
    )
    fws = [
        {
            "fw_id": i,
            "name": draw(TEXT),
            "spec": {
                "_tasks": [{"_fw_name": "Fuzz Noop"}],
                **draw(st.dictionaries(TEXT, JSON_LIKE, max_size=3)),
            },
        }
        for i in ids
    ]
    links = {}
    for i in ids:
        kids = draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))
        if kids:
            links[draw(st.sampled_from([str(i), i]))] = kids
    return {
        "fws": fws,
        "links": links,
        "name": draw(TEXT),
        "metadata": draw(st.dictionaries(TEXT, JSON_LIKE, max_size=3)),
    }


def deep(depth, leaf=1):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


class FuzzNoop(FiretaskBase):
    _fw_name = "Fuzz Noop"

    def run_task(self, fw_spec):
        return None


def fresh_lp(tmp_path_factory, kind="sqlite"):
    if kind == "sqlite":
        return LaunchPad(SQLiteStore(tmp_path_factory.mktemp("store") / "launchpad.sqlite"))
    return LaunchPad(MongoStore.connect(mongomock=True, name=f"fuzz_{os.urandom(4).hex()}"))


def lpad(argv, lp):
    """``lpad`` in this process: (exit code, stdout, stderr)."""
    from launchpad.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv, launchpad=lp)
    return code, out.getvalue(), err.getvalue()


# Bugs found by fuzzing get a regression test below; while one is open it can be listed here
# (name: (exception class, text)) so fuzz examples that hit it are counted, not failed.
KNOWN_BUGS = {}


def known_bug(exc):
    for name, (cls, text) in KNOWN_BUGS.items():
        if isinstance(exc, cls) and text in str(exc):
            outcome(f"known bug: {name}")
            return True
    return False


def assert_user_error(code, err, debug=False):
    assert code != 0
    if not debug:
        assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "an error without a message"


# -- workflow files --------------------------------------------------------------------
def _write(path, data, fmt):
    if fmt == "json":
        text = json.dumps(data, allow_nan=True)
    else:
        try:
            text = dumps(data, "yaml")
        except Exception:  # what YAML cannot even write (e.g. odd floats): use JSON text
            text = json.dumps(data, allow_nan=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("kind", ["sqlite", "mongomock"])
def test_workflow_files(tmp_path_factory, kind):
    lp = fresh_lp(tmp_path_factory, kind)
    folder = tmp_path_factory.mktemp("files")

    @fuzz(100 if kind == "sqlite" else 50)
    @given(data=nearly_valid_workflows() | WORKFLOW | JSON_LIKE, fmt=st.sampled_from(["json", "yaml"]))
    def add(data, fmt):
        tried(f"workflow_files_{kind}")
        path = folder / f"wf.{fmt}"
        _write(path, data, fmt)
        before = lp.get_fw_ids(count_only=True), lp.count_wfs()
        try:
            code, out, err = lpad(["add", str(path)], lp)
        except Exception as exc:
            if known_bug(exc):
                return
            raise
        after = lp.get_fw_ids(count_only=True), lp.count_wfs()
        if code == 0:
            outcome(f"workflow_files_{kind}: added")
            assert after[1] == before[1] + 1 and after[0] > before[0]
            assert lp.get_fw_ids(count_only=True) == after[0]
        else:
            assert_user_error(code, err)
            assert after == before, "a refused file left part of itself behind"

    add()
    assert check(lp, grace_secs=0).ok


@given(text=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
@fuzz(80)
def test_garbage_workflow_text(tmp_path_factory, text):
    tried("workflow_garbage_text")
    path = tmp_path_factory.mktemp("garbage") / "wf.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_workflow(str(path))
    except StarshellError as exc:
        assert str(exc)


@pytest.mark.parametrize("depth", [50, 200, 900])
@pytest.mark.parametrize("kind", ["sqlite", "mongomock"])
def test_deeply_nested_specs_are_stored_or_refused_cleanly(tmp_path_factory, kind, depth):
    lp = fresh_lp(tmp_path_factory, kind)
    wf = Workflow([Firework(FuzzNoop(), spec={"data": deep(depth)})])
    try:
        lp.add_wf(wf)
    except StarshellError as exc:
        assert "nest" in str(exc)
        assert lp.get_fw_ids(count_only=True) == 0
    else:
        assert lp.get_fw_dict(1)["spec"]["data"] == deep(depth)
    assert check(lp, grace_secs=0).ok


@pytest.mark.parametrize("kind", ["sqlite", "mongomock"])
@pytest.mark.parametrize(
    "spec",
    [
        {"_priority": 10**30},
        {"_priority": -(10**30)},
        {"_priority": float("nan")},
        {"_priority": float("inf")},
        {"huge": 10**30},
        {"keys": {"a\x00b": 1}},
        {"deep": deep(3000)},
    ],
)
def test_values_a_store_cannot_hold_are_refused_cleanly(tmp_path_factory, kind, spec):
    lp = fresh_lp(tmp_path_factory, kind)
    lp.add_wf(Firework(FuzzNoop(), name="before"))
    try:
        lp.add_wf(Workflow([Firework(FuzzNoop(), fw_id=1), Firework(FuzzNoop(), spec=spec, fw_id=2)]))
    except StarshellError as exc:
        assert str(exc)
        assert lp.get_fw_ids(count_only=True) == 1  # nothing of the refused workflow
    else:
        assert lp.get_fw_ids(count_only=True) == 3
        assert lp.claim_to_run()[0] is not None  # and the store still claims work
    assert check(lp, grace_secs=0).ok


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_deeply_nested_file_is_a_clean_error(tmp_path, fmt):
    path = tmp_path / f"deep.{fmt}"
    path.write_text('{"fws": [{"fw_id": 1, "spec": {"x": ' + "[" * 5000 + "]" * 5000 + "}}]}")
    with pytest.raises(StarshellError):
        load_workflow(str(path))


def test_a_null_task_name_is_a_clean_error():
    from launchpad.workflow_files import loads_workflow

    with pytest.raises(StarshellError):
        loads_workflow('{"fws": [{"fw_id": 1, "spec": {"_tasks": [{"_fw_name": null}]}}]}', "json")


def test_a_worker_query_given_as_a_list_is_a_clean_error():
    from launchpad.worker import fworker_from_dict

    with pytest.raises(StarshellError):
        fworker_from_dict({"name": "w", "query": [None]})


def test_an_incomplete_expr_query_is_a_clean_error(query_lp):
    with pytest.raises(StarshellError):
        query_lp.get_fws(parse_query('{"$expr": {"$gt": {}}}'))


# -- queries ---------------------------------------------------------------------------
OPERATORS = st.sampled_from(
    [
        "$gt",
        "$gte",
        "$lt",
        "$lte",
        "$ne",
        "$eq",
        "$in",
        "$nin",
        "$exists",
        "$regex",
        "$not",
        "$size",
        "$all",
        "$elemMatch",
        "$type",
        "$mod",
        "$and",
        "$or",
        "$nor",
        "$expr",
        "$where",
        "$function",
        "$accumulator",
        "$bogus",
        "$options",
        "$text",
        "$comment",
    ]
)
FIELDS = st.sampled_from(
    [
        "fw_id",
        "wf_id",
        "name",
        "state",
        "priority",
        "spec",
        "spec._priority",
        "spec.data",
        "parents",
        "children",
        "created_on",
        "launches",
        "a.b.c",
    ]
)
QUERY = st.recursive(
    st.dictionaries(FIELDS | TEXT, LEAVES, max_size=3),
    lambda inner: st.dictionaries(
        FIELDS | OPERATORS, inner | LEAVES | st.lists(inner | LEAVES, max_size=3), max_size=3
    ),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def query_lp(tmp_path_factory):
    lp = fresh_lp(tmp_path_factory)
    lp.add_wf(
        Workflow(
            [
                Firework(FuzzNoop(), fw_id=i, name=f"fw{i}", spec={"data": i, "_priority": i % 3})
                for i in range(1, 6)
            ],
            {1: [2, 3], 2: [4]},
        )
    )
    return lp


def _server_side_js(query):
    """Whether an operator that runs JavaScript is a key anywhere in ``query``."""
    if isinstance(query, dict):
        return any(
            k in ("$where", "$function", "$accumulator") or _server_side_js(v) for k, v in query.items()
        )
    if isinstance(query, list):
        return any(_server_side_js(v) for v in query)
    return False


@given(query=QUERY | JSON_LIKE)
@fuzz(150)
def test_queries(query_lp, query):
    tried("queries")
    text = json.dumps(query, allow_nan=True)
    try:
        parsed = parse_query(text)
        found = query_lp.get_fws(parsed, fields=["fw_id"])
    except StarshellError as exc:
        assert str(exc)
        return
    except Exception as exc:
        if known_bug(exc):
            return
        raise
    assert not _server_side_js(query), "a query running JavaScript on the server was accepted"
    assert isinstance(found, list)
    outcome("queries: accepted")


@given(text=st.text(max_size=60) | QUERY.map(json.dumps))
@fuzz(150)
def test_query_option_of_lpad(query_lp, text):
    tried("lpad_query_option")
    try:
        code, out, err = lpad(["get_fws", "-q", text, "-d", "ids"], query_lp)
    except Exception as exc:
        if known_bug(exc):
            return
        raise
    if code:
        assert_user_error(code, err)


# -- FWActions returned by tasks --------------------------------------------------------
RESULT = {}


class ReturnsFuzz(FiretaskBase):
    """Returns whatever the fuzzer put in RESULT, as a user's task might."""

    _fw_name = "Fuzz Returns"

    def run_task(self, fw_spec):
        return RESULT["value"]


MOD = st.dictionaries(
    st.sampled_from(
        [
            "_set",
            "_unset",
            "_push",
            "_push_all",
            "_inc",
            "_pull",
            "_pull_all",
            "_add_to_set",
            "_rename",
            "_each",
            "bogus",
        ]
    ),
    st.dictionaries(TEXT | st.sampled_from(["data", "a.b", "data.x", "_tasks"]), JSON_LIKE, max_size=3)
    | JSON_LIKE,
    max_size=2,
)
SMALL_WF = st.fixed_dictionaries(
    {
        "fws": st.lists(
            st.fixed_dictionaries(
                {
                    "fw_id": st.integers(-3, 3),
                    "spec": st.fixed_dictionaries(
                        {"_tasks": st.just([{"_fw_name": "Fuzz Noop"}])}, optional={"data": JSON_LIKE}
                    ),
                }
            ),
            max_size=3,
        )
    },
    optional={"links": JSON_LIKE},
)
ACTION = st.dictionaries(
    st.sampled_from(
        [
            "stored_data",
            "exit",
            "update_spec",
            "mod_spec",
            "additions",
            "detours",
            "defuse_children",
            "defuse_workflow",
            "propagate",
            "bogus",
        ]
    ),
    JSON_LIKE | st.lists(MOD, max_size=3) | st.lists(SMALL_WF, max_size=2) | SMALL_WF,
    max_size=4,
)


@pytest.mark.parametrize("kind", ["sqlite", "mongomock"])
def test_actions_returned_by_tasks(tmp_path_factory, kind):
    from rocket.rocket import Rocket

    lp = fresh_lp(tmp_path_factory, kind)
    rocket = Rocket(lp, launch_root=str(tmp_path_factory.mktemp("launches")), chdir=False, ping_interval=0)

    @fuzz(60 if kind == "sqlite" else 30)
    @given(result=ACTION | JSON_LIKE)
    def run(result):
        tried(f"task_actions_{kind}")
        ids = lp.add_wf(
            Workflow(
                [
                    Firework(ReturnsFuzz(), fw_id=1, name="parent"),
                    Firework(FuzzNoop(), fw_id=2, name="child", spec={"data": 1}),
                ],
                {1: [2]},
            )
        )
        parent, child = ids[1], ids[2]
        before = lp.get_fw_ids(count_only=True)
        RESULT["value"] = result
        assert rocket.run_once(fw_id=parent) == parent
        doc = lp.get_fw_dict(parent)
        assert doc["state"] in ("COMPLETED", "FIZZLED")
        outcome(f"task_actions_{kind}: {doc['state']}")
        if doc["state"] == "FIZZLED":
            assert doc["launches"][-1]["exception"]["message"]
            assert lp.get_fw_dict(child)["spec"] == {"data": 1, "_tasks": [{"_fw_name": "Fuzz Noop"}]}
            assert lp.get_fw_ids(count_only=True) == before

    run()
    report = check(lp, grace_secs=0)
    assert report.ok, report.lines()


# -- my_*.yaml files -------------------------------------------------------------------
CONFIG_KEYS = st.sampled_from(
    [
        "store",
        "path",
        "host",
        "port",
        "name",
        "username",
        "password",
        "authsource",
        "uri",
        "uri_mode",
        "mongoclient_kwargs",
        "logdir",
        "strm_lvl",
        "category",
        "query",
        "env",
        "_fw_q_type",
        "rocket_launch",
        "nodes",
        "walltime",
        "allow_outside_launch_dir",
        "bogus",
    ]
)
CONFIG = (
    st.dictionaries(
        CONFIG_KEYS | TEXT,
        JSON_LIKE
        | st.sampled_from(
            ["sqlite", "mongodb", "mongomock", "mongodb://u:p@h/db", "SLURM", "rlaunch singleshot"]
        ),
        max_size=5,
    )
    | JSON_LIKE
)


@given(data=CONFIG, fmt=st.sampled_from(["yaml", "json"]))
@fuzz(120)
def test_config_files(tmp_path_factory, data, fmt):
    tried("config_files")
    folder = tmp_path_factory.mktemp("conf")
    for name, load in (
        ("my_launchpad", load_config),
        ("my_fworker", load_fworker),
        ("my_qadapter", _load_qadapter),
    ):
        path = folder / f"{name}.{fmt}"
        _write(path, data, fmt)
        try:
            load(str(path))
        except StarshellError as exc:
            assert str(exc)
        except Exception as exc:
            if not known_bug(exc):
                raise


def _load_qadapter(path):
    try:
        from queue_adapters.config import load_qadapter
    except ImportError:
        pytest.skip("queue_adapters is not installed")
    return load_qadapter(path)


# -- lpad command lines -----------------------------------------------------------------
SAFE_COMMANDS = [
    "add",
    "admin",
    "archive_wflows",
    "defuse_fws",
    "defuse_wflows",
    "delete_wflows",
    "detect_lostruns",
    "get_fws",
    "get_launchdir",
    "get_wflows",
    "introspect",
    "pause_fws",
    "pause_wflows",
    "reignite_fws",
    "reignite_wflows",
    "report",
    "rerun_fws",
    "reset",
    "resume_fws",
    "set_priority",
    "update_fws",
    "version",
    "check",
    "--fix",
    "bogus",
]
TOKENS = (
    st.sampled_from(
        [
            "-i",
            "-n",
            "-s",
            "-q",
            "-d",
            "-m",
            "-o",
            "--sort",
            "--rsort",
            "--time",
            "--fizzle",
            "--rerun",
            "--password",
            "-u",
            "--help",
            "-l",
            "--debug",
            "--grace",
            "json",
            "yaml",
            "ids",
            "count",
            "more",
            "all",
            "READY",
            "COMPLETED",
            "1",
            "1,2",
            "3-1",
            "0",
            "-1",
            "99",
            "1e9",
            "nan",
            "{}",
            '{"fw_id": 1}',
            '{"$where": "1"}',
            "[]",
            "x",
            "",
            "--",
            "-",
            "☃",
        ]
    )
    | TEXT
)


@pytest.fixture
def cli_lp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STARSHELL_HOME", str(tmp_path / "home"))
    lp = LaunchPad(SQLiteStore(tmp_path / "launchpad.sqlite"))
    lp.add_wf(Workflow([Firework(FuzzNoop(), fw_id=i, name=f"fw{i}") for i in (1, 2, 3)], {1: [2]}))
    return lp


def test_lpad_command_lines(cli_lp):
    @fuzz(150)
    @given(argv=st.tuples(st.sampled_from(SAFE_COMMANDS), st.lists(TOKENS, max_size=6)))
    def run(argv):
        tried("lpad_command_lines")
        command, rest = argv
        args = [command, *rest]
        try:
            code, out, err = lpad(args, cli_lp)
        except SystemExit as exc:  # only argparse may exit, and only with 0 (--help) or 2
            assert exc.code in (0, 2), args
            return
        if code:
            assert_user_error(code, err, debug="--debug" in args)

    run()
    report = check(cli_lp, grace_secs=0)
    assert report.ok, report.lines()


def test_nan_and_inf_never_reach_a_table(cli_lp):
    """Non-finite numbers from the command line are refused, not stored."""
    for value in ("nan", "inf", "-inf"):
        code, out, err = lpad(["set_priority", "-i", "1", value], cli_lp)
        if code == 0:
            assert math.isfinite(cli_lp.get_fw_dict(1)["spec"].get("_priority", 0))
        else:
            assert_user_error(code, err)
