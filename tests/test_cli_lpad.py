"""``lpad`` end to end on the embedded store: every command, bad input, plugins.

Tests drive ``main(argv)`` (with an injected LaunchPad where a fixed clock
matters) and read stdout/stderr through capsys; one test runs the installed
``lpad`` console script.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import types
from datetime import datetime, timedelta, timezone

import pytest

import launchpad.cli.common as cli_common
import launchpad.cli.lpad as cli
import launchpad.display as display
from launchpad import LaunchPad
from launchpad.config import default_store_path
from launchpad.files import parse_text
from launchpad.firetask import load_task
from launchpad.stores import SQLiteStore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
HELLO, DIAMOND, PASS_DATA = (
    os.path.join(EXAMPLES, f) for f in ("hello.yaml", "diamond.yaml", "pass_data.yaml")
)
TODAY = "2031-05-04"


class Clock:
    """An injected clock: tests move time instead of sleeping."""

    def __init__(self):
        self.now = datetime(2031, 5, 4, 12, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def lp(isolated_home, clock):
    """The LaunchPad ``lpad`` finds by default, with a fixed clock."""
    pad = LaunchPad(SQLiteStore(default_store_path()), clock=clock)
    yield pad
    pad.store.close()


@pytest.fixture
def run(isolated_home, capsys):
    """``run(*argv, launchpad=None) -> (exit code, stdout, stderr)``."""

    def _run(*argv, launchpad=None):
        code = cli.main([str(a) for a in argv], launchpad=launchpad)
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def fw_count(run):
    code, out, _ = run("get_fws", "-d", "count")
    assert code == 0
    return int(out)


def states(run):
    code, out, _ = run("-o", "records", "get_fws")
    assert code == 0
    return {d["fw_id"]: d["state"] for d in json.loads(out)}


def run_all(lp, launch_dir="."):
    """A minimal rocket over the API, enough to give fireworks launches."""
    while True:
        fw, launch_id = lp.claim_to_run(launch_dir=os.path.abspath(launch_dir))
        if fw is None:
            return
        action = None
        try:
            for task in fw["spec"]["_tasks"]:
                action = load_task(task).run_task(fw["spec"]) or action
        except Exception as exc:  # a test rocket: any task failure fizzles the firework
            lp.complete_launch(launch_id, state="FIZZLED", exception={"message": str(exc)}, fw_id=fw["fw_id"])
            continue
        lp.complete_launch(launch_id, action, fw_id=fw["fw_id"])


def write(name, text):
    with open(name, "w", encoding="utf-8") as fh:
        fh.write(text)
    return name


# -- init, version, help ------------------------------------------------------------
def test_init_writes_the_embedded_default_and_refuses_to_overwrite(run, isolated_home):
    code, out, _ = run("init")
    assert code == 0 and "my_launchpad.yaml" in out
    written = parse_text(open("my_launchpad.yaml").read())
    assert written == {"store": "sqlite", "path": default_store_path()}
    write("my_launchpad.yaml", "path: mine.sqlite\n")
    code, _, err = run("init")
    assert code == 2 and "--force" in err and err.count("\n") == 1
    assert open("my_launchpad.yaml").read() == "path: mine.sqlite\n"
    code, _, _ = run("init", "--force", "--path", "other.sqlite")
    assert code == 0
    assert parse_text(open("my_launchpad.yaml").read())["path"] == str(isolated_home / "other.sqlite")


def test_init_mongodb_keeps_the_password_out_of_output(run):
    code, out, err = run(
        "init",
        "--host",
        "db.example.org",
        "--port",
        "27018",
        "--name",
        "wf",
        "--username",
        "ann",
        "--password",
        "s3cret",
    )
    assert code == 0 and "s3cret" not in out + err and "db.example.org" in out
    data = parse_text(open("my_launchpad.yaml").read())
    assert data["host"] == "db.example.org" and data["port"] == 27018 and data["password"] == "s3cret"
    assert stat.S_IMODE(os.stat("my_launchpad.yaml").st_mode) == 0o600
    code, out, _ = run("-o", "json", "init", "--force", "--uri", "mongodb://ann:s3cret@db/wf")
    assert code == 0 and "s3cret" not in out


# FireWorks' short names for the workflow commands
ALIASES = {"get_wfs", "pause_wfs", "reignite_wfs", "archive_wfs", "delete_wfs"}


def test_version_help_and_usage_errors(run):
    code, out, _ = run("version")
    assert code == 0 and out.startswith("starshell ")
    assert json.loads(run("version", "-o", "json")[1])["version"]
    code, out, _ = run("--help")
    assert code == 0 and "get_wflows" in out and "detect_lostruns" in out
    for name, sub in cli.build_parser(plugins=False).subcommands.items():
        code, out, _ = run(name, "--help")
        # FireWorks' aliases (get_wfs, ...) show the usage of the command they name
        assert code == 0 and "usage: " + sub.prog in out, name
        assert sub.prog.split()[-1] == name or name in ALIASES, name
    assert run()[0] == 2
    assert run("get_fws", "--no-such-option")[0] == 2
    assert run("get_fws", "-d", "sideways")[0] == 2
    assert run("-o", "xml", "get_fws")[0] == 2


# -- add ------------------------------------------------------------------------------
def test_add_prints_the_id_mapping_and_check_adds_nothing(run):
    code, out, _ = run("add", "-c", HELLO, DIAMOND)
    assert code == 0 and "valid workflow 'diamond' with 4 fireworks and 4 links" in out
    assert fw_count(run) == 0
    code, out, _ = run("add", HELLO, DIAMOND)
    assert code == 0
    assert "added workflow 'hello' with 1 firework; fw_ids 1->1" in out
    assert "fw_ids 1->2, 2->3, 3->4, 4->5" in out
    code, out, _ = run("-o", "json", "add", DIAMOND)
    assert json.loads(out)[0]["id_map"] == {"1": 6, "2": 7, "3": 8, "4": 9}
    assert fw_count(run) == 9
    write("hello.json", json.dumps(parse_text(open(HELLO).read())))
    code, out, _ = run("add", "hello.json")
    assert code == 0 and "fw_ids 1->10" in out


BAD_FILES = {
    "malformed.yaml": ("fws:\n- fw_id: 1\n  spec: {_tasks: [}\n", r"malformed.yaml:3:"),
    "unknown_task.yaml": ("spec:\n  _tasks:\n  - _fw_name: NoSuchTask\n", "NoSuchTask"),
    "cycle.yaml": (
        "fws:\n- {fw_id: 1, spec: {_tasks: []}}\n- {fw_id: 2, spec: {_tasks: []}}\nlinks: {1: [2], 2: [1]}\n",
        "cycle",
    ),
    "missing.yaml": ("fws:\n- {fw_id: 1, spec: {_tasks: []}}\nlinks: {1: [3]}\n", "3"),
    "duplicate.yaml": (
        "fws:\n- {fw_id: 1, spec: {_tasks: []}}\n- {fw_id: 1, spec: {_tasks: []}}\n",
        "duplicate firework id 1",
    ),
    "bad.json": ('{"fws": [{"fw_id": 1, "spec": {"_tasks": []}}],\n "links": {1: []}}', "bad.json:2:"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_workflow_files_are_one_line_errors_and_write_nothing(run, name):
    text, expected = BAD_FILES[name]
    write(name, text)
    code, out, err = run("add", HELLO, name)  # the good file is not added either
    assert code == 2
    assert err.startswith(f"error: {name}") and err.count("\n") == 1 and expected in err
    assert fw_count(run) == 0


def test_add_missing_file(run):
    code, _, err = run("add", "nowhere.yaml")
    assert code == 2 and "nowhere.yaml" in err and fw_count(run) == 0


# -- listing ----------------------------------------------------------------------------
@pytest.fixture
def at_a_terminal(monkeypatch):
    """stdout seen as a terminal: the tables people get (in a pipe, lpad prints FireWorks'
    JSON instead; tests/test_cli_fireworks_output.py)."""
    import launchpad.display as display

    monkeypatch.setattr(display, "is_terminal", lambda stream=None: True)


def test_get_fws_displays_filters_and_machine_formats(run, at_a_terminal):
    run("add", HELLO, DIAMOND)
    code, out, _ = run("get_fws")
    assert code == 0 and out.splitlines()[0].split() == ["fw_id", "name", "state", "created_on"]
    assert run("get_fws", "-s", "ready", "-d", "ids")[1].split() == ["1", "2"]
    assert run("get_fws", "-n", "left", "-d", "ids")[1].split() == ["3"]
    assert run("get_fws", "-i", "2-4", "-s", "WAITING", "-d", "count")[1].strip() == "2"
    before = run("-o", "json", "get_fws", "-d", "ids")[1]
    assert json.loads(before) == [1, 2, 3, 4, 5] == json.loads(run("get_fws", "-d", "ids", "-o", "json")[1])
    assert parse_text(run("-o", "yaml", "get_fws", "-d", "ids", "-m", "2")[1]) == [1, 2]
    assert run("-o", "yaml", "get_fws", "-d", "count")[1] == "5\n"
    assert json.loads(run("-o", "json", "get_fws", "-d", "ids", "--rsort", "fw_id")[1])[0] == 5
    assert run("get_fws", "-d", "ids", "--sort", "name")[1].split()[0] == "5"  # bottom
    more = json.loads(run("-o", "records", "get_fws", "-i", "3", "-d", "more")[1])
    assert more[0]["parents"] == [2] and more[0]["children"] == [5] and "spec" in more[0]
    full = parse_text(run("get_fws", "-i", "1", "-d", "all")[1])
    assert full[0]["spec"]["_tasks"][0]["_fw_name"] == "ScriptTask" and full[0]["launches"] == []
    assert "waiting_on" not in full[0]  # the store's bookkeeping stays private
    code, out, err = run("get_fws", "-n", "nobody")
    assert code == 0 and out == "" and "no fireworks match" in err


def test_get_fws_query(run):
    run("add", DIAMOND)
    run("update_fws", "-i", "3", "-u", '{"param": 7}')
    run("update_fws", "-i", "4", "-u", '{"param": 2}')
    query = '{"spec.param": {"$gt": 3}}'
    assert json.loads(run("-o", "json", "get_fws", "-q", query, "-d", "ids")[1]) == 3  # FireWorks': alone
    assert json.loads(run("-o", "records", "get_fws", "-q", query, "-d", "ids")[1]) == [3]
    doc = parse_text(run("-o", "yaml", "get_fws", "-q", query, "-d", "all")[1])  # FireWorks' dict
    assert doc["spec"]["param"] == 7 and doc["fw_id"] == 3 and "launches" not in doc  # none yet


@pytest.mark.parametrize(
    "argv, code, words",
    [
        (["get_fws", "-q", "{not json"], 2, "not valid JSON"),
        (["get_fws", "-q", '{"$where": "sleep(100)"}'], 2, "$where"),
        (["get_fws", "-q", "[1, 2]"], 2, "JSON object"),
        (["get_wflows", "-q", '{"$function": {}}'], 2, "$function"),
        (["get_fws", "-i", "99"], 3, "no firework with id 99"),
        (["get_wflows", "-i", "98,99"], 3, "98, 99"),
        (["defuse_fws", "-i", "1,99"], 3, "99"),
        (["get_launchdir", "99"], 3, "99"),
        (["set_priority", "-i", "99", "5"], 3, "99"),
        (["delete_wflows", "-i", "99"], 3, "99"),
        (["defuse_fws"], 2, "-i"),
        (["-l", "no_such_launchpad.yaml", "get_fws"], 2, "no_such_launchpad.yaml"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(run, argv, code, words):
    run("add", DIAMOND)
    before = states(run)
    got, out, err = run(*argv)
    assert got == code and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and words in err
    assert states(run) == before


def test_get_wflows(run, at_a_terminal):
    run("add", HELLO, DIAMOND, PASS_DATA)
    code, out, _ = run("get_wflows")
    assert code == 0 and "diamond" in out and "pass data to children" in out
    assert run("get_wflows", "-d", "ids")[1].split() == ["1", "2", "6"]
    assert run("get_wflows", "-d", "count")[1].strip() == "3"
    assert run("get_wflows", "-i", "4", "-d", "ids")[1].split() == ["2"]
    assert run("get_wflows", "-q", '{"metadata.example": "pass_data"}', "-d", "ids")[1].split() == ["6"]
    assert run("get_wflows", "-n", "hello", "-d", "count")[1].strip() == "1"
    run("pause_fws", "-i", "1")
    assert run("get_wflows", "-s", "PAUSED", "-d", "ids")[1].split() == ["1"]
    assert run("get_wflows", "-q", '{"state": "PAUSED"}', "-d", "count")[1].strip() == "1"
    assert run("get_wflows", "-s", "READY", "-d", "count")[1].strip() == "2"
    more = json.loads(run("-o", "records", "get_wflows", "-i", "3", "-d", "more")[1])
    assert more == [
        {
            **more[0],
            "wf_id": 2,
            "fw_id": 2,
            "nodes": 4,
            "state": "READY",
            "states": {"READY": 1, "WAITING": 3},
            "metadata": {"example": "diamond"},
        }
    ]
    full = parse_text(run("get_wflows", "-i", "2", "-d", "all")[1])[0]
    assert [f["fw_id"] for f in full["fireworks"]] == [2, 3, 4, 5]
    assert full["links"][2] == [3, 4]
    assert run("get_wflows", "--rsort", "wf_id", "-m", "1", "-d", "ids")[1].split() == ["6"]


# -- changing fireworks ----------------------------------------------------------------
def test_firework_state_commands(run, lp):
    run("add", DIAMOND)
    code, out, _ = run("pause_fws", "-i", "1")
    assert code == 0 and out.strip() == "paused 1 firework: 1"
    assert run("resume_fws", "-i", "1")[0] == 0
    assert run("defuse_fws", "-i", "2")[1].strip() == "defused 1 firework: 2"
    assert states(run) == {1: "READY", 2: "DEFUSED", 3: "WAITING", 4: "WAITING"}
    assert run("reignite_fws", "-n", "left")[0] == 0
    code, out, err = run("resume_fws", "-i", "3")  # WAITING, not PAUSED
    assert code == 4 and "not PAUSED" in err and out == ""
    run_all(lp)
    assert set(states(run).values()) == {"COMPLETED"}
    code, out, _ = run("rerun_fws", "-i", "2")
    assert code == 0 and out.strip() == "reset 2 fireworks: 2, 4"
    assert states(run) == {1: "COMPLETED", 2: "READY", 3: "COMPLETED", 4: "WAITING"}
    code, out, _ = run("-o", "json", "rerun_fws", "-s", "COMPLETED")
    assert json.loads(out) == {"action": "reset", "changed": [1, 2, 3, 4], "failed": {}}
    assert states(run) == {1: "READY", 2: "WAITING", 3: "WAITING", 4: "WAITING"}
    code, out, err = run("-o", "json", "defuse_fws", "-q", '{"name": "nobody"}')
    assert code == 0 and json.loads(out)["changed"] == []


def test_partly_illegal_batch_changes_the_rest_and_fails(run, lp):
    run("add", HELLO, DIAMOND)
    run_all(lp)
    run("add", HELLO)
    code, out, err = run("pause_fws", "-i", "1,6")  # 1 is COMPLETED, 6 is READY
    assert code == 4 and out.strip() == "paused 1 firework: 6"
    assert "firework 1 is COMPLETED" in err and err.count("\n") == 1


def test_workflow_commands(run, lp):
    run("add", HELLO, DIAMOND)
    code, out, _ = run("pause_wflows", "-i", "4")
    assert code == 0 and "paused workflow 2 ('diamond', fw_id 2): 4 fireworks 2-5" in out
    assert set(states(run)[i] for i in (2, 3, 4, 5)) == {"PAUSED"}
    assert run("reignite_wflows", "-i", "3")[0] == 0
    assert states(run)[2] == "READY"
    assert run("defuse_wflows", "-i", "5")[0] == 0 and states(run)[3] == "DEFUSED"
    code, out, _ = run("-o", "json", "archive_wflows", "-i", "1")
    assert json.loads(out)[0]["changed"] == [1] and states(run)[1] == "ARCHIVED"
    code, out, _ = run("delete_wflows", "-i", "2,3")  # two ids, one workflow
    assert code == 0 and out.strip() == "deleted workflow 2 ('diamond', fw_id 2) with 4 fireworks"
    assert list(states(run)) == [1]
    assert run("delete_wflows")[0] == 2


def test_deleting_many_workflows_asks_first(run, lp, monkeypatch):
    for _ in range(6):
        run("add", HELLO)
    monkeypatch.setattr(cli_common, "stdin_is_tty", lambda: False)
    code, _, err = run("delete_wflows", "-s", "READY", launchpad=lp)
    assert code == 1 and f"--password {TODAY}" in err and fw_count(run) == 6
    code, _, err = run("delete_wflows", "-s", "READY", "--password", "2000-01-01", launchpad=lp)
    assert code == 1 and "wrong password" in err and fw_count(run) == 6
    code, out, _ = run("delete_wflows", "-s", "READY", "--password", TODAY, launchpad=lp)
    assert code == 0 and out.count("deleted workflow") == 6 and fw_count(run) == 0


def test_set_priority_and_update_fws(run):
    run("add", DIAMOND)
    code, out, _ = run("set_priority", "-i", "3", "100")
    assert code == 0 and out.strip() == "set priority 100 on 1 firework: 3"
    assert run("set_priority", "-i", "1", "-i", "2", "2.5")[0] == 0
    code, out, _ = run("update_fws", "-i", "3", "-u", '{"param": 7, "inputs.n": 1}')
    assert code == 0 and out.strip() == "updated the spec of 1 firework: 3"
    docs = {d["fw_id"]: d for d in json.loads(run("-o", "records", "get_fws", "-d", "more")[1])}
    assert docs[3]["priority"] == 100 and docs[3]["spec"]["param"] == 7
    assert docs[3]["spec"]["inputs"] == {"n": 1} and docs[2]["priority"] == 2.5
    code, _, err = run("update_fws", "-i", "3", "-u", "{param: 7}")
    assert code == 2 and "not valid JSON" in err
    assert run("set_priority", "-i", "3", "high")[0] == 2


# -- launches ---------------------------------------------------------------------------
def test_get_launchdir(run, lp, isolated_home):
    run("add", HELLO)
    code, _, err = run("get_launchdir", "1")
    assert code == 3 and "not been launched" in err
    run_all(lp, "here")
    code, out, _ = run("get_launchdir", "1")
    assert code == 0 and out.strip() == str(isolated_home / "here")
    assert json.loads(run("-o", "records", "get_launchdir", "1")[1])["launch_dir"] == out.strip()
    assert run("-o", "json", "get_launchdir", "1")[1] == out  # FireWorks prints the bare path


def test_detect_lostruns(run, lp, clock):
    run("add", HELLO, DIAMOND)
    lp.claim_to_run()
    lp.claim_to_run()
    clock.advance(1000)
    lp.ping_launch(2)
    code, out, _ = run("detect_lostruns", "--time", "600", launchpad=lp)
    assert code == 0 and "1 lost run: launches 1 of fireworks 1" in out and "--fizzle" in out
    assert (
        json.loads(run("-o", "json", "detect_lostruns", "--time", "2000", launchpad=lp)[1])["launch_ids"]
        == []
    )
    code, out, _ = run("detect_lostruns", "--time", "600", "--rerun", launchpad=lp)
    assert code == 0 and "run again" in out and states(run)[1] == "READY"
    clock.advance(1000)
    code, out, _ = run("detect_lostruns", "--time", "600", "--fizzle", launchpad=lp)
    assert "FIZZLED" in out and states(run)[2] == "FIZZLED"
    assert run("detect_lostruns", "--time", "600", launchpad=lp)[1].strip() == "no lost runs"
    assert run("detect_lostruns", "--fizzle", "--rerun")[0] == 2


def test_report_counts_and_runtimes(run, lp, clock):
    run("add", HELLO, DIAMOND)
    write("boom.yaml", "name: boom\nspec:\n  _tasks:\n  - {_fw_name: ScriptTask, script: exit 3}\n")
    run("add", "boom.yaml")
    run_all(lp)
    data = json.loads(run("-o", "json", "report", launchpad=lp)[1])
    assert data["fireworks"] == {"COMPLETED": 5, "FIZZLED": 1}
    assert data["workflows"] == {"COMPLETED": 2, "FIZZLED": 1}
    script = data["by_task"][0]
    assert script["task"] == "ScriptTask" and script["launches"] == 6 and script["fizzled"] == 1
    assert script["total_secs"] == 0 and data["by_day"][0]["day"] == TODAY
    clock.advance(8 * 86400)
    data = json.loads(run("-o", "json", "report", launchpad=lp)[1])
    assert data["by_task"] == [] and data["fireworks"]["COMPLETED"] == 5
    assert (
        json.loads(run("-o", "json", "report", "--days", "0", launchpad=lp)[1])["by_day"][0]["launches"] == 6
    )
    code, out, _ = run("report", "--days", "0", launchpad=lp)
    assert code == 0 and "Runtimes by task" in out and "ScriptTask" in out and "FIZZLED" in out


def test_introspect_points_at_what_goes_with_failures(run, lp):
    code, out, _ = run("introspect")
    assert code == 0 and "no FIZZLED" in out
    write("ok.yaml", "spec:\n  color: blue\n  _tasks:\n  - {_fw_name: ScriptTask, script: 'true'}\n")
    write(
        "bad.yaml",
        "spec:\n  color: red\n  risky: true\n  _tasks:\n  - {_fw_name: ScriptTask, script: 'false'}\n",
    )
    run("add", "ok.yaml", "ok.yaml", "bad.yaml")
    run_all(lp)
    data = json.loads(run("-o", "json", "introspect")[1])
    assert (data["fizzled"], data["completed"]) == (1, 2)
    top = {(r["kind"], r["feature"]): r for r in data["features"]}
    assert top[("value", "color=red")]["fizzled_fraction"] == 1.0
    assert top[("task", "ScriptTask")]["completed"] == 2
    assert data["features"][-1]["feature"] in ("ScriptTask", "color")
    code, out, _ = run("introspect", "--top", "1")
    assert code == 0 and "1 FIZZLED and 2 COMPLETED" in out


def test_core_commands_on_every_backend(store, isolated_home, capsys):
    pad = LaunchPad(store)

    def lpad(*argv):
        code = cli.main(list(argv), launchpad=pad)
        return code, capsys.readouterr().out

    assert lpad("add", DIAMOND)[0] == 0
    assert json.loads(
        lpad("-o", "json", "get_fws", "-q", '{"name": {"$in": ["left", "right"]}}', "-d", "ids")[1]
    ) == [2, 3]
    assert lpad("defuse_wflows", "-i", "4")[0] == 0
    assert lpad("get_wflows", "-s", "DEFUSED", "-d", "ids")[1].split() == ["1"]
    assert lpad("reignite_wflows", "-i", "1")[0] == 0
    assert lpad("rerun_fws", "-i", "1")[1].strip() == "reset 4 fireworks: 1-4"
    assert json.loads(lpad("-o", "json", "report")[1])["fireworks"] == {"READY": 1, "WAITING": 3}


# -- reset ----------------------------------------------------------------------------
def test_reset_needs_confirmation(run, lp, monkeypatch):
    run("add", HELLO)
    monkeypatch.setattr(cli_common, "stdin_is_tty", lambda: False)
    code, _, err = run("reset", launchpad=lp)
    assert code == 1 and f"--password {TODAY}" in err and err.count("\n") == 1
    code, _, err = run("reset", "--password", "2000-01-01", launchpad=lp)
    assert code == 1 and "wrong password" in err and fw_count(run) == 1
    monkeypatch.setattr(cli_common, "stdin_is_tty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, _, err = run("reset", launchpad=lp)
    assert code == 1 and "cancelled" in err and fw_count(run) == 1
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert run("reset", launchpad=lp)[0] == 0 and fw_count(run) == 0
    run("add", HELLO)
    code, out, _ = run("reset", "--password", TODAY, launchpad=lp)
    assert code == 0 and "erased" in out and fw_count(run) == 0


# -- examples ---------------------------------------------------------------------------
def test_examples_run_to_completion_and_pass_data(run, lp, capsys):
    run("add", HELLO, DIAMOND, PASS_DATA)
    run_all(lp)
    assert "total and square: 10 100" in capsys.readouterr().out
    assert set(states(run).values()) == {"COMPLETED"}
    report = json.loads(run("-o", "json", "get_fws", "-n", "report", "-d", "all")[1])  # one: alone
    assert (report["spec"]["total"], report["spec"]["square"]) == (10, 100)
    square = json.loads(run("-o", "json", "get_fws", "-n", "square", "-d", "all")[1])
    assert square["launches"][0]["action"]["stored_data"] == {"square": 100}


# -- the web GUI and plugins --------------------------------------------------------------
def test_webgui_is_imported_lazily_and_gets_its_options(run, lp, monkeypatch):
    calls = []
    fake = types.ModuleType("webgui")
    fake.serve = lambda launchpad, **kw: calls.append((launchpad, kw))
    monkeypatch.setitem(sys.modules, "webgui", fake)
    code, _, _ = run("webgui", "--port", "5050", "--read-only", "--password-file", "pw", launchpad=lp)
    assert code == 0
    assert calls == [
        (
            lp,
            {
                "host": "127.0.0.1",
                "port": 5050,
                "read_only": True,
                "password_file": "pw",
                "STARSHELL_THREADS": 8,
                "STARSHELL_FW_QUERY": None,
                "STARSHELL_WF_QUERY": None,
                "STARSHELL_BASIC_AUTH": None,
            },
        )
    ]
    assert lp.store.query_seconds == 10.0  # the GUI's query budget, not lpad's 60 s
    monkeypatch.setitem(sys.modules, "webgui", None)
    code, _, err = run("webgui", launchpad=lp)
    assert code == 1 and "web GUI" in err


class FakeEntryPoint:
    def __init__(self, name, target):
        self.name, self.value, self._target = name, f"fake:{name}", target

    def load(self):
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def test_plugins_add_subcommands_with_the_global_options(run, monkeypatch):
    seen = {}

    def handler(args, launchpad):
        seen.update(output=args.output, qid=args.qid, launchpad=launchpad)
        return 7

    def register(subparsers):
        p = subparsers.add_parser("get_qids", help="queue ids of fireworks")
        p.add_argument("--qid")
        p.set_defaults(func=handler)

    monkeypatch.setattr(
        cli,
        "plugin_entry_points",
        lambda: [FakeEntryPoint("queue", register), FakeEntryPoint("broken", ImportError("no module x"))],
    )
    code, out, err = run("get_qids", "--qid", "42", "-o", "json")
    assert code == 7 and seen["output"] == "json" and seen["qid"] == "42"
    assert isinstance(seen["launchpad"], LaunchPad)
    assert "plugin 'broken'" in err and "no module x" in err
    assert run("get_qids", "--help")[0] == 0
    assert run("version")[0] == 0  # a broken plugin does not take lpad down


# -- errors, interrupts, progress ------------------------------------------------------------
def test_debug_shows_the_traceback(run):
    code, _, err = run("get_fws", "-i", "5")
    assert code == 3 and "Traceback" not in err
    code, _, err = run("--debug", "get_fws", "-i", "5")
    assert code == 3 and "Traceback" in err and err.rstrip().endswith("error: no firework with id 5")


def test_ctrl_c_exits_130(run):
    class Interrupted:
        def get_fw_ids(self, *args, **kwargs):
            raise KeyboardInterrupt

    code, _, err = run("get_fws", "-d", "count", launchpad=Interrupted())
    assert code == 130 and "interrupted" in err


class Terminal:
    def __init__(self, tty):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass


@pytest.mark.parametrize(
    "n, tty, shown", [(400, True, True), (400, False, False), (display.PROGRESS_THRESHOLD, True, False)]
)
def test_progress_only_for_long_runs_on_a_terminal(n, tty, shown):
    stream = Terminal(tty)
    assert list(display.progress(range(n), "defused", stream)) == list(range(n))
    assert (f"defused: {n}/{n}" in stream.text) is shown


def test_display_helpers():
    assert display.ids_text([7, 1, 2, 3, 9, 10]) == "1-3, 7, 9-10"
    assert display.id_map_text({i: i + 10 for i in range(1, 101)}) == "1-100 -> 11-110"
    assert display.cell_text({"READY": 2, "WAITING": 1}) == "WAITING:1 READY:2"
    assert cli_common.id_list("1,3-5") == [1, 3, 4, 5]


# -- the installed console script -------------------------------------------------------------
def test_installed_lpad_script_end_to_end(isolated_home):
    exe = shutil.which("lpad")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("lpad is not on PATH: run pip install -e .")
        pytest.skip("lpad is not on PATH (pip install -e . installs it)")
    # This tree's launchpad, even if the script on PATH was installed from another checkout.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}

    def lpad(*argv):
        return subprocess.run([exe, *argv], capture_output=True, text=True, env=env, timeout=60)

    assert lpad("init").returncode == 0
    added = lpad("add", DIAMOND)
    assert added.returncode == 0 and "fw_ids 1->1" in added.stdout
    listed = lpad("-o", "json", "get_fws", "-s", "READY", "-d", "ids")
    assert listed.returncode == 0 and json.loads(listed.stdout) == 1  # FireWorks: one id alone
    missing = lpad("get_fws", "-i", "99")
    assert missing.returncode == 3 and missing.stderr.strip() == "error: no firework with id 99"
